"""Automatic operation (MEM and MDI): plan a run on cycle start, play it back lazily, stop where the control stops.

Cycle start *plans*: the interpreter steps block by block (``ProgramRunner.step``) until the program ends, an
M00 (M01 with optional stop on) stops it, single block stops it after an NC block, an alarm or a stall. The
planned motions are not applied yet: the browser animates them, and the next event either carries the
playback position ``at_ms`` it interrupts (the stock is cut exactly up to there; a motion in progress is split)
or lets the whole plan play out. The playback clock restarts at 0 whenever the plan is (re)timed: cycle start,
resume, or an override/switch change during the run.

Playback seconds: feed, arc and thread moves take ``seconds × 100 / feed override`` (threads ignore the
override), or with dry run their length at the jog feed; rapids ``seconds × 100 / rapid override``; a feed
override of 0 % holds the axes (the run never finishes by itself). Machine lock plays the moves without moving
the axes or cutting; M, S, T functions still act.

Spindle override: every motion is planned at the programmed speed and scaled when it is played or shown
(:func:`with_spindle_override`): the rpm follows the override (clamped at the machine's maximum); in feed per
revolution and in threads the feed follows the spindle, so the motion takes longer or shorter; in feed per minute
only the rpm (and so the feed per revolution the stock sees) changes; where the control disables the override
(tapping cycles) the motion stays as planned. The model says which rule applies to a block
(``MachineModel.spindle_override_rule``).

The played state: the plan runs ahead of the playback, so the interpreter's state is the state at the END of
the plan. The run keeps the state after every planned block (``history``) and hands the model the state after
the last block EXECUTED (:meth:`AutoRun.played_state`) as the playback advances and once more when the run stops
part-way (reset, alarm, crash): a block with motions is executed once its first motion has started (its modal
codes are in force while it moves), a block without motions (G10, a modal block, a macro statement) once every
motion before it has played. So a later T code, G10 or G50 of the plan that never played never happened.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from .alarms import Alarm
from .motion import Motion
from .runner import Stall

MOVES = ("rapid", "feed", "arc", "thread")
FEEDS = ("feed", "arc", "thread")
OVERRIDE_RULES = ("per_rev", "per_min", "fixed")


@dataclass(frozen=True)
class RunOptions:
    block_delete: bool = False
    dry_run: bool = False
    machine_lock: bool = False
    single_block: bool = False
    optional_stop: bool = False
    feed_override: float = 100.0
    rapid_override: float = 100.0
    spindle_override: float = 100.0
    jog_feed: float = 1000.0


@dataclass
class Advance:
    """What playing part of a run did."""

    seconds: float = 0.0
    crashes: list = field(default_factory=list)
    alarm: Alarm | None = None
    finished: bool = False        # the plan played out (status tells what that means)


def playback_seconds(motion: Motion, options: RunOptions) -> float:
    if motion.kind == "rapid":
        return motion.seconds * 100.0 / options.rapid_override
    if motion.kind not in ("feed", "arc", "thread"):
        return motion.seconds
    if options.dry_run:
        length = motion.feed_mm_min * motion.seconds / 60.0
        return math.inf if options.jog_feed <= 0 else 60.0 * length / options.jog_feed
    if motion.kind == "thread":
        return motion.seconds
    return math.inf if options.feed_override <= 0 else motion.seconds * 100.0 / options.feed_override


def with_spindle_override(motion: Motion, rule: str, override: float, max_rpm: float = math.inf) -> Motion:
    """``motion`` as played at ``override`` % spindle override under ``rule`` (per_rev, per_min, fixed)."""
    if rule == "fixed" or override == 100.0 or motion.spindle_rpm <= 0.0:
        return motion
    rpm = min(motion.spindle_rpm * override / 100.0, max(max_rpm, motion.spindle_rpm))
    ratio = rpm / motion.spindle_rpm
    if motion.kind == "thread" or (rule == "per_rev" and motion.kind in FEEDS):
        return _replace(motion, spindle_rpm=rpm, feed_mm_min=motion.feed_mm_min * ratio,
                        seconds=motion.seconds / ratio)
    return _replace(motion, spindle_rpm=rpm)


def motion_dict(motion: Motion, seconds: float) -> dict:
    """A motion for the browser's animation (machine coordinates; ``seconds`` of playback, null = held)."""
    return {"kind": motion.kind, "line": motion.line, "program": motion.program, "start": list(motion.start),
            "end": list(motion.end), "centre": list(motion.centre) if motion.centre is not None else None,
            "clockwise": motion.clockwise, "plane": motion.plane, "tool": motion.tool, "offset": motion.offset,
            "feed_mm_min": motion.feed_mm_min, "spindle_rpm": motion.spindle_rpm,
            "spindle_dir": motion.spindle_dir, "coolant": motion.coolant,
            "seconds": None if math.isinf(seconds) else seconds}


