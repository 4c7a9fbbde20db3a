"""Issue #9: server memory per active session, at most 8 MB for a mill and 2 MB for a lathe.

Measured with tracemalloc (numpy reports its array buffers to it): the bytes still allocated, after a garbage
collection, between just before the session is built and just after its last event. Modules are imported first,
so only what the session keeps counts.
"""
import gc
import json
import tracemalloc
from pathlib import Path

import pytest

from simulators.cnc_lathe.session import replay as lathe_replay
from simulators.cnc_mill import measure
from simulators.cnc_mill.session import MillSession, replay
from simulators.core.trace import event, parse_jsonl

TASKS = Path(__file__).resolve().parents[2] / "examples" / "tasks"
MB = 1_000_000
MILL_LIMIT = 8 * MB
LATHE_LIMIT = 2 * MB


def _example(name):
    folder = TASKS / name
    machine = json.loads((folder / "task.json").read_text(encoding="utf-8"))["machine"]
    return machine, parse_jsonl((folder / "trace_reference.jsonl").read_text(encoding="utf-8"))


def _retained(build):
    """(object built, bytes it still holds once built)."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        built = build()
        gc.collect()
        return built, tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()


class Driver:
    """Feeds events to a live session without keeping them (the session's memory only is measured)."""

    def __init__(self, machine):
        self.session = MillSession(machine)
        self.seq = 0

    def __call__(self, type_, payload, ok=True):
        self.seq += 1
        reply = self.session.apply(event(self.seq, type_, payload))
        assert ok is None or reply["ok"] is ok, (type_, payload, reply["reason"])
        return reply

    def jog_to(self, axis, target):
        """Rapid jog near the target, then INC steps of 1 and 0.1 mm onto it (machine, multiples of 0.1)."""
        index = "XYZ".index(axis)
        rate = 20000.0 if axis == "Z" else 24000.0                   # mm/min
        grain = 3 if axis == "Z" else 5                               # ms that make whole mm: 1/3 or 0.4 mm/ms
        ms = int(abs(target - self.position[index]) / (rate / 60000.0)) - 1
        ms -= ms % grain
        self("mode", {"mode": "JOG"}, ok=None)                      # refused when already in JOG
        if ms > 0:
            direction = 1 if target > self.position[index] else -1
            self("jog", {"axis": axis, "direction": direction, "ms": ms, "rapid": True})
        self("mode", {"mode": "INC"})
        for step in (1.0, 0.1):
            self("increment", {"mm": step})
            for _ in range(int(round(abs(target - self.position[index]) / step, 6))):
                self("step", {"axis": axis, "direction": 1 if target > self.position[index] else -1})
        assert self.position[index] == pytest.approx(target, abs=1e-6)

    @property
    def position(self):
        return self.session.model.position


def _zigzag_by_jogs(machine, jogs):
    """T1 Ø10 at 800 rpm, tip 0.5 below the top of the 80 × 80 block, then ``jogs`` feed jogs at 300 mm/min,
    alternately 80 mm along X (across the whole block) and 0.05 mm along Y: every one of them cuts."""
    k = Driver(machine)
    k("power", {"on": True})
    k("mode", {"mode": "REF"})
    for axis in "ZXY":
        k("ref_return", {"axis": axis})
    k("load_stock", {})
    k("vise", {"closed": True})
    k("load_tool", {"pocket": 1, "tool": 1})
    k("mode", {"mode": "JOG"})
    k("spindle_tool", {"pocket": 1})
    k("spindle", {"command": "cw", "rpm": 800})
    # work = machine − (−400, −250, −420); tip = gauge − 95: x −60 → X −460, y −30 → Y −280,
    # tip z −0.5 → Z = −420 + 95 − 0.5 = −325.5
    k.jog_to("X", -460.0)
    k.jog_to("Y", -280.0)
    k.jog_to("Z", -325.5)
    k("mode", {"mode": "JOG"})
    k("override", {"which": "jog_feed", "value": 300})
    k("jog", {"axis": "X", "direction": 1, "ms": 4000})              # 300 mm/min × 4 s = 20 mm: x −40
    for i in range(jogs):
        if i % 2 == 0:                                                # 16 s = 80 mm: x −40 → 40 → −40 …
            k("jog", {"axis": "X", "direction": 1 if i % 4 == 0 else -1, "ms": 16000})
        else:                                                         # 10 ms = 0.05 mm
            k("jog", {"axis": "Y", "direction": 1, "ms": 10})
    return k.session


def test_mill_session_after_the_example_reference_trace_holds_at_most_8_mb():
    machine, events = _example("mill_zj01")
    session, held = _retained(lambda: replay(machine, events))
    workpiece = session.model.vise.workpiece
    # the trace really machined: O2001's pocket floor is G54 Z−5.025 (N350) with G54 0.5 below the raw top
    assert len(workpiece.model.sweeps) > 100
    assert workpiece.top(0.0, 0.0) == pytest.approx(-0.5 - 5.025, abs=1e-9)
    # 80 × 80 block at 0.1 mm: the float64 grid alone is 800 × 800 × 8 = 5.12 MB (was 12.8 MB with floor and
    # the tile copy)
    assert held <= MILL_LIMIT, f"{held / MB:.2f} MB"


def test_mill_session_after_2000_cutting_jogs_holds_at_most_8_mb():
    machine, _ = _example("mill_zj01")
    session, held = _retained(lambda: _zigzag_by_jogs(machine, 2000))
    workpiece = session.model.vise.workpiece
    assert len(workpiece.model.sweeps) >= 2001                       # the entry jog and every zigzag jog
    # Y steps 1000 × 0.05 = 50: the cutter's centre went from y −30 to 20, its edge from −35 to 25
    assert session.model.position[1] == pytest.approx(-250.0 + 20.0, abs=1e-6)
    assert measure.depth(workpiece, 0.0, -34.0) == pytest.approx(0.5, abs=1e-9)
    assert measure.depth(workpiece, 0.0, 24.0) == pytest.approx(0.5, abs=1e-9)
    assert measure.top_z(workpiece, 0.0, 26.0) == 0.0
    assert held <= MILL_LIMIT, f"{held / MB:.2f} MB"


def test_lathe_session_after_the_example_reference_trace_holds_at_most_2_mb():
    machine, events = _example("lathe_zj01")
    session, held = _retained(lambda: lathe_replay(machine, events))
    assert session.view()                                             # a live session, not an empty shell
    assert held <= LATHE_LIMIT, f"{held / MB:.2f} MB"


def test_mill_session_on_the_default_block_after_2000_cutting_jogs_holds_at_most_8_mb():
    """The machine's default 100 × 80 block (the task's stock left out): its display grid is the largest."""
    machine, _ = _example("mill_zj01")
    session, held = _retained(lambda: _zigzag_by_jogs({k: v for k, v in machine.items() if k != "stock"}, 2000))
    assert len(session.model.vise.workpiece.model.sweeps) >= 2001
    assert held <= MILL_LIMIT, f"{held / MB:.2f} MB"
