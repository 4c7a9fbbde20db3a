"""Scope functions for `requires(..., scope=...)`: the organisation a URL's object belongs to, or None
(which answers 404, so that ids cannot be probed)."""
from __future__ import annotations

from ..models import Attempt, ExamSession, Organisation, Role, RosterEntry, TimeAdjustment, User
from ..web import get_db


def candidate_organisation(user_id: int) -> Organisation | None:
    user = get_db().get(User, user_id)
    if user is None or not any(a.role is Role.candidate for a in user.active_roles()):
        return None
    return user.organisation


def session_organisation(session_id: int) -> Organisation | None:
    session = get_db().get(ExamSession, session_id)
    return session.organisation if session else None


def attempt_organisation(attempt_id: int) -> Organisation | None:
    attempt = get_db().get(Attempt, attempt_id)
    return attempt.roster_entry.exam_session.organisation if attempt else None


def adjustment_organisation(adjustment_id: int) -> Organisation | None:
    entry = get_db().get(TimeAdjustment, adjustment_id)
    return attempt_organisation(entry.attempt_id) if entry else None


def roster_entry_organisation(entry_id: int) -> Organisation | None:
    entry = get_db().get(RosterEntry, entry_id)
    return entry.exam_session.organisation if entry else None
