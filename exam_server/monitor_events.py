"""Live monitoring over Socket.IO.

Examiners and supervisors join the room `monitor:<session id>` (`monitor_join`, after the same role and
scope check as the views). Candidates' exam pages send an application `heartbeat` every few seconds (the
transport's own ping takes ~45 s to notice a dead peer); each heartbeat, and each disconnect, is pushed to
the room as a `tile` event. Examiners' actions reach a candidate's browser as a `monitor` event in the room
`user:<id>` (events.py joins it), and every dashboard of the session as `changed`. With a Redis message queue
these rooms span every server process, so a dashboard sees candidates wherever they are connected.
"""
from __future__ import annotations

import time
from typing import Optional

from flask import current_app, request
from flask_socketio import join_room

from .events import session_user_id
from .models import Attempt, ExamSession, Role, User

OBSERVERS = frozenset({Role.examiner, Role.supervisor, Role.station_manager, Role.centre_admin,
                       Role.provincial_admin})
HEARTBEAT_FIELDS = {"answered": int, "total": int, "pending": int, "saved_ago_ms": int}


def room(session_id: int) -> str:
    return f"monitor:{session_id}"


def _socketio(app=None):
    return (app or current_app).extensions["socketio"]


def notify(session_id: int, kind: str, candidate_ids: Optional[list[int]] = None, **data) -> None:
    """After a commit: tell the session's dashboards, and the candidates concerned, that something changed."""
    socketio = _socketio()
    socketio.emit("changed", {"kind": kind, **data}, to=room(session_id))
    for user_id in candidate_ids or ():
        socketio.emit("monitor", {"kind": kind, **data}, to=f"user:{user_id}")


def may_observe(db, user_id: int, session: ExamSession) -> bool:
    user = db.get(User, user_id)
    return user is not None and any(a.role in OBSERVERS and a.organisation.contains(session.organisation)
                                    for a in user.active_roles())


def on_monitor_join(payload):
    """A dashboard subscribes to one session; refused (as not found) without the role over its organisation."""
    user_id = session_user_id()
    session_id = payload.get("session_id") if isinstance(payload, dict) else None
    if user_id is None or type(session_id) is not int:
        return {"ok": False, "error": {"code": "error.unauthorised"}}
    with current_app.extensions["exam_db"].session(write=False) as db:
        session = db.get(ExamSession, session_id)
        allowed = session is not None and may_observe(db, user_id, session)
    if not allowed:
        return {"ok": False, "error": {"code": "error.not_found"}}
    join_room(room(session_id))
    return {"ok": True}


def _seat_of(user_id: int, attempt_id) -> Optional[tuple[int, int, int]]:
    """(session id, roster entry id, attempt id) of the caller's own attempt, remembered per socket."""
    sockets = current_app.extensions.setdefault("monitor_sockets", {})
    known = sockets.get(request.sid)
    if known is not None and known[2] == attempt_id:
        return known
    if type(attempt_id) is not int:
        return None
    with current_app.extensions["exam_db"].session(write=False) as db:
        attempt = db.get(Attempt, attempt_id)
        if attempt is None or attempt.roster_entry.candidate_id != user_id:
            return None
        known = (attempt.roster_entry.exam_session_id, attempt.roster_entry_id, attempt.id)
    sockets[request.sid] = known
    return known


def tile_update(seat: tuple[int, int, int], payload: dict, online: bool = True) -> dict:
    """A heartbeat as the dashboard gets it: only known numeric fields, plus an optional signal kind."""
    update = {"roster_entry_id": seat[1], "attempt_id": seat[2], "online": online, "server_ms": int(time.time() * 1000)}
    for name, kind in HEARTBEAT_FIELDS.items():
        value = payload.get(name)
        if type(value) is kind and 0 <= value < 10**9:
            update[name] = value
    signal = payload.get("signal")
    if isinstance(signal, str) and len(signal) <= 20:
        update["signal"] = signal
    return update


def on_heartbeat(payload):
    user_id = session_user_id()
    if user_id is None or not isinstance(payload, dict):
        return {"ok": False}
    seat = _seat_of(user_id, payload.get("attempt_id"))
    if seat is None:
        return {"ok": False}
    _socketio().emit("tile", tile_update(seat, payload), to=room(seat[0]))
    return {"ok": True}


def on_disconnect(*_):
    seat = current_app.extensions.setdefault("monitor_sockets", {}).pop(request.sid, None)
    if seat is not None:
        _socketio().emit("tile", tile_update(seat, {}, online=False), to=room(seat[0]))


def register(socketio) -> None:
    socketio.on_event("monitor_join", on_monitor_join)
    socketio.on_event("heartbeat", on_heartbeat)
    socketio.on_event("disconnect", on_disconnect)
