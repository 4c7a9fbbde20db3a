"""Custom Macro B: variables, expression evaluation and the G65 argument mapping.

Variables (FANUC): #0 is always null ("vacant"); #1–#33 are local to a call level (a G65 call opens a new
level, M98 does not); #100–#199 and #500–#999 are common. System variables (#1000 and up) are not supported
and raise PS0115, as does any other number out of range.

Null semantics: a bare reference to a null variable yields null (``#2=#1`` copies the null); in arithmetic
null counts as 0; ``EQ``/``NE`` tell null from 0 while ``GT GE LT LE`` treat null as 0; an address whose value
is null is ignored (``X#1`` with #1 null is as if X were not written).

Angles are in degrees. Conditions evaluate to 1.0 (true) or 0.0 (false).
"""
from __future__ import annotations

import math
from typing import Optional

from .alarms import Alarm
from .lexer import Binary, Expr, Func, Num, Unary, Var

LOCAL_RANGE = range(1, 34)
COMMON_RANGES = (range(100, 200), range(500, 1000))
MAX_MACRO_NESTING = 5   # G65 levels (0i-F)

# G65 argument specification I: address → local variable number.
ARGUMENT_SPEC_I = {"A": 1, "B": 2, "C": 3, "I": 4, "J": 5, "K": 6, "D": 7, "E": 8, "F": 9, "H": 11, "M": 13,
                   "Q": 17, "R": 18, "S": 19, "T": 20, "U": 21, "V": 22, "W": 23, "X": 24, "Y": 25, "Z": 26}

Value = Optional[float]  # None is null


class Variables:
    """Macro variables with a stack of local levels (level 0 is the main program's)."""

    def __init__(self, common: Optional[dict[int, float]] = None):
        self.locals: list[dict[int, float]] = [{}]
        self.common: dict[int, float] = dict(common or {})

    @property
    def level(self) -> int:
        return len(self.locals) - 1

    def push(self, arguments: dict[int, float], line: int) -> None:
        if self.level >= MAX_MACRO_NESTING:
            raise Alarm("PS0077", line, f"more than {MAX_MACRO_NESTING} nested macro calls")
        self.locals.append(dict(arguments))

    def pop(self) -> None:
        if self.level > 0:
            self.locals.pop()

    def get(self, number: int, line: int) -> Value:
        self._check(number, line)
        if number == 0:
            return None
        if number in LOCAL_RANGE:
            return self.locals[-1].get(number)
        return self.common.get(number)

    def set(self, number: int, value: Value, line: int) -> None:
        self._check(number, line)
        if number == 0:
            raise Alarm("PS0116", line, "#0 is always null and cannot be written")
        store = self.locals[-1] if number in LOCAL_RANGE else self.common
        if value is None:
            store.pop(number, None)
        else:
            store[number] = value

    @staticmethod
    def _check(number: int, line: int) -> None:
        if number == 0 or number in LOCAL_RANGE or any(number in r for r in COMMON_RANGES):
            return
        raise Alarm("PS0115", line, f"#{number} is not a supported variable (#0, #1–#33, #100–#199, #500–#999)")

    def snapshot(self) -> tuple:
        """A hashable copy, for tests and replays."""
        return (tuple(tuple(sorted(level.items())) for level in self.locals), tuple(sorted(self.common.items())))


def variable_number(expr: Var, variables: Variables, line: int) -> int:
    raw = evaluate(expr.index, variables, line)
    if raw is None:
        raise Alarm("PS0115", line, "variable number is null")
    number = _round_half_away(raw)
    if number < 0:
        raise Alarm("PS0115", line, f"#{number}")
    return number


def evaluate(expr: Expr, variables: Variables, line: int) -> Value:
    """Value of an expression; None when it is a bare reference to a null variable."""
    if isinstance(expr, Num):
        return expr.value
    if isinstance(expr, Var):
        return variables.get(variable_number(expr, variables, line), line)
    if isinstance(expr, Unary):
        value = evaluate(expr.operand, variables, line)
        if value is None:
            return None
        return -value if expr.op == "-" else value
    if isinstance(expr, Binary):
        return _binary(expr, variables, line)
    if isinstance(expr, Func):
        args = [_zero_if_null(evaluate(a, variables, line)) for a in expr.args]
        return _function(expr.name, args, line)
    raise Alarm("PS0114", line, f"cannot evaluate {expr!r}")


def is_true(expr: Expr, variables: Variables, line: int) -> bool:
    return _zero_if_null(evaluate(expr, variables, line)) != 0.0


