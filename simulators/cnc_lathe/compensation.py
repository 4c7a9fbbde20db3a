"""Tool-nose radius compensation (G41/G42) for the FANUC lathe, exact on lines and arcs.

The programmed path is the part contour. The nose is a circle of radius R whose centre must run at
distance R from the contour on the side G41 (left of the direction of travel) or G42 (right) names,
seen with Z to the right and X up (FANUC's view from +Y). The offsets are set on the *imaginary tip*
(where the X and Z tangents of the nose meet), so the path we output is the imaginary tip's:
``tip = centre + R * TIP_VECTORS[T]``. With T = 0 or 9 the programmed point is the nose centre.

Imaginary tip directions (vector from the nose centre to the imaginary tip, in units of R, as
``(x, z)``): the FANUC chart as the Haas lathe manual words it ("1 X+ Z+, 2 X+ Z-, 3 X- Z-,
4 X- Z+, 5 Z+, 6 X+, 7 Z-, 8 X-, 0/9 none"): an external turning tool cutting toward the chuck
has T3 (tip below-left of the centre), a boring bar T2.

Corners (nose-centre path, "type A" start-up and cancel as on the control's default):
* concave corner: the offset lines/arcs are intersected (PS0033 when they do not meet);
* convex corner turning by <= 90 degrees: the tangents of the two offset elements at their ends are
  intersected (lines simply meet; an arc gets straight connectors);
* convex corner turning by > 90 degrees: the centre goes R beyond the end of the first element
  along its tangent, then to R before the start of the second (FANUC's type C corner);
* a compensated element whose direction reverses after trimming raises PS0041 (interference), as
  does a concave arc whose radius does not exceed the nose radius;
* the start-up block (first move after G41/G42) and the cancel block (G40 move) must be G00/G01
  (else PS0034): the start-up block ends with the centre perpendicular to the next block's start,
  the cancel block starts with the centre perpendicular to the previous block's end.

Use: the interpreter creates one :class:`NoseRadiusCompensator` when G41/G42 becomes active, feeds
it each programmed move (:meth:`feed`; the first one is the start-up), passes the G40 move to
:meth:`cancel`, or calls :meth:`finish` at program end; each call returns the compensated segments
that are final so far (the compensator holds back one segment: it needs the next one to place the
corner). Zero-length moves are ignored while compensating.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Tuple

from simulators.cnc_lathe.cycles import arc_phi, arc_radius
from simulators.cnc_lathe.path import XZ, Segment
from simulators.core.alarms import Alarm

EPS = 1e-7  # mm

# Vector from the nose centre to the imaginary tip, (x, z) in units of the nose radius.
TIP_VECTORS: Dict[int, Tuple[int, int]] = {
    0: (0, 0), 1: (1, 1), 2: (1, -1), 3: (-1, -1), 4: (-1, 1),
    5: (0, 1), 6: (1, 0), 7: (0, -1), 8: (-1, 0), 9: (0, 0),
}
LEFT, RIGHT = 41, 42


def tip_offset(tip_direction: int, radius: float) -> XZ:
    """Vector (x, z) mm from the nose centre to the imaginary tip."""
    vx, vz = TIP_VECTORS[tip_direction]
    return (vx * radius, vz * radius)


# --------------------------------------------------------------------------------------------
# vector helpers on (x, z); "cross" is taken in the (z right, x up) view, > 0 = left turn
# --------------------------------------------------------------------------------------------

def _add(p: XZ, q: XZ, k: float = 1.0) -> XZ:
    return (p[0] + k * q[0], p[1] + k * q[1])


def _sub(p: XZ, q: XZ) -> XZ:
    return (p[0] - q[0], p[1] - q[1])


def _dot(p: XZ, q: XZ) -> float:
    return p[0] * q[0] + p[1] * q[1]


def _cross(t1: XZ, t2: XZ) -> float:
    return t1[1] * t2[0] - t1[0] * t2[1]


def _unit(v: XZ) -> XZ:
    n = math.hypot(v[0], v[1])
    return (v[0] / n, v[1] / n)


def _dist(p: XZ, q: XZ) -> float:
    return math.hypot(p[0] - q[0], p[1] - q[1])


def _tangent(seg: Segment, at_end: bool) -> XZ:
    """Unit direction of travel at the segment's start (or end)."""
    if seg.kind != "arc":
        return _unit(_sub(seg.end, seg.start))
    rx, rz = _sub(seg.end if at_end else seg.start, seg.centre)
    return _unit((-rz, rx) if seg.clockwise else (rz, -rx))


def _normal(t: XZ, side: int) -> XZ:
    """Unit normal pointing to the tool's side of a travel direction ``t``."""
    return (t[1], -t[0]) if side == LEFT else (-t[1], t[0])


def _is_line(seg: Segment) -> bool:
    return seg.kind != "arc"


def _length_zero(seg: Segment) -> bool:
    return seg.kind != "arc" and _dist(seg.start, seg.end) <= EPS


# --------------------------------------------------------------------------------------------
# intersections of offset elements (infinite lines and full circles)
# --------------------------------------------------------------------------------------------

