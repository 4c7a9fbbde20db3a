"""Lathe canned cycles (simulators/cnc_lathe/cycles.py): hand-computed paths and properties.

Coordinates are (x radius, z) in the work frame; a program's X50. is x = 25 here.
"""
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.cnc_lathe import cycles
from simulators.cnc_lathe.path import Segment
from simulators.core.alarms import Alarm

CYCLE_LINE = 5


def pts(path):
    """(kind, start, end) triples rounded to 0.1 µm, for comparison with hand values."""
    r = lambda p: (round(p[0], 7), round(p[1], 7))
    return [(s.kind, r(s.start), r(s.end)) for s in path]


def chain(start, moves, first_line=10):
    """Build a shape from (kind, end) pairs: consecutive segments, lines 10, 20, 30, ..."""
    out, p = [], start
    for i, (kind, end, *arc) in enumerate(moves):
        if kind == "arc":
            centre, cw = arc
            out.append(Segment("arc", p, end, first_line + 10 * i, centre=centre, clockwise=cw))
        else:
            out.append(Segment(kind, p, end, first_line + 10 * i))
        p = end
    return out


def assert_continuous(path, start):
    p = start
    for s in path:
        assert s.start == pytest.approx(p, abs=1e-9)
        p = s.end
    assert p == pytest.approx(start, abs=1e-9)


# --------------------------------------------------------------------------------- G90 G94 G92

def test_g90_straight_cycle():
    # G00 X52. Z2.; G90 X40. Z-30. F0.2 -> A=(26, 2), end (20, -30)
    path = cycles.g90((26, 2), (20, -30), 0.0, CYCLE_LINE)
    assert pts(path) == [("rapid", (26, 2), (20, 2)), ("feed", (20, 2), (20, -30)),
                         ("feed", (20, -30), (26, -30)), ("rapid", (26, -30), (26, 2))]
    assert all(s.line == CYCLE_LINE for s in path)


def test_g90_taper_starts_r_above_the_end_radius():
    # G90 X40. Z-30. R-2.: the cut starts at radius 20 + (-2) = 18 at Z2 and ends at (20, -30)
    path = cycles.g90((26, 2), (20, -30), -2.0, CYCLE_LINE)
    assert pts(path)[:2] == [("rapid", (26, 2), (18, 2)), ("feed", (18, 2), (20, -30))]


def test_g94_face_cycle_and_taper():
    # G00 X52. Z2.; G94 X20. Z-2. -> rapid to Z-2, face down to x 10, back to Z2, rapid to A
    path = cycles.g94((26, 2), (10, -2), 0.0, CYCLE_LINE)
    assert pts(path) == [("rapid", (26, 2), (26, -2)), ("feed", (26, -2), (10, -2)),
                         ("feed", (10, -2), (10, 2)), ("rapid", (10, 2), (26, 2))]
    # R-1.: the cut starts at Z (-2) + (-1) = -3 on A's radius
    assert pts(cycles.g94((26, 2), (10, -2), -1.0, CYCLE_LINE))[:2] == [
        ("rapid", (26, 2), (26, -3)), ("feed", (26, -3), (10, -2))]


def test_g92_thread_cycle_straight_pull_out():
    # G00 X24. Z5.; G92 X18.5 Z-20. F1.5 -> root radius 9.25
    path = cycles.g92((12, 5), (9.25, -20), 0.0, 1.5, CYCLE_LINE)
    assert pts(path) == [("rapid", (12, 5), (9.25, 5)), ("thread", (9.25, 5), (9.25, -20)),
                         ("rapid", (9.25, -20), (12, -20)), ("rapid", (12, -20), (12, 5))]
    assert path[1].lead == 1.5


def test_g92_thread_chamfer_pulls_out_at_45_degrees():
    # chamfer 10 tenths of the 1.5 lead = 1.5 mm: thread to Z-18.5, then 45 degrees to (9.25+1.5, -20)
    path = cycles.g92((12, 5), (9.25, -20), 0.0, 1.5, CYCLE_LINE, chamfer_tenths=10)
    assert pts(path)[1:4] == [("thread", (9.25, 5), (9.25, -18.5)), ("thread", (9.25, -18.5), (10.75, -20)),
                              ("rapid", (10.75, -20), (12, -20))]


