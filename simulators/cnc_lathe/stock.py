"""The exact axisymmetric stock: outer and inner radius as exact piecewise LINE/ARC functions of z.

All geometry here is in the default setup's WORK frame, written as points ``(z, r)``: z along the spindle
axis (+ toward the tailstock), r a radius, millimetres.

* ``Piece``: one LINE or ARC over ``[z0, z1]``, a function r(z). Lines store a reference point and a slope
  (clipping never re-rounds them); arcs store centre, radius and branch (-1 lower, +1 upper half). Each
  piece remembers the program line that cut it, the feed (mm/rev) and the nose radius of that pass (Ra).
* Profiles are sorted lists of pieces; a jump between neighbours is a face (a vertical step).
* ``lower_envelope`` = pointwise minimum of two profiles, exact: crossings of lines and arcs are solved
  in closed form. External tools lower the outer profile to the lower envelope of the swept tool. The
  inner profile is stored negated (``-r_in``), so boring tools and drills also *lower* a profile: the
  tools' shapes are mirrored (r -> -r) before sweeping them (see :func:`mirror_shape`).
* Sweeps (exact, no facets): a convex shape of lines and arcs translated along a line is bounded by the
  shape at both ends and the segment traced by its support point (:func:`sweep_line`); translated along
  an arc of radius R it is bounded by the shape at both ends, the arcs traced by its vertices, the
  concentric arcs R±r traced by its arc elements and its edges at the instants the path is parallel to
  them (:func:`sweep_arc`). Every boundary point of the swept region lies on one of those candidates and
  every candidate lies in the region, so the pointwise minimum of the candidates is the exact lower
  envelope: no approximation, hence no error bound beyond floating point.
* Threads do not lower the profile: a thread pass cuts a helical groove, recorded in a
  :class:`ThreadZone` (measure.py probes the helix).
"""
from __future__ import annotations

import itertools
import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

TWO_PI = 2.0 * math.pi
SAME = 1e-9        # mm: a new surface this much lower than the old one removes material
TIE = 1e-12        # mm: a feed pass that meets the old surface within TIE re-cuts it (takes its provenance)
SLIVER = 1e-10     # mm: z intervals narrower than this are folded into a neighbour (a vertical face)


# ----------------------------------------------------------------------------------------------- pieces

class Piece:
    """r(z) over [z0, z1]. LINE: r = b + c (z - a). ARC: centre (a, b), radius c, branch s (-1 lower)."""

    __slots__ = ("a", "arc", "b", "c", "cutting", "feed", "line", "nose", "part", "s", "z0", "z1")

    def __init__(self, z0, z1, arc, a, b, c, s=0, line=0, feed=0.0, nose=0.0, cutting=True, part=""):
        self.z0 = z0
        self.z1 = z1
        self.arc = arc
        self.a = a
        self.b = b
        self.c = c
        self.s = s
        self.line = line          # 1-based program line that cut it (0 = raw stock surface)
        self.feed = feed          # mm/rev of that pass (0 = rapid or unknown)
        self.nose = nose          # nose radius of the cutting point that made it, mm
        self.cutting = cutting    # made by a cutting part of the tool (crash detection)
        self.part = part          # name of the tool part that made it ('' for the raw stock)

    def r(self, z: float) -> float:
        if self.arc:
            u = z - self.a
            return self.b + self.s * math.sqrt(max(0.0, self.c * self.c - u * u))
        return self.b + self.c * (z - self.a)

    def clip(self, z0: float, z1: float) -> Piece:
        return Piece(z0, z1, self.arc, self.a, self.b, self.c, self.s,
                     self.line, self.feed, self.nose, self.cutting, self.part)

    def same_curve(self, other: Piece) -> bool:
        """Same underlying line or circle branch and same provenance (so neighbours can be joined)."""
        if self.arc != other.arc or self.line != other.line or self.cutting != other.cutting or \
                self.part != other.part:
            return False
        if self.feed != other.feed or self.nose != other.nose:
            return False
        if self.arc:
            return (self.s == other.s and abs(self.a - other.a) < 1e-12 and abs(self.b - other.b) < 1e-12
                    and abs(self.c - other.c) < 1e-12)
        return abs(self.c - other.c) < 1e-14 and abs(other.r(self.a) - self.b) < 1e-12

    def max_r(self) -> float:
        top = max(self.r(self.z0), self.r(self.z1))
        if self.arc and self.s > 0 and self.z0 <= self.a <= self.z1:
            top = self.b + self.c
        return top

    def min_r(self) -> float:
        low = min(self.r(self.z0), self.r(self.z1))
        if self.arc and self.s < 0 and self.z0 <= self.a <= self.z1:
            low = self.b - self.c
        return low

    def negated(self) -> Piece:
        """-r(z): lines flip sign, arcs flip centre and branch."""
        if self.arc:
            return Piece(self.z0, self.z1, True, self.a, -self.b, self.c, -self.s,
                         self.line, self.feed, self.nose, self.cutting, self.part)
        return Piece(self.z0, self.z1, False, self.a, -self.b, -self.c, 0,
                     self.line, self.feed, self.nose, self.cutting, self.part)

    def __repr__(self) -> str:
        if self.arc:
            return (f"Arc(z {self.z0:.6g}..{self.z1:.6g}, centre ({self.a:.6g}, {self.b:.6g}), "
                    f"R {self.c:.6g}, {'upper' if self.s > 0 else 'lower'}, line {self.line})")
        return (f"Line(z {self.z0:.6g}..{self.z1:.6g}, r {self.r(self.z0):.6g}..{self.r(self.z1):.6g}, "
                f"line {self.line})")


