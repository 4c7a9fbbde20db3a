"""What must hold at the end of the day; the rehearsal fails if any does not. Each check reads the database
directly (in-process use cases, no server in between) and says what it found."""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from exam_server import audit, certificates, delivery, scoring
from exam_server.certificate_signing import public_key_from_text, verify
from exam_server.db import Database
from exam_server.models import (Attempt, Certificate, ExamSession, RosterEntry, SaveOperation, ScoreReport,
                                TraceEvent)
from exam_server.timing import GRACE

from .bots import Metrics


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def check_all(database: Database, metrics: Metrics, day: dict) -> list[Check]:
    with database.session(write=False) as db:
        return [_acknowledged(db, metrics), _within_deadline(db), _one_final_state(db, day["sessions"]),
                _regrade_reproduces(db), _certificates_verify(db), _audit_chain(db),
                _dashboards(db, day["dashboards"])]


def _acknowledged(db, metrics: Metrics) -> Check:
    saves = set(db.execute(select(SaveOperation.op_id)).scalars())
    events = set(db.execute(select(TraceEvent.op_id)).scalars())
    lost = (metrics.acked_saves - saves) | (metrics.acked_events - events)
    return Check("every acknowledged answer and trace event is stored", not lost,
                 f"{len(metrics.acked_saves)} saves and {len(metrics.acked_events)} trace events acknowledged, "
                 f"{len(lost)} missing")


def _within_deadline(db) -> Check:
    """No save or trace event was accepted after its attempt's deadline (as it stood then) plus the grace."""
    late = []
    attempts = {a.id: a for a in db.execute(select(Attempt)).scalars()}
    rows = [*db.execute(select(SaveOperation.attempt_id, SaveOperation.received_at)),
            *db.execute(select(TraceEvent.attempt_id, TraceEvent.received_at))]
    for attempt_id, received_at in rows:
        clock = delivery.clock(attempts[attempt_id], received_at)
        if received_at > clock.deadline + GRACE:
            late.append(attempt_id)
    return Check("no answer accepted after the deadline plus the grace window", not late,
                 f"{len(rows)} operations checked, {len(late)} late (attempts {sorted(set(late))[:5]})")


def _one_final_state(db, session_ids: list[int]) -> Check:
    odd = []
    rows = db.execute(select(Attempt).join(RosterEntry).where(RosterEntry.exam_session_id.in_(session_ids)))
    count = 0
    for attempt in rows.scalars():
        count += 1
        submitted, voided = attempt.submitted_at is not None, attempt.voided_at is not None
        if submitted == voided or submitted != (attempt.submit_kind is not None):
            odd.append(attempt.id)
    return Check("every attempt has exactly one final state", not odd and count > 0,
                 f"{count} attempts, {len(odd)} without exactly one final state {odd[:5]}")


def _regrade_reproduces(db) -> Check:
    differing, count = [], 0
    for row in db.execute(select(ScoreReport).where(ScoreReport.superseded_at.is_(None))).scalars():
        count += 1
        again = scoring.compute(scoring.load_inputs(db, row.attempt))
        stored = json.loads(row.report_json)
        if again["total"] != stored["total"] or [r["score"] for r in again["rows"]] != [r["score"] for r in
                                                                                      stored["rows"]]:
            differing.append(row.attempt_id)
    return Check("every score report is reproduced exactly by a regrade", not differing and count > 0,
                 f"{count} reports re-graded, {len(differing)} differ {differing[:5]}")


def _certificates_verify(db) -> Check:
    keys = {k.key_id: public_key_from_text(k.public_key) for k in certificates.published_keys(db)}
    bad, count = [], 0
    for cert in db.execute(select(Certificate)).scalars():
        count += 1
        signed = certificates.signed_record(cert)
        try:
            verify(signed, keys)
        except Exception:          # noqa: BLE001 — any failure to verify is the finding
            bad.append(cert.number)
    return Check("every certificate verifies", not bad, f"{count} certificates, {len(bad)} do not verify {bad[:5]}")


def _audit_chain(db) -> Check:
    result = audit.verify(db)
    return Check("the audit chain verifies", result.ok, str(result))


def _dashboards(db, dashboards: dict) -> Check:
    """The examiners' last dashboards against the database: the same attempts, the same final phases."""
    wrong = []
    for session_id, snapshot in dashboards.items():
        session = db.get(ExamSession, session_id)
        now = max(session.ended_at, *(a.submitted_at or a.voided_at or session.ended_at
                                      for a in (e.attempt for e in session.roster) if a is not None))
        stored = sorted((e.id, delivery.clock(e.attempt, now).phase.value) for e in session.roster if e.attempt)
        shown = sorted((t["roster_entry_id"], t["attempt"]["phase"]) for t in snapshot.get("tiles", [])
                       if t.get("attempt"))
        if stored != shown:
            wrong.append(session_id)
    return Check("the examiners' dashboards end with the database's counts", not wrong,
                 f"{len(dashboards)} dashboards, {len(wrong)} differ {wrong[:5]}")
