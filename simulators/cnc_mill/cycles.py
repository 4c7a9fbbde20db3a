"""FANUC 0i-MF drilling canned cycles G73, G74, G76, G81–G89 as pure functions.

Each cycle call returns the steps (:class:`~simulators.cnc_mill.path.Segment` moves and
:class:`~simulators.cnc_mill.path.Action` dwells and spindle changes) for ONE hole position, in
program (work) coordinates, starting where the tool is and ending at the level G98/G99 asks for:

1. rapid in the plane to the hole position, at the current drilling-axis level;
2. rapid along the drilling axis to point R (skipped when already there);
3. the hole itself, depending on the cycle;
4. return: G98 to the initial level, G99 to point R.

The drilling axis is the normal of the plane (Z in G17, Y in G18, X in G19); "down" is from R towards
the Z point, whatever its sign, so G87 (back boring, Z above R) uses the same code.

Units the interpreter passes (never least input increments): the Z point, R point, initial level as
absolute normal-axis coordinates in mm (the interpreter resolves G91 R/Z as FANUC does: R from the
initial level, Z from point R); Q in mm (positive); P in seconds (P is ms on the tape); feed in mm/min
(G95 F × rpm already applied; tapping: see :func:`tapping_feed`). Every feed segment carries that feed.

G73/G83 without Q (or Q <= 0) raise PS0045; a cutting feed of 0 raises PS0011; rigid tapping (M29)
with the spindle speed 0 raises PS0200.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simulators.cnc_mill.path import (
    UV,
    XYZ,
    Action,
    Plane,
    Segment,
    Step,
    from_plane,
    normal_coordinate,
    plane_point,
)
from simulators.core.alarms import Alarm

EPS = 1e-7  # mm: inputs come in 1 µm steps, anything below this is rounding

DRILLING_CODES = ("G73", "G74", "G76", "G81", "G82", "G83", "G84", "G85", "G86", "G87", "G88", "G89")
PECK_CODES = ("G73", "G83")
TAPPING_CODES = ("G74", "G84")
SHIFT_CODES = ("G76", "G87")


@dataclass(frozen=True)
class CycleParameters:
    """Machine parameters the cycles read (mm).

    g73_retract: parameter 5114, the retract d after each G73 peck. g83_clearance: parameter 5115, how
    far above the previous peck's depth G83 switches from rapid to feed. Defaults are the metric
    defaults Mach4 documents for the same parameter numbers (0.6 / 0.25 mm); FANUC leaves them to the
    machine builder. shift_direction: the G76/G87 shift as a unit vector in the plane's (first, second)
    axes, parameter 5101 bits RD1/RD2: (1, 0) = +X in G17 (RD2 RD1 = 0 0), (-1, 0) = -X, (0, 1) = +Y,
    (0, -1) = -Y.
    """

    g73_retract: float = 0.6
    g83_clearance: float = 0.25
    shift_direction: tuple[int, int] = (1, 0)


@dataclass(frozen=True)
class CycleData:
    """The modal canned-cycle data the control keeps from block to block until G80 (or a group-01 code).

    code: "G73" … "G89". bottom: the Z point, absolute along the drilling axis. r_level: point R,
    absolute. feed: cutting feed, mm/min. return_initial: True under G98, False under G99. q: G73/G83
    peck depth or G76/G87 shift (mm, the sign is ignored), None when not given. dwell: P in seconds.
    rpm: spindle speed (for the tapping lead). rigid: M29 rigid tapping is active (G74/G84).
    """

    code: str
    bottom: float
    r_level: float
    feed: float
    return_initial: bool = True
    q: float | None = None
    dwell: float = 0.0
    rpm: float = 0.0
    rigid: bool = False
    plane: Plane = "G17"


def tapping_feed(f: float, rpm: float, per_revolution: bool) -> float:
    """The G74/G84 feed in mm/min: F itself under G94 (the programmer writes pitch × S), F × S under
    G95 (F is the pitch). A M10×1.5 tap at S200 feeds 1.5 × 200 = 300 mm/min."""
    return f * rpm if per_revolution else f


def repeat_positions(first: UV, increment: UV, count: int) -> list[UV]:
    """Hole positions for K repeats under G91: first, first + increment, … (``count`` of them)."""
    return [(first[0] + i * increment[0], first[1] + i * increment[1]) for i in range(count)]


def hole(data: CycleData, start: XYZ, position: UV, initial_level: float, line: int,
         params: CycleParameters = CycleParameters()) -> list[Step]:
    """Steps for one hole at ``position`` (plane coordinates) from the tool position ``start``.

    initial_level: the drilling-axis coordinate when the cycle mode began (the G98 return level).
    line: the block's program line (every step carries it).
    """
    if data.code not in DRILLING_CODES:
        raise Alarm("PS0010", line, f"{data.code} is not a drilling cycle")
    _check(data, line)
    cycle = _Builder(data, start, line)
    cycle.return_level = initial_level if data.return_initial else data.r_level
    cycle.rapid_to(position, cycle.level)
    if data.code == "G87":
        _back_boring(cycle, position, initial_level, params)
        return cycle.steps
    cycle.rapid_to(position, data.r_level)
    _HOLE_BODIES[data.code](cycle, params)
    cycle.rapid(cycle.return_level)
    return cycle.steps


def holes(data: CycleData, start: XYZ, positions: Sequence[UV], initial_level: float, line: int,
          params: CycleParameters = CycleParameters()) -> list[Step]:
    """The steps of several holes in a row (K repeats): each starts where the previous one ended."""
    steps: list[Step] = []
    here = start
    for position in positions:
        part = hole(data, here, position, initial_level, line, params)
        steps += part
        moves = [s for s in part if isinstance(s, Segment)]
        here = moves[-1].end if moves else here
    return steps


# ------------------------------------------------------------------------------------------ checks

def _check(data: CycleData, line: int) -> None:
    if data.code in PECK_CODES and (data.q is None or abs(data.q) <= EPS):
        raise Alarm("PS0045", line, f"{data.code} needs a peck depth Q > 0")
    if data.feed <= 0:
        raise Alarm("PS0011", line, f"{data.code} needs a cutting feed F > 0")
    if data.code in TAPPING_CODES and data.rigid and data.rpm <= 0:
        raise Alarm("PS0200", line, "rigid tapping needs a spindle speed S > 0")
    if data.dwell < 0:
        raise Alarm("PS0006", line, "dwell P cannot be negative")


# ------------------------------------------------------------------------------------------ builder

class _Builder:
    """Collects the steps of one hole; ``uv``/``level`` is where the tool is."""

    def __init__(self, data: CycleData, start: XYZ, line: int):
        self.data, self.line, self.plane = data, line, data.plane
        self.uv: UV = plane_point(start, self.plane)
        self.level = normal_coordinate(start, self.plane)
        self.return_level = self.level      # G98: initial level, G99: point R (set by hole())
        self.steps: list[Step] = []

    @property
    def position(self) -> XYZ:
        return from_plane(self.uv, self.level, self.plane)

    def _move(self, kind: str, uv: UV, level: float, **extra) -> None:
        if abs(uv[0] - self.uv[0]) <= EPS and abs(uv[1] - self.uv[1]) <= EPS and abs(level - self.level) <= EPS:
            return
        start = self.position
        self.uv, self.level = uv, level
        self.steps.append(Segment(kind, start, self.position, self.line, plane=self.plane, **extra))

    def rapid_to(self, uv: UV, level: float) -> None:
        self._move("rapid", uv, level)

    def rapid(self, level: float) -> None:
        self._move("rapid", self.uv, level)

    def feed(self, level: float, lead: float = 0.0) -> None:
        self._move("feed", self.uv, level, feed=self.data.feed, lead=lead)

    def dwell(self) -> None:
        if self.data.dwell > 0:
            self.steps.append(Action("dwell", self.line, seconds=self.data.dwell))

    def spindle(self, direction: int) -> None:
        self.steps.append(Action("spindle", self.line, direction=direction))

    def orient(self) -> None:
        self.steps.append(Action("orient", self.line))

    def shift(self, params: CycleParameters, sign: int) -> None:
        """Rapid the tool off the bore wall by Q (sign +1) or back (sign -1) in the plane."""
        q = abs(self.data.q or 0.0)
        dx, dy = params.shift_direction
        self._move("rapid", (self.uv[0] + sign * q * dx, self.uv[1] + sign * q * dy), self.level)


def _down(data: CycleData) -> int:
    """+1 when the Z point lies above point R along the drilling axis, else -1."""
    return 1 if data.bottom > data.r_level else -1


# ------------------------------------------------------------------------------------------ hole bodies
# Each body starts at point R; hole() then rapids to the return level (a no-op when the body went there).

def _drill(cycle: _Builder, params: CycleParameters) -> None:          # G81
    cycle.feed(cycle.data.bottom)


def _spot_face(cycle: _Builder, params: CycleParameters) -> None:      # G82
    cycle.feed(cycle.data.bottom)
    cycle.dwell()


def _peck_depths(data: CycleData) -> list[float]:
    """The depths each peck reaches: R - q, R - 2q, …, the Z point (last peck may be shorter)."""
    q, down = abs(data.q), _down(data)
    total = abs(data.bottom - data.r_level)
    count = max(1, -int(-(total - EPS) // q))     # ceil(total / q), at least one
    depths = [data.r_level + down * q * i for i in range(1, count)]
    return depths + [data.bottom]


def _high_speed_peck(cycle: _Builder, params: CycleParameters) -> None:   # G73
    data, up = cycle.data, -_down(cycle.data)
    depths = _peck_depths(data)
    for i, depth in enumerate(depths):
        cycle.feed(depth)
        if i < len(depths) - 1:
            cycle.rapid(depth + up * params.g73_retract)


def _deep_peck(cycle: _Builder, params: CycleParameters) -> None:   # G83
    data, up = cycle.data, -_down(cycle.data)
    depths = _peck_depths(data)
    for i, depth in enumerate(depths):
        if i > 0:
            cycle.rapid(depths[i - 1] + up * params.g83_clearance)
        cycle.feed(depth)
        if i < len(depths) - 1:
            cycle.rapid(data.r_level)


def _tap(direction: int):
    """G84 (direction +1: spindle CW in, CCW out) or G74 (-1: CCW in, CW out)."""
    def body(cycle: _Builder, params: CycleParameters) -> None:
        data = cycle.data
        lead = data.feed / data.rpm if data.rigid else 0.0
        cycle.feed(data.bottom, lead)
        cycle.dwell()
        cycle.spindle(-direction)
        cycle.feed(data.r_level, lead)
        cycle.spindle(direction)
    return body


def _bore_feed_out(cycle: _Builder, params: CycleParameters) -> None:   # G85, G89 (with dwell)
    cycle.feed(cycle.data.bottom)
    if cycle.data.code == "G89":
        cycle.dwell()
    cycle.feed(cycle.data.r_level)


def _bore_stop(cycle: _Builder, params: CycleParameters) -> None:   # G86
    cycle.feed(cycle.data.bottom)
    cycle.spindle(0)
    _retract_then_restart(cycle)


def _bore_manual(cycle: _Builder, params: CycleParameters) -> None:   # G88
    cycle.feed(cycle.data.bottom)
    cycle.dwell()
    cycle.spindle(0)
    cycle.steps.append(Action("manual", cycle.line))
    _retract_then_restart(cycle)


def _retract_then_restart(cycle: _Builder) -> None:
    """G86/G88: leave the hole (rapid) with the spindle stopped, then restart it (M03) at the return level."""
    cycle.rapid(cycle.return_level)
    cycle.spindle(1)


def _fine_bore(cycle: _Builder, params: CycleParameters) -> None:   # G76
    cycle.feed(cycle.data.bottom)
    cycle.dwell()
    cycle.orient()
    cycle.shift(params, +1)
    cycle.rapid(cycle.return_level)
    cycle.shift(params, -1)
    cycle.spindle(1)


def _back_boring(cycle: _Builder, position: UV, initial_level: float, params: CycleParameters) -> None:
    """G87: orient and shift at the initial level, rapid down to point R (below the part), shift back,
    spindle CW, bore upwards to the Z point, orient, shift, rapid up to the initial level, shift back,
    spindle CW. It always returns to the initial level (there is nothing to return to at point R)."""
    data = cycle.data
    cycle.orient()
    cycle.shift(params, +1)
    cycle.rapid(data.r_level)
    cycle.shift(params, -1)
    cycle.spindle(1)
    cycle.feed(data.bottom)
    cycle.dwell()
    cycle.orient()
    cycle.shift(params, +1)
    cycle.rapid(initial_level)
    cycle.shift(params, -1)
    cycle.spindle(1)


_HOLE_BODIES = {
    "G73": _high_speed_peck, "G74": _tap(-1), "G76": _fine_bore, "G81": _drill, "G82": _spot_face,
    "G83": _deep_peck, "G84": _tap(1), "G85": _bore_feed_out, "G86": _bore_stop, "G88": _bore_manual,
    "G89": _bore_feed_out,
}
