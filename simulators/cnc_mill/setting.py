"""Tool-setting truth on the mill: the exactly right work offset and tool lengths, and the candidate's errors.

machine.py: ``machine gauge point = program point + work offset + external shift + (0, 0, H)`` under G43,
and the tip is the tool's gauge length L below the gauge point. For the tip to reach the work zero W (a
machine point on the stock: the top centre, a corner …) at program (0, 0, 0):

    G54 X + EXT X = W_x,   G54 Y + EXT Y = W_y,   G54 Z + EXT Z + H_n = W_z + L_n   for every tool n.

Two conventions satisfy the last line: "tool_length" (H_n = L_n, G54 Z = W_z: tools measured off the
machine, or against a master tool) and "touch" (G54 Z = 0, H_n = W_z + L_n, the machine z of the gauge point
when tool n's tip touches the work zero). Any mix that keeps the sum is just as right for the part, so the
per-tool error ``z`` is taken on the sum; ``h`` and ``g54_z`` are the errors against the convention the
candidate's G54 Z is nearer to. D_n's truth is the tool's radius.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .machine import OffsetLine

ROUND = 9
CONVENTION_SPAN = 5.0     # mm: a G54 Z further than this from both conventions' values is "other"
NAMED_ZEROS = ("top_centre", "top_front_left", "top_front_right", "top_back_left", "top_back_right")


def work_zero_point(setup: Any, name: str) -> tuple[float, float, float]:
    """Machine xyz of a named point of the raw stock's top: its centre or a corner (front = Y−, left = X−)."""
    x0, x1, y0, y1 = setup.stock.raw().footprint
    ox, oy, oz = setup.part_origin
    corners = {"top_centre": (0.0, 0.0), "top_front_left": (x0, y0), "top_front_right": (x1, y0),
               "top_back_left": (x0, y1), "top_back_right": (x1, y1)}
    if name not in corners:
        raise ValueError(f"unknown work zero {name!r} (one of {', '.join(NAMED_ZEROS)})")
    x, y = corners[name]
    return (ox + x, oy + y, oz)


def exact_offsets(setup: Any, work_zero: Any) -> dict:
    """The exact G54 and H/D for every tool of ``setup``; ``work_zero`` a machine xyz (tuple or {"x","y","z"})
    or a name of :data:`NAMED_ZEROS`."""
    wx, wy, wz = _point(setup, work_zero)
    tools = {number: {"offset": number, "length": float(tool.length), "radius": float(tool.diameter) / 2.0,
                      "tip_sum": wz + float(tool.length)}
             for number, tool in sorted(setup.tools.items())}
    return {"machine": "mill", "work_zero": {"x": wx, "y": wy, "z": wz}, "tools": tools,
            "conventions": {
                "tool_length": {"g54": {"x": wx, "y": wy, "z": wz},
                                "h": {n: t["length"] for n, t in tools.items()}},
                "touch": {"g54": {"x": wx, "y": wy, "z": 0.0},
                          "h": {n: t["tip_sum"] for n, t in tools.items()}}}}


def _point(setup: Any, work_zero: Any) -> tuple[float, float, float]:
    if isinstance(work_zero, str):
        return work_zero_point(setup, work_zero)
    if isinstance(work_zero, Mapping):
        return (float(work_zero["x"]), float(work_zero["y"]), float(work_zero["z"]))
    x, y, z = work_zero
    return (float(x), float(y), float(z))


def offset_errors(setup_or_offsets: Any, exact: Mapping, work_system: str = "G54",
                  pairing: Mapping[int, int] | None = None) -> dict:
    """The candidate's offsets minus the exact ones, mm.

    ``setup_or_offsets``: a MillSetup (offsets, ``work_system``, external shift) or
    ``{"offsets": {n: OffsetLine or {"h", "h_wear", "d", "d_wear"}}, "work_offset": xyz or {"x","y","z"}}``.
    ``pairing``: tool → H/D number when not H n for tool n. Returns the work offset errors ``x``, ``y``,
    the detected ``convention`` with its ``g54_z`` error, and per tool ``z`` (where the tip goes), ``h``
    (against the convention; None for "other") and ``d``.
    """
    table, work = _candidate(setup_or_offsets, work_system)
    zero = exact["work_zero"]
    convention = _convention(work[2], exact)
    expected = exact["conventions"].get(convention)
    tools, worst = {}, 0.0
    for number, truth in exact["tools"].items():
        line_number = (pairing or {}).get(number, truth["offset"])
        line = table.get(line_number, OffsetLine())
        z_error = round(work[2] + line.h - truth["tip_sum"], ROUND)
        h_error = None if expected is None else round(line.h - expected["h"][number], ROUND)
        tools[number] = {"offset": line_number, "z": z_error, "h": h_error,
                         "d": round(line.d - truth["radius"], ROUND)}
        worst = max(worst, abs(z_error))
    errors = {"x": round(work[0] - zero["x"], ROUND), "y": round(work[1] - zero["y"], ROUND)}
    worst = max(worst, abs(errors["x"]), abs(errors["y"]))
    g54_z = None if expected is None else round(work[2] - expected["g54"]["z"], ROUND)
    return {"machine": "mill", "work_system": work_system, "convention": convention, "g54_z": g54_z,
            **errors, "tools": tools, "max_abs": worst}


def _convention(g54_z: float, exact: Mapping) -> str:
    """The convention whose G54 Z is nearest the candidate's, or "other" when neither is near."""
    distances = {name: abs(g54_z - c["g54"]["z"]) for name, c in exact["conventions"].items()}
    name = min(distances, key=distances.get)
    return name if distances[name] <= CONVENTION_SPAN else "other"


def _candidate(source: Any, work_system: str) -> tuple[dict[int, OffsetLine], tuple[float, float, float]]:
    """(H/D table, work offset + external shift) from a setup or the dict form."""
    if hasattr(source, "offsets"):
        work, ext = source.work_offset(work_system), source.external_shift
        return ({int(k): _line(v) for k, v in source.offsets.items()},
                tuple(float(a) + float(b) for a, b in zip(work, ext)))
    work = source.get("work_offset", (0.0, 0.0, 0.0))
    if isinstance(work, Mapping):
        work = (work.get("x", 0.0), work.get("y", 0.0), work.get("z", 0.0))
    return {int(k): _line(v) for k, v in source.get("offsets", {}).items()}, tuple(float(v) for v in work)


def _line(value: Any) -> OffsetLine:
    if isinstance(value, OffsetLine):
        return value
    return OffsetLine(length=float(value.get("h", 0.0)), length_wear=float(value.get("h_wear", 0.0)),
                      radius=float(value.get("d", 0.0)), radius_wear=float(value.get("d_wear", 0.0)))


__all__ = ["NAMED_ZEROS", "exact_offsets", "offset_errors", "work_zero_point"]
