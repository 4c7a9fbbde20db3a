"""The lathe's fast path for long programs (issue #3 speed): lazily read spaced lines, plain G00/G01 blocks
executed from their text, the pending position and the kits of modes. Each must give exactly what the general
path gives; these tests switch the fast path off (interpreter.FAST_PATH) or read the same program both ways.

Default setup numbers (docs/lathe.md): T01 geometry offset G1 = (40, 89.5) (x radius); soft limit x_max = 240
(machine radius); start at machine (140, 239.5).
"""
import dataclasses
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

import simulators.cnc_lathe.interpreter as interpreter_module
from simulators.cnc_lathe.interpreter import LatheInterpreter, Stall
from simulators.cnc_lathe.machine import default_setup
from simulators.core.alarms import Alarm
from simulators.core.lexer import split_programs
from simulators.core.program import ProgramMemory

SETUP = default_setup()


def state_key(state):
    """A LatheState without the compensator object (compared by its fields)."""
    comp = state.compensator
    return (dataclasses.replace(state, compensator=None, contexts=()),
            None if comp is None else sorted((k, repr(v)) for k, v in vars(comp).items()))


def stepped(text, fast=True):
    """Motions, the state after every block (read as a panel would) and the stop, fast path on or off."""
    interpreter_module.FAST_PATH = fast
    try:
        interp = LatheInterpreter(text, SETUP)
        motions, states = [], []
        try:
            while not interp.ended:
                motions += interp.step()
                states.append(state_key(interp.state))
            stop = None
        except (Alarm, Stall) as exc:
            stop = (type(exc).__name__, getattr(exc, "code", ""), exc.line)
        return motions, states, stop, state_key(interp.state), interp.blocks_run
    finally:
        interpreter_module.FAST_PATH = True


def whole(text, fast=True):
    """Motions, stop and final state of a run through motions(), nothing read in between."""
    interpreter_module.FAST_PATH = fast
    try:
        interp = LatheInterpreter(text, SETUP)
        motions, stop = [], None
        try:
            for motion in interp.motions():
                motions.append(motion)
        except (Alarm, Stall) as exc:
            stop = (type(exc).__name__, getattr(exc, "code", ""), exc.line)
        return motions, stop, state_key(interp.state)
    finally:
        interpreter_module.FAST_PATH = True


def test_spaced_lines_are_read_when_asked_for_and_read_as_split_programs_reads_them():
    source = "%\nO0001\nG00 X100. Z50.\nN10 G01 X90. F0.2\nG01 Z40.\n#1=2.\nX80. (C)\n/G00 X70.\n%\n"
    memory = ProgramMemory.from_text(source)
    blocks = memory.main.blocks
    # lines 3 and 5 are spaced lines: kept as their line numbers until read
    assert [e if type(e) is int else "block" for e in blocks.entries] == [3, "block", 5, "block", "block", "block"]
    assert blocks.statement_at(2) is None and blocks.entries[2] == 5     # a loop scan does not read it either
    assert list(blocks) == split_programs(source)[0].blocks
    assert blocks[2].words[1].column == 5 and blocks[2].line == 5        # 'G01 Z40.': Z at column 5
    assert memory.main.sequence_index(10) == 1


def test_plain_moves_with_state_reads_after_each_block_match_the_general_path():
    rnd = random.Random(3)
    lines = ["O1", "T0101", "M03 S600", "G99 G00 X150. Z120."]
    for _ in range(300):
        code = rnd.choice(["G00 ", "G01 ", "", "", "G0 ", "G1 "])
        axes = rnd.choice(["X{:.1f} Z{:.1f}", "X{:.1f}", "Z{:.1f}", "U{:.1f} W{:.1f}", "X{:.1f} W{:.1f}"])
        a, b = rnd.uniform(80, 140), rnd.uniform(10, 110)
        if "U" in axes:
            a = rnd.uniform(-3, 3)
        if "W" in axes:
            b = rnd.uniform(-3, 3)
        feed = rnd.choice(["", "", " F0.2", " F0.25", " F2"])
        lines.append(code + axes.format(a, b) + feed)
    text = "\n".join(lines) + "\nM30\n"
    fast, slow = stepped(text), stepped(text, fast=False)
    assert fast == slow
    assert slow[2] is None and len(slow[0]) > 300
    assert whole(text) == whole(text, fast=False)


