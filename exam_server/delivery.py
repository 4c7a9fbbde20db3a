"""Exam delivery use cases: sessions, attempts, time, durable saves, submission.

Every function takes the database session and `now` from its caller, changes state only through the
transitions allowed for the current phase, and audits what it changed in the same transaction.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from . import audit, papers, timing
from .accounts import LoginRefused
from .audit import canonical_json
from .errors import UserError
from .models import (AdjustmentKind, Attempt, ExamPart, ExamSession, IntegrityEvent, IntegrityKind, Pause, Response,
                     RosterEntry, SaveOperation, SubmitKind, TimeAdjustment, User)
from .security import passwords, sessions, throttle

MAX_VALUE_BYTES = 4096


# ---- sessions -------------------------------------------------------------------------------------------

def session_status(session: ExamSession, now: datetime) -> str:
    """scheduled → check_in_open → running ⇄ paused → ended, derived from the timestamps."""
    if session.ended_at is not None:
        return "ended"
    if session.started_at is not None:
        return "paused" if any(p.resumed_at is None for p in session.pauses) else "running"
    return "check_in_open" if session.check_in_opened_at is not None else "scheduled"


def _require_status(session: ExamSession, now: datetime, *allowed: str) -> None:
    status = session_status(session, now)
    if status not in allowed:
        raise UserError("delivery.session_state", 409, state=status)


def open_check_in(db: Session, session: ExamSession, examiner: User, now: datetime) -> str:
    """Open check-in and return the six-digit PIN the examiner reads out in the room."""
    _require_status(session, now, "scheduled")
    pin = f"{secrets.randbelow(10**6):06d}"
    session.pin_hash = passwords.hash_password(pin)
    session.check_in_opened_at = now
    audit.record(db, "session_check_in_opened", actor=examiner, object_type="exam_session", object_id=session.id,
                 now=now)
    return pin


def start_session(db: Session, session: ExamSession, examiner: User, now: datetime, paper_key: bytes) -> None:
    """Start the session and release its sealed paper's key (audited)."""
    _require_status(session, now, "check_in_open")
    papers.release_key(db, session, paper_key, examiner, now)
    session.started_at = now
    audit.record(db, "session_started", actor=examiner, object_type="exam_session", object_id=session.id, now=now)


def pause_session(db: Session, session: ExamSession, examiner: User, reason: str, now: datetime) -> None:
    _require_status(session, now, "running")
    if not reason.strip():
        raise UserError("delivery.reason_required")
    db.add(Pause(exam_session_id=session.id, paused_at=now, reason=reason[:300], paused_by_id=examiner.id))
    db.flush()
    db.expire(session, ["pauses"])
    audit.record(db, "session_paused", actor=examiner, object_type="exam_session", object_id=session.id, now=now,
                 data={"reason": reason[:300]})


def resume_session(db: Session, session: ExamSession, examiner: User, now: datetime) -> None:
    _require_status(session, now, "paused")
    for pause in session.pauses:
        if pause.resumed_at is None:
            pause.resumed_at, pause.resumed_by_id = now, examiner.id
    db.flush()
    db.expire(session, ["pauses"])
    audit.record(db, "session_resumed", actor=examiner, object_type="exam_session", object_id=session.id, now=now)


def end_session(db: Session, session: ExamSession, examiner: User, now: datetime) -> int:
    """End the session; attempts still open are force-submitted. Returns how many."""
    _require_status(session, now, "running", "paused")
    closed = 0
    for entry in session.roster:
        attempt = entry.attempt
        if attempt is not None and attempt.submitted_at is None and attempt.voided_at is None:
            _close(db, attempt, min(now, clock(attempt, now).deadline), SubmitKind.force_submitted, examiner, now)
            closed += 1
    for pause in session.pauses:
        if pause.resumed_at is None:
            pause.resumed_at = now
    session.ended_at = now
    audit.record(db, "session_ended", actor=examiner, object_type="exam_session", object_id=session.id, now=now,
                 data={"force_submitted": closed})
    return closed