def split_straight(motion: Motion, fraction: float) -> tuple[Motion, Motion]:
    """A straight motion cut at ``fraction`` of its length (constant speed): the done part and the rest."""
    point = tuple(a + (b - a) * fraction for a, b in zip(motion.start, motion.end))
    done = _replace(motion, end=point, seconds=motion.seconds * fraction)
    rest = _replace(motion, start=point, seconds=motion.seconds * (1.0 - fraction))
    return done, rest


def _replace(motion: Motion, **changes) -> Motion:
    values = dict(motion.__dict__)
    values.update(changes)
    return Motion(**values)


def _stop_code(block) -> int | None:
    """0 for an M00 block, 1 for M01 (None otherwise), read from the block's plain words before it runs."""
    if block is None or block.statement is not None:
        return None
    for word in block.words:
        if word[0] == "M" and hasattr(word[1], "value") and word[1].value in (0.0, 1.0):
            return int(word[1].value)
    return None


def _is_nc(block, block_delete: bool) -> bool:
    return (block is not None and block.statement is None and bool(block.words)
            and not (block.delete and block_delete))


def _text_stop_code(text: str) -> int | None:
    """:func:`_stop_code` of a spaced line of plain words (lexer._SPACED_WORDS), read from its text."""
    for word in text.split(" "):
        if word[0] == "M" and float(word[1:]) in (0.0, 1.0):
            return int(float(word[1:]))
    return None


def _next_block(interpreter, block_delete: bool) -> tuple[int | None, bool, int | None]:
    """(stop code, NC block?, line) of the block the interpreter runs next (None line at the end). A spaced line of
    plain words is read from its text, as ``ProgramRunner.step`` does, not turned into a Block (a third of the
    planning time of a long program)."""
    frame = interpreter.cursor.stack[-1]
    blocks = frame.program.blocks
    if frame.index >= len(blocks):
        return None, False, None
    entry = getattr(blocks, "entries", blocks)[frame.index]
    if type(entry) is int:
        return _text_stop_code(blocks.lines[entry - 1]), True, entry
    return _stop_code(entry), _is_nc(entry, block_delete), entry.line


