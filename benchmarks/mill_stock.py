"""Mill stock benchmark: a realistic exam program expanded to about 2,000 moves on the default block.

Figures printed: moves, median wall time of 5 full replays (display heightmap at 0.1 mm + exact model +
crash checks), and the median cost of an exact probe. Targets (issue 4): ≤ 2 s and ≤ 5 ms.

Run: ``.venv/bin/python -m benchmarks.mill_stock`` (or ``python benchmarks/mill_stock.py``).
"""
from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulators.cnc_mill.tools import default_tools
from simulators.cnc_mill.workpiece import DEFAULT_PART_ORIGIN, Workpiece
from simulators.core.motion import Motion

TOOLS = default_tools()
SAFE = 5.0


class Program:
    """Builds motions from work-frame tip positions, as a G43 program would produce them."""

    def __init__(self) -> None:
        self.motions: list[Motion] = []
        self.pos = (0.0, 0.0, 100.0)
        self.tool = 0
        self.rpm = 0.0
        self.feed = 0.0

    def _machine(self, p):
        ox, oy, oz = DEFAULT_PART_ORIGIN
        drop = TOOLS[self.tool].length if self.tool else 0.0
        return (p[0] + ox, p[1] + oy, p[2] + oz + drop)

    def _add(self, kind, end, centre=None, cw=False) -> None:
        self.motions.append(Motion(kind, len(self.motions) + 1, self._machine(self.pos), self._machine(end),
                                   feed_mm_min=self.feed, spindle_rpm=self.rpm, spindle_dir=1, tool=self.tool,
                                   centre=self._machine(centre) if centre else None, clockwise=cw))
        self.pos = end

    def use(self, tool: int, rpm: float, feed: float) -> None:
        self.tool, self.rpm, self.feed = tool, rpm, feed
        self.pos = (self.pos[0], self.pos[1], 100.0)

    def rapid(self, x=None, y=None, z=None) -> None:
        self._add("rapid", self._to(x, y, z))

    def line(self, x=None, y=None, z=None) -> None:
        self._add("feed", self._to(x, y, z))

    def arc(self, x, y, i, j, cw=False, z=None) -> None:
        end = self._to(x, y, z)
        self._add("arc", end, (self.pos[0] + i, self.pos[1] + j, self.pos[2]), cw)

    def _to(self, x, y, z) -> tuple[float, float, float]:
        px, py, pz = self.pos
        return (px if x is None else x, py if y is None else y, pz if z is None else z)