def _line_line(p1: XZ, t1: XZ, p2: XZ, t2: XZ) -> List[XZ]:
    den = _cross(t1, t2)
    if abs(den) <= 1e-12:
        return []
    s = _cross(_sub(p2, p1), t2) / den
    return [_add(p1, t1, s)]


def _line_circle(p: XZ, t: XZ, c: XZ, rho: float) -> List[XZ]:
    f = _sub(p, c)
    b = _dot(f, t)
    disc = b * b - (_dot(f, f) - rho * rho)
    if disc < -1e-12:
        return []
    root = math.sqrt(max(disc, 0.0))
    return [_add(p, t, -b - root), _add(p, t, -b + root)]


def _circle_circle(c1: XZ, r1: float, c2: XZ, r2: float) -> List[XZ]:
    d = _dist(c1, c2)
    if d <= 1e-12 or d > r1 + r2 + 1e-9 or d < abs(r1 - r2) - 1e-9:
        return []
    a = (r1 * r1 - r2 * r2 + d * d) / (2 * d)
    h = math.sqrt(max(r1 * r1 - a * a, 0.0))
    u = _unit(_sub(c2, c1))
    mid = _add(c1, u, a)
    perp = (-u[1], u[0])
    return [_add(mid, perp, h), _add(mid, perp, -h)]


@dataclass
class _Element:
    """A programmed segment with its offset geometry (nose-centre path)."""

    seg: Segment
    side: int
    radius: float

    def offset_point(self, at_end: bool) -> XZ:
        p = self.seg.end if at_end else self.seg.start
        return _add(p, _normal(_tangent(self.seg, at_end), self.side), self.radius)

    def offset_radius(self) -> float:
        """Radius of the nose-centre arc; alarms when the nose does not fit a concave arc."""
        r = arc_radius(self.seg)
        towards_centre = (self.seg.clockwise and self.side == RIGHT) or \
                         (not self.seg.clockwise and self.side == LEFT)
        rho = r - self.radius if towards_centre else r + self.radius
        if rho <= EPS:
            raise Alarm("PS0041", self.seg.line,
                        f"concave arc R{r:.3f} is not larger than the nose radius R{self.radius:.3f}")
        return rho

    def intersect(self, other: "_Element") -> List[XZ]:
        if _is_line(self.seg) and _is_line(other.seg):
            return _line_line(self.offset_point(False), _tangent(self.seg, False),
                              other.offset_point(False), _tangent(other.seg, False))
        if _is_line(self.seg) or _is_line(other.seg):
            line, arc = (self, other) if _is_line(self.seg) else (other, self)
            return _line_circle(line.offset_point(False), _tangent(line.seg, False),
                                arc.seg.centre, arc.offset_radius())
        return _circle_circle(self.seg.centre, self.offset_radius(),
                              other.seg.centre, other.offset_radius())


def _corner(first: _Element, second: _Element) -> List[XZ]:
    """Nose-centre points at the junction of two elements: the first one is where ``first`` ends,
    the last one where ``second`` starts, any in between are joined by straight connectors."""
    radius = first.radius
    t1, t2 = _tangent(first.seg, True), _tangent(second.seg, False)
    q1, q2 = first.offset_point(True), second.offset_point(False)
    if _dist(q1, q2) <= EPS:
        return [q1]
    corner_at = first.seg.end
    turn = _cross(t1, t2)
    concave = (turn > 0) == (first.side == LEFT) and abs(turn) > 1e-12
    if concave:
        points = first.intersect(second)
        if not points:
            raise Alarm("PS0033", second.seg.line, "the offset paths of the two blocks do not meet")
        return [min(points, key=lambda p: _dist(p, corner_at))]
    ends: List[XZ] = []
    if _dot(t1, t2) >= -1e-12 and abs(turn) > 1e-12:      # turning by at most 90 degrees
        ends = _line_line(q1, t1, q2, t2)
    if not ends:                                          # sharp corner: FANUC type C
        ends = [_add(q1, t1, radius), _add(q2, t2, -radius)]
    points = ([] if _is_line(first.seg) else [q1]) + ends + ([] if _is_line(second.seg) else [q2])
    return points


def _signed_turn(seg: Segment, phi_from: float, phi_to: float) -> float:
    """Rotation (rad, in (-pi, pi]) from phi_from to phi_to, positive in the arc's direction."""
    d = (phi_from - phi_to) if seg.clockwise else (phi_to - phi_from)
    d = (d + math.pi) % (2 * math.pi) - math.pi
    return d if d > -math.pi else d + 2 * math.pi


