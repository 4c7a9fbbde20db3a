"""Mill cutter-radius compensation (simulators/cnc_mill/compensation.py): tool-centre paths by hand.

G17 unless said otherwise; points are (x, y, z). G41 = tool left of the direction of travel seen from +Z.
"""
import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.cnc_mill.compensation import CutterCompensator, compensate
from simulators.cnc_mill.path import Segment
from simulators.core import geometry as g
from simulators.core.alarms import Alarm


def feed(a, b, n, z0=0.0, z1=None, kind="feed", plane="G17"):
    z1 = z0 if z1 is None else z1
    return Segment(kind, (a[0], a[1], z0), (b[0], b[1], z1), n, plane=plane)


def arc(a, b, c, cw, n, z0=0.0, z1=None):
    z1 = z0 if z1 is None else z1
    return Segment("arc", (a[0], a[1], z0), (b[0], b[1], z1), n, centre=(c[0], c[1], z0), clockwise=cw)


def polyline(points, first_line=2, z=0.0):
    return [feed(a, b, first_line + i, z) for i, (a, b) in enumerate(itertools.pairwise(points))]


def summary(path):
    return [(s.kind, s.line, pytest.approx(s.start, abs=1e-9), pytest.approx(s.end, abs=1e-9)) for s in path]


def rounded(path):
    return [(s.kind, s.line, tuple(round(v, 9) for v in s.start), tuple(round(v, 9) for v in s.end)) for s in path]


def xy(p):
    return (p[0], p[1])


# ------------------------------------------------------------------------------------------ rectangles

def test_outside_rectangle_g41_climb():
    # 40x30 rectangle centred on the origin, climb milled outside = clockwise with the cutter on the left.
    # G41 D1 (R5): tool-centre rectangle 50x40, corners (+-25, +-20) (90-degree outside corners: extended
    # intersections). Start-up from (0, -30) to the perpendicular of the first side's start, (0, -20);
    # cancel from (0, -20) back to (0, -30).
    contour = [(0, -15), (-20, -15), (-20, 15), (20, 15), (20, -15), (0, -15)]
    prog = [feed((0, -30), (0, -15), 1)] + polyline(contour) + [feed((0, -15), (0, -30), 9)]
    out = compensate(prog, 41, 5.0)
    assert summary(out) == [
        ("feed", 1, (0, -30, 0), (0, -20, 0)),
        ("feed", 2, (0, -20, 0), (-25, -20, 0)),
        ("feed", 3, (-25, -20, 0), (-25, 20, 0)),
        ("feed", 4, (-25, 20, 0), (25, 20, 0)),
        ("feed", 5, (25, 20, 0), (25, -20, 0)),
        ("feed", 6, (25, -20, 0), (0, -20, 0)),
        ("feed", 9, (0, -20, 0), (0, -30, 0))]


def test_outside_rectangle_g42_counter_clockwise_is_the_same_path_reversed():
    contour = [(0, -15), (20, -15), (20, 15), (-20, 15), (-20, -15), (0, -15)]
    prog = [feed((0, -30), (0, -15), 1)] + polyline(contour) + [feed((0, -15), (0, -30), 9)]
    out = compensate(prog, 42, 5.0)
    corners = [xy(s.end) for s in out]
    assert corners == [pytest.approx(p) for p in [(0, -20), (25, -20), (25, 20), (-25, 20), (-25, -20),
                                                   (0, -20), (0, -30)]]


def test_pocket_g41_counter_clockwise():
    # Inside a 40x30 pocket the cutter on the left means counter-clockwise travel; R5 leaves a 30x20 centre
    # path, corners (+-15, +-10), exact intersections of the offset sides (inside corners).
    contour = [(0, -15), (20, -15), (20, 15), (-20, 15), (-20, -15), (0, -15)]
    prog = [feed((0, 0), (0, -15), 1)] + polyline(contour) + [feed((0, -15), (0, 0), 9)]
    out = compensate(prog, 41, 5.0)
    assert [xy(s.end) for s in out] == [pytest.approx(p) for p in
                                        [(0, -10), (15, -10), (15, 10), (-15, 10), (-15, -10), (0, -10), (0, 0)]]


# ------------------------------------------------------------------------------------------ corners

