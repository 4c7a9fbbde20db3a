"""Socket.IO handlers. `before_request` does not run for socket events, so each handler checks the session
itself; the handshake's Origin is checked by Socket.IO (same origin only, its default)."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, request
from flask_socketio import join_room

from .models import utcnow
from .security import sessions


def session_user_id() -> int | None:
    """The signed-in user behind this socket's cookie, or None."""
    settings = current_app.extensions["exam_settings"]
    with current_app.extensions["exam_db"].session(write=False) as db:
        row = sessions.find_session(db, request.cookies.get(sessions.COOKIE_NAME, ""), utcnow(),
                                    timedelta(minutes=settings.session_idle_minutes),
                                    timedelta(hours=settings.session_absolute_hours))
        return row.user_id if row else None


def on_connect(auth=None):
    user_id = session_user_id()
    if user_id is None:
        return False  # refuse the connection: deny by default
    join_room(f"user:{user_id}")
    return True


def register(socketio) -> None:
    """Attach the handlers to one app's Socket.IO server."""
    socketio.on_event("connect", on_connect)
