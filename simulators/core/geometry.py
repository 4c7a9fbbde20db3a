"""Plane geometry shared by the machines: 2D vectors, lines, circles, arcs.

Points are ``(u, v)`` tuples in a right-handed view (u to the right, v up): ``cross(a, b) > 0`` means
``b`` turns left (counter-clockwise) from ``a``, and an arc that is not ``clockwise`` runs
counter-clockwise. A machine maps its own axes into this view (the mill's G17 is (X, Y); its G18 is
(Z, X) seen from +Y; the lathe's (Z right, X up) view is (z, x)).
"""
from __future__ import annotations

import math

Vec = tuple[float, float]

ANGLE_EPS = 1e-9  # rad


def add(p: Vec, q: Vec, k: float = 1.0) -> Vec:
    """p + k·q"""
    return (p[0] + k * q[0], p[1] + k * q[1])


def sub(p: Vec, q: Vec) -> Vec:
    return (p[0] - q[0], p[1] - q[1])


def dot(p: Vec, q: Vec) -> float:
    return p[0] * q[0] + p[1] * q[1]


def cross(p: Vec, q: Vec) -> float:
    """z of p × q: > 0 when q points to the left of p."""
    return p[0] * q[1] - p[1] * q[0]


def unit(v: Vec) -> Vec:
    n = math.hypot(v[0], v[1])
    return (v[0] / n, v[1] / n)


def dist(p: Vec, q: Vec) -> float:
    return math.hypot(p[0] - q[0], p[1] - q[1])


def left_normal(t: Vec) -> Vec:
    """``t`` turned by +90 degrees."""
    return (-t[1], t[0])


def line_line(p1: Vec, t1: Vec, p2: Vec, t2: Vec) -> list[Vec]:
    """Intersection of the infinite lines p1 + s·t1 and p2 + s·t2 (empty when parallel)."""
    den = cross(t1, t2)
    if abs(den) <= 1e-12:
        return []
    s = cross(sub(p2, p1), t2) / den
    return [add(p1, t1, s)]


def line_circle(p: Vec, t: Vec, c: Vec, rho: float) -> list[Vec]:
    """Intersections of the line p + s·t (t a unit vector) with the circle (c, rho); a tangent line
    gives its touching point twice."""
    f = sub(p, c)
    b = dot(f, t)
    disc = b * b - (dot(f, f) - rho * rho)
    if disc < -1e-12 * max(1.0, rho * rho):
        return []
    root = math.sqrt(max(disc, 0.0))
    return [add(p, t, -b - root), add(p, t, -b + root)]


def circle_circle(c1: Vec, r1: float, c2: Vec, r2: float) -> list[Vec]:
    """Intersections of two circles (touching circles give their touching point twice)."""
    d = dist(c1, c2)
    if d <= 1e-12 or d > r1 + r2 + 1e-9 or d < abs(r1 - r2) - 1e-9:
        return []
    a = (r1 * r1 - r2 * r2 + d * d) / (2 * d)
    h = math.sqrt(max(r1 * r1 - a * a, 0.0))
    u = unit(sub(c2, c1))
    mid = add(c1, u, a)
    perp = left_normal(u)
    return [add(mid, perp, h), add(mid, perp, -h)]


def angle(centre: Vec, point: Vec) -> float:
    """Polar angle (rad) of ``point`` about ``centre``, counter-clockwise from +u."""
    return math.atan2(point[1] - centre[1], point[0] - centre[0])


def turn_between(phi_from: float, phi_to: float, clockwise: bool) -> float:
    """How far (rad, in [0, 2pi)) an arc turning in its direction goes from phi_from to phi_to."""
    d = (phi_from - phi_to) if clockwise else (phi_to - phi_from)
    return d % (2 * math.pi)


def signed_turn(clockwise: bool, phi_from: float, phi_to: float) -> float:
    """Rotation (rad, in (-pi, pi]) from phi_from to phi_to, positive in the arc's direction."""
    d = (phi_from - phi_to) if clockwise else (phi_to - phi_from)
    d = (d + math.pi) % (2 * math.pi) - math.pi
    return d if d > -math.pi else d + 2 * math.pi


def arc_sweep(centre: Vec, start: Vec, end: Vec, clockwise: bool) -> float:
    """Angle (rad, > 0) an arc turns through; an arc that ends where it starts is a full circle."""
    sweep = turn_between(angle(centre, start), angle(centre, end), clockwise)
    return sweep if sweep > ANGLE_EPS and 2 * math.pi - sweep > ANGLE_EPS else 2 * math.pi


def arc_tangent(centre: Vec, point: Vec, clockwise: bool) -> Vec:
    """Unit direction of travel of an arc at ``point``."""
    radial = unit(sub(point, centre))
    t = left_normal(radial)
    return (-t[0], -t[1]) if clockwise else t


def arc_point(centre: Vec, radius: float, phi: float) -> Vec:
    return (centre[0] + radius * math.cos(phi), centre[1] + radius * math.sin(phi))


def point_segment_distance(p: Vec, a: Vec, b: Vec) -> float:
    """Distance from ``p`` to the closed segment a–b."""
    ab = sub(b, a)
    length2 = dot(ab, ab)
    if length2 <= 1e-24:
        return dist(p, a)
    s = min(1.0, max(0.0, dot(sub(p, a), ab) / length2))
    return dist(p, add(a, ab, s))


def point_arc_distance(p: Vec, centre: Vec, start: Vec, end: Vec, clockwise: bool) -> float:
    """Distance from ``p`` to an arc (the arc's own points only, not the full circle)."""
    radius = dist(centre, start)
    phi0 = angle(centre, start)
    sweep = arc_sweep(centre, start, end, clockwise)
    if dist(p, centre) > 1e-12 and turn_between(phi0, angle(centre, p), clockwise) <= sweep:
        return abs(dist(p, centre) - radius)
    return min(dist(p, start), dist(p, end))