def test_sharp_outside_corner_gets_two_extra_vectors():
    # G42 R5: (0,0) -> (20,0) then to (0,10): the travel turns left by 180 - 26.565 = 153.4 degrees, the cutter
    # is on the right, so the corner is outside and sharper than 90 degrees. t1 = (1, 0), t2 = (-2, 1)/sqrt5.
    # q1 = (20, -5); extra vector 1: q1 + 5 t1 = (25, -5). q2 = (20, 0) + 5 * right normal of t2
    # (1, 2)/sqrt5 = (22.23607, 4.47214); extra vector 2: q2 - 5 t2 = (26.70820, 2.23607).
    s5 = math.sqrt(5)
    prog = [feed((-20, -20), (0, 0), 1), feed((0, 0), (20, 0), 2), feed((20, 0), (0, 10), 3),
            feed((0, 10), (0, 30), 4)]
    out = compensate(prog, 42, 5.0)
    q2 = (20 + 5 / s5, 10 / s5)
    extra2 = (q2[0] + 10 / s5, q2[1] - 5 / s5)
    assert extra2 == pytest.approx((26.70820, 2.23607), abs=1e-5)
    # block 2 runs on its offset line straight out to the first extra point; the connecting move belongs to
    # block 2; block 3 starts at the second extra point, on its own offset line extended backwards.
    assert summary(out)[1:3] == [("feed", 2, (0, -5, 0), (25, -5, 0)),
                                 ("feed", 2, (25, -5, 0), (extra2[0], extra2[1], 0))]
    assert out[3].line == 3 and xy(out[3].start) == pytest.approx(extra2)
    assert g.cross(g.sub(xy(out[3].end), xy(out[3].start)), (-2, 1)) == pytest.approx(0, abs=1e-9)


def test_line_into_inside_arc_meets_at_the_exact_intersection():
    # G41 R5 travelling +X along y=0, then G03 from (0,0) about (-10,10) (R = 10 sqrt2, leaving at 45 degrees
    # up-left: a left turn with the cutter on the left = inside corner). Offset line y = 5, offset circle
    # rho = 10 sqrt2 - 5 = 9.142136 about (-10, 10): (x + 10)^2 = rho^2 - 25 = 58.578644, x = -2.346331.
    rho = 10 * math.sqrt(2) - 5
    x = -10 + math.sqrt(rho ** 2 - 25)
    assert x == pytest.approx(-2.346331, abs=1e-6)
    end = (-10 + 10 * math.sqrt(2), 10)                      # arc ends where it crosses y = 10 (phi = 0)
    prog = [feed((-30, -10), (-30, 0), 1), feed((-30, 0), (0, 0), 2), arc((0, 0), end, (-10, 10), False, 3),
            feed(end, (end[0], 30), 4), feed((end[0], 30), (end[0], 40), 5)]
    out = compensate(prog, 41, 5.0)
    line2, arc3 = out[1], out[2]
    assert line2.line == 2 and xy(line2.end) == pytest.approx((x, 5))
    assert arc3.kind == "arc" and xy(arc3.start) == pytest.approx((x, 5))
    assert g.dist(xy(arc3.end), (-10, 10)) == pytest.approx(rho)
    # the arc's end is tangent to the vertical line x = end[0] (inside corner of 0 degrees): centre at end - (5,0)
    assert xy(arc3.end) == pytest.approx((end[0] - 5, 10))


def test_outside_arc_with_tangent_lines_is_r_bigger():
    # A boss R20 (quarter arc) between two tangent lines, G42 counter-clockwise outside: (20,-30)->(20,0),
    # G03 to (0,20) about (0,0), then (0,20)->(-30,20). Centre path: x=25 line, arc R25, y=25 line.
    prog = [feed((40, -40), (20, -30), 1), feed((20, -30), (20, 0), 2), arc((20, 0), (0, 20), (0, 0), False, 3),
            feed((0, 20), (-30, 20), 4), feed((-30, 20), (-30, 40), 5)]
    out = compensate(prog, 42, 5.0)
    assert summary(out)[1:4] == [("feed", 2, (25, -30, 0), (25, 0, 0)), ("arc", 3, (25, 0, 0), (0, 25, 0)),
                                 ("feed", 4, (0, 25, 0), (-30, 25, 0))]
    assert out[2].centre == (0, 0, 0) and out[2].clockwise is False


def test_full_circle_boss():
    # G41 R5 around a R20 circle climb milled (G02 clockwise, cutter left = outside): lead-in along -Y to
    # (20, 0) tangent... here perpendicular: start-up to (20, 0) from (40, 0), then a full G02 circle.
    prog = [feed((40, 0), (20, 0), 1), arc((20, 0), (20, 0), (0, 0), True, 2), feed((20, 0), (40, 0), 3)]
    out = compensate(prog, 41, 5.0)
    # start-up ends perpendicular to the circle's start: (25, 0); the circle is R25; cancel from (25, 0).
    assert summary(out) == [("feed", 1, (40, 0, 0), (25, 0, 0)), ("arc", 2, (25, 0, 0), (25, 0, 0)),
                            ("feed", 3, (25, 0, 0), (40, 0, 0))]


def test_helical_arc_keeps_its_z():
    # G41 R2: line in the pocket at Z-1, then a helical G03 half circle R10 about (0,0) down to Z-3.
    prog = [feed((10, -10), (10, 0), 1, -1), arc((10, 0), (-10, 0), (0, 0), False, 2, -1, -3),
            feed((-10, 0), (-10, -10), 3, -3)]
    out = compensate(prog, 41, 2.0)
    helix = out[1]
    assert helix.kind == "arc" and helix.start == pytest.approx((8, 0, -1)) and helix.end == pytest.approx((-8, 0, -3))


# ------------------------------------------------------------------------------------------ look-ahead

