"""The mill machine session: offset pages, manual moves that cut, heightmap tiles, interlocks, replay."""
import dataclasses
import math

import numpy as np
import pytest

from simulators.cnc_mill import measure
from simulators.cnc_mill import offset_page as page
from simulators.cnc_mill.heightmap import Heightmap
from simulators.cnc_mill.interpreter import power_on_state
from simulators.cnc_mill.machine import default_setup, setup_from_dict
from simulators.cnc_mill.manual import SpindleState, manual_move
from simulators.cnc_mill.session import MillSession, replay
from simulators.cnc_mill.tiles import TileTracker, decode, motion_box
from simulators.cnc_mill.workpiece import Workpiece
from simulators.core.panel import Keyed, KeyInError, parse_keyed
from simulators.core.trace import event


def _tables():
    return power_on_state(default_setup()).tables


# ------------------------------------------------------------------------------------------ offset pages

def test_keyed_text_follows_the_decimal_point_rule():
    assert parse_keyed("X-5.") == Keyed("X", -5.0)
    assert parse_keyed("z50.") == Keyed("Z", 50.0)
    assert parse_keyed("0.02") == Keyed(None, 0.02)
    assert parse_keyed("12").value == pytest.approx(0.012)     # no point: 12 × 0.001 mm
    assert parse_keyed("12", decimal_point_input=True).value == 12.0      # parameter DPI on: mm
    for bad in ("X", "X--1", "1.2.3", "", "XY5."):
        with pytest.raises(KeyInError, match="FORMAT ERROR"):
            parse_keyed(bad)


def test_tool_page_input_sets_and_plus_input_adds():
    t = _tables()
    assert page.tool_line(t, 1).length == 95.0                      # default preset H1 = T1 gauge length
    t2 = page.input_tool(t, 1, "h", 120.5)
    assert page.tool_line(t2, 1).length == 120.5 and page.tool_line(t, 1).length == 95.0   # old tables kept
    t3 = page.input_tool(t2, 1, "h", -0.5, add=True)                # 120.5 − 0.5
    assert page.tool_line(t3, 1).length == 120.0
    t4 = page.input_tool(page.input_tool(t3, 7, "d_wear", 0.02), 7, "d_wear", 0.01, add=True)
    assert page.tool_line(t4, 7).radius_wear == pytest.approx(0.03)  # 0.02 + 0.01
    assert page.tool_line(t4, 7).d == pytest.approx(8.03)           # D7 = 16 / 2 + 0.03


@pytest.mark.parametrize("number, field, value", [(0, "h", 1.0), (201, "h", 1.0), (1, "q", 1.0),
                                                  (1, "h", 1000.0), (1, "h", float("nan"))])
def test_tool_page_refuses_bad_input(number, field, value):
    with pytest.raises(page.PageWarning):
        page.input_tool(_tables(), number, field, value)


def test_work_page_input_add_and_ext():
    t = page.input_work(_tables(), "G55", "x", -300.0)
    t = page.input_work(t, "G55", "x", -0.25, add=True)
    assert page.work_offset(t, "G55") == (-300.25, 0.0, 0.0)
    t = page.input_work(t, "G54.1P48", "z", -12.0)
    assert t.work_offset("G54.1P48") == (0.0, 0.0, -12.0)
    t = page.input_work(t, "EXT", "z", 0.5)
    assert t.external == (0.0, 0.0, 0.5)
    with pytest.raises(page.PageWarning):
        page.input_work(t, "G60", "x", 1.0)
    with pytest.raises(page.PageWarning):
        page.input_work(t, "G54.1P49", "x", 1.0)


def test_work_measure_with_an_edge_finder_on_the_left_face():
    # Default block: x −50..50 in the work frame, part origin machine X −400 → left face at machine −450.
    # A Ø10 edge finder kicks with its centre one radius left of the face: machine X −455. The operator wants
    # the origin at the block centre, so the spindle centre reads X−55.: G54 X = −455 − 0 − (−55) = −400.
    t = page.input_work(_tables(), "G54", "x", 0.0)
    t = page.measure_work(t, "G54", "x", -55.0, (-455.0, -123.0, -200.0))
    assert page.work_offset(t, "G54")[0] == pytest.approx(-400.0)
    # With an external shift X 0.5 the offset compensates it: −455 − 0.5 + 55 = −400.5
    t = page.input_work(t, "EXT", "x", 0.5)
    t = page.measure_work(t, "G54", "x", -55.0, (-455.0, -123.0, -200.0))
    assert page.work_offset(t, "G54")[0] == pytest.approx(-400.5)


def test_tool_length_measure_on_a_z_setter_both_conventions():
    # T1 gauge length 95; the top face is where the gauge line sits at machine Z −420, so the tip touches the
    # top at gauge −325 and the top of a 50.000 setter standing on the top face at gauge −275.
    t = page.input_work(_tables(), "G54", "z", 0.0)
    t = page.measure_tool_length(t, 1, -275.0, "G54", 50.0)
    assert page.tool_line(t, 1).length == pytest.approx(-325.0)      # G54 Z0: H = −275 − 0 − 50
    t = page.input_work(t, "G54", "z", -420.0)
    t = page.measure_tool_length(t, 1, -275.0, "G54", 50.0)
    assert page.tool_line(t, 1).length == pytest.approx(95.0)        # G54 Z−420: H = −275 + 420 − 50


