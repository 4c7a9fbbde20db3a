"""Crashes of non-cutting tool geometry, checked against the material present before each move.

Default setup: Ø50 stock, work zero on the right end face (material at z <= 0), T01 80° R0.8 95° with
12.9 mm edges, T02 35° R0.4 93° with 16.6 mm edges, T03 3 mm grooving blade (12 mm reach).

Hand geometry of T01, in its frame (z, r) from the imaginary tip (tip direction 3):
* sharp corner N = nose centre (0.8, 0.8) - 0.8 / sin 40° * (cos 45°, sin 45°) = (-0.0801, -0.0801);
* top of the major edge B = N + 12.9 (cos 85°, sin 85°) = (1.044, 12.771): deeper cuts put the insert's
  top face and then the holder (its left face at z = 3.17, exposed above r = 12.957) into material;
* end edge (5° above +Z): it cuts over 2/3 of 12.9 = 8.6 mm from N, up to E = N + 8.6 (cos 5°, sin 5°)
  = (8.487, 0.669); beyond E it rubs (tools.END_EDGE_CUTTING_FRACTION).
"""
import math

import pytest

from simulators.cnc_lathe.run import simulate
from simulators.cnc_lathe.tools import default_tools
from simulators.cnc_lathe.workpiece import Workpiece
from simulators.core.motion import Motion

TOOLS = default_tools()
PART_ORIGIN = (0.0, 70.0)
N = 0.8 - 0.8 / math.sin(math.radians(40.0)) * math.cos(math.radians(45.0))     # -0.0801
B_HEIGHT = N + 12.9 * math.sin(math.radians(85.0))                                 # 12.771


def crashes_of(program: str):
    return [(c.kind, c.line) for c in simulate(program).crashes]


def tip_move(kind, tool, start, end, line, rpm=1000.0, feed=200.0):
    """A canonical move given by the tool's tip in work coordinates (x radius, z)."""
    def reference(x, z):
        tx, tz = TOOLS[tool].tip_vector
        return (x + PART_ORIGIN[0] - tx, z + PART_ORIGIN[1] - tz)
    return Motion(kind, line, reference(*start), reference(*end), feed_mm_min=feed, spindle_rpm=rpm,
                  spindle_dir=1, tool=tool, offset=tool)


def run_moves(moves):
    workpiece = Workpiece()
    found = []
    for m in moves:
        found += workpiece.apply(m)
    return workpiece, found


# ------------------------------------------------------------------------------------- reproductions

STEEP = """O0002
G21 G99 G97 G40
T0101
M03 S600
G00 X52. Z2.
G01 X40. F0.2
Z-10.
X20. Z-12.
G00 X100.
Z100.
M30
"""


def test_80_degree_insert_descending_steeper_than_its_end_edge_crashes():
    # Line 8 takes the tip from (r 20, z -10) to (r 10, z -12): the new surface right of the tip rises at
    # atan(10 / 2) = 78.7°, far above the end edge's 5°, so the end edge plunges through the Ø40 section.
    # At the end its rubbing part starts at z = -12 + 8.487 = -3.513, r = 10 + 0.669 = 10.669, under
    # material that was at r 20: 20 - 10.669 = 9.331 mm deep.
    result = simulate(STEEP)
    assert [(c.kind, c.line) for c in result.crashes] == [("non_cutting_contact", 8)]
    assert "Z-3.513" in result.crashes[0].detail and "9.33" in result.crashes[0].detail


def test_facing_plunge_to_the_axis_at_z_minus_1_is_a_face_cut_not_a_crash():
    # /tmp/deep.nc of the brief: X52 -> X0 at Z-1. The stock ends at z 0, so only the first
    # 1 + 0.080 = 1.08 mm of the end edge is in material; the holder starts at z -1 + 3.17 = 2.17 and the
    # end edge's rubbing part at z -1 + 8.487: both over air. A 1 mm facing cut, as on the machine.
    program = "O0001\nG21 G99 G97 G40\nT0101\nM03 S600\nG00 X52. Z-1.\nG01 X0. F0.2\nG00 X100. Z100.\nM30\n"
    assert crashes_of(program) == []


