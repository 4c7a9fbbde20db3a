"""Program text as the EDIT screen sees it: editing units (words) with their place in the text, and the
background check of a program.

An editing unit is what the FANUC screen cursor sits on (15i-MA operator's manual B-63324EN-1 §II-8.2.1): a
word (an address and its value), an EOB, a comment, a block-delete slash, the program number, or a macro
statement. Units are separated by an address letter, the first ``#`` of an assignment, ``/``, ``(``, ``;`` and
the first letter of IF, WHILE, GOTO, END and DO; ``=`` and the keywords inside an expression (EQ, SIN, THEN...)
do not separate. A newline ends a block as ``;`` does; ``;`` followed by a newline is one EOB.

Units keep their character span, so an edit splices the text and keeps the candidate's layout elsewhere.
"""
from __future__ import annotations

from bisect import bisect_left
from functools import lru_cache
from typing import NamedTuple, Optional

from .alarms import Alarm
from .lexer import KEYWORDS, End, Goto, IfGoto, Num, While, split_programs
from .program import MAX_SEQUENCE, split_m98_p

SEPARATING_KEYWORDS = ("IF", "WHILE", "GOTO", "END", "DO")
_KEYWORDS_LONGEST_FIRST = sorted(KEYWORDS, key=len, reverse=True)
_WAITING_END = "+-*/=[,#"   # a unit ending with one of these still expects its value


class Unit(NamedTuple):
    """One editing unit. ``kind``: program, word, macro, eob, comment, slash, percent or other."""

    kind: str
    start: int
    end: int
    text: str

    @property
    def key(self) -> str:
        """The unit as a search compares it: upper case, without blanks."""
        return "".join(self.text.split()).upper()


def split_units(text: str) -> "UnitList":
    """The editing units of ``text`` in order."""
    return UnitList(text)


class UnitList:
    """The units of a text, read line by line: every newline is an EOB, which ends any unit, so a line read before
    comes from a cache (an edit changes a line or two). Units are kept relative to their line and made absolute
    when asked for, so a long program costs no object per unit on each edit."""

    def __init__(self, text: str):
        self.relative: list[Unit] = []      # units with positions in their line
        self.owner: list[int] = []          # line index of each unit
        self.offsets: list[int] = []        # text position of each line
        offset = 0
        for k, line in enumerate(_lines(text)):
            units = _line_units(line)
            self.relative += units
            self.owner += [k] * len(units)
            self.offsets.append(offset)
            offset += len(line)

    def __len__(self) -> int:
        return len(self.relative)

    def __getitem__(self, i: int) -> Unit:
        unit = self.relative[i]
        offset = self.offsets[self.owner[i]]
        return Unit(unit.kind, unit.start + offset, unit.end + offset, unit.text) if offset else unit

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __eq__(self, other) -> bool:
        return list(self) == list(other)

    def kind(self, i: int) -> str:
        return self.relative[i].kind

    def word_in_line(self, i: int) -> int:
        """Index of unit ``i`` among the units of its line."""
        return i - bisect_left(self.owner, self.owner[i])

    def last_starting_before(self, position: int) -> int:
        """Index of the last unit that starts before ``position`` (0 when none does)."""
        low, high = 0, len(self) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self[middle].start < position:
                low = middle
            else:
                high = middle - 1
        return low


