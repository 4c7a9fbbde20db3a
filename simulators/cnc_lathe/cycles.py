"""FANUC 0i-TF lathe canned cycles (G-code system A) as pure functions that return tool paths.

Every function works in *work* coordinates with x as a RADIUS (mm) and returns a list of
:class:`~simulators.cnc_lathe.path.Segment` that starts and ends at the cycle's start point. Moves the
cycle invents carry the cycle block's ``line``; moves along the ns..nf finishing shape carry the
shape block's own line. ``Segment.feed`` is ``None`` (use the modal F of the cycle block) except in
G70, which keeps the F the shape blocks gave.

Units the interpreter must pass (all mm, never diameters, never least-input increments):

* Every X-type value is a radius: end x, allowances ``Δu/2`` (the program writes Δu as a diameter:
  halve it), the taper R of G90/G92/G76 (the program already writes it as a radius: do NOT halve),
  the first-block ``U(Δd)`` of G71 and ``U(Δi)`` of G73 (radius in the program: do NOT halve).
* P/Q words written without a decimal point in least input increments (G74/G75 ``P Q``, G76 ``Q``,
  ``P(k)``) arrive converted to mm: ``Q400`` -> 0.4.

Alarms are raised as :class:`~simulators.core.alarms.Alarm` with the line of the block at fault.
A shape that does not chain (segment i+1 does not start where segment i ends, or the first one does
not start at the cycle start point) is a caller bug and raises ``ValueError``.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable, List, Optional, Sequence, Tuple

from simulators.cnc_lathe.path import XZ, Segment
from simulators.core.alarms import Alarm

EPS = 1e-7        # mm: coordinates come from 1 µm inputs, so anything below this is rounding
ANGLE_EPS = 1e-9  # rad
THREAD_TIP_ANGLES = (0, 29, 30, 55, 60, 80)  # degrees allowed in G76 P(m)(r)(a)

Path = List[Segment]


# --------------------------------------------------------------------------------------------
# Small geometry helpers on (first, second) coordinate pairs. In the work frame the pair is
# (x, z); "clockwise" is seen with the second coordinate to the right and the first one up, which
# is FANUC's G02 seen from +Y (Z right, X up).
# --------------------------------------------------------------------------------------------

def _same(p: XZ, q: XZ, tol: float = EPS) -> bool:
    return abs(p[0] - q[0]) <= tol and abs(p[1] - q[1]) <= tol


def arc_phi(centre: XZ, point: XZ) -> float:
    """Polar angle (rad) of ``point`` about ``centre``: 0 along +second axis, +pi/2 along +first."""
    return math.atan2(point[0] - centre[0], point[1] - centre[1])


def arc_radius(seg: Segment) -> float:
    return math.hypot(seg.start[0] - seg.centre[0], seg.start[1] - seg.centre[1])


def arc_sweep(seg: Segment) -> float:
    """Angle (rad, > 0) the arc turns through in its own direction; a closed arc counts 2*pi."""
    phi0, phi1 = arc_phi(seg.centre, seg.start), arc_phi(seg.centre, seg.end)
    turn = (phi0 - phi1) if seg.clockwise else (phi1 - phi0)
    turn %= 2 * math.pi
    return turn if turn > ANGLE_EPS else 2 * math.pi


def arc_point(seg: Segment, travelled: float) -> XZ:
    """Point reached after turning ``travelled`` rad from the arc's start in its direction."""
    phi = arc_phi(seg.centre, seg.start) + (-travelled if seg.clockwise else travelled)
    r = arc_radius(seg)
    return (seg.centre[0] + r * math.sin(phi), seg.centre[1] + r * math.cos(phi))


def _travel_to_angle(seg: Segment, phi: float) -> float:
    """How far (rad, in [0, 2pi)) the arc turns from its start to reach polar angle ``phi``."""
    phi0 = arc_phi(seg.centre, seg.start)
    return ((phi0 - phi) if seg.clockwise else (phi - phi0)) % (2 * math.pi)


