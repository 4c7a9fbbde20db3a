"""Lathe interpreter: words, modes, motions in machine coordinates, time, alarms, stalls, subprograms, macros.

Default setup numbers used in the hand calculations (docs/lathe.md):
  part origin = machine (0, 70); T01 tip vector (-40, -19.5) → geometry offset G1 = (40, 89.5) (x radius);
  T04 tip vector (-40, -8) → G4 = (40, 78); start: T01 tip at work Ø200 Z150 → turret at (140, 239.5);
  rapid X 12 m/min = 200 mm/s, Z 15 m/min = 250 mm/s; 0.5 s per turret station.
"""
import math
from pathlib import Path

import pytest

from simulators.core.alarms import Alarm
from simulators.cnc_lathe.interpreter import LatheInterpreter, Stall
from simulators.cnc_lathe.machine import default_setup
from dataclasses import replace

SETUP = default_setup()
G1 = (40.0, 89.5)


def run(body, setup=SETUP, header="O0001\nG21 G99 G97 G40\n"):
    interp = LatheInterpreter(header + body, setup)
    return list(interp.motions()), interp


def alarm_of(body, setup=SETUP):
    with pytest.raises(Alarm) as err:
        run(body, setup)
    return err.value


def prog(point, g=G1):
    """Machine point of the turret → program point of T01's tip (x radius)."""
    return (round(point[0] - g[0], 6), round(point[1] - g[1], 6))


def moves(motions, *kinds):
    kinds = kinds or ("rapid", "feed", "arc", "thread")
    return [m for m in motions if m.kind in kinds]


def test_default_setup_frames():
    assert SETUP.offsets[1].geometry_x == 40.0 and SETUP.offsets[1].geometry_z == 89.5
    assert SETUP.initial_position == (140.0, 239.5)
    assert SETUP.offsets[1].nose_radius == 0.8 and SETUP.offsets[1].tip_direction == 3
    assert SETUP.offsets[5].tip_direction == 2


def test_x_is_a_diameter_and_u_w_are_incremental():
    motions, _ = run("T0101\nG00 X30. Z2.\nU-4. W-1.\nM30\n")
    ends = [prog(m.end) for m in moves(motions)]
    assert ends[1] == (15.0, 2.0)          # dog-leg: second leg ends at the target
    assert ends[-1] == (13.0, 1.0)         # U-4 (Ø) = -2 radius; W-1


def test_decimal_point_rule_least_input_increment():
    motions, _ = run("T0101\nG00 X100 Z2000\nM30\n")
    assert prog(moves(motions)[-1].end) == (0.05, 2.0)     # X100 = Ø0.100, Z2000 = 2.000 mm
    setup = replace(SETUP, decimal_point_input=True)
    motions, _ = run("T0101\nG00 X100 Z2\nM30\n", setup)
    assert prog(moves(motions)[-1].end) == (50.0, 2.0)


def test_rapid_is_a_dog_leg_with_each_axis_at_its_own_rate():
    motions, _ = run("T0101\nG00 X52. Z2.\nM30\n")
    legs = moves(motions)
    # from (140, 239.5) to (66, 91.5): dx = 74 mm at 200 mm/s = 0.37 s; dz = 148 mm at 250 mm/s = 0.592 s
    assert len(legs) == 2
    assert legs[0].end == pytest.approx((66.0, 239.5 - 250 * 0.37))
    assert legs[0].seconds == pytest.approx(0.37) and legs[1].seconds == pytest.approx(0.592 - 0.37)


def test_feed_per_rev_time_and_feed():
    motions, _ = run("T0101\nM03 S500\nG00 X40. Z2.\nG01 Z-18. F0.2\nM30\n")
    cut = moves(motions, "feed")[0]
    # 20 mm at 0.2 mm/rev × 500 rpm = 100 mm/min → 12 s
    assert cut.feed_mm_min == pytest.approx(100.0) and cut.seconds == pytest.approx(12.0)
    assert cut.spindle_rpm == 500 and cut.line == 6


def test_feed_per_minute():
    motions, _ = run("T0101\nG98 M03 S500\nG00 X40. Z2.\nG01 Z-18. F50.\nM30\n")
    assert moves(motions, "feed")[0].seconds == pytest.approx(24.0)   # 20 mm at 50 mm/min


def test_css_rpm_and_clamp():
    motions, _ = run("T0101\nG96 S200 M03\nG00 X50. Z2.\nG01 Z0. F0.1\nG50 S1000\nG01 Z-1.\nM30\n")
    feeds = moves(motions, "feed")
    # 1000 × 200 / (π × 50) = 1273.24 rpm at Ø50, then clamped to 1000 by G50 S1000
    assert feeds[0].spindle_rpm == pytest.approx(1000 * 200 / (math.pi * 50))
    assert feeds[1].spindle_rpm == pytest.approx(1000.0)