# ------------------------------------------------------------------------------------------ manual moves

def test_manual_feed_stops_at_the_stroke_limit_with_ot_alarm():
    setup = default_setup()                                          # stroke X −800..0
    move = manual_move(setup, (-10.0, 0.0, 0.0), "x", 25.0, 1000.0, False, SpindleState())
    assert move.motion.end == (0.0, 0.0, 0.0) and move.alarm.code == "OT0500"
    assert move.motion.seconds == pytest.approx(0.6)                 # 10 mm at 1000 mm/min = 0.6 s
    unref = manual_move(setup, (-10.0, 0.0, 0.0), "x", 25.0, 1000.0, False, SpindleState(), referenced=False)
    assert unref.motion.end == (15.0, 0.0, 0.0) and unref.alarm is None     # not armed before reference return
    stuck = manual_move(setup, (0.0, 0.0, 0.0), "z", 1.0, 1000.0, True, SpindleState())
    assert stuck.motion is None and stuck.alarm.code == "OT0500"
    down = manual_move(setup, (0.0, 0.0, -500.0), "Z", -20.0, 2000.0, True, SpindleState())
    assert down.motion.end[2] == -510.0 and down.alarm.code == "OT0501" and down.motion.kind == "rapid"


def _slot_by_hand():
    """T1 Ø10 at 1000 rpm: down in Z to 3 mm below the top beside the block, then X across it at 200 mm/min."""
    wp = Workpiece()
    spin = SpindleState(rpm=1000.0, direction=1, tool=1)
    setup = default_setup()
    # gauge for tip at work Z −3: machine −420 + 95 − 3 = −328; left of the block: x work −60 → machine −460
    start = (-460.0, -250.0, -200.0)
    moves = [manual_move(setup, start, "z", -128.0, 2000.0, False, spin),
             manual_move(setup, (-460.0, -250.0, -328.0), "x", 80.0, 200.0, False, spin)]
    crashes = [wp.apply(m.motion) for m in moves]
    return wp, moves, crashes


def test_a_jogged_slot_cuts_like_a_program_move():
    wp, moves, crashes = _slot_by_hand()
    assert crashes == [[], []]
    # tool centre from work x −60 to +20 at y 0, tip at z −3: a slot 10 wide (y −5..5), floor at −3, round end
    # at x 20 + 5 = 25
    assert measure.depth(wp, -20.0, 0.0) == pytest.approx(3.0, abs=1e-9)
    assert measure.gap(wp, (-20.0, 0.0, -1.0), (0, 1))["width"] == pytest.approx(10.0, abs=1e-6)
    assert measure.top_z(wp, 24.9, 0.0) == pytest.approx(-3.0, abs=1e-9)
    assert measure.top_z(wp, 25.1, 0.0) == pytest.approx(0.0)
    assert moves[1].motion.seconds == pytest.approx(24.0)          # 80 mm at 200 mm/min


def test_manual_rapid_into_the_stock_is_a_crash():
    wp = Workpiece()
    spin = SpindleState(rpm=1000.0, direction=1, tool=1)
    # tip from 5 above the top to 1 below it over the block centre (gauge −320 → −326)
    move = manual_move(default_setup(), (-400.0, -250.0, -320.0), "z", -6.0, 20000.0, True, spin)
    kinds = [c.kind for c in wp.apply(move.motion)]
    assert kinds == ["rapid_into_stock"]


def test_manual_feed_with_the_spindle_stopped_is_a_crash():
    wp = Workpiece()
    move = manual_move(default_setup(), (-400.0, -250.0, -320.0), "z", -6.0, 100.0, False, SpindleState(tool=1))
    assert [c.kind for c in wp.apply(move.motion)] == ["spindle_stopped_cut"]


# ------------------------------------------------------------------------------------------ tiles

def test_only_changed_tiles_are_sent_and_decode_to_the_heightmap():
    wp, moves, _ = _slot_by_hand()
    tracker = TileTracker(Workpiece().grid)          # what the browser had: the raw block
    tracker.grid = wp.grid
    for m in moves:
        tool_radius = 5.0
        start = wp.to_work(m.motion.start)
        end = wp.to_work(m.motion.end)
        tracker.touch(motion_box(start, end, None, tool_radius, False))
    tiles = tracker.changed()
    # the slot covers x −50..25 (cells 0..749), y −5..5 (cells 350..449) of the 1000 × 800 grid:
    # tile columns 0..23 (749 // 32 = 23), tile rows 10..14 (350 // 32 = 10, 449 // 32 = 14) → 24 × 5 tiles,
    # less the two corner tiles of the round end: tile column 23 starts at x 23.6 (cell 736), and in tile rows
    # 10 and 14 the slot's cells are at |y| ≥ 4.85, where the R5 end around x 20 reaches only
    # x 20 + √(25 − 4.85²) = 21.2 < 23.6
    assert len(tiles) == 24 * 5 - 2
    assert {t["row"] for t in tiles} == {10, 11, 12, 13, 14}
    one = next(t for t in tiles if (t["row"], t["col"]) == (12, 5))
    values = decode(one)
    assert values.shape == (32, 32)
    np.testing.assert_array_equal(values, wp.heightmap()[384:416, 160:192])
    assert tracker.changed() == []                   # nothing new since
    assert len(tracker.all_cut()) == 24 * 5 - 2


