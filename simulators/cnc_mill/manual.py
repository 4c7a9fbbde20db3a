"""Manual moves of the machining centre (JOG, INC, HANDLE, manual rapid) as canonical motions.

A manual move is one straight :class:`~simulators.core.motion.Motion` of the spindle gauge point along one axis,
made exactly like a program move (kind ``feed`` at the jog or handle rate, ``rapid`` with the RAPID key), so the
workpiece cuts and crashes on it as it does on a G01 or G00: trial cuts and touching off work for real. Manual
moves carry line 0 and program 0 (no program block made them).

Stored stroke limit 1 is checked only on referenced axes (the control arms it at reference return): a move that
would pass a limit stops there and raises OT0500 (+) or OT0501 (−), as the axis decelerates to the limit.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.alarms import Alarm
from ..core.motion import Motion
from .machine import MillSetup

AXES = "xyz"
EPS = 1e-9


@dataclass(frozen=True)
class SpindleState:
    """What a motion records about the spindle: speed (0 when stopped), direction, tool, H number, coolant."""

    rpm: float = 0.0
    direction: int = 0
    tool: int = 0
    h_number: int = 0
    coolant: bool = False


@dataclass(frozen=True)
class ManualMove:
    motion: Motion | None        # None when the axis cannot move at all (already at the limit, zero distance)
    alarm: Alarm | None          # OT0500/OT0501 when the move stopped at a stroke limit


def axis_index(axis: str) -> int:
    """'x'/'X' → 0 …; ValueError for anything else."""
    if not isinstance(axis, str) or axis.lower() not in AXES or len(axis) != 1:
        raise ValueError(f"no axis {axis!r} on this machine (X, Y, Z)")
    return AXES.index(axis.lower())


def stroke_bounds(setup: MillSetup, index: int) -> tuple[float, float]:
    limits = setup.soft_limits
    return ((limits.x_min, limits.x_max), (limits.y_min, limits.y_max), (limits.z_min, limits.z_max))[index]


def clip_to_stroke(setup: MillSetup, start: float, distance: float, index: int) -> tuple[float, Alarm | None]:
    """The axis end after ``distance`` from ``start``, stopped at the stroke limit (with its alarm)."""
    low, high = stroke_bounds(setup, index)
    end = start + distance
    letter = AXES[index].upper()
    if distance > 0 and end > high + EPS:
        return max(start, high), Alarm("OT0500", 0, f"{letter} stopped at its + stroke limit, machine {high:g}")
    if distance < 0 and end < low - EPS:
        return min(start, low), Alarm("OT0501", 0, f"{letter} stopped at its - stroke limit, machine {low:g}")
    return end, None


def manual_move(setup: MillSetup, start: tuple[float, float, float], axis: str, distance: float, rate_mm_min: float,
                rapid: bool, spindle: SpindleState, referenced: bool = True) -> ManualMove:
    """Move ``axis`` by ``distance`` mm from ``start`` (machine gauge point) at ``rate_mm_min``.

    ``rapid`` makes a ``rapid`` motion (the RAPID key), otherwise a ``feed`` at the jog/handle rate. The time is
    length / rate. Raises ValueError for a bad axis or a rate ≤ 0 (the caller checks events first)."""
    index = axis_index(axis)
    if not rate_mm_min > 0.0:
        raise ValueError("a manual move needs a positive rate")
    alarm = None
    end_value = start[index] + distance
    if referenced:
        end_value, alarm = clip_to_stroke(setup, start[index], distance, index)
    length = abs(end_value - start[index])
    if length < EPS:
        return ManualMove(None, alarm)
    end = list(start)
    end[index] = end_value
    motion = Motion("rapid" if rapid else "feed", 0, tuple(start), tuple(end),
                    feed_mm_min=0.0 if rapid else rate_mm_min, spindle_rpm=spindle.rpm, spindle_dir=spindle.direction,
                    tool=spindle.tool, offset=spindle.h_number, coolant=spindle.coolant,
                    seconds=60.0 * length / rate_mm_min)
    return ManualMove(motion, alarm)


__all__ = ["ManualMove", "SpindleState", "axis_index", "clip_to_stroke", "manual_move", "stroke_bounds"]
