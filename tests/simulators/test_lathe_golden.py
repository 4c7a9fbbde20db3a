"""Golden lathe programs: the canonical motion list and the outcome are compared with expected.json, and the
key points of every case are checked by hand below (comments give the calculation).

Record (only after the hand checks pass): GOLDEN_RECORD=1 pytest tests/simulators/test_lathe_golden.py

Default setup numbers: part origin machine (0, 70); geometry offsets (x radius, z) = part origin − tip vector:
G1 = G2 = (40, 89.5), G3 = (45, 82.5), G4 = (40, 78), G5 = (60, 180), G6 = (60, 210); turret starts at
(140, 239.5) (T01 tip at Ø200 Z150); rapid X 200 mm/s, Z 250 mm/s; X words are diameters (radius = X/2).
"""
import json
import math
from pathlib import Path

import pytest

from tests.simulators.golden_files import compare_or_record

from simulators.cnc_lathe import measure
from simulators.cnc_lathe.machine import setup_from_dict
from simulators.cnc_lathe.run import simulate

ROOT = Path(__file__).parent / "golden" / "lathe"
OFFSETS = {1: (40.0, 89.5), 2: (40.0, 89.5), 3: (45.0, 82.5), 4: (40.0, 78.0), 5: (60.0, 180.0), 6: (60.0, 210.0)}
D04 = 0.4 * (2 - math.sqrt(2))   # nose R0.4, T3: tip shift at a 45° chamfer corner, R(2 − √2)
D08 = 0.8 * (2 - math.sqrt(2))


def canonical(sim) -> dict:
    def r(v):
        return None if v is None else [round(float(c), 6) for c in v]
    motions = []
    for m in sim.motions:
        d = {"kind": m.kind, "line": m.line, "start": r(m.start), "end": r(m.end)}
        for key in ("feed_mm_min", "spindle_rpm", "seconds", "lead"):
            value = getattr(m, key)
            if value:
                d[key] = round(value, 6)
        if m.centre is not None:
            d["centre"], d["clockwise"] = r(m.centre), m.clockwise
        d.update(tool=m.tool, offset=m.offset, program=m.program)
        if m.spindle_dir:
            d["spindle_dir"] = m.spindle_dir
        if m.coolant:
            d["coolant"] = True
        motions.append(d)
    return {"alarms": [[a.code, a.line] for a in sim.alarms], "crashes": [[c.kind, c.line] for c in sim.crashes],
            "stalls": [s.line for s in sim.stalls], "completed": sim.completed,
            "cycle_time_s": round(sim.cycle_time_s, 6), "motions": motions}


def run_case(name):
    folder = ROOT / name
    setup = None
    if (folder / "setup.json").exists():
        setup = setup_from_dict(json.loads((folder / "setup.json").read_text()))
    return simulate((folder / "program.nc").read_text(), setup)


def p(point, offset=1):
    """Machine point → program point (x radius, z) of the tool with that offset."""
    gx, gz = OFFSETS[offset]
    return (round(point[0] - gx, 5), round(point[1] - gz, 5))


def ends(sim, kind, offset=1, line=None):
    return [p(m.end, offset) for m in sim.motions if m.kind == kind and (line is None or m.line == line)]


def only(sim, kind):
    return [m for m in sim.motions if m.kind == kind]


def hits_z(sim, radius, z_from=10.0):
    """Z of every surface a ray parallel to the axis at ``radius`` meets, going toward the chuck."""
    return [round(h.point[2], 9) for h in measure.ray_hits(sim.workpiece, (radius, 0.0, z_from), (0.0, 0.0, -1.0))]


def radius_at(sim, z):
    """Outer radius at ``z`` from a ray coming down from above (the first entry point)."""
    return round(measure.ray_hits(sim.workpiece, (100.0, 0.0, z), (-1.0, 0.0, 0.0))[0].point[0], 6)


def alarm(sim):
    return (sim.alarms[0].code, sim.alarms[0].line) if sim.alarms else None


def approx(points, abs_tol=1e-5):
    return pytest.approx(points, abs=abs_tol)


# ------------------------------------------------------------------------------------------------ hand checks

def check_turn_basic(sim):
    assert ends(sim, "feed") == [(20.0, 2.0), (20.0, -20.0), (26.0, -20.0)]
    assert [m.line for m in only(sim, "feed")] == [6, 7, 8]
    # rapid in 0.592 s (Z 148 mm at 250 mm/s) + 6/120 + 22/120 + 6/120 min + rapid out 0.68 s (Z 170 mm)
    assert sim.cycle_time_s == pytest.approx(0.592 + 3.0 + 11.0 + 3.0 + 0.68)
    assert radius_at(sim, -10.0) == 20.0                 # Ø40.000 turned


