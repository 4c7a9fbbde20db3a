"""General tolerances for dimensions drawn without one (GB/T 1804-2000, equivalent to ISO 2768-1).

Score sheets say "未注公差按 GB/T 1804-m": an untoleranced length, diameter or radius is graded against the
limit deviations of the class for its nominal size. Values (mm, ±) are the standard's tables 1-3, keyed by the
upper end of each nominal-size range; "-" cells of the standard (no value) are left out.
"""
from __future__ import annotations

import math

CLASSES = ("f", "m", "c", "v")

# Table 1, linear dimensions: range upper bound (mm) -> ± deviation per class. Ranges: 0.5-3, >3-6, >6-30, ...
_LINEAR_BOUNDS = (3, 6, 30, 120, 400, 1000, 2000, 4000)
_LINEAR = {
    "f": (0.05, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, None),
    "m": (0.1, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2, 2.0),
    "c": (0.2, 0.3, 0.5, 0.8, 1.2, 2.0, 3.0, 4.0),
    "v": (None, 0.5, 1.0, 1.5, 2.5, 4.0, 6.0, 8.0),
}

# Table 2, radii and chamfer heights: 0.5-3, >3-6, >6.
_BROKEN_EDGE_BOUNDS = (3, 6, math.inf)
_BROKEN_EDGE = {"f": (0.2, 0.5, 1.0), "m": (0.2, 0.5, 1.0), "c": (0.4, 1.0, 2.0), "v": (0.4, 1.0, 2.0)}

# Table 3, angles, by the length of the shorter side: <=10, >10-50, >50-120, >120-400, >400 (degrees).
_ANGLE_BOUNDS = (10, 50, 120, 400, math.inf)
_ANGLE_MIN = {"f": (60, 30, 20, 10, 5), "m": (60, 30, 20, 10, 5), "c": (90, 60, 30, 15, 10),
              "v": (180, 120, 60, 30, 20)}      # minutes of arc


def _lookup(bounds, values, size: float, what: str, cls: str):
    if cls not in CLASSES:
        raise ValueError(f"general tolerance class {cls!r} is not one of {', '.join(CLASSES)}")
    if size < 0.5 and what != "angle":
        raise ValueError(f"{what} {size:g} mm: below 0.5 mm the drawing must give the tolerance")
    for bound, value in zip(bounds, values[cls]):
        if size <= bound:
            if value is None:
                raise ValueError(f"GB/T 1804-{cls} gives no {what} tolerance for {size:g} mm")
            return value
    raise ValueError(f"{what} {size:g} mm is beyond the GB/T 1804 table")


def linear_deviation(nominal: float, cls: str = "m") -> float:
    """± limit deviation (mm) of an untoleranced linear dimension (length, diameter, distance)."""
    return _lookup(_LINEAR_BOUNDS, _LINEAR, abs(nominal), "linear size", cls)


def broken_edge_deviation(nominal: float, cls: str = "m") -> float:
    """± limit deviation (mm) of an untoleranced outside radius or chamfer height."""
    return _lookup(_BROKEN_EDGE_BOUNDS, _BROKEN_EDGE, abs(nominal), "radius or chamfer", cls)


def angle_deviation_deg(shorter_side_mm: float, cls: str = "m") -> float:
    """± limit deviation (degrees) of an untoleranced angle, by the length of its shorter side."""
    return _lookup(_ANGLE_BOUNDS, _ANGLE_MIN, abs(shorter_side_mm), "angle", cls) / 60.0


def general_limits(nominal: float, feature: str = "linear", cls: str = "m", shorter_side_mm: float = 0.0
                   ) -> tuple[float, float]:
    """(lower, upper) deviations for ``feature`` = "linear", "radius" (or "chamfer") or "angle"."""
    if feature == "linear":
        d = linear_deviation(nominal, cls)
    elif feature in ("radius", "chamfer"):
        d = broken_edge_deviation(nominal, cls)
    elif feature == "angle":
        d = angle_deviation_deg(shorter_side_mm, cls)
    else:
        raise ValueError(f"unknown feature {feature!r} (linear, radius, chamfer, angle)")
    return (-d, d)


__all__ = ["CLASSES", "angle_deviation_deg", "broken_edge_deviation", "general_limits", "linear_deviation"]
