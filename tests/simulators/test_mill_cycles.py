"""Mill drilling canned cycles (simulators/cnc_mill/cycles.py): every move checked against a hand sequence.

Frame: G17, drilling along Z. The tool starts at (0, 0, 50) unless said otherwise; the initial level is
Z50 (where the cycle mode began). Steps are written as ("rapid"/"feed", end point) and ("dwell", s) /
("spindle", direction) / ("orient",) / ("manual",).
"""
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.cnc_mill import cycles
from simulators.cnc_mill.cycles import (
    CycleData,
    CycleParameters,
    hole,
    holes,
    repeat_positions,
    tapping_feed,
)
from simulators.cnc_mill.path import Segment
from simulators.core.alarms import Alarm

START = (0.0, 0.0, 50.0)
INITIAL = 50.0


def steps(path):
    """A compact, comparable form of a step list."""
    out = []
    for s in path:
        if isinstance(s, Segment):
            out.append((s.kind, pytest.approx(s.end, abs=1e-9)))
        elif s.kind == "dwell":
            out.append(("dwell", pytest.approx(s.seconds)))
        elif s.kind == "spindle":
            out.append(("spindle", s.direction))
        else:
            out.append((s.kind,))
    return out


def chained(path):
    moves = [s for s in path if isinstance(s, Segment)]
    return all(a.end == b.start for a, b in itertools.pairwise(moves))


def data(code, **kw):
    base = {"code": code, "bottom": -10.0, "r_level": 2.0, "feed": 100.0}
    base.update(kw)
    return CycleData(**base)


# ------------------------------------------------------------------------------------------ drilling

def test_g81_g99_returns_to_r_and_g98_to_initial():
    # G99 G81 X10 Y20 Z-10 R2 F100 from (0, 0, 50): rapid to (10, 20) at Z50, rapid to R2, feed to Z-10,
    # rapid back to R2.
    path = hole(data("G81", return_initial=False), START, (10, 20), INITIAL, 7)
    assert steps(path) == [("rapid", (10, 20, 50)), ("rapid", (10, 20, 2)), ("feed", (10, 20, -10)),
                           ("rapid", (10, 20, 2))]
    assert all(s.line == 7 for s in path) and chained(path)
    assert path[2].feed == 100.0 and path[0].start == START
    # G98: the last rapid goes to the initial level Z50 instead.
    path = hole(data("G81", return_initial=True), START, (10, 20), INITIAL, 7)
    assert steps(path)[-1] == ("rapid", (10, 20, 50))


def test_g99_next_hole_positions_at_r_level():
    # After a G99 hole the tool sits at R2, so the next hole's positioning move runs at Z2 and there is no
    # separate move down to R.
    path = hole(data("G81", return_initial=False), (10, 20, 2), (30, 20), INITIAL, 8)
    assert steps(path) == [("rapid", (30, 20, 2)), ("feed", (30, 20, -10)), ("rapid", (30, 20, 2))]


def test_g82_dwells_at_the_bottom():
    # G82 ... P1500: dwell 1.5 s at Z-10 (P is ms, the interpreter passes seconds).
    path = hole(data("G82", dwell=1.5, return_initial=False), START, (0, 0), INITIAL, 3)
    assert steps(path) == [("rapid", (0, 0, 2)), ("feed", (0, 0, -10)), ("dwell", 1.5), ("rapid", (0, 0, 2))]


def test_g83_pecks_with_full_retract():
    # G99 G83 Z-10 R2 Q3: pecks reach 2-3 = -1, -4, -7 and finally -10; after each peck a rapid to R2, then a
    # rapid down to 0.25 (parameter 5115) above the previous depth before feeding on.
    path = hole(data("G83", q=3.0, return_initial=False), START, (0, 0), INITIAL, 5)
    assert steps(path) == [
        ("rapid", (0, 0, 2)),
        ("feed", (0, 0, -1)), ("rapid", (0, 0, 2)), ("rapid", (0, 0, -0.75)),
        ("feed", (0, 0, -4)), ("rapid", (0, 0, 2)), ("rapid", (0, 0, -3.75)),
        ("feed", (0, 0, -7)), ("rapid", (0, 0, 2)), ("rapid", (0, 0, -6.75)),
        ("feed", (0, 0, -10)), ("rapid", (0, 0, 2))]
    feeds = [s.end[2] for s in path if isinstance(s, Segment) and s.kind == "feed"]
    assert feeds == pytest.approx([-1, -4, -7, -10])