def _interior_angles(seg: Segment, candidates: Sequence[float]) -> List[float]:
    """Travel values of the candidate polar angles that lie strictly inside the arc."""
    sweep = arc_sweep(seg)
    out = []
    for phi in candidates:
        s = _travel_to_angle(seg, phi)
        if ANGLE_EPS < s < sweep - ANGLE_EPS:
            out.append(s)
    return sorted(out)


def _extremum_angles(axis: int) -> Tuple[float, float]:
    # first coordinate = c + r sin(phi): extreme at +-pi/2; second = c + r cos(phi): at 0 and pi
    return (math.pi / 2, -math.pi / 2) if axis == 0 else (0.0, math.pi)


def segment_range(seg: Segment, axis: int) -> Tuple[float, float]:
    """(min, max) of coordinate ``axis`` (0 = first, 1 = second) over the segment, arcs exact."""
    values = [seg.start[axis], seg.end[axis]]
    if seg.kind == "arc":
        values += [arc_point(seg, s)[axis] for s in _interior_angles(seg, _extremum_angles(axis))]
    return min(values), max(values)


def _is_monotone(seg: Segment, axis: int, sign: int) -> bool:
    """True when coordinate ``axis`` never moves against ``sign`` along the segment."""
    if sign * (seg.end[axis] - seg.start[axis]) < -EPS:
        return False
    if seg.kind == "arc" and _interior_angles(seg, _extremum_angles(axis)):
        return False
    return True


def _split(seg: Segment, level: float, axis: int) -> List[Segment]:
    """Cut ``seg`` where coordinate ``axis`` equals ``level``; pieces keep kind, line and feed."""
    if seg.kind == "arc":
        r = arc_radius(seg)
        offset = level - seg.centre[axis]
        if abs(offset) >= r:
            return [seg]
        if axis == 0:
            base = math.asin(offset / r)
            phis = (base, math.pi - base)
        else:
            base = math.acos(offset / r)
            phis = (base, -base)
        cuts = _interior_angles(seg, phis)
        points = [arc_point(seg, s) for s in cuts]
    else:
        d0, d1 = seg.start[axis] - level, seg.end[axis] - level
        if d0 * d1 >= 0 or abs(d0) <= EPS or abs(d1) <= EPS:
            return [seg]
        t = d0 / (d0 - d1)
        points = [(seg.start[0] + t * (seg.end[0] - seg.start[0]),
                   seg.start[1] + t * (seg.end[1] - seg.start[1]))]
    pieces, start = [], seg.start
    for p in points + [seg.end]:
        if not _same(start, p):
            pieces.append(replace(seg, start=start, end=p))
        start = p
    return pieces or [seg]


def _midpoint(seg: Segment) -> XZ:
    if seg.kind == "arc":
        return arc_point(seg, arc_sweep(seg) / 2)
    return ((seg.start[0] + seg.end[0]) / 2, (seg.start[1] + seg.end[1]) / 2)


def _map(seg: Segment, f: Callable[[XZ], XZ], mirrored: bool) -> Segment:
    """Apply an isometry ``f`` to a segment; ``mirrored`` when f reverses orientation."""
    return replace(seg, start=f(seg.start), end=f(seg.end),
                   centre=f(seg.centre) if seg.centre is not None else None,
                   clockwise=(seg.clockwise != mirrored) if seg.kind == "arc" else seg.clockwise)


def _translate(seg: Segment, dx: float, dz: float) -> Segment:
    return _map(seg, lambda p: (p[0] + dx, p[1] + dz), False)


def _move(kind: str, start: XZ, end: XZ, line: int, path: Path, lead: float = 0.0) -> XZ:
    """Append a straight move unless it has no length; return where the tool now is."""
    if _same(start, end):
        return start
    path.append(Segment(kind, start, end, line, lead=lead))
    return end


def _attach(path: Path, p: XZ, seg: Segment) -> XZ:
    """Append a shape piece starting where the tool is (absorbing sub-EPS rounding); return its end."""
    path.append(seg if seg.start == p else replace(seg, start=p))
    return seg.end


