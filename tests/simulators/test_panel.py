"""The core operator panel (simulators/core/panel.py, automatic.py, trace.py), driven through the lathe session:
interlocks, mode rules, overrides, switches, invalid events, and prefix replay."""
from __future__ import annotations

import json
import random

import pytest

from simulators.cnc_lathe.session import LatheSession, replay
from simulators.core import panel, trace
from simulators.core.automatic import with_spindle_override
from simulators.core.motion import Motion
from simulators.core.trace import event

# Preset offsets for T01 (docs/lathe.md): G01 X30. turns Ø30 with it.
PRESET = {"offsets": {"1": {"x": 80.0, "z": 89.5, "r": 0.8, "t": 3}}}


class Keys:
    def __init__(self, machine=None):
        self.machine = PRESET if machine is None else machine
        self.session = LatheSession(self.machine)
        self.seq = 0
        self.events = []

    def do(self, type_, **payload):
        self.seq += 1
        ev = event(self.seq, type_, payload)
        self.events.append(ev)
        return self.session.apply(ev)

    def ok(self, type_, **payload):
        reply = self.do(type_, **payload)
        assert reply["ok"], (type_, reply["reason"])
        return reply

    def ready(self, stock=True):
        """Power on, both axes referenced, bar loaded and clamped, JOG mode."""
        self.ok("power", on=True)
        self.ok("mode", mode="REF")
        self.ok("ref_return", axis="X")
        self.ok("ref_return", axis="Z")
        if stock:
            self.ok("load_stock", stick_out=70)
            self.ok("chuck", closed=True)
        self.ok("mode", mode="JOG")
        return self

    def mdi(self, text, **payload):
        self.ok("mode", mode="MDI")
        self.ok("mdi", text=text)
        return self.ok("cycle_start", **payload)

    def state(self):
        return json.dumps(self.session.view(), sort_keys=True)


# ------------------------------------------------------------------------------------------ invalid events

@pytest.mark.parametrize("bad", [
    "not an object",
    {"v": 2, "seq": 1, "t_client": 0, "t_server": None, "type": "reset", "payload": {}},
    {"v": 1, "seq": "1", "t_client": 0, "t_server": None, "type": "reset", "payload": {}},
    {"v": 1, "seq": 1, "t_client": 0, "t_server": None, "type": "warp", "payload": {}},
    {"v": 1, "seq": 1, "t_client": 0, "t_server": None, "type": "jog", "payload": {"axis": "X", "direction": 2,
                                                                                    "ms": 10}},
    {"v": 1, "seq": 1, "t_client": 0, "t_server": None, "type": "mode", "payload": {"mode": "AUTO"}},
    {"v": 1, "seq": 1, "t_client": 0, "t_server": None, "type": "power", "payload": {"on": 1}},
    {"v": 1, "seq": 1, "t_client": 0, "t_server": None, "type": "reset", "payload": {"at_ms": -5}},
    {"v": 1, "seq": 1, "t_client": 0, "t_server": None, "type": "reset", "payload": None},
])
def test_invalid_events_are_recorded_and_harmless(bad):
    keys = Keys().ready()
    before = keys.state()
    reply = keys.session.apply(bad)
    assert reply["ok"] is False and reply["reason"]
    assert keys.state() == before
    assert keys.session.summary()["invalid_events"][-1]["reason"] == reply["reason"]


def test_duplicate_or_old_seq_is_ignored():
    keys = Keys().ready()
    before = keys.state()
    reply = keys.session.apply(event(3, "mode", {"mode": "EDIT"}))     # seq 3 was used already
    assert not reply["ok"] and "seq" in reply["reason"]
    assert keys.state() == before


def test_power_off_ignores_every_key():
    keys = Keys()
    reply = keys.do("mode", mode="EDIT")
    assert not reply["ok"] and reply["reason"] == "the control is off"
    assert keys.session.view()["mode"] == "JOG"


# ------------------------------------------------------------------------------------------ modes and interlocks