def test_g83_last_peck_is_shorter_and_uses_parameter_5115():
    # Z-9 R0 Q4 with d = 1: pecks -4, -8, then the remaining 1 mm to -9; re-entry rapids stop at -3 and -7.
    params = CycleParameters(g83_clearance=1.0)
    path = hole(data("G83", bottom=-9.0, r_level=0.0, q=4.0), START, (0, 0), INITIAL, 5, params)
    assert steps(path) == [
        ("rapid", (0, 0, 0)),
        ("feed", (0, 0, -4)), ("rapid", (0, 0, 0)), ("rapid", (0, 0, -3)),
        ("feed", (0, 0, -8)), ("rapid", (0, 0, 0)), ("rapid", (0, 0, -7)),
        ("feed", (0, 0, -9)), ("rapid", (0, 0, 50))]


def test_g73_high_speed_peck_retracts_by_parameter_5114():
    # G98 G73 Z-10 R2 Q3, d = 0.6 (default of parameter 5114): feed -1, back up to -0.4, feed -4, up to -3.4,
    # feed -7, up to -6.4, feed -10, rapid to the initial level.
    path = hole(data("G73", q=3.0), START, (0, 0), INITIAL, 5)
    assert steps(path) == [
        ("rapid", (0, 0, 2)),
        ("feed", (0, 0, -1)), ("rapid", (0, 0, -0.4)),
        ("feed", (0, 0, -4)), ("rapid", (0, 0, -3.4)),
        ("feed", (0, 0, -7)), ("rapid", (0, 0, -6.4)),
        ("feed", (0, 0, -10)), ("rapid", (0, 0, 50))]


@pytest.mark.parametrize("code", ["G73", "G83"])
@pytest.mark.parametrize("q", [None, 0.0])
def test_peck_without_q_is_ps0045(code, q):
    with pytest.raises(Alarm) as err:
        hole(data(code, q=q), START, (0, 0), INITIAL, 12)
    assert err.value.code == "PS0045" and err.value.line == 12


def test_zero_feed_is_ps0011():
    with pytest.raises(Alarm) as err:
        hole(data("G81", feed=0.0), START, (0, 0), INITIAL, 4)
    assert err.value.code == "PS0011"


# ------------------------------------------------------------------------------------------ tapping

def test_tapping_feed():
    # M10x1.5 at S200: 1.5 mm/rev x 200 rev/min = 300 mm/min; under G94 F is already mm/min.
    assert tapping_feed(1.5, 200, per_revolution=True) == pytest.approx(300.0)
    assert tapping_feed(300.0, 200, per_revolution=False) == 300.0


def test_g84_rigid_tap_reverses_at_the_bottom():
    # M29 S200; G99 G84 Z-15 R5 F300 (G94): feed in at 300 mm/min with lead 300/200 = 1.5 mm/rev, at the
    # bottom dwell P and reverse (M04), feed out to R at the same feed, spindle back to CW (M03) at R.
    d = data("G84", bottom=-15.0, r_level=5.0, feed=tapping_feed(1.5, 200, True), rpm=200, rigid=True,
             dwell=0.2, return_initial=False)
    path = hole(d, START, (0, 0), INITIAL, 9)
    assert steps(path) == [("rapid", (0, 0, 5)), ("feed", (0, 0, -15)), ("dwell", 0.2), ("spindle", -1),
                           ("feed", (0, 0, 5)), ("spindle", 1)]
    taps = [s for s in path if isinstance(s, Segment) and s.kind == "feed"]
    assert [s.feed for s in taps] == [300.0, 300.0] and [s.lead for s in taps] == pytest.approx([1.5, 1.5])


