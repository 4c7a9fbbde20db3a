"""Tool-nose radius compensation (simulators/cnc_lathe/compensation.py): nose-centre geometry by hand.

Coordinates (x radius, z). Tip direction 3 puts the imaginary tip at centre + (-R, -R), so on a plain
cylinder or face the tip runs exactly on the programmed line; chamfers and arcs show the correction.
"""
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.cnc_lathe.compensation import TIP_VECTORS, NoseRadiusCompensator, compensate, tip_offset
from simulators.cnc_lathe.path import Segment
from simulators.core.alarms import Alarm

R = 0.8


def line(kind, a, b, n):
    return Segment(kind, a, b, n)


def ends(path):
    return [(s.kind, s.start, s.end, s.line) for s in path]


def approx_points(path):
    return [pytest.approx(p, abs=1e-9) for s in path for p in (s.start, s.end)]


def test_tip_chart():
    # FANUC/Haas chart, vector from the nose centre to the imaginary tip: 1 X+Z+, 2 X+Z-, 3 X-Z-, 4 X-Z+,
    # 5 Z+, 6 X+, 7 Z-, 8 X-, 0 and 9 none.
    assert TIP_VECTORS[3] == (-1, -1) and TIP_VECTORS[2] == (1, -1) and TIP_VECTORS[8] == (-1, 0)
    assert tip_offset(1, 0.4) == (0.4, 0.4) and tip_offset(9, 0.4) == (0, 0)


def test_45_degree_chamfer_g42_tip3():
    # G42 G00 X16. Z2.; G01 Z0.; X20. Z-2.; Z-20.; G40 G00 X60.  (x radius: 8 -> 10)
    prog = [line("rapid", (30, 5), (8, 2), 1), line("feed", (8, 2), (8, 0), 2),
            line("feed", (8, 0), (10, -2), 3), line("feed", (10, -2), (10, -20), 4),
            line("rapid", (10, -20), (30, -20), 5)]
    out = compensate(prog, 42, R, 3)
    # Nose centre 0.8 above the Ø16 line (x 8.8) and 0.8 off the chamfer along its outer normal
    # (1, 1)/sqrt2. Concave corner at (8, 0): the chamfer's offset line x - z = 8 + 0.8 sqrt2 meets x = 8.8 at
    # z = 0.8 - 0.8 sqrt2 = -0.331371; convex corner at (10, -2): it meets x = 10.8 at z = -2 + 0.8 - 0.8 sqrt2
    # ... i.e. both centre corners sit 0.8 (sqrt2 - 1) = 0.331371 past the programmed corner z.
    # The tip is the centre + (-0.8, -0.8): the chamfer's tip path runs from (8, 0 - 0.468629) to
    # (10, -2 - 0.468629), 0.468629 = 0.8 (1 - tan 22.5 degrees) further toward the chuck.
    shift = R * (1 - math.tan(math.radians(22.5)))
    assert shift == pytest.approx(0.8 * (2 - math.sqrt(2)))
    expected = [("rapid", (30, 5), (8, 1.2), 1),             # start-up: centre perpendicular to N2's start
                ("feed", (8, 1.2), (8, -shift), 2),
                ("feed", (8, -shift), (10, -2 - shift), 3),
                ("feed", (10, -2 - shift), (10, -20.8), 4),      # cancel: centre perpendicular to N4's end
                ("rapid", (10, -20.8), (30, -20), 5)]
    assert [(k, l) for k, _, _, l in ends(out)] == [(k, l) for k, _, _, l in expected]
    assert approx_points(out) == [p for e in expected for p in (e[1], e[2])]


