"""Program-frame segments → machine motions: arc geometry, spindle speed (G96 with its clamp), feed and
rapid times, the soft travel limits and the stall of a feed per revolution with the spindle stopped.

Times: feeds at F (G98, mm/min) or F × rpm (G99), integrated over the radius in G96; threads at lead × rpm along
the longer axis; rapids with each axis at its own rate (FANUC non-linear positioning: a dog-leg of up to two
``rapid`` motions) unless the setup asks for linear rapids.
"""
from __future__ import annotations

import math
from typing import NamedTuple, Optional

from ..core.alarms import Alarm
from ..core.motion import Motion
from ..core.runner import Stall
from .machine import LatheSetup
from .modal import Modal
from .path import Segment

EPS = 1e-9


class MotionContext(NamedTuple):
    """What turns a program-coordinate segment into machine motions: the modal state of its block."""

    setup: LatheSetup
    modal: Modal
    offset: tuple          # (x, z) program → machine
    line: int
    program: int


# ------------------------------------------------------------------------------------------------ geometry

def arc_centre(start, end, clockwise: bool, r: Optional[float], i: Optional[float], k: Optional[float],
               tolerance: float, line: int) -> tuple:
    """Arc centre (x radius, z) in the program frame. R (negative: more than 180°) or I/K (radius values,
    incremental from the start). PS0022 without either, PS0020 when the end is off the circle by more than
    ``tolerance``."""
    (x0, z0), (x1, z1) = start, end
    if r is not None:
        if abs(r) < EPS:
            raise Alarm("PS0022", line, "R0 is not an arc")
        # Work in the (u=z, v=x) plane, where G03 is counter-clockwise.
        du, dv = z1 - z0, x1 - x0
        chord = math.hypot(du, dv)
        if chord < EPS:
            raise Alarm("PS0022", line, "an R arc needs an end point different from its start")
        half = chord / 2.0
        if half - abs(r) > tolerance:
            raise Alarm("PS0020", line, f"R{abs(r):.3f} is shorter than half the chord {half:.3f}")
        depth = math.sqrt(max(r * r - half * half, 0.0))
        left = (-dv / chord, du / chord)              # left normal of the chord
        side = -1.0 if clockwise else 1.0             # minor CCW arc: centre on the left
        if r < 0:
            side = -side
        cu = (z0 + z1) / 2.0 + side * depth * left[0]
        cv = (x0 + x1) / 2.0 + side * depth * left[1]
        return (cv, cu)
    if i is None and k is None:
        raise Alarm("PS0022", line, "G02/G03 without R or I/K")
    centre = (x0 + (i or 0.0), z0 + (k or 0.0))
    r0 = math.hypot(x0 - centre[0], z0 - centre[1])
    r1 = math.hypot(x1 - centre[0], z1 - centre[1])
    if abs(r1 - r0) > tolerance:
        raise Alarm("PS0020", line, f"start radius {r0:.4f} and end radius {r1:.4f} differ by more than "
                                    f"{tolerance}")
    return centre


def arc_sweep(seg: Segment) -> tuple:
    """(radius, start angle, signed sweep) in the (u=z, v=x) plane; positive sweep is G03."""
    cx, cz = seg.centre
    a0 = math.atan2(seg.start[0] - cx, seg.start[1] - cz)
    a1 = math.atan2(seg.end[0] - cx, seg.end[1] - cz)
    radius = math.hypot(seg.start[0] - cx, seg.start[1] - cz)
    if seg.clockwise:
        sweep = -((a0 - a1) % (2 * math.pi))
    else:
        sweep = (a1 - a0) % (2 * math.pi)
    if abs(sweep) < 1e-12 and (abs(seg.start[0] - seg.end[0]) + abs(seg.start[1] - seg.end[1])) < 1e-9:
        sweep = -2 * math.pi if seg.clockwise else 2 * math.pi   # I/K full circle
    return radius, a0, sweep


def arc_point(seg: Segment, t: float) -> tuple:
    radius, a0, sweep = arc_sweep(seg)
    a = a0 + sweep * t
    return (seg.centre[0] + radius * math.sin(a), seg.centre[1] + radius * math.cos(a))