def check_alarm_feed_zero(sim):
    assert alarm(sim) == ("PS0011", 6)


def check_arc_half_ball(sim):
    arc = only(sim, "arc")[0]
    assert p(arc.centre) == (0.0, -10.0) and not arc.clockwise and p(arc.end) == (10.0, -10.0)
    assert arc.line == 7
    assert arc.seconds == pytest.approx(60 * (10 * math.pi / 2) / (0.1 * 1000))   # quarter R10 at 100 mm/min


def check_arc_ik_fillet(sim):
    arc = only(sim, "arc")[0]
    # start (10, −10) + I5 K0 → centre (15, −10); G02 clockwise; end (15, −15) on the circle
    assert p(arc.centre) == (15.0, -10.0) and arc.clockwise and p(arc.end) == (15.0, -15.0)


def check_alarm_arc_tolerance(sim):
    # start radius 5.1, end radius √(0.1² + 5²) = 5.001: 0.099 > 0.02
    assert alarm(sim) == ("PS0020", 7)


def check_alarm_arc_no_radius(sim):
    assert alarm(sim) == ("PS0022", 7)


def check_decimal_point_mistake(sim):
    # G01 X40 without a decimal point is Ø0.040: radius 0.020
    assert ends(sim, "feed") == [(0.02, 2.0)]


def check_css_clamp(sim):
    face = only(sim, "feed")[0]
    v, f, clamp = 180.0, 0.1, 1500.0
    assert face.spindle_rpm == pytest.approx(1000 * v / (math.pi * 52))        # 1101.86 rpm at Ø52
    r_c = 1000 * v / (2 * math.pi * clamp)                                    # 19.0986: clamp from here in
    minutes = 2 * math.pi * (26 ** 2 - r_c ** 2) / (2 * 1000 * v * f) + r_c / (f * clamp)
    assert face.seconds == pytest.approx(60 * minutes, rel=1e-3)


def check_dwell_and_index(sim):
    # T0404: 3 stations (1.5 s), G04 X2. (2 s), G04 P1500 (1.5 s), T0101: 3 stations (1.5 s)
    assert [m.seconds for m in sim.motions if m.kind in ("tool_change", "dwell")] == [1.5, 2.0, 1.5, 1.5]
    assert sim.cycle_time_s == pytest.approx(6.5)


def check_alarm_overtravel_plus(sim):
    assert alarm(sim) == ("OT0500", 4)       # X600 → machine x 300 + 40 = 340 > 240


def check_alarm_overtravel_minus(sim):
    assert alarm(sim) == ("OT0501", 5)       # Z-200 → machine z −200 + 89.5 = −110.5 < −22


def check_stall_spindle_stopped(sim):
    assert [s.line for s in sim.stalls] == [5] and not sim.alarms


def check_sub_repeat(sim):
    feeds = only(sim, "feed")
    assert len(feeds) == 3 and {m.line for m in feeds} == {10} and {m.program for m in feeds} == {1002}
    assert ends(sim, "feed") == [(25.0, 2.0)] * 3       # Ø54 − 4 = Ø50


def check_sub_l_form(sim):
    assert len(only(sim, "feed")) == 2 and {m.line for m in only(sim, "feed")} == {9}


def check_sub_m99_p(sim):
    rapids = ends(sim, "rapid")
    assert rapids[-1] == (35.0, 12.0) and only(sim, "rapid")[-1].line == 7   # N30 X70 after M99 P30
    assert (31.0, 12.0) not in rapids                                       # N20 X62 skipped


def check_alarm_program_not_found(sim):
    assert alarm(sim) == ("PS0076", 4)


def check_alarm_goto_missing(sim):
    assert alarm(sim) == ("PS0078", 4)


def check_alarm_nesting(sim):
    assert alarm(sim) == ("PS0077", 6)       # the 11th nested call, inside O1002


def check_macro_while(sim):
    feeds = only(sim, "feed")
    assert [p(m.end) for m in feeds] == [(24.0, -20.0), (22.0, -20.0), (20.0, -20.0)]   # Ø48, Ø44, Ø40
    assert {m.line for m in feeds} == {9}
    assert radius_at(sim, -10.0) == 20.0