@given(st.floats(-40, 40), st.floats(-60, 20), st.floats(0, 40), st.floats(-80, 10), st.floats(-5, 5))
def test_single_cycles_end_where_they_started(xa, za, x, z, r):
    for path in (cycles.g90((xa, za), (x, z), r, 1), cycles.g94((xa, za), (x, z), r, 1),
                 cycles.g92((xa, za), (x, z), r, 2.0, 1)):
        assert_continuous(path, (xa, za))


# --------------------------------------------------------------------------------- G71

# Ø50 bar, shape Ø30 x 20 then Ø40 to Z-40, face out to Ø50:
#   G00 X50. Z2.; G71 U1.5 R0.5; G71 P10 Q50 U0.5 W0.1 F0.25;
#   N10 G00 X30.; N20 G01 Z-20.; N30 X40.; N40 Z-40.; N50 X50.;
A = (25.0, 2.0)
SHAPE = chain(A, [("rapid", (15, 2)), ("feed", (15, -20)), ("feed", (20, -20)), ("feed", (20, -40)),
                  ("feed", (25, -40))])


def test_g71_type1_pass_levels_and_ends():
    path = cycles.g71(A, SHAPE, 1.5, 0.5, 0.25, 0.1, CYCLE_LINE)
    assert_continuous(path, A)
    cuts = [s for s in path if s.kind == "feed" and s.line == CYCLE_LINE and s.start[0] == s.end[0]]
    # Levels: 25-1.5=23.5, 25-3.0=22.0, 20.5, 19.0, 17.5, 16.0; the next, 14.5, is below the translated
    # shape's lowest radius 15 + 0.25 = 15.25, so it is not cut (the final contour pass takes the rest).
    assert [round(s.start[0], 9) for s in cuts] == [23.5, 22.0, 20.5, 19.0, 17.5, 16.0]
    # Levels above the Ø40 step's translated radius 20.25 run to the translated shoulder face
    # Z-40 + 0.1 = -39.9; the others stop on the step face at Z-20 + 0.1 = -19.9.
    assert [round(s.end[1], 9) for s in cuts] == [-39.9, -39.9, -39.9, -19.9, -19.9, -19.9]
    assert all(s.start[1] == 2.0 for s in cuts)


def test_g71_type1_retract_and_return():
    path = cycles.g71(A, SHAPE, 1.5, 0.5, 0.25, 0.1, CYCLE_LINE)
    first = pts(path[:5])
    assert first == [
        ("rapid", (25, 2), (23.5, 2)),           # ns is G00: rapid infeed by Δd
        ("feed", (23.5, 2), (23.5, -39.9)),      # cut along Z to the shape + Δw
        ("rapid", (23.5, -39.9), (24, -39.4)),   # 45 degree retract by e = 0.5, in rapid
        ("rapid", (24, -39.4), (24, 2)),         # back to A's Z
        ("rapid", (24, 2), (22, 2)),             # next level
    ]


def test_g71_last_pass_leaves_the_allowances():
    path = cycles.g71(A, SHAPE, 1.5, 0.5, 0.25, 0.1, CYCLE_LINE)
    last = path[-6:]
    # from the last level 16 retracted by e = 0.5: approach (ns mode, rapid) to A'' = (15 + 0.25, 2 + 0.1), the shape translated by (Δu/2, Δw) with the
    # shape blocks' lines, rapid back to A
    assert pts(last) == [("rapid", (16.5, 2), (15.25, 2.1)), ("feed", (15.25, 2.1), (15.25, -19.9)),
                         ("feed", (15.25, -19.9), (20.25, -19.9)), ("feed", (20.25, -19.9), (20.25, -39.9)),
                         ("feed", (20.25, -39.9), (25.25, -39.9)), ("rapid", (25.25, -39.9), (25, 2))]
    assert [s.line for s in last] == [CYCLE_LINE, 20, 30, 40, 50, CYCLE_LINE]
    assert all(s.feed is None for s in path)