def test_z_only_moves_do_not_break_the_look_ahead():
    # The pocket of test_pocket_g41_counter_clockwise with a plunge to Z-5 right after the start-up and a
    # Z-only pause (Z-5 -> Z-5.5 -> Z-5) at the (15, 10) corner: the corners stay the same; the plunge
    # happens at the start-up end point (0, -10) and the corner Z moves at (15, 10).
    comp = CutterCompensator(41, 5.0)
    out = []
    out += comp.feed(feed((0, 0), (0, -15), 1, 10))
    out += comp.feed(feed((0, -15), (0, -15), 2, 10, -5))
    out += comp.feed(feed((0, -15), (20, -15), 3, -5))
    out += comp.feed(feed((20, -15), (20, 15), 4, -5))
    out += comp.feed(feed((20, 15), (20, 15), 5, -5, -5.5))
    out += comp.feed(feed((20, 15), (20, 15), 6, -5.5, -5))
    out += comp.feed(feed((20, 15), (-20, 15), 7, -5))
    out += comp.cancel(feed((-20, 15), (-20, 30), 8, -5))
    assert summary(out) == [
        ("feed", 1, (0, 0, 10), (0, -10, 10)),
        ("feed", 2, (0, -10, 10), (0, -10, -5)),
        ("feed", 3, (0, -10, -5), (15, -10, -5)),
        ("feed", 4, (15, -10, -5), (15, 10, -5)),
        ("feed", 5, (15, 10, -5), (15, 10, -5.5)),
        ("feed", 6, (15, 10, -5.5), (15, 10, -5)),
        ("feed", 7, (15, 10, -5), (-20, 10, -5)),          # perpendicular to its own end: (-20, 15) - (0, 5)
        ("feed", 8, (-20, 10, -5), (-20, 30, -5))]


def test_z_only_move_before_the_first_plane_move_passes_through():
    comp = CutterCompensator(41, 5.0)
    assert summary(comp.feed(feed((0, 0), (0, 0), 1, 10, 2))) == [("feed", 1, (0, 0, 10), (0, 0, 2))]
    assert comp.feed(feed((0, 0), (0, 0), 2, 2)) == []          # no motion at all: ignored


def test_a_copy_runs_on_without_touching_the_original():
    # The interpreter runs each block on a copy of the compensator, so an alarm leaves the state as it was.
    # Same path as the look-ahead test above: start-up (0,0)->(0,-15), a Z-only plunge held after it.
    comp = CutterCompensator(41, 5.0)
    comp.feed(feed((0, 0), (0, -15), 1, 10))
    comp.feed(feed((0, -15), (0, -15), 2, 10, -5))
    clone = comp.copy()
    clone.set_radius(3.0)
    clone.feed(feed((0, -15), (0, -15), 3, -5, -6))          # another held Z move, on the copy only
    out_clone = clone.cancel(feed((0, -15), (20, -15), 4, -6))
    assert comp.radius == 5.0 and comp.holding and not comp.closed
    out = comp.feed(feed((0, -15), (20, -15), 3, -5)) + comp.cancel(feed((20, -15), (20, 0), 4, -5))
    # the original still holds exactly the start-up and the one plunge: start-up ends at (0, -10)
    # (perpendicular to the +X move, R5 to its left), the plunge follows there, nothing from the copy
    assert summary(out)[:2] == [("feed", 1, (0, 0, 10), (0, -10, 10)), ("feed", 2, (0, -10, 10), (0, -10, -5))]
    assert all(s.line != 3 or s.end[2] == -5 for s in out)
    assert [s.line for s in out_clone][:3] == [1, 2, 3]


def test_held_segments_are_emitted_one_block_late():
    comp = CutterCompensator(41, 5.0)
    assert comp.feed(feed((0, -30), (0, -15), 1)) == [] and comp.holding
    out = comp.feed(feed((0, -15), (-20, -15), 2))
    assert [s.line for s in out] == [1]


def test_d_change_takes_effect_on_the_next_block():
    # G41 D1 (R5) along +X, then D2 (R3) on the next, collinear block: the first ends at (10, 5), a
    # connecting move down to (10, 3), the second runs at y = 3.
    comp = CutterCompensator(41, 5.0)
    out = comp.feed(feed((-10, -10), (0, 0), 1)) + comp.feed(feed((0, 0), (10, 0), 2))
    comp.set_radius(3.0)
    out += comp.feed(feed((10, 0), (20, 0), 3)) + comp.cancel(feed((20, 0), (20, -10), 4))
    assert summary(out)[1:] == [("feed", 2, (0, 5, 0), (10, 5, 0)), ("feed", 2, (10, 5, 0), (10, 3, 0)),
                                ("feed", 3, (10, 3, 0), (20, 3, 0)), ("feed", 4, (20, 3, 0), (20, -10, 0))]