def test_css_facing_time_is_integrated_over_the_radius():
    motions, _ = run("T0101\nG96 S100 M03\nG00 X40. Z0.\nG01 X20. F0.1\nM30\n")
    face = moves(motions, "feed")[0]
    # t = ∫ dr / (f · 1000 V / (2π r)) = 2π (r1² − r0²) / (2 · 1000 V f) min, r 10 → 20, V 100, f 0.1
    minutes = 2 * math.pi * (20 ** 2 - 10 ** 2) / (2 * 1000 * 100 * 0.1)
    assert face.seconds == pytest.approx(60 * minutes, rel=1e-6)


def test_arc_r_and_ik_fanuc_direction():
    motions, _ = run("T0101\nM03 S500\nG00 X0. Z2.\nG01 Z0. F0.1\nG03 X20. Z-10. R10.\nM30\n")
    arc = moves(motions, "arc")[0]
    # G03 from X0 Z0 to X20 Z-10 R10 is a convex half-ball end: centre on the axis at Z-10
    assert prog(arc.centre) == (0.0, -10.0) and not arc.clockwise
    motions, _ = run("T0101\nM03 S500\nG00 X0. Z2.\nG01 Z0. F0.1\nG02 X20. Z-10. R10.\nM30\n")
    assert prog(moves(motions, "arc")[0].centre) == (10.0, 0.0)
    motions, _ = run("T0101\nM03 S500\nG00 X0. Z2.\nG01 Z0. F0.1\nG03 X20. Z-10. I0. K-10.\nM30\n")
    assert prog(moves(motions, "arc")[0].centre) == (0.0, -10.0)


def test_arc_time_is_length_over_feed():
    motions, _ = run("T0101\nM03 S600\nG00 X0. Z2.\nG01 Z0. F0.1\nG03 X20. Z-10. R10.\nM30\n")
    # quarter circle R10: 15.708 mm at 60 mm/min = 15.708 s
    assert moves(motions, "arc")[0].seconds == pytest.approx(10 * math.pi / 2 / 60 * 60)


def test_arc_alarms():
    base = "T0101\nM03 S500\nG00 X0. Z2.\nG01 Z0. F0.1\n"
    assert alarm_of(base + "G02 X20. Z-10.\n").code == "PS0022"
    # end radius √(10² + 10²) vs start 10 → off by 4.14 mm
    assert alarm_of(base + "G03 X20. Z-10. I0. K-10.1\n").code == "PS0020"
    # within 0.02: I/K centre (0, -10.01): start radius 10.01, end radius √(100 + 0.0001) = 10.000005
    motions, _ = run(base + "G03 X20. Z-10. I0. K-10.01\nM30\n")
    assert moves(motions, "arc")
    a = alarm_of(base + "G03 X40. Z-10. R5.\n")     # chord 22.36 > 2 R
    assert a.code == "PS0020" and a.line == 7


def test_feed_zero_alarm_at_its_line():
    a = alarm_of("T0101\nM03 S600\nG00 X52. Z2.\nG01 X40.\nM30\n")
    assert (a.code, a.line) == ("PS0011", 6)


def test_feed_per_rev_with_spindle_stopped_stalls():
    with pytest.raises(Stall) as err:
        run("T0101\nG00 X52. Z2.\nG01 X40. F0.2\nM30\n")
    assert err.value.line == 5


def test_dwell():
    motions, _ = run("G04 X1.5\nG04 P500\nG04 U2000\nM30\n")
    assert [m.seconds for m in motions if m.kind == "dwell"] == pytest.approx([1.5, 0.5, 2.0])


def test_turret_index_time_shortest_way_round():
    motions, _ = run("T0404\nT0808\nT0101\nM30\n")
    # 1→4: 3 stations; 4→8: 4; 8→1: 1 (8 stations on the turret)
    assert [m.seconds for m in motions if m.kind == "tool_change"] == [1.5, 2.0, 0.5]


def test_offset_applies_with_the_next_move_and_wear_counts():
    offsets = dict(SETUP.offsets)
    offsets[1] = replace(offsets[1], wear_x=0.05, wear_z=-0.02)     # wear X +0.1 on the diameter
    motions, _ = run("T0101\nG00 X30. Z2.\nM30\n", replace(SETUP, offsets=offsets))
    assert motions[0].kind == "tool_change" and motions[0].end == SETUP.initial_position   # no move at T
    assert moves(motions)[-1].end == pytest.approx((15.0 + 40.05, 2.0 + 89.48))