def arc_extremes(seg: Segment) -> list:
    """End points plus the quadrant points the arc passes (for the travel-limit check)."""
    radius, a0, sweep = arc_sweep(seg)
    points = [seg.start, seg.end]
    for q in range(-8, 9):
        a = q * math.pi / 2
        t = (a - a0) / sweep if sweep else -1
        if 0 < t < 1:
            points.append((seg.centre[0] + radius * math.sin(a), seg.centre[1] + radius * math.cos(a)))
    return points


def segment_length(seg: Segment) -> float:
    if seg.kind == "arc":
        radius, _, sweep = arc_sweep(seg)
        return abs(radius * sweep)
    return math.hypot(seg.end[0] - seg.start[0], seg.end[1] - seg.start[1])


# ------------------------------------------------------------------------------------------------ spindle, time

def spindle_rpm(modal: Modal, x_radius: float, setup: LatheSetup) -> float:
    """Spindle speed (rpm) with the tool at program radius ``x_radius``; 0 when stopped or S counts as 0."""
    if modal.spindle_dir == 0 or modal.speed <= 0:
        return 0.0
    if not modal.css:
        return min(modal.speed, setup.max_spindle_rpm)
    limit = setup.max_spindle_rpm if modal.max_rpm is None else min(modal.max_rpm, setup.max_spindle_rpm)
    r = abs(x_radius)
    if r < EPS:
        return limit
    return min(1000.0 * modal.speed / (2.0 * math.pi * r), limit)


def feed_seconds(seg: Segment, feed: float, ctx: MotionContext) -> float:
    """Time of a feed/arc move at ``feed`` (mm/rev in G99, mm/min in G98); G96 integrates over the path."""
    rpm = spindle_rpm(ctx.modal, seg.start[0], ctx.setup)
    if seg.kind == "arc":
        return _path_seconds(segment_length(seg), lambda t: arc_point(seg, t)[0], rpm, feed, ctx)
    return line_seconds(seg.start, seg.end, rpm, feed, ctx)


def line_seconds(start: tuple, end: tuple, rpm: float, feed: float, ctx: MotionContext) -> float:
    """:func:`feed_seconds` of a straight feed from program point ``start`` (spindle at ``rpm`` there) to ``end``."""
    (x0, z0), (x1, z1) = start, end
    return _path_seconds(math.hypot(x1 - x0, z1 - z0), lambda t: x0 + (x1 - x0) * t, rpm, feed, ctx)


def _path_seconds(length: float, x_at, rpm: float, feed: float, ctx: MotionContext) -> float:
    """Time along a path of ``length`` whose radius at fraction t is ``x_at(t)``; ``rpm`` is the speed at its start."""
    modal = ctx.modal
    if length < EPS:
        return 0.0
    if not modal.feed_per_rev:
        return 60.0 * length / feed
    if not modal.css:
        return 60.0 * length / (feed * rpm)
    steps = 64    # Simpson's rule over the path; rpm changes with the radius
    total = 0.0
    for k in range(steps + 1):
        weight = 1 if k in (0, steps) else (4 if k % 2 else 2)
        total += weight / spindle_rpm(modal, x_at(k / steps), ctx.setup)
    return 60.0 * length / feed * total / (3.0 * steps)


def check_travel(points, ctx: MotionContext) -> None:
    lim = ctx.setup.soft_limits
    for x, z in points:
        if x > lim.x_max + 1e-9 or z > lim.z_max + 1e-9:
            axis = "X" if x > lim.x_max + 1e-9 else "Z"
            raise Alarm("OT0500", ctx.line, f"{axis} beyond its + stroke limit")
        if x < lim.x_min - 1e-9 or z < lim.z_min - 1e-9:
            axis = "X" if x < lim.x_min - 1e-9 else "Z"
            raise Alarm("OT0501", ctx.line, f"{axis} beyond its - stroke limit")


