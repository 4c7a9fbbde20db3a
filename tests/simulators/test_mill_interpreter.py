"""The mill interpreter, set-up and run: each expectation is a hand calculation written beside it.

Frames: G54 = part origin = machine (-400, -250, -420); tool tips in the work frame are the machine gauge point
minus the part origin minus (0, 0, tool length); T1 is 95 long with D1 = 5.
"""
import json
import math

import numpy as np
import pytest

from simulators.cnc_mill.interpreter import MillInterpreter, arc_centre
from simulators.cnc_mill.machine import SetupError, default_setup, setup_from_dict
from simulators.cnc_mill.modal import Modal, Transforms
from simulators.cnc_mill.motions import MotionContext, rapid_motions
from simulators.cnc_mill.run import heightmap, report, simulate
from simulators.core.alarms import Alarm

HEAD = "O1\nG21 G17 G40 G49 G80 G90 G54\nT1 M06\nM03 S1000\nG00 X-60. Y0.\nG43 Z20. H1\n"   # lines 1–6


def tip(point, length=95.0):
    return (round(point[0] + 400, 6), round(point[1] + 250, 6), round(point[2] + 420 - length, 6))


def run(text, setup=None):
    return simulate(text, setup)


def ends(sim, line):
    return [tip(m.end) for m in sim.motions if m.line == line and m.kind in ("rapid", "feed", "arc")]


def codes(sim):
    return [(a.code, a.line) for a in sim.alarms]


# ------------------------------------------------------------------------------------------------ setup

def test_default_setup_matches_the_issue():
    setup = default_setup()
    assert setup.work_offsets["G54"] == (-400.0, -250.0, -420.0)
    assert setup.offsets[1].h == 95.0 and setup.offsets[1].d == 5.0       # T1 Ø10, gauge length 95
    assert setup.offsets[5].d == 4.25                                      # T5 Ø8.5
    assert (setup.rapid_xy_mm_min, setup.rapid_z_mm_min, setup.tool_change_s) == (24000, 20000, 2.0)
    assert setup.max_spindle_rpm == 8000 and setup.arc_tolerance == 0.02 and not setup.decimal_point_input
    assert setup.initial_tool == 0 and setup.initial_position == (0.0, 0.0, 0.0)
    assert sorted(setup.tools) == [1, 2, 3, 4, 5, 6, 7]


def test_power_on_modes():
    interpreter = MillInterpreter("O1\nM30\n", default_setup())
    m = interpreter.state.modal
    assert (m.motion, m.plane, m.absolute, m.feed_per_rev, m.inch) == ("G00", "G17", True, False, False)
    assert (m.comp, m.length_comp, m.work, m.cycle, m.tool) == ("G40", "G49", "G54", "G80", 0)
    # the spindle nose at machine Z0 is 420 above the top face: programmed (400, 250, 420) in G54
    assert interpreter.state.programmed == (400.0, 250.0, 420.0)


def test_setup_from_dict():
    setup = setup_from_dict({"work_offsets": {"G55": {"x": -300, "y": -200, "z": -400}, "G54.1P2": {"x": 1}},
                             "offsets": {"1": {"h_wear": -0.02, "d_wear": 0.01}},
                             "tools": {"8": {"kind": "flat", "diameter": 12, "flute_length": 26, "length": 100,
                                             "shank_diameter": 12, "holder_diameter": 32, "holder_length": 55}},
                             "decimal_point_input": True})
    assert setup.work_offsets["G55"] == (-300.0, -200.0, -400.0) and setup.extended_offsets[2] == (1.0, 0.0, 0.0)
    assert setup.offsets[1].h == pytest.approx(94.98) and setup.offsets[1].d == pytest.approx(5.01)
    assert setup.offsets[8].h == 100.0 and setup.offsets[8].d == 6.0      # a new tool presets H8, D8
    assert setup.decimal_point_input


@pytest.mark.parametrize("data, words", [
    ({"colour": 1}, "unknown setup key"),
    ({"rapid_xy_mm_min": "fast"}, "must be a number"),
    ({"work_offsets": {"G60": {}}}, "unknown work offset"),
    ({"offsets": {"999": {"h": 1}}}, "outside"),
    ({"tools": {"8": {"kind": "spoon"}}}, "kind"),
    ({"stock": {"x": -5}}, "stock"),
    ([], "JSON object"),
])
def test_setup_errors_are_value_errors(data, words):
    with pytest.raises(ValueError, match=words):
        setup_from_dict(data)
    assert issubclass(SetupError, ValueError)


# ------------------------------------------------------------------------------------------------ geometry

