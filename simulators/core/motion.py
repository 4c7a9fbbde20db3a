"""Canonical motions: the one output of an interpreter.

The stock model, the cycle-time count and the browser animation all consume these; none of them
re-reads G-code. Names follow the canonical machining functions of RS274 interpreters.

Coordinates
-----------
Lathe positions are ``(x, z)`` in millimetres, **x as a radius** (never a diameter), of the turret
reference point in *machine* coordinates. The physical tool decides where its cutting edge is relative
to that point, so a tool-setting mistake cuts the part where the real machine would. Arc direction is
that of FANUC, seen from +Y: in the plane with Z to the right and X up, ``clockwise=True`` is G02.

Mill positions are ``(x, y, z)`` of the spindle gauge point in machine coordinates.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional, Tuple

Point = Tuple[float, ...]

MotionKind = Literal[
    "rapid",        # straight traverse (G00), never cuts
    "feed",         # straight feed (G01 and cycle feeds)
    "arc",          # arc feed (G02/G03); centre and clockwise are set
    "thread",       # spindle-synchronised straight feed (G32, G92, G76); lead is set
    "dwell",        # G04; seconds
    "spindle",      # spindle speed or direction changed; spindle_rpm, spindle_dir
    "coolant",      # M08/M09; coolant
    "tool_change",  # turret index (lathe T) or M06 (mill); tool, offset
    "stop",         # M00/M01/M02/M30: program stop or end
]


@dataclass(frozen=True)
class Motion:
    """One canonical motion, stamped with the 1-based program-file line of the block that made it."""

    kind: MotionKind
    line: int
    start: Point
    end: Point
    feed_mm_min: float = 0.0          # effective feed for feed/arc/thread moves (after G99 × rpm)
    spindle_rpm: float = 0.0          # at the start of the move; 0 when stopped
    spindle_dir: int = 0              # +1 M03, -1 M04, 0 stopped
    tool: int = 0                     # turret station or tool number in the spindle
    offset: int = 0                   # active offset number (0 = none)
    centre: Optional[Point] = None    # arc centre, machine coordinates
    clockwise: bool = False           # arc: True for G02
    lead: float = 0.0                 # thread lead, mm per revolution (along Z for the lathe)
    seconds: float = 0.0              # time this motion takes (cycle time is the sum)
    coolant: bool = False
    program: int = 0                  # O number of the program holding the block
    plane: str = ""                   # mill arcs: "G17", "G18" or "G19" (empty: not given, lathe)
