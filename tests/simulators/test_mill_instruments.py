"""Virtual instruments on the exact milled part: a 10 mm wide, 5 mm deep slot along X through the default
100 × 80 × 30 block (work zero at the top centre; vise jaws on the Y faces, tops at Z-12)."""
import pytest

from simulators.cnc_mill import instruments, run
from simulators.cnc_mill.machine import default_setup

SLOT = """O1
T1 M06
G54 G90 G00 X-60. Y0 S1000 M03
G43 H1 Z5.
G01 Z-5. F100
X60.
G00 Z50.
M30
"""


@pytest.fixture(scope="module")
def slotted():
    simulation = run.simulate(SLOT)
    assert simulation.completed and not simulation.alarms and not simulation.crashes
    return simulation.workpiece


def read(workpiece, instrument, **placement):
    return instruments.read(workpiece, instrument, **placement)


def test_calipers_across_the_block(slotted):
    assert read(slotted, "vernier_caliper", point=(0, 20, -10), direction="x")["value"] == 100.0
    assert read(slotted, "digital_caliper", point=(0, 0, -10), direction="y")["value"] == 80.0   # under the slot
    # at Z-20 the measuring faces would sit on the Y faces below the jaw tops (Z-12)
    blocked = read(slotted, "vernier_caliper", point=(0, 0, -20), direction="y")
    assert blocked["value"] is None and "jaw" in blocked["message"]


def test_inside_jaws_read_the_slot_width(slotted):
    # Ø10 end mill along Y0: walls at Y±5
    assert read(slotted, "vernier_caliper", point=(10, 0, -2), direction="y", mode="inside")["value"] == 10.0


def test_micrometer_from_the_slot_wall_to_the_back_face(slotted):
    # Y5 (slot wall) to Y40 (back face) = 35, on the 25–50 micrometer
    reading = read(slotted, "micrometer", point=(0, 20, -2), direction="y")
    assert reading["value"] == 35.0 and reading["placement"]["range_low"] == 25.0
    wrong = read(slotted, "micrometer", point=(0, 20, -2), direction="y", range_low=0)
    assert wrong["value"] is None


def test_depth_gauge_reads_the_slot_depth(slotted):
    assert read(slotted, "depth_gauge", base=(0, 20), at=(0, 0))["value"] == 5.0
    off = read(slotted, "depth_gauge", base=(0, 20), at=(0, 200))
    assert off["value"] is None and off["message"].startswith("cannot measure")


def test_edge_finder_kicks_one_radius_from_the_left_face(slotted):
    # left face at X-50, tip Ø10: the kick is at X-55 ± 0.002
    assert read(slotted, "edge_finder", x=-55.0, y=20.0, z=-8.0)["state"] == "kick"
    assert read(slotted, "edge_finder", x=-55.0015, y=20.0, z=-8.0)["state"] == "kick"
    assert read(slotted, "edge_finder", x=-55.003, y=20.0, z=-8.0)["state"] == "clear"
    assert read(slotted, "edge_finder", x=-54.99, y=20.0, z=-8.0)["state"] == "pushed"
    assert read(slotted, "edge_finder", x=-80.0, y=20.0, z=-8.0)["state"] == "clear"
    # in the 10 mm slot the Ø10 tip touches both walls; a tip inside the block is a crash
    assert read(slotted, "edge_finder", x=0.0, y=0.0, z=-4.0)["state"] == "kick"
    assert read(slotted, "edge_finder", x=0.0, y=20.0, z=-3.0)["state"] == "in_material"


def test_z_setter_dial_around_the_50_mm_mark(slotted):
    # standing on the top face (Z0): 0.00 when the tip is at Z50.000
    assert read(slotted, "z_setter", tip=(0, 20, 50.0))["value"] == 0.0
    assert read(slotted, "z_setter", tip=(0, 20, 50.374))["value"] == 0.37
    assert read(slotted, "z_setter", tip=(0, 20, 49.626))["value"] == -0.37
    # standing on the slot floor (Z-5): the mark is at Z45
    assert read(slotted, "z_setter", tip=(10, 0, 45.0))["value"] == 0.0
    assert "does not touch" in read(slotted, "z_setter", tip=(0, 20, 52.0))["message"]
    assert "not over" in read(slotted, "z_setter", tip=(10.5, 20, 50.0), at=(0, 20))["message"]
    crushed = read(slotted, "z_setter", tip=(0, 20, 47.0))
    assert crushed["value"] is None and crushed["crash"] is True


