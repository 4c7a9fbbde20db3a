"""Golden mill programs: the canonical motion list and the outcome are compared with expected.json, and the key
points of every case are checked by hand below (comments give the calculation).

Record (only after the hand checks pass): GOLDEN_RECORD=1 pytest tests/simulators/test_mill_golden.py

Default setup numbers: G54 = part origin = machine (-400, -250, -420); the machine starts at (0, 0, 0); H n =
gauge length of tool n: T1 95, T3 90, T5 145, T6 120, T7 110; D1 = 5. Rapid 400 mm/s in X and Y, 333.3 mm/s in
Z, each axis at its own rate. Positions below are TOOL TIPS in the work frame: machine gauge point − part origin
− (0, 0, tool length). Most programs start with the same six lines (O, modes, T M06, M03 S1000, G00 X Y, G43 Z H).
"""
import math
from pathlib import Path

import pytest

from tests.simulators.golden_files import compare_or_record

from simulators.cnc_mill.run import report, simulate
from simulators.cnc_mill.tools import default_tools

ROOT = Path(__file__).parent / "golden" / "mill"
ORIGIN = (-400.0, -250.0, -420.0)
LENGTH = {n: t.length for n, t in default_tools().items()}
MOVES = ("rapid", "feed", "arc")


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
            d["centre"], d["clockwise"], d["plane"] = r(m.centre), m.clockwise, m.plane
        d.update(tool=m.tool, offset=m.offset, program=m.program, spindle_dir=m.spindle_dir)
        if m.coolant:
            d["coolant"] = True
        motions.append(d)
    return {"alarms": [[a.code, a.line] for a in sim.alarms], "crashes": [[c.kind, c.line] for c in sim.crashes],
            "stalls": [s.line for s in sim.stalls], "completed": sim.completed,
            "cycle_time_s": round(sim.cycle_time_s, 6), "motions": motions}


def tip(point, tool):
    return tuple(v - o for v, o in zip(point, (ORIGIN[0], ORIGIN[1], ORIGIN[2] + LENGTH.get(tool, 0.0))))


def moves(sim, line):
    return [m for m in sim.motions if m.line == line and m.kind in MOVES]


def end(sim, line, index=-1):
    m = moves(sim, line)[index]
    return tip(m.end, m.tool)


def close(a, b, tol=1e-6):
    assert len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b)), f"{a} != {b}"


def seconds(sim, line):
    return sum(m.seconds for m in sim.motions if m.line == line)


def outcome(sim):
    return ([(a.code, a.line) for a in sim.alarms], [(c.kind, c.line) for c in sim.crashes],
            [s.line for s in sim.stalls])


def ray(sim, *r):
    return report(sim, [r])["rays"][0]["hits"]


# ------------------------------------------------------------------------------------------------ hand checks

def check_slot_contract(sim):
    # rapid from machine (0,0,0) to (-460,-250,0): X 460/400 = 1.15 s, Y 250/400 = 0.625 s: corner at
    # (-250,-250) after 0.625 s
    rapid = moves(sim, 6)
    assert rapid[0].end == (-250.0, -250.0, 0.0) and rapid[1].end == (-460.0, -250.0, 0.0)
    assert seconds(sim, 6) == pytest.approx(1.15)
    close(end(sim, 9), (-60, 0, -4))
    close(end(sim, 10), (0, 0, -4))
    assert seconds(sim, 10) == pytest.approx(60 * 60 / 200)     # 60 mm at F200 = 18 s
    # total: 2 (M06) + 1.15 + 305/333.3 + 18/333.3 + 6 mm at F100 + 18 + 24/333.3 = 25.791 s
    assert sim.cycle_time_s == pytest.approx(2 + 1.15 + 0.915 + 0.054 + 3.6 + 18 + 0.072)
    assert ray(sim, -20, 0, -2, 0, 1, 0)[0]["point"][1] == pytest.approx(5.0, abs=5e-4)   # slot wall y = 5
    assert ray(sim, -20, 0, 10, 0, 0, -1)[0]["point"][2] == pytest.approx(-4.0, abs=5e-4)  # floor z = -4


def check_decimal_point(sim):
    close(end(sim, 5), (-60, 0, 325))          # X-60000 without a point = -60.000 mm (1 µm units)
    close(end(sim, 7), (-60, 0, -2))           # Z-2000 = -2 mm; 22 mm at F100 = 13.2 s
    assert seconds(sim, 7) == pytest.approx(13.2)
    assert seconds(sim, 8) == pytest.approx(12.0)   # 20 mm at F100


def check_incremental_g91(sim):
    close(end(sim, 9), (-40, -20, -3))         # (-60,-30) + (20,10)
    close(end(sim, 10), (-30, -20, -3))
    assert seconds(sim, 9) == pytest.approx(60 * math.sqrt(500) / 120)   # 22.3607 mm at F120


def check_arc_r_quarter(sim):
    arc = moves(sim, 9)[0]
    assert arc.kind == "arc" and arc.clockwise
    close(tip(arc.centre, 1)[:2], (0, 0))      # CW from (-30,0) to (0,30), minor arc: centre (0,0)
    close(end(sim, 9), (0, 30, -2))
    assert arc.seconds == pytest.approx(60 * 30 * math.pi / 2 / 200)   # quarter of R30 at F200


