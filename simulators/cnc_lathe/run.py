"""The whole lathe simulation: program text in, motions, alarms, crashes, stalls, cycle time and the part out.

``simulate`` runs the interpreter and feeds every motion to the exact workpiece; the first alarm, crash or
stall stops the run, as it stops the machine. ``report`` is the JSON object of ``examctl sim lathe --json``.
No I/O here: the command around it reads the files and prints.
"""
from __future__ import annotations

import gc
import math
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

from ..core.alarms import Alarm
from ..core.motion import Motion
from . import measure
from .interpreter import LatheInterpreter, Stall
from .machine import LatheSetup, default_setup
from .workpiece import Crash, Workpiece


@dataclass
class Simulation:
    setup: LatheSetup
    motions: List[Motion] = field(default_factory=list)
    alarms: List[Alarm] = field(default_factory=list)
    crashes: List[Crash] = field(default_factory=list)
    stalls: List[Stall] = field(default_factory=list)
    workpiece: Optional[Workpiece] = None
    blocks: int = 0                  # blocks executed
    completed: bool = False          # reached M02/M30 or the end of the main program

    @property
    def cycle_time_s(self) -> float:
        return sum(m.seconds for m in self.motions)

    @property
    def stopped_at(self) -> Optional[int]:
        """The line where the run stopped early (alarm, crash or stall), None when it completed."""
        for items in (self.alarms, self.crashes, self.stalls):
            if items:
                return items[0].line
        return None


def simulate(program_text: str, setup: Optional[LatheSetup] = None) -> Simulation:
    """Run a program file (one or more O programs; the first is the main program) on ``setup``."""
    setup = setup if setup is not None else default_setup()
    # A run allocates one small object per word, block and motion and keeps most of them: the cyclic
    # garbage collector would rescan them over and over (2–3× the run time on long programs). They hold no
    # reference cycles, so it is paused during the run and restored afterwards.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _simulate(program_text, setup)
    finally:
        if collecting:
            gc.enable()


def _simulate(program_text: str, setup: LatheSetup) -> Simulation:
    workpiece = Workpiece(setup.stock, setup.chuck, setup.tools, setup.part_origin)
    sim = Simulation(setup, workpiece=workpiece)
    interpreter = LatheInterpreter(program_text, setup)
    try:
        for motion in interpreter.motions():
            sim.motions.append(motion)
            crashes = workpiece.apply(motion)
            if crashes:
                sim.crashes.extend(crashes)
                break
        else:
            sim.completed = True
    except Alarm as alarm:
        sim.alarms.append(alarm)
    except Stall as stall:
        sim.stalls.append(stall)
    sim.blocks = interpreter.blocks_run
    return sim


def report(simulation: Simulation, rays: Sequence[Sequence[float]] = ()) -> dict:
    """The ``examctl sim lathe --json`` object. ``rays``: (x, y, z, dx, dy, dz) in the default setup's work
    frame (mm, x radial); each answers with every entry and exit point at distance > 0."""
    return {
        "machine": "lathe",
        "alarms": [_alarm_dict(a) for a in simulation.alarms],
        "crashes": [c.to_dict() for c in simulation.crashes],
        "stalls": [s.to_dict() for s in simulation.stalls],
        "completed": simulation.completed,
        "cycle_time_s": round(simulation.cycle_time_s, 6),
        "motions": len(simulation.motions),
        "blocks": simulation.blocks,
        "rays": [_ray(simulation.workpiece, ray) for ray in rays],
        "profile": simulation.workpiece.profile() if simulation.workpiece is not None else {},
    }


def _alarm_dict(alarm: Alarm) -> dict:
    return {"code": alarm.code, "message": alarm.message, "line": alarm.line, "column": alarm.column,
            "detail": alarm.detail}


def _ray(workpiece: Workpiece, ray: Sequence[float]) -> dict:
    if len(ray) != 6:
        raise ValueError("a ray is X,Y,Z,DX,DY,DZ")
    origin, direction = [float(v) for v in ray[:3]], [float(v) for v in ray[3:]]
    norm = math.sqrt(sum(v * v for v in direction))
    if norm == 0.0:
        raise ValueError("a ray direction cannot be zero")
    unit = [v / norm for v in direction]
    hits = measure.ray_hits(workpiece, origin, unit)
    return {"origin": origin, "direction": direction, "hits": [h.to_dict() for h in hits]}