def test_convex_ball_end_g42_tip3():
    # Start-up straight onto the pole, then the ball and a cylinder:
    # G42 G00 X0 Z0.; G03 X20. Z-10. R10.; G01 Z-20.; G40 G00 X40.
    # The start-up ends with the centre perpendicular to the arc's start (tangent +X, G42 normal +Z): centre
    # (0, 0.8). The nose centre then runs on the R10 + 0.8 = R10.8 circle about (0, -10); the tip is that
    # circle moved by (-0.8, -0.8): centre (-0.8, -10.8), from (-0.8, 0) to (10, -10.8).
    prog = [line("rapid", (10, 5), (0, 0), 2),
            Segment("arc", (0, 0), (10, -10), 3, centre=(0, -10), clockwise=False),
            line("feed", (10, -10), (10, -20), 4), line("rapid", (10, -20), (20, -20), 5)]
    out = compensate(prog, 42, R, 3)
    arc = [s for s in out if s.kind == "arc"]
    assert len(arc) == 1 and arc[0].line == 3 and not arc[0].clockwise
    assert arc[0].centre == pytest.approx((-0.8, -10.8))
    assert arc[0].start == pytest.approx((-0.8, 0.0)) and arc[0].end == pytest.approx((10.0, -10.8))
    # at 45 degrees on the arc the contact point is (10 sin45, -10 + 10 cos45) = (7.0711, -2.9289); the nose
    # centre is 0.8 further out along the radius: (10.8 sin45, -10 + 10.8 cos45) = (7.6368, -2.3632)
    centre45 = (10.8 * math.sin(math.pi / 4), -10 + 10.8 * math.cos(math.pi / 4))
    tip45 = (centre45[0] - 0.8, centre45[1] - 0.8)
    assert math.hypot(tip45[0] - arc[0].centre[0], tip45[1] - arc[0].centre[1]) == pytest.approx(10.8)
    # the cylinder after the ball is cut by the tip at x 10 exactly (tangent joint, no extra moves)
    assert out[-2].start == pytest.approx((10, -10.8)) and out[-2].end[0] == pytest.approx(10)


def test_ball_after_a_move_along_the_axis_leaves_the_concave_intersection():
    # G42 G00 X0 Z2.; G01 Z0.; G03 X20. Z-10. R10.  The move along the axis (x 0, heading -Z) and the ball
    # meet at a concave corner for G42: the centre sits on x = 0.8 and on the R10.8 circle about (0, -10):
    # z = -10 + sqrt(10.8^2 - 0.8^2) = -10 + sqrt(116) = 0.770330; the tip is (0, 0.770330 - 0.8).
    prog = [line("rapid", (10, 5), (0, 2), 1), line("feed", (0, 2), (0, 0), 2),
            Segment("arc", (0, 0), (10, -10), 3, centre=(0, -10), clockwise=False),
            line("feed", (10, -10), (10, -20), 4), line("rapid", (10, -20), (20, -20), 5)]
    out = compensate(prog, 42, R, 3)
    arc = [s for s in out if s.kind == "arc"][0]
    assert arc.start == pytest.approx((0.0, -10 + math.sqrt(116) - 0.8))


def test_concave_fillet_g42_tip3():
    # Ø20 cylinder into an R3 concave fillet up to a face at Z-20:
    # G01 Z-17.; G02 X26. Z-20. R3.; G01 X40.   (centre (13, -17))
    # The nose centre runs on R3 - 0.8 = R2.2 about (13, -17), from (10.8, -17) to (13, -19.2); the tip path
    # is that arc moved by (-0.8, -0.8): centre (12.2, -17.8), from (10, -17.8) to (12.2, -20).
    prog = [line("feed", (15, 0), (10, -5), 1), line("feed", (10, -5), (10, -17), 2),
            Segment("arc", (10, -17), (13, -20), 3, centre=(13, -17), clockwise=True),
            line("feed", (13, -20), (20, -20), 4), line("rapid", (20, -20), (30, 0), 5)]
    out = compensate(prog, 42, R, 3)
    arc = [s for s in out if s.kind == "arc"][0]
    assert arc.clockwise and arc.line == 3
    assert arc.centre == pytest.approx((12.2, -17.8))
    assert arc.start == pytest.approx((10, -17.8)) and arc.end == pytest.approx((12.2, -20))
    face = [s for s in out if s.line == 4][0]
    # the face ends before the cancel with the centre perpendicular: (20, -19.2), tip (19.2, -20)
    assert face.start == pytest.approx((12.2, -20)) and face.end == pytest.approx((19.2, -20))


def test_boring_g41_tip2_keeps_the_bore_on_size():
    # Boring bar (tip 2, tip = centre + (0.8, -0.8)) in G41: the tool is below the bore wall moving -Z, so
    # the centre runs at x 10 - 0.8 and the tip at x 10.
    prog = [line("rapid", (5, 5), (10, 2), 1), line("feed", (10, 2), (10, -20), 2), line("rapid", (10, -20), (5, -20), 3)]
    out = compensate(prog, 41, R, 2)
    assert out[1].start == pytest.approx((10, 2 - 0.8)) and out[1].end == pytest.approx((10, -20 - 0.8))


def test_tip_direction_0_outputs_the_centre_path():
    prog = [line("rapid", (30, 5), (10, 2), 1), line("feed", (10, 2), (10, -20), 2), line("rapid", (10, -20), (30, -20), 3)]
    out = compensate(prog, 42, R, 0)
    assert out[1].start == pytest.approx((10.8, 2)) and out[1].end == pytest.approx((10.8, -20))


