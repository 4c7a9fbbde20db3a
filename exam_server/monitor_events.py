"""Live monitoring over Socket.IO.

Examiners and supervisors join the room `monitor:<session id>` (`monitor_join`, after the same role and
scope check as the views). Candidates' exam pages send an application `heartbeat` every few seconds (the
transport's own ping takes ~45 s to notice a dead peer); each heartbeat, and each disconnect, is pushed to
the room as a `tile` event. Examiners' actions reach a candidate's browser as a `monitor` event in the room
`user:<id>` (events.py joins it), and every dashboard of the session as `changed`. With a Redis message queue
these rooms span every server process, so a dashboard sees candidates wherever they are connected.

Practical seats are watched from the server's own machine sessions, never from the browser: after each applied
machine event (`machine_applied`, called by the practical event paths) the tile's machine fields (mode, run
status, program and line, alarms, crashes) go to the dashboards when they changed, and the whole update goes to
the room `mirror:<attempt id>` of the read-only detail views watching that machine (`monitor_mirror`).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Optional

from flask import current_app, request
from flask_socketio import join_room, leave_room
from sqlalchemy import select

from .events import session_user_id
from .security import access
from .models import Attempt, ExamSession, Role, RosterEntry, User

OBSERVERS = frozenset({Role.examiner, Role.supervisor, Role.station_manager, Role.centre_admin,
                       Role.provincial_admin})
HEARTBEAT_FIELDS = {"answered": int, "total": int, "pending": int, "saved_ago_ms": int}
KNOWN_MACHINES = 2000       # practical attempts whose tile fields a process remembers (least recently used out)


def room(session_id: int) -> str:
    return f"monitor:{session_id}"


def mirror_room(attempt_id: int) -> str:
    return f"mirror:{attempt_id}"


def _socketio(app=None):
    return (app or current_app).extensions["socketio"]


def notify(session_id: int, kind: str, candidate_ids: Optional[list[int]] = None, **data) -> None:
    """After a commit: tell the session's dashboards, and the candidates concerned, that something changed."""
    socketio = _socketio()
    socketio.emit("changed", {"kind": kind, **data}, to=room(session_id))
    for user_id in candidate_ids or ():
        socketio.emit("monitor", {"kind": kind, **data}, to=f"user:{user_id}")


def resync(session: ExamSession, attempt: Optional[Attempt] = None, cause: str = "") -> None:
    """After a commit that changed time or state: the candidates concerned (one, or the whole room) re-read
    their attempt at once, and the dashboards refresh."""
    if attempt is not None:
        entry = attempt.roster_entry
        notify(session.id, "resync", [entry.candidate_id], attempt_id=attempt.id, roster_entry_id=entry.id,
               cause=cause)
    else:
        notify(session.id, "resync", [e.candidate_id for e in session.roster], cause=cause)


def may_observe(db, user_id: int, session: ExamSession) -> bool:
    """An observer over the session's organisation, or one on the session's staff (a rotated examiner)."""
    user = db.get(User, user_id)
    if user is None:
        return False
    held = user.active_roles()
    return (any(a.role in OBSERVERS and a.organisation.contains(session.organisation) for a in held)
            or bool({a.role for a in held} & access.staffed_roles(db, user_id, session.id)))


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
    current_app.extensions.setdefault("monitor_mirrors", {}).pop(request.sid, None)
    seat = current_app.extensions.setdefault("monitor_sockets", {}).pop(request.sid, None)
    if seat is not None:
        _socketio().emit("tile", tile_update(seat, {}, online=False), to=room(seat[0]))


# ---- practical seats: the server's machine sessions --------------------------------------------------------

class MachineTiles:
    """Per process: each practical attempt's seat and the machine fields its tile last showed."""

    def __init__(self, limit: int = KNOWN_MACHINES):
        self.limit = limit
        self.known: OrderedDict[int, dict] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, attempt_id: int) -> Optional[dict]:
        with self.lock:
            return self.known.get(attempt_id)

    def put(self, attempt_id: int, entry: dict) -> None:
        with self.lock:
            self.known.pop(attempt_id, None)
            self.known[attempt_id] = entry
            while len(self.known) > self.limit:
                self.known.popitem(last=False)


def machine_tiles(app) -> MachineTiles:
    return app.extensions.setdefault("monitor_machines", MachineTiles())


def machine_fields(update: dict, crashes: int) -> dict:
    """What a practical tile shows of a machine session's update (the reply of Panel.apply)."""
    program = update.get("program") or {}
    running = program.get("running")            # 0 is the MDI program
    return {"power": bool(update.get("power")), "mode": update.get("mode"), "status": update.get("status"),
            "program": running if running is not None else program.get("selected"), "running": running is not None,
            "line": program.get("line") or 0,
            "alarms": [a.get("code") for a in update.get("alarms") or () if isinstance(a, dict)],
            "crashes": crashes}