# ---- check-in -----------------------------------------------------------------------------------------

CHECK_IN_STATES = ("check_in_open", "running", "paused")


def check_in(db: Session, ticket_number: str, id_number: str, pin: str, now: datetime, ip: str = "",
             user_agent: str = "") -> tuple[str, RosterEntry]:
    """A candidate signs in at their seat with the admission ticket, the ID number and the room's PIN.

    Failures slow down per seat (never lock: a stranger must not be able to shut a candidate out), and the
    examiner can clear the delay. Returns the new session token and the roster entry; the caller commits in
    both cases (failures are counted and audited). Raises accounts.LoginRefused.
    """
    entry = db.execute(select(RosterEntry).where(RosterEntry.ticket_number == ticket_number.strip()[:32])
                       ).scalar_one_or_none()
    key = f"seat:{entry.id}" if entry else f"ticket@{ip}"
    policy = throttle.CANDIDATE if entry else throttle.UNKNOWN_NAME
    verdict = throttle.check(db, key, policy, now)
    if not verdict.allowed:
        raise LoginRefused("login.wait", 429, seconds=verdict.retry_after_s)
    candidate = entry.candidate if entry else None
    matches = (entry is not None and candidate.deactivated_at is None and candidate.id_number is not None
               and candidate.id_number.upper() == id_number.strip().upper())
    open_now = matches and session_status(entry.exam_session, now) in CHECK_IN_STATES
    if not (open_now and passwords.verify_shared_secret(entry.exam_session.pin_hash, pin.strip())):
        throttle.record_failure(db, key, policy, now)
        audit.record(db, "check_in_failed", actor_name=ticket_number[:100], object_type="roster_entry",
                     object_id=entry.id if entry else "", ip=ip, now=now, data={"session_open": bool(open_now)})
        raise LoginRefused("check_in.not_open" if matches and not open_now else "check_in.failed", 401)
    throttle.reset(db, key)
    token, _ = sessions.open_session(db, candidate, now, ip, user_agent)
    audit.record(db, "checked_in", actor=candidate, object_type="roster_entry", object_id=entry.id, ip=ip, now=now)
    return token, entry


def reset_seat_delay(db: Session, entry: RosterEntry, examiner: User, now: datetime) -> bool:
    cleared = throttle.reset(db, f"seat:{entry.id}")
    audit.record(db, "seat_delay_reset", actor=examiner, object_type="roster_entry", object_id=entry.id, now=now,
                 data={"cleared": cleared})
    return cleared


# ---- attempts and time --------------------------------------------------------------------------------

def clock(attempt: Attempt, now: datetime) -> timing.Clock:
    session = attempt.roster_entry.exam_session
    pauses = [(p.paused_at, p.resumed_at) for p in [*session.pauses, *attempt.own_pauses]]
    adjustment = sum(a.seconds for a in attempt.adjustments if a.reverted_at is None)
    return timing.attempt_clock(now, started_at=attempt.started_at, duration_s=session.duration_s,
                                adjustment_s=adjustment, pauses=pauses, submitted_at=attempt.submitted_at,
                                voided_at=attempt.voided_at)


def start_attempt(db: Session, entry: RosterEntry, now: datetime) -> Attempt:
    """Start (or return the already started) attempt of a roster entry: a cheap state change."""
    if entry.attempt is not None:
        return entry.attempt
    _require_status(entry.exam_session, now, "running")
    attempt = Attempt(roster_entry=entry, started_at=now)
    db.add(attempt)
    db.flush()
    audit.record(db, "attempt_started", actor=entry.candidate, object_type="attempt", object_id=attempt.id, now=now)
    return attempt


