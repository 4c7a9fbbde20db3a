"""Score-sheet measurement items of the milled part: operator name → measurement on the final workpiece.

Arguments are in the task's work frame (docs/task-format.md): points from the work zero, directions as
vectors in XY. :mod:`simulators.core.task` moves the points into the stock frame of
:mod:`simulators.cnc_mill.measure` (origin at the centre of the raw block's top face) before calling these,
so every value below that is a position (a datum, a hole centre) is returned relative to ``work_zero``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..core import task
from ..core.task import Arg, Operator, optional
from . import measure

ABOVE = 1000.0      # mm above the top face: the start of vertical probes


def size(workpiece, point, direction) -> tuple[float, dict]:
    """Material size through ``point`` (inside material) along ±direction: boss width, wall thickness."""
    found = measure.size(workpiece, point, direction)
    return found["size"], found


def gap_width(workpiece, point, direction) -> tuple[float, dict]:
    """Empty width through ``point`` (in a slot or pocket) along ±direction."""
    found = measure.gap(workpiece, point, direction)
    return found["width"], found


def depth(workpiece, at, datum_z: float) -> float:
    """Depth of the surface at (x, y) below the datum height (default: the work zero's Z)."""
    return datum_z - measure.top_z(workpiece, *at)


def step_height(workpiece, high, low) -> float:
    return measure.step_height(workpiece, high, low)


def hole_diameter(workpiece, centre, z: float) -> tuple[float, dict]:
    found = measure.hole(workpiece, centre, z)
    return found["diameter"], found


def boss_diameter(workpiece, centre, z: float) -> tuple[float, dict]:
    found = measure.boss(workpiece, centre, z)
    return found["diameter"], found


def hole_distance(workpiece, a, b, z: float) -> tuple[float, dict]:
    """Centre distance of two holes (孔距) at height z."""
    first, second = measure.hole(workpiece, a, z), measure.hole(workpiece, b, z)
    return math.hypot(first["x"] - second["x"], first["y"] - second["y"]), {"a": first, "b": second}


def hole_depth(workpiece, centre, diameter: float, datum_z: float) -> float:
    """Depth below the datum to which the hole keeps its full diameter (the drill point does not count)."""
    r = diameter / 2.0 - 1e-6
    angles = [k * math.pi / 4 for k in range(8)]
    tops = [measure.top_z(workpiece, centre[0] + r * math.cos(a), centre[1] + r * math.sin(a)) for a in angles]
    return datum_z - max(tops)


def arc_radius(workpiece, centre, z: float, from_deg: float, to_deg: float,
               inside_material: bool) -> tuple[float, dict]:
    found = measure.arc_radius(workpiece, centre, z, from_deg, to_deg, inside_material)
    return found["radius"], found


def thread_gauge(workpiece, centre) -> tuple[float, dict]:
    """Go/no-go gauge of a tapped hole: 1 when the go gauge enters (see measure.thread), else 0."""
    found = measure.thread(workpiece, centre)
    return (1.0 if found["gauge_ok"] else 0.0), found


def wall_roughness_ra(workpiece, point, direction) -> tuple[float, dict]:
    """Theoretical Ra (µm) of the wall met from ``point`` (in the void) along ``direction``."""
    d = list(direction) + [0.0] * (3 - len(direction))
    hit = next((h for h in measure.ray_hits(workpiece, point, d) if h.entering), None)
    if hit is None:
        raise ValueError("no wall along that direction")
    found = measure.roughness(workpiece, hit, floor=False)
    return found["ra"], found


def floor_roughness_ra(workpiece, at) -> tuple[float, dict]:
    """Theoretical Ra (µm) of the floor (or top face) at (x, y)."""
    hits = [h for h in measure.ray_hits(workpiece, (at[0], at[1], ABOVE), (0.0, 0.0, -1.0)) if h.entering]
    if not hits:
        raise ValueError(f"no material below X{at[0]:g} Y{at[1]:g}")
    found = measure.roughness(workpiece, hits[0], floor=True)
    return found["ra"], found


def _op(name: str, function, args: Mapping[str, Arg], unit: str = "mm", description: str = "") -> Operator:
    return Operator(name, function, args, unit, description)


_THROUGH = {"point": Arg("xyz"), "direction": Arg("vector")}
_DATUM = {"datum_z": optional("z", 0.0)}

OPERATORS: dict[str, Operator] = {op.name: op for op in (
    _op("size", size, _THROUGH, description="外形/凸台尺寸（两壁间材料宽）"),
    _op("gap_width", gap_width, _THROUGH, description="槽宽/型腔尺寸（两壁间空隙宽）"),
    _op("depth", depth, {"at": Arg("xy"), **_DATUM}, description="深度（到基准面）"),
    _op("step_height", step_height, {"high": Arg("xy"), "low": Arg("xy")}, description="台阶高度"),
    _op("hole_diameter", hole_diameter, {"centre": Arg("xy"), "z": Arg("z")}, description="孔径/圆形型腔直径"),
    _op("boss_diameter", boss_diameter, {"centre": Arg("xy"), "z": Arg("z")}, description="圆凸台直径"),
    _op("hole_distance", hole_distance, {"a": Arg("xy"), "b": Arg("xy"), "z": Arg("z")}, description="孔距"),
    _op("hole_depth", hole_depth, {"centre": Arg("xy"), "diameter": Arg("number"), **_DATUM},
        description="孔深（全径部分）"),
    _op("arc_radius", arc_radius, {"centre": Arg("xy"), "z": Arg("z"), "from_deg": Arg("number"),
                                   "to_deg": Arg("number"), "inside_material": optional("bool", False)},
        description="圆弧半径"),
    _op("thread_gauge", thread_gauge, {"centre": Arg("xy")}, unit="", description="螺纹（通止规，1 合格 0 不合格）"),
    _op("wall_roughness_ra", wall_roughness_ra, _THROUGH, unit="um", description="侧壁表面粗糙度 Ra（理论值）"),
    _op("floor_roughness_ra", floor_roughness_ra, {"at": Arg("xy")}, unit="um",
        description="底面表面粗糙度 Ra（理论值）"),
)}


def work_zero_point(work_zero: Mapping[str, Any] | Sequence[float] | None) -> tuple[float, float, float]:
    """The stock-frame work zero from the task form ``{"x", "y", "z"}`` (or a triple, or None = 0)."""
    if work_zero is None:
        return (0.0, 0.0, 0.0)
    if isinstance(work_zero, Mapping):
        return tuple(float(work_zero.get(axis, 0.0)) for axis in "xyz")
    return tuple(float(v) for v in work_zero)


def measure_items(workpiece, items: Sequence[Any], work_zero=None) -> list[dict[str, Any]]:
    """Measure task items (dicts of the task format or :class:`~simulators.core.task.Item`) on a mill
    workpiece; ``work_zero``: the task's ``work_zero`` (None: the centre of the raw block's top face)."""
    return task.measure_items(workpiece, items, OPERATORS, work_zero_point(work_zero))
