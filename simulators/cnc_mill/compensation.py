"""Cutter-radius compensation G41/G42 for the FANUC 0i-MF mill, exact on lines, arcs and helices.

The programmed path is the part contour; the tool centre must run at distance r (the D value) from
it, on the left of the direction of travel for G41 and on the right for G42, seen from the + end of
the axis normal to the active plane (G17: from +Z). Only the plane coordinates are offset; the
normal-axis coordinate (Z in G17) of every block moves as programmed, so helical arcs and ramps stay
helical. A negative D value swaps G41 and G42, as on the control.

Corners between two offset elements (FANUC's type C compensation):

* inside (concave) corner: the offset lines/arcs are intersected exactly (PS0033 when they do not meet);
* outside corner turning by at most 90 degrees: the tangents of the two offset elements at their ends
  are extended to their intersection, so a rectangle gives a sharp-cornered rectangle;
* outside corner turning by more than 90 degrees: the centre goes r beyond the end of the first element
  along its tangent, straight to r before the start of the second one, then on (two extra vectors).

These are the control's standard (linear) outside-corner connections; the 0i-MF can insert an arc
around outside corners instead, but only when the machine builder sets a parameter, so the default
machine does not, and neither do we: the extended corners are what the candidate's machine cuts.

Start-up and cancel (type A, FANUC's default): the start-up block (the first move in the plane after
G41/G42) ends with the centre perpendicular to the START of the next block; the cancel block (G40 move)
starts perpendicular to the END of the previous block and ends at its programmed (uncompensated) point.
Both must be G00/G01: an arc raises PS0034.

Interference check (PS0041): a compensated line that runs against its programmed direction, a
compensated arc trimmed past its own ends (e.g. a step or slot narrower than the cutter diameter), and
an inside arc whose radius is not larger than r.

Moves with no motion in the plane (Z-only plunges and retracts in G17) do not break the look-ahead: the
corner is computed between the plane moves before and after them, and they are made at the point where
the next offset element starts (after the corner's connecting moves). Zero-length moves are ignored.

G41 <-> G42 without G40 (:meth:`CutterCompensator.set_side`): the junction goes to the crossing of the
old and new offset paths, or straight from one to the other when they do not cross.

A plane change while compensating raises PS0037 (:meth:`CutterCompensator.check_plane`, and any segment
fed in another plane). A D change (:meth:`CutterCompensator.set_radius`) takes effect from the next block
fed: the corner vectors at that junction use the old r on the first element and the new r on the second.

Mirror image: the interpreter feeds segments after its transforms; when an odd number of axes of the
plane are mirrored it must swap G41/G42 itself (the control does the same).

Use: the interpreter creates one :class:`CutterCompensator` when G41/G42 becomes active, feeds it every
move in program coordinates (:meth:`feed`; the first move in the plane is the start-up), passes the G40
block's move to :meth:`cancel`, or calls :meth:`finish` when compensation ends without a move (program
end, a G41 <-> G42 switch); each call returns the compensated segments that are final so far (it holds
back the last plane move and the Z-only moves after it: the next plane move decides their corner).
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace

from simulators.cnc_mill.path import (
    UV,
    Segment,
    from_plane,
    normal_coordinate,
    plane_point,
)
from simulators.core import geometry as g
from simulators.core.alarms import Alarm

EPS = 1e-7  # mm
LEFT, RIGHT = 41, 42
PLANES = ("G17", "G18", "G19")


def effective_side(side: int, radius: float) -> int:
    """A negative D value swaps the side (G41 <-> G42)."""
    if radius >= 0:
        return side
    return RIGHT if side == LEFT else LEFT


@dataclass
class _Element:
    """A programmed move with motion in the plane, and its offset geometry (tool-centre path)."""

    seg: Segment
    side: int
    radius: float

    def __post_init__(self) -> None:
        plane = self.seg.plane
        self.a, self.b = plane_point(self.seg.start, plane), plane_point(self.seg.end, plane)
        self.c = plane_point(self.seg.centre, plane) if self.is_arc else None
        if self.is_arc and g.dist(self.c, self.a) <= EPS:
            raise Alarm("PS0023", self.seg.line, "arc of zero radius")

    @property
    def is_arc(self) -> bool:
        return self.seg.kind == "arc"

    def tangent(self, at_end: bool) -> UV:
        """Unit direction of travel at the element's start (or end)."""
        if not self.is_arc:
            return g.unit(g.sub(self.b, self.a))
        return g.arc_tangent(self.c, self.b if at_end else self.a, self.seg.clockwise)

    def normal(self, t: UV) -> UV:
        """Unit normal pointing to the tool's side of a travel direction ``t``."""
        n = g.left_normal(t)
        return n if self.side == LEFT else (-n[0], -n[1])

    def offset_point(self, at_end: bool) -> UV:
        return g.add(self.b if at_end else self.a, self.normal(self.tangent(at_end)), self.radius)

    def programmed_radius(self, at_end: bool = False) -> float:
        """Radius at the start (or end): they may differ by the arc tolerance (parameter 3410)."""
        return g.dist(self.c, self.b if at_end else self.a)

    def offset_radius(self, at_end: bool = False) -> float:
        """Radius of the tool-centre arc at the start (or end); PS0041 when the cutter does not fit an
        inside arc."""
        r = self.programmed_radius(at_end)
        towards_centre = self.seg.clockwise == (self.side == RIGHT)
        rho = r - self.radius if towards_centre else r + self.radius
        if rho <= EPS:
            raise Alarm("PS0041", self.seg.line,
                        f"inside arc R{r:.3f} is not larger than the cutter radius {self.radius:.3f}")
        return rho

    def intersect(self, following: _Element) -> list[UV]:
        """Intersections of this offset element and the one that follows it, taken as full lines and
        circles (each arc with its radius at the junction: its end here, the following one's start)."""
        if not self.is_arc and not following.is_arc:
            return g.line_line(self.offset_point(False), self.tangent(False),
                               following.offset_point(False), following.tangent(False))
        if not self.is_arc:
            return g.line_circle(self.offset_point(False), self.tangent(False), following.c,
                                 following.offset_radius(False))
        if not following.is_arc:
            return g.line_circle(following.offset_point(False), following.tangent(False), self.c,
                                 self.offset_radius(True))
        return g.circle_circle(self.c, self.offset_radius(True), following.c, following.offset_radius(False))