def segment_motions(seg: Segment, ctx: MotionContext) -> list:
    """One program-frame segment → machine motions of the turret reference point."""
    line = seg.line or ctx.line
    if seg.kind == "rapid" or seg.kind == "feed":
        return straight_motions(seg.kind == "rapid", seg.start, seg.end, line, seg.feed, ctx, motion_template(ctx))
    ox, oz = ctx.offset
    to_machine = lambda p: (p[0] + ox, p[1] + oz)  # noqa: E731
    start, end = to_machine(seg.start), to_machine(seg.end)
    modal, setup = ctx.modal, ctx.setup
    common = dict(tool=modal.station, offset=modal.offset, coolant=modal.coolant, program=ctx.program,
                  spindle_dir=modal.spindle_dir)
    rpm = spindle_rpm(modal, seg.start[0], setup)
    extremes = [to_machine(p) for p in arc_extremes(seg)] if seg.kind == "arc" else [end]
    check_travel(extremes, ctx)
    if seg.kind == "thread":
        if rpm <= 0:
            raise Stall(line, "thread cutting with the spindle stopped: the axes wait for the spindle")
        lead = seg.lead
        if lead <= 0:
            raise Alarm("PS0011", line, "thread lead F is 0")
        travel = max(abs(seg.end[0] - seg.start[0]), abs(seg.end[1] - seg.start[1]))
        seconds = 60.0 * travel / (lead * rpm)
        return [Motion("thread", line, start, end, feed_mm_min=lead * rpm, spindle_rpm=rpm, lead=lead,
                       seconds=seconds, **common)]
    feed = seg.feed if seg.feed is not None else modal.feed
    if feed <= 0:
        raise Alarm("PS0011", line, "feed is 0")
    if modal.feed_per_rev and rpm <= 0:
        raise Stall(line, "feed per revolution (G99) with the spindle stopped: the axes do not move")
    seconds = feed_seconds(seg, feed, ctx)
    per_min = feed * rpm if modal.feed_per_rev else feed
    centre = to_machine(seg.centre)
    return [Motion("arc", line, start, end, feed_mm_min=per_min, spindle_rpm=rpm, centre=centre,
                   clockwise=seg.clockwise, seconds=seconds, **common)]


def straight_motions(rapid: bool, start: tuple, end: tuple, line: int, feed: Optional[float], ctx: MotionContext,
                     template: dict) -> list:
    """A straight rapid or feed (at ``feed``, or the modal F when None) from program point ``start`` to ``end`` →
    machine motions. The commonest segment: the interpreter's fast path for plain G00/G01 blocks calls this
    directly, with ``template`` (:func:`motion_template` of ``ctx``) kept from block to block."""
    ox, oz = ctx.offset
    machine_start, machine_end = (start[0] + ox, start[1] + oz), (end[0] + ox, end[1] + oz)
    modal = ctx.modal
    rpm = spindle_rpm(modal, start[0], ctx.setup)
    check_travel((machine_end,), ctx)
    if rapid:
        return rapid_motions(machine_start, machine_end, line, rpm, ctx.setup, template)
    if feed is None:
        feed = modal.feed
    if feed <= 0:
        raise Alarm("PS0011", line, "feed is 0")
    if modal.feed_per_rev and rpm <= 0:
        raise Stall(line, "feed per revolution (G99) with the spindle stopped: the axes do not move")
    seconds = line_seconds(start, end, rpm, feed, ctx)
    per_min = feed * rpm if modal.feed_per_rev else feed
    return [new_motion(template, "feed", line, machine_start, machine_end, rpm, seconds, per_min)]