class AutoRun:
    """One automatic operation: ``kind`` MEM or MDI, the O number run (0 for MDI), its interpreter.

    ``status``: running (playing the plan), held (feed hold or mode change), stopped (single block, M00/M01:
    cycle start plans on), waiting (a stall: only reset ends it), ended, alarm. ``pending`` holds the planned
    motions not played yet as (motion at the programmed speed, playback seconds, spindle override rule).
    """

    def __init__(self, kind: str, program: int, interpreter, model, text: str = ""):
        self.kind = kind
        self.lines = text.splitlines()
        self.program = program
        self.interpreter = interpreter
        self.model = model
        self.status = "stopped"
        self.pending: deque[tuple[Motion, float, str]] = deque()
        self.options = RunOptions()
        self.line = 0                  # program line of the block being executed (or where the run stopped)
        self._end_line = 0
        self.wait_reason = ""
        self._end: tuple = ("stopped", None)
        self._planned = 0              # motions planned so far
        self._played = 0               # motions played whole so far
        self._moving = False           # the first pending motion is played part-way
        # (motions planned before the block, after it, the state after it); the first entry is the played state
        self.history: deque[tuple[int, int, object]] = deque([(0, 0, model.run_state(interpreter))])

    def block_text(self) -> str:
        """The text of the line being executed (what the program screen highlights)."""
        return self.lines[self.line - 1].strip() if 0 < self.line <= len(self.lines) else ""

    # ------------------------------------------------------------------------------------------ state
    def played_state(self):
        """The interpreter's state after the last block executed (module doc)."""
        return self.history[0][2]

    def _executed(self, before: int, after: int) -> bool:
        if after > before:
            return self._played + self._moving > before
        return self._played >= after

    @property
    def complete(self) -> bool:
        """Every planned motion has played (a crash drops the rest of the plan unplayed)."""
        return self._played == self._planned

    def amend(self, change) -> None:
        """An offset page input during the run: ``change(state) -> state`` applied to every state kept and to the
        interpreter's, so the played state keeps it and the blocks planned next read it."""
        self.history = deque((before, after, change(state)) for before, after, state in self.history)
        self.interpreter.state = change(self.interpreter.state)

    def pending_motions(self) -> list[tuple[Motion, float]]:
        """The motions still to play as they will play (spindle override applied), with playback seconds."""
        return [(self._scaled(m, rule), s) for m, s, rule in self.pending]

    def _scaled(self, motion: Motion, rule: str) -> Motion:
        override = self.options.spindle_override
        if override == 100.0:
            return motion
        return with_spindle_override(motion, rule, override, self.model.max_spindle_rpm)

    # ------------------------------------------------------------------------------------------ panel keys
    def resume(self, options: RunOptions, animate: list) -> None:
        """Cycle start: continue a held plan, or plan the next part of the program."""
        if self.status == "stopped" and not self.pending:
            self._plan(options)
        self.status = "running"
        self.retime(options, animate)

    def hold(self) -> None:
        self.status = "held"

    def retime(self, options: RunOptions, animate: list) -> None:
        self.options = options
        self.pending = deque((m, playback_seconds(self._scaled(m, rule), options), rule)
                             for m, _, rule in self.pending)
        animate[:] = [motion_dict(m, s) for m, s in self.pending_motions()]

    # ------------------------------------------------------------------------------------------ planning
    def _plan(self, options: RunOptions) -> None:
        interpreter = self.interpreter
        planned: list[tuple[Motion, float, str]] = []
        end: tuple = ("ended", None)
        try:
            while not interpreter.ended:
                stop, nc, line = _next_block(interpreter, options.block_delete)
                if line is not None:
                    self._end_line = line
                motions = interpreter.step()
                state = self.model.run_state(interpreter)
                rule = self.model.spindle_override_rule(state)
                planned.extend((m, 0.0, rule) for m in motions)
                self.history.append((self._planned, self._planned + len(motions), state))
                self._planned += len(motions)
                if interpreter.ended:
                    break
                if stop == 0 or (stop == 1 and options.optional_stop):
                    end = ("stopped", None)
                    break
                if options.single_block and nc:
                    end = ("stopped", None)
                    break
        except Alarm as alarm:
            end = ("alarm", alarm)
        except Stall as stall:
            end = ("waiting", stall)
        self.pending = deque(planned)
        self._end = end

    # ------------------------------------------------------------------------------------------ playback
    def advance(self, at_ms: int | None) -> Advance:
        """Play the plan up to ``at_ms`` of playback (None: to its end), applying each motion to the machine;
        then hand the model the state of the blocks played."""
        out = self._play(at_ms)
        while len(self.history) > 1 and self._executed(*self.history[1][:2]):
            self.history.popleft()
        self.model.adopt(self.interpreter, self.played_state(), final=False, complete=self.complete)
        return out

    def _play(self, at_ms: int | None) -> Advance:
        out = Advance()
        budget = math.inf if at_ms is None else at_ms / 1000.0
        while self.pending:
            motion, seconds, rule = self.pending[0]
            self.line = motion.line
            if math.isinf(seconds):
                return out                                 # feed override 0 %: the axes stand
            if seconds > budget:
                if budget > 0:
                    done, rest = self.model.split(motion, budget / seconds)
                    out.crashes.extend(self._execute(done, rule))
                    self.pending[0] = (rest, seconds - budget, rule)
                    self._moving = True
                    out.seconds += budget
                return out
            self.pending.popleft()
            self._played += 1
            self._moving = False
            budget -= seconds
            out.seconds += seconds
            crashes = self._execute(motion, rule)
            if crashes:
                out.crashes.extend(crashes)
                self.pending.clear()
                self.status = "ended"
                return out
        return self._finish(out)

    def _execute(self, motion: Motion, rule: str) -> list:
        if self.options.machine_lock and motion.kind in MOVES:
            return []
        return self.model.apply_motion(self._scaled(motion, rule))

    def _finish(self, out: Advance) -> Advance:
        status, cause = self._end
        self.line = self._end_line
        out.finished = True
        self.status = status
        if status == "alarm":
            out.alarm = cause
        elif status == "waiting":
            self.wait_reason = cause.reason
        self._end = ("stopped", None)
        return out


__all__ = ["RunOptions", "AutoRun", "Advance", "OVERRIDE_RULES", "motion_dict", "playback_seconds", "split_straight",
           "with_spindle_override"]
