"""JSON routes of exam delivery: candidate check-in, attempts, saves and submission; the examiner's session
and time actions; the supervisor's read-only view. Socket.IO carries the same saves (events.py)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, g, jsonify, request

from .. import delivery, monitor_events, openapi, papers, seb
from ..accounts import LoginRefused
from ..errors import UserError
from ..models import AdjustmentKind, Attempt, ExamSession, Role, RosterEntry, TimeAdjustment
from ..security import sessions
from ..security.access import public, requires
from ..web import client_ip, get_db, json_body, t
from .auth import session_cookie_args
from ..photos import PHOTO_TYPES
from .scopes import adjustment_organisation, attempt_organisation, roster_entry_organisation, session_organisation

bp = Blueprint("exam_api", __name__, url_prefix="/api")

CHECK_IN_SCHEMA = {"type": "object", "required": ["ticket_number", "id_number", "pin"], "properties": {
    "ticket_number": {"type": "string", "maxLength": 32}, "id_number": {"type": "string", "maxLength": 18},
    "pin": {"type": "string", "maxLength": 12}}}
SAVE_SCHEMA = {"type": "object", "required": ["op_id", "seq", "item_id"], "properties": {
    "op_id": {"type": "string", "maxLength": 40}, "seq": {"type": "integer"}, "item_id": {"type": "string"},
    "value": {}, "flagged": {"type": "boolean"}, "attempt_id": {"type": "integer"},
    "client_id": {"type": "string", "maxLength": 40}}}
SIGNAL_SCHEMA = {"type": "object", "required": ["kind"], "properties": {
    "kind": {"type": "string", "maxLength": 20}, "detail": {"type": "string", "maxLength": 200}}}
CLIENT_SCHEMA = {"type": "object", "required": ["client_id"],
                 "properties": {"client_id": {"type": "string", "maxLength": 40}}}
PAUSE_SCHEMA = {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string", "maxLength": 300}}}
TIME_SCHEMA = {"type": "object", "required": ["seconds", "kind", "reason"], "properties": {
    "seconds": {"type": "integer"}, "kind": {"type": "string", "enum": [k.value for k in AdjustmentKind]},
    "reason": {"type": "string", "maxLength": 300}}}
STATE_SCHEMA = {"type": "object", "properties": {
    "attempt_id": {"type": "integer"}, "phase": {"type": "string"}, "remaining_ms": {"type": "integer"},
    "last_seq": {"type": "integer"}, "responses": {"type": "object"}}}
ACK_SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}, "op_id": {"type": "string"},
                                               "seq": {"type": "integer"}, "duplicate": {"type": "boolean"}}}
EXAMINER = (Role.examiner,)
OBSERVERS = (Role.examiner, Role.supervisor, Role.station_manager, Role.centre_admin, Role.provincial_admin)


def own_attempt(attempt_id: int) -> Attempt:
    """The signed-in candidate's own attempt; anybody else's is answered as if it did not exist."""
    attempt = get_db().get(Attempt, attempt_id)
    if attempt is None or attempt.roster_entry.candidate_id != g.user.id:
        abort(404)
    seb.require(attempt.roster_entry.exam_session.exam.seb_config_key, request)
    return attempt


# ---- candidate --------------------------------------------------------------------------------------------

@bp.post("/check-in")
@public
@openapi.documented("Candidate check-in with admission ticket, ID number and the room PIN", tags=("candidate",),
                    request=CHECK_IN_SCHEMA, responses={200: {"type": "object"}})
def check_in():
    body = json_body(CHECK_IN_SCHEMA)
    db = get_db()
    try:
        token, entry = delivery.check_in(db, body["ticket_number"], body["id_number"], body["pin"], g.now,
                                         client_ip(), "")
    except LoginRefused as refused:
        db.commit()
        return jsonify(error={"code": refused.key, "message": t(refused.key, **refused.values)}), refused.status
    seb.require(entry.exam_session.exam.seb_config_key, request)   # refused: rolled back, no session opened
    db.commit()
    response = jsonify(roster_entry_id=entry.id, seat=entry.seat, name=entry.candidate.display_name,
                       exam=entry.exam_session.exam.name, room=entry.exam_session.room)
    response.set_cookie(sessions.COOKIE_NAME, token, **session_cookie_args())
    return response


@bp.post("/roster/<int:entry_id>/attempt")
@requires(Role.candidate)
@openapi.documented("Start (or resume) the candidate's attempt in this browser; 409 while another browser holds "
                    "it (the examiner can approve the move)", tags=("candidate",), request=CLIENT_SCHEMA,
                    responses={200: STATE_SCHEMA})
def start_attempt(entry_id: int):
    client_id = json_body(CLIENT_SCHEMA)["client_id"]
    db = get_db()
    entry = db.get(RosterEntry, entry_id)
    if entry is None or entry.candidate_id != g.user.id:
        abort(404)
    seb.require(entry.exam_session.exam.seb_config_key, request)
    attempt = delivery.start_attempt(db, entry, g.now)
    held = delivery.claim_browser(db, attempt, client_id, g.now)
    db.commit()  # a takeover request is kept even though this browser is refused for now
    if not held:
        return jsonify(error={"code": "delivery.other_browser", "message": t("delivery.other_browser")}), 409
    return jsonify(delivery.attempt_state(db, attempt, g.now))


@bp.get("/attempts/<int:attempt_id>")
@requires(Role.candidate)
@openapi.documented("The attempt's time and saved responses (resume after a reload or on another computer)",
                    tags=("candidate",), responses={200: STATE_SCHEMA})
def attempt(attempt_id: int):
    attempt = own_attempt(attempt_id)
    delivery.check_browser(attempt, request.args.get("client_id"))
    return jsonify(delivery.attempt_state(get_db(), attempt, g.now))


@bp.get("/attempts/<int:attempt_id>/paper")
@requires(Role.candidate)
@openapi.documented("The attempt's paper as the candidate sees it (no keys; items and options in this "
                    "attempt's order)", tags=("candidate",), responses={200: {"type": "object"}})
def paper(attempt_id: int):
    attempt = own_attempt(attempt_id)
    full = papers.paper_for(get_db(), attempt)
    return jsonify(papers.candidate_view(full, papers.seed_of(attempt, full)))


@bp.post("/attempts/<int:attempt_id>/saves")
@requires(Role.candidate)
@openapi.documented("Save one answer change (the same operation as the Socket.IO `save` event)",
                    tags=("candidate",), request=SAVE_SCHEMA, responses={200: ACK_SCHEMA})
def save(attempt_id: int):
    op = delivery.SaveOp.parse(json_body(SAVE_SCHEMA))
    db = get_db()
    attempt = own_attempt(attempt_id)
    ack = delivery.apply_save(db, attempt, op, g.now)
    delivery.note_address(db, attempt, g.user_session.ip, client_ip(), g.now)
    db.commit()
    return jsonify(ack.to_json())


@bp.post("/attempts/<int:attempt_id>/signals")
@requires(Role.candidate)
@openapi.documented("An integrity signal from the exam page (focus lost, page hidden, paste, second tab)",
                    tags=("candidate",), request=SIGNAL_SCHEMA, responses={200: {"type": "object"}})
def signal(attempt_id: int):
    body = json_body(SIGNAL_SCHEMA)
    db = get_db()
    delivery.record_signal(db, own_attempt(attempt_id), body["kind"], body.get("detail", ""), g.now)
    db.commit()
    return jsonify(ok=True)


@bp.post("/attempts/<int:attempt_id>/submit")
@requires(Role.candidate)
@openapi.documented("Final submission; returns the receipt", tags=("candidate",), request=CLIENT_SCHEMA,
                    responses={200: {"type": "object"}})
def submit(attempt_id: int):
    client_id = json_body(CLIENT_SCHEMA)["client_id"]
    db = get_db()
    attempt = own_attempt(attempt_id)
    delivery.check_browser(attempt, client_id)
    receipt = delivery.submit(db, attempt, g.user, g.now)
    db.commit()
    return jsonify(receipt)


@bp.get("/me/photo")
@requires(Role.candidate)
@openapi.documented("The signed-in candidate's registration photo (shown on the identity card before the exam)",
                    tags=("candidate",), responses={200: {"type": "string", "format": "binary"}})
def my_photo():
    return photo_response(g.user)


@bp.get("/roster/<int:entry_id>/photo")
@requires(*OBSERVERS, scope=roster_entry_organisation)
@openapi.documented("A roster entry's registration photo, for the examiner's identity check", tags=("examiner",),
                    responses={200: {"type": "string", "format": "binary"}})
def roster_photo(entry_id: int):
    return photo_response(get_db().get(RosterEntry, entry_id).candidate)


def photo_response(user):
    """The photo bytes, never sniffed or run: an image type from our own list, a sandboxing policy."""
    if user.photo is None or user.photo_type not in PHOTO_TYPES:
        abort(404)
    response = Response(user.photo, mimetype=user.photo_type)
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


# ---- examiner and observers --------------------------------------------------------------------------------

def _session(session_id: int) -> ExamSession:
    return get_db().get(ExamSession, session_id)


@bp.get("/sessions/<int:session_id>")
@requires(*OBSERVERS, scope=session_organisation)
@openapi.documented("A session's state and its roster with each attempt's phase and time", tags=("examiner",),
                    responses={200: {"type": "object"}})
def session_overview(session_id: int):
    session = _session(session_id)
    roster = []
    for entry in session.roster:
        row = {"roster_entry_id": entry.id, "seat": entry.seat, "name": entry.candidate.display_name,
               "ticket_number": entry.ticket_number, "attempt": None}
        if entry.attempt is not None:
            state = delivery.clock(entry.attempt, g.now)
            row["attempt"] = {"id": entry.attempt.id, "phase": state.phase.value, "remaining_ms": state.remaining_ms,
                              "last_seq": entry.attempt.last_seq,
                              "takeover_waiting": delivery.takeover_waiting(entry.attempt),
                              "signals": delivery.signals_of(get_db(), entry.attempt)}
        roster.append(row)
    return jsonify(id=session.id, exam=session.exam.name, room=session.room,
                   status=delivery.session_status(session, g.now), duration_s=session.duration_s, roster=roster)


def _session_action(session_id: int, action, cause: str = "") -> dict:
    """Run and commit; with a cause, the room's candidates and dashboards re-read their state at once."""
    db = get_db()
    session = _session(session_id)
    result = action(db, session, g.user)
    db.commit()
    if cause:
        monitor_events.resync(session, cause=cause)
    return result