def test_g71_bore_with_negative_allowance():
    # Boring from X20 (bore Ø20 drilled) to Ø30 x 10 deep then Ø26 to Z-20:
    # G00 X20. Z2.; G71 U1. R0.5; G71 P1 Q3 U-0.4 W0.1; N1 G00 X30.; G01 Z-10.; X26.; Z-20.; X20.
    a = (10.0, 2.0)
    shape = chain(a, [("rapid", (15, 2)), ("feed", (15, -10)), ("feed", (13, -10)), ("feed", (13, -20)),
                      ("feed", (10, -20))])
    path = cycles.g71(a, shape, 1.0, 0.5, -0.2, 0.1, CYCLE_LINE)
    assert_continuous(path, a)
    cuts = [s for s in path if s.kind == "feed" and s.line == CYCLE_LINE and s.start[0] == s.end[0]]
    # Levels grow from 10: 11, 12, 13, 14; the next (15) is not below the translated top 15 - 0.2 = 14.8.
    # Levels <= 12.8 (13 - 0.2) run to Z-20 + 0.1; above it they stop at Z-10 + 0.1.
    assert [(round(s.start[0], 9), round(s.end[1], 9)) for s in cuts] == [
        (11, -19.9), (12, -19.9), (13, -9.9), (14, -9.9)]
    # the retract goes toward the axis (away from the bore wall) and back toward A's Z
    assert pts(path)[2] == ("rapid", (11, -19.9), (10.5, -19.4))


def test_g71_type2_pocket_follows_the_shape():
    # Type II: ns moves X and Z. Shape (radius): face corner (10, 0) -> (10, -5) -> dips to 7 at
    # Z-10 (a V pocket) -> back to 10 at Z-15 -> (10, -20) -> out to 13.
    a = (13.0, 2.0)
    shape = chain(a, [("rapid", (10, 0)), ("feed", (10, -5)), ("feed", (7, -10)), ("feed", (10, -15)),
                      ("feed", (10, -20)), ("feed", (13, -20))])
    path = cycles.g71(a, shape, 1.0, 0.0, 0.0, 0.0, CYCLE_LINE)
    assert_continuous(path, a)
    # Level 9 (13-4): free from Z2 to the face corner at Z0; then the shape (radius 10) is above 9, so the
    # pass rides on it until the V wall crosses 9: the wall drops 3 over 5 mm, so 1 mm of drop takes 5/3 mm,
    # at Z-5-5/3 = -6.6667; it cuts at 9 to the rising wall, Z-15+5/3 = -13.3333, and stops there (the shape
    # stays above 9 until its end).
    level9 = [s for s in path if s.line == CYCLE_LINE and s.kind == "feed"
              and abs(s.start[0] - 9) < 1e-9 and abs(s.end[0] - 9) < 1e-9]
    assert [(round(s.start[1], 6), round(s.end[1], 6)) for s in level9] == [
        (2, 0), (round(-5 - 5 / 3, 6), round(-15 + 5 / 3, 6))]
    ridden = [s.line for s in path if s.line != CYCLE_LINE]
    # levels 12, 11, 10 ride nothing (the shape is at or below them); levels 9 and 8 ride N20 and the top of
    # N30; the last pass follows N20..N60
    assert ridden == [20, 30, 20, 30, 20, 30, 40, 50, 60]
    # nothing in the roughing goes below the shape (V bottom 7 at Z-10)
    assert min(min(s.start[0], s.end[0]) for s in path) == pytest.approx(7.0)