def test_sharp_convex_corner_type_c():
    # A knife-edge ridge: up from (5, 0) to the crest (15, -3), down to (5, -6). At the crest the path turns
    # left by 180 - 2 atan(3/10) = 146.6 degrees (> 90) around the outside: FANUC's type C corner. The centre
    # goes R past the end of the first offset line along its direction (X1), then to R before the start of the
    # second (X2), instead of meeting the far-away intersection of the two offset lines.
    prog = [line("rapid", (20, 5), (5, 0), 1), line("feed", (5, 0), (15, -3), 2),
            line("feed", (15, -3), (5, -6), 3), line("rapid", (5, -6), (20, -6), 4)]
    out = compensate(prog, 42, R, 0)
    L = math.hypot(10, 3)
    t1, t2 = (10 / L, -3 / L), (-10 / L, -3 / L)
    n1, n2 = (-t1[1], t1[0]), (-t2[1], t2[0])          # G42: right of travel, (x, z) = (-t_z, t_x)
    x1 = (15 + R * n1[0] + R * t1[0], -3 + R * n1[1] + R * t1[1])
    x2 = (15 + R * n2[0] - R * t2[0], -3 + R * n2[1] - R * t2[1])
    assert x1 == pytest.approx((15.996139, -2.463617), abs=1e-6)   # by hand: q1 (15.229878, -2.233739) + 0.8 t1
    assert x2 == pytest.approx((15.996139, -3.536383), abs=1e-6)
    n2_out = [s for s in out if s.line == 2]
    assert n2_out[0].end == pytest.approx(x1)
    assert n2_out[1].start == pytest.approx(x1) and n2_out[1].end == pytest.approx(x2)
    assert [s for s in out if s.line == 3][0].start == pytest.approx(x2)


def test_start_up_or_cancel_on_an_arc_is_ps0034():
    comp = NoseRadiusCompensator(42, R, 3)
    with pytest.raises(Alarm) as e:
        comp.feed(Segment("arc", (0, 0), (10, -10), 7, centre=(0, -10)))
    assert (e.value.code, e.value.line) == ("PS0034", 7)
    comp = NoseRadiusCompensator(42, R, 3)
    comp.feed(line("feed", (30, 2), (10, 2), 1))
    comp.feed(line("feed", (10, 2), (10, -10), 2))
    with pytest.raises(Alarm) as e:
        comp.cancel(Segment("arc", (10, -10), (20, -20), 3, centre=(20, -10), clockwise=True))
    assert (e.value.code, e.value.line) == ("PS0034", 3)


def test_groove_narrower_than_the_nose_is_interference():
    # A 1 mm wide groove with a 0.8 nose (needs 1.6): the bottom's centre line would run backwards: PS0041
    prog = [line("feed", (12, 2), (10, 0), 1), line("feed", (10, 0), (10, -5), 2), line("feed", (10, -5), (8, -5), 3),
            line("feed", (8, -5), (8, -6), 4), line("feed", (8, -6), (10, -6), 5), line("feed", (10, -6), (10, -10), 6),
            line("feed", (10, -10), (20, -10), 7)]
    with pytest.raises(Alarm) as e:
        compensate(prog, 42, R, 3)
    assert (e.value.code, e.value.line) == ("PS0041", 4)


def test_concave_arc_smaller_than_the_nose_is_interference():
    prog = [line("feed", (15, 0), (10, -5), 1), line("feed", (10, -5), (10, -17), 2),
            Segment("arc", (10, -17), (10.5, -17.5), 3, centre=(10.5, -17), clockwise=True),
            line("feed", (10.5, -17.5), (20, -17.5), 4), line("rapid", (20, -17.5), (30, 0), 5)]
    with pytest.raises(Alarm) as e:
        compensate(prog, 42, R, 3)
    assert (e.value.code, e.value.line) == ("PS0041", 3)


def test_streaming_holds_back_one_segment():
    comp = NoseRadiusCompensator(42, R, 3)
    assert comp.feed(line("rapid", (30, 2), (10, 2), 1)) == []
    first = comp.feed(line("feed", (10, 2), (10, -10), 2))
    assert [s.line for s in first] == [1]
    assert [s.line for s in comp.feed(line("feed", (10, -10), (10, -10), 3))] == []   # zero move ignored
    assert [s.line for s in comp.feed(line("feed", (10, -10), (15, -10), 4))] == [2]
    assert [s.line for s in comp.finish()] == [4]


