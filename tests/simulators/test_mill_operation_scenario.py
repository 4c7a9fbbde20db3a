"""The mill walkthrough from the operator's procedure (数控铣工 practical exam), every step an event:

power on → reference return Z, then X, Y → stock in the vise, clamp → edge finder on the left and front faces →
G54 X/Y by MEASURE → Z setter (50.000 mm) with each of three tools → H by MEASURE → program entry → single block
dry run with machine lock → automatic run → the part measured against the drawing.

Convention for tool length: "touch" — G54 Z = 0 and H n = the machine Z of the gauge line when tool n's tip is on
the work zero (the top face), found as (gauge Z on the setter) − 50.000 by the tool page's MEASURE with ``Z50.``.

Frames (default setup, docs/mill-stock.md): block 100 × 80 × 30, top face centre at machine (−400, −250, −420)
(the gauge line there when a tool of length 0 would touch it); stock frame x −50..50, y −40..40, z −30..0.
Tools from the crib: T1 Ø10 flat (gauge length 95), T2 Ø6 flat (85), T3 Ø8 ball (90).
"""
import math

import pytest

from simulators.cnc_mill import measure
from simulators.cnc_mill.mill_model import EDGE_FINDER_LENGTH
from simulators.cnc_mill.session import MillSession, replay
from simulators.core.trace import event

PROGRAM = """O0001 (SCENARIO PART)
G90 G17 G40 G49 G80 G21 G94
G54
T1 M06
S1200 M03
G00 G43 H1 Z50.
X0 Y0
Z2.
G01 Z-5. F60
X10. F150
X-10.
X-15. Y-10.
X15.
Y10.
X-15.
Y-10.
G00 Z50.
T2 M06
S1500 M03
G00 G43 H2 Z50.
X-35. Y-30.
Z2.
G01 Z-3. F50
X35. F120
G00 Z50.
T3 M06
S2000 M03
G00 G43 H3 Z50.
X-30. Y30.
Z2.
G01 Z-2. F60
X30. F150
G00 Z50.
M05
G91 G28 Z0.
G90
M30
"""


class Operator:
    """Keys the panel like the candidate: every event must be accepted unless said otherwise."""

    def __init__(self):
        self.session = MillSession({})
        self.events = []
        self.replies = []

    def key(self, type_, payload=None, ok=True):
        ev = event(len(self.events) + 1, type_, payload or {})
        self.events.append(ev)
        reply = self.session.apply(ev)
        self.replies.append(reply)
        assert reply["ok"] is ok, (type_, payload, reply["reason"])
        return reply

    def mode(self, mode):
        if self.session.mode != mode:
            self.key("mode", {"mode": mode})

    def machine(self):
        return self.session.model.position

    def go(self, axis, target):
        """JOG rapid most of the way, then the handwheel ×100, ×10, ×1 to the exact target."""
        index = "XYZ".index(axis)
        self.mode("JOG")
        rate_per_ms = (20000.0 if axis == "Z" else 24000.0) / 60000.0       # mm per ms at 100 % rapid
        distance = target - self.machine()[index]
        ms = int(abs(distance) / rate_per_ms) - 3                            # stop 1 mm or so short
        if ms > 0:
            self.key("jog", {"axis": axis, "direction": 1 if distance > 0 else -1, "ms": ms, "rapid": True})
        self.mode("HANDLE")
        self.key("handle_axis", {"axis": axis})
        for step in (0.1, 0.01, 0.001):
            self.key("increment", {"mm": step})
            pulses = int(round((target - self.machine()[index]) / step, 6))
            if pulses:
                self.key("handle", {"pulses": pulses})
        assert self.machine()[index] == pytest.approx(target, abs=1e-6)

    def mdi(self, text):
        self.mode("MDI")
        self.key("mdi", {"text": text})
        self.key("cycle_start")
        return self.key("mode", {"mode": "JOG"})          # the run plays out before the mode changes


def _power_on_and_reference(op):
    op.key("power", {"on": True})
    op.key("mode", {"mode": "REF"})
    for axis in ("Z", "X", "Y"):                         # Z first: the safe habit, nothing hangs low
        op.key("ref_return", {"axis": axis})
    assert op.session.referenced == {"X", "Y", "Z"}


def _stock_and_tools(op):
    op.key("load_stock", {"protrusion": 12})             # top 12 above the jaws: the default place
    op.key("vise", {"closed": True})
    for pocket in (1, 2, 3):
        op.key("load_tool", {"pocket": pocket, "tool": pocket})