def _sign(v: float) -> int:
    return 0 if abs(v) <= EPS else (1 if v > 0 else -1)


# --------------------------------------------------------------------------------------------
# Shape checks shared by G70-G73
# --------------------------------------------------------------------------------------------

def _check_shape(start: XZ, shape: Sequence[Segment], line: int) -> None:
    if not shape:
        raise Alarm("PS0061", line, "empty ns..nf shape")
    if not _same(shape[0].start, start, 1e-6):
        raise ValueError(f"shape starts at {shape[0].start}, not at the cycle start point {start}")
    for prev, seg in zip(shape, shape[1:]):
        if not _same(prev.end, seg.start, 1e-6):
            raise ValueError(f"shape is not a chain at line {seg.line}: {prev.end} -> {seg.start}")
    if shape[0].kind not in ("rapid", "feed"):
        raise Alarm("PS0065", shape[0].line, "the first shape block (ns) must be G00 or G01")
    for seg in shape:
        if seg.kind == "thread":
            raise Alarm("PS0066", seg.line, "thread cutting is not allowed in the ns..nf shape")


# --------------------------------------------------------------------------------------------
# Single cycles G90, G94, G92
# --------------------------------------------------------------------------------------------

def g90(start: XZ, end: XZ, taper: float, line: int) -> Path:
    """G90 OD/ID cutting cycle (straight, or taper with ``R``).

    start: tool position when the cycle block runs (A); end: (X/2, Z) of the block; taper: R, the
    radius at the cut's start Z minus the radius at its end (signed, radius, as programmed).
    Path: rapid in X to the cut start, feed to the end point, feed out in X to A's radius, rapid
    back to A.
    """
    (xa, za), (x, z) = start, end
    path: Path = []
    p = _move("rapid", start, (x + taper, za), line, path)
    p = _move("feed", p, (x, z), line, path)
    p = _move("feed", p, (xa, z), line, path)
    _move("rapid", p, start, line, path)
    return path


def g94(start: XZ, end: XZ, taper: float, line: int) -> Path:
    """G94 face cutting cycle (straight, or taper with ``R``).

    taper: R, the Z at the cut's start (A's radius) minus the end Z (signed, mm). Path: rapid in Z,
    feed to the end point, feed back in Z to A's Z, rapid back to A.
    """
    (xa, za), (x, z) = start, end
    path: Path = []
    p = _move("rapid", start, (xa, z + taper), line, path)
    p = _move("feed", p, (x, z), line, path)
    p = _move("feed", p, (x, za), line, path)
    _move("rapid", p, start, line, path)
    return path


def _thread_pass(path: Path, p: XZ, cut_start: XZ, cut_end: XZ, x_out: float, lead: float,
                 chamfer: float, line: int) -> XZ:
    """Rapid to ``cut_start``, thread to ``cut_end`` (with a 45 degree pull-out ``chamfer`` mm
    long in Z when > 0), rapid out to radius ``x_out``; return the position reached."""
    p = _move("rapid", p, cut_start, line, path)
    length = cut_end[1] - cut_start[1]
    if chamfer > EPS:
        if chamfer >= abs(length) - EPS:
            raise Alarm("PS0062", line, "thread chamfer is longer than the thread")
        t = 1 - chamfer / abs(length)
        knee = (cut_start[0] + t * (cut_end[0] - cut_start[0]), cut_end[1] - math.copysign(chamfer, length))
        p = _move("thread", p, knee, line, path, lead)
        outward = _sign(x_out - cut_end[0]) or 1
        p = _move("thread", p, (knee[0] + outward * chamfer, cut_end[1]), line, path, lead)
    else:
        p = _move("thread", p, cut_end, line, path, lead)
    return _move("rapid", p, (x_out, p[1]), line, path)


