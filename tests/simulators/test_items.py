"""Measurement items (simulators/cnc_lathe/items.py, simulators/cnc_mill/items.py) on parts made by short
programs through `simulate()`. Every expected value is worked out by hand from the program in the comment
beside it; none comes from a run of the code under test."""
import math

import pytest

from simulators.cnc_lathe import items as lathe_items
from simulators.cnc_lathe.run import simulate as lathe_simulate
from simulators.cnc_mill import items as mill_items
from simulators.cnc_mill.run import simulate as mill_simulate

# Default lathe setup: Ø50 stock, work zero on the axis at its right end face; G42 makes the programmed
# profile the finished surface (R0.8 nose). The C2 chamfer is entered on its extension from X28 Z1, so the
# nose leaves no radius where it meets the end face.
PROFILE = """O0002
G99 G97 G40 G54
T0101
M03 S800
G00 X52. Z2.
G71 U1.5 R0.5
G71 P10 Q20 U0.5 W0.05 F0.25
N10 G00 G42 X28.
G01 Z1. F0.1
X34. Z-2.
Z-8.
X40. Z-18.
Z-22.
G03 X48. Z-26. R4.
G01 Z-35.
N20 X52.
G70 P10 Q20
G00 G40 X100. Z100.
M30
"""

# Ø46 to Z-40, Ø40 to Z-20 (uncompensated: the R0.8 nose leaves its imaginary tip's diameters exactly on
# straight passes), a 3 mm groove plunged to Ø34 with its left corner at Z-10, and an M40×2 thread by G92
# from Z4 to Z-6 with the last pass at X37.4.
STEPS = """O0003
G99 G97 T0101 M03 S800
G00 X52. Z2.
G01 X46. F0.2
Z-40.
X52.
G00 Z2.
G01 X40.
Z-20.
X46.
G00 X100. Z100.
T0303 M03 S400
G00 X44. Z-10.
G01 X34. F0.05
G00 X44.
X100. Z100.
T0404 M03 S600
G00 X42. Z4.
G92 X39.2 Z-6. F2.
X38.6
X38.
X37.4
G00 X100. Z100.
M30
"""

# Default mill setup: block 100 × 80 × 30, G54 at the centre of its top face, H1 = T1's gauge length.
# A Ø10 slot 4 deep along X through the block at Y0, and two Ø10 flat-bottomed plunges 6 deep at
# (±20, -25).
SLOT_AND_HOLES = """O0004
G21 G17 G40 G49 G80 G90 G94 G54
T1 M06
M03 S1000
G00 X-60. Y0.
G43 Z20. H1
Z-4.
G01 X60. F200
G00 Z20.
X20. Y-25.
Z2.
G01 Z-6. F60
G00 Z2.
X-20.
G01 Z-6.
G00 Z20.
M05
M30
"""


def _finished(simulation):
    assert simulation.alarms == [] and simulation.crashes == [] and simulation.stalls == []
    assert simulation.completed
    return simulation.workpiece


@pytest.fixture(scope="module")
def profile():
    return _finished(lathe_simulate(PROFILE))


@pytest.fixture(scope="module")
def steps():
    return _finished(lathe_simulate(STEPS))


@pytest.fixture(scope="module")
def slotted():
    return _finished(mill_simulate(SLOT_AND_HOLES))


def item(operator, args, nominal=None, upper=None, lower=None, limits=None, ident="i"):
    entry = {"id": ident, "label": ident, "operator": operator, "args": args}
    if limits is not None:
        entry["limits"] = limits
    else:
        entry.update(nominal=nominal, upper=upper, lower=lower)
    return entry


def measured(measure_items, workpiece, entry, work_zero=None):
    [result] = measure_items(workpiece, [entry], work_zero)
    return result


def lathe_value(workpiece, operator, args, work_zero=None):
    result = measured(lathe_items.measure_items, workpiece, item(operator, args, limits=[None, 1e9]), work_zero)
    assert "error" not in result, result
    return result["measured"]


def mill_value(workpiece, operator, args, work_zero=None):
    result = measured(mill_items.measure_items, workpiece, item(operator, args, limits=[None, 1e9]), work_zero)
    assert "error" not in result, result
    return result["measured"]


# ------------------------------------------------------------------------------------------------ lathe