def _corner(first: _Element, second: _Element) -> list[UV]:
    """Tool-centre points at the junction of two elements: the first is where ``first`` ends, the last
    where ``second`` starts; consecutive points are joined by straight connecting moves."""
    t1, t2 = first.tangent(True), second.tangent(False)
    q1, q2 = first.offset_point(True), second.offset_point(False)
    turn = g.cross(t1, t2)
    straight = abs(turn) <= 1e-12
    if g.dist(q1, q2) <= EPS:
        return [q1]
    if first.side != second.side:
        return _side_switch(first, second, q1, q2)
    if straight and g.dot(t1, t2) > 0:                 # tangent continuation, r changed by a new D
        return [q1, q2]
    concave = not straight and (turn > 0) == (first.side == LEFT)
    if concave:
        points = first.intersect(second)
        if not points:
            raise Alarm("PS0033", second.seg.line, "the offset paths of the two blocks do not meet")
        return [min(points, key=lambda p: g.dist(p, first.b))]
    ends: list[UV] = []
    if not straight and g.dot(t1, t2) >= -1e-12:       # outside corner turning by at most 90 degrees
        ends = g.line_line(q1, t1, q2, t2)
    if not ends:                                       # sharper: two extra vectors of length r
        ends = [g.add(q1, t1, first.radius), g.add(q2, t2, -second.radius)]
    return ([q1] if first.is_arc else []) + ends + ([q2] if second.is_arc else [])