def _edge_finder(op):
    """Left face (stock x −50 → machine −450) and front face (y −40 → machine −290) with the Ø10 edge finder:
    it kicks when its centre is 5 from the face: machine X −455, Y −295. Origin at the block's top centre, so the
    spindle centre then is at X−55. (−50 − 5) and Y−45. (−40 − 5)."""
    op.key("spindle_tool", {"probe": "edge_finder"})
    op.key("spindle", {"command": "cw", "rpm": 500})
    tip_z = -420.0 + EDGE_FINDER_LENGTH - 5.0            # gauge Z with the Ø10 tip's bottom 5 below the top
    op.go("Y", -250.0)
    op.go("X", -470.0)
    op.go("Z", tip_z)
    op.go("X", -455.0)
    assert op.key("measure", {"instrument": "edge_finder"})["result"]["state"] == "kick"
    op.key("offset", {"page": "work", "number": "G54", "axis": "X", "value": -55.0, "op": "measure"})
    op.go("Z", -250.0)
    op.go("X", -400.0)
    op.go("Y", -310.0)
    op.go("Z", tip_z)
    op.go("Y", -295.0)
    assert op.key("measure", {"instrument": "edge_finder"})["result"]["state"] == "kick"
    op.key("offset", {"page": "work", "number": "G54", "axis": "Y", "value": -45.0, "op": "measure"})
    op.go("Z", 0.0)
    op.key("spindle", {"command": "stop"})
    op.key("spindle_tool", {"probe": ""})
    op.key("offset", {"page": "work", "number": "G54", "axis": "Z", "value": 0.0, "op": "input"})


# gauge Z with the tip on the 50.000 setter standing on the top face: −420 + gauge length + 50
SETTER_GAUGE_Z = {1: -420.0 + 95.0 + 50.0, 2: -420.0 + 85.0 + 50.0, 3: -420.0 + 90.0 + 50.0}   # −275, −285, −280


def _z_setter(op):
    for tool in (1, 2, 3):
        op.mdi(f"T{tool} M06")
        op.go("X", -380.0)                                # over the setter standing at stock (20, 0)
        op.go("Y", -250.0)
        op.go("Z", SETTER_GAUGE_Z[tool])
        reading = op.key("measure", {"instrument": "z_setter", "placement": {"at": [20.0, 0.0]}})["result"]
        assert reading["value"] == pytest.approx(0.0, abs=1e-9)
        op.key("offset", {"page": "geometry", "number": str(tool), "axis": "H", "value": 50.0, "op": "measure"})
        op.go("Z", 0.0)
    for tool, radius in ((1, 5.0), (2, 3.0), (3, 4.0)):
        op.key("offset", {"page": "geometry", "number": str(tool), "axis": "D", "value": radius, "op": "input"})


def _eager_start(op):
    """The classic slip: cycle start in MDI right after power-on, before reference return → PS0224; RESET."""
    op.key("power", {"on": True})
    op.mode("MDI")
    op.key("mdi", {"text": "G91 G01 Z-10. F500"})
    assert [a["code"] for a in op.key("cycle_start")["new_alarms"]] == ["PS0224"]
    op.key("reset")
    assert op.session.active_alarms == [] and op.machine() == (0.0, 0.0, 0.0)
    op.key("power", {"on": False})


def _set_up():
    op = Operator()
    _eager_start(op)
    _power_on_and_reference(op)
    _stock_and_tools(op)
    _edge_finder(op)
    _z_setter(op)
    return op


def test_offsets_after_edge_finder_and_z_setter():
    op = _set_up()
    tables = op.session.model.tables
    assert tables.work["G54"] == pytest.approx((-400.0, -250.0, 0.0), abs=1e-9)     # −455 + 55, −295 + 45
    # H n = setter gauge Z − 0 − 50: T1 −275 − 50 = −325, T2 −285 − 50 = −335, T3 −280 − 50 = −330
    assert [tables.tools[n].length for n in (1, 2, 3)] == pytest.approx([-325.0, -335.0, -330.0], abs=1e-9)
    errors = op.session.summary()["offset_errors"]
    assert errors["convention"] == "touch"
    assert errors["x"] == pytest.approx(0.0, abs=1e-9) and errors["y"] == pytest.approx(0.0, abs=1e-9)
    assert all(abs(t["z"]) < 1e-9 and abs(t["d"]) < 1e-9 for t in errors["tools"].values())
    assert op.session.crashes == [] and [(a["code"], a["seq"]) for a in op.session.alarm_log] == [("PS0224", 4)]


def _enter_and_prove(op):
    op.key("mode", {"mode": "EDIT"})
    op.key("program_text", {"number": 1, "text": PROGRAM})
    op.key("program_select", {"number": 1})
    op.key("mode", {"mode": "MEM"})
    for name in ("single_block", "dry_run", "machine_lock"):
        op.key("switch", {"name": name, "on": True})
    start = op.machine()
    presses = 0
    while True:
        op.key("cycle_start")
        presses += 1
        assert presses < 60
        if op.session.run.interpreter.ended:             # M30 is planned; the next event plays it out
            break
    for name in ("single_block", "dry_run", "machine_lock"):
        op.key("switch", {"name": name, "on": False})
    assert op.session.run is None                          # the run ended at M30
    assert op.machine() == start                           # machine lock: the axes never moved
    return presses


def test_single_block_dry_run_with_machine_lock_cuts_nothing():
    op = _set_up()
    assert _enter_and_prove(op) == 36                     # one press per NC block: lines 2..37 of PROGRAM
    assert measure.top_z(op.session.model.workpiece, 0.0, 0.0) == 0.0
    assert [a["code"] for a in op.session.alarm_log] == ["PS0224"] and op.session.crashes == []