def test_negative_d_swaps_the_side():
    # G41 with D = -5 behaves as G42 with 5: the rectangle of test_outside_rectangle_g42 reversed.
    contour = [(0, -15), (20, -15), (20, 15), (-20, 15), (-20, -15), (0, -15)]
    prog = [feed((0, -30), (0, -15), 1)] + polyline(contour) + [feed((0, -15), (0, -30), 9)]
    assert rounded(compensate(prog, 41, -5.0)) == rounded(compensate(prog, 42, 5.0))


def test_rapid_moves_are_compensated_and_stay_rapid():
    prog = [feed((0, -30), (0, -15), 1, kind="rapid"), feed((0, -15), (-20, -15), 2),
            feed((-20, -15), (-20, -30), 3, kind="rapid")]
    out = compensate(prog, 41, 5.0)
    assert [s.kind for s in out] == ["rapid", "feed", "rapid"]


def test_g18_plane():
    # G18: plane (Z, X), seen from +Y with Z to the right and X up. G41 R2 travelling +Z along X10 puts the
    # centre on the left = +X: X12. Points are (x, y, z).
    prog = [Segment("feed", (20, 0, -20), (10, 0, -10), 1, plane="G18"),
            Segment("feed", (10, 0, -10), (10, 0, 10), 2, plane="G18"),
            Segment("feed", (10, 0, 10), (20, 0, 10), 3, plane="G18")]
    out = compensate(prog, 41, 2.0, "G18")
    assert summary(out) == [("feed", 1, (20, 0, -20), (12, 0, -10)), ("feed", 2, (12, 0, -10), (12, 0, 10)),
                            ("feed", 3, (12, 0, 10), (20, 0, 10))]


# ------------------------------------------------------------------------------------------ alarms

def test_start_up_and_cancel_on_an_arc_are_ps0034():
    comp = CutterCompensator(41, 5.0)
    with pytest.raises(Alarm) as err:
        comp.feed(arc((10, 0), (0, 10), (0, 0), False, 3))
    assert err.value.code == "PS0034" and err.value.line == 3
    comp = CutterCompensator(41, 5.0)
    comp.feed(feed((0, -30), (0, -15), 1))
    with pytest.raises(Alarm) as err:
        comp.cancel(arc((0, -15), (15, 0), (0, 0), False, 4))
    assert err.value.code == "PS0034" and err.value.line == 4


def test_plane_change_is_ps0037():
    comp = CutterCompensator(42, 5.0, "G17")
    comp.check_plane("G17", 2)
    with pytest.raises(Alarm) as err:
        comp.check_plane("G18", 3)
    assert err.value.code == "PS0037"
    with pytest.raises(Alarm) as err:
        comp.feed(Segment("feed", (0, 0, 0), (0, 0, 10), 4, plane="G19"))
    assert err.value.code == "PS0037" and err.value.line == 4


def test_inside_arc_smaller_than_the_cutter_is_ps0041():
    # G41 R5 inside a R4 counter-clockwise arc (centre on the cutter's side): the cutter cannot fit.
    comp = CutterCompensator(41, 5.0)
    comp.feed(feed((4, -10), (4, 0), 1))
    with pytest.raises(Alarm) as err:
        comp.feed(arc((4, 0), (-4, 0), (0, 0), False, 2))
    assert err.value.code == "PS0041" and err.value.line == 2


def test_slot_narrower_than_the_diameter_is_ps0041():
    # G41 R5 (Ø10) along an outline with a 6 mm wide slot going down: x=0 down, bottom y=-10 (+X), x=6 up.
    # Offset walls x = 5 and x = 1 cross, so the bottom's centre path would run from (5, -5) back to (1, -5).
    prog = [feed((-30, 10), (-30, 0), 1)] + polyline([(-30, 0), (0, 0), (0, -10), (6, -10), (6, 0), (30, 0)]) + \
        [feed((30, 0), (30, 10), 9)]
    with pytest.raises(Alarm) as err:
        compensate(prog, 41, 5.0)
    assert err.value.code == "PS0041" and err.value.line == 4


def test_slot_wider_than_the_diameter_is_fine():
    # The same slot 12 mm wide: centre walls x = 5 and x = 7, bottom at y = -5.
    prog = [feed((-30, 10), (-30, 0), 1)] + polyline([(-30, 0), (0, 0), (0, -10), (12, -10), (12, 0), (30, 0)]) + \
        [feed((30, 0), (30, 10), 9)]
    out = compensate(prog, 41, 5.0)
    assert [xy(s.end) for s in out[1:6]] == [pytest.approx(p) for p in [(5, 5), (5, -5), (7, -5), (7, 5), (30, 5)]]


def test_no_intersection_is_ps0033():
    # G41 R5 along +X on y=0, then G03 from (0,0) about (-4, 4) (R 5.657, leaving at 45 degrees: inside
    # corner). Offset circle rho = 0.657 about (-4, 4) lies 1 mm below the offset line y = 5: no intersection.
    comp = CutterCompensator(41, 5.0)
    comp.feed(feed((-20, -10), (-20, 0), 1))
    comp.feed(feed((-20, 0), (0, 0), 2))
    with pytest.raises(Alarm) as err:
        comp.feed(arc((0, 0), (-4 + 4 * math.sqrt(2), 4), (-4, 4), False, 3))
    assert err.value.code == "PS0033" and err.value.line == 3