def claim_browser(db: Session, attempt: Attempt, client_id: str, now: datetime) -> bool:
    """One browser at a time. The first browser holds the attempt; another one is recorded as asking to
    take over and gets it only when the examiner approves. Returns whether `client_id` holds the attempt."""
    if not (isinstance(client_id, str) and 8 <= len(client_id) <= 40):
        raise UserError("delivery.bad_op")
    if attempt.client_id in (None, client_id):
        attempt.client_id = client_id
        return True
    if attempt.takeover_client_id != client_id:
        attempt.takeover_client_id, attempt.takeover_requested_at = client_id, now
        audit.record(db, "takeover_requested", actor=attempt.roster_entry.candidate, object_type="attempt",
                     object_id=attempt.id, now=now)
    return False


def approve_takeover(db: Session, attempt: Attempt, examiner: User, now: datetime) -> None:
    if attempt.takeover_client_id is None:
        raise UserError("delivery.no_takeover", 409)
    attempt.client_id, attempt.takeover_client_id, attempt.takeover_requested_at = attempt.takeover_client_id, None, None
    audit.record(db, "takeover_approved", actor=examiner, object_type="attempt", object_id=attempt.id, now=now)


def check_browser(attempt: Attempt, client_id: Optional[str]) -> None:
    """Refuse a browser that no longer holds the attempt (the examiner moved it elsewhere)."""
    if attempt.client_id is not None and client_id != attempt.client_id:
        raise UserError("delivery.taken_over", 409)


def adjust_time(db: Session, attempt: Attempt, seconds: int, kind: AdjustmentKind, reason: str, examiner: User,
                now: datetime) -> TimeAdjustment:
    if not reason.strip():
        raise UserError("delivery.reason_required")
    if seconds == 0 or abs(seconds) > 4 * 3600:
        raise UserError("delivery.bad_adjustment")
    if clock(attempt, now).phase in (timing.Phase.submitted, timing.Phase.voided):
        raise UserError("delivery.attempt_closed", 409)
    entry = TimeAdjustment(attempt_id=attempt.id, kind=kind, seconds=seconds, reason=reason[:300], created_at=now,
                           created_by_id=examiner.id)
    db.add(entry)
    db.flush()
    db.expire(attempt, ["adjustments"])
    audit.record(db, "time_adjusted", actor=examiner, object_type="attempt", object_id=attempt.id, now=now,
                 data={"adjustment_id": entry.id, "seconds": seconds, "kind": kind.value, "reason": reason[:300]})
    return entry


def revert_adjustment(db: Session, entry: TimeAdjustment, examiner: User, now: datetime) -> None:
    if entry.reverted_at is not None:
        raise UserError("delivery.already_reverted", 409)
    entry.reverted_at, entry.reverted_by_id = now, examiner.id
    audit.record(db, "time_adjustment_reverted", actor=examiner, object_type="attempt", object_id=entry.attempt_id,
                 now=now, data={"adjustment_id": entry.id})


# ---- durable saves ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SaveOp:
    op_id: str
    seq: int
    item_id: str
    value: Any
    flagged: bool = False
    client_id: Optional[str] = None

    @classmethod
    def parse(cls, payload: Any) -> "SaveOp":
        """Validate an operation as the client sent it; raises UserError."""
        if not isinstance(payload, dict) or set(payload) - {"op_id", "seq", "item_id", "value", "flagged",
                                                             "attempt_id", "client_id"}:
            raise UserError("delivery.bad_op")
        op_id, seq, item_id = payload.get("op_id"), payload.get("seq"), payload.get("item_id")
        if not (isinstance(op_id, str) and 8 <= len(op_id) <= 40 and isinstance(item_id, str)
                and 0 < len(item_id) <= 64 and type(seq) is int and 0 < seq < 2**31):
            raise UserError("delivery.bad_op")
        flagged = payload.get("flagged", False)
        if not isinstance(flagged, bool) or len(canonical_json(payload.get("value"))) > MAX_VALUE_BYTES:
            raise UserError("delivery.bad_op")
        client_id = payload.get("client_id")
        if client_id is not None and not (isinstance(client_id, str) and len(client_id) <= 40):
            raise UserError("delivery.bad_op")
        return cls(op_id, seq, item_id, payload.get("value"), flagged, client_id)