def test_tracker_describes_its_grid():
    tracker = TileTracker(Heightmap(Workpiece().raw))
    d = tracker.describe()
    assert d["shape"] == [800, 1000] and d["tiles"] == [25, 32]      # ceil(800/32) = 25, ceil(1000/32) = 32
    assert d["origin"] == [-50.0, -40.0] and d["cell"] == pytest.approx([0.1, 0.1])


def test_motion_box_of_an_arc_covers_its_circle():
    box = motion_box((10.0, 0.0, -1.0), (0.0, 10.0, -1.0), (0.0, 0.0, -1.0), 2.0, True)
    assert box == pytest.approx((-12.0, 12.0, -12.0, 12.0))          # circle R10 ± tool radius 2
    assert not math.isnan(box[0])


def test_setup_from_dict_keeps_the_default_frames():
    setup = setup_from_dict({})
    assert setup.part_origin == (-400.0, -250.0, -420.0)


# ------------------------------------------------------------------------------------------ the session



class Keys:
    """Feeds events with increasing seq; ``ok`` asserts the control accepted (or refused) the event."""

    def __init__(self, machine=None):
        self.session = MillSession(machine or {})
        self.events = []

    def __call__(self, type_, payload=None, ok=True):
        ev = event(len(self.events) + 1, type_, payload or {})
        self.events.append(ev)
        reply = self.session.apply(ev)
        if ok is not None:
            assert reply["ok"] is ok, (type_, payload, reply["reason"])
        return reply

    @property
    def position(self):
        return self.session.model.position


def _ready(tools=(1,), protrusion=None):
    """Power on, referenced, stock clamped, ``tools`` in their pockets, T of the first one in the spindle."""
    k = Keys()
    k("power", {"on": True})
    k("mode", {"mode": "REF"})
    for axis in "ZXY":
        k("ref_return", {"axis": axis})
    k("load_stock", {} if protrusion is None else {"protrusion": protrusion})
    k("vise", {"closed": True})
    for t in tools:
        k("load_tool", {"pocket": t, "tool": t})
    k("mode", {"mode": "JOG"})
    k("spindle_tool", {"pocket": tools[0]})
    return k


def _jog_to(k, axis, target, rapid=True):
    """Rapid or 1000 mm/min jog, then INC steps of 1, 0.1, 0.01, 0.001 to the exact target (machine)."""
    index = "XYZ".index(axis)
    k("mode", {"mode": "JOG"}, ok=None)
    rate = (20000.0 if axis == "Z" else 24000.0) if rapid else 1000.0
    grain = (3 if axis == "Z" else 5) if rapid else 3      # ms that make whole mm: 1/3, 0.4 or 1/60 mm per ms
    ms = int(abs(target - k.position[index]) / (rate / 60000.0)) - 1
    ms -= ms % grain if rapid else ms % 60
    if ms > 0:
        k("jog", {"axis": axis, "direction": 1 if target > k.position[index] else -1, "ms": ms, "rapid": rapid})
    k("mode", {"mode": "INC"})
    for step in (1.0, 0.1, 0.01, 0.001):
        k("increment", {"mm": step})
        for _ in range(int(round(abs(target - k.position[index]) / step, 6))):
            k("step", {"axis": axis, "direction": 1 if target > k.position[index] else -1})
    assert k.position[index] == pytest.approx(target, abs=1e-6)


def test_offset_events_set_add_measure_and_refuse():
    k = _ready()
    k("offset", {"page": "geometry", "number": "1", "axis": "H", "value": 100.0, "op": "input"})
    reply = k("offset", {"page": "wear", "number": "1", "axis": "H", "value": -0.05, "op": "add"})
    assert reply["result"]["h"] == 100.0 and reply["result"]["h_wear"] == -0.05
    k("offset", {"page": "geometry", "number": "1", "axis": "D", "value": 5.0, "op": "input"})
    k("offset", {"page": "wear", "number": "1", "axis": "D", "value": 0.02, "op": "add"})
    line = k.session.model.tables.tools[1]
    assert (line.h, line.d) == (pytest.approx(99.95), pytest.approx(5.02))   # 100 − 0.05, 5 + 0.02
    # the screen numbers the work page 00 (EXT), 01 (G54)…: "02" is G55
    k("offset", {"page": "work", "number": "02", "axis": "X", "value": -300.0, "op": "input"})
    k("offset", {"page": "work", "number": "G55", "axis": "X", "value": 0.5, "op": "add"})
    assert k.session.model.tables.work["G55"][0] == -299.5
    # measure at the reference (machine 0, 0, 0) with Y−20.: G55 Y = 0 − 0 − (−20) = 20
    k("offset", {"page": "work", "number": "G55", "axis": "Y", "value": -20.0, "op": "measure"})
    assert k.session.model.tables.work["G55"][1] == 20.0
    machine = k.session.view()["machine"]
    assert machine["offsets"] == {"1": {"h": 100.0, "h_wear": -0.05, "d": 5.0, "d_wear": 0.02}}
    assert machine["work_offsets"]["G55"] == {"x": -299.5, "y": 20.0, "z": 0.0}
    assert "G54.1P1" not in machine["work_offsets"]                 # zero extended systems are not listed
    before = k.session.view()
    for payload, reason in (({"page": "geometry", "number": "201", "axis": "H", "value": 1.0, "op": "input"},
                             "DATA IS OUT OF RANGE"),
                            ({"page": "geometry", "number": "1", "axis": "X", "value": 1.0, "op": "input"},
                             "FORMAT ERROR"),
                            ({"page": "wear", "number": "1", "axis": "H", "value": 1.0, "op": "measure"},
                             "EDIT REJECTED"),
                            ({"page": "work", "number": "G60", "axis": "X", "value": 1.0, "op": "input"},
                             "DATA IS OUT OF RANGE"),
                            ({"page": "work", "number": "G54", "axis": "X", "value": 1e6, "op": "input"},
                             "DATA IS OUT OF RANGE")):
        assert k("offset", payload, ok=False)["reason"] == reason
    after = k.session.view()
    assert after["machine"] == before["machine"]