@pytest.mark.parametrize("mode", ["EDIT", "MEM", "MDI", "INC", "HANDLE", "REF"])
def test_jog_is_ignored_outside_jog_mode(mode):
    keys = Keys().ready()
    keys.ok("mode", mode=mode)
    before = keys.session.view()["position"]
    reply = keys.do("jog", axis="Z", direction=-1, ms=1000)
    assert not reply["ok"] and mode in reply["reason"]
    assert keys.session.view()["position"] == before


def test_jog_moves_feed_times_duration_and_advances_time():
    keys = Keys().ready()
    keys.ok("override", which="jog_feed", value=600)
    z0 = keys.session.view()["position"]["machine"]["Z"]
    reply = keys.ok("jog", axis="Z", direction=-1, ms=2000)
    # 600 mm/min × 2 s = 20 mm
    assert reply["position"]["machine"]["Z"] == pytest.approx(z0 - 20.0)
    assert reply["time_s"] == pytest.approx(2.0)
    assert reply["motions"][0]["kind"] == "feed"


def test_rapid_jog_needs_reference_return():
    keys = Keys()
    keys.ok("power", on=True)
    reply = keys.do("jog", axis="Z", direction=-1, ms=100, rapid=True)
    assert not reply["ok"] and "reference" in reply["reason"]
    assert keys.ok("jog", axis="Z", direction=-1, ms=100)["ok"]     # plain jog works unreferenced


def test_inc_steps_and_handle_pulses_in_screen_units():
    keys = Keys().ready()
    x0 = keys.session.view()["position"]["machine"]["X"]
    keys.ok("mode", mode="INC")
    keys.ok("increment", mm=0.01)
    keys.ok("step", axis="X", direction=-1)
    assert keys.session.view()["position"]["machine"]["X"] == pytest.approx(x0 - 0.01)    # a diameter step
    keys.ok("mode", mode="HANDLE")
    keys.ok("handle_axis", axis="Z")
    keys.ok("increment", mm=0.1)                                  # ×100
    z0 = keys.session.view()["position"]["machine"]["Z"]
    keys.ok("handle", pulses=-25)
    assert keys.session.view()["position"]["machine"]["Z"] == pytest.approx(z0 - 2.5)      # 25 × 0.1


def test_cycle_start_before_reference_return_raises_ps0224_and_reset_clears_it():
    keys = Keys()
    keys.ok("power", on=True)
    keys.ok("load_stock", stick_out=70)
    keys.ok("chuck", closed=True)
    reply = keys.mdi("G00 W-1.")
    assert [a["code"] for a in reply["new_alarms"]] == ["PS0224"]
    assert not keys.do("cycle_start")["ok"]                       # alarm state: cycle start ignored
    keys.ok("reset")
    assert keys.session.view()["alarms"] == []
    assert [a["code"] for a in keys.session.summary()["alarms"]] == ["PS0224"]


def test_cycle_start_only_in_mem_or_mdi():
    keys = Keys().ready()
    reply = keys.do("cycle_start")
    assert not reply["ok"] and "MEM or MDI" in reply["reason"]


def test_spindle_keys_only_in_manual_modes_and_with_the_chuck_clamped():
    keys = Keys().ready(stock=False)
    assert "chuck" in keys.do("spindle", command="cw", rpm=500)["reason"]
    keys.ok("load_stock", stick_out=70)
    keys.ok("chuck", closed=True)
    keys.ok("mode", mode="MDI")
    assert "manual modes" in keys.do("spindle", command="cw", rpm=500)["reason"]
    keys.ok("mode", mode="JOG")
    assert keys.ok("spindle", command="cw", rpm=500)["modal"]["spindle"] == {"direction": 1, "rpm": 500.0}
    assert "spindle" in keys.do("chuck", closed=False)["reason"]
    keys.ok("reset")                                               # RESET stops the spindle
    assert keys.session.view()["modal"]["spindle"]["direction"] == 0


