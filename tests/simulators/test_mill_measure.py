"""Exact measurement: the shared contract example, score-sheet operators, provenance and Ra."""
import math

import pytest

from simulators.cnc_mill import measure
from simulators.cnc_mill.workpiece import Workpiece
from tests.simulators.mill_motions import TOOLS, mv, run



def _slot():
    """The shared contract example: T1 (Ø10, tip at programmed Z) rapid to X-60 Y0, down to Z2, feed to
    Z-4, then feed to X0."""
    return run([mv("rapid", 1, 1, (0, 0, 100), (-60, 0, 100)), mv("rapid", 2, 1, (-60, 0, 100), (-60, 0, 2)),
                mv("feed", 3, 1, (-60, 0, 2), (-60, 0, -4)), mv("feed", 4, 1, (-60, 0, -4), (0, 0, -4))])[0]


def test_contract_example():
    wp = _slot()
    wall = wp.ray_hits((-20, 0, -2), (0, 1, 0))
    assert wall[0].point[1] == pytest.approx(5.000, abs=0.5e-3) and wall[0].entering   # slot wall, Ø10 / 2
    assert wall[0].line == 4
    floor = wp.ray_hits((-20, 0, 10), (0, 0, -1))
    assert floor[0].point[2] == pytest.approx(-4.000, abs=0.5e-3) and floor[0].entering
    assert floor[1].point[2] == pytest.approx(-30.0, abs=1e-12) and not floor[1].entering   # block bottom


def test_ray_through_the_whole_block():
    wp = _slot()
    hits = wp.ray_hits((-20, -50, -2), (0, 1, 0))
    # block face y -40, slot walls y -5 and +5, block face y +40
    assert [round(h.point[1], 9) for h in hits] == [-40.0, -5.0, 5.0, 40.0]
    assert [h.entering for h in hits] == [True, False, True, False]
    assert [h.line for h in hits] == [0, 4, 4, 0]


def test_ray_from_inside_material_and_missing_rays():
    wp = Workpiece()
    hits = wp.ray_hits((0, 0, -10), (1, 0, 0))
    assert len(hits) == 1 and hits[0].point[0] == pytest.approx(50.0) and not hits[0].entering
    assert wp.ray_hits((0, 0, 5), (1, 0, 0)) == []          # above the block
    assert wp.ray_hits((0, 0, 0), (1, 0, 0)) == []          # grazing the top face
    with pytest.raises(ValueError):
        wp.ray_hits((0, 0, 0), (0, 0, 0))


def test_slot_width_length_and_depth():
    wp = _slot()
    across = measure.gap(wp, (-20, 0, -2), (0, 1, 0))
    assert across["width"] == pytest.approx(10.0, abs=0.5e-3)
    # slot from the block face x -50 to the end semicircle at x 0 + 5: the ray meets the round end at 5
    assert measure.depth(wp, -20, 0) == pytest.approx(4.0, abs=1e-12)
    assert measure.step_height(wp, (-20, 20), (-20, 0)) == pytest.approx(4.0, abs=1e-12)


def _pocket():
    """A 30 x 20 rectangular pocket 5 deep: T1 contour at the offset 5 path (tool centre on a 20 x 10
    rectangle centred at (10, -5)) after a plunge; the centre strip is cleared by the contour's width."""
    z = -5.0
    pts = [(0, -10), (20, -10), (20, 0), (0, 0), (0, -10)]
    moves = [mv("rapid", 1, 1, (0, -10, 50), (0, -10, 2)), mv("feed", 2, 1, (0, -10, 2), (0, -10, z))]
    for i, (a, b) in enumerate(zip(pts, pts[1:])):
        moves.append(mv("feed", 3 + i, 1, (a[0], a[1], z), (b[0], b[1], z)))
    return run(moves)[0]


def test_pocket_width_and_length():
    wp = _pocket()
    # tool centre rectangle x 0..20, y -10..0 widened by R5: pocket x -5..25, y -15..5
    assert measure.gap(wp, (10, -5, -3), (1, 0, 0))["width"] == pytest.approx(30.0, abs=0.5e-3)
    assert measure.gap(wp, (10, -5, -3), (0, 1, 0))["width"] == pytest.approx(20.0, abs=0.5e-3)
    left = measure.gap(wp, (10, -5, -3), (1, 0, 0))
    assert left["minus"][0] == pytest.approx(-5.0, abs=0.5e-3) and left["line_minus"] == 6   # x=0 side: line 6


