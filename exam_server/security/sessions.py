"""Server-side sessions: the cookie holds 256 random bits, the database holds their SHA-256.

A new session is created at every login (rotation); idle and absolute timeouts are checked on every request;
revoking a row ends the session everywhere at once.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import User, UserSession

COOKIE_NAME = "exam_session"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: Session, user: User, now: datetime, ip: str = "", user_agent: str = "") -> tuple[str, UserSession]:
    token = secrets.token_urlsafe(32)
    row = UserSession(token_hash=_digest(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                      created_at=now, last_seen_at=now, ip=ip[:64], user_agent=user_agent[:300])
    db.add(row)
    return token, row


def find_session(db: Session, token: str, now: datetime, idle: timedelta, absolute: timedelta) -> Optional[UserSession]:
    """The live session for a cookie token, or None when unknown, revoked or timed out."""
    if not token:
        return None
    row = db.execute(select(UserSession).where(UserSession.token_hash == _digest(token))).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if now - row.last_seen_at > idle or now - row.created_at > absolute:
        return None
    if row.user.deactivated_at is not None:
        return None
    return row


def touch(db: Session, session_id: int, now: datetime) -> None:
    """Record activity (callers do it at most once a minute, in a short writing transaction)."""
    db.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))


def needs_touch(row: UserSession, now: datetime) -> bool:
    return now - row.last_seen_at > timedelta(minutes=1)


def revoke(db: Session, row: UserSession, now: datetime) -> None:
    row.revoked_at = now