def test_dial_indicator_on_the_spindle(slotted):
    # along the top face and down into the slot: pressed 5 mm less there
    face = read(slotted, "dial_indicator", centre=(0, 20), mode="face", points=[(0, 20), (0, 0), (10, 20)])
    assert face["value"] == 5.0 and face["readings"] == [0.0, -5.0, 0.0]
    # swung in the slot 1 mm off its centre line: walls 4 mm (Y+) and 6 mm (Y−) away → swing 2 × 1 mm
    off = read(slotted, "dial_indicator", centre=(0, 1), z=-3.0, mode="bore", angles=(90, 270))
    assert off["value"] == 2.0 and off["readings"] == [0.0, -2.0]
    centred = read(slotted, "dial_indicator", centre=(0, 0), z=-3.0, mode="bore", angles=(90, 270))
    assert centred["value"] == 0.0
    # around the block as a boss, 1 mm right of its centre: faces 49 (X+) and 51 (X−) mm away
    boss = read(slotted, "dial_indicator", centre=(1, 20), z=-10.0, mode="boss", angles=(0, 180))
    assert boss["readings"] == [0.0, 2.0] and boss["value"] == 2.0
    # 10 mm off: a 20 mm swing is beyond the 10 mm indicator
    assert read(slotted, "dial_indicator", centre=(10, 20), z=-10.0, mode="boss", angles=(0, 180))["value"] is None
    # along X the slot is open at both ends: no wall to touch
    assert read(slotted, "dial_indicator", centre=(0, 0), z=-3.0, mode="bore")["value"] is None


def test_bad_requests_answer_instead_of_raising(slotted):
    assert "no instrument" in read(slotted, "feeler_gauge")["message"]
    assert "bad placement" in read(slotted, "depth_gauge", base=(0, 20))["message"]
    assert "no tool in the spindle" in read(slotted, "z_setter")["message"]
    assert "bad placement" in read(slotted, "edge_finder", tool="edge_finder")["message"]   # nor x y z nor spindle
    assert "not in material" in read(slotted, "vernier_caliper", point=(0, 0, -2))["message"]


def test_spindle_instruments_from_the_sessions_context(slotted):
    # default block: work zero (top centre) at machine (−400, −250, −420)
    # edge finder tip 100 mm below the gauge point: tip at work (−55, 20, −8) ← gauge (−455, −230, −328)
    context = {"spindle": (-455.0, -230.0, -328.0), "tool": "edge_finder", "rpm": 500}
    reading = read(slotted, "edge_finder", **context)
    assert reading["state"] == "kick" and reading["placement"] == {"x": -55.0, "y": 20.0, "z": -8.0}
    assert read(slotted, "edge_finder", **{**context, "rpm": 0})["state"] == "still"
    t1 = default_setup().tools[1]
    assert "not in the spindle" in read(slotted, "edge_finder", **{**context, "tool": t1})["message"]
    # T1 (gauge length 95) over the setter on the top face: the mark is at Z50 → gauge at −420 + 50 + 95 = −275
    assert read(slotted, "z_setter", spindle=(-400.0, -230.0, -275.0), tool=t1, rpm=0)["value"] == 0.0
    # its Ø10 flat end still presses the Ø20 plunger 14.9 mm off the setter's axis (10 + 5)
    off = read(slotted, "z_setter", spindle=(-385.1, -230.0, -275.0), tool=t1, at=(0, 20))
    assert off["value"] == 0.0 and off["placement"]["tool_radius"] == 5.0
    assert "no tool" in read(slotted, "z_setter", spindle=(-400.0, -230.0, -275.0), tool=None)["message"]
    # the caliper ignores the spindle
    assert read(slotted, "vernier_caliper", point=(0, 20, -10), spindle=(0, 0, 0), tool=None, rpm=0)["value"] == 100.0