def check_arc_ij_full_circle(sim):
    arc = moves(sim, 9)[0]
    assert arc.start == arc.end and not arc.clockwise
    close(tip(arc.centre, 1)[:2], (0, 0))
    assert arc.seconds == pytest.approx(60 * 2 * math.pi * 20 / 300)
    hits = ray(sim, 0, 0, -0.5, 1, 0, 0)       # Ø10 cutter on R20: annulus 15..25 removed
    assert [round(h["point"][0], 3) for h in hits[:2]] == [15.0, 25.0]


def check_arc_negative_r(sim):
    arc = moves(sim, 9)[0]
    close(tip(arc.centre, 1)[:2], (-10, 10))   # the 270° arc, centre on the other side of the chord
    assert arc.seconds == pytest.approx(60 * 10 * 1.5 * math.pi / 200)


def check_arc_helix(sim):
    arc = moves(sim, 9)[0]
    close(end(sim, 9), (10, 0, -2))
    assert arc.centre[2] == arc.start[2]       # centre at the start's z
    assert arc.seconds == pytest.approx(60 * math.hypot(2 * math.pi * 10, 2) / 200)


def check_arc_g18_ball(sim):
    # G18 G02 from X-10 Z0 to X10 Z0, R10, seen from +Y (Z right, X up): clockwise from X-10 passes Z-10 at X0
    arc = moves(sim, 9)[0]
    assert arc.kind == "arc" and arc.plane == "G18" and arc.clockwise
    close(tip(arc.centre, 3), (0, 0, 0))       # centre in the ZX plane through the start (y = start y)
    assert arc.seconds == pytest.approx(60 * math.pi * 10 / 200)
    hits = ray(sim, 0, 0, 10, 0, 0, -1)        # the Ø8 ball's tip reaches Z-10 at X0
    assert hits[0]["point"][2] == pytest.approx(-10.0, abs=5e-4)
    # the ball centres (4 above the tip) run on R10 about (X0, Z4): the cut surface is R14 about it, so at
    # X-6 the floor is at 4 − √(14² − 6²) = 4 − √160
    hits = ray(sim, -6, 0, 10, 0, 0, -1)
    assert hits[0]["point"][2] == pytest.approx(4 - math.sqrt(160), abs=5e-4)


def alarm(code, line):
    def check(sim):
        assert outcome(sim) == ([(code, line)], [], [])
    return check


def check_comp_rectangle_g41(sim):
    # 40×30 boss, G41 D1 (R5), climb around it: tool centre on a 50×40 rectangle
    close(end(sim, 9), (-25, -15, -5))         # start-up: perpendicular to the start of line 10 (+Y)
    close(end(sim, 10), (-25, 20, -5))
    close(end(sim, 11), (25, 20, -5))
    close(end(sim, 12), (25, -20, -5))
    close(end(sim, 13), (-20, -20, -5))        # cancel: perpendicular to the end of line 13
    close(end(sim, 14), (-40, -40, -5))
    assert ray(sim, 0, 0, -2, 1, 0, 0)[0]["point"][0] == pytest.approx(20.0, abs=5e-4)   # boss wall x = 20
    assert ray(sim, 0, 0, -2, 0, 1, 0)[0]["point"][1] == pytest.approx(15.0, abs=5e-4)   # boss wall y = 15


def check_comp_circle_pocket_g41(sim):
    close(end(sim, 9), (15, 0, -3))            # R20 pocket, cutter R5 inside: centre on R15
    arc = moves(sim, 10)[0]
    close(tip(arc.centre, 1)[:2], (0, 0))
    assert arc.seconds == pytest.approx(60 * 2 * math.pi * 15 / 200)
    hits = ray(sim, 0, 0, -1, 1, 0, 0)
    assert hits[0]["point"][0] == pytest.approx(20.0, abs=5e-4) and hits[0]["entering"]


def check_cycle_g81_g98_g99(sim):
    feeds = [end(sim, line, i) for line in (7, 8, 9) for i, m in enumerate(moves(sim, line)) if m.kind == "feed"]
    assert feeds == [(-20, 0, -5), (20, 0, -5), (20, 20, -5)]
    close(end(sim, 7), (-20, 0, 2))            # G99: back to R
    close(end(sim, 8), (20, 0, 2))
    close(end(sim, 9), (20, 20, 50))           # G98: back to the initial level Z50


def check_cycle_g83_peck(sim):
    feeds = [tip(m.end, 5)[2] for m in moves(sim, 7) if m.kind == "feed"]
    assert feeds == pytest.approx([-1, -4, -7, -10])       # Q3 from R2
    reentries = [tip(m.end, 5)[2] for m in moves(sim, 7) if m.kind == "rapid"][3::2]
    assert reentries[:3] == pytest.approx([-0.75, -3.75, -6.75])   # 0.25 mm (parameter 5115) above
    close(end(sim, 7), (-20, 0, 50))


def check_cycle_g73_peck(sim):
    zs = [(m.kind, round(tip(m.end, 5)[2], 6)) for m in moves(sim, 7)][2:]
    assert zs == [("feed", -1), ("rapid", -0.4), ("feed", -4), ("rapid", -3.4), ("feed", -7), ("rapid", 2)]


def check_cycle_g84_rigid_tap(sim):
    m = [x for x in sim.motions if x.line == 8]
    feeds = [x for x in m if x.kind == "feed"]
    assert [x.feed_mm_min for x in feeds] == [300, 300] and all(x.lead == 1.5 for x in feeds)   # 1.5 × 200
    assert tip(feeds[0].end, 6)[2] == pytest.approx(-15) and tip(feeds[1].end, 6)[2] == pytest.approx(5)
    assert [x.spindle_dir for x in m if x.kind == "spindle"] == [-1, 1]     # reverse at the bottom, then M03
    assert feeds[0].seconds == pytest.approx(4.0)          # 20 mm at 300 mm/min