def test_g71_type1_alarms():
    with pytest.raises(Alarm) as e:
        cycles.g71(A, SHAPE, 0.0, 0.5, 0.25, 0.1, CYCLE_LINE)
    assert (e.value.code, e.value.line) == ("PS0062", CYCLE_LINE)
    not_monotone = chain(A, [("rapid", (15, 2)), ("feed", (15, -20)), ("feed", (12, -25)), ("feed", (25, -40))])
    with pytest.raises(Alarm) as e:
        cycles.g71(A, not_monotone, 1.5, 0.5, 0.25, 0.1, CYCLE_LINE)
    assert (e.value.code, e.value.line) == ("PS0064", 30)
    arc_first = [Segment("arc", A, (15, -8), 10, centre=(15, 2), clockwise=False)]
    with pytest.raises(Alarm) as e:
        cycles.g71(A, arc_first, 1.5, 0.5, 0.25, 0.1, CYCLE_LINE)
    assert (e.value.code, e.value.line) == ("PS0065", 10)
    with pytest.raises(Alarm) as e:
        cycles.g71(A, [], 1.5, 0.5, 0.25, 0.1, CYCLE_LINE)
    assert e.value.code == "PS0061"


def test_g71_type1_rejects_an_arc_past_its_extreme():
    # A convex R arc that bulges above its end radius is not monotonic in X: PS0064 in type I
    bulge = chain(A, [("rapid", (10, 2)), ("feed", (10, -5)),
                      ("arc", (10, -25), (10, -15), True), ("feed", (25, -25))])
    # centre (10, -15), radius 10: from (10, -5) clockwise over the top (20, -15) down to (10, -25)
    with pytest.raises(Alarm) as e:
        cycles.g71(A, bulge, 1.5, 0.5, 0.0, 0.0, CYCLE_LINE, type_ii=False)
    assert (e.value.code, e.value.line) == ("PS0064", 30)


@st.composite
def stepped_profiles(draw):
    """OD type I shapes: radii rising toward the chuck with optional chamfers, start above the bar."""
    n = draw(st.integers(1, 4))
    radii = sorted(draw(st.lists(st.floats(5, 24), min_size=n, max_size=n, unique=True)))
    lengths = draw(st.lists(st.floats(1, 15), min_size=n, max_size=n))
    chamfers = draw(st.lists(st.floats(0, 0.9), min_size=n, max_size=n))
    start = (25.0 + draw(st.floats(0, 2)), draw(st.floats(0.5, 3)))
    moves, z = [("rapid", (radii[0], start[1]))], 0.0
    moves.append(("feed", (radii[0], z)))
    for i, r in enumerate(radii):
        z -= lengths[i]
        moves.append(("feed", (r, z)))
        top = radii[i + 1] if i + 1 < n else 25.0
        c = chamfers[i] * min(top - r, 1.0)
        if c > 0.01:
            moves.append(("feed", (top - c, z)))
            moves.append(("feed", (top, z - c)))
            z -= c
        else:
            moves.append(("feed", (top, z)))
    return start, chain(start, moves)


def _profile_radius(shape, z):
    """Radius of the translated finishing shape at z; at a step face, the lower of the two sides."""
    best = math.inf
    for s in shape[1:]:
        (x0, z0), (x1, z1) = s.start, s.end
        if abs(z1 - z0) > 1e-12 and min(z0, z1) - 1e-9 <= z <= max(z0, z1) + 1e-9:
            best = min(best, x0 + (x1 - x0) * (z - z0) / (z1 - z0))
    return best


@given(stepped_profiles(), st.floats(0.3, 3), st.floats(0, 1), st.floats(0, 0.5), st.floats(0, 0.3))
def test_g71_roughing_never_enters_the_allowance(profile, depth, retract, ax, az):
    start, shape = profile
    path = cycles.g71(start, shape, depth, retract, ax, az, CYCLE_LINE)
    assert_continuous(path, start)
    translated = [Segment(s.kind, (s.start[0] + ax, s.start[1] + az), (s.end[0] + ax, s.end[1] + az), s.line)
                  for s in shape]
    z_end = translated[-1].end[1]
    for s in path:
        for t in (0.0, 0.25, 0.5, 0.75, 1.0):
            x = s.start[0] + t * (s.end[0] - s.start[0])
            z = s.start[1] + t * (s.end[1] - s.start[1])
            if z_end + 1e-9 < z < translated[0].end[1] - 1e-9:
                assert x >= _profile_radius(translated, z) - 1e-7, (s, x, z)


# --------------------------------------------------------------------------------- G72