def line_piece(p: tuple[float, float], q: tuple[float, float], **tags) -> Piece | None:
    """The LINE through points p, q = (z, r) as a function over [min z, max z]; None when vertical."""
    (za, ra), (zb, rb) = (p, q) if p[0] <= q[0] else (q, p)
    if zb - za <= SLIVER:
        return None
    return Piece(za, zb, False, za, ra, (rb - ra) / (zb - za), **tags)


def flat_piece(z0: float, z1: float, r: float, **tags) -> Piece:
    return Piece(z0, z1, False, z0, r, 0.0, **tags)


def value_at(profile: Sequence[Piece], z: float, side: str = "right",
             starts: Sequence[float] | None = None) -> float | None:
    """r(z) of a profile; at a face the value on ``side`` ('left' or 'right'); None outside its domain."""
    piece = piece_at(profile, z, side, starts)
    return None if piece is None else piece.r(z)


def piece_at(profile: Sequence[Piece], z: float, side: str = "right",
             starts: Sequence[float] | None = None) -> Piece | None:
    """The piece of ``profile`` at z (``starts``: the pieces' z0, when the caller keeps them)."""
    if not profile:
        return None
    if starts is None:
        starts = [p.z0 for p in profile]
    i = bisect_right(starts, z) - 1
    if side == "left" and i >= 0 and abs(profile[i].z0 - z) <= 1e-12 and i > 0 and \
            abs(profile[i - 1].z1 - z) <= 1e-12:
        i -= 1
    if i < 0:
        return None
    piece = profile[i]
    if z > piece.z1 + 1e-12:
        return None
    return piece


# ------------------------------------------------------------------------------------------- crossings

def roots_quadratic(qa: float, qb: float, qc: float) -> list[float]:
    if abs(qa) < 1e-300:
        return [] if abs(qb) < 1e-300 else [-qc / qb]
    disc = qb * qb - 4.0 * qa * qc
    if disc < 0.0:
        if disc > -1e-12 * (qb * qb + abs(4.0 * qa * qc)):
            disc = 0.0
        else:
            return []
    root = math.sqrt(disc)
    # numerically stable pair
    t = -0.5 * (qb + math.copysign(root, qb))
    roots = [t / qa]
    if t != 0.0:
        roots.append(qc / t)
    elif root == 0.0:
        pass
    else:
        roots.append(-qb / qa)
    return roots


def crossings(p: Piece, q: Piece, lo: float, hi: float) -> list[float]:
    """z in (lo, hi) where r_p(z) = r_q(z), in closed form."""
    if not p.arc and not q.arc:
        dc = p.c - q.c
        if abs(dc) < 1e-15:
            return []
        # p.b + p.c (z - p.a) = q.b + q.c (z - q.a)
        z = (q.b - q.c * q.a - p.b + p.c * p.a) / dc
        candidates = [z]
    elif p.arc and q.arc:
        candidates = _circle_circle_z(p, q)
    else:
        ln, ar = (p, q) if q.arc else (q, p)
        # u = z - zc; r - rc = e + k u with e = r_line(zc) - rc
        e = ln.r(ar.a) - ar.b
        k = ln.c
        candidates = [ar.a + u for u in roots_quadratic(1.0 + k * k, 2.0 * e * k, e * e - ar.c * ar.c)]
    out = []
    for z in candidates:
        if lo + SLIVER < z < hi - SLIVER and abs(p.r(z) - q.r(z)) <= 1e-7 * (1.0 + abs(p.r(z))):
            out.append(z)
    out.sort()
    return out


def _circle_circle_z(p: Piece, q: Piece) -> list[float]:
    dz, dr = q.a - p.a, q.b - p.b
    d2 = dz * dz + dr * dr
    if d2 < 1e-24:
        return []
    d = math.sqrt(d2)
    if d > p.c + q.c + 1e-12 or d < abs(p.c - q.c) - 1e-12:
        return []
    along = (p.c * p.c - q.c * q.c + d2) / (2.0 * d)
    h = math.sqrt(max(0.0, p.c * p.c - along * along))
    mz, _mr = p.a + along * dz / d, p.b + along * dr / d
    return [mz + h * dr / d, mz - h * dr / d]


# -------------------------------------------------------------------------------------------- envelope

@dataclass
class Removal:
    """Where the new profile replaced the old one: the winning new piece and the greatest depth."""

    piece: Piece
    z0: float
    z1: float
    depth: float


def lower_envelope(old: Sequence[Piece], new: Sequence[Piece],
                   removals: list[Removal] | None = None) -> list[Piece]:
    """Pointwise minimum of two sorted profiles (each may have gaps); ties keep ``old``.

    When ``removals`` is a list, every interval where a ``new`` piece lies lower than ``old`` (old defined)
    is appended to it with the depth of the cut (old - new, sampled at 5 points of the interval).
    """
    if not new:
        return list(old)
    if not old:
        return list(new)
    first, last = _overlap(old, new)
    merged = _merge(old[first:last], new, removals)
    return _tidy(list(old[:first]) + merged + list(old[last:]))