def check_cycle_boring_air(sim):
    g85 = [m for m in moves(sim, 7) if m.kind == "feed"]
    assert len(g85) == 2 and g85[0].seconds == pytest.approx(14.4)   # 12 mm at F50, in and out
    g86 = [x for x in sim.motions if x.line == 8]
    assert [x.kind for x in g86][-3:] == ["spindle", "rapid", "spindle"] and g86[-2].spindle_rpm == 0
    assert [x.seconds for x in sim.motions if x.line == 9 and x.kind == "dwell"] == [0.5]   # P500
    assert [x.seconds for x in sim.motions if x.line == 10 and x.kind == "dwell"] == [1.0]


def check_polar_bolt_circle(sim):
    holes = [tip(m.end, 5)[:2] for line in (8, 9, 10) for m in moves(sim, line) if m.kind == "feed"]
    for got, degrees in zip(holes, (45, 165, 285)):        # R30 at 45°, 165°, then G91 +120°
        close(got, (30 * math.cos(math.radians(degrees)), 30 * math.sin(math.radians(degrees))))


def check_rotation_g68(sim):
    close(end(sim, 10), (0, 20, -1))           # X20 Y0 rotated 90° about (0,0)
    arc = moves(sim, 11)[0]
    close(end(sim, 11), (-20, 0, -1))
    assert not arc.clockwise
    assert moves(sim, 9) == []                 # G68 X0 Y0 R90: X, Y are the centre, no move


def check_scaling_g51(sim):
    close(end(sim, 10), (20, 0, -1))           # X40 × 0.5 (P500 without a point = 0.5)
    arc = moves(sim, 11)[0]
    assert arc.seconds == pytest.approx(60 * 20 * math.pi / 2 / 100)   # R40 × 0.5 = R20 quarter at F100
    close(end(sim, 11), (0, 20, -1))


def check_mirror_g51_1(sim):
    close(end(sim, 10), (-20, 0, -1))          # X20 mirrored about X0
    arc = moves(sim, 11)[0]
    assert not arc.clockwise                   # G02 mirrored in one axis is G03
    close(end(sim, 11), (0, -20, -1))


def check_work_offsets(sim):
    close(end(sim, 6), (-10, 10, 325))         # G55 = (-410, -240): work zero at (-10, 10) of G54
    close(end(sim, 9), (-5, 15, 20))           # G52 X5 Y5 inside G55
    close(end(sim, 12), (20, 0, 20))           # G54.1 P3 = (-380, -250)
    close(end(sim, 13), (0, 0, 20))


def check_tool_offsets_g10(sim):
    close(end(sim, 8), (-60, 0, 20.5))         # H1 wear +0.5: the tip stays 0.5 above the programmed Z
    close(end(sim, 11), (-60, 0, -3.5))
    close(end(sim, 12), (-40, 9, -3.5))        # G10 L12 P1 R4.: D1 = 4, left of +X is +Y
    close(end(sim, 13), (0, 9, -3.5))
    close(end(sim, 14), (0, 20, -3.5))


def check_macro_subprogram(sim):
    cuts = [end(sim, 17, i) for i in range(4)]  # O1001 twice per WHILE pass, two passes: 4 × X+10
    assert [c[0] for c in cuts] == [-30, -20, -10, 0]
    assert {m.program for m in moves(sim, 17)} == {1001}


def check_reference_g28_g53(sim):
    close(end(sim, 7), (0, 0, 325))            # Z to machine 0: tip 420 − 95 above the top
    close(end(sim, 8), (100, 50, 325))         # G53 X-300 Y-200 (machine)
    close(end(sim, 9, 1), (0, 0, 325))         # G28 via work X0 Y0 ...
    close(end(sim, 9), (400, 250, 325))        # ... to machine (0, 0)


def check_crash_rapid(sim):
    assert outcome(sim) == ([], [("rapid_into_stock", 7)], [])
    assert not sim.completed


def check_crash_plunge(sim):
    assert outcome(sim) == ([], [("non_centre_plunge", 8)], [])


def check_stall(sim):
    assert outcome(sim) == ([], [], [9])


def check_tool_length(sim):
    close(end(sim, 7), (-120, 0, -170))        # G44: gauge at Z20 − 95 → tip 2 × 95 below Z20
    close(end(sim, 8), (-120, 0, -75))         # G49: gauge line at Z20 → tip 95 below
    close(end(sim, 9), (-120, 0, 10))          # G43 H2 (85) with T1 (95) in the spindle: 10 below Z20