# ------------------------------------------------------------------------------------------ properties

def _samples(seg, n=24):
    a, b = xy(seg.start), xy(seg.end)
    if seg.kind != "arc":
        return [g.add(a, g.sub(b, a), i / n) for i in range(n + 1)]
    c = xy(seg.centre)
    sweep = g.arc_sweep(c, a, b, seg.clockwise)
    phi0, r = g.angle(c, a), g.dist(c, a)
    sign = -1 if seg.clockwise else 1
    return [g.arc_point(c, r, phi0 + sign * sweep * i / n) for i in range(n + 1)]


def _distance_to(p, contour):
    best = math.inf
    for s in contour:
        if s.kind == "arc":
            d = g.point_arc_distance(p, xy(s.centre), xy(s.start), xy(s.end), s.clockwise)
        else:
            d = g.point_segment_distance(p, xy(s.start), xy(s.end))
        best = min(best, d)
    return best


def _rounded_rectangle(w, h, rc, clockwise):
    """A closed w x h rectangle centred on the origin with corner radius rc, starting mid-bottom."""
    x, y = w / 2, h / 2
    if clockwise:
        corners = [((-x + rc, -y), (-x, -y + rc), (-x + rc, -y + rc)), ((-x, y - rc), (-x + rc, y), (-x + rc, y - rc)),
                   ((x - rc, y), (x, y - rc), (x - rc, y - rc)), ((x, -y + rc), (x - rc, -y), (x - rc, -y + rc))]
    else:
        corners = [((x - rc, -y), (x, -y + rc), (x - rc, -y + rc)), ((x, y - rc), (x - rc, y), (x - rc, y - rc)),
                   ((-x + rc, y), (-x, y - rc), (-x + rc, y - rc)), ((-x, -y + rc), (-x + rc, -y), (-x + rc, -y + rc))]
    segs, here, n = [], (0.0, -y), 2
    for a, b, c in corners:
        segs.append(feed(here, a, n))
        if rc > 0:
            segs.append(arc(a, b, c, clockwise, n + 1))
        here, n = b, n + 2
    segs.append(feed(here, (0.0, -y), n))
    return segs


@given(st.floats(10, 80), st.floats(10, 80), st.floats(0, 1), st.floats(0.5, 8), st.booleans())
def test_compensated_convex_contour_stays_exactly_r_away(w, h, rc_fraction, r, outside):
    """Property: around a closed convex rounded rectangle (outside, climb: clockwise G41; or inside a
    pocket: counter-clockwise G41, corner radius above r) every point of the tool-centre contour is exactly
    r from the programmed contour; with sharp corners no point comes closer than r and every side is
    touched at distance r."""
    rc = rc_fraction * min(w, h) / 2 * 0.95 if rc_fraction > 0.05 else 0.0
    if not outside:
        if min(w, h) / 2 <= r + 0.5:
            return
        rc = r + 0.01 + rc_fraction * (min(w, h) / 2 * 0.95 - r - 0.01) if rc_fraction > 0.2 else 0.0
    contour = _rounded_rectangle(w, h, rc, clockwise=outside)
    y = -h / 2
    lead = (0.0, y - 20) if outside else (0.0, 0.0)
    prog = [feed(lead, (0.0, y), 1)] + contour + [feed((0.0, y), lead, 99)]
    out = compensate(prog, 41, r)
    body = [s for s in out if s.line not in (1, 99)]
    assert all(a.end == pytest.approx(b.start, abs=1e-9) for a, b in itertools.pairwise(out))
    assert xy(body[0].start) == pytest.approx(xy(body[-1].end), abs=1e-9)          # closed
    for seg in body:
        for p in _samples(seg):
            d = _distance_to(p, contour)
            if rc > 0 or not outside:
                assert d == pytest.approx(r, abs=1e-7)
            else:
                assert d >= r - 1e-7
    for seg in contour:               # the cutter touches every programmed element (the contour is cut)
        assert min(_distance_to(p, body) for p in _samples(seg, 40)) == pytest.approx(r, abs=1e-7)


# ------------------------------------------------------------------------------------------ more corners

