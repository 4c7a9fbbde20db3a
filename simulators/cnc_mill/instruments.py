"""Virtual measuring instruments on the exact milled part (docs/instruments.md).

``read(workpiece, instrument, **placement)`` answers what the instrument would show where the candidate put
it: ``{"instrument", "value", "unit", "resolution", "message", …}``, as on the lathe (the reading, rounding and
"cannot measure" rules are shared with :mod:`simulators.cnc_lathe.instruments`). Values come from the exact
model (:mod:`simulators.cnc_mill.measure`).

Frame: the workpiece's work frame, ``work = machine − part_origin``: origin at the centre of the raw stock's
top face. Instruments carried by the spindle (edge finder, Z setter's tool, dial indicator) take the work
position of their tip; the session converts the machine gauge point (``Workpiece.to_work(point, length)``).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..cnc_lathe.instruments import (
    ANVIL_DIAMETER,
    CALIPER_INSIDE_DEPTH,
    CALIPER_JAW_DEPTH,
    TIE,
    Instrument,
    cannot,
    micrometer_range,
    MICROMETER_STEP,
    reading,
    round_to,
)
from . import measure

EDGE_FINDER_DIAMETER = 10.0     # mm: the tip of the mechanical (offset) edge finder
EDGE_FINDER_TIP_LENGTH = 10.0   # mm: height of the Ø10 tip above its bottom
KICK_TOLERANCE = 0.002          # mm: the tip kicks when its centre is this close to one radius from a wall
EDGE_FINDER_COARSE = 36         # directions searched before refining on the nearest one
REFINE_STEPS = 24               # golden-section steps: the 20° bracket shrinks below 1e-5 rad (1e-9 mm)
SETTER_HEIGHT = 50.0            # mm: the Z setter reads 0 when its plunger is pressed to this height
SETTER_FREE = 1.0               # mm: the plunger stands this far above the 50.000 mark when free
SETTER_TRAVEL = 2.0             # mm: it can be pressed this far below the mark before it bottoms out
SETTER_PLUNGER_DIAMETER = 20.0  # mm: the plunger's top face
EDGE_FINDER_LENGTH = 100.0      # mm: gauge line to the tip's bottom, edge finder in its collet chuck
FLAT_ENDS = ("flat", "face", "boring", "bull", "reamer")   # tools whose end touches the setter across its width
DIAL_ANGLES = (0.0, 90.0, 180.0, 270.0)
CONTEXT = ("spindle", "tool", "rpm")   # what the session adds: gauge point (machine), spindle tool, rpm
INV_PHI = (math.sqrt(5.0) - 1.0) / 2.0

INSTRUMENTS: dict[str, Instrument] = {i.name: i for i in (
    Instrument("vernier_caliper", 0.0, 150.0, 0.02),
    Instrument("digital_caliper", 0.0, 150.0, 0.01),
    Instrument("micrometer", 0.0, 150.0, 0.01),
    Instrument("depth_gauge", 0.0, 150.0, 0.02),
    Instrument("dial_indicator", 0.0, 10.0, 0.01),
    Instrument("z_setter", -SETTER_TRAVEL, SETTER_FREE, 0.01),
    Instrument("edge_finder", 0.0, 0.0, KICK_TOLERANCE),
)}


def read(workpiece: Any, instrument: str, **placement: Any) -> dict:
    """Read ``instrument`` placed as ``placement`` says (keywords per instrument: docs/instruments.md)."""
    spec = INSTRUMENTS.get(instrument)
    if spec is None:
        unknown = Instrument(str(instrument), 0.0, 0.0, 0.01)
        return cannot(unknown, f"no instrument {instrument!r} (one of {', '.join(INSTRUMENTS)})")
    context = {key: placement.pop(key) for key in CONTEXT if key in placement}
    try:
        if instrument in _SPINDLE_READERS:
            return _SPINDLE_READERS[instrument](workpiece, spec, context, **placement)
        return _READERS[instrument](workpiece, spec, **placement)
    except TypeError as error:          # a missing or unknown placement keyword
        return cannot(spec, f"bad placement ({error})")
    except ValueError as error:         # the exact model found nothing where the instrument was put
        return cannot(spec, str(error))


# ---------------------------------------------------------------------------------------- helpers

def _direction(direction: Any) -> tuple[float, float, float]:
    """'x', 'y' or an angle in degrees from +X (counter-clockwise seen from above) → unit xy vector."""
    if direction in ("x", "X"):
        return (1.0, 0.0, 0.0)
    if direction in ("y", "Y"):
        return (0.0, 1.0, 0.0)
    angle = math.radians(float(direction))
    return (math.cos(angle), math.sin(angle), 0.0)


def _in_footprint(workpiece: Any, x: float, y: float) -> bool:
    x0, x1, y0, y1 = workpiece.raw.footprint
    return x0 <= x <= x1 and y0 <= y <= y1


def _fixture_at(workpiece: Any, point: Sequence[float]) -> str | None:
    """The vise part (jaw or bed) occupying ``point``, if any."""
    x, y, z = point
    for name, (x0, x1, y0, y1), top in getattr(workpiece, "fixtures", ()):
        if x0 <= x <= x1 and y0 <= y <= y1 and z <= top:
            return name
    return None


def _outside_contacts(workpiece: Any, point, direction) -> tuple[float, list]:
    """Two-point size of material through ``point`` along ±direction, and the points just outside both
    walls where the measuring faces sit."""
    d = _direction(direction)
    found = measure.size(workpiece, point, d)
    faces = [tuple(p + 0.01 * s * c for p, c in zip(found[key], d)) for key, s in (("plus", 1), ("minus", -1))]
    return found["size"], faces


def _blocked(workpiece: Any, faces: list, depth_limit: float, point) -> str | None:
    """Why measuring faces at ``faces`` cannot get there from above, or None."""
    for face in faces:
        fixture = _fixture_at(workpiece, face)
        if fixture is not None:
            return f"the {fixture} is in the way"
    if measure.top_z(workpiece, point[0], point[1]) - point[2] > depth_limit:
        return f"the jaws reach {depth_limit:g} mm below the top"
    return None


# -------------------------------------------------------------------------------------- calipers

def _caliper(workpiece: Any, spec: Instrument, point: Sequence[float], direction: Any = "x",
             mode: str = "outside") -> dict:
    """Outside jaws across the material through ``point`` (x, y, z, in material), or inside jaws across
    the slot or pocket through ``point`` (in the void), along ``direction``."""
    place = {"point": list(point), "direction": direction, "mode": mode}
    if mode == "inside":
        found = measure.gap(workpiece, point, _direction(direction))
        rim = max(measure.top_z(workpiece, p[0], p[1]) for p in (found["plus"], found["minus"]))
        if rim - point[2] > CALIPER_INSIDE_DEPTH:
            return cannot(spec, f"the inside jaws reach {CALIPER_INSIDE_DEPTH:g} mm below the top", placement=place)
        return reading(spec, found["width"], placement=place)
    if mode != "outside":
        return cannot(spec, f"mode {mode!r} is 'outside' or 'inside'", placement=place)
    if not workpiece.model.inside(*point):
        return cannot(spec, "the point is not in material", placement=place)
    size, faces = _outside_contacts(workpiece, point, direction)
    why = _blocked(workpiece, faces, CALIPER_JAW_DEPTH, point)
    return cannot(spec, why, placement=place) if why else reading(spec, size, placement=place)


def _micrometer(workpiece: Any, spec: Instrument, point: Sequence[float], direction: Any = "x",
                range_low: float | None = None) -> dict:
    """Outside micrometer across the material through ``point`` along ``direction``; ``range_low`` picks
    the micrometer (0, 25, 50 …), by default the one the part fits."""
    place = {"point": list(point), "direction": direction, "range_low": range_low}
    if not workpiece.model.inside(*point):
        return cannot(spec, "the point is not in material", placement=place)
    size, faces = _outside_contacts(workpiece, point, direction)
    why = _blocked(workpiece, faces, math.inf, point)
    if why:
        return cannot(spec, why, placement=place)
    low, high = micrometer_range(size) if range_low is None else (float(range_low),
                                                                   float(range_low) + MICROMETER_STEP)
    place["range_low"] = low
    if not low - TIE <= size <= high + TIE:
        return cannot(spec, f"the part does not fit the {low:g}–{high:g} mm micrometer", placement=place)
    return reading(spec, size, placement=place, anvil_diameter=ANVIL_DIAMETER)


# ------------------------------------------------------------------------------------ depth gauge

def _column_top(workpiece: Any, x: float, y: float) -> float | None:
    """Top of the material at (x, y); None where the stock is absent or cut through."""
    if not _in_footprint(workpiece, x, y):
        return None
    top, _ = workpiece.model.top(x, y)
    bottom = float(workpiece.raw.bottom0(x, y))
    return None if top <= bottom + 1e-9 else top


def _depth_gauge(workpiece: Any, spec: Instrument, base: Sequence[float], at: Sequence[float]) -> dict:
    """Base resting on the surface at ``base`` (x, y), rod down to the surface at ``at`` (x, y): the depth
    of a pocket, slot or step."""
    place = {"base": list(base), "at": list(at)}
    high = _column_top(workpiece, *base)
    if high is None:
        return cannot(spec, "no surface under the base", placement=place)
    low = _column_top(workpiece, *at)
    if low is None:
        return cannot(spec, "the rod meets no bottom there (outside the part or cut through)", placement=place)
    return reading(spec, high - low, placement=place)


# ---------------------------------------------------------------------------------- dial indicator

def _wall_distance(workpiece: Any, centre, z: float, angle: float, entering: bool) -> float:
    """Distance from the axis at (centre, z) to the wall along ``angle``: the first entry into material
    (a bore's wall) or the first exit from it (a boss's wall)."""
    d = (math.cos(math.radians(angle)), math.sin(math.radians(angle)), 0.0)
    for hit in measure.ray_hits(workpiece, (centre[0], centre[1], z), d):
        if hit.entering == entering:
            return hit.distance
    raise ValueError(f"no wall at {angle:g}°")


def _dial_indicator(workpiece: Any, spec: Instrument, context: Mapping, centre: Sequence[float] | None = None,
                    z: float | None = None, mode: str = "bore", angles: Sequence[float] = DIAL_ANGLES,
                    points: Sequence[Sequence[float]] = ()) -> dict:
    """Indicator in the spindle, turned by hand around a bore or boss at height z about the spindle axis
    ``centre`` (x, y), or moved over the top face through ``points``: each reading is how much more the
    stylus is pressed than at the first place (mm); ``value`` is the total swing. ``centre`` defaults to
    where the spindle is."""
    if centre is None:
        centre = _spindle_tip(workpiece, context, 0.0)[:2]
    place = {"centre": list(centre), "z": z, "mode": mode, "angles": list(angles), "points": [list(p) for p in points]}
    if mode in ("bore", "boss"):
        if z is None or not angles:
            return cannot(spec, "give z and the angles for a bore or boss", placement=place)
        walls = [_wall_distance(workpiece, centre, z, a, mode == "bore") for a in angles]
        pressed = [(walls[0] - w) if mode == "bore" else (w - walls[0]) for w in walls]
    elif mode == "face":
        tops = [_column_top(workpiece, p[0], p[1]) for p in points]
        if not tops or any(t is None for t in tops):
            return cannot(spec, "every point must be on the part's surface", placement=place)
        pressed = [t - tops[0] for t in tops]
    else:
        return cannot(spec, f"mode {mode!r} is 'bore', 'boss' or 'face'", placement=place)
    swing = max(pressed) - min(pressed)
    result = reading(spec, swing, placement=place)
    result["readings"] = None if result["value"] is None else [round_to(p, spec.resolution) for p in pressed]
    return result


# ------------------------------------------------------------------------------------- edge finder

def edge_clearance(workpiece: Any, tip: Sequence[float]) -> float | None:
    """Horizontal gap between the edge finder's Ø10 tip (bottom centre at ``tip``) and the nearest wall
    within the tip's height, mm (negative: the wall is inside the tip's circle); None when no wall is
    near. Raises ValueError when the tip's axis is in material."""
    x, y, z = (float(v) for v in tip)
    heights = (z + 1e-6, z + EDGE_FINDER_TIP_LENGTH / 2.0, z + EDGE_FINDER_TIP_LENGTH - 1e-6)
    best = None
    for h in heights:
        if workpiece.model.inside(x, y, h):
            raise ValueError("the edge finder's tip is in the material")
        distance = _nearest_wall(workpiece, (x, y, h))
        if distance is not None and (best is None or distance < best):
            best = distance
    return None if best is None else best - EDGE_FINDER_DIAMETER / 2.0