def test_turning_deeper_than_the_major_edge_crashes():
    # Ø50 -> Ø20 in one pass: 15 mm of material above the tip, the major edge reaches 12.771; the insert's
    # top face (from B) moves into 25 - (10 + 12.771) = 2.229 mm of material.
    program = "O0003\nG21 G99 G97 G40\nT0101\nM03 S600\nG00 X20. Z2.\nG01 Z-10. F0.2\nG00 X100. Z100.\nM30\n"
    result = simulate(program)
    assert [(c.kind, c.line) for c in result.crashes] == [("non_cutting_contact", 6)]
    assert f"{25.0 - (10.0 + B_HEIGHT):.4f}" in result.crashes[0].detail


def test_top_face_touching_the_surface_is_not_a_crash():
    # the cut exactly as deep as the major edge (tip at r 25 - 12.771): B slides on the Ø50 surface;
    # 0.5 µm deeper is still contact (under 1e-6 mm), 1 µm more than that is a crash
    def turn(depth):
        r = 25.0 - depth
        moves = [tip_move("rapid", 1, (26.0, 2.0), (r, 2.0), 1), tip_move("feed", 1, (r, 2.0), (r, -5.0), 2)]
        return run_moves(moves)[1]
    assert turn(B_HEIGHT) == []
    assert turn(B_HEIGHT + 5e-7) == []
    assert [(c.kind, c.line) for c in turn(B_HEIGHT + 1.5e-6)] == [("non_cutting_contact", 2)]


def test_facing_plunge_wider_than_the_end_edge_cutting_part_crashes():
    # plunging at Z-w puts the end edge over z in [-w - 0.080, 0]; its rubbing part starts at -w + 8.487:
    # over material when w > 8.487
    def plunge(z):
        return crashes_of(f"O0004\nG21 G99 G97 G40\nT0101\nM03 S600\nG00 X52. Z{z}\nG01 X40. F0.2\n"
                          "G00 X100. Z100.\nM30\n")
    assert plunge("-8.4") == []
    assert plunge("-8.6") == [("non_cutting_contact", 6)]


def test_half_ball_from_the_raw_bar_crashes():
    # G03 from the axis straight into the Ø50 bar: where the insert's top face reaches the stock (tip
    # z -1.044, r √(10² - 8.956²) = 4.45) it is at r 4.45 + 12.77 = 17.2, under the Ø50 surface
    program = ("O0005\nG21 G99 G97 G40\nT0101\nM03 S1000\nG00 X0. Z2.\nG01 Z0. F0.1\nG03 X20. Z-10. R10.\n"
               "G00 X100. Z100.\nM30\n")
    assert crashes_of(program) == [("non_cutting_contact", 7)]


# ------------------------------------------------------------------------------------- near misses

def test_normal_g71_roughing_is_not_a_crash():
    # 2 mm passes, far below the 12.771 mm major edge; the end edge trails every pass (it points 5° up)
    program = """O0006
G21 G99 G97 G40
T0101
M03 S800
G00 X52. Z2.
G71 U2. R0.5
G71 P10 Q20 U0.5 W0.1 F0.25
N10 G00 X30.
G01 Z-20. F0.1
X40. Z-30.
N20 X52.
G00 X100. Z100.
M30
"""
    assert crashes_of(program) == []


def test_grooving_blade_sliding_along_a_groove_wall_is_not_a_crash():
    # first groove z in [-20, -17] to Ø30; the second at Z-23 spans [-23, -20]: its right side slides
    # down the first groove's left wall (z = -20) in exact contact
    program = """O0007
G21 G99 G97 G40
T0303
M03 S400
G00 X52. Z-20.
G01 X30. F0.05
G00 X52.
Z-23.
G01 X30. F0.05
G00 X52.
X100. Z100.
M30
"""
    result = simulate(program)
    assert result.crashes == []
    assert result.workpiece.stock.r_out(-21.5) == pytest.approx(15.0)