def _overlap(old: Sequence[Piece], new: Sequence[Piece]) -> tuple[int, int]:
    """old[first:last]: the pieces of ``old`` not entirely outside the z range of ``new``."""
    lo, hi = new[0].z0, new[-1].z1
    first, last = 0, len(old)
    while first < last and old[first].z1 <= lo:
        first += 1
    while last > first and old[last - 1].z0 >= hi:
        last -= 1
    return first, last


def removals_below(old: Sequence[Piece], new: Sequence[Piece]) -> list[Removal]:
    """The removals :func:`lower_envelope` would report, without building the envelope (a probe)."""
    removals: list[Removal] = []
    if old and new:
        first, last = _overlap(old, new)
        _merge(old[first:last], new, removals)
    return removals


def _merge(old: Sequence[Piece], new: Sequence[Piece], removals) -> list[Piece]:
    cuts = sorted({p.z0 for p in old} | {p.z1 for p in old} | {p.z0 for p in new} | {p.z1 for p in new})
    out: list[Piece] = []
    sources: list[Piece] = []        # the piece each one of ``out`` was clipped from
    i = j = 0
    n_old, n_new = len(old), len(new)
    for u, v in itertools.pairwise(cuts):
        if v - u <= 0.0:
            continue
        while i < n_old and old[i].z1 <= u:
            i += 1
        while j < n_new and new[j].z1 <= u:
            j += 1
        a = old[i] if i < n_old and old[i].z0 <= u else None
        b = new[j] if j < n_new and new[j].z0 <= u else None
        if a is None and b is None:
            continue
        if a is None or b is None:
            _emit(out, sources, a or b, u, v)
            continue
        edges = [u] + crossings(a, b, u, v) + [v]
        for s, t in itertools.pairwise(edges):
            m = 0.5 * (s + t)
            new_r, old_r = b.r(m), a.r(m)
            if new_r < old_r - SAME:
                _emit(out, sources, b, s, t)
                if removals is not None:
                    depth = max(a.r(z) - b.r(z) for z in (s, s + 0.25 * (t - s), m, t - 0.25 * (t - s), t))
                    removals.append(Removal(b, s, t, depth))
            elif new_r <= old_r + TIE and b.feed > 0.0:
                _emit(out, sources, b, s, t)     # a feed pass over the same surface leaves its own marks
            else:
                _emit(out, sources, a, s, t)
    return out


def _emit(out: list[Piece], sources: list[Piece], piece: Piece, z0: float, z1: float) -> None:
    """Append ``piece`` clipped to [z0, z1], or extend the last one when it continues the same curve (a
    clip of the same piece always does: its curve and provenance are that piece's)."""
    if out:
        prev = out[-1]
        if abs(prev.z1 - z0) <= 1e-12 and (sources[-1] is piece or prev.same_curve(piece)):
            prev.z1 = z1
            return
    out.append(piece.clip(z0, z1))
    sources.append(piece)


def _tidy(profile: list[Piece]) -> list[Piece]:
    """Fold slivers (narrower than SLIVER) into the previous piece and join same-curve neighbours."""
    out: list[Piece] = []
    for piece in profile:
        if piece.z1 - piece.z0 < SLIVER and out and abs(out[-1].z1 - piece.z0) <= 1e-9:
            out[-1] = out[-1].clip(out[-1].z0, piece.z1)
            continue
        if out and abs(out[-1].z1 - piece.z0) <= 1e-12 and out[-1].same_curve(piece):
            out[-1] = out[-1].clip(out[-1].z0, piece.z1)
            continue
        out.append(piece)
    return out


def envelope_of(candidates: Iterable[Sequence[Piece]]) -> list[Piece]:
    """Pointwise minimum of several profiles (each a sorted, non-overlapping list of pieces)."""
    result: list[Piece] = []
    for profile in candidates:
        if profile:
            result = lower_envelope(result, profile) if result else list(profile)
    return result


def layers(pieces: Iterable[Piece]) -> list[list[Piece]]:
    """Split pieces that may overlap in z into few sorted non-overlapping lists (functions of z)."""
    out: list[list[Piece]] = []
    for piece in sorted(pieces, key=lambda p: (p.z0, p.z1)):
        for layer in out:
            if layer[-1].z1 <= piece.z0 + SLIVER:
                layer.append(piece)
                break
        else:
            out.append([piece])
    return out


def clip_below(chain: Sequence[Piece], limit: float) -> list[Piece]:
    """The part of a convex chain lying below ``limit`` (one interval of z)."""
    zs = []
    for piece in chain:
        zs.extend(crossings(piece, flat_piece(piece.z0, piece.z1, limit), piece.z0 - 1.0, piece.z1 + 1.0))
        zs.extend(z for z in (piece.z0, piece.z1) if piece.r(z) <= limit)
    if not zs:
        return []
    lo, hi = min(zs), max(zs)
    return [p.clip(max(p.z0, lo), min(p.z1, hi)) for p in chain if p.z1 > lo and p.z0 < hi]


def upper_bound(profile: Sequence[Piece], lo: float, hi: float) -> float | None:
    """Largest r of the profile over [lo, hi] (None where the profile is not defined there)."""
    best = None
    for piece in profile:
        if piece.z0 > hi:
            break                    # sorted: no later piece reaches back into [lo, hi]
        if piece.z1 < lo:
            continue
        # Piece.max_r of the piece clipped to [lo, hi], without building the clipped piece
        z0, z1 = max(lo, piece.z0), min(hi, piece.z1)
        top = max(piece.r(z0), piece.r(z1))
        if piece.arc and piece.s > 0 and z0 <= piece.a <= z1:
            top = piece.b + piece.c
        best = top if best is None else max(best, top)
    return best