def test_drilled_hole_diameter_position_and_point():
    wp, crashes = run([mv("rapid", 1, 5, (20, 10, 50), (20, 10, 2)), mv("feed", 2, 5, (20, 10, 2), (20, 10, -15))])
    assert crashes == []
    h = measure.hole(wp, (20.3, 9.8), -5.0)
    assert h["diameter"] == pytest.approx(8.5, abs=0.5e-3) and h["roundness"] < 1e-6
    pos = measure.hole_position(wp, (20.3, 9.8), -5.0, datum=(-50.0, -40.0))      # from the block corner
    assert pos["dx"] == pytest.approx(70.0, abs=0.5e-3) and pos["dy"] == pytest.approx(50.0, abs=0.5e-3)
    # 118° point: 2 mm off the axis the cone is 2 / tan 59° above the tip
    assert measure.top_z(wp, 22.0, 10.0) == pytest.approx(-15.0 + 2.0 / math.tan(math.radians(59.0)), abs=1e-9)


def test_circular_pocket_and_boss():
    # T1 full circle of radius 5 around the origin at Z-3: a Ø20 pocket
    wp, _ = run([mv("rapid", 1, 1, (5, 0, 50), (5, 0, 2)), mv("feed", 2, 1, (5, 0, 2), (5, 0, -3)),
                 mv("arc", 3, 1, (5, 0, -3), (5, 0, -3), centre=(0, 0, -3), cw=True)])
    assert measure.hole(wp, (0.4, -0.2), -1.0)["diameter"] == pytest.approx(20.0, abs=0.5e-3)
    # T1 full circle of radius 20 around (-20, 0): a band 15..25, leaving a Ø30 boss
    wp, _ = run([mv("rapid", 1, 1, (0, 0, 50), (0, 0, 2)), mv("feed", 2, 1, (0, 0, 2), (0, 0, -3)),
                 mv("arc", 3, 1, (0, 0, -3), (0, 0, -3), centre=(-20, 0, -3))])
    b = measure.boss(wp, (-20.5, 0.3), -1.0)
    assert b["diameter"] == pytest.approx(30.0, abs=0.5e-3)
    assert (b["x"], b["y"]) == (pytest.approx(-20.0, abs=0.5e-3), pytest.approx(0.0, abs=0.5e-3))
    assert b["lines"] == [3]


def test_arc_radius_of_a_corner():
    # G03 quarter arc of the tool centre at radius 15 about (0, 0): the outer wall has radius 20
    wp, crashes = run([mv("rapid", 1, 1, (15, 0, 50), (15, 0, 2)), mv("feed", 2, 1, (15, 0, 2), (15, 0, -2)),
                       mv("arc", 3, 1, (15, 0, -2), (0, 15, -2), centre=(0, 0, -2))])
    assert crashes == []
    outer = measure.arc_radius(wp, (0.0, 0.0), -1.0, 10.0, 80.0)
    assert outer["radius"] == pytest.approx(20.0, abs=0.5e-3) and outer["lines"] == [3]
    # the inner wall (radius 10) is convex: seen from the centre, in material
    inner = measure.arc_radius(wp, (0.0, 0.0), -1.0, 10.0, 80.0, inside_material=True)
    assert inner["radius"] == pytest.approx(10.0, abs=0.5e-3)


def test_helical_entry_wall():
    # T1 helix of radius 3 around (0, 0), one turn CCW from Z0 to Z-2. At Z-0.5 the tool is below the
    # probe only from 90° (a quarter of the descent) to 360°, so the wall is the radius-8 circle there
    wp, crashes = run([mv("rapid", 1, 1, (3, 0, 50), (3, 0, 0)),
                       mv("arc", 2, 1, (3, 0, 0), (3, 0, -2), centre=(0, 0, 0))])
    assert crashes == []
    assert measure.arc_radius(wp, (0.1, 0.0), -0.5, 120.0, 340.0)["radius"] == pytest.approx(8.0, abs=0.5e-3)
    # along 45° the farthest discs are the ends at 90° (0, 3) and 360° (3, 0): |(s/√2, s/√2) - (0, 3)| = 5
    # gives s² - 3√2 s - 16 = 0, s = (3√2 + √82) / 2
    d = 1.0 / math.sqrt(2.0)
    hit = wp.ray_hits((0.0, 0.0, -0.5), (d, d, 0.0))[0]
    assert hit.distance == pytest.approx((3.0 * math.sqrt(2.0) + math.sqrt(82.0)) / 2.0, abs=0.5e-3)
    # the centre (3 mm from every tool position, inside R5) is covered to the final depth
    assert measure.top_z(wp, 0.0, 0.0) == pytest.approx(-2.0, abs=1e-12)


