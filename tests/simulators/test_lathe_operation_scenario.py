"""The lathe walkthrough from the operator's procedure: power on → reference return X then Z → load the Ø50 bar
with 70 mm stick-out → tool setting by trial cut for four tools (MEASURE X<measured Ø>, MEASURE Z0) → program
entry → single-block dry run with machine lock → automatic run → the part measured.

Default tools (docs/lathe.md), tip vectors (x radius, z) from the turret reference point:
T01 (-40, -19.5), T02 (-40, -19.5), T03 grooving, left corner (-45, -12.5), T04 threading (-40, -8).
The turret reference point sits at tip − tip vector. Work zero after facing: machine z 69 (1 mm faced off the
70 mm stick-out). Exact offsets (direct tool setting, machine.py): X = −2·tip_x, Z = 69 − tip_z:
T01 X80 Z88.5, T02 X80 Z88.5, T03 X90 Z81.5, T04 X80 Z77.
"""
from __future__ import annotations

import pytest

from simulators.cnc_lathe import measure
from simulators.cnc_lathe.session import LatheSession
from simulators.core.trace import event

TIP = {1: (-40.0, -19.5), 2: (-40.0, -19.5), 3: (-45.0, -12.5), 4: (-40.0, -8.0)}
RAPID_PER_MS = {"X": 0.2, "Z": 0.25}   # rapid 12000 and 15000 mm/min at 100 %
FEED_PER_MS = 0.01                     # jog feed 600 mm/min
FACE_Z = 69.0                          # machine z of the faced end = work Z0

PROGRAM = """O1000 (SHAFT)
T0101
G99 S800 M03
G00 X52. Z2.
G71 U1.5 R0.5
G71 P10 Q20 U0.4 W0.1 F0.25
N10 G00 X30.
G01 Z0 F0.1
X34. Z-2.
Z-20.
X40.
Z-35.
N20 X52.
G00 X100. Z100.
T0202
S1200 M03
G00 X52. Z2.
G70 P10 Q20
G00 X100. Z100.
M05
M30
"""


class Operator:
    """Keys events into a session, with the deterministic jogs that put a tool tip where the operator wants."""

    def __init__(self):
        self.session = LatheSession({})
        self.seq = 0

    def do(self, type_, **payload):
        self.seq += 1
        return self.session.apply(event(self.seq, type_, payload))

    def ok(self, type_, **payload):
        reply = self.do(type_, **payload)
        assert reply["ok"], (type_, reply["reason"])
        assert not reply["new_crashes"], reply["new_crashes"]
        return reply

    def tip_to(self, station, r=None, z=None, rapid=False):
        """Jog so that the tip of ``station`` reaches radius r / z (axes in the order given: z first when both)."""
        tx, tz = TIP[station]
        for axis, target in (("Z", None if z is None else z - tz), ("X", None if r is None else r - tx)):
            if target is None:
                continue
            index = 0 if axis == "X" else 1
            if rapid:
                delta = target - self.session.model.position[index]
                ms = int(abs(delta) / RAPID_PER_MS[axis])
                if ms:
                    self.ok("jog", axis=axis, direction=1 if delta > 0 else -1, ms=ms, rapid=True)
            delta = target - self.session.model.position[index]
            ms = round(abs(delta) / FEED_PER_MS)
            if ms:
                self.ok("jog", axis=axis, direction=1 if delta > 0 else -1, ms=ms)

    def micrometer(self, z):
        self.ok("spindle", command="stop")
        reading = self.ok("measure", instrument="micrometer", placement={"z": z})["result"]
        assert reading["message"] is None
        return reading["value"]

    def offset(self, number, axis, value, op="measure"):
        return self.ok("offset", page="geometry", number=number, axis=axis, value=value, op=op)["result"]

    def run_until_idle(self, limit=200):
        """Cycle start until the run ends (single block needs one per block); returns the cycle starts used."""
        for count in range(1, limit):
            self.ok("cycle_start")
            if self.do("origin", axis="X")["status"] == "idle":   # a neutral key lets the plan play out
                return count
        raise AssertionError("the run did not end")