def check_macro_g65(sim):
    feed = only(sim, "feed")[0]
    assert p(feed.end) == (20.0, -15.0) and feed.line == 11 and feed.program == 9010   # A40. → #1, B-15. → #2


def check_macro_if(sim):
    assert ends(sim, "rapid")[-1] == (35.0, 50.0)                  # #2 = 70 set by IF … THEN
    assert (30.0, 60.0) not in ends(sim, "rapid")                  # G00 X60. Z60. skipped by GOTO 30


def check_alarm_zero_divide(sim):
    assert alarm(sim) == ("PS0112", 4)


def check_alarm_improper_g(sim):
    assert alarm(sim) == ("PS0010", 4)


def check_g90_straight(sim):
    # A = (26, 2): rapid to x, feed to Z-20, feed out to x 26, rapid back to A
    assert ends(sim, "feed") == [(22.5, -20.0), (26.0, -20.0), (20.0, -20.0), (26.0, -20.0)]
    assert [m.line for m in only(sim, "feed")] == [6, 6, 7, 7]
    assert (22.5, 2.0) in ends(sim, "rapid") and (26.0, 2.0) in ends(sim, "rapid")


def check_g90_taper(sim):
    # the cut starts at radius 23 − 3 = 20 at A's Z and ends at (23, −20)
    assert (20.0, 2.0) in ends(sim, "rapid", line=6)
    assert ends(sim, "feed") == [(23.0, -20.0), (26.0, -20.0)]


def check_g94_face(sim):
    # A = (27, 2): rapid to Z-2, feed to x 10, feed back to A's Z, rapid to A; then Z-4
    assert ends(sim, "feed") == [(10.0, -2.0), (10.0, 2.0), (10.0, -4.0), (10.0, 2.0)]
    assert (27.0, -2.0) in ends(sim, "rapid") and (27.0, -4.0) in ends(sim, "rapid")


def check_g92_thread(sim):
    threads = only(sim, "thread")
    assert [p(m.end, 4) for m in threads] == [(9.6, -20.0), (9.3, -20.0), (9.1, -20.0), (9.025, -20.0)]
    assert p(threads[0].start, 4) == (9.6, 5.0) and threads[0].lead == 1.5
    assert threads[0].seconds == pytest.approx(60 * 25 / (1.5 * 500))   # 25 mm at 750 mm/min = 2 s


def check_g71_g70_comp(sim):
    rough = [m for m in only(sim, "feed") if m.line == 7]
    # level 24 (A 26 − Δd 2) runs to the X46 face moved by W0.1: z −49.9
    assert (p(rough[0].start), p(rough[0].end)) == ((24.0, 2.0), (24.0, -49.9))
    # lowest level 10 (26 − 8 × 2 > 8.25, the ns point 8 + Δu/2 0.25): meets the chamfer from (8.25, 0.1)
    # to (10.25, −1.9) at z = 0.1 − 1.75 = −1.65
    assert (10.0, -1.65) in [p(m.end) for m in rough]
    assert not any(abs(p(m.end)[0] - 8.0) < 1e-9 for m in rough)     # no level at 8 < 8.25
    # G70 with G42, T02 R0.4 T3: chamfer corners move by R(2 − √2)
    finish = {m.line: p(m.end, 2) for m in only(sim, "feed") if m.line in (9, 10, 11)}
    assert finish[9] == approx((8.0, -D04)) and finish[10] == approx((10.0, -2.0 - D04))
    # the Z-20 line meets the X30 Z-30 taper (convex, turning 26.6°): the tip stays at x 10 on the Z line
    assert finish[11][0] == pytest.approx(10.0, abs=1e-9)
    # finished part (G70 with G42): Ø20 and Ø30 exact, taper from Ø20 at Z-20 to Ø30 at Z-30
    assert radius_at(sim, -10.0) == 10.0 and radius_at(sim, -40.0) == 15.0
    assert radius_at(sim, -25.0) == pytest.approx(12.5, abs=1e-6)


def check_g72_face(sim):
    rough = [p(m.end) for m in only(sim, "feed") if m.line == 7]
    # levels z 0, −2, −4 (A z 2 − k·2 > −5.9); the face at Z-3 moved by W0.1 is at −2.9, so the z −4 pass
    # stops at the step x 15 + 0.1; the others run to the axis end 0 + 0.1
    for point in [(0.1, 0.0), (0.1, -2.0), (15.1, -4.0)]:
        assert point in rough


