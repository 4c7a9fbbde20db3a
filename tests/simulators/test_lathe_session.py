"""The lathe session (simulators/cnc_lathe/session.py, offset_page.py): offset pages, manual moves that cut and
crash, stock and tools, the reply's stock change, overtravel, arcs interrupted part way, the summary."""
from __future__ import annotations

import math

import pytest

from simulators.cnc_lathe import measure
from simulators.cnc_lathe.session import LatheSession, replay
from simulators.core.trace import event

from .test_panel import Keys

T01 = (-40.0, -19.5)        # T01 tip vector (x radius, z), docs/lathe.md


def turret_at(keys, x_radius, z):
    """Jog at 600 mm/min, Z first, until the turret reference point is at machine (x radius, z)."""
    if keys.session.mode != "JOG":
        keys.ok("mode", mode="JOG")
    keys.ok("override", which="jog_feed", value=600)      # 0.01 mm per ms
    for index, axis, target in ((1, "Z", z), (0, "X", x_radius)):
        delta = target - keys.session.model.position[index]
        ms = round(abs(delta) / 0.01)
        if ms:
            reply = keys.ok("jog", axis=axis, direction=1 if delta > 0 else -1, ms=ms)
            assert not reply["new_crashes"], reply["new_crashes"]


# ------------------------------------------------------------------------------------------ offset pages

def test_geometry_input_add_and_wear_in_screen_diameters():
    keys = Keys({}).ready()
    line = keys.ok("offset", page="geometry", number=3, axis="X", value=80.0, op="input")["result"]
    assert line["geometry"]["X"] == 80.0
    assert keys.session.model.offsets[3].geometry_x == 40.0                     # stored as a radius
    line = keys.ok("offset", page="geometry", number=3, axis="X", value=0.1, op="add")["result"]
    assert line["geometry"]["X"] == pytest.approx(80.1)
    line = keys.ok("offset", page="wear", number=3, axis="Z", value=-0.02, op="input")["result"]
    assert line["wear"]["Z"] == -0.02
    line = keys.ok("offset", page="geometry", number="3", axis="T", value=3, op="input")["result"]
    assert (line["geometry"]["R"], line["geometry"]["T"]) == (0.0, 3)
    for bad in ({"axis": "T", "value": 12, "op": "input"}, {"axis": "R", "value": 0.4, "op": "measure"},
                {"axis": "Q", "value": 1.0, "op": "input"}, {"number": 65, "axis": "X", "value": 1.0, "op": "input"},
                {"page": "wear", "axis": "X", "value": 1.0, "op": "measure"},
                {"axis": "X", "value": 12345.0, "op": "input"}):
        payload = {"page": "geometry", "number": 3, **bad}
        assert not keys.do("offset", **payload)["ok"], bad


def test_measure_input_makes_the_current_position_read_the_value():
    keys = Keys({}).ready(stock=False)
    turret_at(keys, 64.0, 88.5)
    # geometry X = machine x − Ø/2 = 64 − 24 = 40 (Ø80 on the screen); Z = 88.5 − 0 = 88.5
    assert keys.ok("offset", page="geometry", number=1, axis="X", value=48.0, op="measure")["result"]["geometry"][
        "X"] == pytest.approx(80.0)
    assert keys.ok("offset", page="geometry", number=1, axis="Z", value=0.0, op="measure")["result"]["geometry"][
        "Z"] == pytest.approx(88.5)
    # with G54 Z-5 the geometry takes the rest: 88.5 − 0 − (−5) = 93.5
    keys.ok("offset", page="work", number="G54", axis="Z", value=-5.0, op="input")
    assert keys.ok("offset", page="geometry", number=2, axis="Z", value=0.0, op="measure")["result"]["geometry"][
        "Z"] == pytest.approx(93.5)


def test_work_offset_measure_uses_the_active_tool_offset():
    keys = Keys({}).ready(stock=False)
    keys.ok("chuck", closed=True)
    keys.ok("offset", page="geometry", number=1, axis="Z", value=80.0, op="input")
    keys.mdi("T0101")                               # offset 1 active, no move
    keys.ok("origin", axis="X")
    turret_at(keys, 64.0, 88.5)
    # G54 Z = machine z − value − tool Z = 88.5 − 0 − 80 = 8.5
    result = keys.ok("offset", page="work", number=1, axis="Z", value=0.0, op="measure")["result"]
    assert result == {"number": "G54", "X": 0.0, "Z": pytest.approx(8.5)}
    assert keys.session.view()["position"]["absolute"]["Z"] == pytest.approx(0.0)
    assert keys.ok("offset", page="work", number="EXT", axis="X", value=0.2, op="add")["result"]["X"] == 0.2
    assert not keys.do("offset", page="work", number="G60", axis="X", value=0.0, op="input")["ok"]