# ---------------------------------------------------------------------------------------------- shapes

@dataclass(frozen=True)
class Element:
    """One boundary element of a convex shape, traversed counter-clockwise in the (z, r) plane.

    LINE: from ``p0`` to ``p1``. ARC: centre ``p0``, radius ``radius``, angles ``t0`` < ``t1`` (CCW).
    ``cutting`` flags the element; ``start_cutting`` flags its start vertex.
    """

    arc: bool
    p0: tuple[float, float]
    p1: tuple[float, float] = (0.0, 0.0)
    radius: float = 0.0
    t0: float = 0.0
    t1: float = 0.0
    cutting: bool = True
    start_cutting: bool = True

    def start(self) -> tuple[float, float]:
        if self.arc:
            return (self.p0[0] + self.radius * math.cos(self.t0), self.p0[1] + self.radius * math.sin(self.t0))
        return self.p0

    def end(self) -> tuple[float, float]:
        if self.arc:
            return (self.p0[0] + self.radius * math.cos(self.t1), self.p0[1] + self.radius * math.sin(self.t1))
        return self.p1

    def normal_angle(self) -> float:
        """Outward normal angle of a LINE (CCW traversal: the tangent turned clockwise)."""
        dz, dr = self.p1[0] - self.p0[0], self.p1[1] - self.p0[1]
        return math.atan2(-dz, dr)


@dataclass(frozen=True)
class Shape:
    """A convex part of a tool in the tool's frame relative to its imaginary tip: (z, r) offsets, mm.

    ``name`` tells crash reports which part touched ('insert', 'holder', 'shank', 'bar', 'body').
    ``beyond_reach`` marks parts whose contact with material means the tool went too deep (the grooving
    holder above the blade's reach, the drill's shank behind the flutes).
    """

    name: str
    elements: tuple[Element, ...]
    beyond_reach: bool = False
    lower_chain: tuple[tuple, ...] = field(default=(), compare=False)

    @property
    def vertices(self) -> list[tuple[tuple[float, float], bool]]:
        return [(e.start(), e.start_cutting) for e in self.elements]

    def bounds(self) -> tuple[float, float, float, float]:
        zs, rs = [], []
        for e in self.elements:
            for z, r in (e.start(), e.end()):
                zs.append(z)
                rs.append(r)
            if e.arc:
                for k in range(-4, 9):
                    t = k * math.pi / 2.0
                    if e.t0 < t < e.t1:
                        zs.append(e.p0[0] + e.radius * math.cos(t))
                        rs.append(e.p0[1] + e.radius * math.sin(t))
        return min(zs), max(zs), min(rs), max(rs)


def polygon_shape(name: str, points: Sequence[tuple[float, float]], cutting_edges: Sequence[bool] = (),
                  cutting_vertices: Sequence[bool] = (), beyond_reach: bool = False) -> Shape:
    """A convex polygon, vertices counter-clockwise; edge k runs from vertex k to vertex k+1."""
    n = len(points)
    edges = [Element(False, tuple(points[k]), tuple(points[(k + 1) % n]),
                     cutting=bool(cutting_edges[k]) if cutting_edges else False,
                     start_cutting=bool(cutting_vertices[k]) if cutting_vertices else False)
             for k in range(n)]
    return finish_shape(Shape(name, tuple(edges), beyond_reach))


def finish_shape(shape: Shape) -> Shape:
    """Check convexity and counter-clockwise order, drop degenerate elements, precompute the lower chain."""
    elements = [e for e in shape.elements if (e.arc and e.t1 - e.t0 > 1e-12) or
                (not e.arc and math.dist(e.p0, e.p1) > 1e-12)]
    for k, e in enumerate(elements):
        nxt = elements[(k + 1) % len(elements)]
        if math.dist(e.end(), nxt.start()) > 1e-9:
            raise ValueError(f"shape {shape.name!r}: element {k} does not meet the next one")
    shape = Shape(shape.name, tuple(elements), shape.beyond_reach)
    object.__setattr__(shape, "lower_chain", tuple(_lower_chain(shape)))
    return shape


def _wrap(angle: float) -> float:
    """Angle in [0, 2π)."""
    a = math.fmod(angle, TWO_PI)
    return a + TWO_PI if a < 0.0 else a


def _lower_chain(shape: Shape) -> list[tuple]:
    """Elements with a downward outward normal (angle in (π, 2π)), left to right, as
    ('L', p0, p1, normal, cutting, start_cutting, end_cutting) or ('A', centre, radius, t0, t1, cutting)."""
    chain = []
    elements = list(shape.elements)
    n = len(elements)
    for k, e in enumerate(elements):
        end_cutting = elements[(k + 1) % n].start_cutting
        if e.arc:
            # angles of the arc mapped so that [π, 2π] is the lower half
            for lo, hi in _angle_pieces(e.t0, e.t1, math.pi, TWO_PI):
                chain.append(("A", e.p0, e.radius, lo, hi, e.cutting))
        else:
            normal = _wrap(e.normal_angle())
            if math.pi + 1e-12 < normal < TWO_PI - 1e-12:
                chain.append(("L", e.p0, e.p1, normal, e.cutting, e.start_cutting, end_cutting))
    # order left to right: by normal angle (monotone on a convex lower chain); collinear pieces of one
    # edge (a cutting part and a rubbing part) share the angle and are ordered by their left end
    chain.sort(key=lambda item: (item[3], _left_z(item)))     # LINE: its normal; ARC: its first angle
    return chain


