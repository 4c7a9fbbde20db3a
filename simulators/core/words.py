"""Words of a block → typed values, with the per-machine G-code table and the decimal point rule.

The same core serves the lathe and the mill: each machine passes its own :class:`GCodeTable`, since G50, G73,
G74, G76, G90, G92, G94 and G98/G99 mean different things on them.

Decimal point rule (FANUC, parameter DPI = 0 by default): a distance word written without a decimal point is
in least input increments, so ``X100`` is 0.100 mm (metric) or 0.0100 inch; ``X100.`` is 100 mm. With
decimal-point input on, ``X100`` is 100 mm. A value that comes from a macro variable or an expression
(``X#1``, ``X[#1+2]``) counts as written with a decimal point.

Same-group G codes in one block: the last one is valid (FANUC). Two different one-shot (group 00) codes in
one block, an unknown G code, a repeated address or more than three M codes raise an alarm.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, NamedTuple, Optional

from .alarms import Alarm
from .lexer import Block, Num, Unary
from .macro import Variables, evaluate

MM_PER_INCH = 25.4
METRIC_INCREMENT = 0.001     # mm (IS-B)
INCH_INCREMENT = 0.0001      # inch (IS-B)
MAX_M_CODES = 3


@dataclass(frozen=True)
class GCodeTable:
    """G code (as tenths: G71 → 710) → (name, modal group). Group 0 is one-shot."""

    machine: str
    codes: Mapping[int, tuple[str, int]]

    def lookup(self, number: float, line: int, column: int) -> tuple[str, int]:
        key = int(round(number * 10))
        if abs(number * 10 - key) > 1e-6 or key not in self.codes:
            shown = f"G{number:g}" if number != int(number) else f"G{int(number):02d}"
            raise Alarm("PS0010", line, f"{shown} is not available on the {self.machine}", column)
        return self.codes[key]


def gcode_table(machine: str, groups: dict[int, tuple[str, ...]]) -> GCodeTable:
    codes = {}
    for group, names in groups.items():
        for name in names:
            codes[int(round(float(name[1:]) * 10))] = (name, group)
    return GCodeTable(machine, codes)


# FANUC 0i-TF, G-code system A. Group numbers follow the FANUC G-code list.
LATHE_GCODES = gcode_table("lathe", {
    0: ("G04", "G27", "G28", "G50", "G65", "G70", "G71", "G72", "G73", "G74", "G75", "G76"),
    1: ("G00", "G01", "G02", "G03", "G32", "G90", "G92", "G94"),
    2: ("G96", "G97"),
    5: ("G98", "G99"),
    6: ("G20", "G21"),
    7: ("G40", "G41", "G42"),
    14: ("G54", "G55", "G56", "G57", "G58", "G59"),
    16: ("G18",),
})

# FANUC 0i-MF (machining centre). Codes not listed (G92, G30, G31, G05.1, G12.1 …) raise PS0010.
MILL_GCODES = gcode_table("machining centre", {
    0: ("G04", "G10", "G27", "G28", "G52", "G53", "G65"),
    1: ("G00", "G01", "G02", "G03"),
    2: ("G17", "G18", "G19"),
    3: ("G90", "G91"),
    5: ("G94", "G95"),
    6: ("G20", "G21"),
    7: ("G40", "G41", "G42"),
    8: ("G43", "G44", "G49"),
    9: ("G73", "G74", "G76", "G80", "G81", "G82", "G83", "G84", "G85", "G86", "G87", "G88", "G89"),
    10: ("G98", "G99"),
    11: ("G50", "G51"),
    14: ("G54", "G55", "G56", "G57", "G58", "G59", "G54.1"),
    16: ("G68", "G69"),
    17: ("G15", "G16"),
    22: ("G50.1", "G51.1"),
})


class Value(NamedTuple):
    number: float
    has_point: bool      # written with a decimal point, or computed by a macro expression
    literal: bool        # a plain number in the text (not a variable or expression)
    column: int


class BlockWords(NamedTuple):
    """The evaluated words of one NC block."""

    line: int
    gcodes: tuple            # ((name, group, column), ...) in block order, same-group duplicates resolved
    mcodes: tuple            # (int, ...) in block order
    values: Mapping[str, Value]

    def g_in_group(self, group: int) -> Optional[str]:
        for name, g, _ in self.gcodes:
            if g == group:
                return name
        return None

    def has(self, letter: str) -> bool:
        return letter in self.values

    def letters(self) -> set:
        return set(self.values)


def evaluate_words(block: Block, variables: Variables, table: GCodeTable) -> BlockWords:
    """Evaluate every word of a block (macro values included) and check G codes. Changes nothing."""
    line = block.line
    gcodes: dict[int, tuple[str, int, int]] = {}
    order: list[int] = []
    mcodes: list[int] = []
    values: dict[str, Value] = {}
    one_shot: Optional[str] = None
    for word in block.words:
        expr = word.value
        if type(expr) is Num:    # the common case: a plain number
            raw, literal, has_point = expr.value, True, expr.has_point
        else:
            raw = evaluate(expr, variables, line)
            if raw is None:      # a null variable: the address is ignored
                continue
            literal = _is_literal(expr)
            has_point = _has_point(expr) if literal else True
        if word.letter == "G":
            name, group = table.lookup(raw, line, word.column)
            if group == 0 and one_shot is not None and one_shot != name:
                raise Alarm("PS0010", line, f"{one_shot} and {name} in one block", word.column)
            if group == 0:
                one_shot = name
            if group not in gcodes:
                order.append(group)
            gcodes[group] = (name, group, word.column)   # the last of a group is valid
        elif word.letter == "M":
            _check_integer_word("M", raw, literal, has_point, line, word.column)
            mcodes.append(int(round(raw)))
            if len(mcodes) > MAX_M_CODES:
                raise Alarm("PS0009", line, f"more than {MAX_M_CODES} M codes in one block", word.column)
        else:
            if word.letter in values:
                raise Alarm("PS0009", line, f"address {word.letter} appears twice in the block", word.column)
            values[word.letter] = Value(raw, has_point, literal, word.column)
    return BlockWords(line, tuple(gcodes[g] for g in order), tuple(mcodes), values)


def _is_literal(expr) -> bool:
    return isinstance(expr, Num) or (isinstance(expr, Unary) and isinstance(expr.operand, Num))


def _has_point(expr) -> bool:
    return expr.has_point if isinstance(expr, Num) else expr.operand.has_point


def _check_integer_word(letter: str, raw: float, literal: bool, has_point: bool, line: int, column: int) -> None:
    if literal and has_point:
        raise Alarm("PS0007", line, f"{letter} does not take a decimal point", column)
    if raw < 0:
        raise Alarm("PS0006", line, f"{letter} cannot be negative", column)


@dataclass(frozen=True)
class InputRules:
    """How numbers without a decimal point are read (machine parameters) and the active unit."""

    decimal_point_input: bool = False   # parameter DPI (3401#0)
    inch: bool = False                  # G20

    def distance(self, value: Value) -> float:
        """A distance word (X Z U W I K R …) in millimetres."""
        number = value.number
        if not value.has_point and not self.decimal_point_input:
            number *= INCH_INCREMENT if self.inch else METRIC_INCREMENT
        return number * MM_PER_INCH if self.inch else number

    def seconds(self, value: Value) -> float:
        """G04 X/U: seconds; without a decimal point in 0.001 s."""
        if not value.has_point and not self.decimal_point_input:
            return value.number * 0.001
        return value.number

    def feed(self, value: Value, per_revolution: bool) -> float:
        """F in mm/min (G98) or mm/rev (G99, thread leads). Without a decimal point: 1 mm/min or
        0.0001 mm/rev (0.00001 inch/rev) least increments [verify on a 0i-TF]."""
        number = value.number
        if per_revolution and not value.has_point and not self.decimal_point_input:
            number *= 0.00001 if self.inch else 0.0001
        return number * MM_PER_INCH if self.inch else number

    @staticmethod
    def integer(letter: str, value: Value, line: int) -> int:
        """Addresses that only take whole numbers (N O P L T S M, G76 P/Q, G04 P…)."""
        _check_integer_word(letter, value.number, value.literal, value.has_point, line, value.column)
        return int(round(value.number))