def _seat_of_attempt(app, attempt_id: int) -> Optional[tuple[int, int]]:
    """(session id, roster entry id) of an attempt, from the database."""
    with app.extensions["exam_db"].session(write=False) as db:
        row = db.execute(select(RosterEntry.exam_session_id, RosterEntry.id).join(Attempt)
                         .where(Attempt.id == attempt_id)).first()
    return None if row is None else (row[0], row[1])


def _crashes_so_far(app, attempt_id: int, seq: int) -> int:
    """Crashes of the machine session before this process first saw it (its view; the session is cached)."""
    from . import practical
    try:
        view, _ = practical.manager_for(app).view(attempt_id, seq)
    except Exception:                           # noqa: BLE001 - a tile must never break the candidate's ack
        app.logger.exception("machine view for the tile of attempt %s", attempt_id)
        return 0
    return len(view.get("crashes") or ())


def _may_be_watched(app, attempt_id: int) -> bool:
    """Whether a detail view may watch this machine: with a message queue the watcher may sit on any process
    (always publish); alone, only this process's own sockets count (updates can be large: stock tiles)."""
    if app.extensions["exam_settings"].redis_url:
        return True
    return attempt_id in app.extensions.setdefault("monitor_mirrors", {}).values()


def machine_applied(app, payload, ack) -> None:
    """Call after each machine event the server applied (`payload`: the operation with its attempt_id, `ack`:
    what practical.submit_op returned). Mirrors the update to the detail views watching this machine, and
    sends the tile's machine fields to the session's dashboards when they changed."""
    update = ack.get("update") if isinstance(ack, dict) and ack.get("ok") else None
    attempt_id = payload.get("attempt_id") if isinstance(payload, dict) else None
    if not isinstance(update, dict) or type(attempt_id) is not int:
        return                                  # refused, or a duplicate: nothing changed
    socketio = _socketio(app)
    event = payload.get("event") or {}
    if _may_be_watched(app, attempt_id):
        socketio.emit("mirror", {"attempt_id": attempt_id, "seq": ack["seq"], "update": update,
                                 "event": {"type": event.get("type"), "payload": event.get("payload", {})}},
                      to=mirror_room(attempt_id))
    tiles = machine_tiles(app)
    known = tiles.get(attempt_id)
    if known is None:
        seat = _seat_of_attempt(app, attempt_id)
        if seat is None:
            return
        crashes = _crashes_so_far(app, attempt_id, ack["seq"])
        known = {"session_id": seat[0], "roster_entry_id": seat[1], "fields": None}
    else:
        crashes = known["fields"]["crashes"] + len(update.get("new_crashes") or ())
    fields = machine_fields(update, crashes)
    changed = fields != known["fields"]
    tiles.put(attempt_id, {**known, "fields": fields})
    if changed:
        socketio.emit("tile", {"roster_entry_id": known["roster_entry_id"], "attempt_id": attempt_id,
                               "online": True, "server_ms": int(time.time() * 1000), "machine": fields},
                      to=room(known["session_id"]))


def machine_fields_known(app, attempt_id: int) -> Optional[dict]:
    """The machine fields this process last sent for an attempt's tile (None: no event seen here yet)."""
    known = machine_tiles(app).get(attempt_id)
    return None if known is None else known["fields"]


def on_monitor_mirror(payload):
    """A detail view watches one candidate's machine (attempt_id), or stops watching (attempt_id null).
    Read only: the room only receives; refused (as not found) without the role over the session."""
    user_id = session_user_id()
    attempt_id = payload.get("attempt_id") if isinstance(payload, dict) else None
    if user_id is None:
        return {"ok": False, "error": {"code": "error.unauthorised"}}
    watching = current_app.extensions.setdefault("monitor_mirrors", {})
    previous = watching.pop(request.sid, None)
    if previous is not None:
        leave_room(mirror_room(previous))
    if attempt_id is None:
        return {"ok": True}
    if type(attempt_id) is not int:
        return {"ok": False, "error": {"code": "error.not_found"}}
    with current_app.extensions["exam_db"].session(write=False) as db:
        attempt = db.get(Attempt, attempt_id)
        allowed = attempt is not None and may_observe(db, user_id, attempt.roster_entry.exam_session)
    if not allowed:
        return {"ok": False, "error": {"code": "error.not_found"}}
    join_room(mirror_room(attempt_id))
    watching[request.sid] = attempt_id
    return {"ok": True}


def register(socketio) -> None:
    socketio.on_event("monitor_join", on_monitor_join)
    socketio.on_event("heartbeat", on_heartbeat)
    socketio.on_event("monitor_mirror", on_monitor_mirror)
    socketio.on_event("disconnect", on_disconnect)
