"""The exact stock model: the raw stock minus a union of analytic swept volumes, one list per move.

Everything here is in the default setup's WORK frame (G54 of the default setup), millimetres, with the
tool TIP as the path point.

Why a height field is exact
---------------------------
Each cutting envelope (:mod:`simulators.cnc_mill.tools`) is upward closed, so the volume a move sweeps
is upward closed as well: it is exactly ``{(x, y, z): z >= b(x, y)}`` for its *bottom function* ``b``
(+inf where the tool never passes). The part is therefore

    ``{(x, y) in footprint, bottom0(x, y) < z < min(top0(x, y), min_i b_i(x, y))}``

and every question (display cell, probe, crash) reduces to evaluating the ``b_i`` analytically. No grid
is involved; the display heightmap samples the same functions at its cell centres.

Bottom functions (``bottom``), per piece of the envelope:

* horizontal or vertical line, horizontal G17 arc: ``z_low + h_inv(dist(p, path))``, closed form;
* sloped line, flat piece: the lowest tip height whose disc covers ``p`` (a quadratic in ``t``);
* sloped line, ball piece: the lower surface of the capsule of its centre, closed form;
* sloped line, cone or bull piece: ``min_t z(t) + h_inv(|p - c(t)|)`` by golden section on that convex
  function, 64 steps, so the bracket is 0.618^64 ≈ 4e-14 of the move: far below 1e-9 mm;
* helical G17 arc, flat pieces: the lowest point of the arc whose disc covers ``p``, closed form;
* helical arc with other pieces: split into chords ``δ = ρ (1 - cos(Δθ / 2)) ≤ 0.4 µm`` from the helix;
  the chord sweep is then within 0.4 µm (Hausdorff) of the true sweep.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .tools import Piece

TWO_PI = 2.0 * math.pi
CHORD_ERROR = 0.4e-3      # mm, largest distance of a helix chord from the helix
GOLDEN_STEPS = 64
INV_PHI = (math.sqrt(5.0) - 1.0) / 2.0

Point3 = tuple[float, float, float]


@dataclass(frozen=True, slots=True)   # slots: a long session keeps thousands
class Sweep:
    """The volume removed by one cutting envelope along one path, with its provenance.

    ``kind`` is ``line`` (``start`` to ``end``) or ``arc`` (G17: centre ``centre``, radius ``radius``,
    start angle ``theta0`` and signed sweep ``span`` in radians, CCW positive, ``|span| <= 2π``; z runs
    linearly from ``start`` to ``end``, so a helix when they differ). ``box`` is ``(x0, x1, y0, y1,
    z_low)``: the xy bounding box of the swept envelope and its lowest point.
    """

    kind: str
    start: Point3
    end: Point3
    pieces: tuple[Piece, ...]
    centre: tuple[float, float] = (0.0, 0.0)
    radius: float = 0.0
    theta0: float = 0.0
    span: float = 0.0
    line: int = 0
    tool: int = 0
    feed: float = 0.0          # mm/min
    rpm: float = 0.0
    box: tuple[float, float, float, float, float] = field(default=(0.0, 0.0, 0.0, 0.0, 0.0), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "box", self._box())

    @property
    def reach(self) -> float:
        return max(p.a for p in self.pieces)

    @property
    def z_low(self) -> float:
        return min(self.start[2], self.end[2])

    @property
    def horizontal(self) -> bool:
        return abs(self.end[2] - self.start[2]) <= 1e-12

    @property
    def vertical(self) -> bool:
        return self.kind == "line" and math.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1]) <= 1e-12

    def _box(self) -> tuple[float, float, float, float, float]:
        r = self.reach
        if self.kind == "line":
            xs, ys = (self.start[0], self.end[0]), (self.start[1], self.end[1])
        else:
            xs, ys = arc_extent(self.centre, self.radius, self.theta0, self.span)
        low = self.z_low + min(p.bottom for p in self.pieces)
        return (min(xs) - r, max(xs) + r, min(ys) - r, max(ys) + r, low)

    def arc_point(self, u: float) -> tuple[float, float]:
        theta = self.theta0 + u * self.span
        return (self.centre[0] + self.radius * math.cos(theta), self.centre[1] + self.radius * math.sin(theta))


def arc_extent(centre, radius: float, theta0: float, span: float):
    """x and y values whose min/max bound a G17 arc: its ends and the quadrant points it passes."""
    xs = [centre[0] + radius * math.cos(theta0), centre[0] + radius * math.cos(theta0 + span)]
    ys = [centre[1] + radius * math.sin(theta0), centre[1] + radius * math.sin(theta0 + span)]
    lo, hi = (theta0, theta0 + span) if span >= 0 else (theta0 + span, theta0)
    k = math.ceil(lo / (math.pi / 2.0))
    while k * math.pi / 2.0 <= hi:
        angle = k * math.pi / 2.0
        xs.append(centre[0] + radius * math.cos(angle))
        ys.append(centre[1] + radius * math.sin(angle))
        k += 1
    return xs, ys


# ----------------------------------------------------------------------------------------- building

# arc planes: (first axis, second axis, third axis); a positive rotation (G03) turns the first toward
# the second: G17 X→Y about +Z, G18 Z→X about +Y, G19 Y→Z about +X
PLANES = {"xy": (0, 1, 2), "zx": (2, 0, 1), "yz": (1, 2, 0)}


def make_sweeps(kind: str, start: Point3, end: Point3, pieces: tuple[Piece, ...],
                centre: Sequence[float] | None = None, clockwise: bool = False, plane: str = "xy",
                **tags) -> list[Sweep]:
    """Sweeps for one straight (``kind='line'``) or arc (``kind='arc'``) move of the tool tip.

    An arc runs at the start radius to the end angle; when the end point is off that circle (within the
    control's radius tolerance) a short line finishes the move, as the lathe model does. G17 arcs
    (``plane='xy'``) are exact sweeps; G18/G19 arcs are split into chords within ``CHORD_ERROR``.
    """
    start = tuple(float(v) for v in start)
    end = tuple(float(v) for v in end)
    if kind != "arc" or centre is None:
        return [Sweep("line", start, end, pieces, **tags)]
    if plane != "xy":
        return _plane_arc_chords(start, end, tuple(float(v) for v in centre), clockwise, plane, pieces, tags)
    cx, cy = float(centre[0]), float(centre[1])
    radius = math.hypot(start[0] - cx, start[1] - cy)
    if radius <= 1e-9:
        return [Sweep("line", start, end, pieces, **tags)]
    theta0 = math.atan2(start[1] - cy, start[0] - cx)
    theta1 = math.atan2(end[1] - cy, end[0] - cx)
    full = math.hypot(end[0] - start[0], end[1] - start[1]) <= 1e-9
    if clockwise:
        span = -TWO_PI if full else -((theta0 - theta1) % TWO_PI)
    else:
        span = TWO_PI if full else (theta1 - theta0) % TWO_PI
    ax = cx + radius * math.cos(theta0 + span)
    ay = cy + radius * math.sin(theta0 + span)
    arc_end = (ax, ay, end[2])
    helical = abs(end[2] - start[2]) > 1e-12
    if helical and not all(p.is_flat for p in pieces):
        out = _helix_chords(start, arc_end, (cx, cy), radius, theta0, span, pieces, tags)
    else:
        out = [Sweep("arc", start, arc_end, pieces, (cx, cy), radius, theta0, span, **tags)]
    if math.hypot(arc_end[0] - end[0], arc_end[1] - end[1]) > 1e-9:
        out.append(Sweep("line", arc_end, end, pieces, **tags))
    return out


def _plane_arc_chords(start, end, centre, clockwise, plane, pieces, tags) -> list[Sweep]:
    """A G18/G19 arc (helical along the plane's normal) as chords, each within CHORD_ERROR of it."""
    i, j, k = PLANES[plane]
    radius = math.hypot(start[i] - centre[i], start[j] - centre[j])
    if radius <= 1e-9:
        return [Sweep("line", start, end, pieces, **tags)]
    a0 = math.atan2(start[j] - centre[j], start[i] - centre[i])
    a1 = math.atan2(end[j] - centre[j], end[i] - centre[i])
    full = math.hypot(end[i] - start[i], end[j] - start[j]) <= 1e-9
    if clockwise:
        span = -TWO_PI if full else -((a0 - a1) % TWO_PI)
    else:
        span = TWO_PI if full else (a1 - a0) % TWO_PI
    n = chord_count(radius, span)
    points = []
    for step in range(n + 1):
        u = step / n
        p = [0.0, 0.0, 0.0]
        p[i] = centre[i] + radius * math.cos(a0 + u * span)
        p[j] = centre[j] + radius * math.sin(a0 + u * span)
        p[k] = start[k] + u * (end[k] - start[k])
        points.append(tuple(p))
    out = [Sweep("line", points[q], points[q + 1], pieces, **tags) for q in range(n)]
    if math.dist(points[-1], end) > 1e-9:
        out.append(Sweep("line", points[-1], end, pieces, **tags))
    return out


def chord_count(radius: float, span: float, error: float = CHORD_ERROR) -> int:
    """Chords needed so that each stays within ``error`` of the circle: sagitta ρ(1 - cos(Δθ/2))."""
    if radius <= error:
        return 1
    step = 2.0 * math.acos(1.0 - error / radius)
    return max(1, math.ceil(abs(span) / step))


def _helix_chords(start, end, centre, radius, theta0, span, pieces, tags) -> list[Sweep]:
    n = chord_count(radius, span)
    points = []
    for i in range(n + 1):
        u = i / n
        theta = theta0 + u * span
        points.append((centre[0] + radius * math.cos(theta), centre[1] + radius * math.sin(theta),
                       start[2] + u * (end[2] - start[2])))
    points[-1] = end
    return [Sweep("line", points[i], points[i + 1], pieces, **tags) for i in range(n)]


# ------------------------------------------------------------------------------------ bottom function

def bottom(sweep: Sweep, x: np.ndarray, y: np.ndarray, pieces: tuple[Piece, ...] | None = None) -> np.ndarray:
    """Lowest point of the swept volume above each (x, y) (arrays broadcast together); +inf off it.

    ``pieces`` replaces the sweep's own envelope (the crash checks sweep the shank and holder along
    the same path)."""
    pieces = pieces or sweep.pieces
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if (sweep.horizontal or sweep.vertical) and sweep.kind == "line":
        if len(pieces) == 1 and pieces[0].is_flat:      # the common case: no square root needed
            d2 = segment_distance2(sweep.start, sweep.end, x, y)
            d2 = np.broadcast_to(d2, np.broadcast_shapes(x.shape, y.shape))
            return np.where(d2 <= pieces[0].a ** 2, sweep.z_low + pieces[0].h0, np.inf)
        d = segment_distance(sweep.start, sweep.end, x, y)
        return sweep.z_low + _h_inv(pieces, np.broadcast_to(d, np.broadcast_shapes(x.shape, y.shape)))
    x, y = np.broadcast_arrays(x, y)
    if sweep.kind == "arc":
        if sweep.horizontal:
            d = arc_distance(sweep, x, y)
            return sweep.start[2] + _h_inv(pieces, d)
        return _helix_flat(sweep, x, y, pieces)
    if sweep.horizontal or sweep.vertical:
        d = segment_distance(sweep.start, sweep.end, x, y)
        return sweep.z_low + _h_inv(pieces, d)
    out = np.full(x.shape, np.inf)
    for piece in pieces:
        out = np.minimum(out, _sloped_piece(sweep, piece, x, y))
    return out


def _h_inv(pieces: tuple[Piece, ...], d: np.ndarray) -> np.ndarray:
    out = pieces[0].h_inv(d)
    for piece in pieces[1:]:
        out = np.minimum(out, piece.h_inv(d))
    return out


def segment_distance(a: Sequence[float], b: Sequence[float], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Distance in xy from each point to the segment a–b."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    px, py = x - a[0], y - a[1]
    length2 = dx * dx + dy * dy
    if length2 <= 1e-24:
        return np.hypot(px, py)
    return np.sqrt(segment_distance2(a, b, x, y))


def segment_distance2(a: Sequence[float], b: Sequence[float], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Squared distance in xy from each point to the segment a–b (as :func:`segment_distance`)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    px, py = x - a[0], y - a[1]
    length2 = dx * dx + dy * dy
    if length2 <= 1e-24:
        return px * px + py * py
    if dy == 0.0:       # along X: on an open grid this is 1-D work and one 2-D sum
        ex = px - np.clip(px, min(0.0, dx), max(0.0, dx))
        return ex * ex + py * py
    if dx == 0.0:
        ey = py - np.clip(py, min(0.0, dy), max(0.0, dy))
        return px * px + ey * ey
    t = np.clip((px * dx + py * dy) / length2, 0.0, 1.0)
    ex, ey = px - t * dx, py - t * dy
    return ex * ex + ey * ey


def arc_param(sweep: Sweep, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Angle from the arc start to each point's direction, measured along the arc's sense, in [0, 2π)."""
    ang = np.arctan2(y - sweep.centre[1], x - sweep.centre[0])
    sense = 1.0 if sweep.span >= 0 else -1.0
    return np.mod(sense * (ang - sweep.theta0), TWO_PI)


def arc_distance(sweep: Sweep, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Distance in xy from each point to the G17 arc."""
    r = np.hypot(x - sweep.centre[0], y - sweep.centre[1])
    on_arc = arc_param(sweep, x, y) <= abs(sweep.span) + 1e-15
    sx, sy = sweep.arc_point(0.0)
    ex, ey = sweep.arc_point(1.0)
    ends = np.minimum(np.hypot(x - sx, y - sy), np.hypot(x - ex, y - ey))
    return np.where(on_arc, np.abs(r - sweep.radius), ends)


def _chord_interval(sweep: Sweep, a: float, x: np.ndarray, y: np.ndarray):
    """Parameters t (arrays) between which the disc of radius a, centred on the xy path, covers p."""
    (x0, y0, _), (x1, y1, _) = sweep.start, sweep.end
    dx, dy = x1 - x0, y1 - y0
    aa = dx * dx + dy * dy
    px, py = x - x0, y - y0
    bb = px * dx + py * dy
    cc = px * px + py * py - a * a
    disc = bb * bb - aa * cc
    root = np.sqrt(np.maximum(disc, 0.0))
    lo = np.maximum((bb - root) / aa, 0.0)
    hi = np.minimum((bb + root) / aa, 1.0)
    ok = (disc >= 0.0) & (lo <= hi)
    return lo, hi, ok


def _sloped_piece(sweep: Sweep, piece: Piece, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    z0, dz = sweep.start[2], sweep.end[2] - sweep.start[2]
    if piece.is_flat:
        lo, hi, ok = _chord_interval(sweep, piece.a, x, y)
        t = hi if dz < 0 else lo
        return np.where(ok, z0 + t * dz + piece.h0, np.inf)
    if piece.kind == "ball":
        flat = Piece("cone", piece.a, piece.h0, r0=piece.a)
        return np.minimum(_capsule_bottom(sweep, piece, x, y), _sloped_piece(sweep, flat, x, y))
    return _golden_bottom(sweep, piece, x, y)


def _capsule_bottom(sweep: Sweep, piece: Piece, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Lower surface of the capsule swept by the ball's sphere (centre path start → end, radius a)."""
    (x0, y0, z0), (x1, y1, z1) = sweep.start, sweep.end
    z0, z1 = z0 + piece.h0, z1 + piece.h0
    a = piece.a
    d = np.array([x1 - x0, y1 - y0, z1 - z0])
    length = float(np.linalg.norm(d))
    ux, uy, uz = d / length
    wx, wy = x - x0, y - y0
    wu = wx * ux + wy * uy
    qa = 1.0 - uz * uz
    qb = uz * wu
    qc = wx * wx + wy * wy - wu * wu - a * a
    disc = qb * qb - qa * qc
    zc = (qb - np.sqrt(np.maximum(disc, 0.0))) / qa
    t = (wx * d[0] + wy * d[1] + zc * d[2]) / (length * length)
    cyl = np.where((disc >= 0.0) & (t >= 0.0) & (t <= 1.0), z0 + zc, np.inf)
    caps = [np.where(r2 <= a * a, zc_ - np.sqrt(np.maximum(a * a - r2, 0.0)), np.inf)
            for r2, zc_ in (((x - x0) ** 2 + (y - y0) ** 2, z0), ((x - x1) ** 2 + (y - y1) ** 2, z1))]
    return np.minimum(cyl, np.minimum(caps[0], caps[1]))


def _golden_bottom(sweep: Sweep, piece: Piece, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """min over t of z(t) + h_inv(|p - c(t)|), convex in t, by golden section inside the feasible t."""
    lo, hi, ok = _chord_interval(sweep, piece.a, x, y)
    (x0, y0, z0), (x1, y1, z1) = sweep.start, sweep.end

    def f(t):
        d = np.hypot(x - (x0 + t * (x1 - x0)), y - (y0 + t * (y1 - y0)))
        return z0 + t * (z1 - z0) + piece.h_inv(np.minimum(d, piece.a))

    a, b = np.where(ok, lo, 0.0), np.where(ok, hi, 0.0)
    c = b - INV_PHI * (b - a)
    d = a + INV_PHI * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(GOLDEN_STEPS):
        left = fc <= fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        c_new = b - INV_PHI * (b - a)
        d_new = a + INV_PHI * (b - a)
        c, d = c_new, d_new
        fc, fd = f(c), f(d)
    best = np.minimum(np.minimum(fc, fd), np.minimum(f(a), f(b)))
    return np.where(ok, best, np.inf)


def _helix_flat(sweep: Sweep, x: np.ndarray, y: np.ndarray, pieces: tuple[Piece, ...]) -> np.ndarray:
    """Flat pieces along a G17 helix: the lowest arc point (z linear in the arc angle) whose disc of
    radius a covers p. The covering angles form one window around p's direction; intersect it with the
    arc (three 2π shifts) and take its end in the descending direction."""
    out = np.full(x.shape, np.inf)
    px, py = x - sweep.centre[0], y - sweep.centre[1]
    dist = np.hypot(px, py)
    rho, length = sweep.radius, abs(sweep.span)
    psi = arc_param(sweep, x, y)
    z0, dz = sweep.start[2], sweep.end[2] - sweep.start[2]
    for piece in pieces:
        a = piece.a
        with np.errstate(divide="ignore", invalid="ignore"):
            cosk = (dist * dist + rho * rho - a * a) / (2.0 * rho * np.maximum(dist, 1e-300))
        everywhere = (cosk <= -1.0) | ((dist <= 1e-12) & (rho <= a))
        half = np.arccos(np.clip(cosk, -1.0, 1.0))
        found = np.zeros(x.shape, dtype=bool)
        best = np.full(x.shape, np.nan)
        for shift in (-TWO_PI, 0.0, TWO_PI):
            w_lo, w_hi = psi - half + shift, psi + half + shift
            hit = (w_lo <= length) & (w_hi >= 0.0) & (cosk <= 1.0)
            cand = np.minimum(w_hi, length) if dz < 0 else np.maximum(w_lo, 0.0)
            better = hit & (~found | ((cand > best) if dz < 0 else (cand < best)))
            best = np.where(better, cand, best)
            found |= hit
        best = np.where(everywhere, length if dz < 0 else 0.0, best)
        found |= everywhere
        u = np.where(found, best, 0.0) / length
        out = np.minimum(out, np.where(found, z0 + u * dz + piece.h0, np.inf))
    return out


def footprint_edge(sweep: Sweep, reach: float, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing`` mm on the edge of the sweep's footprint of radius ``reach`` (xy): the
    offset curves of the path and full circles at its ends. A sliver of material that the sweep enters
    but no cell centre shows lies against this edge."""
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []

    def circle(cx: float, cy: float, r: float, a0: float = 0.0, span: float = TWO_PI) -> None:
        n = max(8, math.ceil(abs(span) * r / spacing))
        t = a0 + np.linspace(0.0, span, n + 1)
        xs.append(cx + r * np.cos(t))
        ys.append(cy + r * np.sin(t))

    if sweep.kind == "arc":
        ends = [sweep.arc_point(0.0), sweep.arc_point(1.0)]
        for r in (sweep.radius + reach, sweep.radius - reach):
            if r > 0.0:
                circle(sweep.centre[0], sweep.centre[1], r, sweep.theta0, sweep.span)
    else:
        (ax, ay, _), (bx, by, _) = sweep.start, sweep.end
        ends = [(ax, ay), (bx, by)]
        length = math.hypot(bx - ax, by - ay)
        if length > 1e-12:
            nx, ny = -(by - ay) / length, (bx - ax) / length
            t = np.linspace(0.0, 1.0, max(2, math.ceil(length / spacing) + 1))
            for side in (1.0, -1.0):
                xs.append(ax + t * (bx - ax) + side * reach * nx)
                ys.append(ay + t * (by - ay) + side * reach * ny)
    for cx, cy in ends:
        circle(cx, cy, reach)
    return np.concatenate(xs), np.concatenate(ys)


# ------------------------------------------------------------------------------------ raw stock shapes

@dataclass(frozen=True)
class RawStock:
    """The raw stock in the work frame: a block (``kind='block'``: ``size`` = (X, Y, Z)) with its top
    face at z = 0 centred on the origin, or a round bar (``kind='bar'``: ``size`` = (length, diameter,
    diameter)) lying along X with its top line at z = 0."""

    kind: str
    size: tuple[float, float, float]

    @property
    def footprint(self) -> tuple[float, float, float, float]:
        return (-self.size[0] / 2.0, self.size[0] / 2.0, -self.size[1] / 2.0, self.size[1] / 2.0)

    @property
    def z_range(self) -> tuple[float, float]:
        return (-self.size[2], 0.0)

    def top0(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        if self.kind == "block":
            return np.zeros(x.shape)
        r = self.size[1] / 2.0
        return -r + np.sqrt(np.maximum(r * r - y * y, 0.0))

    def bottom0(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        if self.kind == "block":
            return np.full(x.shape, -self.size[2])
        r = self.size[1] / 2.0
        return -r - np.sqrt(np.maximum(r * r - y * y, 0.0))

    def ray_interval(self, o: np.ndarray, d: np.ndarray) -> tuple[float, float] | None:
        """Parameters (s_in, s_out) of the open raw stock along o + s d (d unit), or None."""
        x0, x1, y0, y1 = self.footprint
        z0, z1 = self.z_range
        lo, hi = -math.inf, math.inf
        axes = ((0, x0, x1), (1, y0, y1), (2, z0, z1)) if self.kind == "block" else ((0, x0, x1),)
        for axis, a, b in axes:
            if abs(d[axis]) < 1e-15:
                if not a < o[axis] < b:
                    return None
                continue
            s_a, s_b = (a - o[axis]) / d[axis], (b - o[axis]) / d[axis]
            lo, hi = max(lo, min(s_a, s_b)), min(hi, max(s_a, s_b))
        if self.kind == "bar":
            r = self.size[1] / 2.0
            oy, oz, dy, dz = o[1], o[2] + r, d[1], d[2]
            qa = dy * dy + dz * dz
            if qa < 1e-30:
                if oy * oy + oz * oz >= r * r:
                    return None
            else:
                qb = oy * dy + oz * dz
                disc = qb * qb - qa * (oy * oy + oz * oz - r * r)
                if disc <= 0.0:
                    return None
                root = math.sqrt(disc)
                lo, hi = max(lo, (-qb - root) / qa), min(hi, (-qb + root) / qa)
        return (lo, hi) if lo < hi else None


# ---------------------------------------------------------------------------------------- the model

def _segment_distance2_many(paths: np.ndarray, x: float, y: float) -> np.ndarray:
    """:func:`segment_distance2` from one point to many segments (rows ax, ay, bx, by), with the same
    arithmetic per case so that a column query and a heightmap cell agree to the last bit."""
    ax, ay, bx, by = paths.T
    dx, dy = bx - ax, by - ay
    px, py = x - ax, y - ay
    length2 = dx * dx + dy * dy
    t = np.clip((px * dx + py * dy) / np.where(length2 > 1e-24, length2, 1.0), 0.0, 1.0)
    ex, ey = px - t * dx, py - t * dy
    along_x = (dy == 0.0) & (length2 > 1e-24)
    along_y = (dx == 0.0) & (length2 > 1e-24)
    ex = np.where(along_x, px - np.clip(px, np.minimum(0.0, dx), np.maximum(0.0, dx)), ex)
    ey = np.where(along_x, py, ey)
    ex = np.where(along_y, px, ex)
    ey = np.where(along_y, py - np.clip(py, np.minimum(0.0, dy), np.maximum(0.0, dy)), ey)
    point = length2 <= 1e-24
    ex, ey = np.where(point, px, ex), np.where(point, py, ey)
    return ex * ex + ey * ey


class ExactModel:
    """Raw stock minus the union of recorded sweeps; bounding boxes and the straight horizontal or
    vertical sweeps (most of a program) kept as arrays, so a column's top is one vectorised pass."""

    def __init__(self, raw: RawStock):
        self.raw = raw
        self.sweeps: list[Sweep] = []
        self._rows = np.empty((0, 11))
        self._pending: list[tuple[float, ...]] = []
        self._groups: dict = {}

    def add(self, sweep: Sweep) -> None:
        simple = sweep.kind == "line" and (sweep.horizontal or sweep.vertical)
        group = self._groups.setdefault(sweep.pieces, len(self._groups)) if simple else -1
        self.sweeps.append(sweep)
        self._pending.append(sweep.box + (sweep.start[0], sweep.start[1], sweep.end[0], sweep.end[1],
                                          sweep.z_low, group))

    @property
    def rows(self) -> np.ndarray:
        """(n, 11): box (x0, x1, y0, y1, z_low), then for straight horizontal/vertical sweeps the path
        (ax, ay, bx, by), its z and the envelope group (-1 for other sweeps)."""
        if self._pending:
            self._rows = np.vstack([self._rows, np.array(self._pending, dtype=float)])
            self._pending = []
        return self._rows

    @property
    def boxes(self) -> np.ndarray:
        """(n, 5) array of sweep boxes (x0, x1, y0, y1, z_low)."""
        return self.rows[:, :5]

    def candidates_at(self, x: float, y: float) -> np.ndarray:
        b = self.boxes
        return np.nonzero((b[:, 0] <= x) & (x <= b[:, 1]) & (b[:, 2] <= y) & (y <= b[:, 3]))[0]

    def top(self, x: float, y: float) -> tuple[float, int]:
        """Exact top of the material column at (x, y) and the index of the sweep that made it (-1 = the
        raw stock). Ties go to the later sweep: it finished the surface."""
        idx = self.candidates_at(x, y)
        values = np.full(len(idx), np.inf)
        rows = self.rows[idx]
        groups = rows[:, 10]
        simple = groups >= 0
        if simple.any():
            d2 = _segment_distance2_many(rows[simple, 5:9], x, y)
            h = np.full(len(d2), np.inf)
            for pieces, g in self._groups.items():
                mask = groups[simple] == g
                if not mask.any():
                    continue
                if len(pieces) == 1 and pieces[0].is_flat:      # as bottom() does it
                    h[mask] = np.where(d2[mask] <= pieces[0].a ** 2, pieces[0].h0, np.inf)
                else:
                    h[mask] = _h_inv(pieces, np.sqrt(d2[mask]))
            values[simple] = rows[simple, 9] + h
        for k in np.nonzero(~simple)[0]:
            values[k] = float(bottom(self.sweeps[idx[k]], np.array(x), np.array(y)))
        z = float(self.raw.top0(x, y))
        owner = -1
        if len(values):
            lowest = float(values.min())
            if lowest <= z + 1e-12:
                z = lowest
                owner = int(idx[np.nonzero(values <= lowest + 1e-12)[0][-1]])
        return z, owner

    def tops(self, x: np.ndarray, y: np.ndarray, limit: np.ndarray | None = None) -> np.ndarray:
        """Exact material top at many points (1-D arrays), without provenance. With ``limit`` (per
        point), a point is settled as soon as its top is found at or below its limit, and its value is
        then only known to be <= limit: that is all a penetration test needs. Recent sweeps go first,
        since they are the likeliest to have cleared the points."""
        out = self.raw.top0(x, y).astype(float)
        if len(x) == 0 or not self.sweeps:
            return out
        b = self.boxes
        near = np.nonzero((b[:, 0] <= x.max()) & (b[:, 1] >= x.min()) & (b[:, 2] <= y.max()) & (b[:, 3] >= y.min()))[0]
        open_ = np.ones(len(x), dtype=bool) if limit is None else out > limit
        for i in near[::-1]:
            if not open_.any():
                break
            x0, x1, y0, y1, _ = b[i]
            pick = np.nonzero(open_ & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))[0]
            if len(pick):
                out[pick] = np.minimum(out[pick], bottom(self.sweeps[i], x[pick], y[pick]))
                if limit is not None:
                    open_[pick] = out[pick] > limit[pick]
        return out

    def inside(self, x: float, y: float, z: float) -> bool:
        x0, x1, y0, y1 = self.raw.footprint
        if not (x0 < x < x1 and y0 < y < y1):
            return False
        return float(self.raw.bottom0(x, y)) < z < self.top(x, y)[0]