def test_a_slot_jogged_by_hand_has_the_hand_computed_floor_and_walls():
    # T1 Ø10 at 800 rpm. Tip 2 below the top over stock x −60 (left of the block): gauge machine
    # Z = −420 + 95 − 2 = −327, X = −400 − 60 = −460, Y = −250 + 10 = −240 (stock y 10).
    k = _ready()
    k("spindle", {"command": "cw", "rpm": 800})
    _jog_to(k, "X", -460.0)
    _jog_to(k, "Y", -240.0)
    _jog_to(k, "Z", -327.0)
    k("mode", {"mode": "JOG"})
    k("override", {"which": "jog_feed", "value": 300})
    # 300 mm/min for 8000 ms = 40 mm: centre from stock x −60 to −20
    reply = k("jog", {"axis": "X", "direction": 1, "ms": 8000})
    assert k.position[0] == pytest.approx(-420.0)
    assert reply["new_crashes"] == [] and reply["stock"]["tiles"]
    wp = k.session.model.workpiece
    # slot: y 10 ± 5, floor −2, from the block's left face x −50 to the round end at −20 + 5 = −15
    assert measure.depth(wp, -30.0, 10.0) == pytest.approx(2.0, abs=1e-9)
    width = measure.gap(wp, (-30.0, 10.0, -1.0), (0, 1))
    assert width["width"] == pytest.approx(10.0, abs=1e-6)
    assert width["plus"][1] == pytest.approx(15.0, abs=1e-6) and width["minus"][1] == pytest.approx(5.0, abs=1e-6)
    assert measure.top_z(wp, -15.1, 10.0) == pytest.approx(-2.0) and measure.top_z(wp, -14.9, 10.0) == 0.0
    assert k.session.time_s > 8.0


def test_rapid_jog_into_the_stock_is_a_crash_with_its_seq():
    k = _ready()
    k("spindle", {"command": "cw", "rpm": 800})
    _jog_to(k, "X", -400.0)
    _jog_to(k, "Y", -250.0)
    _jog_to(k, "Z", -322.0)          # tip 3 above the top: −420 + 95 + 3
    k("mode", {"mode": "JOG"})
    # 20000 mm/min for 30 ms = 10 mm down: the tip reaches 7 below the top at rapid
    reply = k("jog", {"axis": "Z", "direction": -1, "ms": 30, "rapid": True})
    crash = reply["new_crashes"][0]
    assert crash["kind"] == "rapid_into_stock" and crash["seq"] == len(k.events)
    assert [a["code"] for a in reply["alarms"]] == ["EX1100"]
    k("mode", {"mode": "MDI"})
    k("mdi", {"text": "G91 G00 Z10."})
    assert k("cycle_start", ok=False)["reason"] == "alarm: reset first"
    k("reset")
    assert k.session.summary()["crashes"][0]["seq"] == crash["seq"]


def test_cutting_with_the_vise_open_is_a_crash():
    k = _ready()
    k("vise", {"closed": False})
    k("spindle", {"command": "cw", "rpm": 800})
    _jog_to(k, "X", -460.0)
    _jog_to(k, "Y", -250.0)
    _jog_to(k, "Z", -327.0)                     # tip 2 below the top, left of the block
    k("mode", {"mode": "JOG"})
    reply = k("jog", {"axis": "X", "direction": 1, "ms": 1000})        # 1000 mm/min × 1 s: 16.7 mm, into it
    assert [c["kind"] for c in reply["new_crashes"]] == ["stock_not_clamped"]


