"""Tool-setting truth on the lathe: the exactly right offsets for a task, and the candidate's errors.

Direct tool setting (machine.py): the geometry offset of a tool is the machine position of the turret
reference point when the tool's imaginary tip stands at work zero. Work zero is on the spindle axis
(machine x 0) at the finished right end face (a machine z the task gives), so for the tool in station k

    exact X_k = 0 − tip_x_k          (a radius; the offset page shows 2·X_k as a diameter)
    exact Z_k = work_zero_z − tip_z_k

with R and T the tool's nose radius and imaginary tip direction. What moves the tip is the sum
``work offset + external shift + geometry + wear`` (machine.py), so the errors are taken on that sum: a
candidate who puts the Z of the face into G54 and measures the tools against it is as right as one who
puts it all in the geometry page. Errors are candidate − exact, X as a diameter (what the part shows).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .machine import ToolOffset, tip_vector

ROUND = 9          # decimals kept in errors (float noise far below any instrument)


def exact_offsets(setup: Any, work_zero: Any) -> dict:
    """The offsets each tool of ``setup`` needs for ``work_zero``: the machine z of the finished right end
    face (a number, ``{"z": …}`` or ``(x, z)`` with x = 0). Offset line k belongs to station k."""
    zero_z = _work_zero_z(work_zero)
    tools = {}
    for station, tool in sorted(setup.tools.items()):
        tx, tz = tip_vector(tool)
        tools[station] = {"offset": station, "x": -2.0 * tx, "z": zero_z - tz,
                          "r": float(tool.nose_radius), "t": int(tool.tip_direction)}
    return {"machine": "lathe", "work_zero": {"x": 0.0, "z": zero_z}, "tools": tools}


def _work_zero_z(work_zero: Any) -> float:
    if isinstance(work_zero, Mapping):
        return float(work_zero["z"])
    if isinstance(work_zero, (tuple, list)):
        return float(work_zero[1])
    return float(work_zero)


def offset_errors(setup_or_offsets: Any, exact: Mapping, work_system: str = "G54",
                  pairing: Mapping[int, int] | None = None) -> dict:
    """Per tool and axis, the candidate's offset minus the exact one (mm, X as a diameter).

    ``setup_or_offsets``: a LatheSetup (its offset table, ``work_system`` and external shift count) or an
    offset table {number: ToolOffset or the JSON form {"x": Ø, "z", "wear_x": Ø, "wear_z", "r", "t"}}.
    ``pairing``: station → offset number when the candidate does not use offset k for station k.
    ``x``/``z`` are the errors of what moves the tip (work offset + shift + geometry + wear), ``geometry_x``/
    ``geometry_z`` those of the geometry page alone, ``r`` of the nose radius, ``t_ok`` the tip direction.
    """
    table, shift = _candidate(setup_or_offsets, work_system)
    pairing = pairing or {}
    tools, worst = {}, 0.0
    for station, truth in exact["tools"].items():
        number = pairing.get(station, truth["offset"])
        line = table.get(number, ToolOffset())
        total_x = line.geometry_x + line.wear_x + shift[0]
        total_z = line.geometry_z + line.wear_z + shift[1]
        errors = {"offset": number,
                  "x": round(2.0 * total_x - truth["x"], ROUND), "z": round(total_z - truth["z"], ROUND),
                  "geometry_x": round(2.0 * line.geometry_x - truth["x"], ROUND),
                  "geometry_z": round(line.geometry_z - truth["z"], ROUND),
                  "r": round(line.nose_radius - truth["r"], ROUND), "t_ok": line.tip_direction == truth["t"]}
        worst = max(worst, abs(errors["x"]), abs(errors["z"]))
        tools[station] = errors
    return {"machine": "lathe", "work_system": work_system, "tools": tools, "max_abs": worst}


def _candidate(source: Any, work_system: str) -> tuple[dict[int, ToolOffset], tuple[float, float]]:
    """(offset table, work offset + external shift as (x radius, z)) from a setup or a bare table."""
    if hasattr(source, "offsets"):
        work = source.work_offset(work_system)
        shift = (work[0] + source.external_shift[0], work[1] + source.external_shift[1])
        return {int(k): _line(v) for k, v in source.offsets.items()}, shift
    return {int(k): _line(v) for k, v in source.items()}, (0.0, 0.0)


def _line(value: Any) -> ToolOffset:
    if isinstance(value, ToolOffset):
        return value
    return ToolOffset(geometry_x=float(value.get("x", 0.0)) / 2.0, geometry_z=float(value.get("z", 0.0)),
                      wear_x=float(value.get("wear_x", 0.0)) / 2.0, wear_z=float(value.get("wear_z", 0.0)),
                      nose_radius=float(value.get("r", 0.0)), tip_direction=int(value.get("t", 0)))


__all__ = ["exact_offsets", "offset_errors"]