@dataclass(frozen=True)
class SaveAck:
    op_id: str
    seq: int
    duplicate: bool
    applied: bool

    def to_json(self) -> dict:
        return {"ok": True, "op_id": self.op_id, "seq": self.seq, "duplicate": self.duplicate}


def _insert(db: Session, table):
    return (postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)


def apply_save(db: Session, attempt: Attempt, op: SaveOp, now: datetime) -> SaveAck:
    """Apply one save at most once; a save older than the stored one for its item is logged, not applied.

    The caller commits, and only then acknowledges.
    """
    known = db.get(SaveOperation, op.op_id)
    if known is not None:
        if known.attempt_id != attempt.id:
            raise UserError("delivery.bad_op")
        return SaveAck(op.op_id, known.seq, duplicate=True, applied=known.applied)
    check_browser(attempt, op.client_id)
    if not clock(attempt, now).accepts_saves(now):
        raise UserError("delivery.attempt_closed", 409)
    upsert = _insert(db, Response.__table__).values(
        attempt_id=attempt.id, item_id=op.item_id, value=canonical_json(op.value), flagged=op.flagged, seq=op.seq,
        saved_at=now)
    upsert = upsert.on_conflict_do_update(
        index_elements=["attempt_id", "item_id"],
        set_={"value": upsert.excluded.value, "flagged": upsert.excluded.flagged, "seq": upsert.excluded.seq,
              "saved_at": upsert.excluded.saved_at},
        where=Response.__table__.c.seq < upsert.excluded.seq).returning(Response.__table__.c.id)
    applied = db.execute(upsert).first() is not None
    db.add(SaveOperation(op_id=op.op_id, attempt_id=attempt.id, seq=op.seq, item_id=op.item_id, received_at=now,
                         applied=applied))
    # No session synchronisation: it would evaluate the criteria against every object the session holds (a
    # group commit holds hundreds); the one object concerned is updated by hand.
    db.execute(update(Attempt).where(Attempt.id == attempt.id)
               .values(last_seq=case((Attempt.last_seq < op.seq, op.seq), else_=Attempt.last_seq))
               .execution_options(synchronize_session=False))
    set_committed_value(attempt, "last_seq", max(attempt.last_seq or 0, op.seq))
    return SaveAck(op.op_id, op.seq, duplicate=False, applied=applied)


def attempt_state(db: Session, attempt: Attempt, now: datetime) -> dict:
    """What a client needs to resume: the server's time and every saved response."""
    state = clock(attempt, now)
    return {"attempt_id": attempt.id, "phase": state.phase.value, "remaining_ms": state.remaining_ms,
            "last_seq": attempt.last_seq, "responses": responses_of(db, attempt)}


def takeover_waiting(attempt: Attempt) -> bool:
    return attempt.takeover_client_id is not None


def responses_of(db: Session, attempt: Attempt) -> dict[str, dict]:
    rows = db.execute(select(Response).where(Response.attempt_id == attempt.id).order_by(Response.item_id))
    return {r.item_id: {"value": json.loads(r.value), "flagged": r.flagged, "seq": r.seq} for r in rows.scalars()}


# ---- integrity signals --------------------------------------------------------------------------------

def record_signal(db: Session, attempt: Attempt, kind: str, detail: str, now: datetime) -> IntegrityEvent:
    """Keep a browser's integrity signal for the examiners (a flag for a person to look at, never a penalty)."""
    try:
        kind_ = IntegrityKind(kind)
    except ValueError:
        raise UserError("delivery.bad_signal") from None
    event = IntegrityEvent(attempt_id=attempt.id, kind=kind_, detail=str(detail)[:200], received_at=now)
    db.add(event)
    return event


