"""Program memory and the execution cursor: subprograms (M98/M99), macro calls (G65), GOTO and WHILE loops.

FANUC rules kept here:
- ``M98 P51002`` calls O1002 five times (digits above the last four are the repeat count); ``M98 P1002 L5``
  does the same. A missing program is PS0076; too deep nesting PS0077 (10 subprogram levels, 5 macro levels).
- ``M99`` returns to the block after the call (or restarts the subprogram while repeats remain); ``M99 Pn``
  returns to sequence number n of the caller. ``M99`` in the main program jumps back to its head (or to Nn).
- ``GOTO n`` searches the current program for sequence number n: PS0128 outside 1..99999, PS0078 not found.
- ``WHILE [..] DO m`` … ``END m`` with m in 1..3 (PS0126), unmatched loops PS0124.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Optional

from .alarms import Alarm
from .lexer import Block, Blocks, End, ProgramText, While, read_programs

MAX_SUBPROGRAM_NESTING = 10
MAX_MACRO_NESTING = 5
MAX_SEQUENCE = 99999


@dataclass(frozen=True)
class Program:
    number: int
    line: int
    blocks: Blocks     # any sequence of Block is taken and wrapped

    def __post_init__(self):
        if not isinstance(self.blocks, Blocks):
            object.__setattr__(self, "blocks", Blocks(list(self.blocks)))

    def sequence_index(self, seq: int) -> Optional[int]:
        """Index of the first block numbered N seq (None when there is none)."""
        return self._sequence_table.get(seq)

    @cached_property
    def _sequence_table(self) -> dict:
        table: dict = {}
        blocks = self.blocks
        for i, entry in enumerate(blocks.entries):
            if type(entry) is not int and entry.seq is not None:   # a spaced line has no N number
                table.setdefault(entry.seq, i)
        return table


class ProgramMemory:
    """Programs by O number; the first program in the file is the main program."""

    def __init__(self, programs: list[Program]):
        if not programs:
            programs = [Program(0, 1, ())]
        self.main = programs[0]
        self.programs: dict[int, Program] = {}
        for program in programs:
            self.programs.setdefault(program.number, program)

    @classmethod
    def from_text(cls, source: str) -> "ProgramMemory":
        return cls([_freeze(p) for p in read_programs(source)])

    def get(self, number: int, line: int) -> Program:
        program = self.programs.get(number)
        if program is None:
            raise Alarm("PS0076", line, f"O{number:04d} is not in program memory")
        return program


def _freeze(text: ProgramText) -> Program:
    return Program(text.number, text.line, text.blocks)


@dataclass
class Frame:
    program: Program
    index: int
    repeats_left: int = 0          # further executions after this one
    macro: bool = False            # a G65 call (its own local variables)
    call_line: int = 0


def split_m98_p(p_value: int, l_value: Optional[int]) -> tuple[int, int]:
    """(program number, repeat count) of M98 P… [L…]: P51002 → (1002, 5); P1002 L5 → (1002, 5)."""
    if p_value > 9999:
        return p_value % 10000, p_value // 10000
    return p_value, (l_value if l_value is not None else 1)


class Cursor:
    """Where execution stands: a stack of frames, the top one being the running program."""

    def __init__(self, memory: ProgramMemory):
        self.memory = memory
        self.stack: list[Frame] = [Frame(memory.main, 0)]

    @property
    def frame(self) -> Frame:
        return self.stack[-1]

    def block(self) -> Optional[Block]:
        """The block to execute next, or None at the end of the main program."""
        frame = self.frame
        if frame.index < len(frame.program.blocks):
            return frame.program.blocks[frame.index]
        return None

    def advance(self) -> None:
        self.frame.index += 1

    def at_end_of_subprogram(self) -> bool:
        return len(self.stack) > 1 and self.frame.index >= len(self.frame.program.blocks)

    def call(self, number: int, repeats: int, line: int, macro: bool = False) -> None:
        """Enter program ``number`` (the caller's index must already point past the calling block)."""
        program = self.memory.get(number, line)
        depth = sum(1 for f in self.stack[1:] if f.macro == macro)
        limit = MAX_MACRO_NESTING if macro else MAX_SUBPROGRAM_NESTING
        if depth >= limit:
            raise Alarm("PS0077", line, f"more than {limit} nested {'macro' if macro else 'subprogram'} calls")
        if repeats < 1:
            return
        self.stack.append(Frame(program, 0, repeats - 1, macro, line))

    def return_from(self, seq: Optional[int], line: int) -> Optional[Frame]:
        """M99: leave the current program. Returns the frame left when a macro level ends, else None."""
        frame = self.frame
        if len(self.stack) == 1:  # M99 in the main program: back to the head (or to Nn)
            frame.index = self._seq_or_alarm(frame.program, seq, line) if seq is not None else 0
            return None
        if frame.repeats_left > 0 and seq is None:
            frame.repeats_left -= 1
            frame.index = 0
            return None
        self.stack.pop()
        if seq is not None:
            self.frame.index = self._seq_or_alarm(self.frame.program, seq, line)
        return frame if frame.macro else None

    def goto(self, seq: float, line: int) -> None:
        number = int(round(seq))
        if number < 1 or number > MAX_SEQUENCE:
            raise Alarm("PS0128", line, f"GOTO {number}: sequence numbers are 1..{MAX_SEQUENCE}")
        self.frame.index = self._seq_or_alarm(self.frame.program, number, line)

    @staticmethod
    def _seq_or_alarm(program: Program, seq: int, line: int) -> int:
        index = program.sequence_index(seq)
        if index is None:
            raise Alarm("PS0078", line, f"N{seq} not found in O{program.number:04d}")
        return index

    # -- WHILE … DO m … END m
    def skip_loop(self, loop: int, line: int) -> None:
        """Condition false: continue after the matching END m."""
        blocks = self.frame.program.blocks
        for i in range(self.frame.index + 1, len(blocks)):
            stmt = blocks.statement_at(i)
            if isinstance(stmt, End) and stmt.loop == loop:
                self.frame.index = i + 1
                return
        raise Alarm("PS0124", line, f"no END {loop} after DO {loop}")

    def loop_back(self, loop: int, line: int) -> None:
        """END m: go back to the matching WHILE/DO m (which evaluates its condition again)."""
        blocks = self.frame.program.blocks
        for i in range(self.frame.index - 1, -1, -1):
            stmt = blocks.statement_at(i)
            if isinstance(stmt, While) and stmt.loop == loop:
                self.frame.index = i
                return
        raise Alarm("PS0124", line, f"END {loop} without DO {loop}")

    def check_loop_number(self, loop: int, line: int) -> None:
        if loop not in (1, 2, 3):
            raise Alarm("PS0126", line, f"loop number {loop} (must be 1..3)")

    def program_number(self) -> int:
        return self.frame.program.number

    def frames_snapshot(self) -> tuple:
        return tuple((f.program.number, f.index, f.repeats_left, f.macro) for f in self.stack)


__all__ = ["Program", "ProgramMemory", "Cursor", "Frame", "split_m98_p", "MAX_SUBPROGRAM_NESTING",
           "MAX_MACRO_NESTING"]