def _attempt_changed(attempt: Attempt, cause: str) -> None:
    """After the commit: the candidate's page and the dashboards re-read this attempt at once."""
    monitor_events.resync(attempt.roster_entry.exam_session, attempt, cause)


@bp.post("/sessions/<int:session_id>/check-in")
@requires(*EXAMINER, scope=session_organisation)
@openapi.documented("Open check-in; returns the PIN to read out in the room", tags=("examiner",),
                    responses={200: {"type": "object", "properties": {"pin": {"type": "string"}}}})
def open_check_in(session_id: int):
    return jsonify(pin=_session_action(session_id, lambda db, s, u: delivery.open_check_in(db, s, u, g.now)))


@bp.post("/sessions/<int:session_id>/start")
@requires(*EXAMINER, scope=session_organisation)
@openapi.documented("Start the session", tags=("examiner",), responses={200: {"type": "object"}})
def start_session(session_id: int):
    paper_key = current_app.extensions["exam_settings"].paper_key()
    _session_action(session_id, lambda db, s, u: delivery.start_session(db, s, u, g.now, paper_key),
                    "started")
    return jsonify(ok=True)


@bp.post("/sessions/<int:session_id>/pause")
@requires(*EXAMINER, scope=session_organisation)
@openapi.documented("Pause the whole session (time stops for everyone)", tags=("examiner",), request=PAUSE_SCHEMA,
                    responses={200: {"type": "object"}})
