"""Login throttling, keyed on the account and its centre, never on the address alone (a whole test centre
sits behind one NAT address).

Staff accounts: after a few failures every further attempt must wait a doubling delay, and after more the
account locks for a while. Candidate accounts never lock, because a stranger could then lock a candidate out
on exam day: they only get a growing per-seat delay that the room's examiner can reset. Unknown user names
are throttled per address, generously, so guessing names is slow too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy.orm import Session

from ..models import LoginThrottle, User


@dataclass(frozen=True)
class Policy:
    free_failures: int          # failures allowed before any delay
    max_delay_s: int            # the doubling delay stops growing here
    lock_after: Optional[int]   # failures that lock the account (None: never)
    lock_minutes: int = 15


STAFF = Policy(free_failures=3, max_delay_s=60, lock_after=8, lock_minutes=15)
CANDIDATE = Policy(free_failures=5, max_delay_s=30, lock_after=None)
UNKNOWN_NAME = Policy(free_failures=20, max_delay_s=60, lock_after=None)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0
    locked: bool = False


def key_for(user: Optional[User], ip: str) -> str:
    if user is None:
        return f"unknown@{ip}"
    return f"user:{user.id}@org:{user.organisation_id}"


def policy_for(user: Optional[User]) -> Policy:
    if user is None:
        return UNKNOWN_NAME
    return STAFF if user.is_staff else CANDIDATE


def _delay(policy: Policy, failures: int) -> int:
    over = failures - policy.free_failures
    return 0 if over < 0 else min(policy.max_delay_s, 2 ** over)


def check(db: Session, key: str, policy: Policy, now: datetime) -> Verdict:
    """May an attempt be made now? Does not change anything."""
    row = db.get(LoginThrottle, key)
    if row is None:
        return Verdict(True)
    if row.locked_until is not None and now < row.locked_until:
        return Verdict(False, _seconds(row.locked_until - now), locked=True)
    wait = _delay(policy, row.failures)
    if wait and row.last_failed_at is not None and now < row.last_failed_at + timedelta(seconds=wait):
        return Verdict(False, _seconds(row.last_failed_at + timedelta(seconds=wait) - now))
    return Verdict(True)


def _seconds(span: timedelta) -> int:
    return math.ceil(span.total_seconds())


def record_failure(db: Session, key: str, policy: Policy, now: datetime) -> bool:
    """Count a failure; True when it has just locked the account."""
    row = db.get(LoginThrottle, key) or LoginThrottle(key=key, failures=0)
    db.add(row)
    if row.locked_until is not None and now >= row.locked_until:
        row.failures, row.locked_until = 0, None  # a lock that ran out starts the count afresh
    row.failures += 1
    row.last_failed_at = now
    if policy.lock_after is not None and row.failures >= policy.lock_after:
        row.locked_until = now + timedelta(minutes=policy.lock_minutes)
        return True
    return False


def reset(db: Session, key: str) -> bool:
    """Forget the failures of one key (successful login, or an examiner resetting a candidate's seat)."""
    row = db.get(LoginThrottle, key)
    if row is None:
        return False
    db.delete(row)
    return True
