"""Segments (segment frame, path.py) → canonical motions of the spindle gauge point in machine coordinates.

- Rapids follow FANUC non-linear positioning (parameter LRP = 0): every axis runs at its own rapid rate
  (24 m/min X/Y, 20 m/min Z by default), so a three-axis G00 is a dog-leg of up to three straight ``rapid``
  motions; the time is the slowest axis's. ``linear_rapid`` in the setup makes it one straight move.
- Arcs (helical too) are one ``arc`` motion in any plane: ``centre`` is the centre in the arc plane through
  the start point (G17: (cx, cy, start z); G18: (cx, start y, cz); G19: (start x, cy, cz)) and ``plane``
  names the plane, so the stock model never has to guess it.
- Every end point (and an arc's extreme points) is checked against the stored stroke limits: OT0500 beyond
  a + limit, OT0501 beyond a − limit.
"""
from __future__ import annotations

import math
from typing import NamedTuple

from ..core.alarms import Alarm
from ..core.motion import Motion
from ..core.runner import Stall
from .machine import MillSetup
from .modal import Modal
from .path import PLANE_AXES, Segment

EPS = 1e-9
AXES = "XYZ"


class MotionContext(NamedTuple):
    """What turns a segment into machine motions: the modal state of its block."""

    setup: MillSetup
    modal: Modal
    offset: tuple[float, float, float]     # segment frame → machine gauge point
    line: int
    program: int

    @property
    def rpm(self) -> float:
        return spindle_rpm(self.modal, self.setup)


def spindle_rpm(modal: Modal, setup: MillSetup) -> float:
    """Spindle speed, rpm (0 when stopped); S above the machine's maximum is clamped."""
    if modal.spindle_dir == 0 or modal.speed <= 0:
        return 0.0
    return min(modal.speed, setup.max_spindle_rpm)


def common_fields(ctx: MotionContext) -> dict:
    m = ctx.modal
    return {"spindle_rpm": ctx.rpm, "spindle_dir": m.spindle_dir, "tool": m.tool, "offset": m.h_number,
            "coolant": m.coolant, "program": ctx.program}


def check_travel(point, setup: MillSetup, line: int) -> None:
    lim = setup.soft_limits
    bounds = ((lim.x_min, lim.x_max), (lim.y_min, lim.y_max), (lim.z_min, lim.z_max))
    for axis, value in enumerate(point):
        lo, hi = bounds[axis]
        if value > hi + 1e-9:
            raise Alarm("OT0500", line, f"{AXES[axis]} would reach machine {value:.3f}, beyond its + limit {hi:g}")
        if value < lo - 1e-9:
            raise Alarm("OT0501", line, f"{AXES[axis]} would reach machine {value:.3f}, beyond its - limit {lo:g}")


def segment_motions(seg: Segment, ctx: MotionContext) -> list:
    """One segment → its machine motions."""
    ox, oy, oz = ctx.offset
    line = seg.line or ctx.line
    start = (seg.start[0] + ox, seg.start[1] + oy, seg.start[2] + oz)
    end = (seg.end[0] + ox, seg.end[1] + oy, seg.end[2] + oz)
    if seg.kind == "rapid":
        return rapid_motions(start, end, line, ctx)
    feed = feed_mm_min(seg, ctx, line)
    if seg.kind == "arc":
        centre = (seg.centre[0] + ox, seg.centre[1] + oy, seg.centre[2] + oz)
        return arc_motions(start, end, centre, seg.clockwise, seg.plane, feed, line, ctx)
    check_travel(end, ctx.setup, line)
    length = math.dist(start, end)
    if length < EPS:
        return []
    return [Motion("feed", line, start, end, feed_mm_min=feed, seconds=60.0 * length / feed, lead=seg.lead,
                   **common_fields(ctx))]


def feed_mm_min(seg: Segment, ctx: MotionContext, line: int) -> float:
    """The feed of a cutting move in mm/min: the segment's own (cycles) or the modal F (× rpm under G95)."""
    if seg.feed is not None:
        feed = seg.feed
    elif ctx.modal.feed_per_rev:
        if ctx.modal.feed <= 0:
            raise Alarm("PS0011", line, "feed per revolution F is 0")
        if ctx.rpm <= 0:
            raise Stall(line, "feed per revolution (G95) with the spindle stopped: the axes do not move")
        feed = ctx.modal.feed * ctx.rpm
    else:
        feed = ctx.modal.feed
    if feed <= 0:
        raise Alarm("PS0011", line, "cutting feed F is 0 (F is 0 after power-on)")
    return feed