def test_chamfer_cut_by_a_drill_point():
    # slot wall at y = 5 (T1, Z-10); then T5's 118° point runs along the wall edge with its tip 1 mm
    # down on the wall line: chamfer legs 1 (vertical) and tan 59° = 1.6643 (horizontal), at 59°
    moves = [mv("rapid", 1, 1, (-60, 0, 50), (-60, 0, -10)), mv("feed", 2, 1, (-60, 0, -10), (0, 0, -10)),
             mv("rapid", 3, 5, (-60, 5, 50), (-60, 5, -1)), mv("feed", 4, 5, (-60, 5, -1), (-10, 5, -1))]
    wp, crashes = run(moves)
    assert crashes == []
    c = measure.chamfer(wp, (-30, 0, -5), (0, 1), top=0.0)
    assert c["vertical"] == pytest.approx(1.0, abs=0.5e-3)
    assert c["horizontal"] == pytest.approx(math.tan(math.radians(59.0)), abs=0.5e-3)
    assert c["angle_deg"] == pytest.approx(59.0, abs=0.05)


def test_roughness_of_wall_and_floor():
    wp = run([mv("rapid", 1, 1, (-60, 0, 100), (-60, 0, -4)),
              mv("feed", 2, 1, (-60, 0, -4), (0, 0, -4), rpm=2000.0, feed=400.0)])[0]
    wall = wp.ray_hits((-20, 0, -2), (0, 1, 0))[0]
    floor = wp.ray_hits((-20, 0, 10), (0, 0, -1))[0]
    # fz = 400 / (2000 x 4) = 0.05 mm; wall: 1000 x 0.05² / (32 x 5) = 0.015625 µm;
    # floor (sharp end, 0.2 mm edge radius): 1000 x 0.0025 / 6.4 = 0.390625 µm
    assert measure.roughness(wp, wall, floor=False)["ra"] == pytest.approx(0.015625, abs=1e-12)
    assert measure.roughness(wp, floor, floor=True)["ra"] == pytest.approx(0.390625, abs=1e-12)
    assert measure.roughness(wp, floor, floor=True)["line"] == 2
    assert measure.ra_scallop(0.5, 4.0) == pytest.approx(1000.0 * 0.25 / 128.0, abs=1e-12)


def test_oblique_ray_through_a_ball_ramp():
    # T3 ramp at 45°, from (-50, 0, 0) to (-40, 0, -10): the sphere centre line is z = 4 - (x + 50), and
    # the capsule's lower surface in the plane y = 0 is that line lowered by 4 / cos 45° = 4√2
    wp, _ = run([mv("rapid", 1, 3, (-60, 0, 50), (-60, 0, 0)), mv("feed", 2, 3, (-60, 0, 0), (-50, 0, 0)),
                 mv("feed", 3, 3, (-50, 0, 0), (-40, 0, -10))])
    x = -45.0
    surface = -(x + 50.0) + 4.0 - 4.0 * math.sqrt(2.0)
    assert measure.top_z(wp, x, 0.0) == pytest.approx(surface, abs=1e-9)
    # a ray along the surface normal -(1, 0, 1)/√2 from the centre line point (-45, 0, -1) leaves the
    # capsule after the sphere radius, 4 mm; started 6 mm further back (above the block) it enters at 10
    r = math.sqrt(0.5)
    hit = wp.ray_hits((x, 0.0, -1.0), (-1.0, 0.0, -1.0))[0]
    assert hit.entering and hit.distance == pytest.approx(4.0, abs=0.5e-3) and hit.line == 3
    hit = wp.ray_hits((x + 6.0 * r, 0.0, -1.0 + 6.0 * r), (-1.0, 0.0, -1.0))[0]
    assert hit.entering and hit.distance == pytest.approx(10.0, abs=0.5e-3)


# --------------------------------------------------------------------- probes agree with the model

from hypothesis import given
from hypothesis import strategies as st

_coords = st.tuples(st.floats(-45, 45), st.floats(-35, 35), st.floats(-6, -0.5))


