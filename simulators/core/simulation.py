"""Running a program on a machine: the interpreter's motions are fed, one by one, to the workpiece; the first
alarm, crash or stall stops the run, as it stops the machine. Shared by the lathe and the mill, whose
``run`` modules only choose the interpreter and the workpiece and shape the JSON report."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable

from .alarms import Alarm
from .motion import Motion
from .runner import ProgramRunner, Stall


@dataclass
class Simulation:
    setup: Any
    workpiece: Any = None
    motions: list[Motion] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)
    crashes: list = field(default_factory=list)
    stalls: list[Stall] = field(default_factory=list)
    blocks: int = 0                  # blocks executed
    completed: bool = False          # reached M02/M30 or the end of the main program

    @property
    def cycle_time_s(self) -> float:
        return sum(m.seconds for m in self.motions)

    @property
    def stopped_at(self) -> int | None:
        """The line where the run stopped early (alarm, crash or stall), None when it completed."""
        for items in (self.alarms, self.crashes, self.stalls):
            if items:
                return items[0].line
        return None


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector, restoring it afterwards (nests).

    Reading a program and running it allocate one small object per word, block and motion and keep most of them:
    the collector would rescan them over and over (2–3× the time on long programs). They hold no reference
    cycles, so a simulation builds its interpreter (which reads the program) and runs inside this.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def run(make_interpreter: Callable[[], ProgramRunner], workpiece, setup) -> Simulation:
    """Build the interpreter (a ProgramRunner: it reads the program) and feed every motion it makes to
    ``workpiece`` until the program ends or something stops it, with the garbage collector paused (see
    :func:`gc_paused`)."""
    with gc_paused():
        return _run(make_interpreter(), workpiece, setup)


def _run(interpreter, workpiece, setup) -> Simulation:
    sim = Simulation(setup, workpiece)
    try:
        sim.completed = _feed(interpreter, workpiece, sim)
    except Alarm as alarm:
        sim.alarms.append(alarm)
    except Stall as stall:
        sim.stalls.append(stall)
    sim.blocks = interpreter.blocks_run
    return sim


def _feed(interpreter: ProgramRunner, workpiece, sim: Simulation) -> bool:
    """Feed the interpreter's motions to the workpiece: True when the program ends, False at the first crash.
    The loop of ``ProgramRunner.motions()``, without a generator between each motion and the workpiece."""
    motions, apply = sim.motions, workpiece.apply
    step = interpreter.step
    while not interpreter.ended:
        for motion in step():
            motions.append(motion)
            crashes = apply(motion)
            if crashes:
                sim.crashes.extend(crashes)
                return False
    return True