def check_g73_pattern(sim):
    feeds = [p(m.end) for m in only(sim, "feed")]
    # pass k shifts the shape by Δu/2 0.2 + Δi 3 (3 − k)/2 and Δw 0.1: pass 1 at x 15 + 3.2, pass 3 at 15.2
    assert feeds[:2] == [(18.2, -19.9), (29.2, -19.9)]
    assert feeds[-2:] == [(15.2, -19.9), (26.2, -19.9)]
    assert len(feeds) == 6          # after G73 the run goes on after N20: the shape is not cut again
    assert radius_at(sim, -10.0) == 15.2                 # Ø30 + Δu 0.4 left for finishing


def check_g74_drill(sim):
    # pecks of Q10 mm from Z5: −5, −15, −25, then −30; back off e 1 mm between pecks
    assert [p(m.end, 6) for m in only(sim, "feed")] == [(0.0, -5.0), (0.0, -15.0), (0.0, -25.0), (0.0, -30.0)]
    assert (0.0, -4.0) in ends(sim, "rapid", 6) and (0.0, -14.0) in ends(sim, "rapid", 6)
    # the 118° point at Z-30: the cone reaches radius 5 at Z-30 + 5 / tan 59°, the full Ø20 at + 10 / tan 59°
    assert hits_z(sim, 0.0)[0] == pytest.approx(-30.0, abs=1e-6)
    assert hits_z(sim, 5.0)[0] == pytest.approx(-30.0 + 5 / math.tan(math.radians(59)), abs=1e-6)
    assert hits_z(sim, 10.5)[0] == 0.0                   # outside the hole: the end face


def check_g75_groove(sim):
    feeds = [p(m.end, 3) for m in only(sim, "feed")]
    # A (26, −20): pecks of P1.5 mm to x 20 at z −20, then columns z −22.5 (Q2.5) and −23 (the end)
    assert feeds[:4] == [(24.5, -20.0), (23.0, -20.0), (21.5, -20.0), (20.0, -20.0)]
    assert (20.0, -22.5) in feeds and feeds[-1] == (20.0, -23.0)
    # the 3 mm blade stands right of its left-corner reference: the groove spans Z-23 … Z-17, bottom Ø40
    assert hits_z(sim, 22.0)[:3] == [0.0, -17.0, -23.0]
    assert radius_at(sim, -20.0) == 20.0


def check_g76_thread(sim):
    threads = only(sim, "thread")
    # depths Δd√n with at least Δdmin 0.1: 0.4 .566 .693 .8 .9 1.0 1.1 1.2, then k − d 1.25, finish at k 1.3
    assert len(threads) == 10
    first, last = threads[0], threads[-1]
    shift = 0.9 * math.tan(math.radians(30))        # (k − 0.4) along the 60° flank
    assert p(first.start, 4) == approx((8.7 + 0.9, 5.0 + shift)) and p(first.end, 4) == approx((9.6, -18 + shift))
    assert p(last.start, 4) == approx((8.7, 5.0)) and p(last.end, 4) == approx((8.7, -18.0))
    assert first.lead == 2.0


def check_tnrc_chamfer(sim):
    pts = ends(sim, "feed")
    assert pts[0] == approx((18.0, -D08)) and pts[1] == approx((20.0, -2.0 - D08)) and pts[2] == approx((20, -20))


def check_g70_comp_in_shape(sim):
    pts = ends(sim, "feed", 2)
    # start-up (type A) ends with the nose centre beside the next block's start: tip (8, 2 − 0.4); G40 on the
    # face block N20: the Z-20 line ends with the centre perpendicular at its end, centre (10.4, −20), tip
    # (10, −20.4), then the cancel move runs to the programmed (26, −20), tapering the shoulder, as on the
    # control when G40 is put on the shoulder block
    assert ends(sim, "rapid", 2)[3] == approx((8.0, 1.6))      # after the two legs of the approach to A
    expected = [(8.0, -D04), (10.0, -2.0 - D04), (10.0, -20.4), (26.0, -20.0)]
    assert len(pts) == 4 and all(a == approx(b) for a, b in zip(pts, expected))
    assert ends(sim, "rapid", 2)[-3] == approx((26.0, 2.0))     # back to A after the shape


def check_g50_g28(sim):
    rapids = [m.end for m in only(sim, "rapid")]
    # Ø40 Z2 → machine (60, 91.5); after G50 X0 Z0, U10 W5 → (65, 96.5); G28 → (140, 239.5)
    assert pytest.approx((65.0, 96.5)) in rapids
    assert rapids[-1] == pytest.approx((140.0, 239.5))