def test_interlocks_and_refused_keys_change_nothing():
    k = Keys()
    assert k("jog", {"axis": "X", "direction": 1, "ms": 100}, ok=False)["reason"] == "the control is off"
    k("power", {"on": True})
    k("mode", {"mode": "EDIT"})
    assert not k("jog", {"axis": "X", "direction": 1, "ms": 100}, ok=False)["ok"]        # jog ignored in EDIT
    k("mode", {"mode": "JOG"})
    k("jog", {"axis": "X", "direction": -1, "ms": 600})      # before reference return: feed jog works
    assert k.position[0] == pytest.approx(-10.0)             # 1000 mm/min × 0.6 s
    k("jog", {"axis": "X", "direction": -1, "ms": 100, "rapid": True}, ok=False)    # no rapid before REF
    k("mode", {"mode": "MDI"})
    k("mdi", {"text": "G91 G01 X1. F100"})
    reply = k("cycle_start")
    assert [a["code"] for a in reply["new_alarms"]] == ["PS0224"]
    k("reset")
    k("mode", {"mode": "JOG"})
    k("vise", {"closed": True})
    assert k("load_stock", {}, ok=False)["reason"] == "open the vise first"
    k("vise", {"closed": False})
    assert not k("load_stock", {"protrusion": 30}, ok=False)["ok"]          # not less than the 30 high block
    k("load_stock", {"protrusion": 20})
    assert k.session.model.part_origin() == (-400.0, -250.0, -412.0)       # jaw tops −432, + 20
    k("load_tool", {"pocket": 5, "tool": 2})
    assert not k("load_tool", {"pocket": 5, "tool": 1}, ok=False)["ok"]     # pocket taken
    assert not k("load_tool", {"pocket": 25, "tool": 1}, ok=False)["ok"]    # 24-pocket magazine
    assert not k("load_tool", {"pocket": 6, "tool": 99}, ok=False)["ok"]    # not in the crib
    k("spindle_tool", {"pocket": 5})
    assert k.session.model.modal.tool == 5
    assert k.session.model.magazine[5].diameter == 6.0                      # crib T2, Ø6, now T5
    assert not k("remove_tool", {"pocket": 5}, ok=False)["ok"]              # it is in the spindle
    assert not k("spindle_tool", {"probe": "edge_finder"}, ok=False)["ok"]  # take T5 out first
    k("spindle", {"command": "cw", "rpm": 1000})
    assert not k("vise", {"closed": True}, ok=False)["ok"]                  # spindle turning
    assert not k("spindle_tool", {"pocket": 0}, ok=False)["ok"]
    k("spindle", {"command": "stop"})
    k("spindle_tool", {"pocket": 0})
    k("remove_tool", {"pocket": 5})
    assert k.session.model.magazine == {}


def test_m06_to_an_empty_pocket_alarms():
    k = _ready()
    k("mode", {"mode": "MDI"})
    k("mdi", {"text": "T7 M06"})
    reply = k("cycle_start")
    k("mode", {"mode": "JOG"})
    codes = [a["code"] for a in k.session.summary()["alarms"]]
    assert codes == ["EX1003"] and reply["ok"]


def test_feed_hold_at_ms_cuts_exactly_up_to_there():
    # MDI: T1 tip 1 below the top at stock (−60, 0), then G01 X-20. at F600: 40 mm in 4 s.
    k = _ready()
    k("offset", {"page": "work", "number": "G54", "axis": "X", "value": -400.0, "op": "input"})
    k("offset", {"page": "work", "number": "G54", "axis": "Y", "value": -250.0, "op": "input"})
    k("offset", {"page": "work", "number": "G54", "axis": "Z", "value": -420.0, "op": "input"})
    k("offset", {"page": "geometry", "number": "1", "axis": "H", "value": 95.0, "op": "input"})
    k("mode", {"mode": "MDI"})
    k("mdi", {"text": "S1000 M03\nG90 G54 G00 X-60. Y0\nG43 H1 Z-1.\nG01 X-20. F600"})
    reply = k("cycle_start")
    moves = [m for m in reply["motions"] if m["kind"] == "feed"]
    assert moves and moves[-1]["seconds"] == pytest.approx(4.0)
    before_feed = sum(m["seconds"] for m in reply["motions"][:-1])
    at_ms = int(round((before_feed + 1.0) * 1000))          # 1 s into the feed: centre at x −60 + 10 = −50
    hold = k("feed_hold", {"at_ms": at_ms})
    assert hold["status"] == "held"
    assert k.position[0] == pytest.approx(-450.0, abs=1e-6)
    wp = k.session.model.workpiece
    assert measure.top_z(wp, -46.0, 0.0) == pytest.approx(-1.0)     # cut to the tool's edge at −50 + 5
    assert measure.top_z(wp, -44.0, 0.0) == 0.0
    k("cycle_start")
    k("mode", {"mode": "JOG"})                                      # plays the rest out
    assert k.position[0] == pytest.approx(-420.0, abs=1e-6)
    assert measure.top_z(wp, -16.0, 0.0) == pytest.approx(-1.0) and measure.top_z(wp, -14.0, 0.0) == 0.0


def test_edge_finder_reads_but_never_cuts():
    k = _ready()
    k("spindle_tool", {"pocket": 0})
    k("spindle_tool", {"probe": "edge_finder"})
    _jog_to(k, "Y", -250.0)
    _jog_to(k, "X", -470.0)
    _jog_to(k, "Z", -330.0)                 # tip bottom 100 below the gauge: stock z −10
    assert k("measure", {"instrument": "edge_finder"})["result"]["state"] == "not_turning"
    k("spindle", {"command": "cw", "rpm": 500})
    assert k("measure", {"instrument": "edge_finder"})["result"]["state"] == "clear"
    _jog_to(k, "X", -455.0)
    assert k("measure", {"instrument": "edge_finder"})["result"]["state"] == "kick"
    _jog_to(k, "X", -454.9)
    assert k("measure", {"instrument": "edge_finder"})["result"]["state"] == "pushed"
    assert measure.top_z(k.session.model.workpiece, -49.95, 0.0) == 0.0      # nothing cut
    assert k.session.crashes == []