def test_emergency_stop_drops_the_run_and_blocks_motion():
    keys = Keys().ready()
    keys.mdi("G98 G01 W-10. F600")
    keys.ok("estop", pressed=True, at_ms=500)
    view = keys.session.view()
    assert view["status"] == "idle" and view["estop"]
    keys.ok("mode", mode="JOG")                        # the mode selector is a switch: it still turns
    assert keys.do("jog", axis="Z", direction=1, ms=10)["reason"] == "emergency stop"
    assert keys.do("cycle_start")["reason"] == "emergency stop"
    keys.ok("estop", pressed=False)
    assert keys.ok("jog", axis="Z", direction=1, ms=10)["ok"]


# ------------------------------------------------------------------------------------------ automatic operation

def test_feed_hold_at_ms_stops_the_motion_part_way():
    keys = Keys().ready()
    z0 = keys.session.view()["position"]["machine"]["Z"]
    reply = keys.mdi("G98 G01 W-10. F600")
    assert reply["status"] == "running"
    assert reply["motions"][0]["seconds"] == pytest.approx(1.0)        # 10 mm at 600 mm/min
    held = keys.ok("feed_hold", at_ms=250)
    assert held["status"] == "held"
    assert (held["program"]["line"], held["program"]["block"]) == (1, "G98 G01 W-10. F600")
    assert held["position"]["machine"]["Z"] == pytest.approx(z0 - 2.5)     # a quarter of the way
    assert held["position"]["distance_to_go"]["Z"] == pytest.approx(-7.5)
    assert held["time_s"] == pytest.approx(0.25)
    resumed = keys.ok("cycle_start")
    assert resumed["motions"][0]["seconds"] == pytest.approx(0.75)
    done = keys.ok("origin", axis="Z")                             # no at_ms: the run plays out
    assert done["status"] == "idle"
    assert done["position"]["machine"]["Z"] == pytest.approx(z0 - 10.0)
    assert done["time_s"] == pytest.approx(1.0)


def test_feed_and_rapid_overrides_scale_playback_time():
    keys = Keys().ready()
    keys.ok("override", which="feed", value=50)
    keys.ok("override", which="rapid", value=25)
    reply = keys.mdi("G98 G01 W-10. F600\nG00 W10.")
    feed, rapid = reply["motions"]
    assert feed["seconds"] == pytest.approx(2.0)                   # 1 s at 50 %
    assert rapid["seconds"] == pytest.approx(10.0 / 15000.0 * 60.0 * 4)   # Z rapid 15 m/min at 25 %
    assert not keys.do("override", which="feed", value=155)["ok"]
    assert not keys.do("override", which="rapid", value=30)["ok"]
    assert not keys.do("override", which="spindle", value=130)["ok"]


def test_override_change_during_the_run_retimes_the_rest():
    keys = Keys().ready()
    keys.mdi("G98 G01 W-10. F600")
    reply = keys.ok("override", which="feed", value=100, at_ms=500)     # at half way, 100 %
    assert reply["motions"][0]["seconds"] == pytest.approx(0.5)
    reply = keys.ok("override", which="feed", value=50, at_ms=0)
    assert reply["motions"][0]["seconds"] == pytest.approx(1.0)    # the remaining 0.5 s at 50 %


def test_feed_override_zero_holds_the_axes():
    keys = Keys().ready()
    keys.ok("override", which="feed", value=0)
    reply = keys.mdi("G98 G01 W-10. F600")
    assert reply["motions"][0]["seconds"] is None
    z0 = reply["position"]["machine"]["Z"]
    later = keys.ok("coolant", on=True)
    assert later["status"] == "running" and later["position"]["machine"]["Z"] == z0


