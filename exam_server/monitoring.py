"""Monitoring use cases: the dashboard snapshot of a session, announcements, late starts, incidents, misconduct
(违纪) with its sanction, supervisors' annotations and the session report (场次报告).

Like delivery.py: every function takes the database session and `now`, and audits its change in the same
transaction. Pushing the change to browsers is the caller's business (monitor_events.notify), after the commit.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from . import audit, delivery
from .audit import canonical_json
from .errors import UserError
from .models import (AdjustmentKind, Announcement, Attempt, Duty, ExamPart, ExamSession, Incident,
                     IncidentCategory, IntegrityEvent, LateStart, MisconductRecord, MisconductTier, Pause, Response,
                     Role, RosterEntry, SessionReport, SessionStaff, SubmitKind, SupervisorAnnotation, TimeAdjustment,
                     TraceEvent, User)

MAX_TEXT = 2000


# ---- sanctions ----------------------------------------------------------------------------------------

# Tier → what grading applies (exam_affairs.md, 违纪处理 tiers): a warning costs nothing; continuing after the
# end signal costs 10 points of the theory paper or 10 % of the practical score; the two heavier tiers void
# the subject, or every subject of the sitting with a bar for the rest of the year.
SANCTIONS: dict[MisconductTier, dict[str, Any]] = {
    MisconductTier.warning: {"theory_points": 0, "practical_percent": 0, "void_subject": False, "void_all": False},
    MisconductTier.continued_after_end: {"theory_points": 10, "practical_percent": 10, "void_subject": False,
                                         "void_all": False},
    MisconductTier.void_subject: {"theory_points": 0, "practical_percent": 0, "void_subject": True,
                                  "void_all": False},
    MisconductTier.void_all: {"theory_points": 0, "practical_percent": 0, "void_subject": True, "void_all": True},
}


def sanction_of(record: MisconductRecord) -> dict:
    return {"id": record.id, "tier": record.tier.value, "theory_points": record.theory_points_deducted,
            "practical_percent": record.practical_percent_deducted, "void_subject": record.voids_subject,
            "void_all": record.voids_all, "barred_year": record.barred_year}


def sanctions_for(db: Session, attempt: Attempt) -> list[dict]:
    """The signed sanctions grading must apply to an attempt (drafts do not count yet)."""
    rows = db.execute(select(MisconductRecord).where(MisconductRecord.attempt_id == attempt.id,
                                                     MisconductRecord.examiner_signed_at.is_not(None))
                      .order_by(MisconductRecord.id)).scalars()
    return [sanction_of(r) for r in rows]


# ---- dashboard ----------------------------------------------------------------------------------------

def _progress(db: Session, attempt_ids: list[int]) -> dict[int, tuple[int, Optional[datetime]]]:
    """Per attempt: how many items hold an answer, and when the last save landed."""
    if not attempt_ids:
        return {}
    answered = func.sum(case((Response.value != "null", 1), else_=0))
    rows = db.execute(select(Response.attempt_id, answered, func.max(Response.saved_at))
                      .where(Response.attempt_id.in_(attempt_ids)).group_by(Response.attempt_id))
    return {attempt_id: (int(count or 0), latest) for attempt_id, count, latest in rows}


def _machine_activity(db: Session, attempt_ids: list[int]) -> dict[int, dict]:
    """Per practical attempt: how many machine events the trace holds and when the last one arrived."""
    if not attempt_ids:
        return {}
    rows = db.execute(select(TraceEvent.attempt_id, func.count(), func.max(TraceEvent.t_server))
                      .where(TraceEvent.attempt_id.in_(attempt_ids)).group_by(TraceEvent.attempt_id))
    return {attempt_id: {"events": n, "last_event_ms": last} for attempt_id, n, last in rows}


def _signals(db: Session, attempt_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    if attempt_ids:
        rows = db.execute(select(IntegrityEvent.attempt_id, IntegrityEvent.kind, func.count())
                          .where(IntegrityEvent.attempt_id.in_(attempt_ids))
                          .group_by(IntegrityEvent.attempt_id, IntegrityEvent.kind))
        for attempt_id, kind, n in rows:
            counts.setdefault(attempt_id, {})[kind.value] = n
    return counts


def _flags(db: Session, session: ExamSession) -> dict[int, list[str]]:
    """Per attempt: misconduct tiers and incident categories recorded about it."""
    flags: dict[int, list[str]] = {}
    for attempt_id, tier in db.execute(select(MisconductRecord.attempt_id, MisconductRecord.tier)
                                       .where(MisconductRecord.exam_session_id == session.id)):
        flags.setdefault(attempt_id, []).append(f"misconduct:{tier.value}")
    for attempt_id, category in db.execute(select(Incident.attempt_id, Incident.category)
                                           .where(Incident.exam_session_id == session.id,
                                                  Incident.attempt_id.is_not(None))):
        flags.setdefault(attempt_id, []).append(f"incident:{category.value}")
    return flags


def _ms(value: Optional[datetime]) -> Optional[int]:
    return None if value is None else int(value.timestamp() * 1000)


def snapshot(db: Session, session: ExamSession, now: datetime) -> dict:
    """Everything a dashboard tile shows, for every seat, in a fixed number of queries (never the answers)."""
    roster = db.execute(select(RosterEntry).where(RosterEntry.exam_session_id == session.id)
                        .order_by(RosterEntry.seat)
                        .options(selectinload(RosterEntry.candidate),
                                 selectinload(RosterEntry.attempt).selectinload(Attempt.adjustments),
                                 selectinload(RosterEntry.attempt).selectinload(Attempt.own_pauses))).scalars().all()
    attempts = [e.attempt for e in roster if e.attempt is not None]
    ids = [a.id for a in attempts]
    progress = _progress(db, ids)
    signals, flags = _signals(db, ids), _flags(db, session)
    machines = _machine_activity(db, ids) if session.part is ExamPart.practical else {}
    late = set(db.execute(select(LateStart.roster_entry_id).join(RosterEntry)
                          .where(RosterEntry.exam_session_id == session.id)).scalars())
    tiles = []
    for entry in roster:
        tile = {"roster_entry_id": entry.id, "seat": entry.seat, "name": entry.candidate.display_name,
                "ticket_number": entry.ticket_number, "has_photo": entry.candidate.photo_type is not None,
                "late_start": entry.id in late, "attempt": None}
        attempt = entry.attempt
        if attempt is not None:
            state = delivery.clock(attempt, now)
            live = [a for a in attempt.adjustments if a.reverted_at is None]
            tile["attempt"] = {
                "id": attempt.id, "phase": state.phase.value, "remaining_ms": state.remaining_ms,
                "answered": progress.get(attempt.id, (0, None))[0],
                "last_saved_ms": _ms(progress.get(attempt.id, (0, None))[1]), "last_seq": attempt.last_seq,
                "accommodation_s": sum(a.seconds for a in live if a.kind is AdjustmentKind.accommodation),
                "adjustment_s": sum(a.seconds for a in live),
                "paused_alone": any(p.resumed_at is None for p in attempt.own_pauses),
                "takeover_waiting": delivery.takeover_waiting(attempt),
                "signals": signals.get(attempt.id, {}), "flags": flags.get(attempt.id, []),
                "machine": machines.get(attempt.id) if session.part is ExamPart.practical else None}
        tiles.append(tile)
    return {"id": session.id, "exam": session.exam.name, "part": session.part.value, "room": session.room,
            "status": delivery.session_status(session, now), "duration_s": session.duration_s,
            "now_ms": _ms(now), "tiles": tiles}


def attempt_detail(db: Session, attempt: Attempt, now: datetime) -> dict:
    """The read-only detail of one candidate: which items are answered and flagged (never the values), the
    time ledger, pauses, signals, announcements and misconduct."""
    state = delivery.clock(attempt, now)
    responses = db.execute(select(Response.item_id, Response.value != "null", Response.flagged, Response.saved_at)
                           .where(Response.attempt_id == attempt.id).order_by(Response.item_id)).all()
    signals = db.execute(select(IntegrityEvent).where(IntegrityEvent.attempt_id == attempt.id)
                         .order_by(IntegrityEvent.id)).scalars()
    return {
        "attempt_id": attempt.id, "seat": attempt.roster_entry.seat,
        "name": attempt.roster_entry.candidate.display_name, "phase": state.phase.value,
        "remaining_ms": state.remaining_ms,
        "items": [{"item_id": i, "answered": bool(a), "flagged": f, "saved_ms": _ms(s)} for i, a, f, s in responses],
        "adjustments": [{"id": a.id, "kind": a.kind.value, "seconds": a.seconds, "reason": a.reason,
                         "reverted": a.reverted_at is not None} for a in attempt.adjustments],
        "pauses": [{"paused_ms": _ms(p.paused_at), "resumed_ms": _ms(p.resumed_at), "reason": p.reason}
                   for p in attempt.own_pauses],
        "signals": [{"kind": s.kind.value, "detail": s.detail, "at_ms": _ms(s.received_at)} for s in signals],
        "misconduct": [misconduct_json(r) for r in db.execute(
            select(MisconductRecord).where(MisconductRecord.attempt_id == attempt.id)).scalars()],
        "practical": attempt.roster_entry.exam_session.part is ExamPart.practical,
        "machine_events": _recent_machine_events(db, attempt),
    }


def _recent_machine_events(db: Session, attempt: Attempt, count: int = 20) -> list[dict]:
    """The last machine events of a practical attempt's trace, newest last (empty for theory)."""
    rows = db.execute(select(TraceEvent).where(TraceEvent.attempt_id == attempt.id)
                      .order_by(TraceEvent.seq.desc()).limit(count)).scalars().all()
    return [{"seq": r.seq, "type": r.type, "payload": json.loads(r.payload), "at_ms": r.t_server}
            for r in reversed(rows)]