def _left_z(item: tuple) -> float:
    if item[0] == "L":
        return min(item[1][0], item[2][0])
    _, centre, radius, t0, _t1, _ = item
    return centre[0] + radius * math.cos(t0)


def _angle_pieces(t0: float, t1: float, lo: float, hi: float) -> list[tuple[float, float]]:
    """Parts of the CCW angle interval [t0, t1] that fall in [lo, hi] (mod 2π), in [lo, hi] values."""
    out = []
    for k in range(-2, 3):
        s, e = max(t0 + k * TWO_PI, lo), min(t1 + k * TWO_PI, hi)
        if e - s > 1e-12:
            out.append((s, e))
    out.sort()
    return out


def mirror_shape(shape: Shape) -> Shape:
    """The shape reflected in the axis (r -> -r), still counter-clockwise: used for inner (bore) cuts."""
    mirrored = []
    for e in reversed(shape.elements):
        if e.arc:
            mirrored.append(Element(True, (e.p0[0], -e.p0[1]), radius=e.radius, t0=-e.t1, t1=-e.t0,
                                    cutting=e.cutting))
        else:
            mirrored.append(Element(False, (e.p1[0], -e.p1[1]), (e.p0[0], -e.p0[1]), cutting=e.cutting))
    # start vertex flags: the start of a reversed element is the old end (= old next element's start)
    n = len(shape.elements)
    flags = [shape.elements[(k + 1) % n].start_cutting for k in range(n)]
    out = []
    for idx, e in enumerate(mirrored):
        original = n - 1 - idx
        out.append(Element(e.arc, e.p0, e.p1, e.radius, e.t0, e.t1, e.cutting, flags[original]))
    return finish_shape(Shape(shape.name, tuple(out), shape.beyond_reach))


# ---------------------------------------------------------------------------------------------- sweeps

def chain_at(shape: Shape, origin: tuple[float, float], tags: dict) -> list[Piece]:
    """The lower chain of ``shape`` placed with its tip at ``origin``."""
    oz, orr = origin
    pieces = []
    for item in shape.lower_chain:
        if item[0] == "L":
            _, p0, p1, _, cutting, _, _ = item
            piece = line_piece((p0[0] + oz, p0[1] + orr), (p1[0] + oz, p1[1] + orr), cutting=cutting, **tags)
            if piece is not None:
                pieces.append(piece)
        else:
            _, centre, radius, t0, t1, cutting = item
            pieces.extend(_arc_pieces((centre[0] + oz, centre[1] + orr), radius, t0, t1, cutting, tags))
    return pieces


def _arc_pieces(centre, radius, t0, t1, cutting, tags) -> list[Piece]:
    """The circle arc from angle t0 to t1 (t0 < t1) as function pieces (split at the branch ends)."""
    out = []
    if radius <= 1e-12:
        return out
    k0 = math.floor(t0 / math.pi)
    bounds = [t0] + [k * math.pi for k in range(k0 + 1, math.ceil(t1 / math.pi))] + [t1]
    for s, e in itertools.pairwise(bounds):
        if e - s <= 1e-15:
            continue
        mid = 0.5 * (s + e)
        branch = 1 if math.sin(mid) > 0.0 else -1
        za = centre[0] + radius * math.cos(s)
        zb = centre[0] + radius * math.cos(e)
        lo, hi = min(za, zb), max(za, zb)
        if hi - lo > SLIVER:
            out.append(Piece(lo, hi, True, centre[0], centre[1], radius, branch, cutting=cutting, **tags))
    return out


