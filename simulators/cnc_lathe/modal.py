"""Modal state of the lathe control (frozen: a block builds the next state, so a bad block changes nothing).

Power-on modes (default setup): G00 G18 G21 G40 G54 G97 G99, spindle stopped, coolant off, F0, S0, no
offset active, turret at the setup's initial station.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from .machine import LatheSetup

XZ = Tuple[float, float]


@dataclass(frozen=True)
class Modal:
    motion: str = "G00"              # group 01: G00 G01 G02 G03 G32 G90 G92 G94
    feed_per_rev: bool = True        # G99 (True) / G98
    css: bool = False                # G96 (True) / G97
    inch: bool = False               # G20 (True) / G21
    comp: str = "G40"                # G40 G41 G42
    work: str = "G54"                # G54..G59
    feed: float = 0.0                # F: mm/rev (G99) or mm/min (G98); the thread lead after G32/G92/G76
    speed: float = 0.0               # S: rpm (G97) or m/min (G96)
    spindle_dir: int = 0             # +1 M03, -1 M04, 0 stopped
    coolant: bool = False
    max_rpm: Optional[float] = None  # G50 S clamp (applies in G96); None before any G50 S
    station: int = 1                 # turret station indexed
    offset: int = 0                  # active tool offset number (0 = none)


@dataclass(frozen=True)
class SingleCycle:
    """The last G90/G92/G94 words, repeated by following blocks that give only new axis values."""

    code: str
    x: float                         # work coordinates, x radius
    z: float
    r: float = 0.0                   # taper (radius difference for G90/G92, Z difference for G94)
    lead: float = 0.0                # G92 thread lead, mm


@dataclass(frozen=True)
class CycleParameters:
    """First-block values of the multiple repetitive cycles (parameters on the control)."""

    g71_depth: float = 0.0
    g71_retract: float = 0.0
    g72_depth: float = 0.0
    g72_retract: float = 0.0
    g73_relief_x: float = 0.0
    g73_relief_z: float = 0.0
    g73_divisions: int = 1
    g74_retract: float = 0.0
    g75_retract: float = 0.0
    g76_finish_passes: int = 1
    g76_chamfer_tenths: int = 0
    g76_tip_angle: int = 60
    g76_min_depth: float = 0.0
    g76_finish_allowance: float = 0.0


@dataclass(frozen=True)
class LatheState:
    modal: Modal
    position: XZ                     # machine position of the turret reference point (x radius)
    shift: XZ = (0.0, 0.0)           # G50 X Z coordinate-setting shift of the work coordinate system
    cycle: Optional[SingleCycle] = None
    params: CycleParameters = CycleParameters()
    # Tool-nose compensation in progress: the compensator holds back one segment, so the programmed end
    # point (the base of the next X/U/Z/W) differs from where the tool is. ``compensator`` is a
    # compensation.NoseRadiusCompensator (mutable: the interpreter copies it before a block uses it);
    # ``contexts`` maps the line of a held-back segment to the MotionContext of its block.
    programmed: Optional[XZ] = None
    compensator: Optional[object] = None
    contexts: tuple = ()

    def offset_vector(self, setup: LatheSetup) -> XZ:
        """machine = program + this vector (work offset + external shift + G50 shift + tool offset)."""
        wx, wz = setup.work_offset(self.modal.work)
        ex, ez = setup.external_shift
        tx, tz = tool_offset(setup, self.modal.offset)
        return (wx + ex + self.shift[0] + tx, wz + ez + self.shift[1] + tz)

    def program_position(self, setup: LatheSetup) -> XZ:
        """Where the tool (its imaginary tip) is, in the program frame."""
        ox, oz = self.offset_vector(setup)
        return (self.position[0] - ox, self.position[1] - oz)

    def programmed_position(self, setup: LatheSetup) -> XZ:
        """The end point of the last programmed move (differs from the tool's while compensating)."""
        return self.programmed if self.programmed is not None else self.program_position(setup)


def tool_offset(setup: LatheSetup, number: int) -> XZ:
    if number == 0:
        return (0.0, 0.0)
    entry = setup.offsets.get(number)
    return entry.total if entry is not None else (0.0, 0.0)


def power_on_state(setup: LatheSetup) -> LatheState:
    return LatheState(Modal(station=setup.initial_station), tuple(setup.initial_position))


def evolve(frozen, **changes):
    """``dataclasses.replace(frozen, **changes)`` without its checks and without ``__init__``, which sets every field
    with its own ``object.__setattr__``: for the states and modes that every block of a long program builds.
    Only for the frozen dataclasses here, whose ``__init__`` does nothing else."""
    values = frozen.__dict__.copy()
    values.update(changes)
    new = object.__new__(type(frozen))
    object.__setattr__(new, "__dict__", values)
    return new
