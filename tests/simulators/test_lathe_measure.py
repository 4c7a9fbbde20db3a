"""Exact measurement: ray probes in the 3D work frame and the score-sheet operators."""
import itertools
import math

import pytest

from simulators.cnc_lathe import measure
from simulators.cnc_lathe.workpiece import Workpiece

from .test_lathe_stock import (
    ball_moves,
    bore_moves,
    move,
    rough_to,
    run,
    shoulder_moves,
    thread_moves,
)

SQ2 = math.sqrt(2.0)


def test_ray_example_of_the_issue_on_a_d20_section():
    workpiece, crashes = run(rough_to(10.0, -15.0, step=5.0))
    assert crashes == []
    hits = measure.ray_hits(workpiece, (100.0, 0.0, -10.0), (-1.0, 0.0, 0.0))
    # enters at (10, 0, -10), leaves on the far side at (-10, 0, -10)
    assert [(h.point, h.entering) for h in hits] == [((pytest.approx(10.0), 0.0, -10.0), True),
                                                    ((pytest.approx(-10.0), 0.0, -10.0), False)]
    assert hits[0].distance == pytest.approx(90.0)


def test_oblique_ray_on_a_cylinder():
    workpiece, _ = run(shoulder_moves())
    # from (100, 100, -10) toward the axis: reaches radius 20 after 100√2 - 20
    hit = measure.ray_hits(workpiece, (100.0, 100.0, -10.0), (-1.0, -1.0, 0.0))[0]
    assert hit.distance == pytest.approx(100.0 * SQ2 - 20.0, abs=1e-9)
    assert hit.point == pytest.approx((20.0 / SQ2, 20.0 / SQ2, -10.0), abs=1e-9)


def test_unnormalised_direction_reports_real_distances():
    workpiece, _ = run(shoulder_moves())
    hit = measure.ray_hits(workpiece, (100.0, 0.0, -10.0), (-7.0, 0.0, 0.0))[0]
    assert hit.distance == pytest.approx(80.0)


def test_ray_starting_inside_material_reports_only_the_exit():
    workpiece = Workpiece()
    hits = measure.ray_hits(workpiece, (0.0, 0.0, -50.0), (1.0, 0.0, 0.0))
    assert [(h.distance, h.entering) for h in hits] == [(pytest.approx(25.0), False)]


def test_rays_on_the_ball_end_torus_and_axis():
    workpiece, _ = run(ball_moves())
    # along the axis: the ball's pole at Z0
    pole = measure.ray_hits(workpiece, (0.0, 0.0, 10.0), (0.0, 0.0, -1.0))[0]
    assert pole.entering and pole.point == pytest.approx((0.0, 0.0, 0.0), abs=1e-9)
    # a 45° ray in the XZ plane aimed at the ball centre (0, 0, -10) from 20 mm away hits at 10 mm
    d = 1.0 / SQ2
    hit = measure.ray_hits(workpiece, (20.0 * d, 0.0, -10.0 + 20.0 * d), (-d, 0.0, -d))[0]
    assert hit.distance == pytest.approx(10.0, abs=1e-9)
    # a skew ray in the plane z = -5: ball radius there sqrt(100 - 25)
    skew = measure.ray_hits(workpiece, (20.0, 20.0, -5.0), (-1.0, -1.0, 0.0))[0]
    assert skew.distance == pytest.approx(20.0 * SQ2 - math.sqrt(75.0), abs=1e-9)


def test_diameters():
    workpiece, _ = run(shoulder_moves())
    assert measure.diameter_at(workpiece, -10.0) == pytest.approx(40.0, abs=1e-9)
    assert measure.diameter_at(workpiece, -10.0, angle_deg=37.0) == pytest.approx(40.0, abs=1e-9)
    assert measure.diameter_at(workpiece, -40.0) == pytest.approx(50.0, abs=1e-9)
    assert measure.diameter_over(workpiece, -18.0, -1.0, "max") == 40.0
    # over the fillet: max at Z-20 is the arc's end at r 20.8 → Ø41.6; the min is Ø40
    assert measure.diameter_over(workpiece, -20.0, -1.0, "max") == pytest.approx(41.6)
    assert measure.diameter_over(workpiece, -25.0, -1.0, "min") == pytest.approx(40.0)


def test_length_between_faces():
    workpiece, _ = run(shoulder_moves())
    # shoulder face at Z-20 (probed at r 22.5) to the end face at Z0 (probed at r 10)
    assert measure.face_z(workpiece, 22.5, -20.0) == pytest.approx(-20.0)
    assert measure.length_between_faces(workpiece, -20.0, 22.5, 0.0, 10.0) == pytest.approx(20.0)