# ---- announcements and late starts --------------------------------------------------------------------

def _text(value: str, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if not value:
        raise UserError("monitor.text_required")
    return value[:limit]


def announce(db: Session, session: ExamSession, text: str, examiner: User, now: datetime,
             attempt: Optional[Attempt] = None) -> Announcement:
    if delivery.session_status(session, now) == "ended":
        raise UserError("delivery.session_state", 409, state="ended")
    if attempt is not None and attempt.roster_entry.exam_session_id != session.id:
        raise UserError("error.not_found", 404)
    row = Announcement(exam_session_id=session.id, attempt_id=attempt.id if attempt else None,
                       text=_text(text, 500), created_at=now, created_by_id=examiner.id)
    db.add(row)
    db.flush()
    audit.record(db, "announcement_made", actor=examiner, object_type="exam_session", object_id=session.id, now=now,
                 data={"announcement_id": row.id, "attempt_id": row.attempt_id, "text": row.text})
    return row


def announcements_for(db: Session, attempt: Attempt) -> list[dict]:
    """What the candidate was told: the room's announcements and their own, oldest first."""
    session_id = attempt.roster_entry.exam_session_id
    rows = db.execute(select(Announcement).where(Announcement.exam_session_id == session_id,
                                                 (Announcement.attempt_id.is_(None))
                                                 | (Announcement.attempt_id == attempt.id))
                      .order_by(Announcement.id)).scalars()
    return [announcement_json(r) for r in rows]


def announcement_json(row: Announcement) -> dict:
    return {"id": row.id, "text": row.text, "attempt_id": row.attempt_id, "at_ms": _ms(row.created_at)}


def authorise_late_start(db: Session, entry: RosterEntry, reason: str, examiner: User, now: datetime) -> LateStart:
    """Record that a late candidate may start (the delivery rules do not refuse one; this is the audited
    permission the room's record needs)."""
    if delivery.session_status(entry.exam_session, now) not in ("running", "paused"):
        raise UserError("delivery.session_state", 409, state=delivery.session_status(entry.exam_session, now))
    if db.execute(select(LateStart).where(LateStart.roster_entry_id == entry.id)).first() is not None:
        raise UserError("monitor.already_done", 409)
    row = LateStart(roster_entry_id=entry.id, reason=_text(reason, 300), authorised_at=now,
                    authorised_by_id=examiner.id)
    db.add(row)
    db.flush()
    audit.record(db, "late_start_authorised", actor=examiner, object_type="roster_entry", object_id=entry.id,
                 now=now, data={"reason": row.reason})
    return row


# ---- incidents and annotations ------------------------------------------------------------------------

def report_incident(db: Session, session: ExamSession, category: str, description: str, examiner: User,
                    now: datetime, attempt: Optional[Attempt] = None) -> Incident:
    try:
        category_ = IncidentCategory(category)
    except ValueError:
        raise UserError("error.json_fields", fields="category") from None
    if attempt is not None and attempt.roster_entry.exam_session_id != session.id:
        raise UserError("error.not_found", 404)
    row = Incident(exam_session_id=session.id, attempt_id=attempt.id if attempt else None, category=category_,
                   description=_text(description), created_at=now, created_by_id=examiner.id)
    db.add(row)
    db.flush()
    audit.record(db, "incident_reported", actor=examiner, object_type="exam_session", object_id=session.id,
                 now=now, data={"incident_id": row.id, "category": category_.value, "attempt_id": row.attempt_id})
    return row


def annotate(db: Session, session: ExamSession, text: str, supervisor: User, now: datetime,
             attempt: Optional[Attempt] = None) -> SupervisorAnnotation:
    row = SupervisorAnnotation(exam_session_id=session.id, attempt_id=attempt.id if attempt else None,
                               text=_text(text), created_at=now, created_by_id=supervisor.id)
    db.add(row)
    db.flush()
    audit.record(db, "supervisor_annotated", actor=supervisor, object_type="exam_session", object_id=session.id,
                 now=now, data={"annotation_id": row.id})
    return row


# ---- misconduct ---------------------------------------------------------------------------------------

def _evidence(evidence: Any) -> str:
    """Evidence as the examiner gives it: notes, ids of recorded events, names of screenshot files."""
    if not isinstance(evidence, dict) or set(evidence) - {"notes", "event_ids", "files"}:
        raise UserError("error.json_fields", fields="evidence")
    text = canonical_json(evidence)
    if len(text) > 20_000:
        raise UserError("error.json_fields", fields="evidence")
    return text


def _record_content(record: MisconductRecord) -> str:
    return canonical_json({"attempt_id": record.attempt_id, "tier": record.tier.value,
                           "description": record.description, "evidence": json.loads(record.evidence),
                           "sanction": sanction_of(record), "statement": record.candidate_statement})


def record_misconduct(db: Session, attempt: Attempt, tier: str, description: str, evidence: Any, examiner: User,
                      now: datetime) -> MisconductRecord:
    """A 违纪 record with the tier's sanction written down for grading; the heavier tiers void the attempt now."""
    try:
        tier_ = MisconductTier(tier)
    except ValueError:
        raise UserError("error.json_fields", fields="tier") from None
    sanction = SANCTIONS[tier_]
    session = attempt.roster_entry.exam_session
    record = MisconductRecord(
        exam_session_id=session.id, attempt_id=attempt.id, tier=tier_, description=_text(description),
        evidence=_evidence(evidence), theory_points_deducted=sanction["theory_points"],
        practical_percent_deducted=sanction["practical_percent"], voids_subject=sanction["void_subject"],
        voids_all=sanction["void_all"], barred_year=session.scheduled_start_at.year if sanction["void_all"] else None,
        created_at=now, created_by_id=examiner.id)
    db.add(record)
    db.flush()
    audit.record(db, "misconduct_recorded", actor=examiner, object_type="attempt", object_id=attempt.id, now=now,
                 data={"misconduct_id": record.id, **sanction_of(record)})
    if sanction["void_subject"] and attempt.voided_at is None:
        delivery.void_attempt(db, attempt, examiner, f"misconduct #{record.id}", now)
    return record


def _unsigned(record: MisconductRecord) -> None:
    if record.examiner_signed_at is not None:
        raise UserError("monitor.already_signed", 409)


def record_statement(db: Session, record: MisconductRecord, statement: str, examiner: User,
                     now: datetime) -> None:
    """The candidate's own account, written down before the examiner signs (an empty one: refused to state)."""
    _unsigned(record)
    record.candidate_statement, record.statement_at = (statement or "").strip()[:MAX_TEXT], now
    audit.record(db, "misconduct_statement", actor=examiner, object_type="misconduct", object_id=record.id, now=now)


def sign_misconduct(db: Session, record: MisconductRecord, examiner: User, now: datetime) -> None:
    _unsigned(record)
    record.content_sha256 = hashlib.sha256(_record_content(record).encode()).hexdigest()
    record.examiner_signed_at, record.examiner_signed_by_id = now, examiner.id
    audit.record(db, "misconduct_signed", actor=examiner, object_type="misconduct", object_id=record.id, now=now,
                 data={"sha256": record.content_sha256})
    from . import scoring      # here: scoring reads sanctions from this module

    scoring.on_sanctions_changed(db, db.get(Attempt, record.attempt_id), now)


def countersign_misconduct(db: Session, record: MisconductRecord, supervisor: User, now: datetime) -> None:
    if record.examiner_signed_at is None:
        raise UserError("monitor.not_signed", 409)
    if record.supervisor_signed_at is not None:
        raise UserError("monitor.already_signed", 409)
    if hashlib.sha256(_record_content(record).encode()).hexdigest() != record.content_sha256:
        raise UserError("monitor.changed_after_signing", 409)
    record.supervisor_signed_at, record.supervisor_signed_by_id = now, supervisor.id
    audit.record(db, "misconduct_countersigned", actor=supervisor, object_type="misconduct", object_id=record.id,
                 now=now, data={"sha256": record.content_sha256})


def misconduct_json(record: MisconductRecord) -> dict:
    return {"id": record.id, "attempt_id": record.attempt_id, "description": record.description,
            "evidence": json.loads(record.evidence), "sanction": sanction_of(record),
            "statement": record.candidate_statement, "status": record.status, "sha256": record.content_sha256,
            "created_ms": _ms(record.created_at)}


# ---- session report -----------------------------------------------------------------------------------

def _attendance(session: ExamSession) -> dict:
    attempts = [e.attempt for e in session.roster if e.attempt is not None]
    kinds = [a.submit_kind.value for a in attempts if a.submit_kind is not None]
    return {"registered": len(session.roster), "present": len(attempts), "absent": len(session.roster) - len(attempts),
            "voided": sum(a.voided_at is not None for a in attempts),
            **{kind.value: kinds.count(kind.value) for kind in SubmitKind}}


def report_content(db: Session, session: ExamSession) -> dict:
    """The 场次报告's facts: attendance, incidents (technical faults apart), misconduct, time adjustments,
    pauses, late starts and the supervisors' annotations."""
    seat_of = {e.attempt.id: e.seat for e in session.roster if e.attempt is not None}
    incidents = db.execute(select(Incident).where(Incident.exam_session_id == session.id)
                           .order_by(Incident.id)).scalars().all()
    adjustments = db.execute(select(TimeAdjustment).where(TimeAdjustment.attempt_id.in_(list(seat_of)))
                             .order_by(TimeAdjustment.id)).scalars().all() if seat_of else []
    pauses = db.execute(select(Pause).where(Pause.exam_session_id == session.id).order_by(Pause.id)).scalars()
    records = db.execute(select(MisconductRecord).where(MisconductRecord.exam_session_id == session.id)
                         .order_by(MisconductRecord.id)).scalars()
    notes = db.execute(select(SupervisorAnnotation).where(SupervisorAnnotation.exam_session_id == session.id)
                       .order_by(SupervisorAnnotation.id)).scalars()
    late = db.execute(select(RosterEntry.seat).join(LateStart).where(RosterEntry.exam_session_id == session.id)
                      .order_by(RosterEntry.seat)).scalars().all()

    def incident(row: Incident) -> dict:
        return {"category": row.category.value, "seat": seat_of.get(row.attempt_id), "text": row.description}

    return {
        "session_id": session.id, "exam": session.exam.name, "part": session.part.value, "room": session.room,
        "started": session.started_at.isoformat() if session.started_at else None,
        "ended": session.ended_at.isoformat() if session.ended_at else None,
        "attendance": _attendance(session), "late_starts": late,
        "incidents": [incident(r) for r in incidents if r.category is not IncidentCategory.technical],
        "technical_faults": [incident(r) for r in incidents if r.category is IncidentCategory.technical],
        "misconduct": [{"seat": seat_of.get(r.attempt_id), "status": r.status, **sanction_of(r)} for r in records],
        "time_adjustments": [{"seat": seat_of[a.attempt_id], "kind": a.kind.value, "seconds": a.seconds,
                              "reason": a.reason, "reverted": a.reverted_at is not None} for a in adjustments],
        "pauses": [{"seat": seat_of.get(p.attempt_id), "reason": p.reason, "seconds":
                    int((p.resumed_at - p.paused_at).total_seconds()) if p.resumed_at else None} for p in pauses],
        "annotations": [n.text for n in notes],
    }


def generate_report(db: Session, session: ExamSession, examiner: User, now: datetime) -> SessionReport:
    """Freeze the report once the session ended; regenerating replaces it only while nobody signed it."""
    if delivery.session_status(session, now) != "ended":
        raise UserError("delivery.session_state", 409, state=delivery.session_status(session, now))
    report = db.execute(select(SessionReport).where(SessionReport.exam_session_id == session.id)).scalar_one_or_none()
    if report is not None and report.chief_signed_at is not None:
        raise UserError("monitor.already_signed", 409)
    content = canonical_json(report_content(db, session))
    if report is None:
        report = SessionReport(exam_session_id=session.id)
        db.add(report)
    report.content, report.content_sha256 = content, hashlib.sha256(content.encode()).hexdigest()
    report.generated_at, report.generated_by_id = now, examiner.id
    db.flush()
    audit.record(db, "session_report_generated", actor=examiner, object_type="exam_session", object_id=session.id,
                 now=now, data={"sha256": report.content_sha256})
    return report


def report_of(db: Session, session: ExamSession) -> Optional[SessionReport]:
    return db.execute(select(SessionReport).where(SessionReport.exam_session_id == session.id)).scalar_one_or_none()


def _require_report(db: Session, session: ExamSession) -> SessionReport:
    report = report_of(db, session)
    if report is None:
        raise UserError("monitor.no_report", 409)
    return report


# Who signs the 场次报告: the session's chief examiner (考评组长), countersigned by one of its supervisors. A
# session without any staff rows (the demo, older sessions) falls back to the organisation's examiners and
# supervisors, so that its report can still be signed.
SIGNERS = {"sign": (Duty.chief_examiner, Role.examiner), "countersign": (Duty.supervisor, Role.supervisor)}


def may_sign(db: Session, session: ExamSession, user: User, act: str) -> bool:
    """Whether ``user`` may ``act`` ("sign" or "countersign") on the session's report."""
    duty, role = SIGNERS[act]
    staff = db.execute(select(SessionStaff.user_id, SessionStaff.duty)
                       .where(SessionStaff.exam_session_id == session.id)).all()
    if staff:
        return (user.id, duty) in {(user_id, d) for user_id, d in staff}
    return any(a.role is role and a.organisation.contains(session.organisation) for a in user.active_roles())


def _require_signer(db: Session, session: ExamSession, user: User, act: str) -> None:
    if not may_sign(db, session, user, act):
        raise UserError("monitor.not_chief" if act == "sign" else "monitor.not_session_supervisor", 403)


def sign_report(db: Session, session: ExamSession, chief: User, now: datetime) -> SessionReport:
    report = _require_report(db, session)
    _require_signer(db, session, chief, "sign")
    if report.chief_signed_at is not None:
        raise UserError("monitor.already_signed", 409)
    report.chief_signed_at, report.chief_signed_by_id = now, chief.id
    audit.record(db, "session_report_signed", actor=chief, object_type="exam_session", object_id=session.id, now=now,
                 data={"sha256": report.content_sha256})
    return report


def countersign_report(db: Session, session: ExamSession, supervisor: User, now: datetime) -> SessionReport:
    report = _require_report(db, session)
    _require_signer(db, session, supervisor, "countersign")
    if report.chief_signed_at is None:
        raise UserError("monitor.not_signed", 409)
    if report.supervisor_signed_at is not None:
        raise UserError("monitor.already_signed", 409)
    if hashlib.sha256(report.content.encode()).hexdigest() != report.content_sha256:
        raise UserError("monitor.changed_after_signing", 409)
    report.supervisor_signed_at, report.supervisor_signed_by_id = now, supervisor.id
    audit.record(db, "session_report_countersigned", actor=supervisor, object_type="exam_session",
                 object_id=session.id, now=now, data={"sha256": report.content_sha256})
    return report


def report_json(report: SessionReport, db: Optional[Session] = None) -> dict:
    """The report with its signatures (and, given the database, the signers' names)."""
    def name(user_id: Optional[int]) -> Optional[str]:
        return db.get(User, user_id).display_name if db is not None and user_id is not None else None

    return {"status": report.status, "sha256": report.content_sha256, "content": json.loads(report.content),
            "generated_ms": _ms(report.generated_at), "chief_signed_ms": _ms(report.chief_signed_at),
            "supervisor_signed_ms": _ms(report.supervisor_signed_at),
            "chief": name(report.chief_signed_by_id), "supervisor": name(report.supervisor_signed_by_id)}