def check_alarm_shape_first_block(sim):
    assert alarm(sim) == ("PS0065", 8)


def check_alarm_shape_missing(sim):
    assert alarm(sim) == ("PS0063", 7)


def check_alarm_g71_depth(sim):
    assert alarm(sim) == ("PS0062", 7)


def check_crash_rapid_into_stock(sim):
    assert [(c.kind, c.line) for c in sim.crashes] == [("rapid_into_stock", 5)]


def check_g71_bore(sim):
    bore = [m for m in only(sim, "feed") if m.tool == 5]
    # A = (9, 2) inside the Ø20 drilled hole; Δu −0.4 → −0.2 radius, Δw 0.1: levels 10 … 14 (< 15 − 0.2) each
    # run to the bottom face moved to Z-14.9; the last pass follows the shape at radius 14.8
    assert [p(m.end, 5) for m in bore[:5]] == [(x, -14.9) for x in (10.0, 11.0, 12.0, 13.0, 14.0)]
    assert [p(m.end, 5) for m in bore[5:]] == [(14.8, -14.9), (8.8, -14.9)]
    # bore Ø29.6 left for finishing: a ray from the axis outward at Z-5 leaves the hole at radius 14.8
    assert measure.ray_hits(sim.workpiece, (0.0, 0.0, -5.0), (1.0, 0.0, 0.0))[0].point[0] == pytest.approx(14.8)


def check_alarm_comp_on_arc(sim):
    assert alarm(sim) == ("PS0034", 7)


def check_alarm_shape_not_monotonic(sim):
    assert alarm(sim) == ("PS0064", 11)      # Z-5. goes back toward the start


def check_alarm_m_in_shape(sim):
    assert alarm(sim) == ("PS0066", 9)


def check_alarm_too_many_digits(sim):
    assert alarm(sim) == ("PS0003", 4) and sim.alarms[0].column == 6


def check_alarm_decimal_point_in_t(sim):
    assert alarm(sim) == ("PS0007", 3)


def check_alarm_loop_number(sim):
    assert alarm(sim) == ("PS0126", 3)


def check_alarm_missing_end(sim):
    assert alarm(sim) == ("PS0124", 4)       # #1 = 5: the loop is skipped, but no END 1 follows


def check_alarm_variable_range(sim):
    assert alarm(sim) == ("PS0115", 3)


def check_alarm_m_code(sim):
    assert alarm(sim) == ("EX1002", 4)


def check_alarm_offset_number(sim):
    assert alarm(sim) == ("PS0030", 3)


def check_stall_m99_main(sim):
    assert [s.line for s in sim.stalls] == [5]


def check_comment_and_semicolons(sim):
    # the same cut as turn_basic written with comments and ';', block delete switch off: the / block runs
    assert ends(sim, "feed") == [(20.0, 2.0), (20.0, -20.0), (26.0, -20.0)]
    assert [m.line for m in only(sim, "feed")] == [5, 6, 6]
    assert sim.cycle_time_s == pytest.approx(0.592 + 3.0 + 11.0 + 3.0 + 0.68)


def check_g96_g70_finish(sim):
    finish = [m for m in only(sim, "feed") if m.line == 10 and p(m.end)[0] == 15.0]
    assert len(finish) == 1
    rpm = 1000 * 150 / (math.pi * 30)               # G96 S150 at Ø30: 1591.55 rpm (< G50 S2500)
    assert finish[0].spindle_rpm == pytest.approx(rpm)
    assert finish[0].feed_mm_min == pytest.approx(0.1 * rpm)          # the shape's F0.1, not the G71 F0.25
    assert finish[0].seconds == pytest.approx(60 * 22 / (0.1 * rpm))  # Z2 → Z-20
    assert radius_at(sim, -10.0) == 15.0


def check_g70_speed_in_shape(sim):
    # F and S inside ns..nf act in G70 only: roughing at S600 F0.25 (150 mm/min), G70 at S1000 F0.1 (100 mm/min)
    rough = [m for m in only(sim, "feed") if m.line == 7]
    assert rough and all(m.spindle_rpm == 600 and m.feed_mm_min == pytest.approx(150.0) for m in rough)
    spindle = [m for m in only(sim, "spindle") if m.line == 8]
    assert len(spindle) == 1 and spindle[0].spindle_rpm == 1000
    finish = [m for m in only(sim, "feed") if m.line == 9 and p(m.end)[0] == 15.0]
    assert len(finish) == 1 and finish[0].feed_mm_min == pytest.approx(100.0)
    # after G70 the shape's F0.1 and S1000 stay modal: W-1 at 100 mm/min
    last = only(sim, "feed")[-1]
    assert last.line == 12 and last.feed_mm_min == pytest.approx(100.0)


