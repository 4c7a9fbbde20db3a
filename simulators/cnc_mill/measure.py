"""Exact measurement of the milled part: ray probes and the operators score sheets use.

Frame: the default setup's WORK frame (G54 of the default setup), millimetres. The part is
``raw stock ∩ {z < b_i(x, y) for every sweep i}`` (:mod:`simulators.cnc_mill.stock`), so a probe is an
interval computation along the ray: the raw stock's interval minus, for every sweep whose bounding box
the ray crosses, the parameters where the ray is inside that sweep.

* vertical rays: the column's exact top (closed form);
* horizontal rays: the slice of a sweep at the ray's height is a stadium (straight moves, and the part
  of a sloped flat move below that height), an arc band (G17 arcs, and the part of a helix below that
  height) or, for a sloped ball move, the section of its centre's capsule; crossings are quadratic or
  linear roots, and arc bands are split at every candidate root and tested at the midpoints. Straight
  horizontal/vertical sweeps (most of a program) are done together in one vectorised pass;
* everything else (sloped cone or bull pieces, oblique rays): the margin ``z(s) - b(x(s), y(s))``
  sampled at 257 points (1,025 for arcs) over the sweep's box and bisected 36 times at each sign change
  (the bracket ends below 1e-8 mm for any box under 1 m); for line sweeps, which are convex, a
  golden-section search for the margin's maximum also finds intervals shorter than the sampling step.
  An arc sweep's interval shorter than 1/1024 of its box along an oblique ray can be missed.

Each hit carries the program line of the sweep whose surface it lies on (0 for a raw stock face).
"""
from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .stock import TWO_PI, ExactModel, Sweep, bottom
from .tools import Piece

EPS_DIR = 1e-12       # direction components below this are taken as zero
MERGE = 1e-9          # mm: removed intervals closer than this are one (zero-thickness walls vanish)
SAMPLES = 257           # samples per straight sweep (convex: the golden-section search backs them up)
ARC_SAMPLES = 1025      # samples per arc sweep (not convex)
BISECT_STEPS = 36
DEFAULT_EDGE_RADIUS = 0.2    # mm: end-edge radius of a "sharp" end mill for floor feed marks

Interval = tuple[float, float, int, int]      # (lo, hi, sweep index at lo, sweep index at hi); -1 = raw


@dataclass(frozen=True)
class Hit:
    distance: float                     # along the normalised direction, mm
    point: tuple[float, float, float]   # work frame (x, y, z), mm
    entering: bool
    line: int = 0                       # program line of the sweep that made this surface (0 = raw stock)

    def to_dict(self) -> dict:
        return {"distance": self.distance, "point": list(self.point), "entering": self.entering,
                "line": self.line}


def _model(source) -> ExactModel:
    return source.model if hasattr(source, "model") else source


# --------------------------------------------------------------------------------------------- rays

def ray_hits(source, origin: Sequence[float], direction: Sequence[float]) -> list[Hit]:
    """Every point at distance > 0 where the ray enters or leaves material, nearest first."""
    model = _model(source)
    o = np.asarray(origin, dtype=float)
    d = np.asarray(direction, dtype=float)
    norm = float(np.linalg.norm(d))
    if norm == 0.0:
        raise ValueError("ray direction must not be zero")
    d = d / norm
    raw = model.raw.ray_interval(o, d)
    if raw is None or raw[1] <= 0.0:
        return []
    if abs(d[0]) < EPS_DIR and abs(d[1]) < EPS_DIR:
        material = _vertical(model, o, d, raw)
    else:
        material = _subtract(raw, _removed(model, o, d, raw))
    hits: list[Hit] = []
    for lo, hi, who_lo, who_hi in material:
        for s, who, entering in ((lo, who_lo, True), (hi, who_hi, False)):
            if s > 1e-12:
                point = tuple(float(v) for v in o + s * d)
                line = model.sweeps[who].line if who >= 0 else 0
                hits.append(Hit(float(s), point, entering, line))
    return hits