@pytest.fixture(scope="module")
def walkthrough():
    op = Operator()
    log = {}
    op.ok("power", on=True)
    # automatic operation before reference return: PS0224
    op.ok("mode", mode="MDI")
    op.ok("mdi", text="G00 U-2.")
    log["ps0224"] = op.ok("cycle_start")["new_alarms"]
    op.ok("reset")
    op.ok("mode", mode="REF")
    op.ok("ref_return", axis="X")
    op.ok("ref_return", axis="Z")
    op.ok("load_stock", stick_out=70)
    op.ok("chuck", closed=True)
    op.ok("mode", mode="JOG")
    op.ok("override", which="jog_feed", value=600)

    # T01: face 1 mm (MEASURE Z0), then trial cut Ø48 (MEASURE X<reading>)
    op.ok("spindle", command="cw", rpm=1500)
    op.tip_to(1, r=26, z=75, rapid=True)
    op.tip_to(1, z=FACE_Z)
    op.tip_to(1, r=-0.5)                  # facing past the centre
    op.tip_to(1, r=26)                    # retract in X only
    log["t1_z"] = op.offset(1, "Z", 0)
    op.tip_to(1, z=75)
    op.tip_to(1, r=24)
    op.tip_to(1, z=50)                    # Ø48 from the face to machine z 50
    op.tip_to(1, z=75)                    # retract in Z only
    log["t1_reading"] = op.micrometer(-10.0)     # work z -10 = machine 60: in the Ø48 band
    log["t1_x"] = op.offset(1, "X", log["t1_reading"])
    op.offset(1, "R", 0.8, "input")
    op.offset(1, "T", 3, "input")

    # T02: trial cut Ø46 to machine z 58; Z by bringing the tip in line with the faced end
    op.tip_to(1, r=60, z=120, rapid=True)
    op.ok("turret", station=2)
    op.ok("spindle", command="cw", rpm=1500)
    op.tip_to(2, r=26, z=75, rapid=True)
    op.tip_to(2, r=23)
    op.tip_to(2, z=58)
    op.tip_to(2, z=75)
    log["t2_reading"] = op.micrometer(-8.0)      # machine 62: Ø46 band 58..69
    log["t2_x"] = op.offset(2, "X", log["t2_reading"])
    op.tip_to(2, r=26)
    op.tip_to(2, z=FACE_Z)
    log["t2_z"] = op.offset(2, "Z", 0)
    op.offset(2, "R", 0.4, "input")
    op.offset(2, "T", 3, "input")

    # T03 grooving 3 mm (reference: left corner): plunge to Ø44 at z 66, turn sideways to z 61
    op.tip_to(2, r=60, z=120, rapid=True)
    op.ok("turret", station=3)
    op.ok("spindle", command="cw", rpm=800)
    op.tip_to(3, r=26, z=66, rapid=True)
    op.tip_to(3, r=22)
    op.tip_to(3, z=61)
    op.tip_to(3, z=75)                    # retract in Z only
    log["t3_reading"] = op.micrometer(-5.0)      # machine 65: Ø44 band 61..69
    log["t3_x"] = op.offset(3, "X", log["t3_reading"])
    op.tip_to(3, r=26)
    op.tip_to(3, z=FACE_Z)                # left corner in line with the face, blade outside the part
    log["t3_z"] = op.offset(3, "Z", 0)

    # T04 threading: touch the Ø44 surface, then the face line
    op.tip_to(3, r=60, z=120, rapid=True)
    op.ok("turret", station=4)
    op.tip_to(4, r=26, z=65, rapid=True)
    op.tip_to(4, r=22)
    log["t4_x"] = op.offset(4, "X", 44.0)
    op.tip_to(4, r=26)
    op.tip_to(4, z=FACE_Z)
    log["t4_z"] = op.offset(4, "Z", 0)
    op.tip_to(4, r=60, z=120, rapid=True)
    op.ok("turret", station=1)
    log["profile_before_program"] = op.session.model.workpiece.profile()

    # program entry, single-block dry run with machine lock, then the automatic run
    op.ok("mode", mode="EDIT")
    log["entry"] = op.ok("program_text", number=1000, text=PROGRAM)["result"]
    op.ok("mode", mode="MEM")
    op.ok("program_select", number=1000)
    for name in ("single_block", "dry_run", "machine_lock"):
        op.ok("switch", name=name, on=True)
    position_before = op.session.model.position
    log["dry_starts"] = op.run_until_idle()
    log["dry_position_kept"] = op.session.model.position == position_before
    log["profile_after_dry_run"] = op.session.model.workpiece.profile()
    for name in ("single_block", "dry_run", "machine_lock"):
        op.ok("switch", name=name, on=False)
    log["auto_starts"] = op.run_until_idle()
    log["summary"] = op.session.summary((), work_zero={"z": -1.0})
    return op, log


