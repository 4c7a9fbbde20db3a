"""The whole mill simulation: program text in; motions, alarms, crashes, stalls, cycle time and the part out.

``simulate`` runs the interpreter and feeds every motion to M1's :class:`~.workpiece.Workpiece`; the first
alarm, crash or stall stops the run, as it stops the machine. ``report`` is the JSON object of
``examctl sim mill --json`` (the lathe's contract: same keys, plus ``heightmap_shape``); ``heightmap`` is the
display array for ``--heightmap``. No I/O here.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..core.simulation import Simulation, run
from .interpreter import MillInterpreter
from .machine import MillSetup, default_setup
from .workpiece import Workpiece


def simulate(program_text: str, setup: MillSetup | None = None) -> Simulation:
    """Run a program file (one or more O programs; the first is the main program) on ``setup``."""
    setup = setup if setup is not None else default_setup()
    workpiece = Workpiece(setup.stock, setup.vise, setup.tools, setup.part_origin)
    return run(lambda: MillInterpreter(program_text, setup), workpiece, setup)


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