def _nearest_wall(workpiece: Any, origin) -> float | None:
    """Shortest horizontal distance from ``origin`` (in the void) to material: the nearest of evenly
    spread directions, refined by a golden-section search around it."""
    def distance(angle: float) -> float:
        d = (math.cos(angle), math.sin(angle), 0.0)
        for hit in measure.ray_hits(workpiece, origin, d):
            if hit.entering:
                return hit.distance
        return math.inf

    step = 2.0 * math.pi / EDGE_FINDER_COARSE
    coarse = [distance(k * step) for k in range(EDGE_FINDER_COARSE)]
    k = min(range(EDGE_FINDER_COARSE), key=coarse.__getitem__)
    if math.isinf(coarse[k]):
        return None
    return min(coarse[k], _golden_min(distance, (k - 1) * step, (k + 1) * step))


def _golden_min(f, a: float, b: float) -> float:
    """Smallest value of ``f`` on [a, b] by golden-section search (one new evaluation per step)."""
    m1, m2 = b - INV_PHI * (b - a), a + INV_PHI * (b - a)
    f1, f2 = f(m1), f(m2)
    for _ in range(REFINE_STEPS):
        if f1 < f2:
            b, m2, f2 = m2, m1, f1
            m1 = b - INV_PHI * (b - a)
            f1 = f(m1)
        else:
            a, m1, f1 = m1, m2, f2
            m2 = a + INV_PHI * (b - a)
            f2 = f(m2)
    return min(f1, f2)