def _run(op):
    op.mode("MEM")
    op.key("cycle_start")
    op.key("mode", {"mode": "JOG"})                        # no at_ms: the whole run plays out first
    return op.session.model.workpiece


def test_walkthrough_makes_the_drawing_part():
    op = _set_up()
    _enter_and_prove(op)
    wp = _run(op)
    assert [a["code"] for a in op.session.alarm_log] == ["PS0224"] and op.session.crashes == []
    # Pocket: tool centre loop 30 × 20 around (0, 0) at Z−5 with Ø10 → 40 × 30, 5 deep, R5 corners
    assert measure.gap(wp, (0.0, 0.0, -2.0), (1, 0))["width"] == pytest.approx(40.0, abs=1e-6)
    assert measure.gap(wp, (0.0, 0.0, -2.0), (0, 1))["width"] == pytest.approx(30.0, abs=1e-6)
    for x, y in ((0.0, 0.0), (12.0, 7.0), (-17.0, -12.0)):
        assert measure.depth(wp, x, y) == pytest.approx(5.0, abs=1e-9)
    # Slot: Ø6 centre along y −30 from x −35 to 35 at Z−3 → 6 wide (y −33..−27), 3 deep, ends at x ±38
    assert measure.gap(wp, (0.0, -30.0, -1.0), (0, 1))["width"] == pytest.approx(6.0, abs=1e-6)
    assert measure.depth(wp, 0.0, -30.0) == pytest.approx(3.0, abs=1e-9)
    assert measure.top_z(wp, 38.1, -30.0) == 0.0 and measure.top_z(wp, 37.9, -30.0) == pytest.approx(-3.0)
    # Groove: Ø8 ball, tip at Z−2 along y 30 → centre at Z+2; 1 below the top the width is
    # 2 √(4² − 3²) = 2 √7 = 5.2915
    assert measure.depth(wp, 0.0, 30.0) == pytest.approx(2.0, abs=1e-9)
    assert measure.gap(wp, (0.0, 30.0, -1.0), (0, 1))["width"] == pytest.approx(2 * math.sqrt(7), abs=1e-6)
    # the program's time passed on the virtual clock; the summary measures the same exact part
    assert op.session.time_s > 60.0
    assert op.session.model.position[2] == 0.0             # G91 G28 Z0. at the end


def test_replaying_the_walkthrough_gives_the_same_state():
    op = _set_up()
    _enter_and_prove(op)
    _run(op)
    again = replay({}, op.events)
    assert again.view() == op.session.view()
    assert again.summary() == op.session.summary()


def test_the_example_task_made_through_the_panel_is_within_every_tolerance():
    """examples/tasks/mill_zj01: the candidate loads T1, T4, T5, T7, keys in the exact offsets and runs the
    reference program O2001. Work zero: the finished top centre, 0.5 below the raw top, so in the "touch"
    convention G54 = (−400, −250, 0) and H n = (−420 − 0.5) + gauge length: T1 95 → −325.5, T4 95 → −325.5,
    T5 145 → −275.5, T7 110 → −310.5. Every item of the drawing must then be within its tolerance."""
    import json
    from pathlib import Path
    folder = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "mill_zj01"
    if not (folder / "task.json").exists():
        pytest.skip("the example task is not there")
    task = json.loads((folder / "task.json").read_text(encoding="utf-8"))
    program = (folder / task["reference_program"]["file"]).read_text(encoding="utf-8")
    op = Operator()
    op.session = MillSession(task["machine"])
    _power_on_and_reference(op)
    op.key("load_stock", {})
    op.key("vise", {"closed": True})
    for pocket in (1, 4, 5, 7):
        op.key("load_tool", {"pocket": pocket, "tool": pocket})
    for axis, value in (("X", -400.0), ("Y", -250.0), ("Z", 0.0)):
        op.key("offset", {"page": "work", "number": "G54", "axis": axis, "value": value, "op": "input"})
    for tool, h in ((1, -325.5), (4, -325.5), (5, -275.5), (7, -310.5)):
        op.key("offset", {"page": "geometry", "number": str(tool), "axis": "H", "value": h, "op": "input"})
    op.key("mode", {"mode": "EDIT"})
    programs = {}                              # the file holds the main program and its subprograms
    for line in program.splitlines():
        if line.strip() == "%":
            continue
        if line.startswith("O") and line[1:5].isdigit():
            current = int(line[1:5])
            programs[current] = []
        programs[current].append(line)
    for number, lines in programs.items():     # one program_text per program, as the editor saves them
        op.key("program_text", {"number": number, "text": "\n".join(lines) + "\n"})
    main = next(iter(programs))
    op.key("program_select", {"number": main})
    _run(op)
    assert op.session.alarm_log == [] and op.session.crashes == []
    summary = op.session.summary(items=task["items"], work_zero=task["work_zero"])
    assert [m["id"] for m in summary["measurements"] if not m["ok"]] == []
    assert len(summary["measurements"]) == len(task["items"])
    assert summary["offset_errors"]["convention"] == "touch"
    assert summary["offset_errors"]["max_abs"] == pytest.approx(0.0, abs=1e-9)
