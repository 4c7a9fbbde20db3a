"""Exact measurement of the turned part: ray probes and the operators score sheets use.

Frame: the default setup's WORK frame in 3D, millimetres, real distances (never diameters): x radial,
y, z along the spindle axis (+ toward the tailstock); the part is the solid of revolution of its
profiles about the z axis, minus the helical grooves of its thread zones. Material angle φ of a point is
atan2(y, x) (CCW about +Z); thread zones are phased as :class:`~simulators.cnc_lathe.stock.ThreadZone`
says.

Ray hits on the solid of revolution are solved in closed form (lines: cone/cylinder/plane, quadratic;
arcs: torus, quartic roots polished by Newton on the unsquared equation; faces: planes). On a thread
zone the helical surface is found by sampling the ray every ``THREAD_STEP`` mm and bisecting each sign
change to 1e-10 mm. Entering/leaving is decided by testing the material on both sides of each
candidate, so double hits and touching points never produce a spurious entry.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import stock as st

FAR = 1.0e4             # mm: "outside everything" for probe origins
THREAD_STEP = 0.004     # mm along the ray between samples inside a thread zone


@dataclass(frozen=True)
class Hit:
    distance: float                     # along the normalised direction, mm
    point: tuple[float, float, float]   # work frame (x, y, z), mm
    entering: bool

    def to_dict(self) -> dict:
        return {"distance": self.distance, "point": list(self.point), "entering": self.entering}


def _stock(source) -> st.Stock:
    return source.stock if hasattr(source, "stock") and isinstance(source.stock, st.Stock) else source


# ------------------------------------------------------------------------------------------- material

def outer_radius(stock: st.Stock, z: float, phi: float = 0.0) -> float | None:
    """Radius of the outer surface at (φ, z): the turned profile, lowered by thread grooves."""
    r = stock.r_out(z)
    if r is None:
        return None
    for zone in stock.threads:
        lo, hi = zone.z_range
        if lo <= z <= hi:
            r = min(r, zone.groove_radius(phi, z))
    return r


def inside(stock: st.Stock, x: float, y: float, z: float) -> bool:
    if not stock.z_left < z < stock.z_right:
        return False
    rho = math.hypot(x, y)
    r_in = stock.r_in(z)
    if r_in is None or (r_in > 0.0 and rho <= r_in):
        return False
    r_out = outer_radius(stock, z, math.atan2(y, x))
    return r_out is not None and rho < r_out


# --------------------------------------------------------------------------------------------- rays

def ray_hits(source, origin: Sequence[float], direction: Sequence[float]) -> list[Hit]:
    """Every point at distance > 0 where the ray enters or leaves material, nearest first."""
    stock = _stock(source)
    o = np.asarray(origin, dtype=float)
    d = np.asarray(direction, dtype=float)
    norm = float(np.linalg.norm(d))
    if norm == 0.0:
        raise ValueError("ray direction must not be zero")
    d = d / norm
    ts = _candidates(stock, o, d)
    ts = sorted(t for t in ts if t > 1e-12)
    ts = _dedupe(ts)
    hits: list[Hit] = []
    if not ts:
        return hits

    def state(t):
        p = o + t * d
        return inside(stock, float(p[0]), float(p[1]), float(p[2]))

    before = state(0.5 * ts[0])
    for k, t in enumerate(ts):
        nxt = ts[k + 1] if k + 1 < len(ts) else t + 1.0
        after = state(0.5 * (t + nxt))
        if after != before:
            p = o + t * d
            hits.append(Hit(t, (float(p[0]), float(p[1]), float(p[2])), after))
        before = after
    return hits


def _dedupe(ts: list[float]) -> list[float]:
    out: list[float] = []
    for t in ts:
        if not out or t - out[-1] > 1e-10:
            out.append(t)
    return out


def _candidates(stock: st.Stock, o, d) -> list[float]:
    ox, oy, oz = (float(v) for v in o)
    dx, dy, dz = (float(v) for v in d)
    qa, qb, qc = dx * dx + dy * dy, 2.0 * (ox * dx + oy * dy), ox * ox + oy * oy
    ts: list[float] = []
    inner = stock.inner
    for profile in (stock.outer, inner):
        for piece in profile:
            ts.extend(_piece_hits(piece, (qa, qb, qc), oz, dz))
    # planes of faces and ends
    if abs(dz) > 1e-15:
        planes = {stock.z_left, stock.z_right}
        for profile in (stock.outer, inner):
            for piece in profile:
                planes.add(piece.z0)
                planes.add(piece.z1)
        ts.extend((zp - oz) / dz for zp in planes)
    for zone in stock.threads:
        ts.extend(_thread_hits(stock, zone, o, d, (qa, qb, qc)))
    return ts


def _piece_hits(piece: st.Piece, q, oz: float, dz: float) -> list[float]:
    qa, qb, qc = q
    out = []
    if not piece.arc:
        # rho^2 = (e + f t)^2 with r(z(t)) = e + f t
        e = piece.b + piece.c * (oz - piece.a)
        f = piece.c * dz
        coeffs = (qa - f * f, qb - 2.0 * e * f, qc - e * e)
        if max(abs(c) for c in coeffs) < 1e-18:
            return out
        roots = st.roots_quadratic(*coeffs)
    else:
        roots = _torus_roots(piece, q, oz, dz)
    for t in roots:
        z = oz + dz * t
        if piece.z0 - 1e-9 <= z <= piece.z1 + 1e-9 and piece.r(min(max(z, piece.z0), piece.z1)) >= -1e-12:
            rho = math.sqrt(max(0.0, qa * t * t + qb * t + qc))
            if abs(rho - piece.r(min(max(z, piece.z0), piece.z1))) < 1e-6:
                out.append(t)
    return out


def _torus_roots(piece: st.Piece, q, oz: float, dz: float) -> list[float]:
    """Ray parameters on the torus swept by the arc piece (closed form quartic, Newton-polished)."""
    qa, qb, qc = q
    zc, rc, radius = piece.a, piece.b, piece.c
    g = oz - zc
    # m(t) = q(t) + rc^2 + w(t)^2 - R^2 = 2 rc rho(t);  w = g + dz t
    m2, m1, m0 = qa + dz * dz, qb + 2.0 * g * dz, qc + g * g + rc * rc - radius * radius
    if abs(rc) < 1e-12:
        roots = st.roots_quadratic(m2, m1, m0)
    else:
        k = 4.0 * rc * rc
        poly = [m2 * m2, 2.0 * m2 * m1, m1 * m1 + 2.0 * m2 * m0 - k * qa, 2.0 * m1 * m0 - k * qb,
                m0 * m0 - k * qc]
        while poly and abs(poly[0]) < 1e-300:
            poly.pop(0)
        if len(poly) < 2:
            return []
        roots = [float(r.real) for r in np.roots(poly) if abs(r.imag) <= 1e-6 * (1.0 + abs(r))]
    polished = []
    for t in roots:
        for _ in range(6):
            rho = math.sqrt(max(1e-300, qa * t * t + qb * t + qc))
            w = g + dz * t
            value = (rho - rc) ** 2 + w * w - radius * radius
            slope = 2.0 * (rho - rc) * (2.0 * qa * t + qb) / (2.0 * rho) + 2.0 * w * dz
            if slope == 0.0:
                break
            step = value / slope
            t -= step
            if abs(step) < 1e-15:
                break
        rho = math.sqrt(max(0.0, qa * t * t + qb * t + qc))
        if piece.s * (rho - rc) >= -1e-7:     # on the piece's branch of the circle
            polished.append(t)
    return polished


def _thread_hits(stock: st.Stock, zone: st.ThreadZone, o, d, q) -> list[float]:
    """Ray parameters where the ray crosses the helical groove surface of a thread zone: sampled every
    THREAD_STEP mm where the ray is within the zone's z range and between its deepest tip and its crest,
    each sign change bisected to 1e-11 mm (all vectorised)."""
    qa, qb, qc = q
    lo, hi = zone.z_range
    if abs(d[2]) > 1e-15:
        ta, tb = sorted(((lo - o[2]) / d[2], (hi - o[2]) / d[2]))
    elif lo <= o[2] <= hi:
        ta, tb = 0.0, FAR
    else:
        return []
    top = (st.upper_bound(stock.outer, lo, hi) or 0.0) + 1e-6
    deepest = min(min(p.start[1], p.end[1]) + min(c.min_r() for c in p.chain) for p in zone.passes) - 1e-6
    out: list[float] = []
    for a, b in _rho_band(qa, qb, qc, max(deepest, 0.0), top):
        a, b = max(a, ta, 0.0), min(b, tb)
        if b > a:
            out.extend(_groove_crossings(zone, o, d, q, a, b))
    return out


def _rho_band(qa, qb, qc, r_lo, r_hi) -> list[tuple[float, float]]:
    """t intervals where r_lo <= rho(t) <= r_hi, rho² = qa t² + qb t + qc."""
    if qa <= 1e-18:
        return [(-FAR, FAR)] if r_lo * r_lo <= qc <= r_hi * r_hi else []
    outer = st.roots_quadratic(qa, qb, qc - r_hi * r_hi)
    if len(outer) < 2:
        return []
    t0, t1 = sorted(outer[:2])
    inner = st.roots_quadratic(qa, qb, qc - r_lo * r_lo) if r_lo > 0.0 else []
    if len(inner) < 2:
        return [(t0, t1)]
    s0, s1 = sorted(inner[:2])
    return [(t0, s0), (s1, t1)]


def _groove_crossings(zone: st.ThreadZone, o, d, q, ta: float, tb: float) -> list[float]:
    def gap(ts):
        x, y, z = o[0] + ts * d[0], o[1] + ts * d[1], o[2] + ts * d[2]
        return np.hypot(x, y) - zone.groove_radius_many(np.arctan2(y, x), z)

    n = math.ceil((tb - ta) / THREAD_STEP) + 1
    ts = np.linspace(ta, tb, n + 1)
    below = gap(ts) < 0.0
    idx = np.nonzero(below[:-1] != below[1:])[0]
    if idx.size == 0:
        return []
    a, b = ts[idx].copy(), ts[idx + 1].copy()
    side = below[idx]
    for _ in range(60):
        m = 0.5 * (a + b)
        same = (gap(m) < 0.0) == side
        a = np.where(same, m, a)
        b = np.where(same, b, m)
        if float(np.max(b - a)) < 1e-11:
            break
    return [float(t) for t in 0.5 * (a + b)]


# ---------------------------------------------------------------------------------------- operators

def diameter_at(source, z: float, angle_deg: float = 0.0) -> float | None:
    """Two-point outside diameter at z across the axis at the given angle (micrometer), mm."""
    stock = _stock(source)
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    far = FAR / 10.0
    first = [h for h in ray_hits(stock, (far * c, far * s, z), (-c, -s, 0.0)) if h.entering]
    second = [h for h in ray_hits(stock, (-far * c, -far * s, z), (c, s, 0.0)) if h.entering]
    if not first or not second:
        return None
    return 2.0 * far - first[0].distance - second[0].distance


def diameter_over(source, z0: float, z1: float, mode: str = "max") -> float:
    """Largest ('max') or smallest ('min') outside diameter over [z0, z1] from the exact profile, mm."""
    stock = _stock(source)
    lo, hi = min(z0, z1), max(z0, z1)
    pieces = [p.clip(max(p.z0, lo), min(p.z1, hi)) for p in stock.outer if p.z1 > lo and p.z0 < hi]
    if not pieces:
        raise ValueError(f"no material between Z{lo} and Z{hi}")
    if mode == "max":
        return 2.0 * max(p.max_r() for p in pieces)
    if mode == "min":
        return 2.0 * min(p.min_r() for p in pieces)
    raise ValueError("mode is 'max' or 'min'")


def bore_diameter_at(source, z: float) -> float:
    """Bore diameter at z (0 for solid material), from a ray leaving the axis, mm."""
    stock = _stock(source)
    if inside(stock, 0.0, 0.0, z):
        return 0.0
    hits = [h for h in ray_hits(stock, (0.0, 0.0, z), (1.0, 0.0, 0.0)) if h.entering]
    if not hits:
        raise ValueError(f"no material at Z{z}")
    return 2.0 * hits[0].distance


def face_z(source, radius: float, z_near: float) -> float:
    """Z of the face (material boundary) met by a line parallel to the axis at ``radius`` that lies
    nearest to ``z_near``."""
    stock = _stock(source)
    start = stock.z_right + 10.0
    hits = ray_hits(stock, (radius, 0.0, start), (0.0, 0.0, -1.0))
    if not hits:
        raise ValueError(f"no face at radius {radius}")
    return min((h.point[2] for h in hits), key=lambda zz: abs(zz - z_near))


def length_between_faces(source, z_a: float, radius_a: float, z_b: float, radius_b: float) -> float:
    """Axial distance between the face near z_a (probed at radius_a) and the face near z_b, mm."""
    return abs(face_z(source, radius_a, z_a) - face_z(source, radius_b, z_b))


def _crossings_at(profile: Sequence[st.Piece], radius: float) -> list[float]:
    """z where the profile (with its faces) passes the given radius."""
    out = []
    prev = None
    for piece in profile:
        flat = st.flat_piece(piece.z0, piece.z1, radius)
        out.extend(st.crossings(piece, flat, piece.z0 - 1.0, piece.z1 + 1.0))
        for zz in (piece.z0, piece.z1):
            if abs(piece.r(zz) - radius) < 1e-12:
                out.append(zz)
        if prev is not None:
            a, b = prev.r(prev.z1), piece.r(piece.z0)
            if min(a, b) < radius < max(a, b):
                out.append(piece.z0)
        prev = piece
    return sorted(z for z in out if not math.isnan(z))


def groove(source, z0: float, z1: float, at_radius: float | None = None) -> dict[str, float]:
    """Groove between z0 and z1: bottom diameter (smallest diameter there) and width, measured along
    the axis at ``at_radius`` (default: 0.05 mm above the bottom), mm."""
    stock = _stock(source)
    bottom = diameter_over(stock, z0, z1, "min") / 2.0
    radius = bottom + 0.05 if at_radius is None else at_radius
    lo, hi = min(z0, z1), max(z0, z1)
    bottom_z = None
    for p in stock.outer:
        if p.z1 > lo and p.z0 < hi and abs(p.clip(max(p.z0, lo), min(p.z1, hi)).min_r() - bottom) < 1e-9:
            bottom_z = 0.5 * (max(p.z0, lo) + min(p.z1, hi))
            break
    if bottom_z is None:
        raise ValueError(f"no groove between Z{lo} and Z{hi}")
    zs = _crossings_at(stock.outer, radius)
    left = max((z for z in zs if z <= bottom_z), default=None)
    right = min((z for z in zs if z >= bottom_z), default=None)
    if left is None or right is None:
        raise ValueError("the groove has no walls at that radius")
    return {"bottom_diameter": 2.0 * bottom, "width": right - left, "left_z": left, "right_z": right,
            "at_radius": radius}


def _pieces_in(profile: Sequence[st.Piece], z0: float, z1: float) -> list[st.Piece]:
    lo, hi = min(z0, z1), max(z0, z1)
    return [p for p in profile if p.z1 > lo + 1e-9 and p.z0 < hi - 1e-9]


def chamfer(source, z0: float, z1: float) -> dict[str, float]:
    """The sloped line of the outer profile in [z0, z1]: axial and radial legs, angle to the axis."""
    stock = _stock(source)
    lines = [p for p in _pieces_in(stock.outer, z0, z1) if not p.arc and abs(p.c) > 1e-9]
    if not lines:
        raise ValueError(f"no chamfer between Z{z0} and Z{z1}")
    p = max(lines, key=lambda q: q.z1 - q.z0)
    axial = p.z1 - p.z0
    radial = abs(p.r(p.z1) - p.r(p.z0))
    return {"axial": axial, "radial": radial, "angle_deg": math.degrees(math.atan2(radial, axial)),
            "z0": p.z0, "z1": p.z1, "line": p.line}


def arc(source, z0: float, z1: float, surface: str = "outer") -> dict[str, float]:
    """The (largest) arc of the profile in [z0, z1]: radius, centre (z, r) and program line."""
    stock = _stock(source)
    profile = stock.outer if surface == "outer" else stock.inner
    arcs = [p for p in _pieces_in(profile, z0, z1) if p.arc]
    if not arcs:
        raise ValueError(f"no arc between Z{z0} and Z{z1}")
    p = max(arcs, key=lambda q: q.z1 - q.z0)
    same = [q for q in arcs if abs(q.a - p.a) < 1e-9 and abs(q.b - p.b) < 1e-9 and abs(q.c - p.c) < 1e-9]
    return {"radius": p.c, "centre_z": p.a, "centre_r": p.b, "z0": min(q.z0 for q in same),
            "z1": max(q.z1 for q in same), "line": p.line}


def taper(source, z0: float, z1: float, surface: str = "outer") -> dict[str, float]:
    """Taper of the longest sloped line in [z0, z1]: half angle and included angle (degrees)."""
    stock = _stock(source)
    profile = stock.outer if surface == "outer" else stock.inner
    lines = [p for p in _pieces_in(profile, z0, z1) if not p.arc]
    if not lines:
        raise ValueError(f"no line between Z{z0} and Z{z1}")
    p = max(lines, key=lambda q: q.z1 - q.z0)
    half = math.degrees(math.atan(abs(p.c)))
    return {"half_angle_deg": half, "included_angle_deg": 2.0 * half, "line": p.line,
            "d0": 2.0 * p.r(p.z0), "d1": 2.0 * p.r(p.z1), "z0": p.z0, "z1": p.z1}


def thread(source, index: int = 0) -> dict[str, float]:
    """Thread zone ``index``: major diameter (the ridge top: the turned crest, or lower where the flanks of
    neighbouring grooves meet), minor diameter (deepest pass), pitch (lead,
    single start) and pitch diameter (where groove and ridge are equally wide, from the groove profile the
    passes cut at φ = 0), mm; plus hand and the program line of the final pass."""
    stock = _stock(source)
    if not 0 <= index < len(stock.threads):
        raise ValueError(f"no thread zone {index} (the part has {len(stock.threads)})")
    zone = stock.threads[index]
    passes = zone.passes
    z_mid = 0.5 * (passes[0].start[0] + passes[0].end[0])
    crest = stock.r_out(z_mid)
    tips = [0.5 * (p.start[1] + p.end[1]) if abs(p.start[1] - p.end[1]) < 1e-9 else
            p.start[1] + (p.end[1] - p.start[1]) * (z_mid - p.start[0]) / (p.end[0] - p.start[0])
            for p in passes]
    minor = min(tips)
    lead = zone.lead

    def groove_width(radius: float) -> float:
        """Axial width of the groove below ``radius`` over one lead at φ = 0: the union of the passes'
        V intervals (closed form), folded into one period."""
        intervals = []
        for p, tip in zip(passes, tips):
            span = _below(p.chain, radius - tip)
            if span is not None:
                centre = math.fmod(p.phase_z - z_mid, lead)
                intervals.append((centre + span[0], centre + span[1]))
        return _periodic_union_length(intervals, lead)

    crest = _ridge_top(zone, z_mid, crest)
    lo, hi = minor, crest
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if groove_width(mid) < lead / 2.0:
            lo = mid
        else:
            hi = mid
    last = passes[-1]
    return {"major_diameter": 2.0 * crest, "minor_diameter": 2.0 * minor, "pitch_diameter": lo + hi,
            "pitch": lead, "hand": "right" if zone.hand > 0 else "left", "line": last.line,
            "start_z": passes[0].start[0], "end_z": passes[0].end[0]}


def _ridge_top(zone: st.ThreadZone, z_mid: float, crest: float) -> float:
    """Highest point of the thread's cross-section at φ = 0 over one lead (at most the turned crest):
    sampled every lead/400, then refined by ternary search around the best sample (the ridge is a single
    peak where two flanks meet, or a flat crest)."""
    lead = zone.lead

    def height(u):
        return min(crest, float(zone.groove_radius_many(np.zeros(1), np.array([u]))[0]))

    us = np.linspace(z_mid - lead / 2.0, z_mid + lead / 2.0, 401)
    values = np.minimum(crest, zone.groove_radius_many(np.zeros_like(us), us))
    k = int(np.argmax(values))
    if values[k] >= crest:
        return crest
    a, b = float(us[max(k - 1, 0)]), float(us[min(k + 1, len(us) - 1)])
    for _ in range(100):
        m1, m2 = a + (b - a) / 3.0, b - (b - a) / 3.0
        if height(m1) < height(m2):
            a = m1
        else:
            b = m2
        if b - a < 1e-12:
            break
    return height(0.5 * (a + b))


def _below(chain: Sequence[st.Piece], height: float) -> tuple[float, float] | None:
    """The z interval (relative to the tip) where a convex tool chain lies below ``height``."""
    if not chain:
        return None
    zs = [z for z in _crossings_at(chain, height) if chain[0].z0 <= z <= chain[-1].z1]
    inside = [p for p in chain if p.min_r() < height]
    if not inside:
        return None
    lo = min([z for z in zs] + [chain[-1].z1])
    hi = max([z for z in zs] + [chain[0].z0])
    if chain[0].r(chain[0].z0) < height:
        lo = chain[0].z0
    if chain[-1].r(chain[-1].z1) < height:
        hi = chain[-1].z1
    return (lo, hi) if hi > lo else None


def _periodic_union_length(intervals, period: float) -> float:
    """Length of the union of intervals on a circle of circumference ``period``."""
    pieces = []
    for a, b in intervals:
        if b - a >= period:
            return period
        length = b - a
        a = math.fmod(a, period)
        if a < 0.0:
            a += period
        b = a + length
        if b > period:
            pieces += [(a, period), (0.0, b - period)]
        else:
            pieces.append((a, b))
    pieces.sort()
    total, cur_a, cur_b = 0.0, None, None
    for a, b in pieces:
        if cur_b is None or a > cur_b:
            if cur_b is not None:
                total += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_b is not None:
        total += cur_b - cur_a
    return total


def ra_at(source, z: float, surface: str = "outer") -> float | None:
    """Theoretical Ra = f²/(32 r) in µm of the surface at z, from the feed (mm/rev) and nose radius of the
    pass that cut it; None for raw stock, rapid-cut, or sharp-nosed (r = 0) surfaces."""
    piece = _surface_piece(source, z, surface)
    if piece is None or piece.line == 0 or piece.feed <= 0.0 or piece.nose <= 0.0:
        return None
    return 1000.0 * piece.feed * piece.feed / (32.0 * piece.nose)


def cut_by(source, z: float, surface: str = "outer") -> int:
    """Program line that cut the surface at z (0 = raw stock surface)."""
    piece = _surface_piece(source, z, surface)
    if piece is None:
        raise ValueError(f"no surface at Z{z}")
    return piece.line


def _surface_piece(source, z: float, surface: str) -> st.Piece | None:
    stock = _stock(source)
    profile = stock.outer if surface == "outer" else stock.inner
    return st.piece_at(profile, z)