def note_address(db: Session, attempt: Attempt, check_in_ip: str, ip: str, now: datetime) -> None:
    """Record, once per address, that the attempt is being worked from an address other than the check-in's."""
    if not ip or not check_in_ip or ip == check_in_ip:
        return
    seen = db.execute(select(IntegrityEvent.id).where(IntegrityEvent.attempt_id == attempt.id,
                                                      IntegrityEvent.kind == IntegrityKind.address_changed,
                                                      IntegrityEvent.detail == ip)).first()
    if seen is None:
        record_signal(db, attempt, IntegrityKind.address_changed.value, ip, now)


def signals_of(db: Session, attempt: Attempt) -> dict[str, int]:
    rows = db.execute(select(IntegrityEvent.kind).where(IntegrityEvent.attempt_id == attempt.id)).scalars()
    counts: dict[str, int] = {}
    for kind in rows:
        counts[kind.value] = counts.get(kind.value, 0) + 1
    return counts


# ---- submission ---------------------------------------------------------------------------------------

def _receipt(db: Session, attempt: Attempt) -> tuple[int, str]:
    """(count, SHA-256) of what the candidate hands in: the answers, or a practical attempt's whole trace."""
    if attempt.roster_entry.exam_session.part is ExamPart.practical:
        from .practical import trace_digest   # practical builds on delivery

        return trace_digest(db, attempt)
    answers = {item: r["value"] for item, r in responses_of(db, attempt).items()}
    digest = hashlib.sha256(canonical_json({"attempt": attempt.id, "responses": answers}).encode()).hexdigest()
    return sum(v is not None for v in answers.values()), digest


def _close(db: Session, attempt: Attempt, at: datetime, kind: SubmitKind, actor: Optional[User],
           now: datetime) -> dict:
    """Close the attempt as finished at `at` (the deadline, for late closes)."""
    attempt.submitted_at, attempt.submit_kind = at, kind
    count, digest = _receipt(db, attempt)
    attempt.receipt_hash = digest
    audit.record(db, f"attempt_{kind.value}", actor=actor, actor_name="" if actor else "sweeper",
                 object_type="attempt", object_id=attempt.id, now=now,
                 data={"answers": count, "hash": digest, "finished_at": at.isoformat()})
    from .scoring import on_attempt_closed   # grading builds on delivery

    on_attempt_closed(db, attempt, now)      # queued in the same transaction: a closed attempt is always graded
    return {"answers": count, "hash": digest, "submitted_at": at.isoformat()}


def submit(db: Session, attempt: Attempt, candidate: User, now: datetime) -> dict:
    """The candidate's own final submission; returns the receipt."""
    state = clock(attempt, now)
    if not state.accepts_saves(now):
        raise UserError("delivery.attempt_closed", 409)
    return _close(db, attempt, min(now, state.deadline), SubmitKind.submitted, candidate, now)


def sweep(db: Session, now: datetime) -> int:
    """Close attempts whose time ran out (past the grace window), with the deadline as their finish time."""
    due = overdue_candidates(db, now)
    if not due:
        return 0
    # FOR UPDATE: a second sweeper (another server process) waits, then no longer sees these as open.
    attempts = db.execute(select(Attempt).where(Attempt.id.in_(due), Attempt.submitted_at.is_(None),
                                                Attempt.voided_at.is_(None)).with_for_update()).scalars().all()
    closed = 0
    for attempt in attempts:
        state = clock(attempt, now)
        if state.phase is timing.Phase.expired and now > state.deadline + timing.GRACE:
            _close(db, attempt, state.deadline, SubmitKind.expired, None, now)
            closed += 1
    return closed