@pytest.mark.parametrize("z, diameter", [
    (-5.0, 34.0),     # Ø34 between the C2 chamfer (Z-2) and the taper (Z-8)
    (-13.0, 37.0),    # taper Ø34 at Z-8 → Ø40 at Z-18: halfway, Ø37
    (-20.0, 40.0),
    (-30.0, 48.0),
])
def test_outer_diameter_on_the_compensated_profile(profile, z, diameter):
    assert lathe_value(profile, "outer_diameter", {"z": z}) == pytest.approx(diameter, abs=1e-6)


def test_taper_chamfer_and_arc(profile):
    # taper: radius 17 → 20 over 10 mm: included angle 2·atan(3/10) = 33.3985°
    assert lathe_value(profile, "taper_angle", {"z0": -17.0, "z1": -9.0}) == pytest.approx(
        2 * math.degrees(math.atan(0.3)), abs=1e-4)
    # chamfer X30 Z0 → X34 Z-2: 2 mm along the axis, 2 mm radially (C2)
    assert lathe_value(profile, "chamfer_axial", {"z0": -3.0, "z1": 0.0}) == pytest.approx(2.0, abs=1e-6)
    assert lathe_value(profile, "chamfer_radial", {"z0": -3.0, "z1": 0.0}) == pytest.approx(2.0, abs=1e-6)
    # G03 X48 Z-26 R4 from Ø40 at Z-22
    assert lathe_value(profile, "arc_radius", {"z0": -26.0, "z1": -22.0}) == pytest.approx(4.0, abs=1e-6)


def test_diameter_range_operators(profile):
    # over Z-34..-3: smallest Ø34 (the chamfer is outside the range), largest Ø48 (the R0.8 fillet the nose
    # leaves at the Z-35 face is outside it too)
    assert lathe_value(profile, "outer_diameter_min", {"z0": -34.0, "z1": -3.0}) == pytest.approx(34.0, abs=1e-6)
    assert lathe_value(profile, "outer_diameter_max", {"z0": -34.0, "z1": -3.0}) == pytest.approx(48.0, abs=1e-6)


def test_length_groove_and_roughness(steps):
    # end face Z0 (probed on Ø10) to the Ø40/Ø46 shoulder at Z-20 (probed on Ø43)
    assert lathe_value(steps, "length", {"z_a": 0.0, "x_a": 10.0, "z_b": -20.0, "x_b": 43.0}) == pytest.approx(20.0)
    # grooving blade 3 wide, left corner at Z-10: walls at Z-10 and Z-7, bottom Ø34
    assert lathe_value(steps, "groove_width", {"z0": -12.0, "z1": -6.5}) == pytest.approx(3.0, abs=1e-6)
    assert lathe_value(steps, "groove_diameter", {"z0": -12.0, "z1": -6.5}) == pytest.approx(34.0, abs=1e-6)
    # Ra = f²/(32 r) = 0.2² / (32 · 0.8) mm = 1.5625 µm on the Ø46 pass
    assert lathe_value(steps, "roughness_ra", {"z": -30.0}) == pytest.approx(1.5625, abs=1e-6)


def test_thread_operators(steps):
    # G92 passes with a straight infeed, all in phase: the deepest (X37.4) holds the others. Sharp 60° V:
    # width at radius r is 2 (r − 18.7) tan 30°; it is P/2 = 1 at r − 18.7 = 0.5 / tan 30° = 0.866025.
    assert lathe_value(steps, "thread_pitch", {"z": -3.0}) == pytest.approx(2.0)
    assert lathe_value(steps, "thread_minor_diameter", {"z": -3.0}) == pytest.approx(37.4, abs=1e-6)
    assert lathe_value(steps, "thread_pitch_diameter", {"z": -3.0}) == pytest.approx(37.4 + 1.732051, abs=1e-5)
    # at the Ø40 crest the groove is 2 · 1.3 · tan 30° = 1.501 wide < the 2 mm lead: a flat crest stays
    assert lathe_value(steps, "thread_major_diameter", {"z": -3.0}) == pytest.approx(40.0, abs=1e-6)


def test_work_zero_moves_the_item_arguments(steps):
    # work zero 5 mm into the bar: work Z-25 is stock Z-30 (Ø46) and work Z-15 is stock Z-20 (the shoulder)
    work_zero = {"z": -5.0}
    assert lathe_value(steps, "outer_diameter", {"z": -25.0}, work_zero) == pytest.approx(46.0, abs=1e-6)
    assert lathe_value(steps, "length", {"z_a": 5.0, "x_a": 10.0, "z_b": -15.0, "x_b": 43.0},
                       work_zero) == pytest.approx(20.0)


