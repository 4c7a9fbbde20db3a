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
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from .alarms import Alarm
from .motion import Motion
from .runner import Stall

MOVES = ("rapid", "feed", "arc", "thread")


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


class AutoRun:
    """One automatic operation: ``kind`` MEM or MDI, the O number run (0 for MDI), its interpreter.

    ``status``: running (playing the plan), held (feed hold or mode change), stopped (single block, M00/M01:
    cycle start plans on), waiting (a stall: only reset ends it), ended, alarm.
    """

    def __init__(self, kind: str, program: int, interpreter, model, text: str = ""):
        self.kind = kind
        self.lines = text.splitlines()
        self.program = program
        self.interpreter = interpreter
        self.model = model
        self.status = "stopped"
        self.pending: deque[tuple[Motion, float]] = deque()
        self.options = RunOptions()
        self.line = 0                  # program line of the block being executed (or where the run stopped)
        self._end_line = 0
        self.wait_reason = ""
        self._end: tuple = ("stopped", None)

    def block_text(self) -> str:
        """The text of the line being executed (what the program screen highlights)."""
        return self.lines[self.line - 1].strip() if 0 < self.line <= len(self.lines) else ""

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
        self.pending = deque((m, playback_seconds(m, options)) for m, _ in self.pending)
        animate[:] = [motion_dict(m, s) for m, s in self.pending]

    # ------------------------------------------------------------------------------------------ planning
    def _plan(self, options: RunOptions) -> None:
        interpreter = self.interpreter
        motions: list[Motion] = []
        end: tuple = ("ended", None)
        try:
            while not interpreter.ended:
                block = interpreter.cursor.block()
                stop = _stop_code(block)
                nc = _is_nc(block, options.block_delete)
                if block is not None:
                    self._end_line = block.line
                motions.extend(interpreter.step())
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
        self.pending = deque((m, 0.0) for m in motions)
        self._end = end

    # ------------------------------------------------------------------------------------------ playback
    def advance(self, at_ms: int | None) -> Advance:
        """Play the plan up to ``at_ms`` of playback (None: to its end), applying each motion to the machine."""
        out = Advance()
        budget = math.inf if at_ms is None else at_ms / 1000.0
        while self.pending:
            motion, seconds = self.pending[0]
            self.line = motion.line
            if math.isinf(seconds):
                return out                                 # feed override 0 %: the axes stand
            if seconds > budget:
                if budget > 0:
                    done, rest = self.model.split(motion, budget / seconds)
                    out.crashes.extend(self._execute(done))
                    self.pending[0] = (rest, seconds - budget)
                    out.seconds += budget
                return out
            self.pending.popleft()
            budget -= seconds
            out.seconds += seconds
            crashes = self._execute(motion)
            if crashes:
                out.crashes.extend(crashes)
                self.pending.clear()
                self.status = "ended"
                return out
        return self._finish(out)

    def _execute(self, motion: Motion) -> list:
        if self.options.machine_lock and motion.kind in MOVES:
            return []
        return self.model.apply_motion(motion)

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


__all__ = ["RunOptions", "AutoRun", "Advance", "motion_dict", "playback_seconds", "split_straight"]
