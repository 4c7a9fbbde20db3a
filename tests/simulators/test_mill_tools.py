"""Mill tools: the default set of the issue, exact envelope profiles, shank and holder geometry."""
import math

import numpy as np
import pytest

from simulators.cnc_mill.tools import Piece, Tool, default_tools

TOOLS = default_tools()


def test_default_set_matches_the_issue():
    # (kind, Ø, flute length, centre cutting) from issue 4 "default mill setup"
    expected = {1: ("flat", 10.0, 25.0, True), 2: ("flat", 6.0, 15.0, True), 3: ("ball", 8.0, 19.0, True),
                4: ("centre_drill", 8.0, 10.0, True), 5: ("drill", 8.5, 60.0, True),
                6: ("tap", 10.0, 20.0, True), 7: ("flat", 16.0, 32.0, False)}
    got = {n: (t.kind, t.diameter, t.flute_length, t.centre_cutting) for n, t in TOOLS.items()}
    assert got == expected
    assert TOOLS[1].flutes == 4
    assert TOOLS[4].pilot_diameter == 3.0 and TOOLS[5].point_angle == 118.0 and TOOLS[6].pitch == 1.5


def test_radius_offsets_are_the_tool_radii():
    # D n = tool radius: Ø10 -> 5, Ø6 -> 3, Ø8 -> 4, Ø16 -> 8
    assert [TOOLS[n].radius for n in (1, 2, 3, 7)] == [5.0, 3.0, 4.0, 8.0]


def test_holders_stand_clear_of_the_flutes():
    # the holder nose must be above the flutes, or every full-depth cut would be a holder crash
    for tool in TOOLS.values():
        assert tool.holder_height > tool.flute_length
        assert tool.holder_diameter / 2.0 > tool.radius


def test_flat_end_profile():
    t1 = TOOLS[1]
    h = t1.h_inv(np.array([0.0, 4.999, 5.0, 5.001]))
    assert list(h[:3]) == [0.0, 0.0, 0.0] and math.isinf(h[3])
    assert t1.radius_at(0.0) == 5.0 and t1.radius_at(-0.001) == -1.0


def test_ball_profile():
    t3 = TOOLS[3]
    # sphere R4 centred 4 above the tip: at d = 2 the surface is 4 - sqrt(16 - 4) = 0.5358984 above the tip
    assert float(t3.h_inv(np.array([2.0]))[0]) == pytest.approx(4.0 - math.sqrt(12.0), abs=1e-12)
    assert float(t3.h_inv(np.array([4.0]))[0]) == pytest.approx(4.0, abs=1e-12)
    # radius 1 mm above the tip: sqrt(16 - 9) = 2.6457513
    assert t3.radius_at(1.0) == pytest.approx(math.sqrt(7.0), abs=1e-12)


def test_drill_point():
    t5 = TOOLS[5]
    # 118° point: the cone reaches r = 4.25 at h = 4.25 / tan 59° = 2.5536 mm
    assert float(t5.h_inv(np.array([4.25]))[0]) == pytest.approx(4.25 / math.tan(math.radians(59.0)), abs=1e-12)
    assert t5.radius_at(1.0) == pytest.approx(math.tan(math.radians(59.0)), abs=1e-12)


def test_centre_drill_pilot_and_countersink():
    t4 = TOOLS[4]
    tip = 1.5 / math.tan(math.radians(59.0))         # pilot point reaches r 1.5
    pilot_top = tip + 1.3 * 3.0                       # pilot length 1.3 d
    assert t4.radius_at(tip + 1.0) == pytest.approx(1.5, abs=1e-12)
    # 60° countersink: 1 mm above the pilot, r = 1.5 + tan 30°
    assert t4.radius_at(pilot_top + 1.0) == pytest.approx(1.5 + math.tan(math.radians(30.0)), abs=1e-12)
    assert t4.radius == 4.0


def test_tap_removes_its_core():
    # M10x1.5 internal thread minor diameter D1 = 10 - 1.082532 * 1.5 = 8.376202
    assert TOOLS[6].radius == pytest.approx(8.376202 / 2.0, abs=1e-6)


def test_body_pieces():
    body = TOOLS[1].body_pieces()
    assert body["flute_top"][0].h0 == 25.0 and body["flute_top"][0].a == 5.0
    assert body["holder"][0].h0 == pytest.approx(95.0 - 55.0) and body["holder"][0].a == 16.0
    assert "shank" not in body          # Ø10 shank is no wider than the cutter
    assert "shank" not in TOOLS[4].body_pieces()


def test_bull_nose_profile():
    bull = Tool(9, "bull", 10.0, 20.0, 90.0, 10.0, 32.0, 60.0, corner_radius=1.0)
    # torus: flat to r 4, then r = 4 + sqrt(1 - (1 - h)^2); at d = 4.5: h = 1 - sqrt(1 - 0.25)
    assert float(bull.h_inv(np.array([3.9]))[0]) == 0.0
    assert float(bull.h_inv(np.array([4.5]))[0]) == pytest.approx(1.0 - math.sqrt(0.75), abs=1e-12)


def test_invalid_tools_are_refused():
    with pytest.raises(ValueError):
        Tool(9, "spoon", 10.0, 20.0, 90.0, 10.0, 32.0, 60.0)
    with pytest.raises(ValueError):
        Tool(9, "flat", 10.0, 20.0, 90.0, 10.0, 32.0, 95.0)    # holder nose below the tip


def test_piece_bottoms():
    assert Piece("ball", 4.0, 4.0).bottom == 0.0
    assert Piece("cone", 5.0, 2.0, r0=5.0).is_flat