class PlainMoves:
    """:func:`straight_motions` for the plain G00/G01 blocks run in one state and program frame (the interpreter's
    fast path), with what those blocks share worked out once: the same motions, alarms and stalls."""

    __slots__ = ("state", "frame", "ctx", "modal", "offset", "dpi", "template", "rpm", "limits", "feeds",
                 "divisor", "feed_template", "other")

    def __init__(self, state, ctx: MotionContext, frame):
        self.state = state              # the LatheState this kit is for (the interpreter checks it block by block)
        self.frame = frame              # and the program frame
        self.ctx = ctx
        modal = self.modal = ctx.modal
        self.offset = ctx.offset
        self.dpi = ctx.setup.decimal_point_input
        self.template = motion_template(ctx)
        lim = ctx.setup.soft_limits
        self.limits = (lim.x_min - 1e-9, lim.x_max + 1e-9, lim.z_min - 1e-9, lim.z_max + 1e-9)
        self.other = None               # the interpreter's kit for the other motion code, G00 or G01
        rpm = self.rpm = None if modal.css else spindle_rpm(modal, 0.0, ctx.setup)   # G96: rpm varies with x
        # feeds made here: not in G96, nor those that raise PS0011 or stall (straight_motions raises them)
        self.feeds = rpm is not None and modal.feed > 0 and not (modal.feed_per_rev and rpm <= 0)
        if self.feeds:                  # a feed's time is 60 × length / divisor (see _path_seconds)
            self.divisor = modal.feed * rpm if modal.feed_per_rev else modal.feed
            per_min = modal.feed * rpm if modal.feed_per_rev else modal.feed
            self.feed_template = dict(self.template, kind="feed", feed_mm_min=per_min, spindle_rpm=rpm)

    def motions(self, rapid: bool, position: tuple, x, z, u, w, line: int) -> list:
        """The motions of a straight move from machine ``position`` to X (a diameter) or U, and Z or W, in mm (None
        when absent): ``straight_motions(rapid, start, end, line, None, ctx of line, template)`` in the program
        frame."""
        ox, oz = self.offset
        sx, sz = position[0] - ox, position[1] - oz
        ex = x / 2.0 if x is not None else (sx + u / 2.0 if u is not None else sx)
        ez = z if z is not None else (sz + w if w is not None else sz)
        if not rapid and not self.feeds or self.rpm is None:
            ctx = self.ctx._replace(line=line)
            return straight_motions(rapid, (sx, sz), (ex, ez), line, None, ctx, self.template)
        end = (ex + ox, ez + oz)
        x_min, x_max, z_min, z_max = self.limits
        if not (x_min <= end[0] <= x_max and z_min <= end[1] <= z_max):
            check_travel((end,), self.ctx._replace(line=line))
        if rapid:
            return rapid_motions((sx + ox, sz + oz), end, line, self.rpm, self.ctx.setup, self.template)
        length = _hypot(ex - sx, ez - sz)
        values = self.feed_template.copy()      # new_motion(template, "feed", …) with what the kit's feeds share
        values["line"] = line
        values["start"] = (sx + ox, sz + oz)
        values["end"] = end
        values["seconds"] = 0.0 if length < EPS else 60.0 * length / self.divisor
        motion = object.__new__(Motion)
        object.__setattr__(motion, "__dict__", values)
        return [motion]


_hypot = math.hypot


def rapid_motions(start, end, line: int, rpm: float, setup: LatheSetup, template: dict) -> list:
    """G00: each axis at its own rapid rate (non-linear positioning), or one straight move (linear)."""
    dx, dz = end[0] - start[0], end[1] - start[1]
    tx = abs(dx) / setup.rapid_x_mm_min * 60.0
    tz = abs(dz) / setup.rapid_z_mm_min * 60.0
    if abs(dx) < EPS and abs(dz) < EPS:
        return []
    if setup.linear_rapid or tx < EPS or tz < EPS or abs(tx - tz) < 1e-12:
        return [new_motion(template, "rapid", line, start, end, rpm, max(tx, tz))]
    t1 = min(tx, tz)
    sx = math.copysign(setup.rapid_x_mm_min / 60.0 * t1, dx) if tx > t1 else dx
    sz = math.copysign(setup.rapid_z_mm_min / 60.0 * t1, dz) if tz > t1 else dz
    corner = (start[0] + sx, start[1] + sz)
    return [new_motion(template, "rapid", line, start, corner, rpm, t1),
            new_motion(template, "rapid", line, corner, end, rpm, max(tx, tz) - t1)]


# ------------------------------------------------------------------------------------------------ motions

_MOTION_DEFAULTS = dict(Motion("rapid", 0, (), ()).__dict__)     # every field in order, with its default


def motion_template(ctx: MotionContext) -> dict:
    """The fields that the straight motions of a block share: Motion's defaults with the block's tool, offset,
    coolant, spindle direction and program (for :func:`new_motion`)."""
    modal = ctx.modal
    return dict(_MOTION_DEFAULTS, tool=modal.station, offset=modal.offset, coolant=modal.coolant,
                program=ctx.program, spindle_dir=modal.spindle_dir)


def new_motion(template: dict, kind: str, line: int, start: tuple, end: tuple, spindle_rpm: float, seconds: float,
               feed_mm_min: float = 0.0) -> Motion:
    """The same Motion as ``Motion(kind, line, start, end, feed_mm_min=…, spindle_rpm=…, seconds=…, **template's
    other fields)``, built without the frozen dataclass ``__init__``, which sets the 16 fields one
    ``object.__setattr__`` at a time: that was a third of the cost of a move in the air."""
    values = template.copy()
    values["kind"] = kind
    values["line"] = line
    values["start"] = start
    values["end"] = end
    values["feed_mm_min"] = feed_mm_min
    values["spindle_rpm"] = spindle_rpm
    values["seconds"] = seconds
    motion = object.__new__(Motion)
    object.__setattr__(motion, "__dict__", values)
    return motion