def _vertical(model: ExactModel, o, d, raw) -> list[Interval]:
    top, owner = model.top(float(o[0]), float(o[1]))
    z_a, z_b = o[2] + raw[0] * d[2], o[2] + raw[1] * d[2]
    z_lo, z_hi = min(z_a, z_b), max(z_a, z_b)
    who_top = -1
    if top < z_hi:
        z_hi, who_top = top, owner
    if z_hi - z_lo <= MERGE:
        return []
    s_lo, s_hi = (z_lo - o[2]) / d[2], (z_hi - o[2]) / d[2]
    if s_lo < s_hi:
        return [(s_lo, s_hi, -1, who_top)]
    return [(s_hi, s_lo, who_top, -1)]


def _subtract(raw: tuple[float, float], removed: list[Interval]) -> list[Interval]:
    """The raw interval minus the union of removed intervals, each end tagged with its sweep."""
    out: list[Interval] = []
    cur, who = raw[0], -1
    for lo, hi, w_lo, w_hi in _union(removed):
        if hi <= cur + MERGE:
            if hi > cur:
                cur, who = hi, w_hi
            continue
        if lo >= raw[1]:
            break
        if lo > cur + MERGE:
            out.append((cur, lo, who, w_lo))
        cur, who = hi, w_hi
    if raw[1] > cur + MERGE:
        out.append((cur, raw[1], who, -1))
    return out


def _union_key(iv: Interval) -> tuple[float, float]:
    return (iv[0], -iv[1])


