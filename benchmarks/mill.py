"""Mill benchmark (issue 4): a realistic 数控铣工 exam program, written as G-code, through the whole simulator.

`benchmarks/programs/mill_part_1.nc` (face, a G41 boss contour with arcs at 4 levels, a zigzag pocket with a
G41 finish, a macro ellipse pocket with semi-finish and finish passes, 6 holes spotted with G81, peck-drilled
with G83 and rigid-tapped with G84) expands to about 2,200 moves. One run = `simulate()`: interpreter, display
heightmap at 0.1 mm, exact model and every crash check. Then 66 exact probes across the finished part
(each timed 3 times; per ray the median).
Targets: ≤ 2 s median per run, ≤ 5 ms per probe.

Run: ``.venv/bin/python -m benchmarks mill`` (or ``python benchmarks/mill.py``).
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HERE = Path(__file__).resolve().parent
MOVES = ("rapid", "feed", "arc")


def probes() -> list[tuple[tuple[float, float, float], tuple[float, float, float]]]:
    """Horizontal rays across the boss, both pockets and the holes, and vertical rays onto floors."""
    rays = []
    for k in range(20):
        rays.append(((-60.0, -30.0 + 3.0 * k, -3.0), (1.0, 0.0, 0.0)))
        rays.append(((-44.0 + 4.5 * k, -50.0, -4.0), (0.0, 1.0, 0.0)))
        rays.append(((-40.0 + 4.0 * k, 8.0, 10.0), (0.0, 0.0, -1.0)))
    for x in (-37.5, -22.5, -7.5, 7.5, 22.5, 37.5):
        rays.append(((x, -22.0, -10.0), (0.7071067811865476, 0.7071067811865476, 0.0)))
    return rays


def main(runs: int = 5) -> None:
    from simulators.cnc_mill.run import simulate

    program = (HERE / "programs" / "mill_part_1.nc").read_text()
    times, cpu = [], []
    sim = None
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        sim = simulate(program)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    moves = sum(1 for m in sim.motions if m.kind in MOVES)
    probe_times = []            # per ray: the median of 3 repeats (a single call can meet a GC pause)
    for origin, direction in probes():
        repeats = []
        for _ in range(3):
            started = time.perf_counter()
            sim.workpiece.ray_hits(origin, direction)
            repeats.append(time.perf_counter() - started)
        probe_times.append(statistics.median(repeats))
    print(f"mill.exam_program moves={moves} sweeps={len(sim.workpiece.model.sweeps)} alarms={len(sim.alarms)} "
          f"crashes={len(sim.crashes)} completed={sim.completed} median_s={statistics.median(times):.3f} "
          f"max_s={max(times):.3f} cpu_median_s={statistics.median(cpu):.3f} "
          f"probe_median_ms={1000 * statistics.median(probe_times):.2f} probe_max_ms={1000 * max(probe_times):.2f}")


if __name__ == "__main__":
    main()