def sweep_line(shape: Shape, start: tuple[float, float], end: tuple[float, float], tags: dict) -> list[Piece]:
    """Exact lower envelope of ``shape`` translated from tip position ``start`` to ``end`` ((z, r))."""
    dz, dr = end[0] - start[0], end[1] - start[1]
    if abs(dz) <= 1e-13:
        # pure radial move: the lower of the two end positions
        return chain_at(shape, end if dr < 0.0 else start, tags)
    # the lower-side normal angle perpendicular to the move
    psi = _wrap(math.atan2(dr, dz) - math.pi / 2.0)
    if psi < math.pi:
        psi = _wrap(psi + math.pi)
    left, right = (start, end) if dz > 0.0 else (end, start)  # normals below psi come from `left`
    lz, lr = left
    rz, rr = right
    pieces: list[Piece] = []
    support = None
    support_cutting = False
    for item in shape.lower_chain:
        if item[0] == "L":
            _, p0, p1, normal, cutting, c0, c1 = item
            if abs(normal - psi) <= 1e-12:
                # an edge parallel to the move: its band is generated by its leading vertex passing
                lead = (c1 if dz > 0.0 else c0) or cutting
                piece = line_piece((p0[0] + lz, p0[1] + lr), (p1[0] + lz, p1[1] + lr), cutting=lead, **tags)
                support, support_cutting = p1, lead
            elif normal < psi:
                piece = line_piece((p0[0] + lz, p0[1] + lr), (p1[0] + lz, p1[1] + lr), cutting=cutting, **tags)
                support, support_cutting = p1, c1
            else:
                if support is None:
                    support, support_cutting = p0, c0
                piece = line_piece((p0[0] + rz, p0[1] + rr), (p1[0] + rz, p1[1] + rr), cutting=cutting, **tags)
            if piece is not None:
                pieces.append(piece)
        else:
            _, centre, radius, t0, t1, cutting = item
            if t1 <= psi:
                pieces.extend(_arc_pieces((centre[0] + lz, centre[1] + lr), radius, t0, t1, cutting, tags))
                support = (centre[0] + radius * math.cos(t1), centre[1] + radius * math.sin(t1))
                support_cutting = cutting
            elif t0 >= psi:
                if support is None:
                    support = (centre[0] + radius * math.cos(t0), centre[1] + radius * math.sin(t0))
                    support_cutting = cutting
                pieces.extend(_arc_pieces((centre[0] + rz, centre[1] + rr), radius, t0, t1, cutting, tags))
            else:
                pieces.extend(_arc_pieces((centre[0] + lz, centre[1] + lr), radius, t0, psi, cutting, tags))
                support = (centre[0] + radius * math.cos(psi), centre[1] + radius * math.sin(psi))
                support_cutting = cutting
                pieces.extend(_arc_pieces((centre[0] + rz, centre[1] + rr), radius, psi, t1, cutting, tags))
    if support is not None:
        seg = line_piece((support[0] + lz, support[1] + lr), (support[0] + rz, support[1] + rr),
                         cutting=support_cutting, **tags)
        if seg is not None:
            pieces.append(seg)
    pieces.sort(key=lambda p: (p.z0, p.z1))
    return _as_function(pieces)


def _as_function(pieces: list[Piece]) -> list[Piece]:
    """Sorted chain pieces that should tile z; overlaps of floating-point size are trimmed."""
    out: list[Piece] = []
    for piece in pieces:
        if out and piece.z0 < out[-1].z1:
            if piece.z1 <= out[-1].z1 + SLIVER:
                continue
            piece = piece.clip(out[-1].z1, piece.z1)
        out.append(piece)
    return out


def sweep_arc(shape: Shape, centre: tuple[float, float], radius: float, a_start: float, a_end: float,
              ccw: bool, tags: dict) -> list[Piece]:
    """Exact lower envelope of ``shape`` whose tip travels the circle (centre, radius) from angle a_start
    to a_end, counter-clockwise when ``ccw`` (angles in radians, (z, r) plane)."""
    if ccw:
        lo = a_start
        hi = a_end
        while hi <= lo + 1e-15:
            hi += TWO_PI
    else:
        hi = a_start
        lo = a_end
        while lo >= hi - 1e-15:
            lo -= TWO_PI
    cz, cr = centre

    def at(t):
        return (cz + radius * math.cos(t), cr + radius * math.sin(t))

    candidates: list[list[Piece]] = [chain_at(shape, at(a_start), tags), chain_at(shape, at(a_end), tags)]
    # Only points of the lower chain have a downward normal, so only they can bound the sweep from below.
    vertices = {}
    for item in shape.lower_chain:
        if item[0] == "L":
            _, p0, p1, _, _, c0, c1 = item
            for v, flag in ((p0, c0), (p1, c1)):
                key = (round(v[0], 12), round(v[1], 12))
                vertices[key] = (v, vertices.get(key, (v, False))[1] or flag)
        else:
            _, centre_e, rho, t0, t1, cutting = item
            for t in (t0, t1):
                v = (centre_e[0] + rho * math.cos(t), centre_e[1] + rho * math.sin(t))
                key = (round(v[0], 12), round(v[1], 12))
                vertices[key] = (v, vertices.get(key, (v, False))[1] or cutting)
    for v, flag in vertices.values():
        candidates.append(_arc_pieces((cz + v[0], cr + v[1]), radius, lo, hi, flag, tags))
    for item in shape.lower_chain:
        if item[0] == "L":
            _, p0, p1, normal, cutting, c0, c1 = item
            for base in (normal, normal + math.pi):
                for k in range(-3, 4):
                    t = base + k * TWO_PI
                    if lo < t < hi:
                        pz, pr = at(t)
                        piece = line_piece((p0[0] + pz, p0[1] + pr), (p1[0] + pz, p1[1] + pr),
                                           cutting=cutting, **tags)
                        if piece is not None:
                            candidates.append([piece])
        else:
            _, centre_e, rho, t0, t1, cutting = item
            c = (cz + centre_e[0], cr + centre_e[1])
            for s_, e_ in _angle_pieces(t0, t1, lo, hi):
                candidates.append(_arc_pieces(c, radius + rho, s_, e_, cutting, tags))
            for s_, e_ in _angle_pieces(t0 - math.pi, t1 - math.pi, lo, hi):
                if radius > rho:
                    candidates.append(_arc_pieces(c, radius - rho, s_, e_, cutting, tags))
                elif radius < rho:
                    candidates.append(_arc_pieces(c, rho - radius, s_ + math.pi, e_ + math.pi, cutting, tags))
    return envelope_of(layers(piece for candidate in candidates for piece in candidate))