def pause_session(session_id: int):
    reason = json_body(PAUSE_SCHEMA)["reason"]
    _session_action(session_id, lambda db, s, u: delivery.pause_session(db, s, u, reason, g.now),
                    "paused")
    return jsonify(ok=True)


@bp.post("/sessions/<int:session_id>/resume")
@requires(*EXAMINER, scope=session_organisation)
@openapi.documented("Resume a paused session", tags=("examiner",), responses={200: {"type": "object"}})
def resume_session(session_id: int):
    _session_action(session_id, lambda db, s, u: delivery.resume_session(db, s, u, g.now), "resumed")
    return jsonify(ok=True)


@bp.post("/sessions/<int:session_id>/end")
@requires(*EXAMINER, scope=session_organisation)
@openapi.documented("End the session; open attempts are force-submitted", tags=("examiner",),
                    responses={200: {"type": "object"}})
def end_session(session_id: int):
    closed = _session_action(session_id, lambda db, s, u: delivery.end_session(db, s, u, g.now), "ended")
    return jsonify(ok=True, force_submitted=closed)


@bp.post("/attempts/<int:attempt_id>/time")
@requires(*EXAMINER, scope=attempt_organisation)
@openapi.documented("Add (or take) time for one candidate, with a reason", tags=("examiner",), request=TIME_SCHEMA,
                    responses={200: {"type": "object"}})