def test_single_block_m00_and_optional_stop():
    keys = Keys().ready()
    keys.ok("mode", mode="EDIT")
    keys.ok("program_text", number=1, text="O0001\nG98 G01 W-1. F600\nM01\nW-1.\nM00\nW-1.\nM30\n")
    keys.ok("mode", mode="MEM")
    z0 = keys.session.view()["position"]["machine"]["Z"]

    def starts_until_idle():
        count = 0
        while keys.session.view()["status"] != "idle":
            keys.ok("cycle_start") if keys.session.view()["status"] != "running" else None
            keys.ok("origin", axis="X")
            count += 1
        return count

    keys.ok("cycle_start")
    keys.ok("origin", axis="X")
    assert keys.session.view()["status"] == "stopped"              # M00 (M01 passes: optional stop off)
    assert keys.session.view()["position"]["machine"]["Z"] == pytest.approx(z0 - 2.0)
    assert starts_until_idle() == 1
    keys.ok("switch", name="optional_stop", on=True)
    keys.ok("cycle_start")
    keys.ok("origin", axis="X")
    assert keys.session.view()["position"]["machine"]["Z"] == pytest.approx(z0 - 4.0)   # stopped at M01
    assert starts_until_idle() == 2                                # then M00, then the end
    keys.ok("switch", name="optional_stop", on=False)
    keys.ok("switch", name="single_block", on=True)
    keys.ok("cycle_start")
    keys.ok("origin", axis="X")
    assert keys.session.view()["status"] == "stopped"
    assert keys.session.view()["position"]["machine"]["Z"] == pytest.approx(z0 - 7.0)   # one block
    # the other NC blocks stop one by one: M01, W-1., M00, W-1., and M30 ends the run
    assert starts_until_idle() == 5
    assert keys.session.view()["position"]["machine"]["Z"] == pytest.approx(z0 - 9.0)


def test_block_delete_switch_skips_slash_blocks():
    keys = Keys().ready()
    z0 = keys.session.view()["position"]["machine"]["Z"]
    keys.ok("switch", name="block_delete", on=True)
    keys.mdi("G98 G01 W-1. F600\n/W-5.\nW-1.")
    assert keys.ok("origin", axis="X")["position"]["machine"]["Z"] == pytest.approx(z0 - 2.0)


def test_machine_lock_keeps_the_axes_and_the_stock():
    keys = Keys().ready()
    keys.ok("switch", name="machine_lock", on=True)
    before = keys.session.view()
    keys.mdi("T0101\nG00 X40. Z2.\nG01 Z-10. F0.2")
    keys.ok("origin", axis="X")
    after = keys.session.view()
    assert after["position"]["machine"] == before["position"]["machine"]
    assert after["machine"]["stock"] == before["machine"]["stock"]


def test_editing_needs_edit_mode_and_a_running_program_is_locked():
    keys = Keys().ready()
    assert "EDIT" in keys.do("program_text", number=5, text="O0005\nG00 W-1.\nM30\n")["reason"]
    keys.ok("mode", mode="EDIT")
    keys.ok("program_text", number=5, text="O0005\nG98 G01 W-10. F600\nM30\n")
    keys.ok("mode", mode="MEM")
    keys.ok("cycle_start")
    keys.ok("feed_hold", at_ms=100)
    keys.ok("mode", mode="EDIT")
    assert not keys.do("program_text", number=5, text="O0005\nM30\n")["ok"]
    keys.ok("reset")
    assert keys.ok("program_text", number=5, text="O0005\nM30\n")["ok"]


def test_background_check_lists_alarms_with_lines():
    keys = Keys().ready()
    keys.ok("mode", mode="EDIT")
    keys.ok("program_text", number=7, text="O0007\nG01 X1.2.3\nM30\n")
    alarms = keys.ok("program_check", number=7)["result"]["alarms"]
    assert [(a["code"], a["line"]) for a in alarms] == [("PS0007", 2)]   # two decimal points


# ------------------------------------------------------------------------------------------ replay