def overdue_candidates(db: Session, now: datetime) -> list[int]:
    """Open attempts that may be past their deadline: start + duration + ledger + grace is already behind us
    (pauses only ever move a deadline later, so this never misses one). A cheap read of plain columns, so a
    sweep of a thousand running attempts holds no lock and builds no objects."""
    ledger = (select(TimeAdjustment.attempt_id, func.sum(TimeAdjustment.seconds).label("seconds"))
              .where(TimeAdjustment.reverted_at.is_(None)).group_by(TimeAdjustment.attempt_id).subquery())
    rows = db.execute(
        select(Attempt.id, Attempt.started_at, ExamSession.duration_s, func.coalesce(ledger.c.seconds, 0))
        .join(RosterEntry, Attempt.roster_entry_id == RosterEntry.id)
        .join(ExamSession, RosterEntry.exam_session_id == ExamSession.id)
        .outerjoin(ledger, ledger.c.attempt_id == Attempt.id)
        .where(Attempt.submitted_at.is_(None), Attempt.voided_at.is_(None), Attempt.started_at.is_not(None)))
    return [attempt_id for attempt_id, started_at, duration_s, adjustment_s in rows
            if started_at + timedelta(seconds=duration_s + adjustment_s) + timing.GRACE < now]


# ---- one candidate's pause, force-submission and voiding (the examiner's dashboard) -------------------

def _require_open(attempt: Attempt, now: datetime, *phases: timing.Phase) -> timing.Clock:
    state = clock(attempt, now)
    if state.phase not in phases:
        raise UserError("delivery.attempt_closed", 409)
    return state


def pause_attempt(db: Session, attempt: Attempt, examiner: User, reason: str, now: datetime) -> None:
    """Stop one candidate's time (e.g. a workstation fault); the paused interval is credited back on resume."""
    if not reason.strip():
        raise UserError("delivery.reason_required")
    _require_open(attempt, now, timing.Phase.active)
    if any(p.resumed_at is None for p in attempt.own_pauses):
        raise UserError("delivery.attempt_closed", 409)
    db.add(Pause(exam_session_id=attempt.roster_entry.exam_session_id, attempt_id=attempt.id, paused_at=now,
                 reason=reason[:300], paused_by_id=examiner.id))
    db.flush()
    db.expire(attempt, ["own_pauses"])
    audit.record(db, "attempt_paused", actor=examiner, object_type="attempt", object_id=attempt.id, now=now,
                 data={"reason": reason[:300]})


def resume_attempt(db: Session, attempt: Attempt, examiner: User, now: datetime) -> None:
    open_pauses = [p for p in attempt.own_pauses if p.resumed_at is None]
    if not open_pauses:
        raise UserError("delivery.not_paused", 409)
    for pause in open_pauses:
        pause.resumed_at, pause.resumed_by_id = now, examiner.id
    db.flush()
    db.expire(attempt, ["own_pauses"])
    audit.record(db, "attempt_resumed", actor=examiner, object_type="attempt", object_id=attempt.id, now=now)


def force_submit(db: Session, attempt: Attempt, examiner: User, now: datetime) -> dict:
    """The examiner closes one attempt now (or at its deadline, if that already passed); returns the receipt."""
    state = _require_open(attempt, now, timing.Phase.active, timing.Phase.paused, timing.Phase.expired)
    for pause in attempt.own_pauses:
        if pause.resumed_at is None:
            pause.resumed_at, pause.resumed_by_id = now, examiner.id
    return _close(db, attempt, min(now, state.deadline), SubmitKind.force_submitted, examiner, now)


def void_attempt(db: Session, attempt: Attempt, examiner: User, reason: str, now: datetime) -> None:
    """Void an attempt (a misconduct sanction or a candidate withdrawn): it closes and will not be graded."""
    if not reason.strip():
        raise UserError("delivery.reason_required")
    if attempt.voided_at is not None:
        raise UserError("delivery.attempt_closed", 409)
    attempt.voided_at = now
    audit.record(db, "attempt_voided", actor=examiner, object_type="attempt", object_id=attempt.id, now=now,
                 data={"reason": reason[:300]})
