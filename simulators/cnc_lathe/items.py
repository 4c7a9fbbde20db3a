"""Score-sheet measurement items of the turned part: operator name → measurement on the final workpiece.

Arguments are in the task's work frame (docs/task-format.md): ``z`` along the axis from the work zero,
diameters (``x_*``) as on the drawing. :mod:`simulators.core.task` moves the z values into the stock frame
of :mod:`simulators.cnc_lathe.measure` (z = 0 at the raw stock's right end face) before calling these.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..core import task
from ..core.task import Arg, Operator, optional
from . import measure

RANGE = {"z0": Arg("z"), "z1": Arg("z")}


def outer_diameter(workpiece, z: float, angle_deg: float = 0.0) -> float:
    """Two-point diameter across the axis at z (a micrometer's reading without rounding)."""
    value = measure.diameter_at(workpiece, z, angle_deg)
    if value is None:
        raise ValueError(f"no material at Z{z:g}")
    return value


def outer_diameter_max(workpiece, z0: float, z1: float) -> float:
    return measure.diameter_over(workpiece, z0, z1, "max")


def outer_diameter_min(workpiece, z0: float, z1: float) -> float:
    return measure.diameter_over(workpiece, z0, z1, "min")


def bore_diameter(workpiece, z: float) -> float:
    return measure.bore_diameter_at(workpiece, z)


def length(workpiece, z_a: float, x_a: float, z_b: float, x_b: float) -> tuple[float, dict]:
    """Axial distance between the face near z_a, probed on the diameter x_a, and the face near z_b."""
    face_a = measure.face_z(workpiece, x_a / 2.0, z_a)
    face_b = measure.face_z(workpiece, x_b / 2.0, z_b)
    return abs(face_a - face_b), {"face_a_z": face_a, "face_b_z": face_b}


def groove_width(workpiece, z0: float, z1: float) -> tuple[float, dict]:
    found = measure.groove(workpiece, z0, z1)
    return found["width"], found


def groove_diameter(workpiece, z0: float, z1: float) -> tuple[float, dict]:
    found = measure.groove(workpiece, z0, z1)
    return found["bottom_diameter"], found


def _thread_at(workpiece, z: float) -> dict:
    """The thread whose zone holds z."""
    for index, zone in enumerate(workpiece.stock.threads):
        lo, hi = zone.z_range
        if lo <= z <= hi:
            return measure.thread(workpiece, index)
    raise ValueError(f"no thread at Z{z:g}")


def _thread_value(key: str):
    def operator(workpiece, z: float) -> tuple[float, dict]:
        found = _thread_at(workpiece, z)
        return found[key], found
    operator.__name__ = f"thread_{key}"
    return operator


def arc_radius(workpiece, z0: float, z1: float, surface: str = "outer") -> tuple[float, dict]:
    found = measure.arc(workpiece, z0, z1, surface)
    return found["radius"], found


def taper_angle(workpiece, z0: float, z1: float, surface: str = "outer") -> tuple[float, dict]:
    """Included angle of the cone (degrees)."""
    found = measure.taper(workpiece, z0, z1, surface)
    return found["included_angle_deg"], found


def chamfer_axial(workpiece, z0: float, z1: float) -> tuple[float, dict]:
    found = measure.chamfer(workpiece, z0, z1)
    return found["axial"], found


def chamfer_radial(workpiece, z0: float, z1: float) -> tuple[float, dict]:
    found = measure.chamfer(workpiece, z0, z1)
    return found["radial"], found


def roughness_ra(workpiece, z: float, surface: str = "outer") -> tuple[float | None, dict]:
    """Theoretical Ra (µm) of the surface at z from the feed and nose radius of the pass that cut it."""
    value = measure.ra_at(workpiece, z, surface)
    detail = {"line": measure.cut_by(workpiece, z, surface)}
    if value is None:
        detail["error"] = "surface not cut by a nosed tool with a feed (raw stock, rapid or sharp tip)"
    return value, detail


def _op(name: str, function, args: Mapping[str, Arg], unit: str = "mm", description: str = "") -> Operator:
    return Operator(name, function, args, unit, description)


_SURFACE = {"surface": optional("surface", "outer")}
_THREAD = {"z": Arg("z")}

OPERATORS: dict[str, Operator] = {op.name: op for op in (
    _op("outer_diameter", outer_diameter, {"z": Arg("z"), "angle_deg": optional("number", 0.0)},
        description="外圆直径（两点，千分尺）"),
    _op("outer_diameter_max", outer_diameter_max, RANGE, description="外圆最大直径（区间）"),
    _op("outer_diameter_min", outer_diameter_min, RANGE, description="外圆最小直径（区间）"),
    _op("bore_diameter", bore_diameter, {"z": Arg("z")}, description="内孔直径"),
    _op("length", length, {"z_a": Arg("z"), "x_a": Arg("number"), "z_b": Arg("z"), "x_b": Arg("number")},
        description="长度（两端面间轴向距离）"),
    _op("groove_width", groove_width, RANGE, description="槽宽"),
    _op("groove_diameter", groove_diameter, RANGE, description="槽底直径"),
    _op("thread_major_diameter", _thread_value("major_diameter"), _THREAD, description="螺纹大径"),
    _op("thread_minor_diameter", _thread_value("minor_diameter"), _THREAD, description="螺纹小径"),
    _op("thread_pitch_diameter", _thread_value("pitch_diameter"), _THREAD, description="螺纹中径"),
    _op("thread_pitch", _thread_value("pitch"), _THREAD, description="螺距"),
    _op("arc_radius", arc_radius, {**RANGE, **_SURFACE}, description="圆弧半径"),
    _op("taper_angle", taper_angle, {**RANGE, **_SURFACE}, unit="deg", description="锥角（全角）"),
    _op("chamfer_axial", chamfer_axial, RANGE, description="倒角轴向尺寸"),
    _op("chamfer_radial", chamfer_radial, RANGE, description="倒角径向尺寸"),
    _op("roughness_ra", roughness_ra, {"z": Arg("z"), **_SURFACE}, unit="um", description="表面粗糙度 Ra（理论值）"),
)}


def work_zero_point(work_zero: Mapping[str, Any] | Sequence[float] | None) -> tuple[float, float, float]:
    """The stock-frame work zero from the task form ``{"z": …}`` (or an (x, y, z) triple, or None = 0)."""
    if work_zero is None:
        return (0.0, 0.0, 0.0)
    if isinstance(work_zero, Mapping):
        return (0.0, 0.0, float(work_zero.get("z", 0.0)))
    return tuple(float(v) for v in work_zero)


def measure_items(workpiece, items: Sequence[Any], work_zero=None) -> list[dict[str, Any]]:
    """Measure task items (dicts of the task format or :class:`~simulators.core.task.Item`) on a lathe
    workpiece; ``work_zero``: the task's ``work_zero`` (None: the raw stock's right end face)."""
    return task.measure_items(workpiece, items, OPERATORS, work_zero_point(work_zero))
