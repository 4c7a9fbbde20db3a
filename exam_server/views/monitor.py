"""Monitoring routes: the dashboard's snapshot and a candidate's read-only detail; the examiner's actions on one
candidate (announce, late start, pause/resume, force-submit, void), incidents and misconduct; the supervisor's
annotations and countersignatures; the session report; the supervisor's page across stations.

Every action commits first and then pushes the change (monitor_events.notify) to dashboards and candidates."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, g, jsonify, render_template
from sqlalchemy import select

from .. import delivery, directory, monitor_events, monitoring, openapi, practical
from ..models import Attempt, ExamPart, ExamSession, Incident, MisconductRecord, Role, RosterEntry, SupervisorAnnotation
from ..monitor_events import notify
from ..security.access import requires
from ..web import get_db, json_body
from .exam_api import own_attempt
from .scopes import attempt_organisation, roster_entry_organisation, session_organisation

bp = Blueprint("monitor", __name__)

EXAMINER = (Role.examiner,)
SUPERVISOR = (Role.supervisor,)
OBSERVERS = (Role.examiner, Role.supervisor, Role.station_manager, Role.centre_admin, Role.provincial_admin)
OBJECT = {"type": "object"}
TEXT_SCHEMA = {"type": "object", "required": ["text"], "properties": {
    "text": {"type": "string", "maxLength": 2000}, "attempt_id": {"type": "integer"}}}
REASON_SCHEMA = {"type": "object", "required": ["reason"],
                 "properties": {"reason": {"type": "string", "maxLength": 300}}}
INCIDENT_SCHEMA = {"type": "object", "required": ["category", "description"], "properties": {
    "category": {"type": "string", "maxLength": 16}, "description": {"type": "string", "maxLength": 2000},
    "attempt_id": {"type": "integer"}}}
MISCONDUCT_SCHEMA = {"type": "object", "required": ["tier", "description"], "properties": {
    "tier": {"type": "string", "maxLength": 24}, "description": {"type": "string", "maxLength": 2000},
    "evidence": {"type": "object"}}}
STATEMENT_SCHEMA = {"type": "object", "required": ["statement"], "properties": {
    "statement": {"type": "string", "maxLength": 2000}}}


def misconduct_organisation(record_id: int):
    record = get_db().get(MisconductRecord, record_id)
    return attempt_organisation(record.attempt_id) if record else None


def _attempt(attempt_id: int) -> Attempt:
    return get_db().get(Attempt, attempt_id)


def _session_attempt(session: ExamSession, attempt_id) -> Attempt | None:
    """An optional attempt named in a body, which must belong to the session."""
    if attempt_id is None:
        return None
    attempt = get_db().get(Attempt, attempt_id)
    if attempt is None or attempt.roster_entry.exam_session_id != session.id:
        abort(404)
    return attempt


def _done(attempt: Attempt, kind: str, **data):
    """Commit, then tell the dashboards and the candidate."""
    get_db().commit()
    entry = attempt.roster_entry
    notify(entry.exam_session_id, kind, [entry.candidate_id], attempt_id=attempt.id, roster_entry_id=entry.id, **data)


# ---- reading -----------------------------------------------------------------------------------------------

@bp.get("/api/sessions/<int:session_id>/monitor")
@requires(*OBSERVERS, scope=session_organisation)
@openapi.documented("The dashboard: every seat's tile (progress, time, signals, flags; never the answers)",
                    tags=("examiner",), responses={200: OBJECT})
def snapshot(session_id: int):
    db = get_db()
    data = monitoring.snapshot(db, db.get(ExamSession, session_id), g.now)
    app = current_app._get_current_object()
    for tile in data["tiles"]:      # practical seats: what this process last saw of their machine sessions
        machine = tile["attempt"] and tile["attempt"]["machine"]
        if machine is not None:
            machine.update(monitor_events.machine_fields_known(app, tile["attempt"]["id"]) or {})
    return jsonify(data)


@bp.get("/api/attempts/<int:attempt_id>/machine/mirror")
@requires(*OBSERVERS, scope=attempt_organisation)
@openapi.documented("A practical candidate's machine as their screen shows it, read only (the server's machine "
                    "session; then follow the Socket.IO `mirror` updates after `monitor_mirror`)",
                    tags=("examiner",), responses={200: OBJECT})
def machine_mirror(attempt_id: int):
    db = get_db()
    attempt = _attempt(attempt_id)
    if attempt.roster_entry.exam_session.part is not ExamPart.practical:
        abort(404)
    manager = practical.manager_for(current_app._get_current_object())
    return jsonify(practical.machine_state(db, manager, attempt, g.now, drawing_url=""))


@bp.get("/api/attempts/<int:attempt_id>/monitor")
@requires(*OBSERVERS, scope=attempt_organisation)
@openapi.documented("One candidate's read-only detail: items answered and flagged, time ledger, pauses, signals, "
                    "misconduct", tags=("examiner",), responses={200: OBJECT})
def attempt_detail(attempt_id: int):
    return jsonify(monitoring.attempt_detail(get_db(), _attempt(attempt_id), g.now))


@bp.get("/api/attempts/<int:attempt_id>/announcements")
@requires(Role.candidate)
@openapi.documented("The announcements the candidate received (the room's and their own)", tags=("candidate",),
                    responses={200: OBJECT})
def my_announcements(attempt_id: int):
    return jsonify(announcements=monitoring.announcements_for(get_db(), own_attempt(attempt_id)))


# ---- the examiner's actions ------------------------------------------------------------------------------------

@bp.post("/api/sessions/<int:session_id>/announcements")
@requires(*EXAMINER, scope=session_organisation)
@openapi.documented("Announce to the whole room, or to one candidate with attempt_id", tags=("examiner",),
                    request=TEXT_SCHEMA, responses={200: OBJECT})
def announce(session_id: int):
    body = json_body(TEXT_SCHEMA)
    db = get_db()
    session = db.get(ExamSession, session_id)
    attempt = _session_attempt(session, body.get("attempt_id"))
    row = monitoring.announce(db, session, body["text"], g.user, g.now, attempt)
    data = monitoring.announcement_json(row)
    db.commit()
    candidates = [attempt.roster_entry.candidate_id] if attempt else [e.candidate_id for e in session.roster]
    notify(session.id, "announcement", candidates, announcement=data)
    return jsonify(data)


RESYNC_SCHEMA = {"type": "object", "properties": {"attempt_id": {"type": "integer"}}}


@bp.post("/api/sessions/<int:session_id>/resync")
@requires(*EXAMINER, scope=session_organisation)
@openapi.documented("Ask the session's candidates (or one, with attempt_id) to re-read their time now (the "
                    "delivery routes that change time or state already do this themselves)",
                    tags=("examiner",), request=RESYNC_SCHEMA, responses={200: OBJECT})
def resync(session_id: int):
    body = json_body(RESYNC_SCHEMA)
    session = get_db().get(ExamSession, session_id)
    monitor_events.resync(session, _session_attempt(session, body.get("attempt_id")), "asked")
    return jsonify(ok=True)


@bp.post("/api/roster/<int:entry_id>/late-start")
@requires(*EXAMINER, scope=roster_entry_organisation)
@openapi.documented("Authorise a late candidate to start", tags=("examiner",), request=REASON_SCHEMA,
                    responses={200: OBJECT})
def late_start(entry_id: int):
    reason = json_body(REASON_SCHEMA)["reason"]
    db = get_db()
    entry = db.get(RosterEntry, entry_id)
    monitoring.authorise_late_start(db, entry, reason, g.user, g.now)
    db.commit()
    notify(entry.exam_session_id, "late_start", roster_entry_id=entry.id)
    return jsonify(ok=True)


@bp.post("/api/attempts/<int:attempt_id>/pause")
@requires(*EXAMINER, scope=attempt_organisation)
@openapi.documented("Pause one candidate (the time is credited back on resume)", tags=("examiner",),
                    request=REASON_SCHEMA, responses={200: OBJECT})
def pause_attempt(attempt_id: int):
    reason = json_body(REASON_SCHEMA)["reason"]
    attempt = _attempt(attempt_id)
    delivery.pause_attempt(get_db(), attempt, g.user, reason, g.now)
    _done(attempt, "paused")
    return jsonify(ok=True)


@bp.post("/api/attempts/<int:attempt_id>/resume")
@requires(*EXAMINER, scope=attempt_organisation)
@openapi.documented("Resume one paused candidate", tags=("examiner",), responses={200: OBJECT})
def resume_attempt(attempt_id: int):
    attempt = _attempt(attempt_id)
    delivery.resume_attempt(get_db(), attempt, g.user, g.now)
    _done(attempt, "resumed")
    return jsonify(ok=True)


@bp.post("/api/attempts/<int:attempt_id>/force-submit")
@requires(*EXAMINER, scope=attempt_organisation)
@openapi.documented("Submit one candidate's attempt now; returns the receipt", tags=("examiner",),
                    responses={200: OBJECT})
def force_submit(attempt_id: int):
    attempt = _attempt(attempt_id)
    receipt = delivery.force_submit(get_db(), attempt, g.user, g.now)
    _done(attempt, "submitted")
    return jsonify(receipt)


@bp.post("/api/attempts/<int:attempt_id>/void")
@requires(*EXAMINER, scope=attempt_organisation)
@openapi.documented("Void one candidate's attempt, with a reason", tags=("examiner",), request=REASON_SCHEMA,
                    responses={200: OBJECT})
def void_attempt(attempt_id: int):
    reason = json_body(REASON_SCHEMA)["reason"]
    attempt = _attempt(attempt_id)
    delivery.void_attempt(get_db(), attempt, g.user, reason, g.now)
    _done(attempt, "voided")
    return jsonify(ok=True)


@bp.post("/api/sessions/<int:session_id>/incidents")
@requires(*EXAMINER, scope=session_organisation)
@openapi.documented("Report an incident (environment, candidate, staff, technical, other)", tags=("examiner",),
                    request=INCIDENT_SCHEMA, responses={200: OBJECT})
def report_incident(session_id: int):
    body = json_body(INCIDENT_SCHEMA)
    db = get_db()
    session = db.get(ExamSession, session_id)
    row = monitoring.report_incident(db, session, body["category"], body["description"], g.user, g.now,
                                     _session_attempt(session, body.get("attempt_id")))
    db.commit()
    notify(session.id, "incident", incident_id=row.id)
    return jsonify(incident_id=row.id)


@bp.get("/api/sessions/<int:session_id>/incidents")
@requires(*OBSERVERS, scope=session_organisation)
@openapi.documented("The session's incidents and supervisors' annotations", tags=("examiner",),
                    responses={200: OBJECT})
def incidents(session_id: int):
    db = get_db()
    rows = db.execute(select(Incident).where(Incident.exam_session_id == session_id).order_by(Incident.id)).scalars()
    notes = db.execute(select(SupervisorAnnotation).where(SupervisorAnnotation.exam_session_id == session_id)
                       .order_by(SupervisorAnnotation.id)).scalars()
    return jsonify(incidents=[{"id": r.id, "category": r.category.value, "attempt_id": r.attempt_id,
                               "description": r.description} for r in rows],
                   annotations=[{"id": n.id, "attempt_id": n.attempt_id, "text": n.text} for n in notes])


@bp.post("/api/attempts/<int:attempt_id>/misconduct")
@requires(*EXAMINER, scope=attempt_organisation)
@openapi.documented("Record misconduct (违纪) by tier; the tier's sanction is written down for grading, and the "
                    "heavier tiers void the attempt", tags=("examiner",), request=MISCONDUCT_SCHEMA,
                    responses={200: OBJECT})
def record_misconduct(attempt_id: int):
    body = json_body(MISCONDUCT_SCHEMA)
    attempt = _attempt(attempt_id)
    record = monitoring.record_misconduct(get_db(), attempt, body["tier"], body["description"],
                                          body.get("evidence", {}), g.user, g.now)
    data = monitoring.misconduct_json(record)
    _done(attempt, "voided" if record.voids_subject else "misconduct", misconduct_id=record.id)
    return jsonify(data)


@bp.get("/api/sessions/<int:session_id>/misconduct")
@requires(*OBSERVERS, scope=session_organisation)
@openapi.documented("The session's misconduct records", tags=("examiner",), responses={200: OBJECT})
def misconduct_list(session_id: int):
    rows = get_db().execute(select(MisconductRecord).where(MisconductRecord.exam_session_id == session_id)
                            .order_by(MisconductRecord.id)).scalars()
    return jsonify(records=[monitoring.misconduct_json(r) for r in rows])


def _misconduct_action(record_id: int, action, kind: str):
    db = get_db()
    record = db.get(MisconductRecord, record_id)
    action(db, record)
    data = monitoring.misconduct_json(record)
    db.commit()
    notify(record.exam_session_id, kind, misconduct_id=record.id)
    return jsonify(data)


@bp.post("/api/misconduct/<int:record_id>/statement")
@requires(*EXAMINER, scope=misconduct_organisation)
@openapi.documented("Write down the candidate's statement (before the examiner signs)", tags=("examiner",),
                    request=STATEMENT_SCHEMA, responses={200: OBJECT})
def misconduct_statement(record_id: int):
    text = json_body(STATEMENT_SCHEMA)["statement"]
    return _misconduct_action(record_id, lambda db, r: monitoring.record_statement(db, r, text, g.user, g.now),
                              "misconduct")


@bp.post("/api/misconduct/<int:record_id>/sign")
@requires(*EXAMINER, scope=misconduct_organisation)
@openapi.documented("The examiner signs a misconduct record", tags=("examiner",), responses={200: OBJECT})
def misconduct_sign(record_id: int):
    return _misconduct_action(record_id, lambda db, r: monitoring.sign_misconduct(db, r, g.user, g.now), "misconduct")


@bp.post("/api/misconduct/<int:record_id>/countersign")
@requires(*SUPERVISOR, scope=misconduct_organisation)
@openapi.documented("The supervisor countersigns a signed misconduct record", tags=("supervisor",),
                    responses={200: OBJECT})
def misconduct_countersign(record_id: int):
    return _misconduct_action(record_id, lambda db, r: monitoring.countersign_misconduct(db, r, g.user, g.now),
                              "misconduct")


# ---- supervisors and the session report -------------------------------------------------------------------

@bp.post("/api/sessions/<int:session_id>/annotations")
@requires(*SUPERVISOR, scope=session_organisation)
@openapi.documented("A supervisor's annotation on the session or one candidate", tags=("supervisor",),
                    request=TEXT_SCHEMA, responses={200: OBJECT})
def annotate(session_id: int):
    body = json_body(TEXT_SCHEMA)
    db = get_db()
    session = db.get(ExamSession, session_id)
    attempt = _session_attempt(session, body.get("attempt_id"))
    row = monitoring.annotate(db, session, body["text"], g.user, g.now, attempt)
    db.commit()
    notify(session.id, "annotation", annotation_id=row.id)
    return jsonify(annotation_id=row.id)


def _report_action(session_id: int, action):
    db = get_db()
    report = action(db, db.get(ExamSession, session_id))
    data = monitoring.report_json(report, db)
    db.commit()
    notify(session_id, "report")
    return jsonify(data)


@bp.post("/api/sessions/<int:session_id>/report")
@requires(*EXAMINER, scope=session_organisation)
@openapi.documented("Generate the session report (场次报告) once the session ended", tags=("examiner",),
                    responses={200: OBJECT})
def generate_report(session_id: int):
    return _report_action(session_id, lambda db, s: monitoring.generate_report(db, s, g.user, g.now))


@bp.post("/api/sessions/<int:session_id>/report/sign")
@requires(*EXAMINER, scope=session_organisation)
@openapi.documented("The session's chief examiner (考评组长) signs the session report (any examiner of the "
                    "organisation when the session has no staff)", tags=("examiner",), responses={200: OBJECT})
def sign_report(session_id: int):
    return _report_action(session_id, lambda db, s: monitoring.sign_report(db, s, g.user, g.now))


@bp.post("/api/sessions/<int:session_id>/report/countersign")
@requires(*SUPERVISOR, scope=session_organisation)
@openapi.documented("A supervisor of the session countersigns the signed session report", tags=("supervisor",),
                    responses={200: OBJECT})
def countersign_report(session_id: int):
    return _report_action(session_id, lambda db, s: monitoring.countersign_report(db, s, g.user, g.now))


@bp.get("/api/sessions/<int:session_id>/report")
@requires(*OBSERVERS, scope=session_organisation)
@openapi.documented("The session report, if generated", tags=("examiner",), responses={200: OBJECT})
def report(session_id: int):
    db = get_db()
    found = monitoring.report_of(db, db.get(ExamSession, session_id))
    if found is None:
        abort(404)
    return jsonify(monitoring.report_json(found, db))


# ---- pages ---------------------------------------------------------------------------------------------------

@bp.get("/monitor")
@requires(*SUPERVISOR)
def supervisor_page():
    """Every session of the stations the supervisor is assigned to, each linking to its (read-only) dashboard."""
    sessions = directory.sessions_in_scope(get_db(), g.assignments)
    return render_template("monitor/supervisor.html", exam_sessions=sessions,
                           session_status=lambda s: delivery.session_status(s, g.now))


@bp.get("/sessions/<int:session_id>/report")
@requires(*OBSERVERS, scope=session_organisation)
def report_page(session_id: int):
    db = get_db()
    session = db.get(ExamSession, session_id)
    found = monitoring.report_of(db, session)
    return render_template("monitor/report.html", session=session,
                           report=monitoring.report_json(found, db) if found else None,
                           can_generate=any(a.role is Role.examiner for a in g.assignments),
                           can_sign=monitoring.may_sign(db, session, g.user, "sign"),
                           can_countersign=monitoring.may_sign(db, session, g.user, "countersign"))