def _edge_finder(workpiece: Any, spec: Instrument, context: Mapping, x: float | None = None,
                 y: float | None = None, z: float | None = None) -> dict:
    """Spinning edge finder with its tip's bottom centre at (x, y, z): ``state`` "clear" (no wall within
    the tip), "kick" (a wall one radius from the centre, ±0.002 mm: the moment to read the position) or
    "pushed" (moved past the kick: the position is off by the overshoot). No value: the operator reads
    the machine position. Without x, y, z: where the spindle is (the tip ``EDGE_FINDER_LENGTH`` below the
    gauge point); the session's ``tool`` must then be the edge finder and ``rpm`` turning."""
    if x is None or y is None or z is None:
        if context.get("tool") != "edge_finder":
            return cannot(spec, "the edge finder is not in the spindle")
        x, y, z = _spindle_tip(workpiece, context, EDGE_FINDER_LENGTH)
    place = {"x": x, "y": y, "z": z}
    if context.get("rpm") is not None and float(context["rpm"]) <= 0.0:
        return {**cannot(spec, "the edge finder only centres and kicks while it turns (about 500 rpm)",
                         placement=place), "state": "still"}
    try:
        gap = edge_clearance(workpiece, (x, y, z))
    except ValueError:          # the tip's axis is in material: a crash the session reports
        gap, state = None, "in_material"
    else:
        state = _edge_state(gap)
    return {"instrument": spec.name, "value": None, "unit": spec.unit, "resolution": spec.resolution,
            "message": None, "state": state, "placement": place, "tip_diameter": EDGE_FINDER_DIAMETER}


