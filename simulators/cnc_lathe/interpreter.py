"""FANUC 0i-TF lathe interpreter (G-code system A): blocks in, canonical motions out.

A block is evaluated and planned in full on a copy of the modal state; only a block that raised no alarm
replaces the state, so a bad block changes nothing. Order of execution inside a block (fanuc.md §2.6 with the
lathe deviations): G98/G99 → G20/G21 → F → G96/G97, S, G50 S → T (turret index and offset, no M06) →
M03/M04/M05 → M08/M09 → G04 → G40–G42 → G54–G59 → G50 X Z, G27, G28 → motion (group 01 or a cycle) →
M00/M01/M02/M30 → M98/M99.

Offsets are applied as a shift of the program coordinate system when T is read: the turret moves by the new
offset with the next move command, not in the T block itself.

Motions are in machine coordinates of the turret reference point (x radius); moves.py turns the program-frame
segments of a block into them (time, spindle speed, travel limits, dog-leg rapids).

Fast path (FAST_PATH), for the bulk of long programs: a plain G00/G01 block (a spaced line read from its text by
``execute_plain``, or a Block of plain numbers) in a state without compensation or inch skips the block plan. It
moves with a kit (moves.PlainMoves) made once per state and program frame, keeps the new position in
``_moved_to`` until the state is asked for, and keeps the kits of G00 and G01 of one feed paired, so that a
program going back and forth between them makes no state per block. Block for block, the result is the general
path's (tests compare both).
"""
from __future__ import annotations

import copy
import re
from dataclasses import replace
from typing import Optional

from ..core.alarms import Alarm
from ..core.lexer import MAX_DIGITS, Block, Num
from ..core.macro import Variables
from ..core.motion import Motion
from ..core.runner import ProgramRunner, Stall  # noqa: F401  (Stall is re-exported for run.py)
from ..core.words import LATHE_GCODES, BlockWords, InputRules, evaluate_words
from . import cycle_calls
from .machine import LatheSetup
from .modal import LatheState, Modal, evolve, power_on_state, tool_offset
from .moves import (
    EPS,
    MotionContext,
    PlainMoves,
    arc_centre,
    segment_motions,
    spindle_rpm,
)
from .path import Segment

FAST_PATH = True                # _plain_move for plain G00/G01 blocks (switched off in the equivalence test)
LATHE_ADDRESSES = set("GMFSTXZUWIKRPQL")
SUPPORTED_M = {0, 1, 2, 3, 4, 5, 8, 9, 30, 98, 99}
THREAD_CODES = ("G32", "G92")