def _random_program(points, tool, arc_every):
    moves, (x, y, z) = [], (points[0][0], points[0][1], 5.0)
    moves.append(mv("rapid", 1, tool, (x, y, 50), (x, y, z)))
    for k, (nx, ny, nz) in enumerate(points):
        flat = all(p.is_flat for p in TOOLS[tool].pieces)    # other helices are chords: slow, tested apart
        if arc_every and k % arc_every == 1 and math.hypot(nx - x, ny - y) > 1.0 and (flat or nz == z):
            # a G17 arc (helical when z changes) through the midpoint's perpendicular: centre 3 mm aside
            mx, my = (x + nx) / 2.0, (y + ny) / 2.0
            ln = math.hypot(nx - x, ny - y)
            centre = (mx - 3.0 * (ny - y) / ln, my + 3.0 * (nx - x) / ln, z)
            moves.append(mv("arc", k + 2, tool, (x, y, z), (nx, ny, nz), centre=centre, cw=k % 2 == 0))
        else:
            moves.append(mv("feed", k + 2, tool, (x, y, z), (nx, ny, nz)))
        x, y, z = nx, ny, nz
    return moves


@given(st.lists(_coords, min_size=1, max_size=5), st.sampled_from([1, 2, 3]), st.sampled_from([0, 2]),
       st.floats(-35, 35), st.floats(-6.5, -0.2), st.floats(-0.5, 0.5))
def test_hits_bound_the_material_the_model_holds(points, tool, arc_every, y, z, slope):
    """Between consecutive hits of a probe the exact model's membership is constant and flips at each
    hit, for horizontal and slightly oblique rays (independent code paths: slices vs bottom())."""
    wp = run(_random_program(points, tool, arc_every), Workpiece(cell=2.0))[0]
    direction = (1.0, 0.0, slope * 0.02)
    hits = wp.ray_hits((-60.0, y, z), direction)
    norm = math.sqrt(1.0 + (slope * 0.02) ** 2)
    stops = [0.0] + [h.distance for h in hits] + [200.0]
    for k, (a, b) in enumerate(zip(stops, stops[1:])):
        if b - a < 1e-6:
            continue
        expected = k > 0 and hits[k - 1].entering
        for fraction in (0.3183, 0.7071):       # off the midpoint, where a tangent point may sit
            s = a + fraction * (b - a)
            assert wp.model.inside(-60.0 + s / norm, y, z + s * slope * 0.02 / norm) == expected
    assert all(h.entering != g.entering for h, g in zip(hits, hits[1:]))


def _drill_and_tap(tap_feed=300.0, drill=True, depth=-14.0):
    moves = []
    if drill:
        moves += [mv("rapid", 1, 5, (20, 10, 50), (20, 10, 2)), mv("feed", 2, 5, (20, 10, 2), (20, 10, -18))]
    # G84 at S200: F = 200 x 1.5 = 300 synchronises the M10x1.5 tap
    moves += [mv("rapid", 3, 6, (20, 10, 50), (20, 10, 5)), mv("feed", 4, 6, (20, 10, 5), (20, 10, depth),
                                                                 rpm=200.0, feed=tap_feed)]
    return run(moves)


def test_drilled_hole_depth_and_tapped_thread():
    wp, crashes = _drill_and_tap()
    assert crashes == []
    # the Ø8.5 drill tip at -18: full diameter down to -18 + 4.25 / tan 59°
    assert measure.hole_depth(wp, (20, 10), 8.5) == pytest.approx(18.0 - 4.25 / math.tan(math.radians(59.0)), abs=1e-6)
    t = measure.thread(wp, (20.1, 10.0))
    # entry at the top face (z 0); full thread to the tip + 3.5 pitches: 14 - 5.25 = 8.75 deep
    assert t["full_depth"] == pytest.approx(14.0 - 3.5 * 1.5, abs=1e-9) and t["nominal"] == 10.0
    assert t["gauge_ok"] and t["lines"] == [4]


def test_tapping_faults_are_recorded():
    wp, _ = _drill_and_tap(tap_feed=250.0)                 # F250 at S200 is 1.25 mm/rev on a 1.5 tap
    assert not measure.thread(wp, (20, 10))["synchronised"]
    wp, _ = _drill_and_tap(drill=False)                    # no pilot hole: the tap cuts its core
    t = measure.thread(wp, (20, 10))
    assert t["cut_core"] and not t["gauge_ok"]
    with pytest.raises(ValueError):
        measure.thread(wp, (0, 0))