def arc_box(centre, radius, a_start, a_end, ccw) -> tuple[float, float, float, float]:
    """Bounding box (zmin, zmax, rmin, rmax) of a circular arc."""
    pts = [(centre[0] + radius * math.cos(a), centre[1] + radius * math.sin(a)) for a in (a_start, a_end)]
    lo, hi = (a_start, a_end) if ccw else (a_end, a_start)
    while hi <= lo + 1e-15:
        hi += TWO_PI
    for k in range(math.floor(lo / (math.pi / 2)) + 1, math.ceil(hi / (math.pi / 2))):
        t = k * math.pi / 2
        pts.append((centre[0] + radius * math.cos(t), centre[1] + radius * math.sin(t)))
    zs = [p[0] for p in pts]
    rs = [p[1] for p in pts]
    return min(zs), max(zs), min(rs), max(rs)


# ----------------------------------------------------------------------------------------------- stock

@dataclass
class ThreadPass:
    """One thread pass: the tip line in the work frame ((z, r) start and end), its program line, and the
    lower chain of the cutting insert relative to its tip (the groove cross-section one pass cuts)."""

    start: tuple[float, float]
    end: tuple[float, float]
    line: int
    chain: tuple[Piece, ...]       # r above the tip as a function of z - z_tip (a convex function)
    phase_z: float                 # z of the tip when the spindle passed angle 0 (one-rev signal)
    tool: int = 0                  # turret station that cut it

    def tip_r(self, z: float) -> float:
        (z0, r0), (z1, r1) = self.start, self.end
        return r0 if abs(z1 - z0) < 1e-15 else r0 + (r1 - r0) * (z - z0) / (z1 - z0)


@dataclass
class ThreadZone:
    """A helical thread: every pass with the same lead and hand over overlapping z.

    At material angle φ (radians, CCW about +Z) pass k has its tip at
    z = phase_z_k + hand * lead * φ / 2π + n * lead for integer n (hand +1 right-hand, -1 left-hand).
    """

    lead: float
    hand: int
    passes: list[ThreadPass] = field(default_factory=list)

    @property
    def z_range(self) -> tuple[float, float]:
        lo = min(min(p.start[0], p.end[0]) + p.chain[0].z0 for p in self.passes)
        hi = max(max(p.start[0], p.end[0]) + p.chain[-1].z1 for p in self.passes)
        return lo, hi

    def groove_radius(self, phi: float, z: float) -> float:
        """Lowest point of the thread tool at material angle φ and axial position z (inf = untouched)."""
        best = math.inf
        turn = self.hand * self.lead * phi / TWO_PI
        for p in self.passes:
            zlo, zhi = min(p.start[0], p.end[0]), max(p.start[0], p.end[0])
            base = p.phase_z + turn
            reach = max(-p.chain[0].z0, p.chain[-1].z1)
            n = round((z - base) / self.lead)
            span = math.ceil(reach / self.lead) + 1
            for k in range(n - span, n + span + 1):
                zc = base + k * self.lead
                if zc < zlo - 1e-12 or zc > zhi + 1e-12:
                    continue
                u = z - zc
                if u < p.chain[0].z0 or u > p.chain[-1].z1:
                    continue
                height = value_at(p.chain, u)
                if height is not None:
                    best = min(best, p.tip_r(zc) + height)
        return best

    def groove_radius_many(self, phi, z):
        """:meth:`groove_radius` for numpy arrays of angles and z (inf where untouched)."""
        import numpy as np  # here, not at the top: numpy doubles the start-up time of `examctl sim`
        phi = np.asarray(phi, dtype=float)
        z = np.asarray(z, dtype=float)
        best = np.full(z.shape, np.inf)
        turn = self.hand * self.lead * phi / TWO_PI
        for p in self.passes:
            zlo, zhi = min(p.start[0], p.end[0]), max(p.start[0], p.end[0])
            (z0, r0), (z1, r1) = p.start, p.end
            slope = 0.0 if abs(z1 - z0) < 1e-15 else (r1 - r0) / (z1 - z0)
            base = p.phase_z + turn
            reach = max(-p.chain[0].z0, p.chain[-1].z1)
            n = np.round((z - base) / self.lead)
            span = math.ceil(reach / self.lead) + 1
            for k in range(-span, span + 1):
                zc = base + (n + k) * self.lead
                u = z - zc
                ok = (zc >= zlo - 1e-12) & (zc <= zhi + 1e-12)
                for piece in p.chain:
                    mask = ok & (u >= piece.z0) & (u <= piece.z1)
                    if not mask.any():
                        continue
                    uu = u[mask]
                    if piece.arc:
                        h = piece.b + piece.s * np.sqrt(np.maximum(0.0, piece.c * piece.c - (uu - piece.a) ** 2))
                    else:
                        h = piece.b + piece.c * (uu - piece.a)
                    tip = r0 + slope * (zc[mask] - z0)
                    best[mask] = np.minimum(best[mask], tip + h)
        return best