def adjust_time(attempt_id: int):
    body = json_body(TIME_SCHEMA)
    try:
        kind = AdjustmentKind(body["kind"])
    except ValueError:
        raise UserError("error.json_fields", fields="kind") from None
    db = get_db()
    attempt = db.get(Attempt, attempt_id)
    entry = delivery.adjust_time(db, attempt, body["seconds"], kind, body["reason"], g.user, g.now)
    db.commit()
    _attempt_changed(attempt, "time")
    return jsonify(adjustment_id=entry.id)


@bp.post("/attempts/<int:attempt_id>/takeover/approve")
@requires(*EXAMINER, scope=attempt_organisation)
@openapi.documented("Let the candidate continue on the computer that asked to take over", tags=("examiner",),
                    responses={200: {"type": "object"}})
def approve_takeover(attempt_id: int):
    db = get_db()
    attempt = db.get(Attempt, attempt_id)
    delivery.approve_takeover(db, attempt, g.user, g.now)
    db.commit()
    _attempt_changed(attempt, "takeover")
    return jsonify(ok=True)


@bp.post("/time-adjustments/<int:adjustment_id>/revert")
@requires(*EXAMINER, scope=adjustment_organisation)
@openapi.documented("Revert a time adjustment", tags=("examiner",), responses={200: {"type": "object"}})
def revert_adjustment(adjustment_id: int):
    db = get_db()
    adjustment = db.get(TimeAdjustment, adjustment_id)
    delivery.revert_adjustment(db, adjustment, g.user, g.now)
    db.commit()
    _attempt_changed(db.get(Attempt, adjustment.attempt_id), "time")
    return jsonify(ok=True)


@bp.post("/roster/<int:entry_id>/seat-delay/reset")
@requires(*EXAMINER, scope=roster_entry_organisation)
@openapi.documented("Let a candidate whose check-in failed try again at once", tags=("examiner",),
                    responses={200: {"type": "object"}})
def reset_seat_delay(entry_id: int):
    db = get_db()
    cleared = delivery.reset_seat_delay(db, db.get(RosterEntry, entry_id), g.user, g.now)
    db.commit()
    return jsonify(ok=True, cleared=cleared)