def test_transforms_apply_and_inverse():
    t = Transforms(mirror=(0.0, None, None), scaling=True, scale=(2.0, 2.0, 1.0), rotating=True,
                   rotation_deg=90.0, local=(1.0, 0.0, 0.0))
    # (3, 1, 5): mirror X about 0 → (-3, 1); ×2 → (-6, 2); rotate 90° → (-2, -6); + local → (-1, -6, 5)
    assert t.apply((3.0, 1.0, 5.0)) == pytest.approx((-1.0, -6.0, 5.0))
    assert t.inverse((-1.0, -6.0, 5.0)) == pytest.approx((3.0, 1.0, 5.0))
    assert t.reverses("G17")                       # one mirrored plane axis


def test_arc_centre_r_and_ij():
    # CW R5 from (0,0) to (10,0): half chord 5 = R → centre (5, 0)
    assert arc_centre((0, 0), (10, 0), True, 5.0, None, None, 0.02, 1) == pytest.approx((5, 0))
    # CCW R-10 from (-10,0) to (0,10): major arc, centre (-10, 10)... for CCW the minor centre is (-10,10),
    # so R-10 gives (0, 0)
    assert arc_centre((-10, 0), (0, 10), False, -10.0, None, None, 0.02, 1) == pytest.approx((0, 0), abs=1e-9)
    with pytest.raises(Alarm) as e:
        arc_centre((0, 0), (30, 0), True, 10.0, None, None, 0.02, 4)   # half chord 15 > R10
    assert e.value.code == "PS0020"


def test_rapid_dog_leg_three_axes():
    setup = default_setup()
    ctx = MotionContext(setup, Modal(), (0, 0, 0), 1, 1)
    # to (-100, -50, -200): X 0.25 s, Y 0.125 s, Z 0.6 s at 400/400/333.3 mm/s
    legs = rapid_motions((0, 0, 0), (-100, -50, -200), 1, ctx)
    assert [m.end for m in legs] == [pytest.approx((-50, -50, -41.6666667)), pytest.approx((-100, -50, -83.3333333)),
                                     (-100, -50, -200)]
    assert sum(m.seconds for m in legs) == pytest.approx(0.6)
    linear = setup_from_dict({"linear_rapid": True})
    one = rapid_motions((0, 0, 0), (-100, -50, -200), 1, MotionContext(linear, Modal(), (0, 0, 0), 1, 1))
    assert len(one) == 1 and one[0].seconds == pytest.approx(0.6)


# ------------------------------------------------------------------------------------------------ blocks

def test_feed_per_revolution_and_spindle_clamp():
    sim = run(HEAD + "S9000\nZ2.\nG95 G01 Z-1. F0.05\nM30\n")
    feed = next(m for m in sim.motions if m.line == 9)
    assert feed.spindle_rpm == 8000                 # S9000 clamped to the 8,000 rpm maximum
    assert feed.feed_mm_min == pytest.approx(400)   # 0.05 mm/rev × 8000
    assert feed.seconds == pytest.approx(60 * 3 / 400)


def test_dwell_p_and_x():
    sim = run(HEAD + "G04 P1500\nG04 X2.\nG04 X500\nM30\n")
    assert [m.seconds for m in sim.motions if m.kind == "dwell"] == pytest.approx([1.5, 2.0, 0.5])


def test_inch_input():
    sim = run(HEAD + "G20\nG01 X1. F10.\nM30\n")
    move = next(m for m in sim.motions if m.line == 8)
    assert tip(move.end)[0] == pytest.approx(25.4)        # X1 inch
    assert move.feed_mm_min == pytest.approx(254.0)      # F10 inch/min


def test_decimal_point_input_parameter():
    sim = run(HEAD + "G01 X-40 F100\nM30\n", setup_from_dict({"decimal_point_input": True}))
    assert ends(sim, 7) == [(-40.0, 0.0, 20.0)]         # X-40 = 40 mm with DPI = 1


def test_optional_stop_switch():
    text = HEAD + "M01\nM30\n"
    assert [m.kind for m in run(text).motions if m.line == 7] == []
    on = run(text, setup_from_dict({"optional_stop": True}))
    assert [m.kind for m in on.motions if m.line == 7] == ["stop"]


def test_tool_change_retracts_to_the_reference_first():
    sim = run(HEAD + "Z2.\nT2 M06\nM30\n")
    legs = [m for m in sim.motions if m.line == 8]
    assert [m.kind for m in legs] == ["rapid", "tool_change"]
    assert legs[0].end[2] == 0.0 and legs[1].tool == 2
    # up from gauge Z 2 − 420 + 95 = −323 to 0 at 333.3 mm/s, plus the 2 s change
    assert sum(m.seconds for m in legs) == pytest.approx(323 / (20000 / 60) + 2.0)


