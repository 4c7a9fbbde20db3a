"""The Socket.IO `machine` event: one operation of the practical exam's outbox (docs/practical-protocol.md).

`before_request` does not run for socket events, so the handler checks the session itself, as events.py does.
The return value is the ack, sent only after the commit that holds the event and after the machine session
applied it: `{"ok": true, "seq", "update"}`, `{"ok": true, "seq", "duplicate": true}` or
`{"ok": false, "error": {"code", "message"}, "last_seq"?}`.
"""
from __future__ import annotations

from flask import current_app

from . import i18n, monitor_events, practical, save_writer
from .errors import UserError
from .events import session_user_id


def app_commit(app) -> practical.Commit:
    """Commit through the process's group-commit writer (one fsync for every operation waiting)."""
    writer = save_writer.writer_for(app)
    return writer.submit


def handle_machine(app, user_id: int, payload) -> dict:
    """One operation for the signed-in user; every refusal is an error ack, never an exception."""
    locale = app.extensions["exam_settings"].default_locale
    try:
        ack = practical.submit_op(app_commit(app), practical.manager_for(app), user_id, payload)
    except UserError as exc:
        return practical.error_ack(exc, i18n.translate(locale, exc.key, **exc.values))
    monitor_events.machine_applied(app, payload, ack)     # the dashboards' tiles and mirrors
    return ack


def on_machine(payload):
    user_id = session_user_id()
    app = current_app._get_current_object()
    if user_id is None:
        return practical.error_ack(UserError("error.unauthorised", 401),
                                   i18n.translate(app.extensions["exam_settings"].default_locale,
                                                  "error.unauthorised"))
    return handle_machine(app, user_id, payload)


def register(socketio) -> None:
    """Attach the practical exam's handler to one app's Socket.IO server."""
    socketio.on_event("machine", on_machine)