def _random_trace(rng: random.Random, count: int) -> list:
    """A long trace of realistic and wrong keys (fixed seed), with runs interrupted at random playback points."""
    ready = [("power", {"on": True}), ("mode", {"mode": "REF"}), ("ref_return", {"axis": "X"}),
             ("ref_return", {"axis": "Z"}), ("load_stock", {"stick_out": 70}), ("chuck", {"closed": True}),
             ("mode", {"mode": "EDIT"}),
             ("program_text", {"number": 1, "text": "O0001\nT0101\nG99 S900 M03\nG00 X46. Z2.\nG01 Z-8. F0.2\n"
                                                     "X52.\nG00 X80. Z20.\nM30\n"}),
             ("mode", {"mode": "JOG"})]
    def jog_gesture():
        return [("mode", {"mode": "JOG"}), ("spindle", {"command": "cw", "rpm": 800}),
                ("jog", {"axis": rng.choice("XZ"), "direction": rng.choice((1, -1)), "ms": rng.randint(0, 400)})]

    def run_gesture():
        stop = rng.choice(("feed_hold", "reset", "mode", "override", "coolant"))
        payload = {"feed_hold": {}, "reset": {}, "mode": {"mode": "JOG"}, "override": {"which": "feed", "value": 50},
                   "coolant": {"on": True}}[stop]
        return [("mode", {"mode": "MEM"}), ("program_select", {"number": 1}), ("cycle_start", {}),
                (stop, {**payload, "at_ms": rng.randint(0, 4000)})]

    palette = [
        jog_gesture, run_gesture, run_gesture,
        lambda: [("mode", {"mode": rng.choice(trace.MODES)})],
        lambda: [("jog", {"axis": "Z", "direction": 1, "ms": 300, "rapid": True})],
        lambda: [("mode", {"mode": "INC"}), ("increment", {"mm": rng.choice((0.001, 0.01, 0.1, 1.0))}),
                 ("step", {"axis": rng.choice("XZ"), "direction": rng.choice((1, -1))})],
        lambda: [("mode", {"mode": "HANDLE"}), ("handle", {"pulses": rng.randint(-50, 50)})],
        lambda: [("cycle_start", {})],
        lambda: [("reset", {})],
        lambda: [("override", {"which": "feed", "value": rng.choice((0, 50, 100, 120, 33))})],
        lambda: [("switch", {"name": rng.choice(trace.SWITCHES), "on": rng.random() < 0.5})],
        lambda: [("offset", {"page": "geometry", "number": 1, "axis": rng.choice("XZ"), "value": 0.0,
                             "op": rng.choice(("input", "add", "measure"))})],
        lambda: [("mode", {"mode": "MDI"}), ("mdi", {"text": "G00 W5."}), ("cycle_start", {})],
        lambda: [("warp", {})],
    ]
    events = [event(i + 1, t, p) for i, (t, p) in enumerate(ready)]
    while len(events) < count:
        for type_, payload in rng.choice(palette)():
            events.append(event(len(events) + 1, type_, payload))
    return events


def test_every_prefix_replays_to_the_live_state():
    events = _random_trace(random.Random(5), 120)
    live = LatheSession(PRESET)
    seen = []
    for ev in events:
        live.apply(ev)
        seen.append(json.dumps(live.view(), sort_keys=True))
    assert any('"status": "held"' in s for s in seen)       # the trace does interrupt runs
    for k in range(0, len(events), 3):
        assert json.dumps(replay(PRESET, events[:k + 1]).view(), sort_keys=True) == seen[k], k


def test_replay_is_deterministic_and_matches_summary():
    events = _random_trace(random.Random(11), 80)
    a, b = replay(PRESET, events), replay(PRESET, events)
    assert json.dumps(a.summary(), sort_keys=True) == json.dumps(b.summary(), sort_keys=True)
    assert trace.parse_jsonl(trace.dump_jsonl(events)) == events


# ------------------------------------------------------------------------------------------ robustness