def _lines(text: str) -> list[str]:
    """The lines of ``text``, each with its newline (only '\\n' ends a line here)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


@lru_cache(maxsize=8192)
def _line_units(line: str) -> tuple:
    return tuple(_Scanner(line).units())


class _Scanner:
    def __init__(self, text: str):
        self.text = text
        self.found: list[Unit] = []
        self.open_kind: Optional[str] = None   # kind of the unit being read
        self.open_start = 0
        self.depth = 0                          # bracket depth: nothing inside brackets separates units
        self.block_empty = True                 # no unit yet in this block (for O, / and '#')

    def units(self) -> list[Unit]:
        text, i = self.text, 0
        while i < len(text):
            i = self._step(i, text[i])
        self._close(len(text))
        return self.found

    def _step(self, i: int, ch: str) -> int:
        if ch in "\n;":
            return self._eob(i, ch)
        if self.depth == 0 and ch == "(":
            return self._comment(i)
        if ch in " \t\r":
            return i + 1
        if self.depth == 0 and ch.isalpha():
            return self._letters(i)
        if self.depth == 0 and ch == "%":
            self._single(i, "percent")
            return i + 1
        if self.depth == 0 and ch == "/" and self.block_empty and self.open_kind is None:
            self._single(i, "slash")
            return i + 1
        if self.depth == 0 and ch == ":" and self.block_empty and self.open_kind is None:
            self._open(i, "program")
            return i + 1
        if self.depth == 0 and ch == "#" and not self._waiting(i):
            self._open(i, "macro")
            return i + 1
        if ch == "[":
            self.depth += 1
        elif ch == "]":
            self.depth = max(0, self.depth - 1)
        if self.open_kind is None:
            self._open(i, "other")
        return i + 1

    def _letters(self, i: int) -> int:
        text, j = self.text, i
        while j < len(text) and text[j].isalpha():
            j += 1
        run = text[i:j].upper()
        keyword = next((k for k in _KEYWORDS_LONGEST_FIRST if run.startswith(k)), None) if len(run) > 1 else None
        if keyword is None:                    # an address letter starts a word (O at a block start: the number)
            self._open(i, "program" if run[0] == "O" and self.block_empty and self.open_kind is None else "word")
            return i + 1
        if keyword in SEPARATING_KEYWORDS or self.open_kind is None:
            self._open(i, "macro")
        return i + len(keyword)

    def _waiting(self, i: int) -> bool:
        """True while the open unit still expects a value (``X#1``, ``#1=#2``), so ``#`` continues it."""
        if self.open_kind is None:
            return False
        so_far = self.text[self.open_start:i].rstrip()
        return so_far[-1].isalpha() or so_far[-1] in _WAITING_END

    def _eob(self, i: int, ch: str) -> int:
        self._close(i)
        end = i + 1
        if ch == ";":                           # ';' then blanks and a newline: one EOB
            k = end
            while k < len(self.text) and self.text[k] in " \t\r":
                k += 1
            if k < len(self.text) and self.text[k] == "\n":
                end = k + 1
        self.found.append(Unit("eob", i, end, self.text[i:end]))
        self.depth, self.block_empty = 0, True
        return end

    def _comment(self, i: int) -> int:
        self._close(i)
        close = self.text.find(")", i)
        newline = self.text.find("\n", i)
        end = len(self.text) if close < 0 else close + 1
        if 0 <= newline < end:
            end = newline                        # an unclosed comment ends with its line
        self.found.append(Unit("comment", i, end, self.text[i:end]))
        return end

    def _single(self, i: int, kind: str) -> None:
        self._close(i)
        self.found.append(Unit(kind, i, i + 1, self.text[i]))
        self.block_empty = False

    def _open(self, i: int, kind: str) -> None:
        self._close(i)
        self.open_kind, self.open_start = kind, i
        self.block_empty = False

    def _close(self, i: int) -> None:
        if self.open_kind is None:
            return
        body = self.text[self.open_start:i].rstrip()
        self.found.append(Unit(self.open_kind, self.open_start, self.open_start + len(body), body))
        self.open_kind = None


def render(units: list[Unit]) -> str:
    """Key-in units as program text: one blank between words, each EOB as `` ;`` and a newline."""
    out = ""
    for unit in units:
        if unit.kind == "eob":
            out = (out + " ;\n") if out and not out.endswith("\n") else out + ";\n"
        else:
            out = join(out, unit.key if unit.kind != "comment" else unit.text)
    return out


def join(left: str, right: str) -> str:
    """``left + right`` with the blanks between them reduced to one, or none at a line break."""
    left, right = left.rstrip(" \t"), right.lstrip(" \t")
    if left and right and not left.endswith("\n") and not right.startswith("\n"):
        return left + " " + right
    return left + right


def line_of(text: str, position: int) -> int:
    """1-based line of a character position."""
    return text.count("\n", 0, position) + 1


def program_numbers(text: str) -> list[int]:
    """The O numbers of the program-number blocks in ``text``."""
    return [p.number for p in split_programs(text) if p.number]


def changed_lines(old: str, new: str) -> tuple[str, str]:
    """The whole lines of ``old`` that an edit replaced, and the lines of ``new`` that replace them."""
    limit = min(len(old), len(new))
    prefix = _common_length(old, new, limit, lambda n: old[:n] == new[:n])
    suffix = _common_length(old, new, limit - prefix, lambda n: old[len(old) - n:] == new[len(new) - n:])
    start = old.rfind("\n", 0, prefix) + 1
    return old[start:_line_end(old, len(old) - suffix)], new[start:_line_end(new, len(new) - suffix)]


def _common_length(old: str, new: str, limit: int, same) -> int:
    """The largest n <= limit with same(n) (a binary search: slices compare in C)."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if same(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _line_end(text: str, position: int) -> int:
    newline = text.find("\n", position)
    return len(text) if newline < 0 else newline + 1



# ---------------------------------------------------------------------------------------------- background check


def lexer_alarms(text: str) -> list[Alarm]:
    """The alarms the lexer attaches to blocks (the ones execution would raise on reaching them)."""
    return [block.error for program in split_programs(text) for block in program.blocks if block.error]


def check(text: str, known_programs: frozenset = frozenset()) -> list[Alarm]:
    """Background check: every alarm found without running the program, with its line and column, in text order.

    Lexer errors; WHILE/DO and END pairing (PS0124) and loop numbers (PS0126); GOTO to a literal sequence number
    that is out of range (PS0128) or missing (PS0078); M98/G65 calling a literal program number that is neither in
    the text nor in ``known_programs`` (PS0076).
    """
    programs = split_programs(text)
    numbers = set(known_programs) | {p.number for p in programs}
    alarms: list[Alarm] = []
    for program in programs:
        alarms += [block.error for block in program.blocks if block.error]
        alarms += _loop_alarms(program.blocks)
        alarms += _goto_alarms(program.blocks)
        alarms += _call_alarms(program.blocks, numbers)
    return sorted(alarms, key=lambda a: (a.line, a.column))


def _loop_alarms(blocks) -> list[Alarm]:
    alarms, open_loops = [], []
    for block in blocks:
        stmt = block.statement
        if isinstance(stmt, (While, End)) and stmt.loop not in (1, 2, 3):
            alarms.append(Alarm("PS0126", block.line, f"loop number {stmt.loop} (must be 1..3)", block.column))
        elif isinstance(stmt, While):
            open_loops.append((stmt.loop, block))
        elif isinstance(stmt, End):
            if open_loops and open_loops[-1][0] == stmt.loop:
                open_loops.pop()
            else:
                alarms.append(Alarm("PS0124", block.line, f"END {stmt.loop} without DO {stmt.loop}", block.column))
    alarms += [Alarm("PS0124", b.line, f"DO {loop} without END {loop}", b.column) for loop, b in open_loops]
    return alarms


def _goto_alarms(blocks) -> list[Alarm]:
    sequences = {block.seq for block in blocks if block.seq is not None}
    alarms = []
    for block in blocks:
        stmt = block.statement
        target = stmt.target if isinstance(stmt, (Goto, IfGoto)) else None
        if not isinstance(target, Num):
            continue                             # a computed target is only known when running
        seq = int(round(target.value))
        if not 1 <= seq <= MAX_SEQUENCE:
            alarms.append(Alarm("PS0128", block.line, f"GOTO {seq}: sequence numbers are 1..{MAX_SEQUENCE}",
                                block.column))
        elif seq not in sequences:
            alarms.append(Alarm("PS0078", block.line, f"GOTO {seq}: no N{seq} in this program", block.column))
    return alarms


def _call_alarms(blocks, numbers: set) -> list[Alarm]:
    alarms = []
    for block in blocks:
        literal = {w.letter: w for w in block.words if isinstance(w.value, Num)}
        m98 = any(w.letter == "M" and isinstance(w.value, Num) and w.value.value == 98 for w in block.words)
        g65 = any(w.letter == "G" and isinstance(w.value, Num) and w.value.value == 65 for w in block.words)
        p_word = literal.get("P")
        if not (m98 or g65) or p_word is None:
            continue
        number = int(p_word.value.value)
        if m98:                                  # M98 P51002: the last four digits are the program number
            number, _ = split_m98_p(number, None)
        if number not in numbers:
            alarms.append(Alarm("PS0076", block.line, f"O{number:04d} is not in program memory", p_word.column))
    return alarms