def test_bore_diameter():
    workpiece, _ = run(bore_moves())
    assert measure.bore_diameter_at(workpiece, -10.0) == pytest.approx(22.0, abs=1e-9)
    assert measure.bore_diameter_at(workpiece, -22.0) == pytest.approx(20.0, abs=1e-9)
    assert measure.bore_diameter_at(workpiece, -40.0) == 0.0


def test_groove_width_and_bottom():
    moves = [move("rapid", 3, (30.0, -20.0), (26.0, -20.0), 1), move("feed", 3, (26.0, -20.0), (20.0, -20.0), 2),
             move("feed", 3, (20.0, -20.0), (26.0, -20.0), 3), move("rapid", 3, (26.0, -18.0), (26.0, -18.0), 4),
             move("feed", 3, (26.0, -18.0), (20.0, -18.0), 5), move("feed", 3, (20.0, -18.0), (26.0, -18.0), 6)]
    workpiece, crashes = run(moves)
    assert crashes == []
    # two plunges of the 3 mm blade at Z-20 and Z-18: groove Z-20..Z-15, bottom Ø40
    found = measure.groove(workpiece, -25.0, -10.0)
    assert found["bottom_diameter"] == pytest.approx(40.0)
    assert found["width"] == pytest.approx(5.0)
    assert (found["left_z"], found["right_z"]) == (pytest.approx(-20.0), pytest.approx(-15.0))


def test_chamfer_and_taper():
    moves = rough_to(20.0, -30.0) + [
        move("rapid", 2, (17.0, 3.0), (17.0, 1.0), 40), move("feed", 2, (17.0, 1.0), (20.0, -2.0), 41),
        move("feed", 2, (20.0, -2.0), (20.0, -10.0), 42)]
    workpiece, crashes = run(moves)
    assert crashes == []
    found = measure.chamfer(workpiece, -3.0, 0.0)
    # surface r = 18.8 - 0.4√2 - z from the end face (Z0) to Ø40: legs 20 - 18.2343 = 1.7657 each, 45°
    leg = 20.0 - (18.8 - 0.4 * SQ2)
    assert found["axial"] == pytest.approx(leg) and found["radial"] == pytest.approx(leg)
    assert found["angle_deg"] == pytest.approx(45.0)
    # a 1:4 taper (radius) cut by T02 from r 15 at Z-12 down to r 20 at Z-32: half angle atan(1/4)
    taper_moves = rough_to(15.0, -12.0) + [move("rapid", 2, (15.0, 1.0), (15.0, 1.0), 60),
                                           move("feed", 2, (15.0, 1.0), (15.0, -12.0), 61),
                                           move("feed", 2, (15.0, -12.0), (20.0, -32.0), 62),
                                           move("feed", 2, (20.0, -32.0), (26.0, -32.0), 63)]
    workpiece, crashes = run(taper_moves)
    assert crashes == []
    found = measure.taper(workpiece, -30.0, -14.0)
    assert found["half_angle_deg"] == pytest.approx(math.degrees(math.atan(0.25)))
    assert found["line"] == 62


def test_thread_measurements():
    workpiece, _ = run(thread_moves())
    found = measure.thread(workpiece)
    # deepest pass tip at r 22.9; 60° V: groove as wide as half the 2 mm lead where
    # (r - 22.9) tan 30° = 0.5, r = 22.9 + 0.5 / tan 30° = 23.766025. 2.1 mm is deeper than the sharp V
    # of a 2 mm lead (1.732): the flanks meet at 22.9 + 1 / tan 30° = 24.632 below the Ø50 crest.
    assert found["major_diameter"] == pytest.approx(2.0 * (22.9 + 1.0 / math.tan(math.pi / 6)), abs=1e-9)
    assert found["minor_diameter"] == pytest.approx(45.8)
    assert found["pitch_diameter"] == pytest.approx(2.0 * (22.9 + 0.5 / math.tan(math.pi / 6)), abs=1e-7)
    assert found["pitch"] == 2.0 and found["hand"] == "right" and found["line"] == 37


def test_rays_see_the_helix_at_their_angle():
    workpiece, _ = run(thread_moves())
    half = (24.0 - 22.9) * math.tan(math.pi / 6)      # groove half width at r 24: 0.635085
    # φ = 0: grooves centred at Z 5 + 2n; from the end face the ray leaves at -1 + half, enters at -1 - half
    hits = measure.ray_hits(workpiece, (24.0, 0.0, 10.0), (0.0, 0.0, -1.0))[:3]
    assert [h.entering for h in hits] == [True, False, True]
    assert [h.point[2] for h in hits] == pytest.approx([0.0, -1.0 + half, -1.0 - half], abs=1e-8)
    # φ = 90°: a right-hand helix moves the grooves +lead/4 = +0.5: centres at Z 5.5 + 2n, so Z0 lies in
    # the groove centred at -0.5 and the ray first enters at -0.5 - half
    hits = measure.ray_hits(workpiece, (0.0, 24.0, 10.0), (0.0, 0.0, -1.0))[:2]
    assert [h.entering for h in hits] == [True, False]
    assert [h.point[2] for h in hits] == pytest.approx([-0.5 - half, -2.5 + half], abs=1e-8)