def _payloads():
    from hypothesis import strategies as st

    scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                       st.text(max_size=12), st.sampled_from(["X", "Z", "Y", "G54", "EXT", "cw", "MEM", "feed"]))
    value = st.one_of(scalar, st.lists(scalar, max_size=3), st.dictionaries(st.text(max_size=5), scalar, max_size=3))
    keys = st.sampled_from(["axis", "direction", "ms", "rapid", "mm", "pulses", "on", "mode", "which", "value",
                            "name", "text", "number", "page", "op", "key", "instrument", "placement", "station",
                            "tool", "stick_out", "diameter", "closed", "command", "rpm", "at_ms", "pressed"])
    return st.dictionaries(keys, value, max_size=6)


def test_random_payloads_never_raise():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    types = sorted({**trace.PANEL_TYPES, **trace.LATHE_TYPES})

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(st.lists(st.tuples(st.sampled_from(types), _payloads()), max_size=12))
    def run(pairs):
        keys = Keys().ready()
        for type_, payload in pairs:
            keys.do(type_, **payload)
        keys.session.view()
        keys.session.summary()

    run()


def test_schema_shaped_random_events_never_raise():
    """Payloads that pass the schema, with extreme values: the control refuses or acts, never raises."""
    rng = random.Random(3)
    types = {**trace.PANEL_TYPES, **trace.LATHE_TYPES}

    def value(kind):
        kind = kind.lstrip("?") if isinstance(kind, str) else kind
        if isinstance(kind, tuple):
            return rng.choice(kind)
        return {"int": lambda: rng.choice((0, 1, -1, 7, 65, 10**9, -(10**9))),
                "num": lambda: rng.choice((0, 0.5, -3.25, 1e9, -1e-9, float("inf"), 48.0)),
                "bool": lambda: rng.random() < 0.5,
                "str": lambda: rng.choice(("X", "Z", "Y", "", "INSERT", "CHAR", "micrometer", "G01 X1.", "%")),
                "key": lambda: rng.choice((1, "G54", "EXT", 0, "x")),
                "dict": lambda: rng.choice(({}, {"z": -5.0}, {"kind": "turning"}, {"z": "a"})),
                "list": lambda: []}[kind]()

    for trial in range(25):
        keys = Keys().ready()
        for _ in range(40):
            type_ = rng.choice(sorted(types))
            payload = {k: value(kind) for k, kind in types[type_].items() if rng.random() < 0.9}
            keys.do(type_, **payload)
        json.dumps(keys.session.view())
        json.dumps(keys.session.summary())


def test_a_run_without_motions_ends_at_cycle_start():
    keys = Keys().ready()
    reply = keys.mdi("#100=3.")
    assert reply["status"] == "idle" and reply["motions"] == []
    assert keys.session.view()["machine"]["macro_common"] == {"100": 3.0}


def test_dry_run_feeds_at_the_jog_feed():
    keys = Keys().ready()
    keys.ok("switch", name="dry_run", on=True)
    keys.ok("override", which="jog_feed", value=1200)
    reply = keys.mdi("G98 G01 W-10. F600\nG00 W10.")
    feed, rapid = reply["motions"]
    assert feed["seconds"] == pytest.approx(0.5)                   # 10 mm at the jog feed 1200 mm/min
    assert rapid["seconds"] == pytest.approx(10.0 / 15000.0 * 60.0)   # rapids keep their rate


def test_feed_per_revolution_with_the_spindle_stopped_waits_until_reset():
    keys = Keys().ready()
    reply = keys.mdi("G99 G01 W-10. F0.2")                        # M05: the axes wait for the spindle
    assert reply["status"] == "waiting" and reply["motions"] == []
    assert "waits" in keys.do("cycle_start")["reason"]
    keys.ok("reset")
    assert keys.session.view()["status"] == "idle"


def test_program_alarm_is_raised_when_the_run_reaches_it():
    keys = Keys().ready()
    reply = keys.mdi("G98 G01 W-10. F600\nG01 W-1. F0")              # PS0011 on the second block
    assert reply["alarms"] == [] and reply["status"] == "running"
    later = keys.ok("origin", axis="X")
    assert [a["code"] for a in later["new_alarms"]] == ["PS0011"]
    assert later["status"] == "idle"