# ------------------------------------------------------------------------------------------ manual moves

def test_jogged_cut_turns_the_diameter_the_tip_reaches():
    keys = Keys({}).ready()
    keys.ok("spindle", command="cw", rpm=1000)
    turret_at(keys, 26.0 + 40.0, 75.0 + 19.5)       # tip at radius 26, z 75
    turret_at(keys, 23.5 + 40.0, 75.0 + 19.5)       # tip at Ø47
    reply = keys.ok("jog", axis="Z", direction=-1, ms=1500)     # 15 mm at 600 mm/min: tip to z 60
    assert reply["stock"] is not None and not reply["new_crashes"]
    part = keys.session.model.workpiece
    # work frame = machine − 70: the cut spans work z 0 … −10 at Ø47; beyond it the bar is Ø50
    assert measure.diameter_at(part, -5.0) == pytest.approx(47.0, abs=1e-9)
    assert measure.diameter_at(part, -12.0) == pytest.approx(50.0, abs=1e-9)


def test_move_in_the_air_sends_no_stock_change():
    keys = Keys({}).ready()
    assert keys.ok("jog", axis="Z", direction=1, ms=100)["stock"] is None


def test_rapid_jog_into_the_bar_is_a_crash_and_needs_reset():
    keys = Keys({}).ready()
    keys.ok("spindle", command="cw", rpm=1000)
    turret_at(keys, 20.0 + 40.0, 80.0 + 19.5)       # tip at radius 20, 10 mm right of the face
    reply = keys.ok("jog", axis="Z", direction=-1, ms=100, rapid=True)     # 25 mm at 15 m/min
    assert [c["kind"] for c in reply["new_crashes"]] == ["rapid_into_stock"]
    assert [a["code"] for a in reply["alarms"]] == ["EX1100"]
    keys.ok("mode", mode="MDI")
    keys.ok("mdi", text="G00 W1.")
    assert not keys.do("cycle_start")["ok"]
    keys.ok("reset")
    summary = keys.session.summary()
    assert summary["crashes"][0]["seq"] == reply["seq"]


def test_cut_with_the_spindle_stopped_is_a_crash():
    keys = Keys({}).ready()
    turret_at(keys, 24.0 + 40.0, 75.0 + 19.5)
    reply = keys.ok("jog", axis="Z", direction=-1, ms=1000)
    assert "spindle_stopped_cut" in [c["kind"] for c in reply["new_crashes"]]


def test_jog_stops_at_the_stroke_limit_with_ot_alarm():
    keys = Keys({}).ready()
    limit = keys.session.model.base.soft_limits.z_max      # 339.5 for the default setup (docs/lathe.md)
    keys.ok("override", which="jog_feed", value=1200)
    reply = keys.ok("jog", axis="Z", direction=1, ms=60000)      # 1200 mm asked
    assert reply["position"]["machine"]["Z"] == pytest.approx(limit)
    assert [a["code"] for a in reply["new_alarms"]] == ["OT0500"]


# ------------------------------------------------------------------------------------------ stock and tools

def test_stock_and_chuck_rules():
    keys = Keys({})
    keys.ok("power", on=True)
    keys.ok("chuck", closed=True)
    assert "open the chuck" in keys.do("load_stock", stick_out=70)["reason"]
    keys.ok("chuck", closed=False)
    assert not keys.do("load_stock", stick_out=120)["ok"]           # longer than the 100 mm bar
    reply = keys.ok("load_stock", stick_out=60, diameter=40)
    assert reply["stock"]["profile"]["outer"][-1] == [-10.0, 20.0]   # right end at work z 60 − 70, radius 20
    assert not keys.do("load_stock", stick_out=60)["ok"]
    keys.ok("unload_stock")


def test_loaded_tool_cuts_with_its_own_tip_vector():
    keys = Keys({}).ready()
    tool = {"kind": "turning", "insert_angle": 55, "edge": 15.5, "nose": 0.4, "approach": 93,
            "tip_vector": {"x": -60, "z": -25}}
    keys.ok("load_tool", station=7, tool=tool)
    keys.ok("turret", station=7)
    assert keys.session.view()["modal"]["T"] == "0700"
    keys.ok("spindle", command="cw", rpm=1000)
    # tip vector (−30 radius, −25): tip at radius 23 (Ø46) and z 75 means the turret at (53, 100)
    turret_at(keys, 53.0, 100.0)
    keys.ok("jog", axis="Z", direction=-1, ms=1000)                 # tip to z 65: work z −5
    assert measure.diameter_at(keys.session.model.workpiece, -2.5) == pytest.approx(46.0, abs=1e-9)
    keys.ok("spindle", command="stop")
    assert keys.ok("remove_tool", station=7)["ok"]
    assert not keys.do("remove_tool", station=7)["ok"]
    assert not keys.do("load_tool", station=9, tool=tool)["ok"]     # 8 stations