def test_g72_face_roughing_levels():
    # G00 X52. Z2.; G72 W3. R0.5; G72 P1 Q6; N1 G00 Z-10.; G01 X40.; Z-5.; X20.; Z0.; X0.
    a = (26.0, 2.0)
    shape = chain(a, [("rapid", (26, -10)), ("feed", (20, -10)), ("feed", (20, -5)), ("feed", (10, -5)),
                      ("feed", (10, 0)), ("feed", (0, 0))])
    path = cycles.g72(a, shape, 3.0, 0.5, 0.0, 0.0, CYCLE_LINE)
    assert_continuous(path, a)
    cuts = [s for s in path if s.kind == "feed" and s.line == CYCLE_LINE and s.start[1] == s.end[1]]
    # Z levels 2-3=-1, -4, -7 (the next, -10, is not above the shape bottom Z-10). At Z-1 and Z-4 the shape
    # is at radius 10 (Ø20 from Z-5 to Z0); at Z-7 it is at radius 20 (Ø40 from Z-10 to Z-5).
    assert [(round(s.start[1], 9), round(s.start[0], 9), round(s.end[0], 9)) for s in cuts] == [
        (-1, 26, 10), (-4, 26, 10), (-7, 26, 20)]
    # 45 degree retract: out in X and back toward A's Z by e
    assert pts(path)[2] == ("rapid", (10, -1), (10.5, -0.5))


# --------------------------------------------------------------------------------- G73, G70

def test_g73_passes_shift_by_equal_steps():
    # G00 X52. Z2.; G73 U3. W0. R3; G73 P1 Q3 U0.4 W0.1; N1 G00 X20.; G01 Z-10.; X40. Z-20.
    a = (26.0, 2.0)
    shape = chain(a, [("rapid", (10, 2)), ("feed", (10, -10)), ("feed", (20, -20))])
    path = cycles.g73(a, shape, 3.0, 0.0, 3, 0.2, 0.1, CYCLE_LINE)
    assert_continuous(path, a)
    starts = [s.end for s in path if s.kind == "rapid" and s.start == a]
    # pass k is shifted by Δu/2 + Δi (3-k)/2: 0.2 + 3, 0.2 + 1.5, 0.2 in x; Δw = 0.1 in z
    assert [tuple(round(v, 9) for v in p) for p in starts] == [(13.2, 2.1), (11.7, 2.1), (10.2, 2.1)]
    assert [s.line for s in path[:4]] == [CYCLE_LINE, 20, 30, CYCLE_LINE]


def test_g73_one_division_and_alarm():
    a = (26.0, 2.0)
    shape = chain(a, [("rapid", (10, 2)), ("feed", (10, -10))])
    assert pts(cycles.g73(a, shape, 3.0, 1.0, 1, 0.2, 0.1, CYCLE_LINE)) == [
        ("rapid", (26, 2), (10.2, 2.1)), ("feed", (10.2, 2.1), (10.2, -9.9)), ("rapid", (10.2, -9.9), (26, 2))]
    with pytest.raises(Alarm) as e:
        cycles.g73(a, shape, 3.0, 1.0, 0, 0.2, 0.1, CYCLE_LINE)
    assert e.value.code == "PS0062"


def test_g70_keeps_the_shape_feeds_and_returns():
    a = (26.0, 2.0)
    shape = chain(a, [("rapid", (10, 2)), ("feed", (10, -10)), ("arc", (15, -15), (15, -10), True)])
    shape[1] = Segment("feed", (10, 2), (10, -10), 20, feed=0.08)
    path = cycles.g70(a, shape, CYCLE_LINE)
    assert path[:3] == shape
    assert pts(path[3:]) == [("rapid", (15, -15), (26, 2))] and path[3].line == CYCLE_LINE
    assert path[1].feed == 0.08


# --------------------------------------------------------------------------------- G74 G75

def test_g74_peck_drilling_on_the_axis():
    # G00 X0 Z2.; G74 R0.5; G74 Z-12. Q5000 F0.1 -> pecks of 5 from Z2: -3, -8, -12
    path = cycles.g74((0, 2), (0, -12), 5.0, 0.0, 0.0, 0.5, CYCLE_LINE)
    assert pts(path) == [("feed", (0, 2), (0, -3)), ("rapid", (0, -3), (0, -2.5)),
                         ("feed", (0, -2.5), (0, -8)), ("rapid", (0, -8), (0, -7.5)),
                         ("feed", (0, -7.5), (0, -12)), ("rapid", (0, -12), (0, 2))]