def check_cycles_air(sim):
    g74 = [x for x in sim.motions if x.line == 7]
    # G74 (M04 S500): feed in, spindle to CW (+1) at the bottom, feed out, back to CCW (-1)
    assert [x.kind for x in g74] == ["rapid", "feed", "spindle", "feed", "spindle", "rapid"]
    assert [x.spindle_dir for x in g74 if x.kind == "spindle"] == [1, -1]
    g76 = [tip(x.end, 1) for x in moves(sim, 9)]
    # G76 Q1: bottom at Z-10, orient, shift +X 1 mm (parameter 5101 default), up to Z50 (G98), shift back
    assert g76[-4:] == [(-100, 0, -10), (-99, 0, -10), (-99, 0, 50), (-100, 0, 50)]
    g87 = [tip(x.end, 1) for x in moves(sim, 10)]
    # G87: shift at the initial level, rapid to R-12, shift back, bore UP to Z-5, shift, up to Z50, back
    assert g87[1:] == [(-109, 0, 50), (-109, 0, -12), (-110, 0, -12), (-110, 0, -5), (-109, 0, -5), (-109, 0, 50),
                       (-110, 0, 50)]
    g88 = [x.kind for x in sim.motions if x.line == 11]
    assert g88[-5:] == ["dwell", "spindle", "stop", "rapid", "spindle"]   # P300, M05, manual stop, out, M03
    assert [x.seconds for x in sim.motions if x.kind == "dwell"] == [0.2, 0.2, 0.3]   # P is modal in the cycle


def check_comp_contour_arcs(sim):
    # 40×40 boss with R5 corners, G41 D1: tool centre 5 outside, corner arcs R10 about the same centres
    close(end(sim, 10), (-25, 15, -2))
    arc = moves(sim, 11)[0]
    close(tip(arc.centre, 1)[:2], (-15, 15))
    close(end(sim, 11), (-15, 25, -2))
    assert arc.clockwise and arc.seconds == pytest.approx(60 * 10 * math.pi / 2 / 200)
    close(end(sim, 13), (25, 15, -2))
    close(end(sim, 15), (15, -25, -2))
    close(end(sim, 16), (-25, -25, -2))
    hits = ray(sim, -40, 0, -1, 1, 0, 0)      # from inside the stock: out of it at the swath (x −30), then
    assert [round(h["point"][0], 4) for h in hits[:2]] == [-30.0, -20.0]   # into the boss wall at x −20
    assert hits[1]["entering"]


def check_comp_z_move_between(sim):
    close(end(sim, 8), (-25, -30, 2))          # start-up ends beside the start of line 10 (the next XY move)
    close(end(sim, 9), (-25, -30, -2))         # Z-only move made there
    close(end(sim, 10), (-25, 20, -2))         # 90° outside corner: extended to the intersection
    close(end(sim, 11), (20, 20, -2))


def check_rotated_slots(sim):
    slots = [(tip(m.start, 1)[:2], tip(m.end, 1)[:2]) for m in moves(sim, 13)]
    expected = [((15, 0), (30, 0)), ((0, 15), (0, 30)), ((-15, 0), (-30, 0)), ((0, -15), (0, -30))]
    assert len(slots) == 4                     # R#1 = 0, 90, 180, 270
    for (s, e), (es, ee) in zip(slots, expected):
        close(s, es)
        close(e, ee)


def first(sim, *r):
    hit = ray(sim, *r)[0]
    return tuple(hit["point"]), hit["entering"]


def check_part_boss_pocket_holes(sim):
    """80×60 boss with R10 corners 5 deep, Ø30 pocket 4 deep, four Ø8.5 holes 15 deep (drawing values)."""
    s2 = math.sqrt(0.5)
    assert sim.completed and outcome(sim) == ([], [], [])
    expected = [
        ((60, 0, -2, -1, 0, 0), (40, 0, -2), True),                 # boss width 80: wall at x 40
        ((0, 50, -2, 0, -1, 0), (0, 30, -2), True),                 # boss height 60: wall at y 30
        ((45, 0, 10, 0, 0, -1), (45, 0, -5), True),                 # step floor 5 deep
        ((-30, 20, -2, -s2, s2, 0), (-30 - 4.25 * s2, 20 + 4.25 * s2, -2), True),   # a hole axis: its wall
        ((0, 0, -2, 1, 0, 0), (15, 0, -2), True),                   # pocket Ø30
        ((0, 0, 10, 0, 0, -1), (0, 0, -4), True),                   # pocket floor 4 deep
        ((-30, -20, -5, 1, 0, 0), (-25.75, -20, -5), True),         # hole Ø8.5 at (-30, -20)
        ((30, 20, -10, -1, 0, 0), (25.75, 20, -10), True),          # hole Ø8.5 at (30, 20)
        ((30, 20, 10, 0, 0, -1), (30, 20, -15), True),              # drill point at Z-15 on the axis
    ]
    for r, point, entering in expected:
        got, flag = first(sim, *r)
        close(got, point, 5e-4)
        assert flag is entering
    # hole axis: out of the Ø8.5 hole at 4.25, then out of the boss at the R10 corner, 10 from its centre
    corner = ray(sim, -30, 20, -2, -s2, s2, 0)[1]
    close(tuple(corner["point"]), (-30 - 10 * s2, 20 + 10 * s2, -2), 5e-4)
    assert corner["entering"] is False
    pecks = [tip(m.end, 5)[2] for m in moves(sim, 34) if m.kind == "feed"]
    assert pecks == pytest.approx([-3, -8, -13, -15])               # G83 Q5 from R2


def check_part_rotated_slot(sim):
    """Slot 20 long, 6 wide (T2 Ø6), from local X10 to X30 rotated 30° about the G52 origin (-20, -10)."""
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    close(end(sim, 19), (-20 + 30 * c, -10 + 30 * s, -3))
    mid = (-20 + 20 * c, -10 + 20 * s)                              # local (20, 0)
    got, entering = first(sim, mid[0], mid[1], -1.5, -s, c, 0)      # across the slot: wall 3 from the axis
    close(got, (mid[0] - 3 * s, mid[1] + 3 * c, -1.5), 5e-4)
    assert entering
    got, _ = first(sim, -20 + 30 * c, -10 + 30 * s, -1.5, c, s, 0)  # along it: the end cap R3
    close(got, (-20 + 33 * c, -10 + 33 * s, -1.5), 5e-4)
    got, _ = first(sim, mid[0], mid[1], 10, 0, 0, -1)
    close(got, (mid[0], mid[1], -3), 5e-4)