def g92(start: XZ, end: XZ, taper: float, lead: float, line: int, chamfer_tenths: int = 0) -> Path:
    """G92 thread cutting cycle.

    taper: R (radius difference start-end, as programmed); lead: F, mm per revolution along Z.
    chamfer_tenths: thread pull-out in 0.1 x lead (parameter 5130 on the control); 0, our default,
    is a straight pull-out: the tool leaves the thread in X at the end Z. With a chamfer the tool
    pulls out at 45 degrees over the last ``chamfer_tenths*0.1*lead`` mm, still threading.
    Path: rapid in X, thread, (pull-out), rapid out in X to A's radius, rapid back in Z to A.
    """
    if lead <= 0:
        raise Alarm("PS0011", line, "thread lead F must be positive")
    (xa, za), (x, z) = start, end
    path: Path = []
    p = _thread_pass(path, start, (x + taper, za), (x, z), xa, lead, chamfer_tenths * 0.1 * lead, line)
    _move("rapid", p, start, line, path)
    return path


# --------------------------------------------------------------------------------------------
# G71 / G72 stock removal
# --------------------------------------------------------------------------------------------

def g71(start: XZ, shape: Sequence[Segment], depth: float, retract: float,
        allowance_x: float, allowance_z: float, line: int,
        type_ii: Optional[bool] = None) -> Path:
    """G71 stock removal in turning (roughing parallel to Z), type I and type II.

    start: the cycle start point A (tool position at the second G71 block).
    shape: the ns..nf blocks resolved from A as absolute Segments (lines/arcs); shape[0] is the ns
      block's move from A to A' (must be G00/G01: its kind is also the infeed mode of every pass).
    depth: Δd from ``G71 U(Δd) R(e)``, radius mm as programmed (do not halve). retract: e, mm.
    allowance_x: Δu/2 (radius, signed as programmed: negative for bores); allowance_z: Δw (signed).
    type_ii: True when the ns block specified both X(U) and Z(W) (the interpreter knows the
      words); None infers it from the geometry (ns moves in both axes).

    The roughing shape is the finishing shape translated by (Δu/2, Δw). Passes step Δd from A's
    radius while above the shape's lowest point; each cuts along Z at its level and, where the shape
    rises above the level (type II pockets), along the shape; it ends where the shape rises for the
    last time, retracts in rapid at 45 degrees by e (straight out by e where that would cut into a
    type II pocket wall), returns in rapid to A's Z above everything it
    passed, and infeeds to the next level. A last pass follows the translated shape (leaving Δu/2,
    Δw) and the tool returns to A in rapid.
    Alarms: PS0061 empty shape, PS0062 Δd <= 0 or e < 0, PS0065 first block not G00/G01 or
    not moving X, PS0064 shape not monotonic in Z (both types) or in X (type I), PS0066 thread in
    the shape.
    """
    return _stock_removal(start, shape, depth, retract, allowance_x, allowance_z, line, type_ii, facing=False)


def g72(start: XZ, shape: Sequence[Segment], depth: float, retract: float,
        allowance_x: float, allowance_z: float, line: int,
        type_ii: Optional[bool] = None) -> Path:
    """G72 stock removal in facing (roughing parallel to X): G71 with the axes' roles swapped.

    depth: Δd from ``G72 W(Δd) R(e)`` (mm in Z). The ns block must move Z (type I: Z only).
    Other arguments and alarms as :func:`g71`.
    """
    return _stock_removal(start, shape, depth, retract, allowance_x, allowance_z, line, type_ii, facing=True)


