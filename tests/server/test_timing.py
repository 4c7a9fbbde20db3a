"""Exam time as a pure function: table-driven, every expectation worked out by hand."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from exam_server.timing import GRACE, Phase, attempt_clock, merge

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


CASES = [
    # (name, now, adjustment_s, pauses, phase, remaining minutes) for a 120-minute attempt started at T0
    ("fresh", at(0), 0, [], Phase.active, 120),
    ("half way", at(60), 0, [], Phase.active, 60),
    ("accommodation of 30 min", at(60), 1800, [], Phase.active, 90),
    ("ran out", at(120), 0, [], Phase.expired, 0),
    ("inside a pause the clock stands", at(50), 0, [(at(40), None)], Phase.paused, 80),
    ("still standing later in the same pause", at(70), 0, [(at(40), None)], Phase.paused, 80),
    ("10-minute pause is given back", at(100), 0, [(at(40), at(50))], Phase.active, 30),
    ("overlapping session and own pauses count once", at(100), 0, [(at(40), at(50)), (at(45), at(55))],
     Phase.active, 35),
    ("a pause after the time ran out gives nothing back", at(130), 0, [(at(125), at(128))], Phase.expired, 0),
    ("a session pause before the start does not count", at(10), 0, [(at(-20), at(-10))], Phase.active, 110),
    ("negative incident adjustment", at(10), -600, [], Phase.active, 100),
]


@pytest.mark.parametrize("name, now, adjustment, pauses, phase, minutes", CASES, ids=[c[0] for c in CASES])
def test_clock(name, now, adjustment, pauses, phase, minutes):
    clock = attempt_clock(now, started_at=T0, duration_s=7200, adjustment_s=adjustment, pauses=pauses)
    assert clock.phase is phase
    assert clock.remaining_ms == minutes * 60_000


def test_pause_extends_the_deadline_past_the_original():
    clock = attempt_clock(at(119), started_at=T0, duration_s=7200, pauses=[(at(60), at(75))])
    assert clock.deadline == at(135) and clock.phase is Phase.active


def test_grace_window_for_saves_in_flight():
    late = attempt_clock(at(120) + GRACE, started_at=T0, duration_s=7200)
    assert late.phase is Phase.expired and late.accepts_saves(at(120) + GRACE)
    too_late = attempt_clock(at(120) + GRACE + timedelta(seconds=1), started_at=T0, duration_s=7200)
    assert not too_late.accepts_saves(at(120) + GRACE + timedelta(seconds=1))


def test_submitted_and_voided_accept_nothing():
    assert attempt_clock(at(10), started_at=T0, duration_s=7200, submitted_at=at(5)).phase is Phase.submitted
    voided = attempt_clock(at(10), started_at=T0, duration_s=7200, voided_at=at(5))
    assert voided.phase is Phase.voided and not voided.accepts_saves(at(10))


def test_merge_unions_and_clips_open_intervals():
    assert merge([(at(5), at(10)), (at(8), None), (at(30), at(40))], now=at(20)) == [(at(5), at(20))]