@pytest.mark.parametrize("tail, code, line", [
    ("G01 X0 F-5.\n", "PS0006", 7),
    ("G04 P1.5\n", "PS0007", 7),
    ("G43 H300\n", "PS0030", 7),
    ("G41 X-50. D250\n", "PS0030", 7),
    ("G81 X0 Y0 Z-5. R2. F100\nG28 Z0\n", "PS0044", 8),
    ("G41 X-50. D1\nM06\n", "PS0010", 8),
    ("G54.1 P99\n", "PS0030", 7),
    ("G51 X0 Y0\n", "PS0010", 7),
    ("G10 L2 P9 X0\n", "PS0030", 7),
    ("G28\n", "PS0046", 7),
    ("G27 X0\n", "PS0092", 7),
])
def test_alarms(tail, code, line):
    assert codes(run(HEAD + tail + "M30\n")) == [(code, line)]


def test_g10_l10_changes_the_length_offset():
    sim = run(HEAD + "G10 L10 P1 R100.\nG43 Z20. H1\nM30\n")
    # H1 = 100 but T1 is 95 long: the tip stops 5 mm above Z20
    assert ends(sim, 8)[-1] == (-60.0, 0.0, 25.0)


def test_g91_g10_adds_to_the_offset():
    sim = run(HEAD + "G91 G10 L2 P1 X5.\nG90 G00 X0 Y0\nM30\n")
    assert ends(sim, 8)[-1][:2] == (5.0, 0.0)           # G54 X shifted by +5


def test_canned_cycle_k_repeats_in_g91():
    sim = run(HEAD.replace("G43 Z20. H1", "G43 Z20. H1") + "G91 G99 G81 X10. Z-5. R-18. K3 F100\nG80\nM30\n")
    bottoms = [tip(m.end) for m in sim.motions if m.line == 7 and m.kind == "feed"]
    # initial level 20, R = 20 − 18 = 2, Z = R − 5 = −3; holes at X −50, −40, −30
    assert bottoms == [(-50.0, 0.0, -3.0), (-40.0, 0.0, -3.0), (-30.0, 0.0, -3.0)]


def test_k0_stores_the_cycle_without_drilling():
    sim = run(HEAD + "G81 X0 Y0 Z-5. R2. F100 K0\nX10.\nG80\nM30\n")
    assert [m for m in sim.motions if m.line == 7] == []
    assert [tip(m.end) for m in sim.motions if m.line == 8 and m.kind == "feed"] == [(10.0, 0.0, -5.0)]


def test_mirror_swaps_compensation_side():
    # G41 along +X at Y0 would put the tool at Y+5; mirrored in X (G51.1 X0) the move runs along −X and the
    # side swaps to G42, which is still the side of +Y in the mirrored picture: the tool runs at Y+5
    text = HEAD + "G51.1 X0\nG41 G01 X20. Y0 D1 F200\nX40.\nG40 X60.\nG50.1 X0\nM30\n"
    sim = run(text)
    assert ends(sim, 9)[-1] == pytest.approx((-40.0, 5.0, 20.0))


def test_d_change_while_compensating():
    text = HEAD + "G41 G01 X-40. Y0 D1 F200\nX0.\nD2 X40.\nG40 Y20.\nM30\n"
    sim = run(text)
    assert ends(sim, 8)[0] == pytest.approx((0.0, 5.0, 20.0))      # D1 = 5 on the first element
    assert ends(sim, 8)[-1] == pytest.approx((0.0, 3.0, 20.0))     # then the step to the new offset
    assert ends(sim, 9)[-1] == pytest.approx((40.0, 3.0, 20.0))    # D2 = 3 (T2 Ø6) from line 9 on


def test_g40_alone_flushes_the_held_move():
    sim = run(HEAD + "G41 G01 X-40. Y0 D1 F200\nX0.\nG40\nM30\n")
    assert ends(sim, 8)[-1] == pytest.approx((0.0, 5.0, 20.0))


def test_overtravel_on_an_arc_quadrant():
    # the setup's X+ limit is machine 0 = work 400; an arc around centre (380, 0) of R30 crosses it
    text = HEAD + "G00 X350. Y0\nG02 X350. Y0 I30. F500\nM30\n"
    assert codes(run(text)) == [("OT0500", 8)]


def test_rigid_tap_needs_speed():
    text = HEAD.replace("M03 S1000", "M03") + "M29\nG84 X0 Y0 Z-5. R2. F300\nM30\n"
    assert codes(run(text)) == [("PS0200", 8)]