def test_ra_and_provenance():
    workpiece, _ = run(shoulder_moves())
    # 200 mm/min at 1000 rpm = 0.2 mm/rev, nose R0.8: Ra = 0.2² / (32 · 0.8) mm = 1.5625 µm
    assert measure.ra_at(workpiece, -10.0) == pytest.approx(1.5625)
    assert measure.ra_at(workpiece, -40.0) is None          # raw bar
    assert measure.cut_by(workpiece, -10.0) == 3
    assert measure.cut_by(workpiece, -40.0) == 0


def test_profile_segments_for_the_cli():
    workpiece, _ = run(shoulder_moves())
    outer = workpiece.profile()["outer"]
    kinds = [(s["type"], s.get("face", False)) for s in outer]
    # raw Ø50, the face down at Z-20, the nose fillet, Ø40 to the end face
    assert kinds == [("line", False), ("line", True), ("arc", False), ("line", False)]
    arc = outer[2]
    assert arc["centre"] == pytest.approx([-19.2, 20.8]) and arc["radius"] == pytest.approx(0.8)
    assert outer[-1]["line"] == 3 and outer[-1]["end"] == pytest.approx([0.0, 20.0])


def test_display_polyline_stays_within_its_tolerance_of_the_ball():
    workpiece, _ = run(ball_moves())
    points = workpiece.display_profile(tolerance=0.002)["outer"]
    on_ball = [(z, r) for z, r in points if -10.0 <= z <= 0.0]
    # every vertex on the ball (|p - centre| = 10) and every chord's midpoint within 0.002 mm inside it
    assert all(abs(math.hypot(z + 10.0, r) - 10.0) < 1e-9 for z, r in on_ball)
    for (z0, r0), (z1, r1) in itertools.pairwise(on_ball):
        mid = math.hypot(0.5 * (z0 + z1) + 10.0, 0.5 * (r0 + r1))
        assert 10.0 - 0.002 - 1e-12 <= mid <= 10.0
    assert len(on_ball) > 20


def test_left_hand_thread_when_feeding_away_from_the_chuck():
    # relief groove Z-18..Z-15 down to r 22.5 with T03, then one pass from inside it toward the tailstock
    moves = [move("rapid", 3, (27.0, -18.0), (26.0, -18.0), 1), move("feed", 3, (26.0, -18.0), (22.5, -18.0), 2),
             move("feed", 3, (22.5, -18.0), (26.0, -18.0), 3),
             move("rapid", 4, (26.0, -16.5), (23.0, -16.5), 4),
             move("thread", 4, (23.0, -16.5), (23.0, 5.0), 5, lead=2.0),
             move("rapid", 4, (23.0, 5.0), (26.0, 5.0), 6)]
    workpiece, crashes = run(moves)
    assert crashes == []
    assert measure.thread(workpiece)["hand"] == "left"
    half = (24.0 - 23.0) * math.tan(math.pi / 6)
    # φ = 0: tips at -16.5 + 2n = -0.5 + 2n; the groove around -0.5 contains Z0: first entry at -0.5 - half
    hits = measure.ray_hits(workpiece, (24.0, 0.0, 10.0), (0.0, 0.0, -1.0))[:2]
    assert [h.point[2] for h in hits] == pytest.approx([-0.5 - half, -2.5 + half], abs=1e-8)
    # φ = 90°: a left-hand helix moves the tips by -lead/4 to -1 + 2n: material from Z0 to -1 + half
    hits = measure.ray_hits(workpiece, (0.0, 24.0, 10.0), (0.0, 0.0, -1.0))[:3]
    assert [h.point[2] for h in hits] == pytest.approx([0.0, -1.0 + half, -1.0 - half], abs=1e-8)