# ------------------------------------------------------------------------------------------ automatic details

def test_feed_hold_part_way_round_an_arc_stops_on_the_arc():
    keys = Keys().ready(stock=False)
    keys.ok("load_stock", stick_out=70)
    keys.ok("chuck", closed=True)
    # T01 preset: tip at X60 Z10 (radius 30), a quarter circle R10 centred at radius 20, z 10 → X40 Z0
    reply = keys.mdi("T0101\nG00 X60. Z10.\nG98 G03 X40. Z0 R10. F600")
    arc_seconds = reply["motions"][-1]["seconds"]
    assert arc_seconds == pytest.approx(10.0 * math.pi / 2.0 / 10.0)       # 15.708 mm at 10 mm/s
    before = sum(m["seconds"] for m in reply["motions"][:-1])
    at_ms = round((before + arc_seconds / 2.0) * 1000)
    held = keys.ok("feed_hold", at_ms=at_ms)
    x, z = keys.session.model.position
    tip = (x + T01[0], z + T01[1] - 70.0)                             # program frame
    # the angle swept from the start (radius 30, z 10) about (20, 10) is 90° × the arc's elapsed fraction
    # (about half: 45°); G03 turns from +X toward −Z: (20 + 10 cos θ, 10 − 10 sin θ)
    theta = math.pi / 2.0 * (at_ms / 1000.0 - before) / arc_seconds
    assert theta == pytest.approx(math.pi / 4, abs=1e-3)
    assert tip[0] == pytest.approx(20.0 + 10.0 * math.cos(theta), abs=1e-9)
    assert tip[1] == pytest.approx(10.0 - 10.0 * math.sin(theta), abs=1e-9)
    assert held["status"] == "held"


def test_summary_reports_offsets_errors_and_items():
    keys = Keys().ready()
    summary = keys.session.summary()
    # preset line 1 is exact for work zero at the bar's right end (machine z 70): X80 Z89.5
    assert summary["offsets"]["1"]["geometry"] == {"X": 80.0, "Z": 89.5, "R": 0.8, "T": 3}
    errors = summary["offset_errors"]["errors"]["tools"][1]
    assert (errors["x"], errors["z"]) == (0.0, 0.0)
    assert summary["measurements"] == []


def test_replay_function_equals_the_live_session():
    keys = Keys().ready()
    keys.mdi("T0101\nG00 X46. Z2.\nG01 Z-5. F0.2 S900 M03")
    keys.ok("feed_hold", at_ms=300)
    again = replay(keys.machine, keys.events)
    assert isinstance(again, LatheSession)
    assert again.view() == keys.session.view()
    assert again.apply(event(keys.seq + 1, "cycle_start", {}))["ok"]


def test_common_macro_variables_persist_between_runs_and_500s_survive_power_off():
    keys = Keys().ready()
    keys.mdi("#100=2.5\n#500=7.")
    keys.ok("origin", axis="X")
    z0 = keys.session.view()["position"]["machine"]["Z"]
    keys.ok("mdi", text="G98 G01 W-#100 F600")
    keys.ok("cycle_start")
    assert keys.ok("origin", axis="X")["position"]["machine"]["Z"] == pytest.approx(z0 - 2.5)
    keys.ok("power", on=False)
    keys.ok("power", on=True)
    assert keys.session.view()["machine"]["macro_common"] == {"500": 7.0}


def test_after_a_quiet_replay_the_next_reply_carries_the_stock():
    keys = Keys().ready()
    again = replay(keys.machine, keys.events)          # the bar was loaded during the replayed events
    reply = again.apply(event(keys.seq + 1, "coolant", {"on": True}))
    assert reply["stock"]["profile"]["outer"][-1] == [0.0, 25.0]    # Ø50 bar, right end at work z 0
    assert again.apply(event(keys.seq + 2, "coolant", {"on": False}))["stock"] is None


# ------------------------------------------------------------------------------------------ review fixes (B6)

def test_reset_part_way_keeps_the_state_of_the_blocks_really_executed():
    # The plan runs ahead of the playback: it already holds G55 and T0202 after a 12 s feed (20 mm at 100 mm/min,
    # G98). Reset 6 s in (10 mm done): the feed's block was executing (G98 stays), G55 and T0202 never ran.
    keys = Keys().ready(stock=False)
    keys.ok("chuck", closed=True)
    z0 = keys.session.model.position[1]
    reply = keys.mdi("G98 G01 W-20. F100.\nG55\nT0202")
    assert [m["kind"] for m in reply["motions"]] == ["feed", "tool_change"]
    keys.ok("feed_hold", at_ms=6000)
    keys.ok("reset")
    modal = keys.session.view()["modal"]
    assert keys.session.model.position[1] == pytest.approx(z0 - 10.0)       # 100 mm/min × 6 s
    assert modal["T"] == "0100"                     # power-on station 1, no offset: the turret never indexed
    assert "G55" not in modal["gcodes"] and "G54" in modal["gcodes"]
    assert "G98" in modal["gcodes"]                  # read by the block that was moving
    # the next run starts from that state: T0202 indexes now (1 station at 0.5 s)
    keys.ok("mdi", text="T0202")
    reply = keys.ok("cycle_start")
    assert reply["motions"][0]["seconds"] == pytest.approx(0.5)