def test_g74_left_hand_tap_and_g98():
    # G98 G74: CCW in, at the bottom CW to come out, CCW again at R, then rapid to the initial level.
    path = hole(data("G74", rpm=200), START, (0, 0), INITIAL, 9)
    assert steps(path) == [("rapid", (0, 0, 2)), ("feed", (0, 0, -10)), ("spindle", 1), ("feed", (0, 0, 2)),
                           ("spindle", -1), ("rapid", (0, 0, 50))]
    assert all(s.lead == 0 for s in path if isinstance(s, Segment))   # floating holder: no synchronised lead


def test_rigid_tap_without_speed_is_ps0200():
    with pytest.raises(Alarm) as err:
        hole(data("G84", rigid=True, rpm=0.0), START, (0, 0), INITIAL, 3)
    assert err.value.code == "PS0200"


# ------------------------------------------------------------------------------------------ boring

def test_g85_and_g89_feed_out():
    path = hole(data("G85", return_initial=False), START, (0, 0), INITIAL, 2)
    assert steps(path) == [("rapid", (0, 0, 2)), ("feed", (0, 0, -10)), ("feed", (0, 0, 2))]
    # G89 is G85 with a dwell at the bottom; under G98 it then rapids up to the initial level.
    path = hole(data("G89", dwell=0.5), START, (0, 0), INITIAL, 2)
    assert steps(path) == [("rapid", (0, 0, 2)), ("feed", (0, 0, -10)), ("dwell", 0.5), ("feed", (0, 0, 2)),
                           ("rapid", (0, 0, 50))]


def test_g86_stops_the_spindle_for_a_rapid_retract():
    # G98 G86: feed in, spindle stop, rapid straight to the initial level, spindle CW there.
    path = hole(data("G86"), START, (0, 0), INITIAL, 2)
    assert steps(path) == [("rapid", (0, 0, 2)), ("feed", (0, 0, -10)), ("spindle", 0), ("rapid", (0, 0, 50)),
                           ("spindle", 1)]


def test_g88_manual_retract():
    path = hole(data("G88", dwell=1.0, return_initial=False), START, (0, 0), INITIAL, 2)
    assert steps(path) == [("rapid", (0, 0, 2)), ("feed", (0, 0, -10)), ("dwell", 1.0), ("spindle", 0),
                           ("manual",), ("rapid", (0, 0, 2)), ("spindle", 1)]


def test_g76_fine_boring_shifts_off_the_wall():
    # G99 G76 X10 Y0 Z-10 R2 Q0.5 P300, shift +X (parameter 5101 RD2 RD1 = 0 0): after the dwell the spindle
    # orients, the tool moves 0.5 to X10.5, rapids out to R, moves back to X10, spindle CW.
    path = hole(data("G76", q=0.5, dwell=0.3, return_initial=False), START, (10, 0), INITIAL, 2)
    assert steps(path) == [("rapid", (10, 0, 50)), ("rapid", (10, 0, 2)), ("feed", (10, 0, -10)),
                           ("dwell", 0.3), ("orient",), ("rapid", (10.5, 0, -10)), ("rapid", (10.5, 0, 2)),
                           ("rapid", (10, 0, 2)), ("spindle", 1)]
    # shift -Y by parameter
    path = hole(data("G76", q=0.5), START, (10, 0), INITIAL, 2, CycleParameters(shift_direction=(0, -1)))
    assert ("rapid", (10, -0.5, -10)) in steps(path) and steps(path)[-2] == ("rapid", (10, 0, 50))


