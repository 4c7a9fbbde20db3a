"""The machine-independent runner: step loop, Macro B statements, M98/M99/G65, block delete, endless loops.

A minimal machine records, for every NC block it executes, (program number, line, X value); expected traces
are read off the programs by hand.
"""
import pytest

from simulators.core.alarms import Alarm
from simulators.core.runner import ProgramRunner, Stall
from simulators.core.words import MILL_GCODES, evaluate_words


class Recorder(ProgramRunner):
    """Executes NC blocks by recording them; M02/M30 end the program."""

    def execute_nc(self, block):
        w = evaluate_words(block, self.variables, MILL_GCODES)
        if w.g_in_group(0) == "G65":
            self.macro_call(w)
            return []
        x = w.values["X"].number if "X" in w.values else None
        self.after_block(w, any(m in (2, 30) for m in w.mcodes))
        return [(self.cursor.program_number() if not self.ended else 0, block.line, x)]


def trace(text, **kw):
    runner = Recorder(text, **kw)
    return [x for _, _, x in runner.motions()], runner


def test_while_loop_and_assignment():
    xs, _ = trace("O1\n#1=0\nWHILE [#1 LT 3] DO 1\nX#1\n#1=#1+1\nEND 1\nM30\n")
    assert xs == [0, 1, 2, None]        # three passes (#1 = 0, 1, 2), then M30


def test_if_goto_and_if_then():
    text = "O1\n#1=5\nIF [#1 GT 3] GOTO 10\nX1.\nN10 X2.\nIF [#1 EQ 5] THEN #2=7\nX#2\nM30\n"
    xs, _ = trace(text)
    assert xs == [2, 7, None]           # X1. skipped by the jump; #2 set by THEN


def test_m98_repeat_count_and_return():
    text = "O1\nM98 P31002\nX9.\nM30\nO1002\nX1.\nM99\n"
    xs, _ = trace(text)
    # M98 block itself is recorded once, then O1002's X1. three times (P31002: 3 × O1002), then X9.
    assert xs == [None, 1, None, 1, None, 1, None, 9, None]


def test_m99_p_returns_to_sequence_number():
    text = "O1\nM98 P1002\nX5.\nN20 X6.\nM30\nO1002\nM99 P20\n"
    xs, _ = trace(text)
    assert xs == [None, None, 6, None]  # X5. skipped: M99 P20 returns to N20


def test_g65_arguments_are_local_to_the_call():
    text = "O1\n#1=1\nG65 P9010 A7. B2.\nX#1\nM30\nO9010\nX[#1*#2]\nM99\n"
    xs, _ = trace(text)
    assert xs == [14, None, 1, None]    # inside: A×B = 7×2; back in the main program #1 is 1 again


def test_block_delete_switch():
    text = "O1\n/X1.\nX2.\nM30\n"
    assert trace(text)[0] == [1, 2, None]
    assert trace(text, block_delete=True)[0] == [2, None]


def test_missing_subprogram_and_sequence():
    with pytest.raises(Alarm) as e:
        trace("O1\nM98 P4444\nM30\n")
    assert (e.value.code, e.value.line) == ("PS0076", 2)
    with pytest.raises(Alarm) as e:
        trace("O1\nGOTO 7\nM30\n")
    assert (e.value.code, e.value.line) == ("PS0078", 2)


def test_endless_loop_stalls():
    runner = Recorder("O1\nN1 X1.\nGOTO 1\n")
    runner.max_blocks = 50
    with pytest.raises(Stall) as e:
        list(runner.motions())
    assert e.value.line in (2, 3)       # the 51st block: 25 pairs of (X1., GOTO 1) then X1.
    assert runner.blocks_run == 51


def test_m99_in_main_program_is_a_stall():
    with pytest.raises(Stall) as e:
        trace("O1\nX1.\nM99\n")
    assert e.value.line == 3


def test_end_of_main_program_without_m30_ends():
    xs, runner = trace("O1\nX1.\n")
    assert xs == [1] and runner.ended


def test_subprogram_without_m99_returns():
    xs, _ = trace("O1\nM98 P2\nX3.\nM30\nO2\nX1.\n")
    assert xs == [None, 1, 3, None]


class Resuming(Recorder):
    """Skips the two blocks after any block with X9. (as a lathe G71 skips its shape blocks)."""

    def execute_nc(self, block):
        w = evaluate_words(block, self.variables, MILL_GCODES)
        x = w.values["X"].number if "X" in w.values else None
        resume = self.cursor.frame.index + 3 if x == 9 else None
        self.after_block(w, any(m in (2, 30) for m in w.mcodes), resume)
        return [x]


def test_after_block_can_resume_further_on():
    runner = Resuming("O1\nX9.\nX1.\nX2.\nX3.\nM30\n")
    assert list(runner.motions()) == [9, 3, None]     # X1. and X2. skipped