class NoseRadiusCompensator:
    """Streaming G41/G42 compensation: programmed segments in, imaginary-tip segments out.

    side: 41 (G41, tool left of the path) or 42 (G42, right); radius: nose radius R (mm, >= 0, the
    offset table's R plus wear); tip_direction: T, 0..9. Alarms PS0029 for a negative radius or a
    tip direction outside 0..9 (``line`` is the block that activated compensation).
    """

    def __init__(self, side: int, radius: float, tip_direction: int, line: int = 0):
        if side not in (LEFT, RIGHT):
            raise ValueError("side must be 41 (G41) or 42 (G42)")
        if radius < 0 or tip_direction not in TIP_VECTORS:
            raise Alarm("PS0029", line, f"nose radius {radius} / tip direction {tip_direction}")
        self.side, self.radius, self.tip_direction = side, radius, tip_direction
        self._tip = tip_offset(tip_direction, radius)
        self._pending: Optional[_Element] = None   # fed but not yet emitted
        self._pending_start: XZ = (0.0, 0.0)        # its nose-centre start point
        self._startup = True                        # the pending element is the start-up block
        self.closed = False

    # -- public API ------------------------------------------------------------------------

    def feed(self, seg: Segment) -> List[Segment]:
        """Take the next programmed move; return the compensated segments now final."""
        self._check_open()
        if self._pending is None:
            if seg.kind == "arc":
                raise Alarm("PS0034", seg.line, "compensation cannot start in a G02/G03 block")
            self._pending = _Element(seg, self.side, self.radius)
            self._pending_start = _sub(seg.start, self._tip)
            return []
        if _length_zero(seg):
            return []
        nxt = _Element(seg, self.side, self.radius)
        if nxt.seg.kind == "arc":
            nxt.offset_radius()                     # alarm early for a nose too big for the arc
        if self._startup:
            points = [nxt.offset_point(False)]
        else:
            points = _corner(self._pending, nxt)
        out = self._emit(points)
        self._pending, self._pending_start, self._startup = nxt, points[-1], False
        return out

    def cancel(self, seg: Segment) -> List[Segment]:
        """Take the G40 block's move: flush the held segment and return it with the cancel move,
        which ends at the programmed (uncompensated) point."""
        self._check_open()
        if seg.kind == "arc":
            raise Alarm("PS0034", seg.line, "compensation cannot be cancelled in a G02/G03 block")
        out = self.finish()
        start = out[-1].end if out else seg.start
        if _dist(start, seg.end) > EPS:
            out.append(replace(seg, start=start, end=seg.end))
        return out

    def finish(self) -> List[Segment]:
        """End compensation without a cancel move (program end): the held segment ends with the
        nose centre perpendicular to its end point."""
        self._check_open()
        self.closed = True
        if self._pending is None:
            return []
        el = self._pending
        if _length_zero(el.seg):
            end = _sub(el.seg.end, self._tip) if self._startup else self._pending_start
        else:
            end = el.offset_point(True)
        return self._emit([end])

    # -- internals ---------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("this compensator was cancelled; start a new one")

    def _emit(self, corner: Sequence[XZ]) -> List[Segment]:
        """Emit the pending element from its start to corner[0], then connectors along corner."""
        el, start, end = self._pending, self._pending_start, corner[0]
        out: List[Segment] = []
        if el.seg.kind == "arc":
            self._check_arc(el, start, end)
            if _dist(start, end) > EPS:
                out.append(replace(el.seg, start=_add(start, self._tip), end=_add(end, self._tip),
                                   centre=_add(el.seg.centre, self._tip)))
        else:
            if not self._startup and _dot(_sub(end, start), _sub(el.seg.end, el.seg.start)) < -EPS:
                raise Alarm("PS0041", el.seg.line, "the compensated move runs against the programmed one")
            if _dist(start, end) > EPS or self._startup:
                out.append(replace(el.seg, start=_add(start, self._tip), end=_add(end, self._tip)))
        kind = el.seg.kind if _is_line(el.seg) else "feed"
        for a, b in zip(corner, corner[1:]):
            if _dist(a, b) > EPS:
                out.append(replace(el.seg, kind=kind, start=_add(a, self._tip), end=_add(b, self._tip),
                                   centre=None, clockwise=False))
        return [s for s in out if _dist(s.start, s.end) > EPS or s.kind == "arc"]

    @staticmethod
    def _check_arc(el: _Element, start: XZ, end: XZ) -> None:
        seg, c = el.seg, el.seg.centre
        total = _signed_turn(seg, arc_phi(c, seg.start), arc_phi(c, seg.end)) % (2 * math.pi) or 2 * math.pi
        trimmed_start = _signed_turn(seg, arc_phi(c, seg.start), arc_phi(c, start))
        trimmed_end = _signed_turn(seg, arc_phi(c, end), arc_phi(c, seg.end))
        if total - trimmed_start - trimmed_end < -1e-9:
            raise Alarm("PS0041", seg.line, "the compensated arc runs against the programmed one")


def compensate(segments: Sequence[Segment], side: int, radius: float, tip_direction: int) -> List[Segment]:
    """Compensate a whole path: segments[0] is the start-up move, segments[-1] the G40 move."""
    comp = NoseRadiusCompensator(side, radius, tip_direction, segments[0].line if segments else 0)
    out: List[Segment] = []
    for seg in segments[:-1]:
        out += comp.feed(seg)
    return out + comp.cancel(segments[-1]) if len(segments) > 1 else out + comp.feed(segments[0]) + comp.finish()