def test_a_bad_block_that_changes_the_motion_code_changes_nothing():
    # G01 mode, then G00 X900. (line 5): machine x = 450 + 40 = 490 > 240 → OT0500; the state stays line 4's
    text = "O1\nT0101\nM03 S600\nG01 X100. Z50. F0.2\nG00 X900.\nM30\n"
    for fast in (True, False):
        motions, states, stop, final, blocks = stepped(text, fast)
        assert stop == ("Alarm", "OT0500", 5)
        assert final == states[-1] and final[0].modal.motion == "G01"
        assert final[0].position == (90.0, 139.5)          # X100. Z50. → (50 + 40, 50 + 89.5)
    assert stepped(text) == stepped(text, fast=False) and whole(text) == whole(text, fast=False)


def test_switching_between_g00_and_g01_keeps_the_same_modes_as_the_general_path():
    # the kits of G00 and G01 are reused; each block's state must still be the general path's
    pairs = "G00 X120. Z80.\nG01 X110. Z70. F0.2\nG00 X121.\nG01 Z71. F0.3\nG00 Z75.\nG01 X112.\n"
    text = "O1\nT0101\nM03 S600\n" + pairs * 20 + "G98 G01 X100. F100.\nM30\n"
    assert stepped(text) == stepped(text, fast=False) and whole(text) == whole(text, fast=False)
    fast, slow = whole(text), whole(text, fast=False)
    assert fast == slow and fast[1] is None
    # the last feed of each round: F0.3 kept by 'G01 X112.'; 0.3 mm/rev × 600 rpm = 180 mm/min
    assert [m.feed_mm_min for m in fast[0] if m.line == 3 + 6 * 20][-1] == pytest.approx(180.0)
    assert fast[2][0].modal.feed_per_rev is False and fast[2][0].modal.feed == 100.0


def test_subprogram_lines_run_in_their_own_frame():
    text = ("O1\nT0101\nM03 S600\nG00 X150. Z120.\nM98 P21002\nG00 X140.\nM30\n"
            "O1002\nG01 U-2. W-1. F0.2\nG00 U2. W1.\nM99\n")
    fast, slow = stepped(text), stepped(text, fast=False)
    assert fast == slow and whole(text) == whole(text, fast=False)
    assert [m.program for m in fast[0] if m.kind == "feed"] == [1002, 1002]


def test_examctl_sim_writes_the_whole_report_and_exits_with_its_code(tmp_path):
    program = tmp_path / "air.nc"
    lines = ["O1", "G21 G99", "T0101", "M03 S600"] + [f"G01 X{100 + i % 7}. Z{50 + i % 5}. F0.2" for i in range(2000)]
    program.write_text("\n".join(lines + ["M30"]) + "\n")
    examctl = Path(sys.executable).with_name("examctl")
    done = subprocess.run([str(examctl), "sim", "lathe", str(program), "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # blocks: G21 G99, T0101, M03 S600, 2000 moves, M30 (O1 is no block); motions: T, M03, 2000 feeds, M30 stop
    assert report["completed"] and report["blocks"] == 2004 and report["motions"] == 2003
    missing = subprocess.run([str(examctl), "sim", "lathe", str(tmp_path / "none.nc"), "--json"],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and missing.stdout == ""


def test_sim_called_in_process_returns_instead_of_leaving(tmp_path, capsys):
    from exam_server.cli import main

    program = tmp_path / "p.nc"
    program.write_text("O1\nT0101\nG00 X100. Z50.\nM30\n")
    assert main(["sim", "lathe", str(program), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["completed"] is True


@pytest.mark.parametrize("line", ["G01 X12345678. Z1.", "G01 X-1234.5678 Z1.", "G01 X123456789 Z1."])
def test_long_numbers_take_the_general_path(line):
    # at most 8 digits (PS0003): 'X12345678.' and 'X-1234.5678' are fine, 'X123456789' is not
    text = f"O1\nT0101\nM03 S600\nG01 X100. Z50. F0.2\n{line}\nM30\n"
    assert stepped(text) == stepped(text, fast=False) and whole(text) == whole(text, fast=False)