def check_g71_type2_pocket(sim):
    # ns gives X and Z → type II. Shape moved by Δu/2 0.2: Ø30.4 to Z-10, taper to (12.2, −20), Z-25, taper to
    # (20.2, −35). Levels from A x 26 by 1.5: 24.5 … 12.5 (> bottom 12.2)
    rough = [(p(m.start), p(m.end)) for m in only(sim, "feed") if m.line == 7]
    assert ((24.5, 2.0), (24.5, -35.0)) in rough
    # level 20 meets the last taper at z = −25 − (20 − 12.2)/8 × 10 = −34.75
    assert ((20.0, 2.0), (20.0, -34.75)) in rough
    # level 14 goes into the pocket: from the first taper at z = −10 − (15.2 − 14)/3 × 10 = −14
    # to the last taper at z = −25 − (14 − 12.2)/8 × 10 = −27.25
    assert ((14.0, -14.0), (14.0, -27.25)) in rough
    assert radius_at(sim, -22.0) == pytest.approx(12.2) and radius_at(sim, -5.0) == pytest.approx(15.2)


def check_g71_comp_in_shape(sim):
    # G42 … G40 written inside ns..nf: G71 roughs the programmed shape (moved by Δu/2 0.25, Δw 0.1) …
    rough = [(p(m.start), p(m.end)) for m in only(sim, "feed") if m.line == 7]
    assert ((24.0, 2.0), (24.0, -29.9)) in rough                      # to the X52 face at Z-30 + 0.1
    assert ((14.0, 2.0), (14.0, -27.4)) in rough                      # taper: −19.9 − (14 − 10.25) × 2
    assert ((10.0, 2.0), (10.0, -1.65)) in rough                      # chamfer: 0.1 − (10 − 8.25)
    # … and G70 (T02, R0.4) applies it: chamfer corners as before; the Z-20 line meets the 1:2 taper (convex):
    # tip lines x = 10 and the taper's offset by R along (1, 2)/√5 then by (−R, −R):
    # z = −20 + 0.4/√5 − 0.4 − 2 (0.4 − 0.8/√5) = −21.2 + 2/√5 = −20.30557
    finish = {m.line: p(m.end, 2) for m in only(sim, "feed") if m.tool == 2}
    assert finish[9] == approx((8.0, -D04)) and finish[10] == approx((10.0, -2.0 - D04))
    assert finish[11] == approx((10.0, -21.2 + 2 / math.sqrt(5)))
    assert radius_at(sim, -10.0) == 10.0 and radius_at(sim, -25.0) == pytest.approx(12.5, abs=1e-6)


def check_g32_thread(sim):
    threads = only(sim, "thread")
    # three G32 passes Z5 → Z-20 at Ø19.2, 18.6, 18.2: 25 mm at 1.5 mm/rev × 500 rpm = 2 s each
    assert [p(m.start, 4) for m in threads] == [(9.6, 5.0), (9.3, 5.0), (9.1, 5.0)]
    assert all(m.lead == 1.5 and m.seconds == pytest.approx(2.0) for m in threads)
    assert [m.line for m in threads] == [7, 11, 15]        # the modal G32 repeats without the G word
    t = measure.thread(sim.workpiece)
    assert t["minor_diameter"] == pytest.approx(18.2) and t["pitch"] == 1.5 and t["line"] == 15


def check_g27_check(sim):
    # T01 tip at Ø200 Z150 is the reference position (turret (140, 239.5)): the first G27 passes, the second
    # (Ø190) stops there with PS0092; M01 and M00 give stop motions and the run goes on
    assert [m.line for m in only(sim, "stop")] == [5, 7]
    assert only(sim, "rapid")[-1].end == pytest.approx((140.0, 239.5)) and only(sim, "rapid")[-1].line == 6
    assert alarm(sim) == ("PS0092", 8)


# ------------------------------------------------------------------------------ finished exam parts (drawing)

def clean(sim):
    assert sim.completed and not sim.alarms and not sim.crashes and not sim.stalls