def test_no_offset_means_machine_coordinates():
    # without T the program frame is the machine frame: X0 puts the turret on the axis, below its limit
    a = alarm_of("G00 X0. Z100.\n")
    assert a.code == "OT0501" and a.line == 3


def test_soft_overtravel_plus():
    a = alarm_of("T0101\nG00 X1000.\n")
    assert (a.code, a.line) == ("OT0500", 4)


def test_g50_coordinate_setting_and_g28():
    motions, interp = run("T0101\nG00 X40. Z2.\nG50 X0. Z0.\nG00 U10.\nG28 U0. W0.\nM30\n")
    ms = moves(motions)
    # after G50 the tool at Ø40 Z2 is Ø0 Z0: U10 moves +5 radius in the machine
    assert ms[2].end == pytest.approx((20.0 + 5.0 + 40.0, 2.0 + 89.5))
    assert ms[-1].end == pytest.approx(SETUP.initial_position)


def test_bad_block_changes_nothing():
    interp = LatheInterpreter("O1\nT0101\nG98 G01 X30. S500 M03\n", SETUP)
    interp.step()
    before = interp.state
    with pytest.raises(Alarm) as err:
        interp.step()           # feed zero: G98, S and M03 of that block must not take effect
    assert err.value.code == "PS0011"
    assert interp.state is before and interp.state.modal.feed_per_rev and interp.state.modal.spindle_dir == 0


@pytest.mark.parametrize("body,code", [
    ("G00 X10. U2.\n", "PS0009"),         # X and U in one block
    ("G00 Y10.\n", "PS0009"),             # no Y axis on this lathe
    ("G17\n", "PS0010"),                  # plane not available
    ("G43 Z1.\n", "PS0010"),              # a mill code
    ("M41\n", "EX1002"),                  # gear change not on this machine
    ("T0909\n", "EX1001"),                # 8 stations
    ("T0199\n", "PS0030"),                # offset 99 not in the table
    ("M98 P1234\n", "PS0076"),
    ("GOTO 55\n", "PS0078"),
    ("G01 F-1.\n", "PS0006"),
    ("M03.\n", "PS0007"),
])
def test_alarms(body, code):
    a = alarm_of(body)
    assert a.code == code and a.line == 3


def test_subprogram_repeat_and_return():
    src = ("T0101\nM03 S500\nG00 X40. Z2.\nM98 P31002\nM30\n"
           "O1002\nG01 U-2. F0.1\nG00 U2.\nM99\n")
    motions, _ = run(src)
    feeds = moves(motions, "feed")
    assert len(feeds) == 3 and all(m.line == 9 for m in feeds)      # the subprogram's own line
    assert all(m.program == 1002 for m in feeds)


def test_macro_loop_and_g65_arguments():
    src = ("T0101\nM03 S500\nG00 X40. Z2.\n#1=0\nWHILE [#1 LT 3] DO1\nG01 U-1. F0.1\n#1=#1+1\nEND1\n"
           "G65 P9010 A2. B-5.\nM30\n"
           "O9010\nG01 X[#1*10] Z#2\nM99\n")
    motions, interp = run(src)
    feeds = moves(motions, "feed")
    assert len(feeds) == 4
    assert prog(feeds[2].end) == (18.5, 2.0)                          # three times U-1: Ø40 → Ø37
    assert prog(feeds[3].end) == (10.0, -5.0) and feeds[3].line == 14  # X[2*10] = Ø20, Z-5 (file line 14)
    assert interp.variables.get(1, 0) == 3.0                           # the main level's #1 untouched by G65


def test_if_goto_and_if_then():
    src = "#1=5\nIF [#1 GT 3] GOTO 100\n#2=1\nN100 IF [#2 EQ #0] THEN #3=7\nM30\n"
    _, interp = run(src)
    assert interp.variables.get(2, 0) is None and interp.variables.get(3, 0) == 7.0


def test_block_delete_switch():
    src = "T0101\n/G00 X30. Z2.\nM30\n"
    assert moves(run(src)[0])                                          # switch off: executed
    assert not moves(run(src, replace(SETUP, block_delete=True))[0])   # switch on: skipped


def test_endless_loop_is_a_stall():
    old = LatheInterpreter.max_blocks
    LatheInterpreter.max_blocks = 1000
    try:
        with pytest.raises(Stall) as err:
            run("N10 #1=#1+1\nGOTO 10\n")
        assert err.value.line in (3, 4)
    finally:
        LatheInterpreter.max_blocks = old


