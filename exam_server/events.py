"""Socket.IO handlers. `before_request` does not run for socket events, so every handler checks the session
itself; the handshake's Origin is checked by Socket.IO (same origin only, its default).

Saves are acknowledged only after the commit (the return value of a handler is the ack). A client that gets
no ack retries the same operation; `apply_save` is idempotent on its op_id.
"""
from __future__ import annotations

import time
from datetime import timedelta
from typing import Optional

from flask import current_app, request
from flask_socketio import join_room
from sqlalchemy import select

from . import delivery, i18n, save_writer, seb
from .errors import UserError
from .models import Attempt, Exam, ExamSession, RosterEntry, User, utcnow
from .security import sessions


SESSION_RECHECK_S = 30.0    # a socket's sign-in is looked up again this often: a sign-out reaches sockets within it


def session_user_id(fresh: bool = False) -> Optional[int]:
    """The signed-in user behind this socket's cookie, or None. Every save asks, so a confirmed sign-in is
    remembered for SESSION_RECHECK_S instead of costing a database read each time (`fresh` always reads)."""
    token = request.cookies.get(sessions.COOKIE_NAME, "")
    recent = current_app.extensions.setdefault("socket_sign_ins", {})
    known = recent.get(token)
    if not fresh and known is not None and time.monotonic() - known[1] < SESSION_RECHECK_S:
        return known[0]
    settings = current_app.extensions["exam_settings"]
    with current_app.extensions["exam_db"].session(write=False) as db:
        row = sessions.find_session(db, token, utcnow(), timedelta(minutes=settings.session_idle_minutes),
                                    timedelta(hours=settings.session_absolute_hours))
        user_id = row.user_id if row else None
    if user_id is None:
        recent.pop(token, None)
    else:
        if len(recent) > 20_000:      # bounded: forget everyone rather than grow
            recent.clear()
        recent[token] = (user_id, time.monotonic())
    return user_id


def on_connect(auth=None):
    user_id = session_user_id(fresh=True)
    if user_id is None:
        return False  # refuse the connection: deny by default
    if not _seb_proven(user_id, auth):
        return False
    join_room(f"user:{user_id}")
    return True


def _seb_proven(user_id: int, auth) -> bool:
    """Every open sitting of the candidate whose exam requires Safe Exam Browser must see its proof."""
    proof = auth.get("seb") if isinstance(auth, dict) else None
    with current_app.extensions["exam_db"].session(write=False) as db:
        keys = db.execute(select(Exam.seb_config_key).join(ExamSession).join(RosterEntry)
                          .where(RosterEntry.candidate_id == user_id, ExamSession.ended_at.is_(None),
                                 Exam.seb_config_key.is_not(None))).scalars().all()
    return all(seb.proven(key, request.url, request.host_url, request.headers, proof if isinstance(proof, dict)
                          else None) for key in keys)


def _error(key: str, locale: Optional[str]) -> dict:
    settings = current_app.extensions["exam_settings"]
    return {"ok": False, "error": {"code": key,
                                   "message": i18n.translate(locale or settings.default_locale, key)}}


def _with_own_attempt(payload, work):
    """Run `work(db, attempt, now)` in a write transaction on the caller's own attempt; errors as acks."""
    user_id = session_user_id()
    if user_id is None:
        return _error("error.unauthorised", None)
    attempt_id = payload.get("attempt_id") if isinstance(payload, dict) else None
    now = utcnow()
    try:
        with current_app.extensions["exam_db"].transaction() as db:
            user = db.get(User, user_id)
            attempt = db.get(Attempt, attempt_id) if type(attempt_id) is int else None
            if attempt is None or attempt.roster_entry.candidate_id != user_id:
                return _error("error.not_found", user.locale)
            return work(db, attempt, now)
    except UserError as exc:
        return _error(exc.key, None)


def _written_together(payload, work):
    """Run `work(db, attempt, now)` on the caller's own attempt in the process's next group commit."""
    user_id = session_user_id()
    if user_id is None:
        return _error("error.unauthorised", None)
    attempt_id = payload.get("attempt_id") if isinstance(payload, dict) else None
    try:
        return save_writer.writer_for(current_app).submit(user_id, attempt_id, work)
    except UserError as exc:
        return _error(exc.key, None)


def on_save(payload):
    try:
        op = delivery.SaveOp.parse(payload)
    except UserError as exc:
        return _error(exc.key, None)
    return _written_together(payload, lambda db, attempt, now: delivery.apply_save(db, attempt, op, now).to_json())


def on_signal(payload):
    def signal(db, attempt, now):
        delivery.record_signal(db, attempt, str(payload.get("kind", "")), str(payload.get("detail", "")), now)
        return {"ok": True}

    return _written_together(payload, signal)


def on_state(payload):
    def state(db, attempt, now):
        delivery.check_browser(attempt, payload.get("client_id"))
        return {"ok": True, **delivery.attempt_state(db, attempt, now)}

    return _with_own_attempt(payload, state)


def register(socketio) -> None:
    """Attach the handlers to one app's Socket.IO server."""
    socketio.on_event("connect", on_connect)
    socketio.on_event("save", on_save)
    socketio.on_event("state", on_state)
    socketio.on_event("signal", on_signal)