def test_thread_pass_with_a_turning_tool_cuts_its_nose_shape():
    # G32 with T01 (80°, R0.8) at tip radius 24, lead 8: tips at Z 5 + 8n at φ = 0, i.e. -3 and -11
    moves = [move("rapid", 1, (26.0, 5.0), (24.0, 5.0), 1),
             move("thread", 1, (24.0, 5.0), (24.0, -15.0), 2, lead=8.0),
             move("rapid", 1, (24.0, -15.0), (26.0, -15.0), 3)]
    workpiece, crashes = run(moves)
    assert crashes == []
    assert measure.thread(workpiece)["minor_diameter"] == pytest.approx(48.0)
    # At r 24.2 (0.2 above the tip) the groove runs from the nose arc, centre (0.8, 0.8) from the tip:
    # u = 0.8 - sqrt(0.8² - 0.6²), to the 5° end edge leaving the nose at normal 275°:
    # u = t_z + (0.2 - t_r) / tan 5°, t = (0.8 + 0.8 cos 275°, 0.8 + 0.8 sin 275°).
    left = 0.8 - math.sqrt(0.8 ** 2 - 0.6 ** 2)
    tz, tr = 0.8 + 0.8 * math.cos(math.radians(275)), 0.8 + 0.8 * math.sin(math.radians(275))
    right = tz + (0.2 - tr) / math.tan(math.radians(5))
    hits = measure.ray_hits(workpiece, (24.2, 0.0, 10.0), (0.0, 0.0, -1.0))
    assert [h.entering for h in hits] == [True, False, True, False]
    assert [h.point[2] for h in hits] == pytest.approx([-3.0 + left, -11.0 + right, -11.0 + left, -100.0], abs=1e-8)


def test_consecutive_thread_moves_stay_on_one_helix():
    # G32 Z-4.3 then G32 Z-15 (no one-rev wait between them) cut the same helix as one G32 Z-15
    one = thread_moves(tips=(23.5,))
    two = [one[0], move("thread", 4, (23.5, 5.0), (23.5, -4.3), 21, lead=2.0),
           move("thread", 4, (23.5, -4.3), (23.5, -15.0), 21, lead=2.0)] + one[2:]
    single, crashes_one = run(one)
    split, crashes_two = run(two)
    assert crashes_one == crashes_two == []
    for phi in (0.0, 1.0, 2.5, 4.0):
        for z in (-1.3, -6.1, -12.7):
            assert measure.outer_radius(split.stock, z, phi) == pytest.approx(
                measure.outer_radius(single.stock, z, phi), abs=1e-12)


def test_profile_reports_the_thread_groove():
    workpiece, _ = run(thread_moves())
    zone = workpiece.profile()["threads"][0]
    assert zone["lead"] == 2.0 and zone["hand"] == "right" and len(zone["passes"]) == 5
    # over one lead the cross-section goes from the deepest tip (r 22.9) to the ridge between two grooves:
    # 2.1 mm deep is deeper than the sharp V of a 2 mm lead (1.732), so the flanks meet half a lead apart
    # at 22.9 + 1 / tan 30° = 24.632 below the Ø50 crest
    radii = [r for _, r in zone["groove"]]
    assert min(radii) == pytest.approx(22.9, abs=1e-9)
    assert max(radii) == pytest.approx(22.9 + 1.0 / math.tan(math.pi / 6), abs=1e-9)


def test_thread_keeps_its_turned_crest_when_not_overcut():
    # M30×2-like passes from Ø50 to a 1.3 mm deep V (tip r 23.7): ridge flanks would meet at
    # 23.7 + 1.732 = 25.43 > 25, so the crest stays the turned Ø50
    workpiece, _ = run(thread_moves(tips=(24.5, 24.1, 23.8, 23.7)))
    found = measure.thread(workpiece)
    assert found["major_diameter"] == pytest.approx(50.0)
    assert found["minor_diameter"] == pytest.approx(47.4)
    assert found["pitch_diameter"] == pytest.approx(2.0 * (23.7 + 0.5 / math.tan(math.pi / 6)), abs=1e-7)


def test_nose_compensated_chamfer_is_exactly_c1():
    # C1 chamfer from Ø38 at Z0 to Ø40 at Z-1 with T02 (R0.4, tip direction 3), path compensated by hand:
    # surface r = 19 - z; nose centre 0.4 outside it: r = 19 + 0.4√2 - z; tip 0.4 below-left of the
    # centre: r = 19 + 0.4√2 - 0.8 - z = 18.76569 - z, meeting the Ø40 tip line r = 20 at z = -1.23431.
    c = 19.0 + 0.4 * SQ2 - 0.8
    moves = rough_to(20.0, -20.0) + [
        move("rapid", 2, (c - 3.0, 3.0), (c - 3.0, 3.0), 40),
        move("feed", 2, (c - 3.0, 3.0), (20.0, c - 20.0), 41),
        move("feed", 2, (20.0, c - 20.0), (20.0, -15.0), 42)]
    workpiece, crashes = run(moves)
    assert crashes == []
    found = measure.chamfer(workpiece, -3.0, 0.0)
    assert found["axial"] == pytest.approx(1.0, abs=1e-9) and found["radial"] == pytest.approx(1.0, abs=1e-9)
    assert measure.diameter_at(workpiece, -0.5) == pytest.approx(39.0, abs=1e-9)
    assert measure.diameter_at(workpiece, -5.0) == pytest.approx(40.0, abs=1e-9)
    assert measure.cut_by(workpiece, -0.5) == 41 and measure.cut_by(workpiece, -5.0) == 42