def check_part_pocket_with_island(sim):
    """Pocket 60×40, 5 deep, with a Ø20 island at its centre; T1 (R5) with G41: once round the island at R15
    (G02, climb), then along the pocket walls (CCW, climb): tool-centre corners (±25, ±15)."""
    arc = moves(sim, 11)[0]
    assert arc.clockwise and math.dist(tip(arc.start, 1)[:2], tip(arc.centre, 1)[:2]) == pytest.approx(15.0)
    assert [end(sim, line)[:2] for line in (14, 15, 16, 17)] == [(-25, 15), (-25, -15), (25, -15), (25, 15)]
    for r, point in (((0, 17, -2, 0, -1, 0), (0, 10, -2)),     # island Ø20
                     ((0, 15, -2, 0, 1, 0), (0, 20, -2)),      # pocket width 40
                     ((22, 0, -2, 1, 0, 0), (30, 0, -2)),      # pocket length 60
                     ((-22, 0, -2, -1, 0, 0), (-30, 0, -2)),
                     ((0, 15, 10, 0, 0, -1), (0, 15, -5)),     # pocket floor 5 deep
                     ((0, 0, 10, 0, 0, -1), (0, 0, 0))):       # island top untouched
        got, entering = first(sim, *r)
        close(got, point, 5e-4)
        assert entering


def check_part_tapped_pcd(sim):
    """4 × M10×1.5 on PCD 50 at 45°, 135°, 225°, 315° (G16): centre drill Z-3, Ø8.5 drill Z-20 (G83 Q5,
    then G91 Y90. K3), rigid tap Z-15 (G95 F1.5 at S200 = 300 mm/min)."""
    c = 25 * math.cos(math.radians(45))
    corners = [(c, c), (-c, c), (-c, -c), (c, -c)]
    spots = [tip(m.end, 4)[:2] for line in (9, 10, 11, 12) for m in moves(sim, line) if m.kind == "feed"]
    drills = [tip(m.end, 5) for line in (19, 20) for m in moves(sim, line) if m.kind == "feed"]
    taps = [m for line in (28, 29, 30, 31) for m in moves(sim, line) if m.kind == "feed"]
    for got, want in zip(spots, corners):
        close(got, want)
    assert [round(p[2], 6) for p in drills[:5]] == [-3, -8, -13, -18, -20]          # R2 − 5k, then Z-20
    for got, want in zip(drills[4::5], corners):
        close(got[:2], want)
    assert len(taps) == 8 and all(m.feed_mm_min == pytest.approx(300) and m.lead == 1.5 for m in taps)
    for (x, y) in corners:
        got, entering = first(sim, x, y, -10, 1, 0, 0)                 # Ø8.5 drill wall (the tap core
        close(got, (x + 4.25, y, -10), 5e-4)                            # Ø8.376 is inside it)
        assert entering
        got, _ = first(sim, x, y, 10, 0, 0, -1)
        close(got, (x, y, -20), 5e-4)                                   # drill point on the axis


def check_part_round_boss_g42_wear(sim):
    """Ø50 boss 4 deep, G42 going CCW round it (conventional milling), D1 wear −0.02 set by G10 L13: the
    centre runs on R 25 + 4.98 while the real cutter is R5, so the boss comes out Ø49.96."""
    arc = moves(sim, 12)[0]
    assert not arc.clockwise
    assert math.dist(tip(arc.start, 1)[:2], tip(arc.centre, 1)[:2]) == pytest.approx(29.98)
    assert arc.seconds == pytest.approx(60 * 2 * math.pi * 29.98 / 180)
    got, entering = first(sim, 27, 0, -2, -1, 0, 0)
    close(got, (24.98, 0, -2), 5e-4)
    assert entering
    got, _ = first(sim, 0, 27, -2, 0, 1, 0)                   # outer edge of the R5 swath (along +Y: clear of
    close(got, (0, 34.98, -2), 5e-4)                          # the lead-in and lead-out near +X)
    got, _ = first(sim, 0, 27, 10, 0, 0, -1)
    close(got, (0, 27, -4), 5e-4)


