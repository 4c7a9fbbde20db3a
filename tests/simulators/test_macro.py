"""Custom Macro B: variables, null semantics, arithmetic, functions, conditions, alarms."""
import math

import pytest

from simulators.core.alarms import Alarm
from simulators.core.lexer import parse_block
from simulators.core.macro import Variables, evaluate


def run(*statements, variables=None):
    v = variables or Variables()
    for text in statements:
        stmt = parse_block(text, 1).statement
        number = int(evaluate(stmt.target.index, v, 1))
        v.set(number, evaluate(stmt.value, v, 1), 1)
    return v


def value(expr_text, variables=None):
    v = variables or Variables()
    return evaluate(parse_block("#1=" + expr_text, 1).statement.value, v, 1)


def test_arithmetic_and_precedence():
    assert value("1+2*3") == 7.0
    assert value("[1+2]*3") == 9.0
    assert value("10/4") == 2.5
    assert value("-[2+3]") == -5.0
    assert value("7 MOD 3") == 1.0


@pytest.mark.parametrize("expr,expected", [
    ("SIN[30]", 0.5), ("COS[60]", 0.5), ("TAN[45]", 1.0), ("ASIN[1]", 90.0), ("ACOS[0]", 90.0),
    ("ATAN[1]/[1]", 45.0), ("ATAN[-1,-1]", 225.0),      # FANUC ATAN answers 0..360
    ("SQRT[16]", 4.0), ("ABS[-3.5]", 3.5), ("ROUND[2.5]", 3.0), ("ROUND[-2.5]", -3.0),
    ("FIX[2.7]", 2.0), ("FIX[-2.7]", -2.0), ("FUP[2.1]", 3.0), ("FUP[-2.1]", -3.0),
    ("BCD[25]", 37.0),   # 25 → 0010 0101 = 0x25 = 37
    ("BIN[37]", 25.0),
    ("LN[1]", 0.0), ("EXP[0]", 1.0), ("POW[2,10]", 1024.0),
])
def test_functions_in_degrees(expr, expected):
    assert math.isclose(value(expr), expected, abs_tol=1e-12)


def test_null_semantics():
    v = Variables()
    assert value("#1", v) is None                  # a bare null stays null
    assert value("#1+2", v) == 2.0                 # null counts as 0 in arithmetic
    assert value("#1*5", v) == 0.0
    assert value("#1 EQ #0", v) == 1.0             # EQ tells null from 0
    assert value("0 EQ #0", v) == 0.0
    assert value("0 NE #0", v) == 1.0
    assert value("#1 GE 0", v) == 1.0              # GT/GE/LT/LE treat null as 0
    run("#2=#1", variables=v)                      # copying a null gives a null
    assert v.get(2, 1) is None


def test_locals_and_commons_by_level():
    v = run("#1=5", "#100=7", "#500=9")
    v.push({1: 1.0, 24: 20.0}, 1)
    assert v.get(1, 1) == 1.0 and v.get(24, 1) == 20.0 and v.get(2, 1) is None
    assert v.get(100, 1) == 7.0 and v.get(500, 1) == 9.0      # commons are shared
    run("#1=99", "#101=3", variables=v)
    v.pop()
    assert v.get(1, 1) == 5.0 and v.get(101, 1) == 3.0


@pytest.mark.parametrize("text,code", [
    ("#0=1", "PS0116"),           # #0 is read-only
    ("#1=1/0", "PS0112"),
    ("#1=SQRT[-1]", "PS0119"),
    ("#1=ASIN[2]", "PS0119"),
    ("#1=#3000", "PS0115"),       # system variables are not supported
    ("#1=#34", "PS0115"),
    ("#1=1 MOD 0", "PS0112"),
])
def test_alarms(text, code):
    with pytest.raises(Alarm) as err:
        run(text)
    assert err.value.code == code


def test_nesting_limit_of_local_levels():
    v = Variables()
    for _ in range(5):
        v.push({}, 1)
    with pytest.raises(Alarm) as err:
        v.push({}, 9)
    assert err.value.code == "PS0077" and err.value.line == 9


def test_logic_operators_on_conditions():
    assert value("[1 EQ 1] AND [2 EQ 3]") == 0.0
    assert value("[1 EQ 1] OR [2 EQ 3]") == 1.0
    assert value("[1 EQ 1] XOR [2 EQ 2]") == 0.0
    assert value("12 AND 10") == 8.0     # bitwise on whole numbers: 1100 & 1010
