"""Program memory and the cursor: M98 repeat counts, M99 (and M99 P), GOTO, loops, PS0076/0077/0078."""
import pytest

from simulators.core.alarms import Alarm
from simulators.core.program import Cursor, ProgramMemory, split_m98_p

SOURCE = """O0001
N10 G00 X1.
N20 M98 P21002
N30 M30
O1002
N1 G01 Z1.
N2 M99
O1003
M99 P30
"""


def test_programs_by_number_first_is_main():
    memory = ProgramMemory.from_text(SOURCE)
    assert memory.main.number == 1
    assert sorted(memory.programs) == [1, 1002, 1003]
    with pytest.raises(Alarm) as err:
        memory.get(9999, 12)
    assert err.value.code == "PS0076" and err.value.line == 12


@pytest.mark.parametrize("p,l,expected", [
    (51002, None, (1002, 5)),   # leading digits of P are the repeat count
    (1002, None, (1002, 1)),
    (1002, 5, (1002, 5)),       # P1002 L5
    (10001, None, (1, 1)),
])
def test_m98_p_splits(p, l, expected):
    assert split_m98_p(p, l) == expected


def test_repeat_count_runs_the_subprogram_n_times():
    memory = ProgramMemory.from_text(SOURCE)
    c = Cursor(memory)
    c.advance(); c.advance()            # past N10 and N20
    c.call(1002, 2, 3)
    visits = 0
    while c.frame.program.number == 1002:
        if c.block().seq == 1:
            visits += 1
        if c.block().seq == 2:
            c.return_from(None, c.block().line)
        else:
            c.advance()
    assert visits == 2 and c.block().seq == 30


def test_m99_p_returns_to_a_sequence_of_the_caller():
    memory = ProgramMemory.from_text(SOURCE)
    c = Cursor(memory)
    c.advance()
    c.call(1003, 1, 3)
    c.return_from(30, 9)
    assert c.frame.program.number == 1 and c.block().seq == 30


def test_goto_and_missing_sequence():
    c = Cursor(ProgramMemory.from_text(SOURCE))
    c.goto(30, 2)
    assert c.block().seq == 30
    with pytest.raises(Alarm) as err:
        c.goto(77, 2)
    assert err.value.code == "PS0078"
    with pytest.raises(Alarm) as err:
        c.goto(100000, 2)
    assert err.value.code == "PS0128"


def test_subprogram_nesting_limit():
    c = Cursor(ProgramMemory.from_text(SOURCE))
    for _ in range(10):
        c.call(1002, 1, 3)
    with pytest.raises(Alarm) as err:
        c.call(1002, 1, 6)
    assert err.value.code == "PS0077" and err.value.line == 6


def test_m99_in_main_returns_to_its_head():
    c = Cursor(ProgramMemory.from_text(SOURCE))
    c.advance(); c.advance()
    c.return_from(None, 4)
    assert c.block().seq == 10