class LatheInterpreter(ProgramRunner):
    """Runs a program file: ``for motion in LatheInterpreter(text, setup).motions(): …``.

    The step loop, Macro B statements and M98/M99/G65 come from :class:`~simulators.core.runner.ProgramRunner`;
    this class executes the NC blocks. Raises :class:`Alarm` or :class:`Stall` from the generator at the block
    where it happens.
    """

    def __init__(self, source: str, setup: LatheSetup, variables: Optional[Variables] = None):
        super().__init__(source, setup.block_delete, variables)
        self.setup = setup
        self._state: LatheState = power_on_state(setup)
        self._moved_to: Optional[tuple] = None          # the fast path's position, not yet in _state
        self._resume_at: Optional[int] = None
        self._plain_moves: Optional[PlainMoves] = None   # the fast path's kit (see _plain_words_move)

    @property
    def state(self) -> LatheState:
        """The control's state after the last block executed. The fast path only records where plain moves took
        the turret; that position joins the state when the state is asked for (and the fast path's kit, which
        does not depend on the position, stays with it: reading the state after each block costs little)."""
        if self._moved_to is not None:
            before = self._state
            self._state = evolve(before, position=self._moved_to)
            self._moved_to = None
            if self._plain_moves is not None and self._plain_moves.state is before:
                self._plain_moves.state = self._state
        return self._state

    @state.setter
    def state(self, state: LatheState) -> None:
        self._state = state
        self._moved_to = None

    # -------------------------------------------------------------------------------------------- NC blocks
    def execute_nc(self, block: Block) -> list:
        if FAST_PATH:
            fast = self._plain_move(block)
            if fast is not None:
                return fast
        w = evaluate_block(block, self.variables)
        if w.g_in_group(0) == "G65":
            self.macro_call(w)
            return []
        self._resume_at = None
        plan = BlockPlan(self.setup, self.state, w, self.cursor.program_number(), self._shape_blocks,
                         self.evaluate_shape_words)
        motions = plan.run()
        self.state = plan.result_state()
        if self._resume_at is not None and not plan.end_program and not (set(w.mcodes) & {98, 99}):
            self.cursor.frame.index = self._resume_at   # a cycle whose shape follows it: go on after nf
        else:
            self.after_block(w, plan.end_program)
        return motions

    def execute_plain(self, text: str, line: int) -> Optional[list]:
        """A spaced line (see ProgramRunner.execute_plain): :meth:`_plain_move` read straight from its text, in one
        regular expression for the commonest order of its words."""
        if not FAST_PATH:
            return None
        dpi = self.setup.decimal_point_input
        match = _ORDERED_PLAIN_WORDS.fullmatch(text)
        if match is None:
            words = _spaced_plain_words(text, dpi)
            return None if words is None else self._plain_words_move(words, line)
        g, x, u, z, w, f = match.groups()
        return self._plain_words_move((
            None if g is None else ("G00" if g == "0" else "G01"),
            None if x is None else (float(x) if dpi or "." in x else float(x) * 0.001),
            None if z is None else (float(z) if dpi or "." in z else float(z) * 0.001),
            None if u is None else (float(u) if dpi or "." in u else float(u) * 0.001),
            None if w is None else (float(w) if dpi or "." in w else float(w) * 0.001),
            None if f is None else float(f), f is not None and "." in f), line)

    def _plain_move(self, block: Block) -> Optional[list]:
        """The hot path of long programs: a block of plain numbers with only G00/G01, X Z U W and F, in G00/G01
        mode, metric, no compensation. Same result as the general path (tested); None when it does not apply."""
        pairs = []
        for letter, value, _ in block.words:
            if type(value) is not Num:
                return None
            pairs.append((letter, value))
        words = _plain_words(pairs, self.setup.decimal_point_input)
        return None if words is None else self._plain_words_move(words, block.line)

    def _plain_words_move(self, words: tuple, line: int) -> Optional[list]:
        """:meth:`_plain_move` of the block whose :func:`_plain_words` are ``words``. The state changes only when
        the block has made all its motions (a bad block changes nothing); the position only in ``_moved_to``."""
        moves = self._plain_moves
        if moves is None or moves.state is not self._state or moves.frame is not self.cursor.stack[-1]:
            moves = self._new_plain_moves(line)
            if moves is None:
                return None
        g, x, z, u, w, f, f_point = words
        modal = moves.modal
        motion = g or modal.motion
        if motion not in ("G00", "G01") or (x is not None and u is not None) or (z is not None and w is not None):
            return None
        feed = modal.feed
        if f is not None:
            if f < 0:
                return None
            feed = f if (f_point or moves.dpi or not modal.feed_per_rev) else f * 0.0001
        moving = x is not None or z is not None or u is not None or w is not None
        if moving and motion == "G01" and feed <= 0.0:
            return None              # PS0011 through the general path
        position = self._moved_to if self._moved_to is not None else self._state.position
        switched = motion != modal.motion or feed != modal.feed
        if switched:
            moves = self._switched_plain_moves(moves, motion, feed, line)
        motions = moves.motions(motion == "G00", position, x, z, u, w, line) if moving else []
        if switched:
            self._keep_plain_moves(moves)
            self._state, self._moved_to = moves.state, position   # the kit's state has an old position
        if motions:
            self._moved_to = motions[-1].end
        self.cursor.stack[-1].index += 1
        return motions

    def _new_plain_moves(self, line: int) -> Optional[PlainMoves]:
        """The fast path's kit for the current state and program; None when the state rules the fast path out
        (tool-nose compensation, inch)."""
        state = self.state
        modal = state.modal
        if state.compensator is not None or state.programmed is not None or modal.comp != "G40" or modal.inch:
            return None
        frame = self.cursor.stack[-1]
        context = MotionContext(self.setup, modal, state.offset_vector(self.setup), line, frame.program.number)
        moves = PlainMoves(state, context, frame)
        self._keep_plain_moves(moves)
        return moves

    def _switched_plain_moves(self, moves: PlainMoves, motion: str, feed: float, line: int) -> PlainMoves:
        """The kit for the state that a plain block's new G00/G01 or F makes of the kit's (not committed yet).
        For a change of the motion code alone, the kit of the other code is made once and both are kept, so
        that a program going from G00 to G01 and back builds no state for each block."""
        other = moves.other
        if other is not None and feed == moves.modal.feed and other.modal.motion == motion:
            return other
        # a new group-01 code or F also forgets the single cycle (G90/G92/G94) held for later blocks
        state = evolve(moves.state, modal=evolve(moves.modal, motion=motion, feed=feed), cycle=None)
        new = PlainMoves(state, moves.ctx._replace(modal=state.modal, line=line), moves.frame)
        if feed == moves.modal.feed and moves.state.cycle is None:   # then moves.state is new's after G0x back
            moves.other, new.other = new, moves
        return new

    def _keep_plain_moves(self, moves: PlainMoves) -> None:
        """Make ``moves`` the fast path's kit; a pair of kits left behind is unlinked (no reference cycles)."""
        old = self._plain_moves
        if old is not None and old is not moves and old.other is not None and old.other is not moves:
            old.other.other = old.other = None
        self._plain_moves = moves

    def finish_at_end(self) -> list:
        """End of the main program without M02/M30: flush a move held back by compensation."""
        if self.state.compensator is None:
            return []
        last = self.cursor.frame.program.blocks[-1].line if self.cursor.frame.program.blocks else 0
        plan = BlockPlan(self.setup, self.state, BlockWords(last, (), (), {}), self.cursor.program_number())
        plan.finish_compensation()
        self.state = plan.result_state()
        return plan.motions

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


