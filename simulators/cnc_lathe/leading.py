"""Non-cutting faces that lead a move: where they go, exactly, so that they can be checked against the
material present BEFORE the move.

Why: the stock lowers r_out(z) to the lower envelope of the swept tool, so everything above a tool counts
as removed, whichever part of the tool got there. A point of material is removed by the first part of the
tool to reach it. Along a move of direction d, that is a point of the tool's *leading* boundary (outward
normal n with n·d > 0); so a non-cutting part crashes when a leading non-cutting face sweeps into material
that was there before the move. A face of one part lying inside (or on) another part of the same tool is
not on the tool's boundary (the holder behind the insert, the blade's top on the holder) and is dropped.

Frames and shapes are those of :mod:`stock` (``(z, r)`` relative to the tool's imaginary tip). Every
non-cutting element of the default tools is straight, so a face is a segment ``(p0, p1, normal)``; its
sweep along a line is a parallelogram and along an arc a region bounded by the face at both ends, the
arcs its end points trace and the face where the path runs parallel to it: all exact lines and arcs.
Known limit: a face is taken as the first to arrive at the material it sweeps; a cutting part of another
shape lying ahead of it, across a gap of air, is not credited (no default tool has such a gap).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from . import stock as st

INSIDE_TOL = 1e-9     # mm: a face this close to another part's boundary counts as covered by it

Face = tuple[tuple[float, float], tuple[float, float], float]   # p0, p1, outward normal angle (rad)


def exposed_faces(shape: st.Shape, others: Sequence[st.Shape]) -> tuple[Face, ...]:
    """The non-cutting faces of ``shape`` not covered by one of the ``others`` (same tool, same frame)."""
    out: list[Face] = []
    for element in shape.elements:
        if element.cutting:
            continue
        if element.arc:
            raise ValueError(f"shape {shape.name!r}: non-cutting arcs are not modelled")
        normal = element.normal_angle()
        for s, t in _uncovered(element.p0, element.p1, others):
            out.append((_lerp(element.p0, element.p1, s), _lerp(element.p0, element.p1, t), normal))
    return tuple(out)


def _lerp(p, q, t):
    return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))


def _uncovered(p0, p1, others: Sequence[st.Shape]) -> list[tuple[float, float]]:
    """Parameter intervals of the segment p0–p1 lying outside every shape of ``others``."""
    cuts = {0.0, 1.0}
    for shape in others:
        for element in shape.elements:
            cuts.update(t for t in _crossings(p0, p1, element) if 0.0 < t < 1.0)
    ts = sorted(cuts)
    kept: list[tuple[float, float]] = []
    for s, t in zip(ts, ts[1:]):
        if t - s < 1e-12:
            continue
        mid = _lerp(p0, p1, 0.5 * (s + t))
        if any(_inside(shape, mid) for shape in others):
            continue
        if kept and abs(kept[-1][1] - s) < 1e-12:
            kept[-1] = (kept[-1][0], t)
        else:
            kept.append((s, t))
    return kept


def _crossings(p0, p1, element: st.Element) -> list[float]:
    """Parameters t where the segment's line meets the element's line or circle."""
    dz, dr = p1[0] - p0[0], p1[1] - p0[1]
    if element.arc:
        cz, cr = p0[0] - element.p0[0], p0[1] - element.p0[1]
        return st.roots_quadratic(dz * dz + dr * dr, 2.0 * (cz * dz + cr * dr),
                                  cz * cz + cr * cr - element.radius ** 2)
    ez, er = element.p1[0] - element.p0[0], element.p1[1] - element.p0[1]
    denom = dz * er - dr * ez
    if abs(denom) < 1e-15:
        return []
    return [((element.p0[0] - p0[0]) * er - (element.p0[1] - p0[1]) * ez) / denom]


def _inside(shape: st.Shape, q) -> bool:
    """q in the closed convex shape (within INSIDE_TOL): left of every line element (CCW), and within
    the circle of every arc element whose angular span holds q."""
    for e in shape.elements:
        if e.arc:
            angle = math.atan2(q[1] - e.p0[1], q[0] - e.p0[0])
            within_span = math.fmod(angle - e.t0, st.TWO_PI) % st.TWO_PI <= e.t1 - e.t0
            if within_span and math.dist(q, e.p0) > e.radius + INSIDE_TOL:
                return False
        else:
            ez, er = e.p1[0] - e.p0[0], e.p1[1] - e.p0[1]
            cross = ez * (q[1] - e.p0[1]) - er * (q[0] - e.p0[0])
            if cross < -INSIDE_TOL * math.hypot(ez, er):
                return False
    return True


# ---------------------------------------------------------------------------------------------- sweeps

def sweep_faces(faces: Sequence[Face], path: tuple, tags: dict) -> list[st.Piece]:
    """Lower envelope of the regions the faces sweep while they lead the move ``path`` (a ``("line",
    start, end)`` or ``("arc", centre, radius, a0, a1, ccw, start, end)`` of tip positions)."""
    regions: list[list[st.Piece]] = []
    for face in faces:
        if path[0] == "line":
            regions.append(_sweep_line(face, path[1], path[2], tags))
            continue
        _, centre, radius, a0, a1, ccw, _start, end = path
        regions.extend(_sweep_arc(face, centre, radius, a0, a1, ccw, tags))
        # an arc whose end radius differs (within the control's tolerance) finishes on a line
        arc_end = (centre[0] + radius * math.cos(a1), centre[1] + radius * math.sin(a1))
        if math.dist(arc_end, end) > 1e-9:
            regions.append(_sweep_line(face, arc_end, end, tags))
    return st.envelope_of(regions)


def _sweep_line(face: Face, start, end, tags: dict) -> list[st.Piece]:
    """The parallelogram the face sweeps from tip position ``start`` to ``end``, when it leads."""
    (p0, p1, normal) = face
    d = (end[0] - start[0], end[1] - start[1])
    if math.cos(normal) * d[0] + math.sin(normal) * d[1] <= 1e-12:
        return []
    a = (start[0] + p0[0], start[1] + p0[1])
    b = (start[0] + p1[0], start[1] + p1[1])
    # leading means the face turns clockwise into d, so this order is counter-clockwise
    corners = [a, (a[0] + d[0], a[1] + d[1]), (b[0] + d[0], b[1] + d[1]), b]
    region = st.polygon_shape(tags.get("part", "face"), corners)
    return st.chain_at(region, (0.0, 0.0), tags)      # the polygon's elements are non-cutting


def _sweep_arc(face: Face, centre, radius, a0, a1, ccw, tags: dict) -> list[list[st.Piece]]:
    """Candidates bounding, from below, the region the face sweeps along the arc while it leads: it
    leads where sin(normal - θ) > 0 counter-clockwise, sin(θ - normal) > 0 clockwise."""
    lo, hi = _span(a0, a1, ccw)
    p0, p1, normal = face
    first = normal - math.pi if ccw else normal
    out = []
    for s, e in st._angle_pieces(first, first + math.pi, lo, hi):
        out.extend(_arc_candidates(p0, p1, normal, centre, radius, s, e, tags))
    return out


def _span(a0: float, a1: float, ccw: bool) -> tuple[float, float]:
    lo, hi = (a0, a1) if ccw else (a1, a0)
    while hi <= lo + 1e-15:
        hi += st.TWO_PI
    return lo, hi


def _arc_candidates(p0, p1, normal, centre, radius, lo, hi, tags) -> list[list[st.Piece]]:
    """Face at both ends, end points' arcs, face where the path is parallel to it (see stock.sweep_arc)."""
    def at(t):
        return (centre[0] + radius * math.cos(t), centre[1] + radius * math.sin(t))

    def placed(origin):
        piece = st.line_piece((p0[0] + origin[0], p0[1] + origin[1]), (p1[0] + origin[0], p1[1] + origin[1]),
                              cutting=False, **tags)
        return [piece] if piece is not None else []

    out = [placed(at(lo)), placed(at(hi))]
    for v in (p0, p1):
        out.append(st._arc_pieces((centre[0] + v[0], centre[1] + v[1]), radius, lo, hi, False, tags))
    for base in (normal, normal + math.pi):
        for k in range(-3, 4):
            t = base + k * st.TWO_PI
            if lo < t < hi:
                out.append(placed(at(t)))
    return [st.envelope_of(st.layers(p for c in out for p in c))]