def test_invalid_events_are_recorded_and_harmless():
    k = _ready()
    before = k.session.view()
    junk = ["not an event", {"v": 2, "seq": 99, "t_client": 0, "type": "reset", "payload": {}},
            event(99, "warp", {}), event(99, "jog", {"axis": "X"}), event(99, "vise", {"closed": "yes"}),
            event(99, "load_tool", {"pocket": 1.5, "tool": 1}), event(1, "reset", {}),
            event(99, "offset", {"page": "work", "number": "G54", "axis": "X", "value": float("nan"), "op": "input"})]
    for ev in junk:
        reply = k.session.apply(ev)
        assert reply["ok"] is False and reply["reason"]
    assert k.session.view() == before
    assert len(k.session.summary()["invalid_events"]) == len(junk)


def _random_trace(seed: int, n: int) -> list:
    """A long operation trace: set-up with T1 1 below the top over the block, then ``n`` random actions (a few
    events each: jogs and handle moves that cut, INC steps, MDI runs interrupted by feed hold at random playback
    positions, offsets, spindle, coolant, resets, keys in the wrong mode and junk)."""
    import random
    rng = random.Random(seed)
    k = _ready(tools=(1, 2))
    k("spindle", {"command": "cw", "rpm": 1000})
    _jog_to(k, "X", -430.0)
    _jog_to(k, "Y", -250.0)
    _jog_to(k, "Z", -326.0)
    events = list(k.events)

    def jog():
        return [("mode", {"mode": "JOG"}), ("jog", {"axis": rng.choice("XY"), "direction": rng.choice((1, -1)),
                                                    "ms": rng.randrange(50, 900)})]

    def handle():
        return [("mode", {"mode": "HANDLE"}), ("handle_axis", {"axis": rng.choice("XY")}),
                ("increment", {"mm": rng.choice((0.01, 0.1))}), ("handle", {"pulses": rng.randrange(-60, 61)})]

    def step():
        return [("mode", {"mode": "INC"}), ("increment", {"mm": rng.choice((0.001, 0.01, 0.1, 1.0))}),
                ("step", {"axis": rng.choice("XYZ"), "direction": rng.choice((1, -1))})]

    def mdi():
        text = rng.choice(["G91 G01 X6. F300", "G91 G01 Y-4. F200", "G91 G01 X-5. Y3. F400", "S800 M03",
                           "G91 G02 X4. Y4. R4. F300"])
        return [("mode", {"mode": "MDI"}), ("mdi", {"text": text}), ("cycle_start", {}),
                ("feed_hold", {"at_ms": rng.randrange(0, 1500)}), ("cycle_start", {})]

    def single():
        return [rng.choice([("offset", {"page": "wear", "number": str(rng.randrange(1, 4)), "axis": "H",
                                        "value": rng.choice((0.01, -0.02)), "op": "add"}),
                            ("reset", {}), ("spindle", {"command": rng.choice(("cw", "stop"))}),
                            ("coolant", {"on": rng.choice((True, False))}), ("warp", {}),
                            ("jog", {"axis": "X", "direction": 1, "ms": 100}),
                            ("mode", {"mode": rng.choice(["EDIT", "MEM", "REF"])})])]

    actions = [jog, jog, handle, step, mdi, mdi, single, single]
    for _ in range(n):
        for type_, payload in rng.choice(actions)():
            events.append(event(len(events) + 1, type_, payload))
    return events


def test_every_prefix_replays_to_the_state_the_live_session_had():
    events = _random_trace(7, 90)
    live = MillSession({})
    views, cut = [], 0
    for ev in events:
        cut += bool((live.apply(ev)["stock"] or {}).get("tiles"))
        views.append(live.view())
    assert len(events) >= 300 and cut > 20              # the trace does cut the stock many times
    for k in list(range(0, len(events), 13)) + [len(events) - 1]:
        again = replay({}, events[:k + 1])
        assert again.view() == views[k], f"prefix of {k + 1} events"
    assert replay({}, events).summary() == live.summary()


def test_summary_measures_items_and_grades_offsets_for_a_work_zero():
    k = _ready()
    summary = k.session.summary(items=[{"id": "top", "label": "顶面", "operator": "depth", "args": {"at": [0, 0]},
                                        "nominal": 0.0, "upper": 0.1, "lower": -0.1}],
                                work_zero={"x": -50.0, "y": -40.0, "z": 0.0})
    assert summary["measurements"][0]["measured"] == pytest.approx(0.0) and summary["measurements"][0]["ok"]
    # offsets all zero: G54 X error = 0 − (−400 − 50) = 450 for the front-left corner zero
    errors = summary["offset_errors"]
    assert errors["x"] == pytest.approx(450.0) and errors["y"] == pytest.approx(290.0)


def test_pressing_the_z_setter_past_its_travel_is_a_crash():
    # T1 (gauge length 95) over the setter standing on the top face at stock (0, 0): the dial reads 0 with the
    # gauge at −420 + 95 + 50 = −275; at −277.5 the plunger is 2.5 down, past its 2 mm travel.
    k = _ready()
    _jog_to(k, "X", -400.0)
    _jog_to(k, "Y", -250.0)
    _jog_to(k, "Z", -274.5)
    assert k("measure", {"instrument": "z_setter", "placement": {"at": [0, 0]}})["result"]["value"] == 0.5
    _jog_to(k, "Z", -277.5)
    reply = k("measure", {"instrument": "z_setter", "placement": {"at": [0, 0]}})
    assert reply["result"]["value"] is None and [c["kind"] for c in reply["new_crashes"]] == ["instrument_crash"]