def check_part_pocket_two_islands(sim):
    """Pocket 70×50 with R8 corners, 4 deep, two Ø14 islands at (±17, 0); T1 R5. Roughing: x = 0 and y = ±12.5
    lines (the y lines reach y ±7.5, 0.5 clear of the islands); each island once round with G41 G02 (tool centre
    on R 7 + 5 = 12); the walls with G41 CCW: tool-centre corners (±27, ±20) / (±30, ±17), corner arcs R 8 − 5."""
    assert sim.completed and outcome(sim) == ([], [], [])
    for line, cx in ((20, -17.0), (24, 17.0)):
        arc = moves(sim, line)[0]
        assert arc.clockwise
        close(tip(arc.start, 1)[:2], (cx, -12.0))                  # start-up ends below the island, R12 from it
        close(tip(arc.centre, 1)[:2], (cx, 0.0))
    for line, point in ((28, (27, -20)), (29, (30, -17)), (30, (30, 17)), (31, (27, 20)), (32, (-27, 20)),
                        (34, (-30, -17)), (36, (0, -20))):
        close(end(sim, line)[:2], point)
    s2 = math.sqrt(0.5)
    for r, point in (((0, -10, -2, 1, 0, 0), (35, -10, -2)),        # pocket length 70
                     ((0, -10, -2, -1, 0, 0), (-35, -10, -2)),
                     ((0, 0, -2, 0, 1, 0), (0, 25, -2)),            # pocket width 50
                     ((0, 0, -2, 0, -1, 0), (0, -25, -2)),
                     ((0, 0, -2, 1, 0, 0), (10, 0, -2)),            # islands Ø14: 17 − 7 = 10 from the centre line
                     ((0, 0, -2, -1, 0, 0), (-10, 0, -2)),
                     ((17, 20, -2, 0, -1, 0), (17, 7, -2)),
                     ((-17, -20, -2, 0, 1, 0), (-17, -7, -2)),
                     ((27, 17, -2, s2, s2, 0), (27 + 8 * s2, 17 + 8 * s2, -2)),    # corner R8 about (27, 17)
                     ((17, 0, 10, 0, 0, -1), (17, 0, 0)),           # island tops untouched
                     ((-17, 0, 10, 0, 0, -1), (-17, 0, 0))):
        got, entering = first(sim, *r)
        close(got, point, 5e-4)
        assert entering
    # the whole floor is cleared to Z-4: a grid of vertical probes inside the pocket, 0.5 clear of its walls,
    # corners and islands
    rays = []
    for x in range(-33, 34, 6):
        for y in range(-24, 25, 4):
            if abs(x) > 34.5 or abs(y) > 24.5 or min(math.hypot(x - 17, y), math.hypot(x + 17, y)) < 7.5:
                continue
            if abs(x) > 27 and abs(y) > 17 and math.hypot(abs(x) - 27, abs(y) - 17) > 7.5:
                continue
            rays.append((x, y, 10, 0, 0, -1))
    hits = report(sim, rays)["rays"]
    assert len(hits) > 80
    for r in hits:
        assert r["hits"][0]["point"][2] == pytest.approx(-4.0, abs=5e-4), r["origin"]


def check_part_polar_counterbore_g16(sim):
    """Six Ø8.5 holes on PCD 60 at 0°, 60°, … 300° (G16: X = radius 30, Y = angle; G91 Y60. K4 then Y60.),
    G83 Q6 to Z-20 from R2; counterbored Ø10 (T1) 3 deep with G82 P500 at the same polar points; a central
    Ø24 pocket 6 deep (G41 D1 circle: tool centre on R 12 − 5 = 7)."""
    assert sim.completed and outcome(sim) == ([], [], [])
    centres = [(30 * math.cos(math.radians(a)), 30 * math.sin(math.radians(a))) for a in range(0, 360, 60)]
    drills = [tip(m.end, 5) for line in (19, 20, 21) for m in moves(sim, line) if m.kind == "feed"]
    assert [round(p[2], 6) for p in drills[:4]] == [-4, -10, -16, -20]           # R2 − 6k, then Z-20
    assert len(drills) == 24
    for got, want in zip(drills[3::4], centres):
        close(got, (want[0], want[1], -20.0))
    bores = [tip(m.end, 1) for line in range(28, 34) for m in moves(sim, line) if m.kind == "feed"]
    assert len(bores) == 6
    for got, want in zip(bores, centres):
        close(got, (want[0], want[1], -3.0))
    dwells = [m for m in sim.motions if m.kind == "dwell"]
    assert len(dwells) == 6 and all(m.seconds == pytest.approx(0.5) for m in dwells)
    arc = moves(sim, 11)[0]
    assert not arc.clockwise and math.dist(tip(arc.start, 1)[:2], tip(arc.centre, 1)[:2]) == pytest.approx(7.0)
    for angle, (cx, cy) in zip(range(0, 360, 60), centres):
        u = (math.cos(math.radians(angle)), math.sin(math.radians(angle)))
        for z, radius in ((-1.5, 5.0), (-10.0, 4.25)):                  # counterbore Ø10, then the Ø8.5 drill
            got, entering = first(sim, cx, cy, z, u[0], u[1], 0)
            close(got, (cx + radius * u[0], cy + radius * u[1], z), 5e-4)
            assert entering
        got, _ = first(sim, cx + 4.6 * u[0], cy + 4.6 * u[1], 10, 0, 0, -1)   # between Ø8.5 and Ø10: the
        close(got, (cx + 4.6 * u[0], cy + 4.6 * u[1], -3.0), 5e-4)               # counterbore floor
        got, _ = first(sim, cx, cy, 10, 0, 0, -1)
        close(got, (cx, cy, -20.0), 5e-4)                                     # drill point on the axis
    for r, point in (((0, 0, -3, 1, 0, 0), (12, 0, -3)), ((0, 0, -3, 0, -1, 0), (0, -12, -3)),
                     ((5, 5, 10, 0, 0, -1), (5, 5, -6)), ((0, 0, 10, 0, 0, -1), (0, 0, -6)),
                     ((30 * math.cos(math.radians(30)), 15, 10, 0, 0, -1), (30 * math.cos(math.radians(30)), 15, 0))):
        got, entering = first(sim, *r)
        close(got, point, 5e-4)
        assert entering