def test_nose_radius_compensation_on_a_chamfer():
    src = ("T0101\nM03 S800\nG00 G42 X36. Z5.\nG01 Z0. F0.2\nX40. Z-2.\nZ-20.\nX52.\n"
           "G40 G00 X60. Z10.\nM30\n")
    motions, _ = run(src)
    pts = [prog(m.end) for m in moves(motions, "feed")]
    # T3, R0.8: a Z move or a face keeps the imaginary tip on the programmed line; a 45° chamfer moves it
    # by R(2 − √2) = 0.46863 along the axes: corners (18, −0.46863) and (20, −2.46863); the shoulder
    # corner (20, −20) is concave, the tip meets it exactly.
    d = 0.8 * (2 - math.sqrt(2))
    assert pts[0] == pytest.approx((18.0, -d), abs=1e-6)
    assert pts[1] == pytest.approx((20.0, -2.0 - d), abs=1e-6)
    assert pts[2] == pytest.approx((20.0, -20.0), abs=1e-6)
    assert moves(motions)[-1].end == pytest.approx((30.0 + 40.0, 10.0 + 89.5))   # G40 ends on the point


def test_compensation_cannot_start_on_an_arc():
    a = alarm_of("T0101\nM03 S800\nG00 X36. Z5.\nG01 Z0. F0.2\nG42 G02 X40. Z-2. R2.\n")
    assert (a.code, a.line) == ("PS0034", 7)


# ------------------------------------------------------------------------------------------- setup JSON

from simulators.cnc_lathe.machine import SetupError, setup_from_dict  # noqa: E402


def test_setup_json_offsets_in_diameter_and_unknown_keys():
    s = setup_from_dict({"offsets": {"1": {"wear_x": 0.1, "r": 0.4, "t": 3}}, "decimal_point_input": True})
    assert s.offsets[1].wear_x == 0.05 and s.offsets[1].nose_radius == 0.4      # wear X 0.1 on the diameter
    assert s.offsets[1].geometry_x == 40.0 and s.decimal_point_input
    for bad in ({"foo": 1}, {"offsets": {"1": {"q": 1}}}, {"stock": {"dia": 20}}, {"offsets": {"1": {"t": 12}}},
                {"rapid_x_mm_min": "fast"}, {"work_offsets": {"G60": {"x": 0}}}):
        with pytest.raises(SetupError):
            setup_from_dict(bad)


def test_setup_json_new_stick_out_moves_work_zero_and_the_preset_offsets():
    s = setup_from_dict({"stock": {"diameter": 30.0, "stick_out": 50.0}})
    # part origin machine z = 50; G1 = (0 + 40, 50 + 19.5); start: T01 tip at Ø200 Z150 → turret (140, 219.5)
    assert s.part_origin == (0.0, 50.0) and s.offsets[1].geometry_z == 69.5
    assert s.initial_position == (140.0, 219.5) and s.stock.diameter == 30.0 and s.stock.length == 100.0


def test_work_offset_g55_and_external_shift():
    s = setup_from_dict({"work_offsets": {"G55": {"x": 0.0, "z": -5.0}}, "external_shift": {"x": 0.2, "z": 1.0}})
    motions, _ = run("T0101\nG55 G00 X30. Z2.\nM30\n", s)
    # machine = program + G55 + shift + G1: x 15 + 0 + 0.1 + 40, z 2 − 5 + 1 + 89.5
    assert moves(motions)[-1].end == pytest.approx((55.1, 87.5))


def test_inch_mode_converts_to_millimetres():
    motions, _ = run("G20\nT0101\nG00 X1. Z0.1\nG00 X10000\nM30\n")
    # X1. inch = Ø25.4 → radius 12.7; Z0.1 inch = 2.54 mm; X10000 without a point = Ø1.0000 inch
    assert prog(moves(motions)[1].end) == pytest.approx((12.7, 2.54))
    assert prog(moves(motions)[-1].end) == pytest.approx((12.7, 2.54))


def test_m99_in_the_main_program_is_an_endless_repeat():
    with pytest.raises(Stall) as err:
        run("T0101\nG00 X60. Z10.\nM99\n")
    assert err.value.line == 5


