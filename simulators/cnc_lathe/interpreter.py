"""FANUC 0i-TF lathe interpreter (G-code system A): blocks in, canonical motions out.

A block is evaluated and planned in full on a copy of the modal state; only a block that raised no alarm
replaces the state, so a bad block changes nothing. Order of execution inside a block (fanuc.md §2.6 with the
lathe deviations): G98/G99 → G20/G21 → F → G96/G97, S, G50 S → T (turret index and offset, no M06) →
M03/M04/M05 → M08/M09 → G04 → G40–G42 → G54–G59 → G50 X Z, G27, G28 → motion (group 01 or a cycle) →
M00/M01/M02/M30 → M98/M99.

Offsets are applied as a shift of the program coordinate system when T is read: the turret moves by the new
offset with the next move command, not in the T block itself.

Motions are in machine coordinates of the turret reference point (x radius). Rapid moves follow FANUC
non-linear positioning (each axis at its own rapid rate, so a G00 with both axes is a dog-leg of up to two
"rapid" motions) unless the setup asks for linear rapids.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, replace
from typing import Iterator, NamedTuple, Optional

from ..core.alarms import Alarm
from ..core.lexer import Assign, Block, End, Goto, IfGoto, IfThen, Num, While
from ..core.macro import ARGUMENT_SPEC_I, Variables, evaluate, is_true, variable_number
from ..core.motion import Motion
from ..core.program import Cursor, ProgramMemory, split_m98_p
from ..core.words import LATHE_GCODES, BlockWords, InputRules, evaluate_words
from . import cycle_calls
from .machine import LatheSetup
from .modal import LatheState, Modal, power_on_state, tool_offset
from .path import Segment

FAST_PATH = True                # _plain_move for plain G00/G01 blocks (switched off in the equivalence test)
MAX_BLOCKS = 500_000            # executed blocks before the run is reported as stalled (endless loop)
LATHE_ADDRESSES = set("GMFSTXZUWIKRPQL")
SUPPORTED_M = {0, 1, 2, 3, 4, 5, 8, 9, 30, 98, 99}
THREAD_CODES = ("G32", "G92")
EPS = 1e-9


class Stall(Exception):
    """The machine waits at a line and never finishes (feed per revolution with the spindle stopped, or an
    endless loop): a result, not an alarm."""

    def __init__(self, line: int, reason: str):
        self.line = line
        self.reason = reason
        super().__init__(f"stalled at line {line}: {reason}")

    def to_dict(self) -> dict:
        return {"line": self.line, "reason": self.reason}


class MotionContext(NamedTuple):
    """What turns a program-coordinate segment into machine motions: the modal state of its block."""

    setup: LatheSetup
    modal: Modal
    offset: tuple          # (x, z) program → machine
    line: int
    program: int


class LatheInterpreter:
    """Runs a program file: ``for motion in LatheInterpreter(text, setup).motions(): …``.

    Raises :class:`Alarm` or :class:`Stall` from the generator at the block where it happens.
    """

    def __init__(self, source: str, setup: LatheSetup, variables: Optional[Variables] = None):
        self.setup = setup
        self.memory = ProgramMemory.from_text(source)
        self.cursor = Cursor(self.memory)
        self.variables = variables if variables is not None else Variables()
        self.state: LatheState = power_on_state(setup)
        self.blocks_run = 0
        self._resume_at: Optional[int] = None
        self.ended = False
        self.end_line = 0

    # -------------------------------------------------------------------------------------------- loop
    def motions(self) -> Iterator[Motion]:
        while not self.ended:
            yield from self.step()

    def step(self) -> list:
        """Execute the next block; return its motions."""
        block = self.cursor.block()
        if block is None:
            if self.cursor.at_end_of_subprogram():   # a subprogram without M99 returns anyway
                self._return(None, self.cursor.frame.call_line)
                return []
            self.ended = True
            return self._finish_at_end()
        self.blocks_run += 1
        if self.blocks_run > MAX_BLOCKS:
            raise Stall(block.line, f"more than {MAX_BLOCKS} blocks executed (endless loop?)")
        if block.delete and self.setup.block_delete:
            self.cursor.advance()
            return []
        if block.error is not None:
            raise block.error
        if block.statement is not None:
            self._statement(block)
            return []
        if not block.words:
            self.cursor.advance()
            return []
        return self._nc_block(block)

    # -------------------------------------------------------------------------------------------- macro
    def _statement(self, block: Block) -> None:
        stmt, line, cursor = block.statement, block.line, self.cursor
        if isinstance(stmt, Assign):
            self._assign(stmt, line)
            cursor.advance()
        elif isinstance(stmt, IfGoto):
            if is_true(stmt.condition, self.variables, line):
                cursor.goto(self._number(stmt.target, line), line)
            else:
                cursor.advance()
        elif isinstance(stmt, IfThen):
            if is_true(stmt.condition, self.variables, line):
                self._assign(stmt.statement, line)
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
            cursor.goto(self._number(stmt.target, line), line)

    def _assign(self, stmt: Assign, line: int) -> None:
        number = variable_number(stmt.target, self.variables, line)
        self.variables.set(number, evaluate(stmt.value, self.variables, line), line)

    def _number(self, expr, line: int) -> float:
        value = evaluate(expr, self.variables, line)
        if value is None:
            raise Alarm("PS0128", line, "GOTO a null sequence number")
        return value

    def _macro_call(self, w: BlockWords) -> None:
        """G65 P L <arguments>: a macro call with a new level of local variables (argument spec I)."""
        line = w.line
        others = [name for name, group, _ in w.gcodes if name != "G65"]
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

    def _return(self, seq: Optional[int], line: int) -> None:
        left = self.cursor.return_from(seq, line)
        if left is not None:
            self.variables.pop()

    # -------------------------------------------------------------------------------------------- NC blocks
    def _nc_block(self, block: Block) -> list:
        if FAST_PATH:
            fast = self._plain_move(block)
            if fast is not None:
                return fast
        w = evaluate_block(block, self.variables)
        if w.g_in_group(0) == "G65":
            self._macro_call(w)
            return []
        self._resume_at = None
        plan = BlockPlan(self.setup, self.state, w, self.cursor.program_number(), self._shape_blocks,
                         self.evaluate_shape_words)
        motions = plan.run()
        self.state = plan.result_state()
        self._flow(plan, w)
        return motions

    def _plain_move(self, block: Block) -> Optional[list]:
        """The hot path of long programs: a block of plain numbers with only G00/G01, X Z U W and F, in G00/G01
        mode, metric, no compensation. Same result as the general path (tested); None when it does not apply."""
        state = self.state
        modal = state.modal
        if state.compensator is not None or state.programmed is not None or modal.comp != "G40" or modal.inch:
            return None
        motion = modal.motion
        values = {}
        for word in block.words:
            value = word.value
            if type(value) is not Num:
                return None
            letter = word.letter
            if letter == "G":
                if value.value == 0.0 and value.has_point is False:
                    motion = "G00"
                elif value.value == 1.0 and value.has_point is False:
                    motion = "G01"
                else:
                    return None
            elif letter in "XZUWF" and letter not in values:
                values[letter] = value
            else:
                return None
        if motion not in ("G00", "G01") or ("X" in values and "U" in values) or ("Z" in values and "W" in values):
            return None
        setup = self.setup
        dpi = setup.decimal_point_input
        feed = modal.feed
        if "F" in values:
            f = values["F"]
            if f.value < 0:
                return None
            feed = f.value if (f.has_point or dpi or not modal.feed_per_rev) else f.value * 0.0001
        if motion != modal.motion or feed != modal.feed:
            modal = object.__new__(Modal)
            modal.__dict__.update(state.modal.__dict__)
            modal.__dict__["motion"] = motion
            modal.__dict__["feed"] = feed
        ox, oz = state.offset_vector(setup)
        px, pz = state.position[0] - ox, state.position[1] - oz
        x, z = px, pz
        for letter, value in values.items():
            if letter == "F":
                continue
            d = value.value if (value.has_point or dpi) else value.value * 0.001
            if letter == "X":
                x = d / 2.0
            elif letter == "U":
                x = px + d / 2.0
            elif letter == "Z":
                z = d
            else:
                z = pz + d
        motions = []
        if len(values) > ("F" in values):
            if motion == "G01" and feed <= 0.0:
                return None          # PS0011 through the general path
            seg = Segment("rapid" if motion == "G00" else "feed", (px, pz), (x, z), block.line)
            motions = segment_motions(seg, MotionContext(setup, modal, (ox, oz), block.line,
                                                         self.cursor.frame.program.number))
        position = motions[-1].end if motions else state.position
        if modal is not state.modal or position is not state.position:
            self.state = LatheState(modal, position, state.shift, None if modal is not state.modal else state.cycle,
                                    state.params)
        self.cursor.advance()
        return motions

    def _finish_at_end(self) -> list:
        """End of the main program without M02/M30: flush a move held back by compensation."""
        if self.state.compensator is None:
            return []
        last = self.cursor.frame.program.blocks[-1].line if self.cursor.frame.program.blocks else 0
        plan = BlockPlan(self.setup, self.state, BlockWords(last, (), (), {}), self.cursor.program_number())
        plan.finish_compensation()
        self.state = plan.result_state()
        return plan.motions

    def _flow(self, plan: "BlockPlan", w: BlockWords) -> None:
        line = w.line
        if plan.end_program:
            self.ended = True
            self.end_line = line
            return
        if 98 in w.mcodes:
            if "P" not in w.values:
                raise Alarm("PS0076", line, "M98 without P")
            p_value = InputRules.integer("P", w.values["P"], line)
            l_value = InputRules.integer("L", w.values["L"], line) if "L" in w.values else None
            number, repeats = split_m98_p(p_value, l_value)
            self.memory.get(number, line)
            self.cursor.advance()
            self.cursor.call(number, repeats, line)
            return
        if 99 in w.mcodes:
            seq = InputRules.integer("P", w.values["P"], line) if "P" in w.values else None
            if seq is None and len(self.cursor.stack) == 1:
                self._return(None, line)
                raise Stall(line, "M99 in the main program: the program repeats endlessly")
            self._return(seq, line)
            return
        if self._resume_at is not None:     # a cycle whose shape follows it: go on after the nf block
            self.cursor.frame.index = self._resume_at
            return
        self.cursor.advance()

    def _shape_blocks(self, p: int, q: int, line: int) -> list:
        """Blocks N p … N q of the running program (for G70–G73). PS0063 when one is missing."""
        program = self.cursor.frame.program
        first = program.sequence_index(p)
        last = program.sequence_index(q)
        if first is None or last is None or last < first:
            missing = p if first is None else q
            raise Alarm("PS0063", line, f"N{missing} not found in O{program.number:04d} after the cycle")
        if first == self.cursor.frame.index + 1:
            self._resume_at = last + 1
        return list(program.blocks[first:last + 1])

    def evaluate_shape_words(self, block: Block) -> BlockWords:
        return evaluate_block(block, self.variables)


def evaluate_block(block: Block, variables: Variables) -> BlockWords:
    w = evaluate_words(block, variables, LATHE_GCODES)
    if w.g_in_group(0) != "G65":
        for letter, value in w.values.items():
            if letter not in LATHE_ADDRESSES:
                raise Alarm("PS0009", block.line, f"address {letter} is not available on this lathe", value.column)
    for code in w.mcodes:
        if code not in SUPPORTED_M:
            raise Alarm("EX1002", block.line, f"M{code:02d} is not a function of this machine")
    return w


# ------------------------------------------------------------------------------------------------ block plan

class BlockPlan:
    """One NC block computed on a copy of the state. ``run()`` returns the motions; ``result_state()`` the
    state after the block. Nothing outside the plan changes until the caller commits it."""

    def __init__(self, setup: LatheSetup, state: LatheState, w: BlockWords, program: int, shape_blocks=None,
                 evaluate_words=None):
        self.setup = setup
        self.w = w
        self.line = w.line
        self.program = program
        self.shape_blocks = shape_blocks
        self.evaluate_words = evaluate_words
        self.params = state.params
        self.programmed = state.programmed
        self.compensator = copy.deepcopy(state.compensator) if state.compensator is not None else None
        self.contexts = dict(state.contexts)
        self.modal = state.modal
        self.position = state.position
        self.shift = state.shift
        self.cycle = state.cycle
        self.motions: list = []
        self.end_program = False
        self.rules = InputRules(setup.decimal_point_input, state.modal.inch)
        self.one_shot = w.g_in_group(0)
        self._offset_cache = None

    # -- state
    def state(self) -> LatheState:
        contexts = tuple(self.contexts.items())[-4:] if self.compensator is not None else ()
        return LatheState(self.modal, self.position, self.shift, self.cycle, self.params, self.programmed,
                          self.compensator, contexts)

    def result_state(self) -> LatheState:
        return self.state()

    def set_modal(self, **changes) -> None:
        # dataclasses.replace without its checks: this runs for most blocks of long programs
        modal = object.__new__(Modal)
        modal.__dict__.update(self.modal.__dict__)
        modal.__dict__.update(changes)
        self.modal = modal
        self._offset_cache = None

    def offset_vector(self) -> tuple:
        """machine = program + this vector (see LatheState.offset_vector)."""
        cached = self._offset_cache
        if cached is not None and cached[0] == self.shift:
            return cached[1]
        setup, modal = self.setup, self.modal
        wx, wz = setup.work_offset(modal.work)
        ex, ez = setup.external_shift
        tx, tz = tool_offset(setup, modal.offset)
        vector = (wx + ex + self.shift[0] + tx, wz + ez + self.shift[1] + tz)
        self._offset_cache = (self.shift, vector)
        return vector

    def program_position(self) -> tuple:
        """The programmed position: the base of X/U, Z/W and the start of the next programmed move."""
        if self.programmed is not None:
            return self.programmed
        return self.tool_position()

    def tool_position(self) -> tuple:
        ox, oz = self.offset_vector()
        return (self.position[0] - ox, self.position[1] - oz)

    def context(self) -> MotionContext:
        return MotionContext(self.setup, self.modal, self.offset_vector(), self.line, self.program)

    def value(self, letter: str):
        return self.w.values.get(letter)

    def distance(self, letter: str) -> Optional[float]:
        v = self.value(letter)
        return None if v is None else self.rules.distance(v)

    # -- the order of execution
    def run(self) -> list:
        w, values = self.w, self.w.values
        if w.gcodes:
            self.modes()
        if "F" in values:
            self.feed()
        if "S" in values:
            self.speed()
        if "T" in values:
            self.tool()
        if w.mcodes:
            self.spindle()
            self.coolant()
        if self.one_shot == "G04":
            self.dwell()
        if w.gcodes:
            self.compensation_mode()
        if self.one_shot is None:
            self.motion()
        elif self.one_shot in ("G50", "G27", "G28"):
            getattr(self, "g" + self.one_shot[1:])()
        elif self.one_shot in ("G70", "G71", "G72", "G73", "G74", "G75", "G76"):
            self.multiple_cycle()
        if w.mcodes:
            self.stops()
        return self.motions

    def modes(self) -> None:
        w, changes = self.w, {}
        g5, g6, g2, g14, g1 = (w.g_in_group(g) for g in (5, 6, 2, 14, 1))
        if g5:
            changes["feed_per_rev"] = g5 == "G99"
        if g6:
            changes["inch"] = g6 == "G20"
            self.rules = InputRules(self.setup.decimal_point_input, g6 == "G20")
        if g2:
            changes["css"] = g2 == "G96"
        if g14:
            changes["work"] = g14
        if g1:
            changes["motion"] = g1
            if g1 not in ("G90", "G92", "G94"):
                self.cycle = None
        if changes:
            self.set_modal(**changes)

    def feed(self) -> None:
        v = self.value("F")
        if v is None:
            return
        if v.number < 0:
            raise Alarm("PS0006", self.line, "F cannot be negative", v.column)
        threading = self.modal.motion in THREAD_CODES or self.one_shot == "G76"
        self.set_modal(feed=self.rules.feed(v, self.modal.feed_per_rev or threading))

    def speed(self) -> None:
        v = self.value("S")
        if v is None:
            return
        if v.number < 0:
            raise Alarm("PS0006", self.line, "S cannot be negative", v.column)
        if self.one_shot == "G50":
            self.set_modal(max_rpm=v.number)
            return
        self.set_modal(speed=v.number)
        if self.modal.spindle_dir and not any(m in (3, 4, 5) for m in self.w.mcodes):
            self.emit_spindle()      # a new S while the spindle turns (M03/M04/M05 in the block emit it)

    def tool(self) -> None:
        v = self.value("T")
        if v is None:
            return
        number = InputRules.integer("T", v, self.line)
        station, offset = divmod(number, 100)
        if station > self.setup.turret_stations:
            raise Alarm("EX1001", self.line, f"T{number:04d}: the turret has {self.setup.turret_stations} stations",
                        v.column)
        if offset and offset not in self.setup.offsets:
            raise Alarm("PS0030", self.line, f"offset number {offset} is not in the offset table", v.column)
        seconds = 0.0
        if station:
            steps = abs(station - self.modal.station)
            steps = min(steps, self.setup.turret_stations - steps)
            seconds = steps * self.setup.turret_index_s
            self.set_modal(station=station)
        self.set_modal(offset=offset)
        self.emit(Motion("tool_change", self.line, self.position, self.position, tool=self.modal.station,
                         offset=offset, seconds=seconds, spindle_rpm=self.rpm_here(),
                         spindle_dir=self.modal.spindle_dir, coolant=self.modal.coolant, program=self.program))

    def spindle(self) -> None:
        codes = [m for m in self.w.mcodes if m in (3, 4, 5)]
        if not codes:
            return
        self.set_modal(spindle_dir={3: 1, 4: -1, 5: 0}[codes[-1]])
        self.emit_spindle()

    def emit_spindle(self) -> None:
        self.emit(Motion("spindle", self.line, self.position, self.position, spindle_rpm=self.rpm_here(),
                         spindle_dir=self.modal.spindle_dir, tool=self.modal.station, offset=self.modal.offset,
                         coolant=self.modal.coolant, program=self.program))

    def coolant(self) -> None:
        codes = [m for m in self.w.mcodes if m in (8, 9)]
        if not codes:
            return
        self.set_modal(coolant=codes[-1] == 8)
        self.emit(Motion("coolant", self.line, self.position, self.position, coolant=self.modal.coolant,
                         spindle_rpm=self.rpm_here(), spindle_dir=self.modal.spindle_dir, tool=self.modal.station,
                         offset=self.modal.offset, program=self.program))

    def dwell(self) -> None:
        if self.has_any("P"):
            seconds = InputRules.integer("P", self.value("P"), self.line) / 1000.0
        elif self.has_any("X", "U"):
            v = self.value("X") or self.value("U")
            seconds = self.rules.seconds(v)
        else:
            seconds = 0.0
        if seconds < 0:
            raise Alarm("PS0006", self.line, "negative dwell")
        self.emit(Motion("dwell", self.line, self.position, self.position, seconds=seconds,
                         spindle_rpm=self.rpm_here(), spindle_dir=self.modal.spindle_dir, tool=self.modal.station,
                         offset=self.modal.offset, coolant=self.modal.coolant, program=self.program))

    def compensation_mode(self) -> None:
        """G40/G41/G42 change the mode; the next move is the start-up or cancel move (FANUC type A)."""
        g7 = self.w.g_in_group(7)
        if g7 is None or g7 == self.modal.comp:
            return
        motion = self.modal.motion
        moving = self.has_any("X", "Z", "U", "W")
        if motion in ("G02", "G03") and moving and self.one_shot is None:
            raise Alarm("PS0034", self.line, f"{g7} cannot start or end on an arc")
        if g7 != "G40":
            compensation_module(self.line)
        self.set_modal(comp=g7)
        if g7 == "G40" and not (moving and self.one_shot is None) and self.compensator is not None:
            self.emit_segments(self.compensator.finish())     # G40 alone: end beside the last point
            self.compensator = None

    # -- one-shot codes with axis words
    def g50(self) -> None:
        """G50 X Z: the current tool position becomes (X, Z) in the program frame. (G50 S is read above.)"""
        if not self.has_any("X", "Z", "U", "W"):
            return
        if self.modal.comp != "G40":
            raise Alarm("PS0010", self.line, "G50 coordinate setting with tool-nose compensation active")
        px, pz = self.program_position()
        nx, nz = self.target((px, pz))
        self.shift = (self.shift[0] + px - nx, self.shift[1] + pz - nz)

    def g28(self) -> None:
        """G28: rapid to the intermediate point (X Z or U W), then the given axes to the reference position."""
        if not self.has_any("X", "Z", "U", "W"):
            raise Alarm("PS0046", self.line, "G28 needs the axes to return (e.g. G28 U0 W0)")
        if self.modal.comp != "G40" or self.compensator is not None:
            raise Alarm("PS0046", self.line, "G28 with tool-nose compensation active: cancel with G40 first")
        start = self.program_position()
        middle = self.target(start)
        self.rapid_to(middle)
        hx, hz = self.setup.home
        x = hx if self.has_any("X", "U") else self.position[0]
        z = hz if self.has_any("Z", "W") else self.position[1]
        self.rapid_machine((x, z))

    def g27(self) -> None:
        """G27: rapid to the point, then check that it is the reference position (PS0092 if not)."""
        self.g28_check_axes()
        start = self.program_position()
        self.rapid_to(self.target(start))
        hx, hz = self.setup.home
        if (self.has_any("X", "U") and abs(self.position[0] - hx) > 1e-3) or \
                (self.has_any("Z", "W") and abs(self.position[1] - hz) > 1e-3):
            raise Alarm("PS0092", self.line, "the commanded point is not the reference position")

    def g28_check_axes(self) -> None:
        if not self.has_any("X", "Z", "U", "W"):
            raise Alarm("PS0046", self.line, "G27 needs axis words")

    def rapid_to(self, target_program: tuple) -> None:
        ctx = self.context()
        seg = Segment("rapid", self.tool_position(), target_program, self.line)
        self.add_motions(segment_motions(seg, ctx))
        self.programmed = None

    def rapid_machine(self, target_machine: tuple) -> None:
        ox, oz = self.state().offset_vector(self.setup)
        self.rapid_to((target_machine[0] - ox, target_machine[1] - oz))

    # -- motion
    def has_any(self, *letters: str) -> bool:
        values = self.w.values
        for letter in letters:
            if letter in values:
                return True
        return False

    def target(self, start: tuple) -> tuple:
        """Program-frame end point from X/U (diameter) and Z/W; missing axes keep ``start``."""
        if self.has_any("X") and self.has_any("U"):
            raise Alarm("PS0009", self.line, "X and U in one block")
        if self.has_any("Z") and self.has_any("W"):
            raise Alarm("PS0009", self.line, "Z and W in one block")
        x, z = start
        if self.has_any("X"):
            x = self.distance("X") / 2.0
        elif self.has_any("U"):
            x = start[0] + self.distance("U") / 2.0
        if self.has_any("Z"):
            z = self.distance("Z")
        elif self.has_any("W"):
            z = start[1] + self.distance("W")
        return (x, z)

    def motion(self) -> None:
        motion = self.modal.motion
        if motion in ("G90", "G92", "G94"):
            self.single_cycle()
            return
        if not self.has_any("X", "Z", "U", "W"):
            if self.has_any("I", "K", "R") and motion in ("G02", "G03"):
                raise Alarm("PS0022", self.line, "arc without an end point")
            self.track_comp_change()
            return
        start = self.program_position()
        end = self.target(start)
        if motion == "G00":
            seg = Segment("rapid", start, end, self.line)
        elif motion == "G01":
            self.require_feed()
            seg = Segment("feed", start, end, self.line)
        elif motion in ("G02", "G03"):
            self.require_feed()
            seg = self.arc(start, end, motion == "G02")
        else:  # G32
            self.require_feed()
            seg = Segment("thread", start, end, self.line, lead=self.modal.feed)
        self.path([seg])

    def track_comp_change(self) -> None:
        """A G40/G41/G42 block without motion changes only the mode (the next move starts or ends it)."""
        return

    def require_feed(self) -> None:
        if self.modal.feed <= 0.0:
            raise Alarm("PS0011", self.line, "no F has been given (F is 0 after power-on)")

    def arc(self, start: tuple, end: tuple, clockwise: bool) -> Segment:
        centre = arc_centre(start, end, clockwise, self.distance("R"), self.distance("I"), self.distance("K"),
                            self.setup.arc_tolerance, self.line)
        return Segment("arc", start, end, self.line, centre=centre, clockwise=clockwise)

    def path(self, segments: list, comp_changes: Optional[dict] = None) -> None:
        """Programmed segments (program frame) → machine motions, through tool-nose compensation while
        G41/G42 is active. ``comp_changes`` maps a segment index to a G40/G41/G42 read in its block (G70)."""
        for index, seg in enumerate(segments):
            if comp_changes and index in comp_changes:
                self.set_modal(comp=comp_changes[index])
            self.feed_segment(seg)

    def feed_segment(self, seg: Segment) -> None:
        want = self.modal.comp
        if want == "G40" and self.compensator is None:
            self.programmed = None
            self.emit_segments([seg])
            return
        module = compensation_module(seg.line)
        side = 41 if want == "G41" else 42
        out = []
        if self.compensator is not None and (want == "G40" or self.compensator.side != side):
            finished = self.compensator.cancel(seg) if want == "G40" else self.compensator.finish()
            self.compensator = None
            out += finished
            if want == "G40":
                self.programmed = None
                self.contexts[seg.line] = self.context()
                self.emit_segments(out)
                return
        if self.compensator is None:
            entry = self.setup.offsets.get(self.modal.offset)
            radius = entry.nose_radius if entry is not None else 0.0
            direction = entry.tip_direction if entry is not None else 0
            self.compensator = module.NoseRadiusCompensator(side, radius, direction, seg.line)
            start = self.tool_position()
            if abs(start[0] - seg.start[0]) > EPS or abs(start[1] - seg.start[1]) > EPS:
                seg = replace(seg, start=start)
        self.contexts[seg.line] = self.context()
        out += self.compensator.feed(seg)
        self.programmed = seg.end
        self.emit_segments(out)

    def emit_segments(self, segments: list) -> None:
        current = self.context()
        for seg in segments:
            ctx = self.contexts.get(seg.line, current)
            if ctx.offset != current.offset:   # a held-back segment keeps its block's modes, today's offsets
                ctx = ctx._replace(offset=current.offset)
            self.add_motions(segment_motions(seg, ctx))

    def finish_compensation(self) -> None:
        """Program end while compensating: the held-back move ends beside its end point."""
        if self.compensator is not None:
            self.emit_segments(self.compensator.finish())
            self.compensator = None
            self.programmed = None

    def add_motions(self, motions: list) -> None:
        for m in motions:
            self.emit(m)
            self.position = m.end

    def emit(self, motion: Motion) -> None:
        self.motions.append(motion)

    def shape_plan(self, w: BlockWords) -> "BlockPlan":
        """A plan for a shape block of G70–G73, only to read its end point and arc (nothing executes)."""
        sub = BlockPlan(self.setup, self.state(), w, self.program)
        sub.rules = self.rules
        return sub

    def rpm_here(self) -> float:
        return spindle_rpm(self.modal, self.tool_position()[0], self.setup)

    # -- cycles (built by cycles.py; this plan parses the words and turns segments into motions)
    def single_cycle(self) -> None:
        segments, memory = cycle_calls.single_cycle(self)
        self.cycle = memory
        if segments:
            self.require_no_compensation()
            self.path(segments)

    def require_no_compensation(self) -> None:
        if self.modal.comp != "G40" or self.compensator is not None:
            raise Alarm("PS0010", self.line, f"{self.one_shot or self.modal.motion} with G41/G42 active is not "
                                             "supported by this simulator: cancel with G40 first")

    def multiple_cycle(self) -> None:
        cycle_calls.multiple_cycle(self)

    def emit_uncompensated(self, segments: list) -> None:
        """A roughing path (already built on the compensated shape): flush compensation, then emit the
        path as is, starting from where the tool stands."""
        if self.compensator is not None:
            self.emit_segments(self.compensator.finish())
            self.compensator = None
        self.programmed = None
        if segments:
            here = self.tool_position()
            first = segments[0]
            if abs(first.start[0] - here[0]) > EPS or abs(first.start[1] - here[1]) > EPS:
                segments = [replace(first, start=here)] + list(segments[1:])
            self.emit_segments(segments)

    # -- end of block
    def stops(self) -> None:
        if any(code in (2, 30) for code in self.w.mcodes):
            self.finish_compensation()
        for code in self.w.mcodes:
            if code in (0, 1, 2, 30):
                self.emit(Motion("stop", self.line, self.position, self.position, tool=self.modal.station,
                                 offset=self.modal.offset, program=self.program))
            if code in (2, 30):
                self.end_program = True


def compensation_module(line: int):
    """Tool-nose radius compensation (compensation.py). Fails closed while it is not installed."""
    try:
        from . import compensation
    except ImportError:
        raise Alarm("PS0010", line, "G41/G42 tool-nose radius compensation is not available in this build")
    return compensation


# ------------------------------------------------------------------------------------------------ geometry

def arc_centre(start, end, clockwise: bool, r: Optional[float], i: Optional[float], k: Optional[float],
               tolerance: float, line: int) -> tuple:
    """Arc centre (x radius, z) in the program frame. R (negative: more than 180°) or I/K (radius values,
    incremental from the start). PS0022 without either, PS0020 when the end is off the circle by more than
    ``tolerance``."""
    (x0, z0), (x1, z1) = start, end
    if r is not None:
        if abs(r) < EPS:
            raise Alarm("PS0022", line, "R0 is not an arc")
        # Work in the (u=z, v=x) plane, where G03 is counter-clockwise.
        du, dv = z1 - z0, x1 - x0
        chord = math.hypot(du, dv)
        if chord < EPS:
            raise Alarm("PS0022", line, "an R arc needs an end point different from its start")
        half = chord / 2.0
        if half - abs(r) > tolerance:
            raise Alarm("PS0020", line, f"R{abs(r):.3f} is shorter than half the chord {half:.3f}")
        depth = math.sqrt(max(r * r - half * half, 0.0))
        left = (-dv / chord, du / chord)              # left normal of the chord
        side = -1.0 if clockwise else 1.0             # minor CCW arc: centre on the left
        if r < 0:
            side = -side
        cu = (z0 + z1) / 2.0 + side * depth * left[0]
        cv = (x0 + x1) / 2.0 + side * depth * left[1]
        return (cv, cu)
    if i is None and k is None:
        raise Alarm("PS0022", line, "G02/G03 without R or I/K")
    centre = (x0 + (i or 0.0), z0 + (k or 0.0))
    r0 = math.hypot(x0 - centre[0], z0 - centre[1])
    r1 = math.hypot(x1 - centre[0], z1 - centre[1])
    if abs(r1 - r0) > tolerance:
        raise Alarm("PS0020", line, f"start radius {r0:.4f} and end radius {r1:.4f} differ by more than "
                                    f"{tolerance}")
    return centre


def arc_sweep(seg: Segment) -> tuple:
    """(radius, start angle, signed sweep) in the (u=z, v=x) plane; positive sweep is G03."""
    cx, cz = seg.centre
    a0 = math.atan2(seg.start[0] - cx, seg.start[1] - cz)
    a1 = math.atan2(seg.end[0] - cx, seg.end[1] - cz)
    radius = math.hypot(seg.start[0] - cx, seg.start[1] - cz)
    if seg.clockwise:
        sweep = -((a0 - a1) % (2 * math.pi))
    else:
        sweep = (a1 - a0) % (2 * math.pi)
    if abs(sweep) < 1e-12 and (abs(seg.start[0] - seg.end[0]) + abs(seg.start[1] - seg.end[1])) < 1e-9:
        sweep = -2 * math.pi if seg.clockwise else 2 * math.pi   # I/K full circle
    return radius, a0, sweep


def arc_point(seg: Segment, t: float) -> tuple:
    radius, a0, sweep = arc_sweep(seg)
    a = a0 + sweep * t
    return (seg.centre[0] + radius * math.sin(a), seg.centre[1] + radius * math.cos(a))


def arc_extremes(seg: Segment) -> list:
    """End points plus the quadrant points the arc passes (for the travel-limit check)."""
    radius, a0, sweep = arc_sweep(seg)
    points = [seg.start, seg.end]
    for q in range(-8, 9):
        a = q * math.pi / 2
        t = (a - a0) / sweep if sweep else -1
        if 0 < t < 1:
            points.append((seg.centre[0] + radius * math.sin(a), seg.centre[1] + radius * math.cos(a)))
    return points


def segment_length(seg: Segment) -> float:
    if seg.kind == "arc":
        radius, _, sweep = arc_sweep(seg)
        return abs(radius * sweep)
    return math.hypot(seg.end[0] - seg.start[0], seg.end[1] - seg.start[1])


# ------------------------------------------------------------------------------------------------ spindle, time

def spindle_rpm(modal: Modal, x_radius: float, setup: LatheSetup) -> float:
    """Spindle speed (rpm) with the tool at program radius ``x_radius``; 0 when stopped or S counts as 0."""
    if modal.spindle_dir == 0 or modal.speed <= 0:
        return 0.0
    if not modal.css:
        return min(modal.speed, setup.max_spindle_rpm)
    limit = setup.max_spindle_rpm if modal.max_rpm is None else min(modal.max_rpm, setup.max_spindle_rpm)
    r = abs(x_radius)
    if r < EPS:
        return limit
    return min(1000.0 * modal.speed / (2.0 * math.pi * r), limit)


def feed_seconds(seg: Segment, feed: float, ctx: MotionContext) -> float:
    """Time of a feed/arc move at ``feed`` (mm/rev in G99, mm/min in G98); G96 integrates over the path."""
    length = segment_length(seg)
    modal = ctx.modal
    if length < EPS:
        return 0.0
    if not modal.feed_per_rev:
        return 60.0 * length / feed
    if not modal.css:
        return 60.0 * length / (feed * spindle_rpm(modal, seg.start[0], ctx.setup))
    steps = 64    # Simpson's rule over the path; rpm changes with the radius
    total = 0.0
    for k in range(steps + 1):
        t = k / steps
        x = arc_point(seg, t)[0] if seg.kind == "arc" else seg.start[0] + (seg.end[0] - seg.start[0]) * t
        weight = 1 if k in (0, steps) else (4 if k % 2 else 2)
        total += weight / spindle_rpm(modal, x, ctx.setup)
    return 60.0 * length / feed * total / (3.0 * steps)


def check_travel(points, ctx: MotionContext) -> None:
    lim = ctx.setup.soft_limits
    for x, z in points:
        if x > lim.x_max + 1e-9 or z > lim.z_max + 1e-9:
            axis = "X" if x > lim.x_max + 1e-9 else "Z"
            raise Alarm("OT0500", ctx.line, f"{axis} beyond its + stroke limit")
        if x < lim.x_min - 1e-9 or z < lim.z_min - 1e-9:
            axis = "X" if x < lim.x_min - 1e-9 else "Z"
            raise Alarm("OT0501", ctx.line, f"{axis} beyond its - stroke limit")


def segment_motions(seg: Segment, ctx: MotionContext) -> list:
    """One program-frame segment → machine motions of the turret reference point."""
    ox, oz = ctx.offset
    line = seg.line or ctx.line
    to_machine = lambda p: (p[0] + ox, p[1] + oz)  # noqa: E731
    start, end = to_machine(seg.start), to_machine(seg.end)
    modal, setup = ctx.modal, ctx.setup
    common = dict(tool=modal.station, offset=modal.offset, coolant=modal.coolant, program=ctx.program,
                  spindle_dir=modal.spindle_dir)
    rpm = spindle_rpm(modal, seg.start[0], setup)
    if seg.kind == "rapid":
        check_travel([end], ctx)
        return rapid_motions(start, end, line, rpm, setup, common)
    extremes = [to_machine(p) for p in arc_extremes(seg)] if seg.kind == "arc" else [end]
    check_travel(extremes, ctx)
    if seg.kind == "thread":
        if rpm <= 0:
            raise Stall(line, "thread cutting with the spindle stopped: the axes wait for the spindle")
        lead = seg.lead
        if lead <= 0:
            raise Alarm("PS0011", line, "thread lead F is 0")
        travel = max(abs(seg.end[0] - seg.start[0]), abs(seg.end[1] - seg.start[1]))
        seconds = 60.0 * travel / (lead * rpm)
        return [Motion("thread", line, start, end, feed_mm_min=lead * rpm, spindle_rpm=rpm, lead=lead,
                       seconds=seconds, **common)]
    feed = seg.feed if seg.feed is not None else modal.feed
    if feed <= 0:
        raise Alarm("PS0011", line, "feed is 0")
    if modal.feed_per_rev and rpm <= 0:
        raise Stall(line, "feed per revolution (G99) with the spindle stopped: the axes do not move")
    seconds = feed_seconds(seg, feed, ctx)
    per_min = feed * rpm if modal.feed_per_rev else feed
    if seg.kind == "arc":
        centre = to_machine(seg.centre)
        return [Motion("arc", line, start, end, feed_mm_min=per_min, spindle_rpm=rpm, centre=centre,
                       clockwise=seg.clockwise, seconds=seconds, **common)]
    return [Motion("feed", line, start, end, feed_mm_min=per_min, spindle_rpm=rpm, seconds=seconds, **common)]


def rapid_motions(start, end, line: int, rpm: float, setup: LatheSetup, common: dict) -> list:
    """G00: each axis at its own rapid rate (non-linear positioning), or one straight move (linear)."""
    dx, dz = end[0] - start[0], end[1] - start[1]
    tx = abs(dx) / setup.rapid_x_mm_min * 60.0
    tz = abs(dz) / setup.rapid_z_mm_min * 60.0
    if abs(dx) < EPS and abs(dz) < EPS:
        return []
    if setup.linear_rapid or tx < EPS or tz < EPS or abs(tx - tz) < 1e-12:
        return [Motion("rapid", line, start, end, spindle_rpm=rpm, seconds=max(tx, tz), **common)]
    t1 = min(tx, tz)
    sx = math.copysign(setup.rapid_x_mm_min / 60.0 * t1, dx) if tx > t1 else dx
    sz = math.copysign(setup.rapid_z_mm_min / 60.0 * t1, dz) if tz > t1 else dz
    corner = (start[0] + sx, start[1] + sz)
    return [Motion("rapid", line, start, corner, spindle_rpm=rpm, seconds=t1, **common),
            Motion("rapid", line, corner, end, spindle_rpm=rpm, seconds=max(tx, tz) - t1, **common)]