def test_the_stock_goes_out_whole_on_load_and_clamp_then_as_tiles():
    k = Keys()
    k("power", {"on": True})
    reply = k("load_stock", {"protrusion": 15})
    stock = reply["stock"]
    assert stock["loaded"] and not stock["vise_closed"] and stock["tiles"] == []       # nothing cut yet
    assert stock["part_origin"] == [-400.0, -250.0, -417.0]                           # −432 + 15
    assert stock["heightmap"]["shape"] == [800, 1000]
    assert k("vise", {"closed": True})["stock"]["vise_closed"] is True
    assert k("coolant", {"on": True})["stock"] is None                                 # no change
    k("vise", {"closed": False})
    assert k("unload_stock")["stock"]["loaded"] is False


def test_every_offset_line_exists_though_zero():
    # the pages start at zero, but H5/D7 are still valid numbers: G43 H5 with H5 = 0 moves nothing, no PS0030
    k = _ready()
    k("mode", {"mode": "MDI"})
    k("mdi", {"text": "G90 G43 H5 G00 Z0\nG41 D7 G01 X-10. F100\nG40 X0"})
    k("cycle_start")
    k("mode", {"mode": "JOG"})
    assert k.session.alarm_log == []
    assert k.session.model.tables.tools[5].h == 0.0 and len(k.session.model.tables.tools) == 200


def test_random_payloads_never_raise():
    """Every event type with random values of every JSON kind, in a prepared machine: the fold never raises."""
    import random
    rng = random.Random(5)
    k = _ready(tools=(1, 2, 3))
    values = [0, 1, -1, 7, 250, 1e9, -3.5, 0.001, True, False, None, "", "X", "G54", "edge_finder", "H", "1",
              [0, 0, -1], [1], {}, {"at": [0, 0]}, {"point": [0, 0, -1], "direction": "x"}]
    types = sorted(k.session.types)
    for n in range(1500):
        type_ = rng.choice(types)
        spec = k.session.types[type_]
        payload = {key: rng.choice(values) for key in spec if rng.random() < 0.9}
        if rng.random() < 0.2:
            payload["at_ms"] = rng.choice((0, 10, 5000, -1))
        k(type_, payload, ok=None)
    summary = k.session.summary(items=[{"id": "d", "label": "d", "operator": "depth", "args": {"at": [0, 0]},
                                        "limits": [0, 1]}])
    assert summary["events"] == len(k.events) and len(summary["invalid_events"]) > 100


def test_reset_part_way_keeps_the_state_of_the_blocks_really_played():
    # The plan runs ahead of the playback: reset during the long feed must leave T1 in the spindle, not the T2
    # of the M06 planned after it, and G55 (set by the unplayed G10) untouched.
    k = _ready(tools=(1, 2))
    k("mode", {"mode": "MDI"})
    k("mdi", {"text": "S1000 M03\nG91 G01 X-100. F100\nG10 L2 P2 X-123.\nT2 M06"})
    reply = k("cycle_start")
    assert [m["kind"] for m in reply["motions"]][-1] == "tool_change"
    k("feed_hold", {"at_ms": 6000})                     # 6 s of the 60 s feed: 10 mm
    assert k.position[0] == pytest.approx(-10.0)
    k("reset")
    model = k.session.model
    assert model.modal.tool == 1 and model.tables.work["G55"] == (0.0, 0.0, 0.0)
    assert model.modal.spindle_dir == 0                 # reset stops the spindle


def test_reference_return_of_x_with_the_tool_in_the_stock_crashes():
    # Why Z goes home first: with T1's tip 2 below the top inside the block (stock x −20), X home is a rapid
    # through the material to machine X 0.
    k = _ready()
    k("spindle", {"command": "cw", "rpm": 800})
    _jog_to(k, "X", -420.0)
    _jog_to(k, "Y", -250.0)
    _jog_to(k, "Z", -322.0)
    k("mode", {"mode": "JOG"})
    k("override", {"which": "jog_feed", "value": 50})
    k("jog", {"axis": "Z", "direction": -1, "ms": 6000})      # 50 mm/min × 6 s = 5 mm: tip from 3 above to 2 below
    assert k("mode", {"mode": "REF"})["new_crashes"] == []
    reply = k("ref_return", {"axis": "X"})
    assert [c["kind"] for c in reply["new_crashes"]] == ["rapid_into_stock"]
    assert "X" in k.session.referenced                         # it was referenced at the start
    assert k.position[0] == 0.0


def test_driving_the_edge_finder_into_the_top_face_is_a_crash():
    # tip bottom 100 below the gauge line: over the block centre the tip touches the top at gauge −320;
    # 2 mm lower (−322) its bottom is in the material
    k = _ready()
    k("spindle_tool", {"pocket": 0})
    k("spindle_tool", {"probe": "edge_finder"})
    _jog_to(k, "X", -400.0)
    _jog_to(k, "Y", -250.0)
    _jog_to(k, "Z", -319.0)
    assert k.session.crashes == []
    k("mode", {"mode": "JOG"})
    reply = k("jog", {"axis": "Z", "direction": -1, "ms": 180})      # 1000 mm/min × 0.18 s = 3 mm
    assert [c["kind"] for c in reply["new_crashes"]] == ["instrument_crash"]
    assert measure.top_z(k.session.model.workpiece, 0.0, 0.0) == 0.0  # the edge finder cuts nothing