def _union(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for lo, hi, w_lo, w_hi in sorted(intervals, key=_union_key):
        if merged and lo <= merged[-1][1] + MERGE:
            m_lo, m_hi, m_wlo, m_whi = merged[-1]
            if hi > m_hi or (hi >= m_hi - 1e-12 and w_hi > m_whi):
                m_hi, m_whi = max(hi, m_hi), w_hi
            merged[-1] = (m_lo, m_hi, m_wlo, m_whi)
        else:
            merged.append((lo, hi, w_lo, w_hi))
    return merged


def _removed(model: ExactModel, o, d, raw) -> list[Interval]:
    lo, hi = _box_ranges(model.boxes, o, d, raw)
    out: list[Interval] = []
    horizontal = abs(d[2]) < EPS_DIR
    todo = lo <= hi
    if horizontal:
        simple = todo & (model.rows[:, 10] >= 0)
        out.extend(_stadia(model, np.nonzero(simple)[0], o, d, lo, hi))
        todo &= ~simple
    for i in np.nonzero(todo)[0]:
        sweep = model.sweeps[i]
        span = (float(lo[i]), float(hi[i]))
        found = _slice_intervals(sweep, o, d, span) if horizontal else None
        if found is None:
            found = _numeric_intervals(sweep, o, d, span)
        out.extend((a, b, int(i), int(i)) for a, b in found)
    return out


def _box_ranges(boxes: np.ndarray, o, d, raw) -> tuple[np.ndarray, np.ndarray]:
    """Per sweep box, the ray parameters inside it (lo > hi when none), clipped to the raw interval."""
    lo = np.full(len(boxes), raw[0])
    hi = np.full(len(boxes), raw[1])
    for axis, (a, b) in ((0, (0, 1)), (1, (2, 3))):
        if abs(d[axis]) < EPS_DIR:
            inside = (boxes[:, a] <= o[axis]) & (o[axis] <= boxes[:, b])
            hi = np.where(inside, hi, -np.inf)
            continue
        s_a = (boxes[:, a] - o[axis]) / d[axis]
        s_b = (boxes[:, b] - o[axis]) / d[axis]
        lo = np.maximum(lo, np.minimum(s_a, s_b))
        hi = np.minimum(hi, np.maximum(s_a, s_b))
    if abs(d[2]) < EPS_DIR:
        hi = np.where(boxes[:, 4] <= o[2], hi, -np.inf)
    elif d[2] > 0:
        lo = np.maximum(lo, (boxes[:, 4] - o[2]) / d[2])
    else:
        hi = np.minimum(hi, (boxes[:, 4] - o[2]) / d[2])
    return lo, hi


# ------------------------------------------------------------------------- horizontal slices (exact)

def _slice_intervals(sweep: Sweep, o, d, span) -> list[tuple[float, float]] | None:
    """Ray parameters inside the sweep for a horizontal ray, or None when no closed form applies."""
    z = float(o[2])
    if sweep.horizontal or sweep.vertical:
        w = max(p.radius_at(z - sweep.z_low) for p in sweep.pieces)
        if w <= 0.0:
            return []
        if sweep.kind == "arc":
            return _arc_band(sweep, 0.0, 1.0, w, o, d, span)
        return _stadium(sweep.start, sweep.end, w, o, d, span)
    out: list[tuple[float, float]] = []
    for piece in sweep.pieces:
        if piece.kind == "ball" and sweep.kind == "line":
            out.extend(_capsule(sweep, piece, o, d, span))
            piece = Piece("cone", piece.a, piece.h0, r0=piece.a)
        if not piece.is_flat:
            out.extend(_numeric_intervals(dataclasses.replace(sweep, pieces=(piece,)), o, d, span))
            continue
        out.extend(_flat_slice(sweep, piece, z, o, d, span))
    return out


def _flat_slice(sweep: Sweep, piece: Piece, z: float, o, d, span) -> list[tuple[float, float]]:
    """A flat piece on a sloped line or helix, sliced at z: the stadium or arc band of the part of the
    path whose piece bottom z(t) + h0 is at or below z."""
    z0, dz = sweep.start[2], sweep.end[2] - sweep.start[2]
    t_cross = (z - piece.h0 - z0) / dz
    u_lo, u_hi = (max(0.0, t_cross), 1.0) if dz < 0 else (0.0, min(1.0, t_cross))
    if u_lo > u_hi:
        return []
    if sweep.kind == "arc":
        return _arc_band(sweep, u_lo, u_hi, piece.a, o, d, span)
    return _stadium(_lerp(sweep.start, sweep.end, u_lo), _lerp(sweep.start, sweep.end, u_hi), piece.a, o, d, span)


def _capsule(sweep: Sweep, piece: Piece, o, d, span) -> list[tuple[float, float]]:
    """Ray ∩ the capsule swept by a ball's sphere along a line (3D, convex: one interval)."""
    p0 = np.array(sweep.start) + (0.0, 0.0, piece.h0)
    p1 = np.array(sweep.end) + (0.0, 0.0, piece.h0)
    axis = p1 - p0
    length = float(np.linalg.norm(axis))
    u = axis / length
    w = o - p0
    w_perp, d_perp = w - (w @ u) * u, d - (d @ u) * u
    parts = []
    qa, qb, qc = d_perp @ d_perp, w_perp @ d_perp, w_perp @ w_perp - piece.a ** 2
    disc = qb * qb - qa * qc
    if qa > 1e-15 and disc >= 0.0:
        root = math.sqrt(disc)
        side = ((-qb - root) / qa, (-qb + root) / qa)
        along = _linear_range(float(w @ u), float(d @ u), 0.0, length)
        if along and max(side[0], along[0]) <= min(side[1], along[1]):
            parts.append((max(side[0], along[0]), min(side[1], along[1])))
    for centre in (p0, p1):
        c = o - centre
        qb, qc = float(c @ d), float(c @ c) - piece.a ** 2
        disc = qb * qb - qc
        if disc >= 0.0:
            parts.append((-qb - math.sqrt(disc), -qb + math.sqrt(disc)))
    if not parts:
        return []
    lo, hi = max(min(q[0] for q in parts), span[0]), min(max(q[1] for q in parts), span[1])
    return [(lo, hi)] if lo < hi else []


def _stadia(model: ExactModel, idx: np.ndarray, o, d, lo: np.ndarray, hi: np.ndarray) -> list[Interval]:
    """:func:`_stadium` for many straight horizontal/vertical sweeps at once (horizontal ray)."""
    if len(idx) == 0:
        return []
    rows = model.rows[idx]
    h = o[2] - rows[:, 9]
    w = np.full(len(idx), -1.0)
    for pieces, g in model._groups.items():
        mask = rows[:, 10] == g
        if mask.any():
            for piece in pieces:
                w[mask] = np.maximum(w[mask], piece.radius_array(h[mask]))
    ax, ay, bx, by = rows[:, 5], rows[:, 6], rows[:, 7], rows[:, 8]
    s_lo = np.full(len(idx), np.inf)
    s_hi = np.full(len(idx), -np.inf)
    for cx, cy in ((ax, ay), (bx, by)):
        px, py = o[0] - cx, o[1] - cy
        qb = px * d[0] + py * d[1]
        disc = qb * qb - (px * px + py * py - w * w)          # |d| = 1 in xy for a horizontal ray
        root = np.sqrt(np.maximum(disc, 0.0))
        ok = (disc >= 0.0) & (w > 0.0)
        s_lo = np.where(ok, np.minimum(s_lo, -qb - root), s_lo)
        s_hi = np.where(ok, np.maximum(s_hi, -qb + root), s_hi)
    ux, uy = bx - ax, by - ay
    length = np.hypot(ux, uy)
    has = length > 1e-12
    safe = np.where(has, length, 1.0)
    ux, uy = ux / safe, uy / safe
    r_lo, r_hi = _linear_ranges((o[0] - ax) * uy - (o[1] - ay) * ux, d[0] * uy - d[1] * ux, -w, w)
    a_lo, a_hi = _linear_ranges((o[0] - ax) * ux + (o[1] - ay) * uy, d[0] * ux + d[1] * uy, 0.0, length)
    p_lo, p_hi = np.maximum(r_lo, a_lo), np.minimum(r_hi, a_hi)
    ok = has & (w > 0.0) & (p_lo <= p_hi)
    s_lo = np.where(ok, np.minimum(s_lo, p_lo), s_lo)
    s_hi = np.where(ok, np.maximum(s_hi, p_hi), s_hi)
    s_lo, s_hi = np.maximum(s_lo, lo[idx]), np.minimum(s_hi, hi[idx])
    keep = np.nonzero(s_lo < s_hi)[0]
    owners = idx[keep].tolist()         # tolist: the same Python floats and ints, without a call per element
    return list(zip(s_lo[keep].tolist(), s_hi[keep].tolist(), owners, owners))


def _linear_ranges(c0: np.ndarray, c1: np.ndarray, lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`_linear_range`: (lo, hi) arrays, empty as lo > hi."""
    c1 = np.broadcast_to(np.asarray(c1, dtype=float), np.shape(c0))
    flat = np.abs(c1) < 1e-15
    safe = np.where(flat, 1.0, c1)
    s_a, s_b = (lo - c0) / safe, (hi - c0) / safe
    inside = (lo <= c0) & (c0 <= hi)
    r_lo = np.where(flat, np.where(inside, -np.inf, np.inf), np.minimum(s_a, s_b))
    r_hi = np.where(flat, np.where(inside, np.inf, -np.inf), np.maximum(s_a, s_b))
    return r_lo, r_hi


def _lerp(a, b, t):
    return tuple(a[k] + t * (b[k] - a[k]) for k in range(3))


def _disc_roots(cx: float, cy: float, r: float, o, d) -> tuple[float, float] | None:
    """Parameters where o + s d (xy) is within r of (cx, cy), or None."""
    px, py = o[0] - cx, o[1] - cy
    qa = d[0] * d[0] + d[1] * d[1]
    qb = px * d[0] + py * d[1]
    qc = px * px + py * py - r * r
    disc = qb * qb - qa * qc
    if disc < 0.0:
        return None
    root = math.sqrt(disc)
    return ((-qb - root) / qa, (-qb + root) / qa)


def _stadium(a, b, w: float, o, d, span) -> list[tuple[float, float]]:
    """Ray ∩ {p: dist(p, segment a–b) <= w} (xy), clipped to span: a single interval (convex)."""
    parts = [_disc_roots(a[0], a[1], w, o, d), _disc_roots(b[0], b[1], w, o, d)]
    ux, uy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(ux, uy)
    if length > 1e-12:
        ux, uy = ux / length, uy / length
        rect = _linear_range((o[0] - a[0]) * uy - (o[1] - a[1]) * ux, d[0] * uy - d[1] * ux, -w, w)
        along = _linear_range((o[0] - a[0]) * ux + (o[1] - a[1]) * uy, d[0] * ux + d[1] * uy, 0.0, length)
        if rect and along and max(rect[0], along[0]) <= min(rect[1], along[1]):
            parts.append((max(rect[0], along[0]), min(rect[1], along[1])))
    parts = [p for p in parts if p is not None]
    if not parts:
        return []
    lo, hi = max(min(p[0] for p in parts), span[0]), min(max(p[1] for p in parts), span[1])
    return [(lo, hi)] if lo < hi else []


def _linear_range(c0: float, c1: float, lo: float, hi: float) -> tuple[float, float] | None:
    """Parameters s with lo <= c0 + c1 s <= hi."""
    if abs(c1) < 1e-15:
        return (-math.inf, math.inf) if lo <= c0 <= hi else None
    s_a, s_b = (lo - c0) / c1, (hi - c0) / c1
    return (min(s_a, s_b), max(s_a, s_b))


def _arc_band(sweep: Sweep, u_lo: float, u_hi: float, w: float, o, d, span) -> list[tuple[float, float]]:
    """Ray ∩ {p: dist(p, sub-arc u_lo..u_hi) <= w} (xy): split at every circle and radial-line root,
    keep the pieces whose midpoint is inside."""
    cx, cy = sweep.centre
    rho = sweep.radius
    theta_a = sweep.theta0 + u_lo * sweep.span
    sub_span = (u_hi - u_lo) * sweep.span
    ends = [(cx + rho * math.cos(t), cy + rho * math.sin(t)) for t in (theta_a, theta_a + sub_span)]
    cuts = {span[0], span[1]}
    for circle in ((cx, cy, rho + w), (cx, cy, rho - w), (*ends[0], w), (*ends[1], w)):
        if circle[2] > 0.0:
            roots = _disc_roots(circle[0], circle[1], circle[2], o, d)
            if roots:
                cuts.update(roots)
    for theta in (theta_a, theta_a + sub_span):
        hit = _linear_range((o[0] - cx) * math.sin(theta) - (o[1] - cy) * math.cos(theta),
                            d[0] * math.sin(theta) - d[1] * math.cos(theta), 0.0, 0.0)
        if hit and math.isfinite(hit[0]):
            cuts.add(hit[0])
    points = sorted(s for s in cuts if span[0] <= s <= span[1])
    out: list[tuple[float, float]] = []
    for s0, s1 in itertools.pairwise(points):
        if s1 - s0 <= 1e-15:
            continue
        mid = 0.5 * (s0 + s1)
        x, y = o[0] + mid * d[0], o[1] + mid * d[1]
        if _arc_dist(cx, cy, rho, theta_a, sub_span, ends, x, y) <= w:
            if out and abs(out[-1][1] - s0) <= 1e-15:
                out[-1] = (out[-1][0], s1)
            else:
                out.append((s0, s1))
    return out


def _arc_dist(cx, cy, rho, theta_a, sub_span, ends, x, y) -> float:
    sense = 1.0 if sub_span >= 0 else -1.0
    psi = (sense * (math.atan2(y - cy, x - cx) - theta_a)) % TWO_PI
    if psi <= abs(sub_span):
        return abs(math.hypot(x - cx, y - cy) - rho)
    return min(math.hypot(x - ends[0][0], y - ends[0][1]), math.hypot(x - ends[1][0], y - ends[1][1]))


# ------------------------------------------------------------------------------- numeric (general)

def _numeric_intervals(sweep: Sweep, o, d, span) -> list[tuple[float, float]]:
    """Ray parameters inside the sweep by sampling its margin z(s) - b(x(s), y(s)) and bisecting."""
    def margin(s):
        s = np.asarray(s, dtype=float)
        return o[2] + s * d[2] - bottom(sweep, o[0] + s * d[0], o[1] + s * d[1])

    s = np.linspace(span[0], span[1], SAMPLES if sweep.kind == "line" else ARC_SAMPLES)
    m = margin(s)
    inside = m >= 0.0
    if not inside.any():
        if sweep.kind != "line" or not np.isfinite(m).any():
            return []
        peak = _golden_peak(margin, s, m)
        if peak is None:
            return []
        lo = _bisect(margin, np.array([s[max(peak[0] - 1, 0)]]), np.array([peak[1]]))[0]
        hi = _bisect(margin, np.array([s[min(peak[0] + 1, len(s) - 1)]]), np.array([peak[1]]))[0]
        return [(float(lo), float(hi))]
    flips = np.nonzero(inside[1:] != inside[:-1])[0]
    outside_s = np.where(inside[flips], s[flips + 1], s[flips])
    inside_s = np.where(inside[flips], s[flips], s[flips + 1])
    edges = _bisect(margin, outside_s, inside_s)
    bounds = sorted([span[0]] if inside[0] else []) + list(edges) + ([span[1]] if inside[-1] else [])
    return [(float(bounds[k]), float(bounds[k + 1])) for k in range(0, len(bounds) - 1, 2)]


def _bisect(margin, outside: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Boundary between each outside/inside pair of parameters (arrays)."""
    a, b = outside.astype(float), inside.astype(float)
    for _ in range(BISECT_STEPS):
        mid = 0.5 * (a + b)
        ok = margin(mid) >= 0.0
        b = np.where(ok, mid, b)
        a = np.where(ok, a, mid)
    return b


def _golden_peak(margin, s: np.ndarray, m: np.ndarray) -> tuple[int, float] | None:
    """For a concave margin: (sample index, parameter) of its maximum if that is >= 0."""
    i = int(np.nanargmax(np.where(np.isfinite(m), m, -np.inf)))
    a, b = s[max(i - 1, 0)], s[min(i + 1, len(s) - 1)]
    inv = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(80):
        c, e = b - inv * (b - a), a + inv * (b - a)
        mc, me = margin(np.array([c, e]))
        if mc >= 0.0:
            return i, float(c)
        if me >= 0.0:
            return i, float(e)
        if mc >= me:
            b = e
        else:
            a = c
    return None


# ------------------------------------------------------------------------------------- operators

def top_z(source, x: float, y: float) -> float:
    """Exact top of the material at (x, y), work frame."""
    model = _model(source)
    z, _ = model.top(x, y)
    return max(z, float(model.raw.bottom0(x, y)))


def depth(source, x: float, y: float, datum_z: float = 0.0) -> float:
    """Depth of the surface at (x, y) below a datum height (default: the raw top face)."""
    return datum_z - top_z(source, x, y)


def step_height(source, high: Sequence[float], low: Sequence[float]) -> float:
    """Height of a step: top at ``high`` (x, y) minus top at ``low``."""
    return top_z(source, *high) - top_z(source, *low)


def _first(source, origin, direction, entering: bool) -> Hit:
    for hit in ray_hits(source, origin, direction):
        if hit.entering == entering:
            return hit
    raise ValueError(f"no {'entering' if entering else 'leaving'} hit from {tuple(origin)} along {tuple(direction)}")


def _dir3(direction: Sequence[float]) -> np.ndarray:
    """A unit 3D direction from an (x, y) or (x, y, z) one."""
    d = np.zeros(3)
    d[:len(direction)] = direction
    return d / np.linalg.norm(d)


def gap(source, point: Sequence[float], direction: Sequence[float]) -> dict[str, float]:
    """Width of empty space through ``point`` (x, y, z, in the void) along ±direction (xy): slot or
    pocket width and length. Returns width, both wall hits and their lines."""
    d = _dir3(direction)
    a = _first(source, point, d, True)
    b = _first(source, point, -d, True)
    return {"width": a.distance + b.distance, "plus": a.point, "minus": b.point,
            "line_plus": a.line, "line_minus": b.line}


def size(source, point: Sequence[float], direction: Sequence[float]) -> dict[str, float]:
    """Size of material through ``point`` (inside material) along ±direction: boss or step size."""
    d = _dir3(direction)
    a = _first(source, point, d, False)
    b = _first(source, point, -d, False)
    return {"size": a.distance + b.distance, "plus": a.point, "minus": b.point,
            "line_plus": a.line, "line_minus": b.line}


def fit_circle(points: Sequence[Sequence[float]]) -> tuple[float, float, float]:
    """Least-squares circle (algebraic, Kåsa) through xy points: (cx, cy, radius). Exact for points on
    a circle."""
    p = np.asarray(points, dtype=float)[:, :2]
    a = np.column_stack([2.0 * p[:, 0], 2.0 * p[:, 1], np.ones(len(p))])
    rhs = (p ** 2).sum(axis=1)
    (cx, cy, c), *_ = np.linalg.lstsq(a, rhs, rcond=None)
    return float(cx), float(cy), float(math.sqrt(c + cx * cx + cy * cy))


def _circle_probe(source, centre, z, from_inside_material: bool, n: int, a0: float, a1: float):
    points, lines = [], []
    for k in range(n):
        ang = math.radians(a0 + (a1 - a0) * k / max(n - 1, 1))
        d = (math.cos(ang), math.sin(ang), 0.0)
        hit = _first(source, (centre[0], centre[1], z), d, not from_inside_material)
        points.append(hit.point)
        lines.append(hit.line)
    cx, cy, r = fit_circle(points)
    spread = [abs(math.hypot(p[0] - cx, p[1] - cy) - r) for p in points]
    return {"x": cx, "y": cy, "radius": r, "diameter": 2.0 * r, "roundness": 2.0 * max(spread),
            "lines": sorted(set(lines))}


def hole(source, centre: Sequence[float], z: float, n: int = 12) -> dict[str, float]:
    """Hole or circular pocket at height z: rays from a point inside it (centre guess) outward; returns
    centre x, y, diameter, roundness (max radial spread × 2) and the lines that cut the wall."""
    return _circle_probe(source, centre, z, False, n, 0.0, 360.0 * (n - 1) / n)


def boss(source, centre: Sequence[float], z: float, n: int = 12) -> dict[str, float]:
    """Circular boss at height z: rays from inside the boss outward to its wall."""
    return _circle_probe(source, centre, z, True, n, 0.0, 360.0 * (n - 1) / n)


def arc_radius(source, centre: Sequence[float], z: float, from_deg: float, to_deg: float,
               inside_material: bool = False, n: int = 7) -> dict[str, float]:
    """Radius and centre of a wall arc between two directions seen from a point near its centre
    (in the void for concave arcs, in material for convex ones)."""
    return _circle_probe(source, centre, z, inside_material, n, from_deg, to_deg)


def hole_position(source, centre: Sequence[float], z: float, datum: Sequence[float] = (0.0, 0.0)) -> dict[str, float]:
    """Hole centre relative to a datum point (x, y)."""
    h = hole(source, centre, z)
    return {"dx": h["x"] - datum[0], "dy": h["y"] - datum[1], "diameter": h["diameter"]}


def chamfer(source, point: Sequence[float], direction: Sequence[float], top: float = 0.0,
            tol: float = 1e-7) -> dict[str, float]:
    """A chamfer on the top edge of a wall. ``point`` (x, y, z) is in the void below the chamfer with
    the wall ahead along ``direction`` (xy); ``top`` the face above. Returns the horizontal and vertical
    legs and the angle from the vertical wall, found by bisection on the exact surface to ``tol``."""
    d = _dir3(direction)
    wall = _first(source, point, d, True).point
    # vertical leg: highest z at which the wall is still at its lower position
    lo, hi = point[2], top
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        hits = [h for h in ray_hits(source, (point[0], point[1], mid), d) if h.entering]
        if hits and math.dist(hits[0].point[:2], wall[:2]) <= 1e-7:
            lo = mid
        else:
            hi = mid
    # horizontal leg: first point beyond the wall where the top face is intact
    near, far = 0.0, top - point[2] + 10.0
    while far - near > tol:
        mid = 0.5 * (near + far)
        x, y = wall[0] + mid * d[0], wall[1] + mid * d[1]
        if top_z(source, x, y) >= top - 1e-9:
            far = mid
        else:
            near = mid
    vertical, horizontal = top - lo, far
    return {"horizontal": horizontal, "vertical": vertical,
            "angle_deg": math.degrees(math.atan2(horizontal, vertical))}


def hole_depth(source, centre: Sequence[float], diameter: float, n: int = 8) -> float:
    """Depth below the raw top face to which a hole keeps its full ``diameter`` (a drill point below it
    does not count): the highest material top just inside the diameter around ``centre`` (x, y)."""
    r = diameter / 2.0 - 1e-6
    tops = [top_z(source, centre[0] + r * math.cos(2 * math.pi * k / n), centre[1] + r * math.sin(2 * math.pi * k / n))
            for k in range(n)]
    return -max(tops)


def thread(workpiece, centre: Sequence[float], tol: float = 0.5) -> dict:
    """The tapped thread whose axis is within ``tol`` of ``centre`` (x, y): nominal, pitch, full thread
    depth below the raw top (deepest pass), the process checks, and ``gauge_ok`` (a go gauge can enter:
    tapped synchronised, right hand, into a pilot hole). Raises ValueError when there is none."""
    found = [t for t in workpiece.threads if math.hypot(t.x - centre[0], t.y - centre[1]) <= tol]
    if not found:
        raise ValueError(f"no tapped thread near {tuple(centre)}")
    deepest = min(found, key=lambda t: t.bottom)
    out = deepest.to_dict()
    out["synchronised"] = all(t.synchronised for t in found)
    out["right_hand"] = all(t.right_hand for t in found)
    out["cut_core"] = any(t.cut_core for t in found)
    out["gauge_ok"] = out["synchronised"] and out["right_hand"] and not out["cut_core"]
    out["lines"] = sorted({t.line for t in found})
    return out


# ------------------------------------------------------------------------------ provenance and Ra

def cut_by(source, hit: Hit) -> Sweep | None:
    """The sweep that made the surface a hit lies on (None for raw stock)."""
    if hit.line == 0:
        return None
    model = _model(source)
    x, y, _ = hit.point
    best = None
    for i in model.candidates_at(x, y):
        sweep = model.sweeps[i]
        if sweep.line == hit.line:
            best = sweep
    return best


def ra_feed_marks(feed_per_tooth: float, radius: float) -> float:
    """Theoretical Ra in µm of feed marks left by an edge of ``radius`` mm: f²/(32 r)."""
    return 1000.0 * feed_per_tooth ** 2 / (32.0 * radius)


def ra_scallop(stepover: float, radius: float) -> float:
    """Theoretical Ra in µm of ball-end scallops: stepover²/(32 r) (score_sheets.md §4)."""
    return 1000.0 * stepover ** 2 / (32.0 * radius)


def roughness(workpiece, hit: Hit, floor: bool) -> dict[str, float]:
    """Theoretical Ra (µm) of the surface at a hit from the sweep that cut it: feed per tooth
    fz = F / (S × flutes); a wall shows the cutter radius's feed marks, a floor the end edge's
    (corner radius, or ``DEFAULT_EDGE_RADIUS`` for a sharp flat end; a ball's radius)."""
    sweep = cut_by(workpiece, hit)
    if sweep is None:
        return {"ra": 0.0, "line": 0, "feed_per_tooth": 0.0}
    tool = workpiece.tools[sweep.tool]
    fz = sweep.feed / (sweep.rpm * tool.flutes) if sweep.rpm > 0 else 0.0
    if not floor or tool.kind == "ball":
        radius = tool.radius
    else:
        radius = tool.corner_radius or DEFAULT_EDGE_RADIUS
    return {"ra": ra_feed_marks(fz, radius), "line": sweep.line, "feed_per_tooth": fz, "tool": tool.number}