def check_part_rotated_pocket_g68(sim):
    """Pocket 36×20, R5 corners, 3 deep, programmed at X-8..28 Y-15..5 and rotated 30° about its centre
    C = (10, -5) by G68; T2 R3. A point (u, v) of the pocket's own frame (origin C) is C + (u c − v s, u s + v c)
    with c = cos 30°, s = sin 30°. Tool centre with G41: corners (±15, ±7) / (±13, ±7)."""
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))

    def at(u, v):
        return (10 + u * c - v * s, -5 + u * s + v * c)

    assert sim.completed and outcome(sim) == ([], [], [])
    for line, (u, v) in ((19, (13, -7)), (21, (15, 5)), (23, (-13, 7)), (25, (-15, -5)), (27, (0, -7))):
        close(end(sim, line)[:2], at(u, v))
    arc = moves(sim, 20)[0]
    assert not arc.clockwise and math.dist(tip(arc.start, 2)[:2], tip(arc.centre, 2)[:2]) == pytest.approx(2.0)
    k = math.sqrt(0.5)
    for origin, direction, distance in ((at(0, 0), (c, s), 18), (at(0, 0), (-c, -s), 18),    # length 36
                                        (at(0, 0), (-s, c), 10), (at(0, 0), (s, -c), 10),    # width 20
                                        (at(13, 5), (k * (c - s), k * (s + c)), 5)):         # corner R5
        got, entering = first(sim, origin[0], origin[1], -1.5, direction[0], direction[1], 0)
        close(got, (origin[0] + distance * direction[0], origin[1] + distance * direction[1], -1.5), 5e-4)
        assert entering
    for (u, v), z in (((0, 0), -3.0), ((14, -8), -3.0), ((-16, 8), -3.0), ((0, 10.5), 0.0), ((18.5, 0), 0.0)):
        x, y = at(u, v)
        got, _ = first(sim, x, y, 10, 0, 0, -1)
        close(got, (x, y, z), 5e-4)


def check_part_mirror_pockets_g51_1(sim):
    """Pocket 20×12 R4 3 deep at (25, 18) in O2100 (G41 climb, T2 R3), called four times: as written, under
    G51.1 X0 (x → −x), X0 and Y0, then Y0 only. One mirrored axis turns G03 into G02 and G41 into G42, so the
    tool centre still runs inside: (±31, ±15) after the first side, corner arcs R 4 − 3 = 1."""
    assert sim.completed and outcome(sim) == ([], [], [])
    signs = [(1, 1), (-1, 1), (-1, -1), (1, -1)]
    ends = [tip(m.end, 2)[:2] for m in moves(sim, 24)]
    arcs = moves(sim, 25)
    assert len(ends) == 4 and [a.clockwise for a in arcs] == [False, True, False, True]
    k = math.sqrt(0.5)
    for (sx, sy), got in zip(signs, ends):
        close(got, (31 * sx, 15 * sy))
        for direction, point in (((sx, 0), (35 * sx, 18 * sy)), ((-sx, 0), (15 * sx, 18 * sy)),
                                 ((0, sy), (25 * sx, 24 * sy)), ((0, -sy), (25 * sx, 12 * sy)),
                                 ((sx * k, sy * k), ((31 + 4 * k) * sx, (20 + 4 * k) * sy))):
            start = (31 * sx, 20 * sy) if direction[0] and direction[1] else (25 * sx, 18 * sy)
            got_point, entering = first(sim, start[0], start[1], -1.5, direction[0], direction[1], 0)
            close(got_point, (point[0], point[1], -1.5), 5e-4)
            assert entering
        got_point, _ = first(sim, 25 * sx, 18 * sy, 10, 0, 0, -1)
        close(got_point, (25 * sx, 18 * sy, -3.0), 5e-4)
    got_point, _ = first(sim, 0, 0, 10, 0, 0, -1)                  # between the pockets: untouched
    close(got_point, (0, 0, 0), 5e-4)


def check_part_lever_contour_g41(sim):
    """Lever 5 high: R20 boss about C1 (-20, 0) and R6 boss about C2 (30, 0) joined by their outer tangents,
    G41 going clockwise (T1 R5), a Ø20 pocket at C1, a Ø8.5 hole 12 deep at C2. Tangents: unit normal
    n = (nx, ny) with n·(C2 − C1) = R1 − R2 → 50 nx = 14, nx = 0.28, ny = 0.96 (a 7-24-25 triangle), so the
    tangent points are C1 + 20 n = (-14.4, 19.2) and C2 + 6 n = (31.68, 5.76) (and their mirror images): the
    junctions are tangent, and the tool centre passes C1 + 25 n = (-13, 24) and C2 + 11 n = (33.08, 10.56)."""
    assert sim.completed and outcome(sim) == ([], [], [])
    close(end(sim, 11)[:2], (-45, 0))                            # start-up: R5 left of the first arc's tangent
    for line, point in ((12, (-13, 24)), (13, (33.08, 10.56)), (14, (33.08, -10.56)), (15, (-13, -24)),
                        (16, (-45, 0))):
        close(end(sim, line)[:2], point)
    assert [len(moves(sim, line)) for line in (12, 13, 14, 15, 16)] == [1, 1, 1, 1, 1]   # no corner moves
    assert all(m.clockwise for line in (12, 14, 16) for m in moves(sim, line))
    k = math.sqrt(0.5)
    mid = ((-14.4 + 31.68) / 2, (19.2 + 5.76) / 2)               # (8.64, 12.48) on the upper tangent
    for r, point in (((-47, 0, -2.5, 1, 0, 0), (-40, 0, -2.5)),              # R20 boss: 20 left of C1
                     ((40, 0, -2.5, -1, 0, 0), (36, 0, -2.5)),               # R6 boss: 6 right of C2
                     ((30 + 10 * k, -10 * k, -2.5, -k, k, 0), (30 + 6 * k, -6 * k, -2.5)),
                     ((mid[0] + 1.4, mid[1] + 4.8, -2.5, -0.28, -0.96, 0), (mid[0], mid[1], -2.5)),
                     ((mid[0] + 1.4, -mid[1] - 4.8, -2.5, -0.28, 0.96, 0), (mid[0], -mid[1], -2.5)),
                     ((-20, 0, -2.5, 0, 1, 0), (-20, 10, -2.5)),             # pocket Ø20
                     ((30, 0, -6, 1, 0, 0), (34.25, 0, -6)),                 # hole Ø8.5
                     ((-45, 0, 10, 0, 0, -1), (-45, 0, -5)),                 # floor beside the lever
                     ((-20, 0, 10, 0, 0, -1), (-20, 0, -5)),                 # pocket floor
                     ((0, 0, 10, 0, 0, -1), (0, 0, 0)),                      # lever top untouched
                     ((30, 0, 10, 0, 0, -1), (30, 0, -12))):                 # drill point
        got, entering = first(sim, *r)
        close(got, point, 5e-4)
        assert entering