def test_arc_into_arc_inside_corner():
    # G41 R5: G03 about (0,0) R20 from (20,0) to (0,20) (cutter inside: offset R15), then G03 about (10,10)
    # R 10 sqrt2 from (0,20) (leaving towards (-1,-1)/sqrt2: a left turn = inside corner; offset R 10 sqrt2 - 5).
    # Circle-circle: d = |(10,10)| = 10 sqrt2, a = (15^2 - rho2^2 + d^2) / 2d along (1,1)/sqrt2,
    # h = sqrt(15^2 - a^2) across; the point nearer the corner (0,20) is mid + h (-1,1)/sqrt2.
    rho2 = 10 * math.sqrt(2) - 5
    d = 10 * math.sqrt(2)
    a = (225 - rho2 ** 2 + d * d) / (2 * d)
    h = math.sqrt(225 - a * a)
    meet = (a / math.sqrt(2) - h / math.sqrt(2), a / math.sqrt(2) + h / math.sqrt(2))
    assert meet == pytest.approx((2.2391, 14.8319), abs=1e-4)
    end2 = (10 - 10 * math.sqrt(2), 10)
    prog = [feed((30, 0), (20, 0), 1), arc((20, 0), (0, 20), (0, 0), False, 2),
            arc((0, 20), end2, (10, 10), False, 3), feed(end2, (end2[0], 0), 4)]
    out = compensate(prog, 41, 5.0)
    assert [s.kind for s in out[1:3]] == ["arc", "arc"]
    assert xy(out[1].start) == pytest.approx((15, 0)) and xy(out[1].end) == pytest.approx(meet)
    assert xy(out[2].start) == pytest.approx(meet)
    assert g.dist(meet, (0, 0)) == pytest.approx(15) and g.dist(meet, (10, 10)) == pytest.approx(rho2)


def test_reversal_goes_round_the_end():
    # G41 R5 along +X to (20,0), then straight back along -X: the centre runs on y = 5, goes 5 past the end to
    # (25, 5), across to (25, -5), and back on y = -5.
    prog = [feed((0, -10), (0, 0), 1), feed((0, 0), (20, 0), 2), feed((20, 0), (0, 0), 3), feed((0, 0), (0, -20), 4)]
    out = compensate(prog, 41, 5.0)
    # block 4 is the cancel block, so block 3 ends perpendicular to its own end: (0, -5)
    assert [xy(s.end) for s in out[1:4]] == [pytest.approx(p) for p in [(25, 5), (25, -5), (0, -5)]]


def test_arc_then_line_outside_corner_extends_the_tangents():
    # G42 R5 counter-clockwise outside a R10 arc about (0,0) from (10,0) to (0,10) (offset R15), then a line
    # (0,10) -> (-10,0), direction (-1,-1)/sqrt2: from heading -X that is a 45-degree LEFT turn, the cutter is
    # on the right, so the corner is outside. Arc end offset q1 = (0, 15), end tangent (-1, 0). The line's
    # offset: points p with (p - (0,10)) . (-1,1)/sqrt2 = 5, i.e. y = x + 10 + 5 sqrt2; it meets the tangent
    # y = 15 at x = 5 - 5 sqrt2 = -2.071068.
    s2 = math.sqrt(2)
    prog = [feed((10, -10), (10, 0), 1), arc((10, 0), (0, 10), (0, 0), False, 2), feed((0, 10), (-10, 0), 3),
            feed((-10, 0), (-10, -20), 4)]
    out = compensate(prog, 42, 5.0)
    assert out[1].kind == "arc" and xy(out[1].start) == pytest.approx((15, 0)) and xy(out[1].end) == pytest.approx((0, 15))
    assert out[2].kind == "feed" and out[2].line == 2 and xy(out[2].end) == pytest.approx((5 - 5 * s2, 15))
    assert out[3].line == 3 and xy(out[3].start) == pytest.approx((5 - 5 * s2, 15))
    assert 5 - 5 * s2 == pytest.approx(-2.071068, abs=1e-6)


def test_z_only_move_at_a_sharp_outside_corner_comes_after_the_corner_moves():
    # The reversal above with a Z step (0 -> -2) between blocks 2 and 3: the two corner moves run at Z0, the
    # Z move at (25, -5), then block 3 at Z-2.
    comp = CutterCompensator(41, 5.0)
    out = comp.feed(feed((0, -10), (0, 0), 1)) + comp.feed(feed((0, 0), (20, 0), 2))
    out += comp.feed(feed((20, 0), (20, 0), 5, 0, -2))
    out += comp.feed(feed((20, 0), (0, 0), 3, -2)) + comp.cancel(feed((0, 0), (0, -20), 4, -2))
    assert summary(out)[1:5] == [("feed", 2, (0, 5, 0), (25, 5, 0)), ("feed", 2, (25, 5, 0), (25, -5, 0)),
                                 ("feed", 5, (25, -5, 0), (25, -5, -2)), ("feed", 3, (25, -5, -2), (0, -5, -2))]


def test_g19_plane():
    # G19: plane (Y, Z) seen from +X with Y to the right and Z up. G42 R3 travelling +Y along Z-10 puts the
    # centre on the right = -Z: Z-13.
    prog = [Segment("feed", (0, -20, 0), (0, -10, -10), 1, plane="G19"),
            Segment("feed", (0, -10, -10), (0, 10, -10), 2, plane="G19"),
            Segment("feed", (0, 10, -10), (0, 10, 0), 3, plane="G19")]
    out = compensate(prog, 42, 3.0, "G19")
    # block 3 cancels: block 2 ends perpendicular to its end, (Y10, Z-13), and block 3 goes to (Y10, Z0).
    assert rounded(out) == [("feed", 1, (0, -20, 0), (0, -10, -13)), ("feed", 2, (0, -10, -13), (0, 10, -13)),
                            ("feed", 3, (0, 10, -13), (0, 10, 0))]


