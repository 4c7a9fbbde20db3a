"""The whole lathe simulation: program text in, motions, alarms, crashes, stalls, cycle time and the part out.

``simulate`` runs the interpreter and feeds every motion to the exact workpiece; the first alarm, crash or
stall stops the run, as it stops the machine. ``report`` is the JSON object of ``examctl sim lathe --json``.
No I/O here: the command around it reads the files and prints.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from ..core.alarms import Alarm
from ..core.simulation import Simulation, run
from .interpreter import LatheInterpreter
from .machine import LatheSetup, default_setup
from .workpiece import Workpiece


def simulate(program_text: str, setup: LatheSetup | None = None) -> Simulation:
    """Run a program file (one or more O programs; the first is the main program) on ``setup``."""
    setup = setup if setup is not None else default_setup()
    workpiece = Workpiece(setup.stock, setup.chuck, setup.tools, setup.part_origin)
    return run(lambda: LatheInterpreter(program_text, setup), workpiece, setup)


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
    from . import measure  # numpy: imported only when rays are asked for

    hits = measure.ray_hits(workpiece, origin, unit)
    return {"origin": origin, "direction": direction, "hits": [h.to_dict() for h in hits]}