def _stock_removal(start: XZ, shape: Sequence[Segment], depth: float, retract: float,
                   allowance_x: float, allowance_z: float, line: int,
                   type_ii: Optional[bool], facing: bool) -> Path:
    _check_shape(start, shape, line)
    if depth <= EPS:
        raise Alarm("PS0062", line, "depth of cut must be positive")
    if retract < 0:
        raise Alarm("PS0062", line, "retract amount must not be negative")
    level_axis, cut_axis = (1, 0) if facing else (0, 1)
    ns, last = shape[0], shape[-1]
    s_level = _sign(start[level_axis] - ns.end[level_axis])
    s_cut = _sign(start[cut_axis] - last.end[cut_axis])
    if s_level == 0:
        raise Alarm("PS0065", ns.line, "the ns block must move " + ("Z" if facing else "X"))
    if s_cut == 0:
        raise Alarm("PS0062", line, "the shape does not extend along " + ("X" if facing else "Z"))
    if type_ii is None:
        type_ii = abs(ns.end[cut_axis] - ns.start[cut_axis]) > EPS

    # Normalised frame (a, b): A at the origin, levels at a < 0 stepping down, cuts toward b < 0.
    def to_norm(p: XZ) -> XZ:
        return (s_level * (p[level_axis] - start[level_axis]), s_cut * (p[cut_axis] - start[cut_axis]))

    def from_norm(q: XZ) -> XZ:
        real = [0.0, 0.0]
        real[level_axis] = start[level_axis] + s_level * q[0]
        real[cut_axis] = start[cut_axis] + s_cut * q[1]
        return (real[0], real[1])

    mirrored = ((s_level < 0) + (s_cut < 0) + facing) % 2 == 1
    rough = [_map(replace(_translate(seg, allowance_x, allowance_z), feed=None), to_norm, mirrored)
             for seg in shape]
    approach_kind, profile = ns.kind, rough[1:]
    _check_monotone(profile, type_ii)
    moves = _rough_levels(rough[0].end, profile, depth, retract, approach_kind, line)
    back = [_map(seg, from_norm, mirrored) for seg in moves]
    return back


def _check_monotone(profile: Sequence[Segment], type_ii: bool) -> None:
    for seg in profile:
        if not _is_monotone(seg, 1, -1):
            raise Alarm("PS0064", seg.line, "the finishing shape must be monotonic along the cutting axis")
        if not type_ii and not _is_monotone(seg, 0, +1):
            raise Alarm("PS0064", seg.line, "type I shape must be monotonic in the depth axis (use type II)")


def _profile_top(profile: Sequence[Segment], b_from: float) -> float:
    """Highest level-axis value of the profile over cutting positions b >= b_from (normalised)."""
    top = -math.inf
    for seg in profile:
        if segment_range(seg, 1)[1] < b_from - EPS:
            continue
        for piece in _split(seg, b_from, 1):
            if segment_range(piece, 1)[1] >= b_from - EPS:
                top = max(top, segment_range(piece, 0)[1])
    return top


def _level_pass(profile: Sequence[Segment], level: float, b_start: float, line: int) -> Path:
    """Feed moves at ``level`` from b=0, riding over the profile where it rises above the level,
    ending where the profile rises above the level for the last time (normalised frame)."""
    pieces: List[Tuple[Segment, bool]] = []
    for seg in profile:
        for piece in _split(seg, level, 0):
            pieces.append((piece, _midpoint(piece)[0] > level + EPS))
    last_free = max((i for i, (_, above) in enumerate(pieces) if not above), default=-1)
    path: Path = []
    p = (level, 0.0)
    run_end = min(b_start, 0.0)          # before the shape starts the level is free
    for piece, above in pieces[:last_free + 1]:
        if above:
            if abs(p[0] - level) <= EPS:                    # finish the run along the level first
                p = _move("feed", p, (level, run_end), line, path)
            p = _move("feed", p, piece.start, line, path)   # up a wall the profile starts with
            p = _attach(path, p, piece)
            run_end = p[1]
        else:
            run_end = min(run_end, piece.end[1])
    _move("feed", p, (level, run_end), line, path)
    return path


