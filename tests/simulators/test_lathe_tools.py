"""Tool geometry: T01–T06 of the default setup, insert angles, tip positions, non-cutting parts."""
import math

import pytest

from simulators.cnc_lathe.tools import Tool, default_tools, grooving_tool, turning_tool

TOOLS = default_tools()


def _part(tool, name):
    return next(s for s in tool.shapes if s.name == name)


def _lower_line_normals(shape):
    return [math.degrees(item[3]) for item in shape.lower_chain if item[0] == "L"]


def test_default_stations_and_kinds():
    kinds = {station: tool.kind for station, tool in TOOLS.items()}
    assert kinds == {1: "turning", 2: "turning", 3: "grooving", 4: "threading", 5: "boring", 6: "drill"}
    assert [TOOLS[k].nose_radius for k in range(1, 7)] == [0.8, 0.4, 0.0, 0.0, 0.4, 0.0]
    assert TOOLS[1].tip_direction == 3 and TOOLS[2].tip_direction == 3 and TOOLS[5].tip_direction == 2
    assert TOOLS[5].internal and TOOLS[6].internal and not TOOLS[1].internal


def test_external_insert_touches_its_imaginary_tip_lines():
    # Tip direction 3: the nose circle (centre (r, r) from the tip) is tangent to z = 0 and r = 0.
    for station, nose in ((1, 0.8), (2, 0.4)):
        zmin, _, rmin, _ = _part(TOOLS[station], "insert").bounds()
        assert zmin == pytest.approx(0.0, abs=1e-12)
        assert rmin == pytest.approx(0.0, abs=1e-12)


def test_end_cutting_edge_angles():
    # 80° insert at 95° approach: minor edge at 180-95-80 = 5° above +Z, outward normal at 275°.
    assert 275.0 in [pytest.approx(a, abs=1e-9) for a in _lower_line_normals(_part(TOOLS[1], "insert"))]
    # 35° insert at 93°: minor edge at 180-93-35 = 52°, normal at 322°.
    assert 322.0 in [pytest.approx(a, abs=1e-9) for a in _lower_line_normals(_part(TOOLS[2], "insert"))]


def test_rhombic_insert_edge_length():
    # The 80° insert's far corner F = N + 12.9 (cos 5°, sin 5°) + 12.9 (cos 85°, sin 85°) from the sharp
    # corner N; its largest z is F's: N.z + 12.9 (cos 5° + cos 85°).
    insert = _part(TOOLS[1], "insert")
    _, zmax, _, _ = insert.bounds()
    half = math.radians(40.0)
    corner_z = 0.8 - 0.8 / math.sin(half) * math.cos(math.radians(45.0))   # bisector at 45°
    assert zmax == pytest.approx(corner_z + 12.9 * (math.cos(math.radians(5)) + math.cos(math.radians(85))), abs=1e-9)


def test_grooving_tool_corner_width_and_reach():
    blade = _part(TOOLS[3], "insert")
    assert blade.bounds() == pytest.approx((0.0, 3.0, 0.0, 12.0))
    holder = _part(TOOLS[3], "holder")
    assert holder.beyond_reach and holder.bounds()[2] == pytest.approx(12.0)


def test_threading_tool_is_a_60_degree_v():
    v = _part(TOOLS[4], "insert")
    zmin, zmax, rmin, rmax = v.bounds()
    # flanks at 30° from the radial direction over 3 mm: half width 3 tan 30° = 1.7320508
    assert (zmin, zmax, rmin, rmax) == pytest.approx((-3 * math.tan(math.pi / 6), 3 * math.tan(math.pi / 6), 0, 3))


def test_boring_bar_fits_its_minimum_bore():
    tool = TOOLS[5]
    insert = _part(tool, "insert")
    zmin, _, _, rmax = insert.bounds()
    assert zmin == pytest.approx(0.0, abs=1e-12) and rmax == pytest.approx(0.0, abs=1e-12)  # tip direction 2
    bar = _part(tool, "bar")
    _, _, bar_low, bar_top = bar.bounds()
    assert bar_top - bar_low == pytest.approx(12.0)
    # Ø16 bore: tip at r = 8, bar axis 9 mm lower at r = -1, far side of the bar at |-1| + 6 = 7 < 8.
    axis = 8.0 + 0.5 * (bar_low + bar_top)
    assert abs(axis) + 6.0 < 8.0
    assert tool.min_bore == 16.0


def test_drill_point_length():
    body = _part(TOOLS[6], "flutes")
    # 118° point on Ø20: the corners are 10 / tan 59° = 6.0086 mm behind the point.
    corners = [v for v, _ in body.vertices if abs(abs(v[1]) - 10.0) < 1e-12]
    assert min(v[0] for v in corners) == pytest.approx(10.0 / math.tan(math.radians(59.0)))
    assert _part(TOOLS[6], "shank").beyond_reach


def test_unknown_kind_rejected():
    with pytest.raises(ValueError):
        Tool(9, "knurling", (0.0, 0.0), ())


def test_custom_tools_build():
    tool = turning_tool(7, 55.0, 15.5, 0.4, 93.0, (-40.0, -20.0))
    # 55° at 93°: minor edge at 180-93-55 = 32°, normal at 302°
    assert 302.0 in [pytest.approx(a, abs=1e-9) for a in _lower_line_normals(_part(tool, "insert"))]
    assert grooving_tool(8, 4.0, 20.0, (-45.0, -12.0)).width == 4.0


def test_centre_drill_pilot_and_countersink():
    from simulators.cnc_lathe.tools import centre_drill

    tool = centre_drill(7, 2.5, 3.0, 8.0, (-60.0, -100.0))
    cone = _part(tool, "countersink")
    # 60° countersink from r 1.25 at 3 mm to r 4: (4 - 1.25) / tan 30° = 4.763 mm long
    assert cone.bounds() == pytest.approx((3.0, 3.0 + 2.75 / math.tan(math.radians(30.0)), -4.0, 4.0))
    assert tool.kind == "centre_drill" and tool.internal