CASES = {
    "part_lever_contour_g41": check_part_lever_contour_g41,
    "part_pocket_two_islands": check_part_pocket_two_islands,
    "part_polar_counterbore_g16": check_part_polar_counterbore_g16,
    "part_rotated_pocket_g68": check_part_rotated_pocket_g68,
    "part_mirror_pockets_g51_1": check_part_mirror_pockets_g51_1,
    "part_round_boss_g42_wear": check_part_round_boss_g42_wear,
    "part_tapped_pcd": check_part_tapped_pcd,
    "part_pocket_with_island": check_part_pocket_with_island,
    # G41 R5 along +X, then a G03 about (-4, 4) (R5.657) leaving at 45°: the offset circle (R0.657) lies 1 mm
    # below the offset line y = 5, so the inside corner has no intersection
    "alarm_no_intersection": alarm("PS0033", 10),
    "part_boss_pocket_holes": check_part_boss_pocket_holes,
    "part_rotated_slot_local": check_part_rotated_slot,
    "cycle_g74_g76_g87_g88_air": check_cycles_air,
    "comp_contour_arcs_g41": check_comp_contour_arcs,
    "comp_z_move_between": check_comp_z_move_between,
    "alarm_nesting": alarm("PS0077", 10),
    "alarm_missing_end": alarm("PS0124", 8),
    "rotated_slots_macro": check_rotated_slots,
    "slot_contract": check_slot_contract,
    "decimal_point": check_decimal_point,
    "incremental_g91": check_incremental_g91,
    "arc_r_quarter": check_arc_r_quarter,
    "arc_ij_full_circle": check_arc_ij_full_circle,
    "arc_negative_r": check_arc_negative_r,
    "arc_helix": check_arc_helix,
    "arc_g18_ball": check_arc_g18_ball,
    "alarm_feed_zero": alarm("PS0011", 8),
    "alarm_arc_tolerance": alarm("PS0020", 9),
    "alarm_arc_no_radius": alarm("PS0022", 9),
    "alarm_improper_g": alarm("PS0010", 7),
    "alarm_comp_on_arc": alarm("PS0034", 9),
    "alarm_plane_change": alarm("PS0037", 10),
    "alarm_interference": alarm("PS0041", 10),
    "alarm_peck_no_q": alarm("PS0045", 7),
    "alarm_program_not_found": alarm("PS0076", 7),
    "alarm_goto_missing": alarm("PS0078", 8),
    "alarm_overtravel_minus": alarm("OT0501", 7),
    "alarm_overtravel_plus": alarm("OT0500", 7),
    "alarm_address": alarm("PS0009", 7),
    "alarm_m_code": alarm("EX1002", 7),
    "alarm_tool_number": alarm("EX1003", 7),
    "comp_rectangle_g41": check_comp_rectangle_g41,
    "comp_circle_pocket_g41": check_comp_circle_pocket_g41,
    "cycle_g81_g98_g99": check_cycle_g81_g98_g99,
    "cycle_g83_peck": check_cycle_g83_peck,
    "cycle_g73_peck": check_cycle_g73_peck,
    "cycle_g84_rigid_tap": check_cycle_g84_rigid_tap,
    "cycle_boring_air": check_cycle_boring_air,
    "polar_bolt_circle": check_polar_bolt_circle,
    "rotation_g68": check_rotation_g68,
    "scaling_g51": check_scaling_g51,
    "mirror_g51_1": check_mirror_g51_1,
    "work_offsets": check_work_offsets,
    "tool_offsets_g10": check_tool_offsets_g10,
    "macro_subprogram": check_macro_subprogram,
    "reference_g28_g53": check_reference_g28_g53,
    "crash_rapid_into_stock": check_crash_rapid,
    "crash_non_centre_plunge": check_crash_plunge,
    "stall_g95_spindle_stopped": check_stall,
    "tool_length_g44_g49": check_tool_length,
}


def test_every_folder_has_hand_checks():
    assert sorted(p.name for p in ROOT.iterdir() if p.is_dir()) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name):
    folder = ROOT / name
    sim = simulate((folder / "program.nc").read_text())
    CASES[name](sim)
    compare_or_record(folder, canonical(sim))