def _diagonal_is_clear(profile: Sequence[Segment], p: XZ, retract: float) -> bool:
    """True when the 45 degree retract from ``p`` (normalised: +e in a and b) stays above the profile.

    In type I it always does (the shape is below the level toward A). In a type II pocket whose wall
    toward A is steeper than 45 degrees it would cut into the shape: the tool then retracts straight
    out instead."""
    lo, hi = p[1], p[1] + retract
    for seg in profile:
        seg_lo, seg_hi = segment_range(seg, 1)
        if seg_hi < lo + EPS or seg_lo > hi - EPS:
            continue
        pieces = [q for piece in _split(seg, lo, 1) for q in _split(piece, hi, 1)]
        for piece in pieces:
            b_mid = _midpoint(piece)[1]
            if not lo - EPS <= b_mid <= hi + EPS:
                continue
            values = [piece.start, piece.end]
            if piece.kind == "arc":
                values += [arc_point(piece, t) for t in _interior_angles(piece, (3 * math.pi / 4,))]
            if any(a - (b - lo) > p[0] + EPS for a, b in values):
                return False
    return True


def _rough_levels(shape_start: XZ, profile: Sequence[Segment], depth: float, retract: float,
                  approach_kind: str, line: int) -> Path:
    """All passes in the normalised frame, from A=(0,0) back to A."""
    bottom = min([shape_start[0]] + [segment_range(s, 0)[0] for s in profile])
    path: Path = []
    p = (0.0, 0.0)
    i = 1
    while -i * depth > bottom + EPS:
        level = -i * depth
        p = _move(approach_kind, p, (level, 0.0), line, path)
        cut = _level_pass(profile, level, shape_start[1], line)
        path += cut
        if cut:
            p = cut[-1].end
        back = retract if _diagonal_is_clear(profile, p, retract) else 0.0
        p = _move("rapid", p, (p[0] + retract, p[1] + back), line, path)
        height = max(p[0], _profile_top(profile, p[1]) + retract)
        p = _move("rapid", p, (height, p[1]), line, path)
        p = _move("rapid", p, (height, 0.0), line, path)
        i += 1
    # last pass along the translated shape
    p = _move(approach_kind, p, shape_start, line, path)
    for seg in profile:
        if seg.kind == "arc" or not _same(seg.start, seg.end):
            p = _attach(path, p, seg)
    height = max(p[0], _profile_top(profile, p[1]))
    p = _move("rapid", p, (height, p[1]), line, path)
    _move("rapid", p, (0.0, 0.0), line, path)
    return path


# --------------------------------------------------------------------------------------------
# G73 pattern repeating, G70 finishing
# --------------------------------------------------------------------------------------------

def g73(start: XZ, shape: Sequence[Segment], relief_x: float, relief_z: float, divisions: int,
        allowance_x: float, allowance_z: float, line: int) -> Path:
    """G73 pattern repeating (closed-loop cutting).

    relief_x: Δi from ``G73 U(Δi) W(Δk) R(d)``, radius mm, signed as programmed (do not halve);
    relief_z: Δk (mm, signed); divisions: d, the number of passes (>= 1, else PS0062);
    allowance_x: Δu/2 (radius, signed); allowance_z: Δw.
    Pass k (1..d) follows the shape translated by (Δu/2 + Δi*(d-k)/(d-1), Δw + Δk*(d-k)/(d-1)),
    so the first pass is Δi, Δk outside the last one and the last one leaves Δu/2, Δw; with d = 1
    the only pass leaves Δu/2, Δw. Each pass starts from A with the ns block's mode (G00/G01) to
    the translated A', follows the translated shape at feed and returns to A in rapid.
    """
    _check_shape(start, shape, line)
    if divisions < 1:
        raise Alarm("PS0062", line, "number of divisions R must be at least 1")
    path: Path = []
    p = start
    for k in range(1, divisions + 1):
        share = (divisions - k) / (divisions - 1) if divisions > 1 else 0.0
        dx, dz = allowance_x + relief_x * share, allowance_z + relief_z * share
        moved = [replace(_translate(seg, dx, dz), feed=None) for seg in shape]
        p = _move(shape[0].kind, p, moved[0].end, line, path)
        for seg in moved[1:]:
            p = _attach(path, p, seg)
        p = _move("rapid", p, start, line, path)
    return path


def g70(start: XZ, shape: Sequence[Segment], line: int) -> Path:
    """G70 finishing: the ns..nf shape as programmed (each segment keeps its kind, line and the F
    its block gave in ``Segment.feed``), then a rapid return to the start point A."""
    _check_shape(start, shape, line)
    path: Path = [seg for seg in shape if not _same(seg.start, seg.end) or seg.kind == "arc"]
    _move("rapid", shape[-1].end, start, line, path)
    return path


