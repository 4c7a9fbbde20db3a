"""The whole mill simulation: program text in; motions, alarms, crashes, stalls, cycle time and the part out.

``simulate`` runs the interpreter and feeds every motion to M1's :class:`~.workpiece.Workpiece`; the first
alarm, crash or stall stops the run, as it stops the machine. ``report`` is the JSON object of
``examctl sim mill --json`` (the lathe's contract: same keys, plus ``heightmap_shape``); ``heightmap`` is the
display array for ``--heightmap``. No I/O here.
"""
from __future__ import annotations

import gc
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core.alarms import Alarm
from ..core.motion import Motion
from ..core.runner import Stall
from .interpreter import MillInterpreter
from .machine import MillSetup, default_setup
from .workpiece import Crash, Workpiece


@dataclass
class Simulation:
    setup: MillSetup
    motions: list[Motion] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)
    crashes: list[Crash] = field(default_factory=list)
    stalls: list[Stall] = field(default_factory=list)
    workpiece: Workpiece | None = None
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


def simulate(program_text: str, setup: MillSetup | None = None) -> Simulation:
    """Run a program file (one or more O programs; the first is the main program) on ``setup``."""
    setup = setup if setup is not None else default_setup()
    collecting = gc.isenabled()
    gc.disable()     # many small acyclic objects: the cyclic collector would only rescan them (as the lathe)
    try:
        return _simulate(program_text, setup)
    finally:
        if collecting:
            gc.enable()


def _simulate(program_text: str, setup: MillSetup) -> Simulation:
    workpiece = Workpiece(setup.stock, setup.vise, setup.tools, setup.part_origin)
    sim = Simulation(setup, workpiece=workpiece)
    interpreter = MillInterpreter(program_text, setup)
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


def heightmap(simulation: Simulation) -> np.ndarray:
    """The display heightmap: float32, shape (ny, nx), row 0 at the smallest Y, column 0 at the smallest X,
    values the top Z of each cell centre in the default setup's work frame."""
    return simulation.workpiece.heightmap()


def report(simulation: Simulation, rays: Sequence[Sequence[float]] = ()) -> dict:
    """The ``examctl sim mill --json`` object. ``rays``: (x, y, z, dx, dy, dz) in the default setup's G54 work
    frame (whatever transforms the program used); each answers with every entry and exit at distance > 0."""
    grid = simulation.workpiece.grid if simulation.workpiece is not None else None
    return {
        "machine": "mill",
        "alarms": [a.to_dict() for a in simulation.alarms],
        "crashes": [c.to_dict() for c in simulation.crashes],
        "stalls": [s.to_dict() for s in simulation.stalls],
        "completed": simulation.completed,
        "cycle_time_s": round(simulation.cycle_time_s, 6),
        "motions": len(simulation.motions),
        "blocks": simulation.blocks,
        "rays": [_ray(simulation.workpiece, ray) for ray in rays],
        "heightmap_shape": [grid.ny, grid.nx] if grid is not None else [],
    }


def _ray(workpiece: Workpiece, ray: Sequence[float]) -> dict:
    if len(ray) != 6:
        raise ValueError("a ray is X,Y,Z,DX,DY,DZ")
    origin, direction = [float(v) for v in ray[:3]], [float(v) for v in ray[3:]]
    norm = math.sqrt(sum(v * v for v in direction))
    if norm == 0.0:
        raise ValueError("a ray direction cannot be zero")
    hits = workpiece.ray_hits(origin, [v / norm for v in direction])
    return {"origin": origin, "direction": direction, "hits": [h.to_dict() for h in hits]}