def check_part_shaft_thread(sim):
    # drawing: M20×1.5 thread (crest Ø19.8) Z0…Z-18.5, C2 chamfer, groove 5 × Ø16 (Z-18…Z-23), Ø28 to Z-35,
    # taper to Ø36 at Z-45, Ø36 to the shoulder at Z-55
    clean(sim)
    assert radius_at(sim, -30.0) == 14.0 and radius_at(sim, -50.0) == 18.0
    assert radius_at(sim, -40.0) == pytest.approx(16.0, abs=1e-6)        # Ø32 halfway along the taper
    assert radius_at(sim, -20.5) == 8.0                                   # groove bottom Ø16
    # at radius 8.5: the C2 chamfer (from r 7.9 at Z0) at Z-0.6, the groove walls at Z-18 and Z-23
    assert hits_z(sim, 8.5)[:3] == pytest.approx([-0.6, -18.0, -23.0], abs=1e-6)
    assert hits_z(sim, 20.0)[0] == -55.0
    t = measure.thread(sim.workpiece)
    assert t["minor_diameter"] == pytest.approx(18.05) and t["major_diameter"] == pytest.approx(19.8)
    assert t["pitch"] == 1.5


def check_part_ball_end(sim):
    # drawing: SR10 ball end (centre on the axis at Z-10), Ø20 to Z-20, Ø24 face, C3 chamfer to Ø30, Ø30 to Z-40
    clean(sim)
    assert radius_at(sim, -5.0) == pytest.approx(math.sqrt(100 - 25), abs=1e-6)
    assert radius_at(sim, -1.0) == pytest.approx(math.sqrt(100 - 81), abs=1e-6)
    assert radius_at(sim, -15.0) == 10.0 and radius_at(sim, -30.0) == 15.0
    assert radius_at(sim, -21.5) == pytest.approx(13.5, abs=1e-6)       # Ø27 halfway along the chamfer
    assert hits_z(sim, 0.0)[0] == pytest.approx(0.0, abs=1e-9)          # the ball's tip
    assert hits_z(sim, 11.0)[0] == -20.0 and hits_z(sim, 20.0)[0] == -40.0


def check_part_g73_taper(sim):
    # drawing: taper Ø30 (Z0) → Ø40 (Z-20), Ø40 to Z-30, R3 concave fillet (centre x 23, Z-30) to Ø46, Ø46 to Z-45
    clean(sim)
    assert radius_at(sim, -10.0) == pytest.approx(17.5, abs=1e-6)
    assert radius_at(sim, -25.0) == 20.0 and radius_at(sim, -40.0) == 23.0
    assert radius_at(sim, -32.0) == pytest.approx(23.0 - math.sqrt(9 - 4), abs=1e-6)
    assert hits_z(sim, 24.0)[0] == -45.0


def check_part_bore(sim):
    # drawing: through Ø20 drill to Z-35; bore Ø28 to Z-20 with a C1 chamfer at the mouth (Ø30), Ø22 to Z-30
    clean(sim)
    assert measure.bore_diameter_at(sim.workpiece, -10.0) == pytest.approx(28.0, abs=1e-6)
    assert measure.bore_diameter_at(sim.workpiece, -25.0) == pytest.approx(22.0, abs=1e-6)
    assert measure.bore_diameter_at(sim.workpiece, -1.0) == pytest.approx(28.0 + 2.0, abs=1e-6)
    assert hits_z(sim, 12.5)[0] == -20.0 and hits_z(sim, 10.5)[0] == -30.0


def check_part_g75_wide_groove(sim):
    # drawing: Ø40 to Z-50; groove Ø30 from Z-38 to Z-27 (G75 to Z-38 with a 3 mm blade, left corner reference)
    clean(sim)
    assert radius_at(sim, -10.0) == 20.0 and radius_at(sim, -32.0) == 15.0
    assert hits_z(sim, 17.0)[:3] == [0.0, -27.0, -38.0]
    assert hits_z(sim, 22.0)[0] == -50.0


def check_part_g94_face_g92(sim):
    # drawing: face Z-2 down to Ø20 (a Ø20 × 2 pip stays), Ø24 to the shoulder at Z-25, M24×1.5 by G92 to Ø22.05
    clean(sim)
    assert hits_z(sim, 5.0)[0] == 0.0 and hits_z(sim, 11.0)[0] == -2.0 and hits_z(sim, 13.0)[0] == -25.0
    assert radius_at(sim, -22.0) == 12.0
    t = measure.thread(sim.workpiece)
    assert t["minor_diameter"] == pytest.approx(22.05) and t["major_diameter"] == pytest.approx(24.0)