# --------------------------------------------------------------------------------------------
# G74 face peck drilling / grooving, G75 OD grooving
# --------------------------------------------------------------------------------------------

def g74(start: XZ, end: XZ, peck: float, shift: float, relief: float, retract: float, line: int) -> Path:
    """G74 end-face peck drilling / face grooving.

    ``G74 R(e); G74 X(U) Z(W) P(Δi) Q(Δk) R(Δd) F;`` end: (X/2, Z), X = A's radius when omitted;
    peck: Δk, Z depth per peck (mm > 0); shift: Δi, X step between grooves (radius mm > 0);
    relief: Δd, escape at the bottom (mm >= 0, away from the direction of the X steps; signed when
    X is not moved); retract: e, back-off after each peck (mm).
    Each groove: feed Δk, rapid back e, feed Δk+e, ... to Z; relieve Δd (feed); rapid back to A's Z;
    rapid step Δi in X. Finally rapid back to A.
    """
    return _peck_cycle(start, end, peck, shift, relief, retract, line, peck_axis=1)


def g75(start: XZ, end: XZ, peck: float, shift: float, relief: float, retract: float, line: int) -> Path:
    """G75 outer/inner diameter grooving: :func:`g74` with the axes swapped.

    ``G75 R(e); G75 X(U) Z(W) P(Δi) Q(Δk) R(Δd) F;`` peck: Δi, X depth per peck (radius mm > 0);
    shift: Δk, Z step between grooves (mm > 0); relief: Δd, escape in Z at the bottom.
    """
    return _peck_cycle(start, end, peck, shift, relief, retract, line, peck_axis=0)


def _peck_cycle(start: XZ, end: XZ, peck: float, shift: float, relief: float, retract: float,
                line: int, peck_axis: int) -> Path:
    step_axis = 1 - peck_axis
    dp = _sign(end[peck_axis] - start[peck_axis])
    ds = _sign(end[step_axis] - start[step_axis])
    if dp and peck <= EPS:
        raise Alarm("PS0062", line, "peck depth must be positive")
    if ds and shift <= EPS:
        raise Alarm("PS0062", line, "step between grooves must be positive")
    if retract < 0 or (ds and relief < 0):
        raise Alarm("PS0062", line, "retract and relief amounts must not be negative")
    relief_dir = -ds if ds else (1 if relief >= 0 else -1)

    def at(p_val: float, s_val: float) -> XZ:
        q = [0.0, 0.0]
        q[peck_axis], q[step_axis] = p_val, s_val
        return (q[0], q[1])

    columns = [start[step_axis]]
    if ds:
        j = 1
        while ds * (start[step_axis] + ds * j * shift - end[step_axis]) < -EPS:
            columns.append(start[step_axis] + ds * j * shift)
            j += 1
        columns.append(end[step_axis])
    path: Path = []
    p = start
    for s_val in columns:
        p = _move("rapid", p, at(start[peck_axis], s_val), line, path)
        reached = start[peck_axis]
        while dp and dp * (end[peck_axis] - reached) > EPS:
            target = reached + dp * peck
            if dp * (target - end[peck_axis]) > 0:
                target = end[peck_axis]
            p = _move("feed", p, at(target, s_val), line, path)
            reached = target
            if dp * (end[peck_axis] - reached) > EPS:
                p = _move("rapid", p, at(reached - dp * retract, s_val), line, path)
        p = _move("feed", p, at(reached, s_val + relief_dir * abs(relief)), line, path)
        p = _move("rapid", p, at(start[peck_axis], p[step_axis]), line, path)
    _move("rapid", p, start, line, path)
    return path


# --------------------------------------------------------------------------------------------
# G76 multiple thread cutting
# --------------------------------------------------------------------------------------------