def _side_switch(first: _Element, second: _Element, q1: UV, q2: UV) -> list[UV]:
    """G41 <-> G42 without G40: the centre goes to where the two offset paths cross (the crossing nearest
    the programmed junction); when they do not cross, from beside the end of the first element straight
    to beside the start of the second."""
    points = first.intersect(second)
    if not points:
        return [q1, q2]
    return [min(points, key=lambda p: g.dist(p, first.b))]


class CutterCompensator:
    """Streaming G41/G42: programmed segments in, tool-centre segments out (same program coordinates).

    side: 41 (G41) or 42 (G42); radius: the D value in mm (negative swaps the side); plane: the plane
    active when G41/G42 was commanded; line: the block that activated it (for alarms).
    """

    def __init__(self, side: int, radius: float, plane: str = "G17", line: int = 0):
        if side not in (LEFT, RIGHT):
            raise ValueError("side must be 41 (G41) or 42 (G42)")
        if plane not in PLANES:
            raise ValueError(f"unknown plane {plane!r}")
        self.side, self.plane = side, plane
        self.radius = radius
        self._pending: _Element | None = None     # last plane move, not yet emitted
        self._pending_start: UV = (0.0, 0.0)         # its tool-centre start point
        self._between: list[Segment] = []            # moves without plane motion held after it
        self._startup = True                         # the pending element is the start-up block
        self.closed = False

    # -- public API ------------------------------------------------------------------------------

    def copy(self) -> CutterCompensator:
        """An independent copy (the interpreter runs each block on a copy of its state). Held elements and
        segments are never modified once made, so only the list of held moves needs its own copy; this is
        what ``copy.deepcopy`` gives, at a small fraction of its cost."""
        clone = object.__new__(CutterCompensator)
        clone.__dict__.update(self.__dict__)
        clone._between = list(self._between)
        return clone

    def check_plane(self, plane: str, line: int) -> None:
        """PS0037 when the program selects another plane while compensating."""
        if plane != self.plane:
            raise Alarm("PS0037", line, f"{plane} commanded while G{self.side} is active in {self.plane}")

    def set_radius(self, radius: float) -> None:
        """A new D value: it applies to the moves fed from now on."""
        self.radius = radius

    def set_side(self, side: int) -> None:
        """G41 <-> G42 without G40: the moves fed from now on are offset to the new side; the junction goes
        to the crossing of the old and new offset paths (the control's behaviour, no cancel/start-up)."""
        if side not in (LEFT, RIGHT):
            raise ValueError("side must be 41 (G41) or 42 (G42)")
        self.side = side

    @property
    def holding(self) -> bool:
        """True while a move is held back (the next feed/cancel/finish will emit it)."""
        return self._pending is not None

    def feed(self, seg: Segment) -> list[Segment]:
        """Take the next programmed move; return the compensated segments now final."""
        self._check_open()
        self.check_plane(seg.plane, seg.line)
        if not self._moves_in_plane(seg):
            if abs(normal_coordinate(seg.end, self.plane) - normal_coordinate(seg.start, self.plane)) <= EPS:
                return []                                   # no motion at all
            if self._pending is None:
                return [seg]                                # no offset vector yet: move as programmed
            self._between.append(seg)
            return []
        nxt = self._element(seg)
        if self._pending is None:
            if seg.kind == "arc":
                raise Alarm("PS0034", seg.line, "cutter compensation cannot start in a G02/G03 block")
            self._pending, self._pending_start, self._startup = nxt, nxt.a, True
            return []
        if nxt.is_arc:                                      # alarm early for a cutter too big for the arc
            nxt.offset_radius(False)
            nxt.offset_radius(True)
        points = [nxt.offset_point(False)] if self._startup else _corner(self._pending, nxt)
        out = self._emit(points)
        self._pending, self._pending_start, self._startup = nxt, points[-1], False
        return out

    def cancel(self, seg: Segment) -> list[Segment]:
        """Take the G40 block's move: flush what is held, then move from the last tool-centre point to
        the block's programmed end point."""
        self._check_open()
        if seg.kind == "arc":
            raise Alarm("PS0034", seg.line, "cutter compensation cannot be cancelled in a G02/G03 block")
        out = self.finish()
        start = out[-1].end if out else seg.start
        if max(abs(a - b) for a, b in zip(start, seg.end)) > EPS:
            out.append(replace(seg, start=start, end=seg.end))
        return out

    def finish(self) -> list[Segment]:
        """End compensation without a cancel move: the held move ends with the centre perpendicular
        to its end point (Z-only moves held after it are made there)."""
        self._check_open()
        self.closed = True
        if self._pending is None:
            return []
        return self._emit([self._pending.offset_point(True)])

    # -- internals -------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("this compensator was cancelled; start a new one")

    def _moves_in_plane(self, seg: Segment) -> bool:
        if seg.kind == "arc":
            return True
        a, b = plane_point(seg.start, self.plane), plane_point(seg.end, self.plane)
        return g.dist(a, b) > EPS

    def _element(self, seg: Segment) -> _Element:
        return _Element(seg, effective_side(self.side, self.radius), abs(self.radius))

    def _at(self, uv: UV, seg: Segment, at_end: bool) -> tuple:
        return from_plane(uv, normal_coordinate(seg.end if at_end else seg.start, self.plane), self.plane)

    def _emit(self, corner: Sequence[UV]) -> list[Segment]:
        """Emit the pending element from its start to corner[0], the connecting moves along the corner,
        then the held Z-only moves at corner[-1]."""
        el, start, end = self._pending, self._pending_start, corner[0]
        out: list[Segment] = []
        first = replace(el.seg, start=self._at(start, el.seg, False), end=self._at(end, el.seg, True))
        if el.is_arc:
            if self._remaining_sweep(el, start, end) > g.ANGLE_EPS:
                out.append(first)
        else:
            if not self._startup and g.dot(g.sub(end, start), g.sub(el.b, el.a)) < -EPS:
                raise Alarm("PS0041", el.seg.line, "the compensated move runs against the programmed one")
            if g.dist(start, end) > EPS or self._startup:
                out.append(first)
        kind = "feed" if el.is_arc else el.seg.kind
        for a, b in itertools.pairwise(corner):
            if g.dist(a, b) > EPS:
                out.append(replace(el.seg, kind=kind, start=self._at(a, el.seg, True),
                                   end=self._at(b, el.seg, True), centre=None, clockwise=False))
        for seg in self._between:
            out.append(replace(seg, start=self._at(corner[-1], seg, False), end=self._at(corner[-1], seg, True)))
        self._between = []
        return [s for s in out if s.kind == "arc" or max(abs(p - q) for p, q in zip(s.start, s.end)) > EPS]

    @staticmethod
    def _remaining_sweep(el: _Element, start: UV, end: UV) -> float:
        """The angle the compensated arc still turns through after trimming; PS0041 when negative."""
        cw, c = el.seg.clockwise, el.c
        total = g.arc_sweep(c, el.a, el.b, cw)
        trimmed_start = g.signed_turn(cw, g.angle(c, el.a), g.angle(c, start))
        trimmed_end = g.signed_turn(cw, g.angle(c, end), g.angle(c, el.b))
        remaining = total - trimmed_start - trimmed_end
        if remaining < -1e-9:
            raise Alarm("PS0041", el.seg.line, "the compensated arc runs against the programmed one")
        return remaining


def compensate(segments: Sequence[Segment], side: int, radius: float, plane: str = "G17") -> list[Segment]:
    """Compensate a whole path: segments[0] is the start-up move, segments[-1] the G40 move."""
    if not segments:
        return []
    comp = CutterCompensator(side, radius, plane, segments[0].line)
    out: list[Segment] = []
    for seg in segments[:-1]:
        out += comp.feed(seg)
    if len(segments) == 1:
        return out + comp.feed(segments[0]) + comp.finish()
    return out + comp.cancel(segments[-1])
