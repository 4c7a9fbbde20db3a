"""Shared plane geometry (simulators/core/geometry.py), checked on hand-made figures."""
import math

import pytest

from simulators.core import geometry as g


def test_cross_sign_is_counter_clockwise_positive():
    assert g.cross((1, 0), (0, 1)) == 1 and g.cross((0, 1), (1, 0)) == -1
    assert g.left_normal((1, 0)) == (0, 1)


def test_line_line():
    # y = 5 (through (0,5) along +X) and x = 3 (through (3,0) along +Y) meet at (3, 5); parallels never do.
    assert g.line_line((0, 5), (1, 0), (3, 0), (0, 1)) == [pytest.approx((3, 5))]
    assert g.line_line((0, 5), (1, 0), (0, 7), (-1, 0)) == []


def test_line_circle_and_tangent():
    # y = 3 cuts the circle R5 about the origin at x = +-4 (3-4-5 triangle); y = 5 touches it at (0, 5).
    assert sorted(g.line_circle((-10, 3), (1, 0), (0, 0), 5)) == [pytest.approx((-4, 3)), pytest.approx((4, 3))]
    assert g.line_circle((-10, 5), (1, 0), (0, 0), 5) == [pytest.approx((0, 5))] * 2
    assert g.line_circle((-10, 6), (1, 0), (0, 0), 5) == []


def test_circle_circle():
    # R5 about (0,0) and R5 about (8,0): a = 4, h = 3, so (4, +-3).
    assert sorted(g.circle_circle((0, 0), 5, (8, 0), 5)) == [pytest.approx((4, -3)), pytest.approx((4, 3))]
    assert g.circle_circle((0, 0), 1, (8, 0), 1) == []


def test_arcs():
    # A quarter G03 from (10,0) to (0,10) about the origin sweeps pi/2; G02 the other way round 3pi/2;
    # start == end is a full circle. Tangent of the G03 at (10, 0) is +Y.
    assert g.arc_sweep((0, 0), (10, 0), (0, 10), False) == pytest.approx(math.pi / 2)
    assert g.arc_sweep((0, 0), (10, 0), (0, 10), True) == pytest.approx(3 * math.pi / 2)
    assert g.arc_sweep((0, 0), (10, 0), (10, 0), True) == pytest.approx(2 * math.pi)
    assert g.arc_tangent((0, 0), (10, 0), False) == pytest.approx((0, 1))
    assert g.arc_tangent((0, 0), (10, 0), True) == pytest.approx((0, -1))


def test_point_distances():
    assert g.point_segment_distance((5, 3), (0, 0), (10, 0)) == pytest.approx(3)
    assert g.point_segment_distance((13, 4), (0, 0), (10, 0)) == pytest.approx(5)      # beyond the end: 3-4-5
    # (0, 20) is 10 from the quarter arc R10 (G03 from (10,0) to (0,10)); (-20, 0) lies off the arc's angles,
    # so the nearer end counts: (0, 10), at sqrt(20^2 + 10^2) = sqrt(500).
    assert g.point_arc_distance((0, 20), (0, 0), (10, 0), (0, 10), False) == pytest.approx(10)
    assert g.point_arc_distance((-20, 0), (0, 0), (10, 0), (0, 10), False) == pytest.approx(math.sqrt(500))
