"""Virtual instruments on the exact turned part: readings worked out from the program, rounded as read."""
import pytest

from simulators.cnc_lathe import instruments, run
from simulators.cnc_lathe.workpiece import StockSpec, Workpiece


def turned(diameter: str, z: str = "-20.") -> Workpiece:
    """Default setup (Ø50 stock, Z0 at its right end, T0101 R0.8): one pass to Ø``diameter`` up to Z``z``."""
    program = f"""O1
T0101
G99 M03 S800
G00 X52. Z2.
G01 X{diameter} F0.2
Z{z}
X52.
G00 Z2.
X200. Z150.
M30
"""
    simulation = run.simulate(program)
    assert simulation.completed and not simulation.alarms and not simulation.crashes
    return simulation.workpiece


@pytest.fixture(scope="module")
def d40():
    return turned("40.")


@pytest.fixture(scope="module")
def d39987():
    return turned("39.987")


def value(workpiece, instrument, **placement):
    return instruments.read(workpiece, instrument, **placement)["value"]


def test_the_turned_diameter_reads_40_on_every_instrument(d40):
    reading = instruments.read(d40, "vernier_caliper", z=-10.0)
    assert reading["value"] == 40.0 and reading["unit"] == "mm" and reading["resolution"] == 0.02
    assert reading["message"] is None
    assert value(d40, "digital_caliper", z=-10.0) == 40.0
    micrometer = instruments.read(d40, "micrometer", z=-10.0)
    assert micrometer["value"] == 40.0 and micrometer["placement"]["range_low"] == 25.0   # the 25–50 one


def test_an_exact_39_987_reads_as_each_instrument_rounds(d39987):
    # vernier: 39.987 / 0.02 = 1999.35 divisions → 1999 × 0.02 = 39.98
    assert value(d39987, "vernier_caliper", z=-10.0) == 39.98
    # 0.01 instruments: 3998.7 → 3999 × 0.01 = 39.99
    assert value(d39987, "digital_caliper", z=-10.0) == 39.99
    assert value(d39987, "micrometer", z=-10.0) == 39.99


@pytest.mark.parametrize("exact, resolution, shown", [
    (39.987, 0.02, 39.98),
    (39.99, 0.02, 40.0),        # exactly half a division: the next line
    (40.011, 0.02, 40.02),      # 2000.55 divisions → 2001
    (24.995, 0.01, 25.0),
    (-0.374, 0.01, -0.37),
])
def test_rounding_to_the_nearest_division(exact, resolution, shown):
    assert instruments.round_to(exact, resolution) == shown


def test_a_shoulder_within_the_jaws_holds_them_open(d40):
    # the caliper's 4 mm thick jaws at Z-18.5 cover Z-20.5..-16.5: the Ø50 shoulder left of Z-20 holds them
    assert value(d40, "vernier_caliper", z=-18.5) == 50.0
    # the micrometer's Ø6.5 anvil at Z-15 covers Z-18.25..-11.75: only Ø40 (the R0.8 fillet ends at Z-19.2)
    assert value(d40, "micrometer", z=-15.0) == 40.0


def test_the_chuck_jaws_block_the_micrometer_near_the_jaw_face(d40):
    # jaw faces at work Z-70 (stick-out 70); anvil at Z-68 reaches Z-71.25
    reading = instruments.read(d40, "micrometer", z=-68.0)
    assert reading["value"] is None and "chuck" in reading["message"]
    assert value(d40, "micrometer", z=-60.0) == 50.0


def test_the_wrong_micrometer_cannot_measure(d40):
    small = instruments.read(d40, "micrometer", z=-10.0, range_low=0)
    assert small["value"] is None and "0–25" in small["message"]
    large = instruments.read(d40, "micrometer", z=-10.0, range_low=50)
    assert large["value"] is None and "50–75" in large["message"]


def test_caliper_jaws_too_short_for_a_large_bar():
    # Ø90: the centre line is 45 mm below the top, the 150 mm caliper's jaws reach 40
    big = Workpiece(StockSpec(diameter=90.0, length=100.0, stick_out=70.0))
    reading = instruments.read(big, "vernier_caliper", z=-10.0)
    assert reading["value"] is None and "reach" in reading["message"]
    assert value(big, "micrometer", z=-10.0) == 90.0


def test_depth_gauge_from_the_end_face_to_the_shoulder(d40):
    # base on the end face (Z0), rod at Ø45 down to the shoulder face at Z-20 (above the R0.8 fillet)
    assert value(d40, "depth_gauge", x=45.0) == 20.0
    # a rod over the Ø40 end face itself reads 0
    assert value(d40, "depth_gauge", x=30.0) == 0.0
    missing = instruments.read(d40, "depth_gauge", x=60.0)
    assert missing["value"] is None and "no face" in missing["message"]


def test_inside_jaws_in_a_bore_and_their_reach():
    bored = Workpiece(StockSpec(diameter=50.0, length=100.0, stick_out=70.0, bore_diameter=20.0))
    assert value(bored, "vernier_caliper", z=-5.0, mode="inside") == 20.0
    deep = instruments.read(bored, "vernier_caliper", z=-30.0, mode="inside")   # 30 mm in, jaws reach 15
    assert deep["value"] is None and "15" in deep["message"]
    solid = instruments.read(turned("40."), "digital_caliper", z=-5.0, mode="inside")
    assert solid["value"] is None and "no bore" in solid["message"]


def test_dial_indicator_shows_no_runout_on_a_turned_surface(d40):
    assert value(d40, "dial_indicator", z=-10.0) == 0.0


def test_bad_requests_answer_instead_of_raising(d40):
    unknown = instruments.read(d40, "laser_tracker", z=0.0)
    assert unknown["value"] is None and "no instrument" in unknown["message"]
    missing = instruments.read(d40, "micrometer")
    assert missing["value"] is None and "bad placement" in missing["message"]
    beyond = instruments.read(d40, "vernier_caliper", z=50.0)
    assert beyond["value"] is None and "no material" in beyond["message"]


def test_jaws_overlapping_a_faced_end_still_read_the_bar():
    # facing pass at Z-1 past the axis: the part now ends at Z-1
    program = "O1\nT0101\nG99 M03 S800\nG00 X52. Z-1.\nG01 X-1.6 F0.2\nG00 Z2.\nX200. Z150.\nM30\n"
    faced = run.simulate(program).workpiece
    assert instruments.right_end(faced.stock) == -1.0
    # 4 mm jaws centred at Z0.5 cover Z-1.5..2.5: 0.5 mm of them on the Ø50 bar
    assert value(faced, "vernier_caliper", z=0.5) == 50.0
    assert value(faced, "vernier_caliper", z=3.5) is None