# ------------------------------------------------------------------------------------------ review fixes (B6)

@pytest.mark.parametrize("reading", [{"value": None, "crash": True, "message": "pressed past its travel"},
                                     {"value": None, "state": "in_material"}])
def test_an_instrument_reading_that_is_a_crash_is_recorded_by_the_panel(reading):
    keys = Keys().ready()
    keys.session.model.measure = lambda instrument, placement: dict(reading)   # any machine's instrument
    reply = keys.ok("measure", instrument="probe")
    assert [c["kind"] for c in reply["new_crashes"]] == ["instrument_crash"]
    assert reply["new_crashes"][0]["seq"] == keys.seq
    assert [a["code"] for a in reply["alarms"]] == ["EX1100"]                  # a collision: reset needed


def test_a_plain_reading_is_no_crash():
    keys = Keys().ready()
    reply = keys.ok("measure", instrument="micrometer", placement={"z": -5.0})
    assert reply["new_crashes"] == [] and reply["alarms"] == []


def test_parse_keyed_decimal_point_rule():
    # a number without a decimal point counts in least input increments (0.001 mm)
    assert panel.parse_keyed("50") == panel.Keyed(None, 0.050)
    assert panel.parse_keyed(" x-5.") == panel.Keyed("X", -5.0)
    assert panel.parse_keyed(".5") == panel.Keyed(None, 0.5)
    assert panel.parse_keyed("Z0") == panel.Keyed("Z", 0.0)
    assert panel.parse_keyed("-20").value == pytest.approx(-0.020)
    assert panel.parse_keyed("50", decimal_point_input=True).value == 50.0
    assert panel.parse_keyed("3", integer=True).value == 3.0
    for bad in ("", "X", "1.2.3", "--1", "3.", "X 5 5"):
        with pytest.raises(panel.KeyInError):
            panel.parse_keyed(bad, integer=bad == "3.")


def test_offset_event_takes_value_or_text():
    spec = trace.PANEL_TYPES
    base = {"page": "geometry", "number": 1, "axis": "X", "op": "input"}
    assert trace.problem(event(1, "offset", {**base, "text": "X1."}), spec) is None
    assert trace.problem(event(1, "offset", {**base, "value": 1.0}), spec) is None
    assert trace.problem(event(1, "offset", {**base, "text": 5}), spec) is not None
    keys = Keys().ready()
    reply = keys.do("offset", **base)
    assert not reply["ok"] and "value or text" in reply["reason"]


def test_spindle_override_of_one_motion():
    thread = Motion("thread", 1, (10.0, 0.0), (10.0, -30.0), feed_mm_min=1000.0, spindle_rpm=500.0, lead=2.0,
                    seconds=1.8)
    # 80 %: 400 rpm, lead 2 → 800 mm/min, 30 mm in 2.25 s (the thread stays synchronised)
    slow = with_spindle_override(thread, "per_min", 80.0)
    assert (slow.spindle_rpm, slow.feed_mm_min, slow.seconds) == (400.0, 800.0, pytest.approx(2.25))
    feed = Motion("feed", 1, (0.0, 0.0), (0.0, -10.0), feed_mm_min=100.0, spindle_rpm=2800.0, seconds=6.0)
    # 120 % of 2800 = 3360, clamped at the 3000 rpm maximum: ratio 3000/2800, per rev: 107.14 mm/min, 5.6 s
    fast = with_spindle_override(feed, "per_rev", 120.0, 3000.0)
    assert fast.spindle_rpm == 3000.0 and fast.feed_mm_min == pytest.approx(100.0 * 3000 / 2800)
    assert fast.seconds == pytest.approx(6.0 * 2800 / 3000)
    assert with_spindle_override(feed, "per_min", 50.0).feed_mm_min == 100.0            # only the rpm: 1400
    assert with_spindle_override(feed, "per_min", 50.0).spindle_rpm == 1400.0
    assert with_spindle_override(feed, "fixed", 50.0) is feed                           # tapping
