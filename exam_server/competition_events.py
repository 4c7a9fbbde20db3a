"""The leaderboard over Socket.IO, in its own namespace `/board`.

Anyone may connect to `/board` and `board_join` a competition's public room (`board:<id>`): read-only, no login,
no event that changes anything. Examiners `live_join` the live room (`board-live:<id>`) after the same role and
scope check as the examiners' page. Each change is one `board` broadcast per room (leaderboard/board.py).
A poller catches the boards this process serves up with the database every second, so scores committed by
another process or a grading worker reach the viewers here too.
"""
from __future__ import annotations

from flask import current_app
from flask_socketio import join_room

from .events import session_user_id
from .leaderboard import board
from .models import Competition, Role, User

POLL_S = 1.0
LIVE_VIEWERS = frozenset({Role.examiner, Role.supervisor, Role.station_manager, Role.centre_admin,
                          Role.provincial_admin})


def may_watch_live(db, user_id: int, competition: Competition) -> bool:
    user = db.get(User, user_id)
    org = competition.organisation
    return user is not None and any(
        a.role in LIVE_VIEWERS and (a.organisation.contains(org) or org.contains(a.organisation))
        for a in user.active_roles())


def on_connect(auth=None):
    return True     # the public board needs no sign-in; this namespace only reads


def _competition_id(payload):
    value = payload.get("competition_id") if isinstance(payload, dict) else None
    return value if type(value) is int else None


def on_board_join(payload):
    competition_id = _competition_id(payload)
    app = current_app._get_current_object()
    if competition_id is None or board.board_for(app, competition_id) is None:
        return {"ok": False, "error": {"code": "error.not_found"}}
    join_room(board.ROOM_PUBLIC.format(competition_id))
    _watch(app, competition_id)
    return {"ok": True}


def on_live_join(payload):
    competition_id, user_id = _competition_id(payload), session_user_id()
    if user_id is None or competition_id is None:
        return {"ok": False, "error": {"code": "error.unauthorised"}}
    with current_app.extensions["exam_db"].session(write=False) as db:
        competition = db.get(Competition, competition_id)
        allowed = competition is not None and may_watch_live(db, user_id, competition)
    if not allowed:
        return {"ok": False, "error": {"code": "error.not_found"}}
    join_room(board.ROOM_LIVE.format(competition_id))
    _watch(current_app._get_current_object(), competition_id)
    return {"ok": True}


def _watch(app, competition_id: int) -> None:
    """Start this process's poller once; it keeps every watched board caught up."""
    watched = app.extensions.setdefault("leaderboard_watched", set())
    watched.add(competition_id)
    if app.extensions.get("leaderboard_poller"):
        return
    socketio = app.extensions["socketio"]
    app.extensions["leaderboard_poller"] = socketio.start_background_task(_poll, app, socketio)


def _poll(app, socketio) -> None:
    while True:
        socketio.sleep(POLL_S)
        for competition_id in sorted(app.extensions.get("leaderboard_watched", ())):
            try:
                with app.app_context():
                    board.board_for(app, competition_id)
            except Exception:   # noqa: BLE001 — a failed catch-up is retried on the next tick
                app.logger.exception("leaderboard catch-up failed")


def register(socketio) -> None:
    socketio.on_event("connect", on_connect, namespace=board.NAMESPACE)
    socketio.on_event("board_join", on_board_join, namespace=board.NAMESPACE)
    socketio.on_event("live_join", on_live_join, namespace=board.NAMESPACE)