# ------------------------------------------------------------------------------------------ review fixes (B6)

def test_offset_input_during_a_held_run_survives_a_reset_part_way():
    # held 6 s into the 60 s feed (X-100. at F100): the planned G10 for G55 never ran, the G56 X7. keyed on the
    # work page during the hold stays after the reset
    k = _ready(tools=(1,))
    k("mode", {"mode": "MDI"})
    k("mdi", {"text": "G91 G01 X-100. F100\nG10 L2 P2 X-123."})
    k("cycle_start")
    k("feed_hold", {"at_ms": 6000})
    k("offset", {"page": "work", "number": "G56", "axis": "X", "text": "X7.", "op": "input"})
    k("reset")
    work = k.session.model.tables.work
    assert work["G56"] == (7.0, 0.0, 0.0) and work["G55"] == (0.0, 0.0, 0.0)


def test_plus_input_between_single_blocks_counts_once():
    # single block: the G55 X +1. keyed at the stop reaches the next block and the machine once, not twice
    k = _ready(tools=(1,))
    k("switch", {"name": "single_block", "on": True})
    k("mode", {"mode": "MDI"})
    k("mdi", {"text": "G91 G01 X-1. F600\nX-1.\nG55 G00 X0"})
    k("cycle_start")
    k("feed_hold", ok=False)                                    # the block played out: stopped, not running
    k("offset", {"page": "work", "number": "G55", "axis": "X", "value": 1.0, "op": "add"})
    k("cycle_start")
    k("cycle_start")
    k("switch", {"name": "single_block", "on": False})
    k("cycle_start")
    assert k.session.run is None
    assert k.session.model.tables.work["G55"] == (1.0, 0.0, 0.0)
    assert k.session.view()["modal"]["gcodes"][9] == "G55"


def test_offset_text_on_the_mill_pages():
    k = _ready()
    # "50" without a decimal point: 50 × 0.001 = 0.050 mm (the operator meant 50 mm)
    assert k("offset", {"page": "geometry", "number": "1", "axis": "H", "text": "50", "op": "input"})["result"][
        "h"] == pytest.approx(0.05)
    assert k("offset", {"page": "geometry", "number": "1", "axis": "H", "text": "H50.", "op": "input"})["result"][
        "h"] == 50.0
    assert k("offset", {"page": "work", "number": "G54", "axis": "Y", "text": "-250.5", "op": "input"})["result"][
        "y"] == -250.5
    k("offset", {"page": "work", "number": "G54", "axis": "Y", "text": "D5.", "op": "input"}, ok=False)
    assert k.session.model.tables.work["G54"][1] == -250.5
    # the address keyed names the axis: "X5." with the cursor on Y sets X
    assert k("offset", {"page": "work", "number": "G54", "axis": "Y", "text": "X5.", "op": "input"})["result"][
        "x"] == 5.0
    # tool length measurement: "Z50." on the H field (gauge at machine Z 0: H = 0 − 0 − 50)
    assert k("offset", {"page": "geometry", "number": "2", "axis": "H", "text": "Z50.", "op": "measure"})[
        "result"]["h"] == pytest.approx(-50.0 - k.session.model.tables.work["G54"][2])


def test_instrument_crash_is_recorded_by_the_panel_not_the_model():
    assert not hasattr(MillSession({}).model, "panel")


def test_spindle_override_rules_of_the_mill():
    k = _ready()
    model = k.session.model
    state = power_on_state(default_setup())
    assert model.spindle_override_rule(state) == "per_min"
    modal = state.modal
    assert model.spindle_override_rule(dataclasses.replace(state, modal=dataclasses.replace(
        modal, feed_per_rev=True))) == "per_rev"
    assert model.spindle_override_rule(dataclasses.replace(state, modal=dataclasses.replace(
        modal, cycle="G84"))) == "fixed"                     # tapping: overrides disabled


def test_spindle_override_in_a_mill_run_and_at_the_spindle():
    k = _ready()
    k("spindle", {"command": "cw", "rpm": 1000})
    assert k("override", {"which": "spindle", "value": 80})["modal"]["spindle"]["rpm"] == pytest.approx(800.0)
    k("spindle", {"command": "stop"})
    k("mode", {"mode": "MDI"})
    # G95 F0.1 at S1000 and 80 %: 800 rpm × 0.1 = 80 mm/min, so 8 mm (down from the reference, in the air) take
    # 8 / 80 × 60 = 6 s (4.8 s at 100 %)
    k("mdi", {"text": "G91 S1000 M03\nG95 G01 Z-8. F0.1\nG94 G01 Z-8. F100"})
    reply = k("cycle_start")
    per_rev, per_min = [m for m in reply["motions"] if m["kind"] == "feed"]
    assert (per_rev["spindle_rpm"], per_rev["feed_mm_min"], per_rev["seconds"]) == \
        (pytest.approx(800.0), pytest.approx(80.0), pytest.approx(6.0))
    # G94 F100: 8 mm in 4.8 s whatever the spindle does
    assert (per_min["spindle_rpm"], per_min["feed_mm_min"], per_min["seconds"]) == \
        (pytest.approx(800.0), pytest.approx(100.0), pytest.approx(4.8))