@st.composite
def od_profiles(draw):
    """Monotone OD contours of lines (steps, tapers, chamfers) from the face toward the chuck."""
    n = draw(st.integers(2, 6))
    x, z = draw(st.floats(3, 8)), 0.0
    pts = [(x, z)]
    for _ in range(n):
        dx = draw(st.sampled_from([0.0, 0.0, draw(st.floats(0.5, 4))]))
        dz = draw(st.floats(2.0, 10.0)) if dx == 0 else draw(st.sampled_from([0.0, dx, draw(st.floats(1.7, 6))]))
        x, z = x + dx, z - dz
        pts.append((x, z))
    return pts


def _dist_point_segment(p, a, b):
    ax, az = b[0] - a[0], b[1] - a[1]
    t = max(0.0, min(1.0, ((p[0] - a[0]) * ax + (p[1] - a[1]) * az) / (ax * ax + az * az)))
    return math.hypot(p[0] - a[0] - t * ax, p[1] - a[1] - t * az)


@given(od_profiles(), st.floats(0.2, 0.8))
def test_nose_never_gouges_a_monotone_od_contour(points, radius):
    # every nose-centre point of the compensated path is at least R from the programmed contour
    start = (points[0][0], 3.0)
    prog = [line("rapid", (points[-1][0] + 10, 5.0), start, 1), line("feed", start, points[0], 2)]
    prog += [line("feed", a, b, 3 + i) for i, (a, b) in enumerate(zip(points, points[1:]))]
    prog.append(line("feed", points[-1], (points[-1][0] + 5, points[-1][1]), 99))
    prog.append(line("rapid", prog[-1].end, (points[-1][0] + 10, points[-1][1]), 100))
    out = compensate(prog, 42, radius, 3)
    tip = tip_offset(3, radius)
    contour = [(s.start, s.end) for s in prog[1:-1]]
    for s in out[1:-1]:
        for t in (0.0, 0.3, 0.7, 1.0):
            c = (s.start[0] + t * (s.end[0] - s.start[0]) - tip[0], s.start[1] + t * (s.end[1] - s.start[1]) - tip[1])
            assert min(_dist_point_segment(c, a, b) for a, b in contour) >= radius - 1e-7
    for a, b in zip(out, out[1:]):
        assert a.end == pytest.approx(b.start, abs=1e-9)


def test_convex_edges_of_a_concave_dip_get_tangent_connectors():
    # Ø20 cylinder with a concave dip: G01 Z-10.; G02 Z-20. R6.403 (centre (14, -15), r = sqrt(41)); G01 Z-30.
    # At (10, -10) the path turns left (down into the dip) by theta = atan(5/4) = 51.34 degrees: for G42 a
    # convex edge. The centre runs on x 10.8 to R tan(theta/2) = 0.8 * 0.48062 = 0.38450 past the edge, then
    # along the arc's start tangent to the offset arc's start q2 = (10, -10) + 0.8 (4, -5)/sqrt41.
    r = math.sqrt(41)
    prog = [line("rapid", (20, 5), (10, 0), 1), line("feed", (10, 0), (10, -10), 2),
            Segment("arc", (10, -10), (10, -20), 3, centre=(14, -15), clockwise=True),
            line("feed", (10, -20), (10, -30), 4), line("rapid", (10, -30), (20, -30), 5)]
    out = compensate(prog, 42, R, 0)
    over = R * math.tan(math.atan2(5, 4) / 2)
    assert over == pytest.approx(0.38450, abs=1e-5)
    q2 = (10 + R * 4 / r, -10 - R * 5 / r)
    q3 = (10 + R * 4 / r, -20 + R * 5 / r)
    n2 = [s for s in out if s.line == 2]
    assert n2[0].end == pytest.approx((10.8, -10 - over))
    assert n2[1].start == pytest.approx((10.8, -10 - over)) and n2[1].end == pytest.approx(q2)
    arc = [s for s in out if s.line == 3]
    assert arc[0].kind == "arc" and arc[0].centre == (14, -15) and arc[0].clockwise
    assert arc[0].start == pytest.approx(q2) and arc[0].end == pytest.approx(q3)
    # the nose-centre arc has radius sqrt41 - 0.8 (concave for the tool)
    assert math.hypot(q2[0] - 14, q2[1] + 15) == pytest.approx(r - R)
    assert arc[1].kind == "feed" and arc[1].start == pytest.approx(q3)
    assert arc[1].end == pytest.approx((10.8, -20 + over))
    assert [s for s in out if s.line == 4][0].start == pytest.approx((10.8, -20 + over))
