"""What was in force at each line of a run's program text: the N number, the tool and the compensation.

The simulators stamp every cut surface with the 1-based line of the run text that made it (the selected
program, then every other stored program, as ``Panel.programs.library_text`` joins them). To say "cut by N120
with T0202, G42 active" the grader walks that text in execution order, tracking only what provenance needs:
T (lathe ``T0202``; mill ``T n`` taking effect at ``M06``), D, G40/G41/G42. It follows M98 calls into stored
subprograms and re-walks a G70 finishing contour (P..Q) with the state of the G70 block, so the contour's
lines end up with the finishing tool. The last visit of a line wins (the last pass over a surface is the one
that is measured). Not followed: macro GOTO/WHILE and repeat counts; they change no modal state here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

_COMMENT = re.compile(r"\([^)]*\)")
_WORD = re.compile(r"([A-Z])\s*([-+]?(?:\d+\.?\d*|\.\d+))")
_PROGRAM = re.compile(r"^\s*O(\d+)")
MAX_DEPTH = 8


@dataclass(frozen=True)
class LineState:
    """Modal state while a line executes (after its own words)."""

    line: int
    text: str
    n: str = ""                 # "N120", or "" when the block has no sequence number
    tool: str = ""              # "T0202" (lathe) or "T1" (mill)
    d: str = ""                 # mill: "D1"
    comp: str = "G40"           # G40, G41 or G42
    program: int = 0

    @property
    def compensated(self) -> bool:
        return self.comp in ("G41", "G42")

    def describe(self) -> str:
        where = f"{self.n} (line {self.line})" if self.n else f"line {self.line}"
        tool = f" with {self.tool}" if self.tool else ""
        return f"{where}{tool}, {self.comp}"


def words_of(text: str) -> list[tuple[str, str]]:
    return _WORD.findall(_COMMENT.sub(" ", text.upper()))


class ProgramWalk:
    """The run text split into programs and walked from its first program."""

    def __init__(self, text: str, machine_type: str = "lathe", main_lines: int | None = None):
        self.lines = text.split("\n")
        self.main_lines = len(self.lines) if main_lines is None else main_lines
        self.mill = machine_type == "mill"
        self.words = [words_of(line) for line in self.lines]
        self.programs: dict[int, int] = {}         # O number -> index of its O line
        for index, line in enumerate(self.lines):
            match = _PROGRAM.match(_COMMENT.sub(" ", line.upper()))
            if match:
                self.programs.setdefault(int(match.group(1)), index)
        self.states: dict[int, LineState] = {}
        self.main = next((n for n, i in self.programs.items() if i < self.main_lines), 0)
        self.ends_with_m30 = False
        state = LineState(0, "", program=self.main)
        self._pending_tool = ""
        self._index = 0
        self._walk(0, state, 0, main=True)

    def at(self, line: int) -> LineState | None:
        """The state at 1-based ``line`` (None: never executed)."""
        return self.states.get(line)

    def _number(self, index: int) -> str:
        for letter, value in self.words[index]:
            if letter == "N":
                return f"N{int(float(value))}"
        return ""

    def _walk(self, start: int, state: LineState, depth: int, main: bool = False,
              stop_n: str | None = None) -> LineState:
        index, seen_o = start, False
        end = self.main_lines if main else len(self.lines)
        while index < end:
            if _PROGRAM.match(_COMMENT.sub(" ", self.lines[index].upper())) and stop_n is None:
                if seen_o:
                    break                               # the next program begins
                seen_o = True
            self._index = index
            state = self._step(index, state)
            self.states[index + 1] = state
            words = self.words[index]
            codes = {(letter, _code(value)) for letter, value in words if letter in "GM"}
            values = {letter: value for letter, value in words}
            if ("M", 98) in codes and "P" in values and depth < MAX_DEPTH:
                called = self.programs.get(int(float(values["P"])))
                if called is not None:
                    state = self._walk(called, state, depth + 1)
            if ("G", 70) in codes and "P" in values and "Q" in values and depth < MAX_DEPTH:
                self._contour(int(float(values["P"])), int(float(values["Q"])), state, depth)
            if stop_n is not None and self._number(index) == stop_n:
                break
            if ("M", 99) in codes and not main:
                break
            if ("M", 30) in codes or ("M", 2) in codes:
                self.ends_with_m30 = self.ends_with_m30 or main
                break
            index += 1
        return state

    def _contour(self, p: int, q: int, state: LineState, depth: int) -> None:
        """G70: the contour blocks N p..N q run again with the state of the G70 block."""
        here = max((i for i in self.programs.values() if i <= self._index), default=0)   # the current program
        first = next((i for i in range(here, len(self.lines)) if self._number(i) == f"N{p}"), None)
        if first is not None:
            self._walk(first, state, depth + 1, stop_n=f"N{q}")

    def _step(self, index: int, state: LineState) -> LineState:
        changes: dict = {"line": index + 1, "text": self.lines[index].strip(), "n": self._number(index)}
        for letter, value in self.words[index]:
            if letter == "G" and _code(value) in (40, 41, 42):
                changes["comp"] = f"G{_code(value)}"
            elif letter == "T":
                if self.mill:
                    self._pending_tool = f"T{int(float(value))}"
                else:
                    changes["tool"] = f"T{int(float(value)):04d}"
            elif letter == "D" and self.mill:
                changes["d"] = f"D{int(float(value))}"
            elif letter == "M" and _code(value) == 6 and self.mill and self._pending_tool:
                changes["tool"] = self._pending_tool
            elif letter == "O":
                changes["program"] = int(float(value))
        return replace(state, **changes)


def _code(value: str) -> float | int:
    number = float(value)
    return int(number) if number == int(number) else number


def has_program_number(text: str) -> bool:
    return any(_PROGRAM.match(_COMMENT.sub(" ", line.upper())) for line in text.split("\n"))


__all__ = ["LineState", "ProgramWalk", "has_program_number", "words_of"]