def _mm(number: float, has_point: bool, decimal_point_input: bool) -> float:
    """A metric distance word in mm: without a decimal point in 0.001 mm (unless DPI is set)."""
    return number if has_point or decimal_point_input else number * 0.001


# A spaced line of plain words in the order G X|U Z|W F, each at most once, with at most 8 characters after its
# letter (a spaced line's words are plain numbers, so these are; more might be too many digits). G0 and G1 only
# as G0/G00/G1/G01: G001 and the like go through _spaced_plain_words.
_ORDERED_PLAIN_WORDS = re.compile(r"(?:G0?([01])(?: |$))?(?:X(\S{1,8})(?: |$)|U(\S{1,8})(?: |$))?"
                                  r"(?:Z(\S{1,8})(?: |$)|W(\S{1,8})(?: |$))?(?:F(\S{1,8}))?")


def _spaced_plain_words(text: str, decimal_point_input: bool) -> Optional[tuple]:
    """:func:`_plain_words` of a spaced line (lexer._SPACED_WORDS: words one space apart, plain numbers), read
    as lexer._spaced_block reads it; None when it has other words or perhaps too many digits."""
    pairs = []
    for word in text.split(" "):
        if len(word) > MAX_DIGITS + 1:
            return None                  # the Block has the alarm, if any
        number = word[1:]
        pairs.append((word[0], (float(number), "." in number)))
    return _plain_words(pairs, decimal_point_input)


def _plain_words(pairs: list, decimal_point_input: bool) -> Optional[tuple]:
    """(G00/G01 or None, X, Z, U, W in mm (X and U diameters), F, whether F has a decimal point) of a block's
    (letter, (number, has_point)) words, None for an absent word; None when the block has anything else (another
    G code, another address, an address twice)."""
    g = x = z = u = w = f = None
    f_point = False
    for letter, (number, point) in pairs:
        if letter == "G":
            if point or number not in (0.0, 1.0):
                return None
            g = "G00" if number == 0.0 else "G01"
        elif letter == "X" and x is None:
            x = _mm(number, point, decimal_point_input)
        elif letter == "Z" and z is None:
            z = _mm(number, point, decimal_point_input)
        elif letter == "U" and u is None:
            u = _mm(number, point, decimal_point_input)
        elif letter == "W" and w is None:
            w = _mm(number, point, decimal_point_input)
        elif letter == "F" and f is None:
            f, f_point = number, point
        else:
            return None
    return g, x, z, u, w, f, f_point


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
        if self.one_shot not in (None, "G04"):
            self.cycle = None     # X Z R of G90/G92/G94 stay modal until another group-01 or one-shot code
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

    def emit_spindle(self, line: int = 0) -> None:
        self.emit(Motion("spindle", line or self.line, self.position, self.position, spindle_rpm=self.rpm_here(),
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
            if motion in ("G02", "G03") and self.has_any("I", "K") and not self.has_any("R"):
                start = self.program_position()          # I/K without an end point: a full circle
                self.require_feed()
                self.path([self.arc(start, start, motion == "G02")])
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

    def require_feed(self) -> None:
        if self.modal.feed <= 0.0:
            raise Alarm("PS0011", self.line, "no F has been given (F is 0 after power-on)")

    def arc(self, start: tuple, end: tuple, clockwise: bool) -> Segment:
        centre = arc_centre(start, end, clockwise, self.distance("R"), self.distance("I"), self.distance("K"),
                            self.setup.arc_tolerance, self.line)
        return Segment("arc", start, end, self.line, centre=centre, clockwise=clockwise)

    def path(self, segments: list, changes: Optional[dict] = None) -> None:
        """Programmed segments (program frame) → machine motions, through tool-nose compensation while
        G41/G42 is active. ``changes`` (G70) maps a segment index to {"comp": G4x, "speed": S} of its block."""
        for index, seg in enumerate(segments):
            change = changes.get(index) if changes else None
            if change:
                if "speed" in change:
                    self.set_modal(speed=change["speed"])
                    if self.modal.spindle_dir:
                        self.emit_spindle(seg.line)
                if "comp" in change:
                    self.set_modal(comp=change["comp"])
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