def test_offset_text_follows_the_decimal_point_rule():
    keys = Keys({}).ready(stock=False)
    turret_at(keys, 64.0, 88.5)
    # "X48." is 48 mm: geometry X = (64 − 48/2) × 2 = 80 on the screen
    line = keys.ok("offset", page="geometry", number=1, axis="X", text="X48.", op="measure")["result"]
    assert line["geometry"]["X"] == pytest.approx(80.0)
    # "X48" without a point is 48 least increments = 0.048 mm: (64 − 0.024) × 2 = 127.952 (the classic slip)
    line = keys.ok("offset", page="geometry", number=2, axis="X", text="X48", op="measure")["result"]
    assert line["geometry"]["X"] == pytest.approx(127.952)
    # the text wins over value; "Z0" is 0: geometry Z = 88.5
    line = keys.ok("offset", page="geometry", number=2, axis="Z", value=5.0, text="Z0", op="measure")["result"]
    assert line["geometry"]["Z"] == pytest.approx(88.5)
    assert keys.ok("offset", page="wear", number=2, axis="Z", text="-20", op="input")["result"]["wear"]["Z"] == \
        pytest.approx(-0.020)
    assert keys.ok("offset", page="geometry", number=2, axis="T", text="3", op="input")["result"]["geometry"][
        "T"] == 3                                      # the tip direction is an integer: 3, not 0.003
    for bad in ({"axis": "X", "text": "5..1"}, {"axis": "T", "text": "3."}, {"axis": "X", "text": "Q5."},
                {"axis": "X"}):
        assert not keys.do("offset", page="geometry", number=3, op="input", **bad)["ok"], bad
    assert keys.session.model.offsets[3] == keys.session.model.offsets[4]         # untouched: all zero
    # the address keyed names the field, as on the control (the payload's axis is where the cursor was)
    line = keys.ok("offset", page="geometry", number=3, axis="X", text="Z-1.5", op="input")["result"]
    assert (line["geometry"]["X"], line["geometry"]["Z"]) == (0.0, -1.5)


def test_offset_text_with_pocket_calculator_input_is_mm():
    keys = Keys({"decimal_point_input": True}).ready(stock=False)
    line = keys.ok("offset", page="geometry", number=1, axis="Z", text="50", op="input")["result"]
    assert line["geometry"]["Z"] == 50.0


def test_spindle_override_scales_feed_per_revolution_moves():
    keys = Keys().ready(stock=False)
    keys.ok("chuck", closed=True)
    keys.ok("override", which="spindle", value=120)
    # G99 F0.2 at S500: 100 mm/min, 10 mm in 6 s at 100 %; at 120 %: 600 rpm, 120 mm/min, 5 s
    reply = keys.mdi("G97 S500 M03\nG99 G01 W-10. F0.2\nG98 G01 W-10. F100.")
    per_rev, per_min = [m for m in reply["motions"] if m["kind"] == "feed"]
    assert (per_rev["spindle_rpm"], per_rev["feed_mm_min"], per_rev["seconds"]) == \
        (pytest.approx(600.0), pytest.approx(120.0), pytest.approx(5.0))
    # G98 F100: the feed stays 100 mm/min (6 s), the spindle turns at 600 rpm (1/6 mm per revolution)
    assert (per_min["spindle_rpm"], per_min["feed_mm_min"], per_min["seconds"]) == \
        (pytest.approx(600.0), pytest.approx(100.0), pytest.approx(6.0))
    done = keys.ok("origin", axis="Z")
    assert done["time_s"] == pytest.approx(11.0, abs=0.01)
    assert done["modal"]["spindle"]["rpm"] == pytest.approx(600.0)


def test_spindle_override_scales_manual_spindle_and_jog_cuts():
    keys = Keys().ready()
    keys.ok("spindle", command="cw", rpm=1000)
    assert keys.ok("override", which="spindle", value=50)["modal"]["spindle"]["rpm"] == pytest.approx(500.0)
    reply = keys.ok("jog", axis="Z", direction=-1, ms=100)
    assert reply["motions"][0]["spindle_rpm"] == pytest.approx(500.0)