def test_tolerance_verdict_and_deviation(steps):
    ok = measured(lathe_items.measure_items, steps, item("outer_diameter", {"z": -15.0}, 40.0, 0.0, -0.025))
    assert ok["ok"] and ok["low"] == pytest.approx(39.975) and ok["high"] == 40.0
    assert ok["deviation"] == pytest.approx(0.0, abs=1e-6)
    # the same Ø40 against 40 −0.05/−0.10: 0.05 above the upper limit
    out = measured(lathe_items.measure_items, steps, item("outer_diameter", {"z": -15.0}, 40.0, -0.05, -0.1))
    assert not out["ok"] and out["measured"] == pytest.approx(40.0, abs=1e-6)


def test_a_missing_feature_or_bad_item_is_a_result_not_an_exception(steps):
    no_thread = measured(lathe_items.measure_items, steps, item("thread_pitch", {"z": -30.0}, 2.0, 0.0, 0.0))
    assert no_thread["ok"] is False and no_thread["measured"] is None and "no thread" in no_thread["error"]
    unknown = measured(lathe_items.measure_items, steps, item("roundness", {}, 0.0, 0.0, 0.0))
    assert unknown["ok"] is False and "operator" in unknown["error"]
    # Ra of a raw stock surface (Z-60 was never cut) is not defined
    raw = measured(lathe_items.measure_items, steps, item("roughness_ra", {"z": -60.0}, limits=[None, 3.2]))
    assert raw["ok"] is False and raw["measured"] is None


# ------------------------------------------------------------------------------------------------- mill

def test_slot_width_depth_and_wall(slotted):
    # Ø10 slot centred on Y0: walls at Y±5, floor at Z-4
    assert mill_value(slotted, "gap_width", {"point": [0, 0, -2], "direction": [0, 1]}) == pytest.approx(10.0)
    assert mill_value(slotted, "depth", {"at": [0, 0]}) == pytest.approx(4.0)
    assert mill_value(slotted, "step_height", {"high": [0, 20], "low": [0, 0]}) == pytest.approx(4.0)
    # material from the slot wall Y5 to the block face Y40
    assert mill_value(slotted, "size", {"point": [0, 20, -2], "direction": [0, 1]}) == pytest.approx(35.0)


def test_holes(slotted):
    assert mill_value(slotted, "hole_diameter", {"centre": [20, -25], "z": -3}) == pytest.approx(10.0, abs=1e-6)
    assert mill_value(slotted, "hole_distance", {"a": [-20, -25], "b": [20, -25], "z": -3}) == pytest.approx(40.0)
    # flat end: the full diameter reaches the floor at Z-6
    assert mill_value(slotted, "hole_depth", {"centre": [20, -25], "diameter": 10.0}) == pytest.approx(6.0, abs=1e-5)
    assert mill_value(slotted, "arc_radius", {"centre": [20, -25], "z": -3, "from_deg": 0,
                                              "to_deg": 90}) == pytest.approx(5.0, abs=1e-6)


def test_mill_roughness(slotted):
    # fz = F / (S · flutes) = 200 / (1000 · 4) = 0.05 mm; wall: R = 5 → 0.05² / (32 · 5) mm = 0.015625 µm;
    # floor of a sharp flat end: edge radius 0.2 → 0.05² / (32 · 0.2) mm = 0.390625 µm
    assert mill_value(slotted, "wall_roughness_ra", {"point": [0, 0, -2], "direction": [0, 1]}) == pytest.approx(
        0.015625, abs=1e-6)
    assert mill_value(slotted, "floor_roughness_ra", {"at": [0, 0]}) == pytest.approx(0.390625, abs=1e-6)


def test_mill_work_zero(slotted):
    # work zero at stock (10, 0, -1): work (-10, 0) is the slot centre, whose floor (stock Z-4) is 3 below it
    work_zero = {"x": 10.0, "y": 0.0, "z": -1.0}
    assert mill_value(slotted, "depth", {"at": [-10, 0]}, work_zero) == pytest.approx(3.0)
    assert mill_value(slotted, "hole_diameter", {"centre": [10, -25], "z": -2}, work_zero) == pytest.approx(10.0)


def test_mill_missing_thread_is_reported(slotted):
    result = measured(mill_items.measure_items, slotted, item("thread_gauge", {"centre": [0, 0]}, limits=[1, 1]))
    assert result["ok"] is False and "no tapped thread" in result["error"]