# ------------------------------------------------------------------------------------------------ run and report

SLOT = HEAD + "Z2.\nG01 Z-4. F100\nX0. F200\nG00 Z20.\nM30\n"


def test_report_keys_and_rays():
    out = report(run(SLOT), [(-20, 0, -2, 0, 1, 0)])
    assert {"alarms", "crashes", "stalls", "completed", "cycle_time_s", "rays", "motions", "blocks"} <= set(out)
    assert out["rays"][0]["hits"][0]["point"][1] == pytest.approx(5.0, abs=5e-4)
    json.dumps(out)


def test_heightmap_is_float32_over_the_block():
    grid = heightmap(run(SLOT))
    assert grid.dtype == np.float32 and grid.shape == (800, 1000)    # 80 × 100 mm at 0.1 mm
    # cell (row 400, col 300) is centred at x = −50 + 30.05, y = −40 + 40.05: inside the slot (|y| < 5, x ≤ 5)
    assert grid[400, 300] == pytest.approx(-4.0)
    assert grid[0, 0] == pytest.approx(0.0)                           # untouched corner


def test_replay_is_deterministic():
    a, b = run(SLOT), run(SLOT)
    assert a.motions == b.motions and a.cycle_time_s == b.cycle_time_s


def test_cli_heightmap_option(tmp_path):
    from exam_server.cli import main
    program = tmp_path / "slot.nc"
    program.write_text(SLOT)
    out = tmp_path / "h.npy"
    assert main(["sim", "mill", str(program), "--json", "--heightmap", str(out)]) == 0
    saved = np.load(out)
    assert saved.shape == (800, 1000) and saved.dtype == np.float32 and saved[400, 300] == pytest.approx(-4.0)


def test_g95_cycle_with_the_spindle_stopped_stalls():
    sim = run(HEAD + "M05\nG95 G81 X0 Y0 Z-5. R2. F0.1\nM30\n")
    assert [s.line for s in sim.stalls] == [8] and sim.alarms == []


def test_g43_with_a_z_word_moves_once():
    # the Z word and the new offset make one move: gauge to 20 − 420 + 95 = −305, tip at work Z20
    sim = run("O1\nT1 M06\nG00 X0 Y0\nG43 Z20. H1\nM30\n")
    legs = [m for m in sim.motions if m.line == 4]
    assert len(legs) == 1 and legs[0].end == (-400.0, -250.0, -305.0)


def test_g19_arc_direction_seen_from_plus_x():
    # G19 (Y right, Z up, seen from +X): G02 from Y-10 to Y10 about (Y0, Z0) runs over the top (Z+10, in
    # the air); G03 runs under it and the Ø8 ball end mill (T3) cuts down to Z-10 at Y0
    head = HEAD.replace("T1 M06", "T3 M06").replace("H1", "H3")
    for code, depth in (("G02", 0.0), ("G03", -10.0)):
        sim = run(head + f"G00 X0 Y-10.\nZ0.\nG19 {code} Y10. Z0. R10. F300\nM30\n")
        arc = next(m for m in sim.motions if m.line == 9)
        assert arc.kind == "arc" and arc.plane == "G19" and arc.clockwise == (code == "G02")
        assert tip(arc.centre, 90.0) == pytest.approx((0.0, 0.0, 0.0))     # centre in the YZ plane of the start
        assert arc.seconds == pytest.approx(60 * math.pi * 10 / 300)       # half circle R10 at F300
        assert sim.workpiece.top(0.0, 0.0) == pytest.approx(depth, abs=5e-4)


def test_g27_at_the_reference_is_silent():
    # machine Z0 with H1 active is program Z 0 + 420 − 95 = 325
    sim = run(HEAD + "G91 G28 Z0.\nG90 G27 Z325.\nM30\n")
    assert sim.alarms == [] and sim.completed


def test_external_offset_shifts_every_system():
    sim = run(HEAD + "G10 L2 P0 X1. Y2.\nG00 X0 Y0\nG55 G10 L2 P2 X-400. Y-250. Z-420.\nX0 Y0\nM30\n")
    assert ends(sim, 8)[-1][:2] == (1.0, 2.0)          # G54 + external (1, 2)
    assert ends(sim, 10) == []                         # G55 set equal to G54 (+ external): already there
    assert tip(sim.motions[-1].end)[:2] == (1.0, 2.0)


def test_m19_stops_the_spindle():
    sim = run(HEAD + "M19\nM30\n")
    spindle = [m for m in sim.motions if m.line == 7]
    assert [(m.kind, m.spindle_dir, m.spindle_rpm) for m in spindle] == [("spindle", 0, 0.0)]