class Stock:
    """Outer profile r_out(z) and inner profile r_in(z) (stored negated) over [z_left, z_right], plus
    thread zones. Material is where r_in(z) < r < r_out(z)."""

    def __init__(self, diameter: float, z_left: float, z_right: float, bore_diameter: float = 0.0):
        if diameter <= 0.0 or z_right <= z_left:
            raise ValueError("stock needs a positive diameter and length")
        if not 0.0 <= bore_diameter < diameter:
            raise ValueError("the stock bore must be smaller than its diameter")
        self.z_left = z_left
        self.z_right = z_right
        self.outer = [flat_piece(z_left, z_right, diameter / 2.0)]
        self.inner_neg = [flat_piece(z_left, z_right, -bore_diameter / 2.0)]
        self.threads: list[ThreadZone] = []

    # profiles are replaced, never edited in place; the pieces' z0 are kept for bisection
    @property
    def outer(self) -> list[Piece]:
        return self._outer

    @outer.setter
    def outer(self, profile: list[Piece]) -> None:
        self._outer = profile
        self._outer_starts = [p.z0 for p in profile]

    @property
    def inner_neg(self) -> list[Piece]:
        return self._inner_neg

    @inner_neg.setter
    def inner_neg(self, profile: list[Piece]) -> None:
        self._inner_neg = profile
        self._inner_starts = [p.z0 for p in profile]

    # -- queries
    def r_out(self, z: float, side: str = "right") -> float | None:
        return value_at(self._outer, z, side, self._outer_starts)

    def r_in(self, z: float, side: str = "right") -> float | None:
        value = value_at(self._inner_neg, z, side, self._inner_starts)
        return None if value is None else max(0.0, -value)

    @property
    def inner(self) -> list[Piece]:
        return [p.negated() for p in self.inner_neg]

    def has_material(self, z: float) -> bool:
        ro, ri = self.r_out(z), self.r_in(z)
        return ro is not None and ri is not None and ro > ri + 1e-9 and ro > 0.0

    def outer_reaches(self, lo: float, hi: float, level: float, tolerance: float) -> bool:
        """``level < upper_bound(outer, lo, hi) + tolerance``, answered by the first piece that shows it:
        the same answer without scanning the whole profile (float addition is monotone, so the highest
        piece passes when any does)."""
        profile = self._outer
        first = bisect_left(self._outer_starts, lo)
        while first > 0 and profile[first - 1].z1 >= lo:
            first -= 1               # pieces are sorted and do not overlap: z1 grows with z0
        for piece in itertools.islice(profile, first, None):
            if piece.z0 > hi:
                break
            if piece.z1 < lo:
                continue
            # Piece.max_r of the piece clipped to [lo, hi], as upper_bound computes it
            z0, z1 = max(lo, piece.z0), min(hi, piece.z1)
            top = max(piece.r(z0), piece.r(z1))
            if piece.arc and piece.s > 0 and z0 <= piece.a <= z1:
                top = piece.b + piece.c
            if level < top + tolerance:
                return True
        return False

    # -- updates
    def cut_outer(self, envelope: Sequence[Piece]) -> list[Removal]:
        """Lower r_out to ``envelope`` (clipped to the stock); returns where material was removed."""
        clipped = _clip_profile(envelope, self.z_left, self.z_right)
        removals: list[Removal] = []
        self.outer = lower_envelope(self.outer, clipped, removals)
        return [r for r in removals if self._material_between(r, outer=True)]

    def cut_inner(self, envelope_neg: Sequence[Piece]) -> list[Removal]:
        """Raise r_in to -``envelope_neg`` (an envelope of mirrored shapes)."""
        clipped = _clip_profile(envelope_neg, self.z_left, self.z_right)
        removals: list[Removal] = []
        self.inner_neg = lower_envelope(self.inner_neg, clipped, removals)
        return [r for r in removals if self._material_between(r, outer=False)]

    def probe_outer(self, envelope: Sequence[Piece]) -> list[Removal]:
        """Where ``envelope`` would cut into material (no change)."""
        removals = removals_below(self.outer, _clip_profile(envelope, self.z_left, self.z_right))
        return [r for r in removals if self._material_between(r, outer=True)]

    def probe_inner(self, envelope_neg: Sequence[Piece]) -> list[Removal]:
        removals = removals_below(self.inner_neg, _clip_profile(envelope_neg, self.z_left, self.z_right))
        return [r for r in removals if self._material_between(r, outer=False)]

    def _material_between(self, removal: Removal, outer: bool) -> bool:
        """Was there material where this removal happened (the other profile not past the cut)?"""
        z = 0.5 * (removal.z0 + removal.z1)
        if outer:
            ri = self.r_in(z)
            old_top = removal.piece.r(z) + removal.depth
            return ri is not None and old_top > ri + 1e-9 and old_top > 1e-9
        ro = self.r_out(z)
        old_bottom = -(removal.piece.r(z) + removal.depth)
        return ro is not None and ro > max(old_bottom, 0.0) + 1e-9

    def add_thread_pass(self, thread_pass: ThreadPass, lead: float, hand: int) -> ThreadZone:
        for zone in self.threads:
            if abs(zone.lead - lead) < 1e-9 and zone.hand == hand:
                lo, hi = zone.z_range
                if min(thread_pass.start[0], thread_pass.end[0]) <= hi and \
                        max(thread_pass.start[0], thread_pass.end[0]) >= lo:
                    zone.passes.append(thread_pass)
                    return zone
        zone = ThreadZone(lead, hand, [thread_pass])
        self.threads.append(zone)
        return zone


def _clip_profile(profile: Sequence[Piece], lo: float, hi: float) -> list[Piece]:
    out = []
    for p in profile:
        a, b = max(p.z0, lo), min(p.z1, hi)
        if b - a > SLIVER:
            out.append(p if (a == p.z0 and b == p.z1) else p.clip(a, b))
    return out