def _edge_state(gap: float | None) -> str:
    if gap is None or gap > KICK_TOLERANCE:
        return "clear"
    return "kick" if gap >= -KICK_TOLERANCE else "pushed"


# ---------------------------------------------------------------------------------------- Z setter

def _z_setter(workpiece: Any, spec: Instrument, context: Mapping, tip: Sequence[float] | None = None,
              at: Sequence[float] | None = None, tool_radius: float | None = None) -> dict:
    """Z setter standing on the part's surface at ``at`` (x, y; default under the tip), the tool's tip at
    ``tip`` (x, y, z; its lowest point on the axis, a flat end ``tool_radius`` wide): the dial shows how far
    the tip is above the 50.000 mm mark (0.00: tip exactly 50.000 above the surface). Without ``tip``: the
    tool in the spindle (the session's ``tool`` and ``spindle``), its flat end's radius for flat tools."""
    if tip is None:
        length, radius = _tool_tip(context.get("tool"))
        if length is None:
            return cannot(spec, "no tool in the spindle")
        tip = _spindle_tip(workpiece, context, length)
        tool_radius = radius if tool_radius is None else tool_radius
    tool_radius = float(tool_radius or 0.0)
    at = tuple(at) if at is not None else (tip[0], tip[1])
    place = {"tip": list(tip), "at": list(at), "tool_radius": tool_radius}
    base = _column_top(workpiece, at[0], at[1])
    if base is None:
        return cannot(spec, "the setter has no surface to stand on there", placement=place)
    if math.hypot(tip[0] - at[0], tip[1] - at[1]) > SETTER_PLUNGER_DIAMETER / 2.0 + tool_radius:
        return cannot(spec, "the tool is not over the setter", placement=place)
    above = float(tip[2]) - base - SETTER_HEIGHT
    if above > SETTER_FREE:
        return cannot(spec, "the tool does not touch the setter", placement=place)
    if above < -SETTER_TRAVEL:
        return cannot(spec, "the plunger is pressed past its travel (the setter is crushed)", placement=place,
                      crash=True)
    return reading(spec, above, placement=place)