def split_g76_p(p: int) -> Tuple[int, int, int]:
    """Split the first block's packed ``P(m)(r)(a)`` (e.g. P010060 -> read as 10060) into
    (m finishing passes, r chamfer in 0.1 x lead, a tip angle in degrees)."""
    p = int(p)
    return p // 10000, (p // 100) % 100, p % 100


def g76_depths(height: float, first_depth: float, min_depth: float, finish_allowance: float,
               finish_passes: int) -> List[float]:
    """Cumulative infeed depths (radius mm from the crest) of all G76 passes, finishing included.

    Roughing pass n goes to Δd*sqrt(n); when that step would be smaller than Δdmin the step is
    Δdmin; the roughing stops at k - d; then m finishing passes at k (the first removes d, the
    others are spring passes at the same depth).
    """
    rough_limit = height - finish_allowance
    depths: List[float] = []
    done, n = 0.0, 1
    while done < rough_limit - EPS:
        nxt = max(first_depth * math.sqrt(n), done + min_depth)
        done = min(nxt, rough_limit)
        depths.append(done)
        n += 1
    return depths + [height] * finish_passes


def g76(start: XZ, end: XZ, taper: float, height: float, first_depth: float, min_depth: float,
        finish_allowance: float, finish_passes: int, chamfer_tenths: int, tip_angle: int,
        lead: float, line: int) -> Path:
    """G76 multiple thread cutting cycle (two-block form), single-flank infeed, constant area.

    ``G76 P(m)(r)(a) Q(Δdmin) R(d); G76 X(U) Z(W) R(i) P(k) Q(Δd) F(L);``
    end: (X/2, Z), X being the root diameter (minor for OD, major for ID threads); taper: i,
    radius difference start-end; height: k (radius mm, P975 -> 0.975); first_depth: Δd (mm);
    min_depth: Δdmin (mm); finish_allowance: d (mm); finish_passes: m (1..99); chamfer_tenths: r
    (00..99, pull-out in 0.1 x lead); tip_angle: a (0, 29, 30, 55, 60, 80); lead: L (mm).

    Pass at depth D (see :func:`g76_depths`) cuts with the tip at radius ``X/2 +- (k - D)`` (the
    sign points to A) shifted along Z toward A by ``(k - D) * tan(a/2)``, so the tip moves in along
    one flank and only the leading edge cuts. Each pass: rapid to its start, thread (with the
    pull-out), rapid out in X to A's radius, rapid back to A.
    Alarms: PS0062 for k <= 0, Δd <= 0, d > k (nothing left to rough), a not allowed, m not in
    1..99; PS0011 lead <= 0.
    """
    if lead <= 0:
        raise Alarm("PS0011", line, "thread lead F must be positive")
    if height <= EPS or first_depth <= EPS:
        raise Alarm("PS0062", line, "thread height P(k) and first depth Q(Δd) must be positive")
    if finish_allowance < 0 or finish_allowance > height - EPS or min_depth < 0:
        raise Alarm("PS0062", line, "finishing allowance R(d) must be in [0, k)")
    if tip_angle not in THREAD_TIP_ANGLES:
        raise Alarm("PS0062", line, f"tool tip angle {tip_angle} is not one of {THREAD_TIP_ANGLES}")
    if not 1 <= finish_passes <= 99:
        raise Alarm("PS0062", line, "finishing passes m must be 01..99")
    (xa, za), (x, z) = start, end
    towards_a_x = _sign(xa - x) or 1
    towards_a_z = _sign(za - z) or 1
    half_angle = math.radians(tip_angle) / 2
    chamfer = chamfer_tenths * 0.1 * lead
    path: Path = []
    p = start
    for depth in g76_depths(height, first_depth, min_depth, finish_allowance, finish_passes):
        left = height - depth
        x_end = x + towards_a_x * left
        dz = towards_a_z * left * math.tan(half_angle)
        p = _thread_pass(path, p, (x_end + taper, za + dz), (x_end, z + dz), xa, lead, chamfer, line)
        p = _move("rapid", p, start, line, path)
    return path