def rapid_motions(start, end, line: int, ctx: MotionContext) -> list:
    """G00 from ``start`` to ``end`` (machine): each axis at its own rate, or one straight move."""
    setup = ctx.setup
    check_travel(end, setup, line)
    rates = (setup.rapid_xy_mm_min / 60.0, setup.rapid_xy_mm_min / 60.0, setup.rapid_z_mm_min / 60.0)
    delta = [e - s for s, e in zip(start, end)]
    times = [abs(d) / r for d, r in zip(delta, rates)]
    total = max(times)
    if total < EPS:
        return []
    common = common_fields(ctx)
    if setup.linear_rapid:
        return [Motion("rapid", line, tuple(start), tuple(end), seconds=total, **common)]
    motions, here, clock = [], tuple(start), 0.0
    for t in sorted({round(t, 12) for t in times if t > EPS}):
        point = tuple(s + math.copysign(min(rates[i] * t, abs(delta[i])), delta[i]) if times[i] > EPS else s
                      for i, s in enumerate(start))
        if t >= total - 1e-12:
            point = tuple(end)
        motions.append(Motion("rapid", line, here, point, seconds=t - clock, **common))
        here, clock = point, t
    return motions


def arc_geometry(start, end, centre, clockwise: bool, plane: str) -> tuple:
    """(radius, start angle, signed sweep (CCW +), a, b, n axis indices) of an arc in its plane."""
    a, b, n = PLANE_AXES[plane]
    a0 = math.atan2(start[b] - centre[b], start[a] - centre[a])
    a1 = math.atan2(end[b] - centre[b], end[a] - centre[a])
    radius = math.hypot(start[a] - centre[a], start[b] - centre[b])
    full = math.hypot(end[a] - start[a], end[b] - start[b]) < 1e-9
    if clockwise:
        sweep = -2 * math.pi if full else -((a0 - a1) % (2 * math.pi))
    else:
        sweep = 2 * math.pi if full else (a1 - a0) % (2 * math.pi)
    return radius, a0, sweep, a, b, n


def arc_point(start, end, centre, geometry, t: float) -> tuple:
    radius, a0, sweep, a, b, n = geometry
    angle = a0 + sweep * t
    p = [0.0, 0.0, 0.0]
    p[a] = centre[a] + radius * math.cos(angle)
    p[b] = centre[b] + radius * math.sin(angle)
    p[n] = start[n] + (end[n] - start[n]) * t
    return tuple(p)


def arc_motions(start, end, centre, clockwise: bool, plane: str, feed: float, line: int, ctx: MotionContext) -> list:
    geometry = arc_geometry(start, end, centre, clockwise, plane)
    radius, a0, sweep, _, _, n = geometry
    for q in range(-8, 9):                      # quadrant points the arc passes, for the stroke check
        angle = q * math.pi / 2
        t = (angle - a0) / sweep if sweep else -1.0
        if 0.0 < t < 1.0:
            check_travel(arc_point(start, end, centre, geometry, t), ctx.setup, line)
    check_travel(end, ctx.setup, line)
    length = math.hypot(radius * sweep, end[n] - start[n])
    seconds = 60.0 * length / feed
    centre = list(centre)
    centre[n] = start[n]                        # the centre lies in the arc's plane through the start point
    return [Motion("arc", line, tuple(start), tuple(end), feed_mm_min=feed, centre=tuple(centre),
                   clockwise=clockwise, seconds=seconds, plane=plane, **common_fields(ctx))]


def point_motion(kind: str, position, ctx: MotionContext, seconds: float = 0.0, **changes) -> Motion:
    """A motion that does not move (dwell, spindle, coolant, tool change, stop)."""
    fields = common_fields(ctx)
    fields.update(changes)
    return Motion(kind, ctx.line, tuple(position), tuple(position), seconds=seconds, **fields)