def test_automatic_operation_before_reference_return_raises_ps0224(walkthrough):
    _, log = walkthrough
    assert [a["code"] for a in log["ps0224"]] == ["PS0224"]


def test_trial_cut_readings_are_the_cut_diameters(walkthrough):
    _, log = walkthrough
    # tips at radius 24, 23, 22 → Ø48, Ø46, Ø44 (the imaginary tip of a T3 tool is the nose's lowest point)
    assert (log["t1_reading"], log["t2_reading"], log["t3_reading"]) == (48.0, 46.0, 44.0)


def test_measured_offsets_equal_the_exact_offsets(walkthrough):
    _, log = walkthrough
    got = {k: (log[f"t{k}_x"]["geometry"]["X"], log[f"t{k}_z"]["geometry"]["Z"]) for k in (1, 2, 3, 4)}
    # X = −2·tip_x; Z = 69 − tip_z  (see the module docstring)
    exact = {1: (80.0, 88.5), 2: (80.0, 88.5), 3: (90.0, 81.5), 4: (80.0, 77.0)}
    for k in exact:
        assert got[k][0] == pytest.approx(exact[k][0], abs=0.01)    # micrometer resolution
        assert got[k][1] == pytest.approx(exact[k][1], abs=1e-6)


def test_summary_offset_errors_within_instrument_resolution(walkthrough):
    _, log = walkthrough
    errors = log["summary"]["offset_errors"]["errors"]["tools"]
    for station in (1, 2, 3, 4):
        assert abs(errors[station]["x"]) <= 0.01 and abs(errors[station]["z"]) <= 1e-6
    assert errors[1]["r"] == pytest.approx(0.0) and errors[1]["t_ok"]


def test_program_entered_without_alarms(walkthrough):
    _, log = walkthrough
    assert log["entry"]["alarms"] == []


def test_dry_run_with_machine_lock_moves_and_cuts_nothing(walkthrough):
    _, log = walkthrough
    # one cycle start per NC block: T0101, G99 S800 M03, G00, G71 U R, G71 P Q (N10..N20 are its shape, skipped),
    # G00, T0202, S1200 M03, G00, G70, G00, M05, M30 = 13
    assert log["dry_starts"] == 13
    assert log["auto_starts"] == 1
    assert log["dry_position_kept"]
    assert log["profile_after_dry_run"] == log["profile_before_program"]


def test_final_part_matches_the_drawing(walkthrough):
    op, log = walkthrough
    part = op.session.model.workpiece
    # workpiece frame = machine − 70 = program − 1 (work zero at machine 69)
    assert measure.diameter_at(part, -1.0 - 11.0) == pytest.approx(34.0, abs=1e-6)    # Ø34, Z-2..-20
    assert measure.diameter_at(part, -1.0 - 27.5) == pytest.approx(40.0, abs=1e-6)    # Ø40, Z-20..-35
    assert measure.diameter_at(part, -1.0 - 45.0) == pytest.approx(50.0, abs=1e-6)    # raw bar beyond
    assert op.do("measure", instrument="micrometer", placement={"z": -12.0})["result"]["value"] == 34.0


def test_no_alarm_or_crash_after_the_reset(walkthrough):
    _, log = walkthrough
    summary = log["summary"]
    assert [a["code"] for a in summary["alarms"]] == ["PS0224"]
    assert summary["crashes"] == []
    assert summary["invalid_events"] == []
    assert summary["stations_used"] == [1, 2, 3, 4]
    assert summary["time_s"] > 0
