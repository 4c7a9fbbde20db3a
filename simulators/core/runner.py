"""The machine-independent part of running a program: the step loop, Macro B statements and program calls.

A machine's interpreter subclasses :class:`ProgramRunner` and supplies two things: how to evaluate the words of
a block (its G-code table and addresses) and how to execute an NC block (:meth:`ProgramRunner.execute_nc`).
The runner owns the cursor over program memory (``simulators.core.program``), the macro variables, block delete,
the statements ``#i=…``, ``IF … GOTO``, ``IF … THEN``, ``WHILE … DO``/``END``, ``GOTO``, the calls ``M98``/
``G65`` and the return ``M99``, and the endless-loop guard (a run of more than ``max_blocks`` blocks stalls).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

from .alarms import Alarm
from .lexer import Assign, Block, End, Goto, IfGoto, IfThen, While
from .macro import ARGUMENT_SPEC_I, Variables, evaluate, is_true, variable_number
from .program import Cursor, ProgramMemory, split_m98_p
from .words import BlockWords, InputRules

MAX_BLOCKS = 500_000     # executed blocks before the run counts as stalled (an endless loop)


class Stall(Exception):
    """The machine waits at a line and never finishes (an endless loop, a feed that cannot move): a result of
    the run, not an alarm."""

    def __init__(self, line: int, reason: str):
        self.line = line
        self.reason = reason
        super().__init__(f"stalled at line {line}: {reason}")

    def to_dict(self) -> dict:
        return {"line": self.line, "reason": self.reason}


class ProgramRunner(ABC):
    """Runs a program file block by block: ``for motion in runner.motions(): …``.

    Subclasses implement :meth:`execute_nc` (one NC block → its motions; it must move the cursor on, usually
    through :meth:`after_block`) and may override :meth:`finish_at_end` (motions owed when the main program runs
    out of blocks). Alarms and stalls propagate out of the generator at the block where they happen.
    """

    max_blocks = MAX_BLOCKS

    def __init__(self, source: str, block_delete: bool = False, variables: Variables | None = None):
        self.memory = ProgramMemory.from_text(source)
        self.cursor = Cursor(self.memory)
        self.variables = variables if variables is not None else Variables()
        self.block_delete = block_delete
        self.blocks_run = 0
        self.ended = False
        self.end_line = 0

    # ------------------------------------------------------------------------------------------ hooks
    @abstractmethod
    def execute_nc(self, block: Block) -> list:
        """Execute one NC block (words, no macro statement) and return its motions."""

    def finish_at_end(self) -> list:
        """The main program ran out of blocks without M02/M30."""
        return []

    # ------------------------------------------------------------------------------------------ loop
    def motions(self) -> Iterator:
        while not self.ended:
            yield from self.step()

    def step(self) -> list:
        """Execute the next block; return its motions."""
        frame = self.cursor.stack[-1]
        blocks = frame.program.blocks
        entries, index = blocks.entries, frame.index
        if index >= len(entries):
            if self.cursor.at_end_of_subprogram():   # a subprogram without M99 returns anyway
                self.return_from_call(None, frame.call_line)
                return []
            self.ended = True
            return self.finish_at_end()
        self.blocks_run += 1
        line = entries[index]
        if type(line) is int:                        # a spaced line not read yet (see lexer.Blocks)
            if self.blocks_run > self.max_blocks:
                raise Stall(line, f"more than {self.max_blocks} blocks executed (endless loop?)")
            motions = self.execute_plain(blocks.lines[line - 1], line)
            if motions is not None:
                return motions
        block = blocks[index]
        if self.blocks_run > self.max_blocks:
            raise Stall(block.line, f"more than {self.max_blocks} blocks executed (endless loop?)")
        if block.delete and self.block_delete:
            self.cursor.advance()
            return []
        if block.error is not None:
            raise block.error
        if block.statement is not None:
            self.statement(block)
            return []
        if not block.words:
            self.cursor.advance()
            return []
        return self.execute_nc(block)

    def execute_plain(self, text: str, line: int) -> list | None:
        """A shortcut a machine may take for a spaced line of plain words (``G01 X93.7 Z63.3 F0.2``, see
        ``lexer._SPACED_WORDS``) read from its text: the same effect and motions as :meth:`execute_nc` of its
        Block, or None (nothing done) to have the Block executed."""
        return None

    # ------------------------------------------------------------------------------------------ macro
    def statement(self, block: Block) -> None:
        stmt, line, cursor = block.statement, block.line, self.cursor
        if isinstance(stmt, Assign):
            self.assign(stmt, line)
            cursor.advance()
        elif isinstance(stmt, IfGoto):
            if is_true(stmt.condition, self.variables, line):
                cursor.goto(self.sequence_number(stmt.target, line), line)
            else:
                cursor.advance()
        elif isinstance(stmt, IfThen):
            if is_true(stmt.condition, self.variables, line):
                self.assign(stmt.statement, line)
            cursor.advance()
        elif isinstance(stmt, While):
            cursor.check_loop_number(stmt.loop, line)
            if stmt.condition is None or is_true(stmt.condition, self.variables, line):
                cursor.advance()
            else:
                cursor.skip_loop(stmt.loop, line)
        elif isinstance(stmt, End):
            cursor.check_loop_number(stmt.loop, line)
            cursor.loop_back(stmt.loop, line)
        elif isinstance(stmt, Goto):
            cursor.goto(self.sequence_number(stmt.target, line), line)

    def assign(self, stmt: Assign, line: int) -> None:
        number = variable_number(stmt.target, self.variables, line)
        self.variables.set(number, evaluate(stmt.value, self.variables, line), line)

    def sequence_number(self, expr, line: int) -> float:
        value = evaluate(expr, self.variables, line)
        if value is None:
            raise Alarm("PS0128", line, "GOTO a null sequence number")
        return value

    # ------------------------------------------------------------------------------------------ calls
    def macro_call(self, w: BlockWords) -> None:
        """G65 P L <arguments>: a macro call with a new level of local variables (argument spec I)."""
        line = w.line
        others = [name for name, _, _ in w.gcodes if name != "G65"]
        if others or w.mcodes:
            raise Alarm("PS0010", line, "G65 must be alone in its block (no other G or M codes)")
        if "P" not in w.values:
            raise Alarm("PS0076", line, "G65 without P")
        number = InputRules.integer("P", w.values["P"], line)
        repeats = InputRules.integer("L", w.values["L"], line) if "L" in w.values else 1
        arguments = {}
        for letter, value in w.values.items():
            if letter in ("P", "L"):
                continue
            if letter not in ARGUMENT_SPEC_I:
                raise Alarm("PS0009", line, f"{letter} is not a G65 argument address", value.column)
            arguments[ARGUMENT_SPEC_I[letter]] = value.number
        self.memory.get(number, line)
        self.cursor.advance()
        if repeats < 1:
            return
        self.variables.push(arguments, line)
        try:
            self.cursor.call(number, repeats, line, macro=True)
        except Alarm:
            self.variables.pop()
            raise

    def subprogram_call(self, w: BlockWords) -> None:
        """M98 P… [L…]: call a subprogram (same local variables)."""
        line = w.line
        if "P" not in w.values:
            raise Alarm("PS0076", line, "M98 without P")
        p_value = InputRules.integer("P", w.values["P"], line)
        l_value = InputRules.integer("L", w.values["L"], line) if "L" in w.values else None
        number, repeats = split_m98_p(p_value, l_value)
        self.memory.get(number, line)
        self.cursor.advance()
        self.cursor.call(number, repeats, line)

    def subprogram_return(self, w: BlockWords) -> None:
        """M99 [P…]. In the main program without P the program repeats for ever: a stall."""
        line = w.line
        seq = InputRules.integer("P", w.values["P"], line) if "P" in w.values else None
        if seq is None and len(self.cursor.stack) == 1:
            self.return_from_call(None, line)
            raise Stall(line, "M99 in the main program: the program repeats endlessly")
        self.return_from_call(seq, line)

    def return_from_call(self, seq: int | None, line: int) -> None:
        left = self.cursor.return_from(seq, line)
        if left is not None:
            self.variables.pop()

    def after_block(self, w: BlockWords, end_program: bool, resume_at: int | None = None) -> None:
        """Move the cursor after an executed NC block: program end, M98, M99, ``resume_at`` (a block index of
        the running program, e.g. after a lathe G71's shape blocks) or the next block."""
        if end_program:
            self.ended = True
            self.end_line = w.line
            return
        if 98 in w.mcodes:
            self.subprogram_call(w)
            return
        if 99 in w.mcodes:
            self.subprogram_return(w)
            return
        if resume_at is not None:
            self.cursor.frame.index = resume_at
            return
        self.cursor.advance()


__all__ = ["MAX_BLOCKS", "ProgramRunner", "Stall"]