def test_g75_wide_groove():
    # G00 X32. Z-20.; G75 R0.5; G75 X20. Z-26. P2000 Q2500 F0.05
    # -> pecks of 2 (radius) from 16 to 10; grooves at Z-20, -22.5, -25 and the last at -26
    path = cycles.g75((16, -20), (10, -26), 2.0, 2.5, 0.0, 0.5, CYCLE_LINE)
    assert_continuous(path, (16, -20))
    assert pts(path[:6]) == [("feed", (16, -20), (14, -20)), ("rapid", (14, -20), (14.5, -20)),
                             ("feed", (14.5, -20), (12, -20)), ("rapid", (12, -20), (12.5, -20)),
                             ("feed", (12.5, -20), (10, -20)), ("rapid", (10, -20), (16, -20))]
    bottoms = [s.end[1] for s in path if s.kind == "feed" and abs(s.end[0] - 10) < 1e-9]
    assert bottoms == pytest.approx([-20, -22.5, -25, -26])


def test_g74_g75_alarms():
    with pytest.raises(Alarm) as e:
        cycles.g74((0, 2), (0, -12), 0.0, 0.0, 0.0, 0.5, CYCLE_LINE)
    assert e.value.code == "PS0062"
    with pytest.raises(Alarm) as e:
        cycles.g75((16, -20), (10, -26), 2.0, 0.0, 0.0, 0.5, CYCLE_LINE)
    assert e.value.code == "PS0062"


# --------------------------------------------------------------------------------- G76

def test_g76_pass_depths():
    # G76 P010060 Q100 R0.05; G76 X22.05 Z-25. P975 Q400 F1.5
    assert cycles.split_g76_p(10060) == (1, 0, 60)
    depths = cycles.g76_depths(0.975, 0.4, 0.1, 0.05, 1)
    # Δd*sqrt(n): 0.4, 0.565685, 0.692820, 0.8; the 5th would be 0.894427, a step of 0.0944 < Δdmin 0.1,
    # so it is 0.8 + 0.1 = 0.9; the 6th (0.979796, or 1.0 with Δdmin) is clamped to k - d = 0.925;
    # then m = 1 finishing pass at k = 0.975.
    assert depths == pytest.approx([0.4, 0.4 * math.sqrt(2), 0.4 * math.sqrt(3), 0.8, 0.9, 0.925, 0.975])


def test_g76_passes_single_flank():
    start = (13.0, 5.0)   # X26. Z5.
    path = cycles.g76(start, (11.025, -25), 0.0, 0.975, 0.4, 0.1, 0.05, 1, 0, 60, 1.5, CYCLE_LINE)
    assert_continuous(path, start)
    threads = [s for s in path if s.kind == "thread"]
    assert len(threads) == 7 and all(s.lead == 1.5 for s in threads)
    # pass 1: depth 0.4, tip at radius 11.025 + (0.975 - 0.4) = 11.6, shifted toward A by
    # 0.575 * tan 30 degrees = 0.331977 mm
    shift = 0.575 * math.tan(math.radians(30))
    assert threads[0].start == pytest.approx((11.6, 5 + shift))
    assert threads[0].end == pytest.approx((11.6, -25 + shift))
    assert pts(path[:4])[2:] == [("rapid", tuple(round(v, 7) for v in (11.6, -25 + shift)),
                                  tuple(round(v, 7) for v in (13, -25 + shift))),
                                 ("rapid", tuple(round(v, 7) for v in (13, -25 + shift)), (13, 5))]
    # last pass at the root: Ø22.05, no shift
    assert threads[-1].start == pytest.approx((11.025, 5)) and threads[-1].end == pytest.approx((11.025, -25))