def _zero_if_null(value: Value) -> float:
    return 0.0 if value is None else value


def _binary(expr: Binary, variables: Variables, line: int) -> float:
    left = evaluate(expr.left, variables, line)
    right = evaluate(expr.right, variables, line)
    op = expr.op
    if op in ("EQ", "NE"):
        same = (left is None and right is None) or (left is not None and right is not None and left == right)
        return 1.0 if same == (op == "EQ") else 0.0
    a, b = _zero_if_null(left), _zero_if_null(right)
    if op == "GT":
        return float(a > b)
    if op == "GE":
        return float(a >= b)
    if op == "LT":
        return float(a < b)
    if op == "LE":
        return float(a <= b)
    if op == "+":
        return _checked(a + b, line)
    if op == "-":
        return _checked(a - b, line)
    if op == "*":
        return _checked(a * b, line)
    if op == "/":
        if b == 0:
            raise Alarm("PS0112", line, "division by zero")
        return _checked(a / b, line)
    if op == "MOD":
        ia, ib = _round_half_away(a), _round_half_away(b)
        if ib == 0:
            raise Alarm("PS0112", line, "MOD by zero")
        return float(int(math.fmod(ia, ib)))
    if op in ("AND", "OR", "XOR"):
        ia, ib = _round_half_away(a), _round_half_away(b)
        return float({"AND": ia & ib, "OR": ia | ib, "XOR": ia ^ ib}[op])
    raise Alarm("PS0114", line, f"unknown operator {op}")


def _checked(value: float, line: int) -> float:
    if math.isinf(value) or math.isnan(value) or abs(value) > 1e47:
        raise Alarm("PS0111", line, "result out of range")
    return value


def _round_half_away(value: float) -> int:
    return int(math.floor(abs(value) + 0.5)) * (1 if value >= 0 else -1)


def _function(name: str, args: list[float], line: int) -> float:
    x = args[0]
    if name == "SIN":
        return math.sin(math.radians(x))
    if name == "COS":
        return math.cos(math.radians(x))
    if name == "TAN":
        if abs(math.cos(math.radians(x))) < 1e-12:
            raise Alarm("PS0111", line, f"TAN[{x}] is infinite")
        return math.tan(math.radians(x))
    if name in ("ASIN", "ACOS"):
        if abs(x) > 1.0:
            raise Alarm("PS0119", line, f"{name}[{x}] needs -1..1")
        return math.degrees(math.asin(x) if name == "ASIN" else math.acos(x))
    if name == "ATAN":
        # FANUC returns 0..360 degrees (parameter NAT = 0).
        angle = math.degrees(math.atan2(x, args[1]) if len(args) == 2 else math.atan(x))
        return angle % 360.0
    if name == "SQRT":
        if x < 0:
            raise Alarm("PS0119", line, f"SQRT of negative {x}")
        return math.sqrt(x)
    if name == "ABS":
        return abs(x)
    if name == "RND":
        return float(_round_half_away(x))
    if name == "FIX":   # discard the fraction (toward zero)
        return float(math.trunc(x))
    if name == "FUP":   # raise the fraction to one (away from zero)
        return float(math.trunc(x) + (0 if x == math.trunc(x) else (1 if x > 0 else -1)))
    if name == "LN":
        if x <= 0:
            raise Alarm("PS0119", line, f"LN of {x}")
        return math.log(x)
    if name == "EXP":
        return _checked(math.exp(min(x, 110.0)) if x <= 110 else math.inf, line)
    if name == "POW":
        try:
            return _checked(math.pow(x, args[1]), line)
        except (ValueError, OverflowError):
            raise Alarm("PS0119", line, f"POW[{x},{args[1]}]")
    if name == "BIN":   # BCD → binary
        n = _round_half_away(x)
        if n < 0:
            raise Alarm("PS0119", line, "BIN of a negative value")
        digits = []
        while n:
            nibble = n & 0xF
            if nibble > 9:
                raise Alarm("PS0119", line, "BIN argument is not BCD")
            digits.append(nibble)
            n >>= 4
        return float(sum(d * 10 ** k for k, d in enumerate(digits)))
    if name == "BCD":   # binary → BCD
        n = _round_half_away(x)
        if n < 0:
            raise Alarm("PS0119", line, "BCD of a negative value")
        return float(int(str(n), 16))
    raise Alarm("PS0114", line, f"unknown function {name}")
