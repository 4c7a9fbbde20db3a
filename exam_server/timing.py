"""Exam time, as a pure function of timestamps: the server is the only clock.

An attempt's deadline is its start plus the duration, plus the time ledger (accommodations, incident credit),
plus every paused interval that began before the deadline it was extending. Overlapping pauses of the session
and of the attempt count once. Callers pass `now`; nothing here reads a clock.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Optional, Sequence

# Saves already in flight when the deadline passes are still accepted for this long.
GRACE = timedelta(seconds=15)

Interval = tuple[datetime, Optional[datetime]]   # (paused_at, resumed_at or None while paused)


class Phase(str, enum.Enum):
    active = "active"
    paused = "paused"
    expired = "expired"        # past the deadline but not yet closed by submission or the sweeper
    submitted = "submitted"
    voided = "voided"


@dataclass(frozen=True)
class Clock:
    phase: Phase
    deadline: datetime          # while paused: the deadline if the pause ended now
    remaining_ms: int

    def accepts_saves(self, now: datetime) -> bool:
        return self.phase in (Phase.active, Phase.paused) or (
            self.phase is Phase.expired and now <= self.deadline + GRACE)


def merge(intervals: Iterable[Interval], now: datetime) -> list[tuple[datetime, datetime]]:
    """Union of intervals, open ones ending at `now`, in order."""
    spans = sorted((start, min(end or now, now)) for start, end in intervals if start < now)
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        elif end > start:
            merged.append((start, end))
    return merged


def deadline_of(started_at: datetime, duration_s: int, adjustment_s: int, pauses: Sequence[Interval],
                now: datetime) -> datetime:
    deadline = started_at + timedelta(seconds=duration_s + adjustment_s)
    for start, end in merge(pauses, now):
        start = max(start, started_at)
        if start >= deadline:
            break                  # a pause after the time ran out gives no time back
        if end > start:
            deadline += end - start
    return deadline


def attempt_clock(now: datetime, *, started_at: datetime, duration_s: int, adjustment_s: int = 0,
                  pauses: Sequence[Interval] = (), submitted_at: Optional[datetime] = None,
                  voided_at: Optional[datetime] = None) -> Clock:
    deadline = deadline_of(started_at, duration_s, adjustment_s, pauses, now)
    remaining = max(0, int((deadline - now) / timedelta(milliseconds=1)))
    if voided_at is not None:
        return Clock(Phase.voided, deadline, 0)
    if submitted_at is not None:
        return Clock(Phase.submitted, deadline, 0)
    if now >= deadline:
        return Clock(Phase.expired, deadline, 0)
    if any(start <= now and (end is None or end > now) for start, end in pauses if start >= started_at or end is None):
        return Clock(Phase.paused, deadline, remaining)
    return Clock(Phase.active, deadline, remaining)