def exam_program() -> list[Motion]:
    """Face, contour a rounded boss, clear a pocket, a macro ellipse, a helical bore, ball fillet,
    and a drilled/tapped pattern: the shape of a 高级 数控铣工 part."""
    p = Program()
    # face 0.5 mm with the Ø16 (enters from the side: it is not centre cutting)
    p.use(7, 2000, 600)
    p.rapid(-60, -36, 100)
    p.rapid(z=-0.5)
    for k, y in enumerate(range(-36, 41, 12)):
        p.line(y=float(y))
        p.line(x=60.0 if k % 2 == 0 else -60.0)
    p.rapid(z=100)
    # outer boss 80 x 64 with R8 corners, 5 depths of 1 mm (T1, contour offset by R5)
    p.use(1, 2500, 500)
    hx, hy, r = 45.0, 37.0, 13.0
    p.rapid(-60, 0, 100)
    for depth in range(1, 6):
        z = -0.5 - depth
        p.rapid(-60, 0, SAFE)
        p.line(z=z)
        p.line(x=-hx)
        p.line(y=hy - r)
        p.arc(-hx + r, hy, r, 0, cw=True)
        p.line(x=hx - r)
        p.arc(hx, hy - r, 0, -r, cw=True)
        p.line(y=-hy + r)
        p.arc(hx - r, -hy, -r, 0, cw=True)
        p.line(x=-hx + r)
        p.arc(-hx, -hy + r, 0, r, cw=True)
        p.line(y=0)
        p.line(x=-60)
        p.rapid(z=SAFE)
    # rectangular pocket 30 x 20 at (-15, 10), zigzag with T2, 6 levels
    p.use(2, 3500, 400)
    for level in range(1, 7):
        z = -0.5 - level
        p.rapid(-27, 3, SAFE)
        p.line(z=z)
        for k, y in enumerate([3 + 2 * i for i in range(8)]):
            p.line(y=float(y))
            p.line(x=-3.0 if k % 2 == 0 else -27.0)
        p.rapid(z=SAFE)
    # macro ellipse pocket wall a=14, b=9 at (20, 8): G01 chords every 1°, 3 levels
    for level in range(1, 5):
        z = -0.5 - 1.5 * level
        p.rapid(20 + 11, 8, SAFE)
        p.line(z=z)
        for deg in range(1, 361):
            t = math.radians(deg)
            p.line(20 + 11 * math.cos(t), 8 + 6 * math.sin(t))
        p.rapid(z=SAFE)
    # helical bore Ø20 at (-20, -20) with T1: 4 turns of 1 mm, then a finishing circle
    p.use(1, 2500, 300)
    p.rapid(-15, -20, SAFE)
    p.rapid(z=-0.5)
    for turn in range(1, 5):
        p.arc(-15, -20, -5, 0, z=-0.5 - turn)
    p.arc(-15, -20, -5, 0)
    p.rapid(z=SAFE)
    # ball fillet R3 on the boss's long top edges: 30 levels of sloped passes with T3
    p.use(3, 4000, 800)
    for k in range(30):
        a = math.radians(3.0 * k)
        off = 4.0 + 3.0 - 3.0 * math.cos(a) - 4.0
        z = -0.5 - 3.0 + 3.0 * math.sin(a) - 4.0 + 4.0
        p.rapid(-40, hy - 5 + 5 + off, SAFE)
        p.line(z=z)
        p.line(x=40, z=z - 0.05)
        p.rapid(z=SAFE)
    # 16 holes on a 30 x 20 grid: centre drill, G83 drill 5 pecks, tap
    holes = [(x, y) for x in (-30.0, -10.0, 10.0, 30.0) for y in (-30.0, -26.0, 26.0, 30.0)]
    for tool, rpm, feed, depth, pecks in ((4, 1500, 100, -3.0, 1), (5, 800, 120, -18.0, 5), (6, 200, 300, -14.0, 1)):
        p.use(tool, rpm, feed)
        for x, y in holes:
            p.rapid(x, y, SAFE)
            p.rapid(z=-0.5 + 2.0)
            step = (depth + 0.5) / pecks
            for k in range(1, pecks + 1):
                if k > 1:
                    p.rapid(z=-0.5 + step * (k - 1) + 0.5)
                p.line(z=-0.5 + step * k)
                p.rapid(z=-0.5 + 2.0)
            p.rapid(z=SAFE)
    return p.motions


def replay(motions: list[Motion]) -> tuple[Workpiece, list]:
    wp = Workpiece()
    crashes = []
    for m in motions:
        crashes += wp.apply(m)
    return wp, crashes


def probes() -> list[tuple[tuple[float, float, float], tuple[float, float, float]]]:
    rays = []
    for k in range(20):
        y = -38.0 + 4.0 * k
        rays.append(((-60.0, y, -3.2), (1.0, 0.0, 0.0)))          # across boss, pocket, ellipse
        rays.append(((-60.0 + 6.0 * k, -50.0, -4.5), (0.0, 1.0, 0.0)))
        rays.append(((-48.0 + 5.0 * k, 9.0, 10.0), (0.0, 0.0, -1.0)))
    return rays


def main() -> None:
    motions = exam_program()
    times, cpu = [], []
    for _ in range(5):
        start, start_cpu = time.perf_counter(), time.process_time()
        wp, crashes = replay(motions)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    rays = probes()
    probe_times = []
    for origin, direction in rays:
        start = time.perf_counter()
        wp.ray_hits(origin, direction)
        probe_times.append(time.perf_counter() - start)
    print(f"mill stock: {len(motions)} moves, {len(wp.model.sweeps)} sweeps recorded, crashes {len(crashes)}")
    print(f"  replay (heightmap 0.1 mm + exact model + crash checks): median {statistics.median(times):.3f} s "
          f"of 5 (min {min(times):.3f} s; CPU median {statistics.median(cpu):.3f} s), target <= 2 s")
    print(f"  exact probe: median {1000 * statistics.median(probe_times):.2f} ms, "
          f"max {1000 * max(probe_times):.2f} ms over {len(rays)} rays, target <= 5 ms")


if __name__ == "__main__":
    main()