def test_g76_internal_thread_goes_outward():
    # ID thread: A inside the bore (X18.), root (major) Ø21.95 -> the tip moves from the bore outward
    path = cycles.g76((9.0, 3.0), (10.975, -20), 0.0, 0.975, 0.4, 0.1, 0.05, 2, 0, 60, 1.5, CYCLE_LINE)
    threads = [s for s in path if s.kind == "thread"]
    assert threads[0].start[0] == pytest.approx(10.975 - 0.575)
    assert threads[-1].start[0] == pytest.approx(10.975) and threads[-2].start[0] == pytest.approx(10.975)


def test_g76_alarms():
    args = dict(start=(13, 5), end=(11.025, -25), taper=0.0, height=0.975, first_depth=0.4, min_depth=0.1,
                finish_allowance=0.05, finish_passes=1, chamfer_tenths=0, tip_angle=60, lead=1.5, line=CYCLE_LINE)
    for bad in (dict(tip_angle=45), dict(height=0.0), dict(first_depth=0.0), dict(finish_allowance=1.0),
                dict(finish_passes=0)):
        with pytest.raises(Alarm) as e:
            cycles.g76(**{**args, **bad})
        assert (e.value.code, e.value.line) == ("PS0062", CYCLE_LINE)


def test_g71_level_meets_a_convex_arc_exactly():
    # N1 G00 X10.; G01 Z0.; G03 X20. Z-5. R5.; G01 Z-15.; X26.  from A = X26. Z2.
    # The R5 arc has its centre at (x 5, z -5): x = 5 + 5 sin(phi), z = -5 + 5 cos(phi). The level x 8 meets it
    # where sin(phi) = 3/5, cos(phi) = 4/5: z = -5 + 4 = -1 (a 3-4-5 triangle).
    a = (13.0, 2.0)
    shape = chain(a, [("rapid", (5, 2)), ("feed", (5, 0)), ("arc", (10, -5), (5, -5), False),
                      ("feed", (10, -15)), ("feed", (13, -15))])
    path = cycles.g71(a, shape, 1.0, 0.0, 0.0, 0.0, CYCLE_LINE)
    level8 = [s for s in path if s.line == CYCLE_LINE and s.kind == "feed" and s.start == (8.0, 2.0)]
    assert len(level8) == 1 and level8[0].end == pytest.approx((8.0, -1.0))
    arcs = [s for s in path if s.kind == "arc"]
    assert len(arcs) == 1 and arcs[0].line == 30 and arcs[0].centre == (5, -5) and not arcs[0].clockwise


@st.composite
def pocketed_profiles(draw):
    """Type II OD shapes: piecewise-linear radius over Z with pockets, Z strictly falling."""
    n = draw(st.integers(2, 6))
    xs = draw(st.lists(st.floats(4, 20), min_size=n, max_size=n))
    steps = draw(st.lists(st.floats(0.5, 8), min_size=n, max_size=n))
    start = (22.0 + draw(st.floats(0, 3)), 2.0)
    moves, z = [("rapid", (xs[0], 0.0))], 0.0
    for x, dz in zip(xs[1:], steps):
        z -= dz
        moves.append(("feed", (x, z)))
    moves.append(("feed", (start[0], z)))
    return start, chain(start, moves)


@given(pocketed_profiles(), st.floats(0.4, 3), st.floats(0, 1), st.floats(0, 0.5))
def test_g71_type2_never_enters_the_allowance(profile, depth, retract, ax):
    start, shape = profile
    path = cycles.g71(start, shape, depth, retract, ax, 0.0, CYCLE_LINE)
    assert cycles.g71(start, shape, depth, retract, ax, 0.0, CYCLE_LINE, type_ii=True) == path
    assert_continuous(path, start)
    translated = [Segment(s.kind, (s.start[0] + ax, s.start[1]), (s.end[0] + ax, s.end[1]), s.line) for s in shape]
    for s in path:
        for t in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
            x = s.start[0] + t * (s.end[0] - s.start[0])
            z = s.start[1] + t * (s.end[1] - s.start[1])
            if translated[-1].end[1] + 1e-9 < z < -1e-9:
                assert x >= _profile_radius(translated, z) - 1e-7, (s, x, z)