def test_finish_without_cancel_ends_beside_the_last_point():
    comp = CutterCompensator(41, 5.0)
    comp.feed(feed((0, -30), (0, -15), 1))
    comp.feed(feed((0, -15), (-20, -15), 2))
    out = comp.finish()
    assert rounded(out) == [("feed", 2, (0, -20, 0), (-20, -20, 0))]
    with pytest.raises(ValueError):
        comp.feed(feed((-20, -15), (-20, 0), 3))


@st.composite
def convex_polygons(draw):
    """3 to 8 vertices on a circle (so the polygon is convex), listed clockwise, sides >= 2 mm."""
    n = draw(st.integers(3, 8))
    radius = draw(st.floats(10, 60))
    gaps = draw(st.lists(st.floats(0.15, 1.0), min_size=n, max_size=n))
    total = sum(gaps)
    angles, acc = [], draw(st.floats(0, 2 * math.pi))
    for gap in gaps:
        angles.append(acc)
        acc -= 2 * math.pi * gap / total                      # decreasing angle: clockwise
    points = [(radius * math.cos(a), radius * math.sin(a)) for a in angles]
    if any(g.dist(p, q) < 2 for p, q in zip(points, points[1:] + points[:1])):
        return None
    return points


@given(convex_polygons(), st.floats(0.5, 10))
def test_outside_of_any_convex_polygon_never_gouges(points, r):
    """Property: climb milling (G41, clockwise) around any convex polygon, whatever its corner angles (type C
    corners with one or two extra vectors), the tool centre never comes closer than r to the contour, every
    side is touched at exactly r, and the centre path is closed."""
    if points is None:
        return
    p0, p1 = points[0], points[1]
    mid = ((p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2)
    outward = g.left_normal(g.unit(g.sub(p1, p0)))            # left of clockwise travel = outside
    lead = g.add(mid, outward, r + 10)
    contour = polyline([mid] + points[1:] + [p0, mid])
    prog = [feed(lead, mid, 1)] + contour + [feed(mid, lead, 99)]
    out = compensate(prog, 41, r)
    body = [s for s in out if s.line not in (1, 99)]
    assert all(a.end == pytest.approx(b.start, abs=1e-9) for a, b in itertools.pairwise(out))
    assert xy(body[0].start) == pytest.approx(xy(body[-1].end), abs=1e-9)
    for seg in body:
        for p in _samples(seg, 8):
            assert _distance_to(p, contour) >= r - 1e-7
    for seg in contour:
        assert _distance_to(_samples(seg, 2)[1], body) == pytest.approx(r, abs=1e-7)


def test_side_switch_without_g40_goes_to_the_crossing():
    # G41 R5 along +X on y=0 (centre y=5) to (10,0); then G42 up +Y along x=10 (centre on the right: x=15):
    # the offset paths cross at (15, 5).
    comp = CutterCompensator(41, 5.0)
    out = comp.feed(feed((0, -10), (0, 0), 1)) + comp.feed(feed((0, 0), (10, 0), 2))
    comp.set_side(42)
    out += comp.feed(feed((10, 0), (10, 20), 3)) + comp.cancel(feed((10, 20), (30, 20), 4))
    assert rounded(out) == [("feed", 1, (0, -10, 0), (0, 5, 0)), ("feed", 2, (0, 5, 0), (15, 5, 0)),
                            ("feed", 3, (15, 5, 0), (15, 20, 0)), ("feed", 4, (15, 20, 0), (30, 20, 0))]


def test_side_switch_on_a_straight_line_crosses_over():
    # Collinear blocks: the offsets y = 5 and y = -5 never cross: straight from (10, 5) to (10, -5).
    comp = CutterCompensator(41, 5.0)
    out = comp.feed(feed((0, -10), (0, 0), 1)) + comp.feed(feed((0, 0), (10, 0), 2))
    comp.set_side(42)
    out += comp.feed(feed((10, 0), (20, 0), 3)) + comp.finish()
    assert rounded(out)[1:] == [("feed", 2, (0, 5, 0), (10, 5, 0)), ("feed", 2, (10, 5, 0), (10, -5, 0)),
                                ("feed", 3, (10, -5, 0), (20, -5, 0))]


def test_helical_full_circles_thread_milling():
    # Thread milling inside a R10 bore with a R4 cutter, G41 (inside, counter-clockwise): start-up from the
    # centre to (10,0) ends at (6,0); two full G03 I-10 helices of 1.5 mm pitch stay on R6 (start and end at
    # (6,0) one pitch lower each); G40 back to the centre at Z-3.
    prog = [feed((0, 0), (10, 0), 1), arc((10, 0), (10, 0), (0, 0), False, 2, 0, -1.5),
            arc((10, 0), (10, 0), (0, 0), False, 3, -1.5, -3), feed((10, 0), (0, 0), 4, -3)]
    out = compensate(prog, 41, 4.0)
    assert rounded(out) == [("feed", 1, (0, 0, 0), (6, 0, 0)), ("arc", 2, (6, 0, 0), (6, 0, -1.5)),
                            ("arc", 3, (6, 0, -1.5), (6, 0, -3)), ("feed", 4, (6, 0, -3), (0, 0, -3))]


def test_inside_fillet_of_a_boss_is_r_smaller():
    # Outside of an L-shaped boss, climb (G41): along y=20 (+X), then a concave R8 fillet G03 about (-8,28) from
    # (-8,20) to (0,28), then up the wall x=0. Tangent junctions: no corner moves; the centre runs on y=25, a
    # R8-5 = R3 arc about (-8,28) from (-8,25) to (-5,28), then x=-5.
    prog = [feed((-30, 30), (-30, 20), 1), feed((-30, 20), (-8, 20), 2), arc((-8, 20), (0, 28), (-8, 28), False, 3),
            feed((0, 28), (0, 50), 4), feed((0, 50), (20, 60), 5)]
    out = compensate(prog, 41, 5.0)
    assert rounded(out) == [("feed", 1, (-30, 30, 0), (-30, 25, 0)), ("feed", 2, (-30, 25, 0), (-8, 25, 0)),
                            ("arc", 3, (-8, 25, 0), (-5, 28, 0)), ("feed", 4, (-5, 28, 0), (-5, 50, 0)),
                            ("feed", 5, (-5, 50, 0), (20, 60, 0))]
    assert out[2].centre == (-8, 28, 0) and out[2].clockwise is False


def test_arc_whose_end_radius_is_off_by_the_tolerance_still_meets_a_tangent_line():
    # G41 R5 inside a G03 arc about (0,0) from (20,0) (R20) to (0, 20.01): the end radius is 20.01, within the
    # 0.02 arc tolerance, and the next line leaves along -X, tangent to the arc at its end but turned
    # 0.0001 rad towards the cutter (rounded coordinates). The corner is computed with the end radius:
    # offset circle R15.01, offset line y = 20.01 - 5 (nearly), meeting near (0, 15.01), not PS0033.
    prog = [feed((20, -10), (20, 0), 1), arc((20, 0), (0, 20.01), (0, 0), False, 2),
            feed((0, 20.01), (-20, 20.01 - 20 * 0.0001), 3), feed((-20, 20.01 - 0.002), (-20, 40), 4)]
    out = compensate(prog, 41, 5.0)
    assert out[1].kind == "arc" and xy(out[1].end) == pytest.approx((0, 15.01), abs=1e-3)
    assert g.dist(xy(out[1].end), (0, 0)) == pytest.approx(15.01, abs=1e-9)


@st.composite
def random_paths(draw):
    """A start-up line, 1 to 6 lines or G02/G03 arcs (centres at random perpendicular distances, so arcs
    meet their neighbours at any angle), a G40 line; coordinates in a 100 mm box on a 1 µm grid."""
    def point():
        return (round(draw(st.floats(-50, 50)), 3), round(draw(st.floats(-50, 50)), 3))

    here = point()
    segs = []
    for n in range(draw(st.integers(3, 8))):
        nxt = point()
        if g.dist(here, nxt) < 0.5:
            continue
        if 0 < n < 7 and draw(st.booleans()):
            mid = ((here[0] + nxt[0]) / 2, (here[1] + nxt[1]) / 2)
            normal = g.left_normal(g.unit(g.sub(nxt, here)))
            centre = g.add(mid, normal, draw(st.floats(-40, 40)))
            segs.append(arc(here, nxt, centre, draw(st.booleans()), n + 1, z0=-1.0))
        else:
            segs.append(feed(here, nxt, n + 1, -1.0))
        here = nxt
    return segs


@given(random_paths(), st.sampled_from([41, 42]), st.floats(0, 12))
def test_any_path_either_alarms_properly_or_comes_out_chained(segs, side, r):
    """Property: whatever the path, compensation raises one of its own alarms (PS0033/PS0034/PS0041) or
    returns a continuous path from the start-up start to the G40 end point, keeping every block's Z."""
    if len(segs) < 2 or segs[0].kind == "arc" or segs[-1].kind == "arc":
        return
    try:
        out = compensate(segs, side, r)
    except Alarm as alarm:
        assert alarm.code in ("PS0033", "PS0041")
        return
    assert out[0].start == segs[0].start and out[-1].end == pytest.approx(segs[-1].end, abs=1e-9)
    for a, b in itertools.pairwise(out):
        assert a.end == pytest.approx(b.start, abs=1e-6)
    for s in out:
        assert all(math.isfinite(v) for v in s.start + s.end) and s.start[2] == -1.0 and s.end[2] == -1.0
        if s.kind == "arc":
            c = xy(s.centre)
            assert g.dist(xy(s.start), c) == pytest.approx(g.dist(xy(s.end), c), abs=1e-6)
