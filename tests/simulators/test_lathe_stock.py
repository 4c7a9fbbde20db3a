"""Exact stock removal and crash detection, fed with hand-made canonical motions (no interpreter).

Default setup: Ø50 × 100 stock, work zero at the right end face, jaw faces at Z-70. Positions in the
helpers are the tools' imaginary tips in WORK coordinates, x as a RADIUS.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs

from simulators.cnc_lathe import measure
from simulators.cnc_lathe import stock as st
from simulators.cnc_lathe.tools import default_tools
from simulators.cnc_lathe.workpiece import ChuckSpec, StockSpec, Workpiece
from simulators.core.motion import Motion

TOOLS = default_tools()
PART_ORIGIN = (0.0, 70.0)


# ------------------------------------------------------------------------------------------ helpers

def reference(tool, x, z):
    """Work tip (x radius, z) -> machine turret reference point, as the default offsets place it."""
    tx, tz = TOOLS[tool].tip_vector
    return (x + PART_ORIGIN[0] - tx, z + PART_ORIGIN[1] - tz)


def move(kind, tool, start, end, line, centre=None, clockwise=False, rpm=1000.0, feed=200.0, lead=0.0):
    return Motion(kind, line, reference(tool, *start), reference(tool, *end), feed_mm_min=feed,
                  spindle_rpm=rpm, spindle_dir=1 if rpm > 0 else 0, tool=tool, offset=tool,
                  centre=reference(tool, *centre) if centre is not None else None, clockwise=clockwise,
                  lead=lead)


def run(moves, workpiece=None):
    workpiece = workpiece or Workpiece()
    crashes = []
    for m in moves:
        crashes += workpiece.apply(m)
    return workpiece, crashes


def shoulder_moves():
    """Ø40 × 20 shoulder from Ø50 with T01 (80°, R0.8) at 0.2 mm/rev; lines 1–4."""
    return [move("rapid", 1, (26.0, 1.0), (26.0, 1.0), 1),
            move("rapid", 1, (26.0, 1.0), (20.0, 1.0), 2),
            move("feed", 1, (20.0, 1.0), (20.0, -20.0), 3),
            move("feed", 1, (20.0, -20.0), (26.0, -20.0), 4)]


def rough_to(radius, z_end, first_line=10, step=3.0):
    """T01 roughing passes down to ``radius`` over [z_end, 0]."""
    moves, r, line = [], 25.0, first_line
    while r > radius + 1e-9:
        r = max(radius, r - step)
        moves += [move("rapid", 1, (26.0, 1.0), (r, 1.0), line), move("feed", 1, (r, 1.0), (r, z_end), line + 1),
                  move("feed", 1, (r, z_end), (26.0, z_end), line + 2)]
        line += 3
    return moves


def thread_moves(tips=(24.4, 23.9, 23.4, 23.0, 22.9), lead=2.0, start_z=5.0, end_z=-15.0, first_line=20):
    """Straight-infeed passes with T04; every pass starts at start_z, so all share one phase."""
    moves, line = [], first_line
    for tip in tips:
        moves += [move("rapid", 4, (26.0, start_z), (tip, start_z), line),
                  move("thread", 4, (tip, start_z), (tip, end_z), line + 1, lead=lead),
                  move("rapid", 4, (tip, end_z), (26.0, end_z), line + 2),
                  move("rapid", 4, (26.0, end_z), (26.0, start_z), line + 3)]
        line += 4
    return moves


GRID = np.linspace(-99.7, -0.0137, 2401) + 1e-4 * math.sqrt(2)


def outer_samples(workpiece):
    return np.array([workpiece.stock.r_out(float(z)) for z in GRID])


def inner_samples(workpiece):
    return np.array([workpiece.stock.r_in(float(z)) for z in GRID])


# ------------------------------------------------------------------------------------------- pieces

def test_line_arc_crossing_is_exact():
    line = st.flat_piece(-10.0, 10.0, 3.0)
    circle = st.Piece(-5.0, 5.0, True, 0.0, 0.0, 5.0, 1)          # upper half of r = 5 about (0, 0)
    # r = 3 meets z^2 + r^2 = 25 at z = ±4
    assert st.crossings(line, circle, -10.0, 10.0) == pytest.approx([-4.0, 4.0], abs=1e-14)


def test_lower_envelope_keeps_the_lower_and_ties_go_to_a_feed_pass():
    old = [st.flat_piece(0.0, 10.0, 5.0, line=1)]
    new = [st.line_piece((0.0, 7.0), (10.0, 3.0), line=2)]     # crosses r = 5 at z = 5
    env = st.lower_envelope(old, new)
    assert [(p.z0, p.z1, p.line) for p in env] == [(0.0, pytest.approx(5.0), 1), (pytest.approx(5.0), 10.0, 2)]
    # a rapid (feed 0) touching the same surface leaves it; a feed pass over it re-cuts it (its marks)
    assert st.lower_envelope(env, [st.flat_piece(0.0, 10.0, 5.0, line=3)])[0].line == 1
    assert st.lower_envelope(env, [st.flat_piece(0.0, 10.0, 5.0, line=4, feed=0.1)])[0].line == 4


# ------------------------------------------------------------------------------------------ removal

def test_shoulder_profile_is_exact_with_the_nose_fillet():
    workpiece, crashes = run(shoulder_moves())
    assert crashes == []
    outer = workpiece.stock.outer
    # Ø40 from the nose bottom (r = tip 20) from Z-19.2 (nose centre z = -20 + 0.8) to the end face
    assert workpiece.stock.r_out(-10.0) == 20.0
    fillet = [p for p in outer if p.arc]
    assert len(fillet) == 1
    arc = fillet[0]
    # nose R0.8 left in the corner: centre (Z-19.2, r 20.8), lower branch, from Z-20 to Z-19.2
    assert (arc.a, arc.b, arc.c, arc.s) == (pytest.approx(-19.2), pytest.approx(20.8), pytest.approx(0.8), -1)
    assert (arc.z0, arc.z1) == (pytest.approx(-20.0), pytest.approx(-19.2))
    assert workpiece.stock.r_out(-30.0) == 25.0
    assert measure.cut_by(workpiece, -10.0) == 3


def test_shoulder_rays_from_the_issue():
    workpiece, _ = run(shoulder_moves())
    face = measure.ray_hits(workpiece, (22.5, 0.0, 10.0), (0.0, 0.0, -1.0))[0]
    assert face.entering and face.point == pytest.approx((22.5, 0.0, -20.0)) and face.distance == pytest.approx(30.0)
    side = measure.ray_hits(workpiece, (100.0, 0.0, -10.0), (-1.0, 0.0, 0.0))[0]
    assert side.entering and side.point == pytest.approx((20.0, 0.0, -10.0)) and side.distance == pytest.approx(80.0)


def test_groove_with_the_left_corner_tip():
    moves = [move("rapid", 3, (30.0, -20.0), (26.0, -20.0), 1), move("feed", 3, (26.0, -20.0), (20.0, -20.0), 2),
             move("feed", 3, (20.0, -20.0), (26.0, -20.0), 3)]
    workpiece, crashes = run(moves)
    assert crashes == []
    # 3 mm blade from its left corner at Z-20: groove Z-20..Z-17, bottom radius 20
    assert workpiece.stock.r_out(-18.5) == 20.0
    assert workpiece.stock.r_out(-20.01) == 25.0 and workpiece.stock.r_out(-16.99) == 25.0


def test_uncompensated_45_degree_chamfer_shows_the_nose_error():
    moves = rough_to(20.0, -10.0) + [
        move("rapid", 2, (17.0, 3.0), (17.0, 1.0), 40),
        move("feed", 2, (17.0, 1.0), (20.0, -2.0), 41),
        move("feed", 2, (20.0, -2.0), (20.0, -10.0), 42)]
    workpiece, crashes = run(moves)
    assert crashes == []
    # Tip line r = 18 - z; nose centre (+0.4, +0.4): r = 18.8 - z; surface 0.4 below-left of it, i.e.
    # 0.4·√2 lower: r = 18.8 - 0.4√2 - z = 18.23431 - z.
    expected = 18.8 - 0.4 * math.sqrt(2.0)
    assert workpiece.stock.r_out(-0.5) == pytest.approx(expected + 0.5, abs=1e-12)
    assert workpiece.stock.r_out(-1.0) == pytest.approx(expected + 1.0, abs=1e-12)
    assert measure.cut_by(workpiece, -1.0) == 41


def ball_moves():
    """Rough to r 10.6 over Z-12..0 with T01, then T02 (R0.4) finishes a R10 ball end, centre (Z-10, r0).

    The nose centre runs on radius 10.4 about the ball centre; the tip is 0.4 below-left of it, so the tip
    arc has centre (Z-10.4, r -0.4), radius 10.4, from (r -0.4, Z0) to (r 10, Z-10.4), G03.
    """
    return rough_to(10.6, -12.0, step=3.6) + [
        move("rapid", 2, (-0.4, 5.0), (-0.4, 0.0), 50),
        move("arc", 2, (-0.4, 0.0), (10.0, -10.4), 51, centre=(-0.4, -10.4), clockwise=False),
        move("feed", 2, (10.0, -10.4), (10.0, -12.0), 52),
        move("feed", 2, (10.0, -12.0), (26.0, -12.0), 53)]


def test_ball_end_is_an_exact_arc():
    workpiece, crashes = run(ball_moves())
    assert crashes == []
    for z in (-9.0, -5.0, -1.0, -0.01):
        # r = sqrt(10² - (z + 10)²) on the ball
        assert workpiece.stock.r_out(z) == pytest.approx(math.sqrt(100.0 - (z + 10.0) ** 2), abs=1e-9)
    found = measure.arc(workpiece, -10.0, 0.0)
    assert found["radius"] == pytest.approx(10.0, abs=1e-12)
    assert (found["centre_z"], found["centre_r"]) == (pytest.approx(-10.0, abs=1e-12), pytest.approx(0.0, abs=1e-12))
    assert found["line"] == 51


def bore_moves():
    """T06 drills Ø20 to Z-30 (point), T05 bores Ø22 to Z-20 and faces the step out to r 9."""
    return [move("rapid", 6, (0.0, 5.0), (0.0, 2.0), 1), move("feed", 6, (0.0, 2.0), (0.0, -30.0), 2),
            move("rapid", 6, (0.0, -30.0), (0.0, 5.0), 3),
            move("rapid", 5, (9.0, 5.0), (11.0, 1.0), 4), move("feed", 5, (11.0, 1.0), (11.0, -20.0), 5),
            move("feed", 5, (11.0, -20.0), (9.0, -20.0), 6), move("rapid", 5, (9.0, -20.0), (9.0, 5.0), 7)]


def test_drill_and_bore():
    workpiece, crashes = run(bore_moves())
    assert crashes == []
    stock = workpiece.stock
    assert stock.r_in(-10.0) == 11.0          # bored
    assert stock.r_in(-22.0) == 10.0          # drilled
    # 118° point: r = (z + 30) tan 59° from the point at Z-30 up to the corner
    assert stock.r_in(-27.0) == pytest.approx(3.0 * math.tan(math.radians(59.0)), abs=1e-12)
    assert stock.r_in(-35.0) == 0.0
    assert measure.cut_by(workpiece, -10.0, "inner") == 5


def test_thread_passes_make_one_zone_and_leave_the_turned_profile():
    workpiece, crashes = run(thread_moves())
    assert crashes == []
    assert len(workpiece.stock.threads) == 1
    zone = workpiece.stock.threads[0]
    assert zone.lead == 2.0 and zone.hand == 1 and len(zone.passes) == 5   # M03, toward the chuck: right
    assert workpiece.stock.r_out(-5.0) == 25.0


# ------------------------------------------------------------------------------------------ crashes

def kinds(crashes):
    return [(c.kind, c.line) for c in crashes]


def test_rapid_into_stock():
    assert kinds(run([move("rapid", 1, (30.0, -10.0), (20.0, -10.0), 7)])[1]) == [("rapid_into_stock", 7)]


def test_80_degree_insert_cannot_descend_steeper_than_its_end_edge():
    # down a 10° slope toward the chuck: the 80°/95° insert's end edge trails at only 5°
    drop = 20.0 * math.tan(math.radians(10.0))
    path = [move("rapid", 1, (26.0, 1.0), (24.0, 1.0), 1), move("feed", 1, (24.0, 1.0), (24.0, -2.0), 2)]
    steep = move("feed", 1, (24.0, -2.0), (24.0 - drop, -22.0), 3)
    assert kinds(run(path + [steep])[1]) == [("non_cutting_contact", 3)]
    # the same slope with the 35°/93° insert (end edge at 52°) is fine
    path2 = [move("rapid", 2, (26.0, 1.0), (24.0, 1.0), 1), move("feed", 2, (24.0, 1.0), (24.0, -2.0), 2),
             move("feed", 2, (24.0, -2.0), (24.0 - drop, -22.0), 3)]
    assert run(path2)[1] == []
    # and 4° (below the 5° end edge) is fine for the 80° insert too
    gentle = move("feed", 1, (24.0, -2.0), (24.0 - 20.0 * math.tan(math.radians(4.0)), -22.0), 3)
    assert run(path + [gentle])[1] == []


def test_chuck_contact():
    # turned from the right end (a plunge at Z-50 would drag the end edge's rubbing part into the Ø50)
    moves = [move("rapid", 1, (26.0, 1.0), (24.0, 1.0), 1), move("feed", 1, (24.0, 1.0), (24.0, -50.0), 2),
             move("feed", 1, (24.0, -50.0), (24.0, -75.0), 3)]
    assert ("chuck_contact", 3) in kinds(run(moves)[1])
    # stopping 1 mm before the jaw faces (Z-70) is fine
    moves[-1] = move("feed", 1, (24.0, -50.0), (24.0, -69.0), 3)
    assert run(moves)[1] == []


def test_spindle_stopped_cut():
    # a 5 mm wide facing plunge: within the end edge's 8.6 mm cutting part
    crashes = run([move("feed", 1, (26.0, -5.0), (20.0, -5.0), 5, rpm=0.0)])[1]
    assert kinds(crashes) == [("spindle_stopped_cut", 5)]


def test_grooving_deeper_than_the_reach():
    # 12 mm reach from r 25: the holder meets the surface below r 13
    deep = [move("rapid", 3, (30.0, -20.0), (26.0, -20.0), 1), move("feed", 3, (26.0, -20.0), (12.5, -20.0), 2)]
    assert ("too_deep", 2) in kinds(run(deep)[1])
    ok = [move("rapid", 3, (30.0, -20.0), (26.0, -20.0), 1), move("feed", 3, (26.0, -20.0), (13.5, -20.0), 2)]
    assert run(ok)[1] == []
    # exactly 12 mm deep: the holder only touches the Ø50 surface, which is not a crash
    exact = [move("rapid", 3, (30.0, -20.0), (26.0, -20.0), 1), move("feed", 3, (26.0, -20.0), (13.0, -20.0), 2)]
    assert run(exact)[1] == []


def test_drilling_deeper_than_the_flutes():
    # 60 mm flutes: a point at Z-61 puts the shank 1 mm into the hole
    crashes = run([move("rapid", 6, (0.0, 5.0), (0.0, 2.0), 1), move("feed", 6, (0.0, 2.0), (0.0, -61.0), 2)])[1]
    assert kinds(crashes) == [("too_deep", 2)]
    assert run([move("rapid", 6, (0.0, 5.0), (0.0, 2.0), 1), move("feed", 6, (0.0, 2.0), (0.0, -59.0), 2)])[1] == []


def test_grooving_tool_sliding_along_a_shoulder_face_is_not_a_crash():
    moves = shoulder_moves() + [move("rapid", 3, (30.0, -20.0), (26.0, -20.0), 5),
                                move("feed", 3, (26.0, -20.0), (19.0, -20.0), 6),
                                move("feed", 3, (19.0, -20.0), (26.0, -20.0), 7)]
    workpiece, crashes = run(moves)
    assert crashes == []
    assert workpiece.stock.r_out(-19.5) == 19.0


def test_boring_bar_in_too_small_a_bore_hits_the_far_side():
    # Ø20 hole; tip at r 4: bar axis at r -5, far side at 5 + 6 = 11 > 10
    moves = bore_moves()[:3] + [move("rapid", 5, (4.0, 5.0), (4.0, 1.0), 8), move("feed", 5, (4.0, 1.0), (4.0, -10.0), 9)]
    assert kinds(run(moves)[1]) == [("non_cutting_contact", 9)]


def test_air_moves_and_tool_changes_do_nothing():
    workpiece = Workpiece()
    before = outer_samples(workpiece)
    assert workpiece.apply(Motion("tool_change", 3, (100.0, 200.0), (100.0, 200.0), tool=2)) == []
    assert workpiece.apply(move("rapid", 1, (100.0, 150.0), (30.0, 5.0), 4)) == []
    assert np.array_equal(before, outer_samples(workpiece))


def test_custom_stock_and_chuck_specs():
    spec = StockSpec.from_dict({"diameter": 60, "length": 120, "stick_out": 80, "bore_diameter": 20})
    workpiece = Workpiece(spec, ChuckSpec.from_dict({"jaw_height": 30}), part_origin=(0.0, 80.0))
    assert workpiece.stock.r_out(-50.0) == 30.0 and workpiece.stock.r_in(-50.0) == 10.0
    assert (workpiece.stock.z_left, workpiece.stock.z_right) == (-120.0, 0.0)
    with pytest.raises(KeyError):
        StockSpec.from_dict({"diametre": 50})


# --------------------------------------------------------------------------------------- properties

coordinate = hs.tuples(hs.floats(8.0, 27.0), hs.floats(-45.0, 3.0))
feed_moves = hs.lists(hs.tuples(coordinate, coordinate), min_size=1, max_size=5)


def _feeds(pairs, tool=1):
    return [move("feed", tool, a, b, k + 1) for k, (a, b) in enumerate(pairs)]


@given(feed_moves)
def test_more_cutting_never_adds_material(pairs):
    workpiece = Workpiece()
    previous = outer_samples(workpiece)
    for m in _feeds(pairs):
        workpiece.apply(m)
        now = outer_samples(workpiece)
        assert np.all(now <= previous + 1e-9)
        previous = now


@given(feed_moves)
def test_replay_is_deterministic_and_idempotent(pairs):
    first, _ = run(_feeds(pairs))
    second, _ = run(_feeds(pairs))
    assert first.profile() == second.profile()
    once = outer_samples(first)
    run(_feeds(pairs), first)
    assert np.allclose(outer_samples(first), once, atol=1e-9, rtol=0.0)


@given(coordinate, coordinate, hs.floats(0.05, 0.95), hs.sampled_from([1, 2, 3]))
def test_splitting_a_move_gives_the_same_stock(a, b, f, tool):
    whole, _ = run([move("feed", tool, a, b, 1)])
    mid = (a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]))
    split, _ = run([move("feed", tool, a, mid, 1), move("feed", tool, mid, b, 1)])
    assert np.allclose(outer_samples(whole), outer_samples(split), atol=1e-9, rtol=0.0)


@given(hs.floats(12.0, 22.0), hs.floats(-30.0, -8.0), hs.floats(3.0, 7.0), hs.floats(0.1, 0.9),
       hs.booleans())
def test_splitting_an_arc_gives_the_same_stock(r_c, z_c, radius, f, clockwise):
    # quarter arc from the top of the circle toward the chuck side
    a0, a1 = math.pi / 2.0, math.pi if not clockwise else 0.0
    a1 = math.pi if not clockwise else 0.0
    am = a0 + f * (a1 - a0)

    def at(angle):
        return (r_c + radius * math.sin(angle), z_c + radius * math.cos(angle))

    centre = (r_c, z_c)
    whole, _ = run([move("arc", 2, at(a0), at(a1), 1, centre=centre, clockwise=clockwise)])
    split, _ = run([move("arc", 2, at(a0), at(am), 1, centre=centre, clockwise=clockwise),
                    move("arc", 2, at(am), at(a1), 1, centre=centre, clockwise=clockwise)])
    assert np.allclose(outer_samples(whole), outer_samples(split), atol=1e-9, rtol=0.0)


@given(hs.floats(11.0, 16.0), hs.floats(-25.0, -5.0))
def test_boring_never_removes_outer_material(r, z):
    workpiece, _ = run(bore_moves()[:3] + [move("rapid", 5, (10.0, 5.0), (r, 1.0), 8),
                                           move("feed", 5, (r, 1.0), (r, z), 9)])
    assert np.all(outer_samples(workpiece) == 25.0)
    assert workpiece.stock.r_in(z + 1.0) == pytest.approx(r)


# ------------------------------------------------------------------------------------ exact arc sweep

@pytest.mark.parametrize("tool,centre,radius,a0,a1,ccw", [
    (1, (-10.0, 15.0), 6.0, 0.3, 2.9, True),      # over the top, toward the chuck (convex, G03)
    (2, (-20.0, 30.0), 8.0, 4.2, 5.4, True),      # under the bottom of a circle (concave side, G03)
    (2, (-15.0, 18.0), 3.0, 2.5, -0.4, False),    # G02 through the top
    (5, (-12.0, -9.0), 2.0, 1.0, 4.0, True),      # the boring bar's mirrored and far-side parts
])
def test_arc_sweep_is_the_exact_envelope_of_every_placement(tool, centre, radius, a0, a1, ccw):
    """The closed-form sweep lies below the tool at every placement along the arc (nothing is left
    uncut) and no lower than the densest sampling of placements allows (nothing extra is cut)."""
    shapes = TOOLS[tool].sweep_shapes
    tags = {"line": 1}
    exact = st.envelope_of(st.sweep_arc(s, centre, radius, a0, a1, ccw, tags) for s in shapes)
    span = a1 - a0
    if ccw and span <= 0:
        span += 2 * math.pi
    if not ccw and span >= 0:
        span -= 2 * math.pi
    placements = [a0 + span * k / 600 for k in range(601)]
    chains = []
    for angle in placements:
        tip = (centre[0] + radius * math.cos(angle), centre[1] + radius * math.sin(angle))
        chains.append(st.envelope_of(st.chain_at(s, tip, tags) for s in shapes))
    zs = np.linspace(exact[0].z0 + 1e-6, exact[-1].z1 - 1e-6, 97)
    step = radius * abs(span) / 600
    for z in zs:
        e = st.value_at(exact, float(z))
        sampled = [st.value_at(c, float(z)) for c in chains]
        sampled = [v for v in sampled if v is not None]
        if not sampled:      # beyond the sampled placements' reach (the true extreme lies between two)
            continue
        assert e <= min(sampled) + 1e-9
        # sampling can only miss the true minimum by the distance between placements times the slope of
        # the chains there; the tool's chains are no steeper than 1:20 (the 80° insert's 85° edge)
        assert e >= min(sampled) - 12.0 * step


@pytest.mark.parametrize("tool,start,end", [
    (1, (0.0, 20.0), (-20.0, 20.0)),      # straight toward the chuck
    (1, (0.0, 24.0), (-20.0, 20.5)),      # descending 10°: the end edge drags
    (2, (-5.0, 10.0), (3.0, 25.0)),       # up and toward the tailstock
    (3, (-20.0, 26.0), (-21.0, 19.0)),    # plunge with a little Z
    (4, (5.0, 23.0), (-15.0, 23.0)),
    (5, (2.0, -11.0), (-20.0, -11.5)),    # mirrored boring bar (inner profile space)
])
def test_line_sweep_is_the_exact_envelope_of_every_placement(tool, start, end):
    shapes = TOOLS[tool].sweep_shapes
    tags = {"line": 1}
    exact = st.envelope_of(st.sweep_line(s, start, end, tags) for s in shapes)
    chains = []
    for k in range(401):
        f = k / 400
        tip = (start[0] + f * (end[0] - start[0]), start[1] + f * (end[1] - start[1]))
        chains.append(st.envelope_of(st.chain_at(s, tip, tags) for s in shapes))
    step = math.dist(start, end) / 400
    for z in np.linspace(exact[0].z0 + 1e-6, exact[-1].z1 - 1e-6, 89):
        e = st.value_at(exact, float(z))
        sampled = [v for v in (st.value_at(c, float(z)) for c in chains) if v is not None]
        if not sampled:
            continue
        assert e <= min(sampled) + 1e-9
        assert e >= min(sampled) - 12.0 * step
