"""The benchmark's exam part (benchmarks/programs/exam_part_1.nc) machines to its drawing.

Drawing (diameters): M20×1.5 to Z-16, undercut 5×2 from Z-16 to Z-21 (Ø16), Ø24 from Z-21 to Z-24, taper to
Ø30 at Z-30, Ø30 to Z-38, R4 arc to Ø38 at Z-42, Ø42 face, C1 chamfer to Ø44 at Z-43, Ø44 to Z-62.
Every expectation below is read off that drawing; none comes from a simulator run.
"""
import math
from pathlib import Path

import pytest

from simulators.cnc_lathe.measure import ray_hits
from simulators.cnc_lathe.run import simulate

PROGRAM = Path(__file__).resolve().parents[2] / "benchmarks" / "programs" / "exam_part_1.nc"


@pytest.fixture(scope="module")
def part():
    result = simulate(PROGRAM.read_text())
    assert result.alarms == [] and result.crashes == [] and result.stalls == []
    return result


def first_radius(part, z: float, angle: float = 0.0) -> float:
    """Radial distance of the first material point seen from outside at `z`, looking at `angle`."""
    c, s = math.cos(angle), math.sin(angle)
    point = ray_hits(part.workpiece, (100 * c, 100 * s, z), (-c, -s, 0.0))[0].point
    return math.hypot(point[0], point[1])


@pytest.mark.parametrize("z, diameter", [
    (-35.0, 30.0),      # Ø30 section between the taper and the arc
    (-27.0, 27.0),      # taper Ø24 at Z-24 → Ø30 at Z-30: halfway, Ø27
    (-22.5, 24.0),      # Ø24 between the undercut and the taper
    (-18.5, 16.0),      # undercut bottom, cut by both plunges of the 3 mm grooving blade
    (-50.0, 44.0),      # Ø44, finished by G70 to the end of the shape
    (-61.0, 44.0),
])
def test_diameters(part, z, diameter):
    assert 2 * first_radius(part, z) == pytest.approx(diameter, abs=0.001)


def test_thread_root_is_the_minor_diameter(part):
    # G76 X18.05: round the thread every ray sees the root or a flank, never below Ø18.05 nor above the
    # Ø19.8 turned major diameter, and some angle sees the root itself.
    radii = [first_radius(part, -8.0, 2 * math.pi * step / 24) for step in range(24)]
    assert min(radii) == pytest.approx(18.05 / 2, abs=0.001)
    assert max(radii) <= 19.8 / 2 + 0.001