def test_grooving_blade_turns_sideways_only_within_its_width():
    # the sides cut up to 3 mm (the blade width) above the bottom: a 2 mm deep groove can be widened
    # sideways; from a 5 mm deep one the side rubs from r 20 + 3 = 23 into the Ø50: 2 mm deep
    def widen(x):
        return simulate(f"O0008\nG21 G99 G97 G40\nT0303\nM03 S400\nG00 X52. Z-20.\nG01 X{x} F0.05\nZ-25.\n"
                        "G00 X100.\nZ100.\nM30\n").crashes
    assert widen("46.") == []
    crashes = widen("40.")
    assert [(c.kind, c.line) for c in crashes] == [("non_cutting_contact", 7)]
    assert "2.0000 mm deep" in crashes[0].detail


def test_35_degree_insert_descends_a_30_degree_slope_the_80_degree_cannot():
    # after Ø40 to Z-10, down 30° to Ø30 (5 / tan 30° = 8.660 mm long): the 35°/93° insert's end edge
    # rises at 52° > 30° and trails; the 80° insert's rises at 5° < 30°, so its end edge is dragged down
    # through the Ø40 section (its rubbing part ends over z -18.660 + 8.487 = -10.17 .. 0)
    def descend(tool):
        return crashes_of(f"O0009\nG21 G99 G97 G40\nT{tool}\nM03 S800\nG00 X52. Z2.\nG01 X40. F0.1\nZ-10.\n"
                          "X30. Z-18.66\nG00 X100.\nZ100.\nM30\n")
    assert descend("0202") == []
    assert descend("0101") == [("non_cutting_contact", 8)]


def test_drill_moved_sideways_in_its_hole_crashes():
    # Ø20 drill to Z-20, then X10: its margins (non-cutting sides at r ±10) move 5 mm into the hole wall
    program = "O0010\nG21 G99 G97 G40\nT0606\nM03 S500\nG00 X0. Z5.\nG01 Z-20. F0.1\nX10.\nG00 Z5.\nM30\n"
    result = simulate(program)
    assert [(c.kind, c.line) for c in result.crashes] == [("non_cutting_contact", 7)]
    assert "5.0000 mm deep" in result.crashes[0].detail


# ------------------------------------------------------------------------------------- what cuts

def test_end_edge_cuts_over_two_thirds_of_its_length():
    # T01's end edge splits at E = N + 8.6 (cos 5°, sin 5°); the major edge is one cutting element
    insert = TOOLS[1].shapes[0]
    cutting_ends = [e.p1 for e in insert.elements if not e.arc and e.cutting]
    e_z = N + 8.6 * math.cos(math.radians(5.0))
    e_r = N + 8.6 * math.sin(math.radians(5.0))
    assert any(z == pytest.approx(e_z, abs=1e-12) and r == pytest.approx(e_r, abs=1e-12) for z, r in cutting_ends)
    assert (e_z, e_r) == pytest.approx((8.487, 0.669), abs=1e-3)


def test_faces_covered_by_another_part_are_not_checked():
    # T01's holder bottom runs 3 mm above the end edge from z 3.17 to 32; inside the insert (up to its
    # back face, z 13.03 at that height) it is no boundary of the tool, so only z 13.03..32 is checked
    from simulators.cnc_lathe.leading import exposed_faces
    insert, holder = TOOLS[1].shapes
    bottom = [f for f in exposed_faces(holder, [insert]) if f[0][1] < 10.0 and f[1][1] < 10.0]
    assert len(bottom) == 1
    (z0, _), (z1, _), _ = bottom[0]
    assert (z0, z1) == pytest.approx((13.032, 32.0), abs=1e-3)