def test_g87_back_boring_from_below():
    # G87 X0 Y0 Z-5 R-32 Q2 F50 from Z50: orient, shift +2 at Z50, rapid down to R-32 (below the part), shift
    # back, spindle CW, feed UP to Z-5, orient, shift, rapid up to Z50, shift back, spindle CW.
    d = data("G87", bottom=-5.0, r_level=-32.0, q=2.0, feed=50.0, return_initial=False)
    path = hole(d, START, (0, 0), INITIAL, 2)
    assert steps(path) == [("orient",), ("rapid", (2, 0, 50)), ("rapid", (2, 0, -32)), ("rapid", (0, 0, -32)),
                           ("spindle", 1), ("feed", (0, 0, -5)), ("orient",), ("rapid", (2, 0, -5)),
                           ("rapid", (2, 0, 50)), ("rapid", (0, 0, 50)), ("spindle", 1)]


# ------------------------------------------------------------------------------------------ planes, repeats

def test_g18_drills_along_y():
    # G18: plane (Z, X), drilling axis Y. Hole at Z5 X10, R level Y2, bottom Y-8, from (0, 30, 0).
    d = data("G81", bottom=-8.0, r_level=2.0, plane="G18", return_initial=False)
    path = hole(d, (0.0, 30.0, 0.0), (5.0, 10.0), 30.0, 1)
    assert steps(path) == [("rapid", (10, 30, 5)), ("rapid", (10, 2, 5)), ("feed", (10, -8, 5)),
                           ("rapid", (10, 2, 5))]


def test_k_repeats_incremental():
    # G91 G99 G81 X10 Y5 Z-12 R-48 K3 from (0, 0, 50): R = 50-48 = 2, Z = 2-12 = -10 (the interpreter
    # resolves these); holes at (10, 5), (20, 10), (30, 15).
    positions = repeat_positions((10, 5), (10, 5), 3)
    assert positions == [(10, 5), (20, 10), (30, 15)]
    path = holes(data("G81", return_initial=False), START, positions, INITIAL, 4)
    bottoms = [s.end for s in path if isinstance(s, Segment) and s.kind == "feed"]
    assert bottoms == [(10, 5, -10), (20, 10, -10), (30, 15, -10)] and chained(path)
    assert path[-1].end == (30, 15, 2)


# ------------------------------------------------------------------------------------------ properties

ANY_CODE = st.sampled_from(cycles.DRILLING_CODES)


@given(ANY_CODE, st.booleans(), st.floats(5, 100), st.floats(-5, 5), st.floats(0.5, 40), st.floats(0.1, 5),
       st.floats(-50, 50), st.floats(-50, 50))
def test_every_cycle_ends_where_g98_g99_say(code, g98, initial, r, depth, q, hx, hy):
    """Property: the last move ends over the hole at the initial level (G98, and always for G87) or at
    point R (G99); nothing goes deeper than the Z point; feeds end between R and Z."""
    bottom = r - depth if code != "G87" else r + depth
    if code == "G87":
        r, bottom = r - 40, r - 40 + depth       # back boring: R below the part, Z above it
    d = CycleData(code, bottom, r, 120.0, return_initial=g98, q=q, dwell=0.1, rpm=500, rigid=True)
    path = hole(d, (1.0, 2.0, initial), (hx, hy), initial, 1)
    moves = [s for s in path if isinstance(s, Segment)]
    expected_level = initial if (g98 or code == "G87") else r
    assert moves[-1].end == pytest.approx((hx, hy, expected_level), abs=1e-9)
    assert chained(path)
    lo, hi = min(r, bottom), max(r, bottom)
    for s in moves:
        if code != "G87":
            assert s.end[2] >= bottom - 1e-9
        if s.kind == "feed":
            # a G73 retract of d = 0.6 after a peck shorter than d starts the next feed above R
            assert lo - 1e-9 <= s.start[2] <= hi + 0.6 + 1e-9 and lo - 1e-9 <= s.end[2] <= hi + 1e-9
            assert (s.start[0], s.start[1]) == pytest.approx((hx, hy))
    assert any(s.kind == "feed" and s.end[2] == pytest.approx(bottom) for s in moves)