def check_part_g72_flange(sim):
    # drawing (faced from the end by G72, finished by G70 G41): Ø48 flange Z-12…-8, cone to Ø30 at Z-5, Ø30 to
    # Z-2, cone to Ø26 at the end face Z0
    clean(sim)
    assert radius_at(sim, -10.0) == 24.0 and radius_at(sim, -3.5) == 15.0
    assert radius_at(sim, -6.5) == pytest.approx(24.0 - 9.0 * 1.5 / 3.0, abs=1e-6)
    assert radius_at(sim, -1.0) == pytest.approx(14.0, abs=1e-6)
    assert hits_z(sim, 5.0)[0] == pytest.approx(0.0, abs=1e-9) and hits_z(sim, 24.5)[0] == pytest.approx(-12.0)
    assert hits_z(sim, 0.5)[0] == pytest.approx(0.0, abs=1e-9)     # N20 X0.: the end face is finished to the axis


def check_part_macro_ellipse(sim):
    # drawing: half ellipse, semi-axes 20 (Z) × 10 (radius), vertex at Z0 on the axis, Ø20 at Z-20 to Z-32.
    # A WHILE loop writes 1 mm chords through nodes on the ellipse; with G42 the part is the chord polyline, so
    # at a node z the radius is 10 √(1 − z'²/400), z' = z + 20
    clean(sim)
    for z in (-10.0, -15.0, -19.0, -5.0):
        zp = z + 20.0
        assert radius_at(sim, z) == pytest.approx(10.0 * math.sqrt(1 - zp * zp / 400.0), abs=1e-6)
    assert radius_at(sim, -25.0) == pytest.approx(10.0, abs=1e-6)
    assert hits_z(sim, 0.0)[0] == pytest.approx(0.0, abs=1e-9)
    # the G01 of line 19 runs 21 times (nodes Z0 … Z-20); the first goes nowhere (the start-up ended at Z0 X0)
    assert len([m for m in only(sim, "feed") if m.line == 19]) == 20


def check_part_multi_groove_sub(sim):
    # drawing: Ø40 to Z-50; three 3 mm grooves Ø34 at a 12 mm pitch (M98 P31100): Z-10…-7, -22…-19, -34…-31
    clean(sim)
    assert hits_z(sim, 18.5)[:7] == [0.0, -7.0, -10.0, -19.0, -22.0, -31.0, -34.0]
    assert radius_at(sim, -8.5) == 17.0 and radius_at(sim, -15.0) == 20.0
    assert {m.program for m in only(sim, "feed") if m.tool == 3} == {1100}


def check_part_css_taper_arc(sim):
    # drawing: C3 chamfer from Ø12, Ø18 to Z-12, R5 convex round (centre x 9, Z-17) to Ø28, face to Ø34 at Z-17,
    # cone to Ø40 at Z-30, Ø40 to Z-40
    clean(sim)
    assert radius_at(sim, -1.5) == pytest.approx(7.5, abs=1e-6) and radius_at(sim, -8.0) == 9.0
    assert radius_at(sim, -13.0) == pytest.approx(9.0 + math.sqrt(25 - 16), abs=1e-6)
    assert hits_z(sim, 15.5)[0] == pytest.approx(-17.0)
    assert radius_at(sim, -23.5) == pytest.approx(17.0 + 3.0 * 6.5 / 13.0, abs=1e-6)
    assert radius_at(sim, -35.0) == 20.0
    # G96 S200 on Ø18: 1000 × 200 / (π × 18) = 3537 rpm, clamped by G50 S2000
    finish = [m for m in only(sim, "feed") if m.tool == 2 and abs(p(m.end, 2)[0] - 9.0) < 1e-9]
    assert finish and all(m.spindle_rpm == 2000.0 for m in finish)


CASES = sorted(name[len("check_"):] for name in dir() if name.startswith("check_"))


def test_every_folder_has_a_hand_check():
    assert sorted(d.name for d in ROOT.iterdir() if d.is_dir()) == CASES
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", CASES)
def test_golden(name):
    sim = run_case(name)
    globals()["check_" + name](sim)               # the hand check first
    compare_or_record(ROOT / name, canonical(sim))


def test_replay_is_deterministic():
    a, b = canonical(run_case("g71_g70_comp")), canonical(run_case("g71_g70_comp"))
    assert a == b