def test_plain_move_fast_path_matches_the_general_path():
    import random

    import simulators.cnc_lathe.interpreter as module
    rnd = random.Random(7)
    lines = ["T0101", "M03 S700"]
    for i in range(400):
        word = rnd.choice(["G00 ", "G01 ", "", "G98 ", "G99 "])
        axes = rnd.choice(["X{:.3f} Z{:.3f}", "U{:.3f} W{:.3f}", "X{:.0f}", "Z{:.3f}", "X{:.3f} W{:.3f}"])
        a, b = rnd.uniform(60, 200), rnd.uniform(5, 120)
        if "U" in axes:
            a = rnd.uniform(-5, 5)
        if "W" in axes:
            b = rnd.uniform(-5, 5)
        feed = rnd.choice(["", " F0.3", " F150.", " F2"])
        lines.append(word + axes.format(a, b) + feed)
    text = "\n".join(lines) + "\nM30\n"

    def outcome():
        interp = LatheInterpreter("O1\n" + text, SETUP)
        try:
            return list(interp.motions()), None
        except (Alarm, Stall) as stop:
            return [], (type(stop).__name__, getattr(stop, "code", ""), stop.line)

    fast = outcome()
    module.FAST_PATH = False
    try:
        slow = outcome()
    finally:
        module.FAST_PATH = True
    assert fast == slow and len(fast[0]) > 400


# ------------------------------------------------------------------------------------------- properties

from hypothesis import given, strategies as st  # noqa: E402

from simulators.cnc_lathe import measure  # noqa: E402
from simulators.cnc_lathe.run import simulate  # noqa: E402

SAMPLES_Z = [-0.5 - 1.7 * k for k in range(24)]


def outer_radii(sim):
    return [measure.ray_hits(sim.workpiece, (100.0, 0.0, z), (-1.0, 0.0, 0.0))[0].point[0] for z in SAMPLES_Z]


HEAD = "O1\nG21 G99 G97 G40\nT0101\nM03 S800\nG00 X52. Z2.\n"


@given(st.floats(30.0, 48.0), st.floats(-40.0, -5.0), st.floats(0.2, 0.8))
def test_splitting_a_move_in_two_gives_the_same_part(diameter, z_end, fraction):
    whole = simulate(HEAD + f"G01 X{diameter:.3f} F0.2\nZ{z_end:.3f}\nX52.\nM30\n")
    z_mid = 2.0 + (z_end - 2.0) * fraction
    split = simulate(HEAD + f"G01 X{diameter:.3f} F0.2\nZ{z_mid:.3f}\nZ{z_end:.3f}\nX52.\nM30\n")
    assert whole.completed and split.completed
    assert outer_radii(split) == pytest.approx(outer_radii(whole), abs=1e-9)
    assert split.cycle_time_s == pytest.approx(whole.cycle_time_s)


@given(st.lists(st.tuples(st.floats(30.0, 49.0), st.floats(-40.0, -2.0)), min_size=1, max_size=4))
def test_more_cutting_never_adds_material(passes):
    body = ""
    before = outer_radii(simulate(HEAD + "M30\n"))
    for diameter, z_end in passes:
        body += f"G00 X52. Z2.\nG01 X{diameter:.3f} F0.2\nZ{z_end:.3f}\nX52.\n"
        after = outer_radii(simulate(HEAD + body + "M30\n"))
        assert all(a <= b + 1e-9 for a, b in zip(after, before))
        before = after


def test_replay_is_deterministic():
    text = (Path(__file__).parent / "golden" / "lathe" / "part_shaft_thread" / "program.nc").read_text()
    a, b = simulate(text), simulate(text)
    assert a.motions == b.motions and outer_radii(a) == outer_radii(b)



def test_ik_without_end_point_is_a_full_circle_and_r_alone_does_nothing():
    motions, _ = run("T0101\nM03 S500\nG00 X100. Z50.\nG01 Z40. F0.2\nG02 I-5. K0.\nG02 R5.\nM30\n")
    arcs = moves(motions, "arc")
    assert len(arcs) == 1 and arcs[0].start == arcs[0].end and prog(arcs[0].centre) == (45.0, 40.0)
    assert arcs[0].seconds == pytest.approx(60 * 2 * math.pi * 5 / (0.2 * 500))   # 31.4 mm at 100 mm/min


def test_g90_x_z_r_stay_modal_until_another_group_01_code():
    motions, _ = run("T0101\nM03 S800\nG00 X52. Z2.\nG90 X46. Z-20. R-3. F0.2\nX44.\nG00 X52.\nM30\n")
    feeds = [prog(m.end) for m in moves(motions, "feed")]
    # second cycle: same Z-20 and R-3: cut from radius 22 − 3 = 19 at A's Z to (22, −20)
    assert feeds == [(23.0, -20.0), (26.0, -20.0), (22.0, -20.0), (26.0, -20.0)]
    assert (19.0, 2.0) in [prog(m.end) for m in moves(motions, "rapid") if m.line == 7]