# ------------------------------------------------------------------------------------ the spindle

def _spindle_tip(workpiece: Any, context: Mapping, length: float) -> tuple[float, float, float]:
    """Work position ``length`` below the spindle's gauge point (the session's ``spindle``, machine xyz)."""
    spindle = context.get("spindle")
    if spindle is None:
        raise TypeError("give the position, or the spindle's")
    return workpiece.to_work(tuple(float(v) for v in spindle), length)


def _tool_tip(tool: Any) -> tuple[float | None, float]:
    """(gauge length, flat end radius) of what is in the spindle: a Tool, the edge finder, or nothing."""
    if tool == "edge_finder":
        return EDGE_FINDER_LENGTH, EDGE_FINDER_DIAMETER / 2.0
    if tool is None or not hasattr(tool, "length"):
        return None, 0.0
    flat = tool.kind in FLAT_ENDS
    return float(tool.length), (float(tool.diameter) / 2.0 - float(tool.corner_radius)) if flat else 0.0


_READERS: Mapping[str, Any] = {
    "vernier_caliper": _caliper,
    "digital_caliper": _caliper,
    "micrometer": _micrometer,
    "depth_gauge": _depth_gauge,
}
_SPINDLE_READERS: Mapping[str, Any] = {       # these also take the session's spindle context
    "dial_indicator": _dial_indicator,
    "edge_finder": _edge_finder,
    "z_setter": _z_setter,
}

__all__ = ["INSTRUMENTS", "read", "edge_clearance", "EDGE_FINDER_DIAMETER", "EDGE_FINDER_LENGTH", "KICK_TOLERANCE",
           "SETTER_HEIGHT"]
