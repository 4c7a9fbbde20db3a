"""Grading use cases: grading on submission (through grading jobs), examiner review of manual items, overrides
with reasons, the regrade dry run and its commit, releasing reports to candidates, and appeals (申诉).

The pure core (`grading.grade`) does the scoring; this module decides which sheet is in force, gathers the
submission and the examiners' inputs from the database, stores the reports and audits every change in the
caller's transaction. Functions take the session and `now` from their caller; the caller commits.
"""
from __future__ import annotations

import hashlib
import json
import logging
import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from grading import (PracticalSubmission, SheetError, TheorySubmission, answer_key_from_dict, grade, sheet_from_dict,
                     sheet_from_task)

from . import audit, delivery, grading_jobs, papers, practical
from .audit import canonical_json
from .errors import UserError
from .models import (Appeal, AppealReview, Attempt, ExamPart, ExaminerFinding, ExamSession, GradingJob, ManualMark,
                     RegradeRun, RosterEntry, ScoreOverride, ScoreReport, TraceEvent, User)

MAX_REASON = 300
log = logging.getLogger(__name__)


# ---- what is graded --------------------------------------------------------------------------------------

@dataclass
class Inputs:
    """Everything one grading needs, read from the database; `compute` needs nothing else."""

    part: str
    sheet: Any                     # grading.ScoreSheet (practical) or grading.AnswerKey (theory)
    submission: Any
    marks: dict[str, list[float]] = field(default_factory=dict)
    overrides: dict[str, tuple[float, str]] = field(default_factory=dict)
    findings: dict[str, list[str]] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return inputs_digest(self.marks, self.overrides, self.findings)


def inputs_digest(marks: dict, overrides: dict, findings: dict) -> str:
    """A digest of the examiners' inputs: a job is one grading of one set of them."""
    data = {"marks": {k: sorted(v) for k, v in marks.items()},
            "overrides": {k: [s, r] for k, (s, r) in overrides.items()}, "findings": findings}
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def part_of(attempt: Attempt) -> str:
    return attempt.roster_entry.exam_session.part.value


def parse_sheet(part: str, data: dict):
    """A sheet (practical) or key (theory) from JSON; SheetError lists the problems."""
    return sheet_from_dict(data) if part == ExamPart.practical.value else answer_key_from_dict(data)


def _task_of(db: Session, attempt: Attempt) -> dict:
    assignment = practical.assignment_of(db, attempt)
    if assignment is None:
        raise UserError("practical.no_task", 409)
    return json.loads(assignment.task.task_json)


def base_sheet(db: Session, attempt: Attempt):
    """The sheet the attempt was set with: its paper's key, or its practical task's score sheet."""
    if part_of(attempt) == ExamPart.practical.value:
        return sheet_from_task(_task_of(db, attempt))
    paper = papers.paper_for(db, attempt)
    return answer_key_from_dict({**paper, "version": paper.get("version", 1)})


def sheet_in_force(db: Session, attempt: Attempt):
    """The newest committed correction of the attempt's sheet in its session, else the sheet it was set with."""
    base = base_sheet(db, attempt)
    run = db.execute(select(RegradeRun).where(
        RegradeRun.exam_session_id == attempt.roster_entry.exam_session_id, RegradeRun.sheet_id == base.id,
        RegradeRun.committed_at.is_not(None)).order_by(RegradeRun.sheet_version.desc()).limit(1)).scalar_one_or_none()
    return parse_sheet(part_of(attempt), json.loads(run.sheet_json)) if run else base


def examiner_inputs(db: Session, attempt_id: int) -> tuple[dict, dict, dict]:
    """(marks per manual item, the override in force per item, findings by kind) of an attempt."""
    marks: dict[str, list[float]] = {}
    for mark in db.execute(select(ManualMark).where(ManualMark.attempt_id == attempt_id)
                           .order_by(ManualMark.id)).scalars():
        marks.setdefault(mark.item_id, []).append(mark.score)
    overrides = {o.item_id: (o.score, o.reason) for o in db.execute(
        select(ScoreOverride).where(ScoreOverride.attempt_id == attempt_id, ScoreOverride.revoked_at.is_(None))
        .order_by(ScoreOverride.id)).scalars()}
    findings: dict[str, list[str]] = {}
    for finding in db.execute(select(ExaminerFinding).where(ExaminerFinding.attempt_id == attempt_id)
                              .order_by(ExaminerFinding.id)).scalars():
        findings.setdefault(finding.kind, []).append(finding.description)
    return marks, overrides, findings


def _events_since_start(db: Session, attempt: Attempt) -> list[dict]:
    """The stored trace with times in ms since the attempt started, as grading reads them."""
    start_ms = int(attempt.started_at.timestamp() * 1000)
    rows = db.execute(select(TraceEvent.seq, TraceEvent.t_client, TraceEvent.t_server, TraceEvent.type,
                             TraceEvent.payload).where(TraceEvent.attempt_id == attempt.id).order_by(TraceEvent.seq))
    # Plain columns, not ORM objects: a 3,000-event trace loads in a third of the time.
    return [{"v": 1, "seq": seq, "t_client": t_client, "t_server": t_server - start_ms, "type": type_,
             "payload": json.loads(payload)} for seq, t_client, t_server, type_, payload in rows]


def load_inputs(db: Session, attempt: Attempt, sheet=None) -> Inputs:
    sheet = sheet if sheet is not None else sheet_in_force(db, attempt)
    marks, overrides, findings = examiner_inputs(db, attempt.id)
    candidate = attempt.roster_entry.ticket_number
    if part_of(attempt) == ExamPart.practical.value:
        finished_ms = (None if attempt.submitted_at is None
                       else int((attempt.submitted_at - attempt.started_at).total_seconds() * 1000))
        submission = PracticalSubmission(_task_of(db, attempt), _events_since_start(db, attempt),
                                         examiner_marks=marks, overrides=overrides, finished_ms=finished_ms,
                                         civility_violations=tuple(findings.get("civility", ())),
                                         vetoes=tuple(findings.get("veto", ())), candidate=candidate)
        return Inputs("practical", sheet, submission, marks, overrides, findings)
    answers = {item: r["value"] for item, r in delivery.responses_of(db, attempt).items()}
    return Inputs("theory", sheet, TheorySubmission(answers, candidate=candidate), marks, overrides, findings)


def compute(inputs: Inputs) -> dict:
    """The report JSON (CPU only: run it in a worker, never on the server's event loop)."""
    report = grade(inputs.submission, inputs.sheet).to_dict()
    return apply_theory_overrides(report, inputs.overrides) if inputs.part == "theory" else report


def apply_theory_overrides(report: dict, overrides: dict[str, tuple[float, str]]) -> dict:
    """Theory items overridden by the examiners (a practical sheet applies its overrides itself): the row's
    score is clamped to its points and keeps its provenance plus the reason; the total is the sum again."""
    if not overrides:
        return report
    rows = []
    for row in report["rows"]:
        if row["id"] in overrides:
            score, reason = overrides[row["id"]]
            score = min(row["points"], max(0.0, float(score)))
            row = {**row, "score": score, "deduction": round(row["points"] - score, 6), "source": "override",
                   "provenance": f"{row['provenance']}; overridden by the examiners to {score:g}: {reason}"}
        rows.append(row)
    total = round(sum(r["score"] for r in rows), 6)
    return {**report, "rows": rows, "items_total": total, "total": total,
            "passed": total >= report["pass_mark"] - 1e-9}


# ---- jobs ------------------------------------------------------------------------------------------------

def enqueue_grading(db: Session, attempt: Attempt, now: datetime, reason: str = "submission") -> GradingJob:
    """Queue the grading of a closed attempt with the sheet in force and the examiners' current inputs
    (idempotent: the same grading is queued once)."""
    if attempt.submitted_at is None or attempt.voided_at is not None:
        raise UserError("grading.not_submitted", 409)
    sheet = sheet_in_force(db, attempt)
    digest = inputs_digest(*examiner_inputs(db, attempt.id))
    return grading_jobs.enqueue(db, attempt.id, sheet.id, sheet.version, digest, reason, now)


def on_attempt_closed(db: Session, attempt: Attempt, now: datetime) -> Optional[GradingJob]:
    """What delivery calls when an attempt is submitted, force-submitted or expired: queue its grading.

    Grading must never refuse a submission: in a savepoint, so that a session without a readable paper or
    task, or a broken sheet, leaves the attempt ungraded (the overview shows no job) and the submission stands."""
    try:
        with db.begin_nested():
            return enqueue_grading(db, attempt, now)
    except Exception:           # noqa: BLE001 - logged; the examiners can queue it again once fixed
        log.exception("could not queue the grading of attempt %s", attempt.id)
        return None


def store_report(db: Session, job: GradingJob, report: dict, now: datetime) -> ScoreReport:
    """Keep the report of a finished job: a new row for a new sheet version (superseding the older ones and
    keeping their release), or the same row rewritten for new examiner inputs (revision + 1)."""
    row = db.execute(select(ScoreReport).where(ScoreReport.attempt_id == job.attempt_id,
                                               ScoreReport.sheet_id == job.sheet_id,
                                               ScoreReport.sheet_version == job.sheet_version)).scalar_one_or_none()
    older = _current_row(db, job.attempt_id)
    old_total = None if row is None else row.total
    if row is None:
        row = ScoreReport(attempt_id=job.attempt_id, sheet_id=job.sheet_id, sheet_version=job.sheet_version,
                          revision=0)
        db.add(row)
        if older is not None and older.sheet_version != job.sheet_version:
            older.superseded_at = now
            row.released_at, row.released_by_id = older.released_at, older.released_by_id
    row.revision += 1
    row.inputs_digest, row.report_json, row.graded_at = job.inputs_digest, canonical_json(report), now
    row.total, row.passed, row.pending = report["total"], report["passed"], report["pending"]
    db.flush()
    audit.record(db, "score_report_stored", actor_name=job.leased_by or "grading", object_type="attempt",
                 object_id=job.attempt_id, now=now,
                 data={"job": job.id, "sheet": f"{job.sheet_id}@{job.sheet_version}", "revision": row.revision,
                       "old_total": old_total, "total": row.total, "passed": row.passed, "pending": row.pending})
    return row


def _current_row(db: Session, attempt_id: int) -> Optional[ScoreReport]:
    return db.execute(select(ScoreReport).where(ScoreReport.attempt_id == attempt_id,
                                                ScoreReport.superseded_at.is_(None))
                      .order_by(ScoreReport.sheet_version.desc()).limit(1)).scalar_one_or_none()


def current_report(db: Session, attempt: Attempt) -> Optional[ScoreReport]:
    return _current_row(db, attempt.id)


def report_view(row: ScoreReport) -> dict:
    return {"attempt_id": row.attempt_id, "sheet_id": row.sheet_id, "sheet_version": row.sheet_version,
            "revision": row.revision, "graded_at": row.graded_at.isoformat(), "released": row.released_at is not None,
            "report": json.loads(row.report_json)}


# ---- examiner review -------------------------------------------------------------------------------------

def _closed_attempt(attempt: Attempt) -> None:
    if attempt.submitted_at is None or attempt.voided_at is not None:
        raise UserError("grading.not_submitted", 409)


def _sheet_item(db: Session, attempt: Attempt, item_id: str):
    sheet = sheet_in_force(db, attempt)
    item = next((i for i in sheet.items if i.id == item_id), None)
    if item is None:
        raise UserError("grading.unknown_item", item=item_id)
    return item


def _score(value: Any, points: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= points:
        raise UserError("grading.bad_score", points=f"{points:g}")
    return float(value)


def _reason(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise UserError("grading.reason_required")
    return text.strip()[:MAX_REASON]


def add_mark(db: Session, attempt: Attempt, examiner: User, item_id: str, score: Any, note: str,
             now: datetime) -> GradingJob:
    """An examiner's mark for a manual item (marking again replaces their own). The item scores once the
    sheet's number of examiners agree (e.g. 2 of 3); the attempt is graded again."""
    _closed_attempt(attempt)
    item = _sheet_item(db, attempt, item_id)
    if getattr(getattr(item, "rule", None), "type", None) != "manual":
        raise UserError("grading.not_manual", item=item_id)
    value = _score(score, item.points)
    marks = db.execute(select(ManualMark).where(ManualMark.attempt_id == attempt.id,
                                                ManualMark.item_id == item_id)).scalars().all()
    own = next((m for m in marks if m.examiner_id == examiner.id), None)
    if own is None and len(marks) >= item.rule.examiners:
        raise UserError("grading.marks_full", 409, examiners=item.rule.examiners)
    if own is None:
        own = ManualMark(attempt_id=attempt.id, item_id=item_id, examiner_id=examiner.id, score=value)
        db.add(own)
    own.score, own.note, own.marked_at = value, (note or "")[:MAX_REASON], now
    db.flush()
    audit.record(db, "manual_item_marked", actor=examiner, object_type="attempt", object_id=attempt.id, now=now,
                 data={"item": item_id, "score": value, "note": own.note})
    return enqueue_grading(db, attempt, now, reason="review")


def override(db: Session, attempt: Attempt, examiner: User, item_id: str, score: Any, reason: str,
             now: datetime, appeal: Optional[Appeal] = None) -> GradingJob:
    """Override any item's score with a reason (the newest override counts; the report keeps the automatic
    provenance and adds the reason); the attempt is graded again."""
    _closed_attempt(attempt)
    item = _sheet_item(db, attempt, item_id)
    value, why = _score(score, item.points), _reason(reason)
    db.add(ScoreOverride(attempt_id=attempt.id, item_id=item_id, score=value, reason=why, examiner_id=examiner.id,
                         appeal_id=appeal.id if appeal else None, created_at=now))
    db.flush()
    audit.record(db, "score_overridden", actor=examiner, object_type="attempt", object_id=attempt.id, now=now,
                 data={"item": item_id, "score": value, "reason": why, "appeal": appeal.id if appeal else None})
    return enqueue_grading(db, attempt, now, reason="appeal" if appeal else "review")


FINDING_KINDS = ("civility", "veto")


def record_finding(db: Session, attempt: Attempt, examiner: User, kind: str, description: str,
                   now: datetime) -> GradingJob:
    """A practical attempt's 文明生产 violation or serious accident (veto), as the examiners saw it; the sheet's
    rules deduct (−3 each up to the cap) or void the part. The attempt is graded again."""
    _closed_attempt(attempt)
    if part_of(attempt) != ExamPart.practical.value or kind not in FINDING_KINDS:
        raise UserError("grading.bad_finding")
    text = _reason(description)
    db.add(ExaminerFinding(attempt_id=attempt.id, kind=kind, description=text, examiner_id=examiner.id,
                           recorded_at=now))
    db.flush()
    audit.record(db, "examiner_finding_recorded", actor=examiner, object_type="attempt", object_id=attempt.id,
                 now=now, data={"kind": kind, "description": text})
    return enqueue_grading(db, attempt, now, reason="review")


def graders_of(db: Session, attempt_id: int) -> set[int]:
    """The examiners who marked, overrode or recorded findings on the attempt (an appeal goes to others)."""
    marked = db.execute(select(ManualMark.examiner_id).where(ManualMark.attempt_id == attempt_id)).scalars()
    overrode = db.execute(select(ScoreOverride.examiner_id).where(ScoreOverride.attempt_id == attempt_id,
                                                                  ScoreOverride.appeal_id.is_(None))).scalars()
    found = db.execute(select(ExaminerFinding.examiner_id).where(ExaminerFinding.attempt_id == attempt_id)).scalars()
    return set(marked) | set(overrode) | set(found)


# ---- session overview and release ------------------------------------------------------------------------

def session_attempts(db: Session, session: ExamSession) -> list[Attempt]:
    return db.execute(select(Attempt).join(RosterEntry, Attempt.roster_entry_id == RosterEntry.id)
                      .where(RosterEntry.exam_session_id == session.id).order_by(RosterEntry.seat)).scalars().all()


def session_overview(db: Session, session: ExamSession, now: datetime) -> list[dict]:
    """One line per attempt: seat, candidate, the newest job's status and the current report's total."""
    lines = []
    for attempt in session_attempts(db, session):
        job = db.execute(select(GradingJob).where(GradingJob.attempt_id == attempt.id)
                         .order_by(GradingJob.id.desc()).limit(1)).scalar_one_or_none()
        row = _current_row(db, attempt.id)
        entry = attempt.roster_entry
        lines.append({"attempt_id": attempt.id, "seat": entry.seat, "ticket_number": entry.ticket_number,
                      "candidate": entry.candidate.display_name,
                      "job": None if job is None else {"id": job.id, "status": job.status(now),
                                                       "attempts": job.attempts},
                      "total": None if row is None else row.total, "passed": None if row is None else row.passed,
                      "pending": None if row is None else row.pending,
                      "released": bool(row and row.released_at is not None)})
    return lines


def release(db: Session, session: ExamSession, examiner: User, now: datetime) -> dict:
    """Release the session's complete reports to their candidates (pending ones wait for the examiners)."""
    released = waiting = 0
    for attempt in session_attempts(db, session):
        row = _current_row(db, attempt.id)
        if row is None or row.pending:
            waiting += attempt.submitted_at is not None
        elif row.released_at is None:
            row.released_at, row.released_by_id = now, examiner.id
            released += 1
    audit.record(db, "score_reports_released", actor=examiner, object_type="exam_session", object_id=session.id,
                 now=now, data={"released": released, "waiting": waiting})
    return {"released": released, "waiting": waiting}


# ---- regrade ---------------------------------------------------------------------------------------------

def _graded(db: Session, session: ExamSession, sheet_id: str) -> list[tuple[Attempt, ScoreReport]]:
    pairs = []
    for attempt in session_attempts(db, session):
        row = _current_row(db, attempt.id)
        if row is not None and row.sheet_id == sheet_id:
            pairs.append((attempt, row))
    return pairs


def preview_regrade(db: Session, session: ExamSession, sheet_data: Any, reason: str, examiner: User,
                    now: datetime) -> tuple[RegradeRun, list[dict]]:
    """The dry run: grade every graded attempt of the session with the corrected sheet or key and list who
    changes and by how much. Only the run itself is stored; no report changes until `commit_regrade`."""
    why = _reason(reason)
    try:
        sheet = parse_sheet(session.part.value, sheet_data if isinstance(sheet_data, dict) else {})
    except SheetError as exc:
        raise UserError("grading.bad_sheet", detail="; ".join(exc.problems)[:500]) from None
    pairs = _graded(db, session, sheet.id)
    if not pairs:
        raise UserError("grading.nothing_to_regrade", 409, sheet=sheet.id)
    if sheet.version <= max(row.sheet_version for _, row in pairs):
        raise UserError("grading.version_not_newer", 409, version=sheet.version)
    old = {a.id: json.loads(row.report_json) for a, row in pairs}
    inputs = {a.id: load_inputs(db, a, sheet) for a, _ in pairs}
    new = grading_jobs.run_cpu(lambda: {a: compute(i) for a, i in inputs.items()})
    seats = {a.id: a.roster_entry for a, _ in pairs}
    diff = [{**change, "attempt_id": a, "seat": seats[a].seat, "ticket_number": seats[a].ticket_number}
            for a in sorted(old) if (change := report_change(old[a], new[a])) is not None]
    run = RegradeRun(exam_session_id=session.id, sheet_id=sheet.id, sheet_version=sheet.version,
                     sheet_json=canonical_json(sheet_data), reason=why, diff_json=canonical_json(diff),
                     previewed_at=now, previewed_by_id=examiner.id)
    db.add(run)
    db.flush()
    audit.record(db, "regrade_previewed", actor=examiner, object_type="exam_session", object_id=session.id, now=now,
                 data={"run": run.id, "sheet": f"{sheet.id}@{sheet.version}", "graded": len(pairs),
                       "changed": len(diff), "reason": why})
    return run, diff


def report_change(old: dict, new: dict) -> Optional[dict]:
    """What differs between two reports of one attempt (totals, verdict, item scores), or None.

    Like grading.regrade_diff, but on the reports `compute` makes, so examiners' overrides of theory items
    (which the theory core does not take) count on both sides."""
    old_items = {r["id"]: r["score"] for r in old["rows"]}
    new_items = {r["id"]: r["score"] for r in new["rows"]}
    items = [{"id": i, "old": old_items.get(i), "new": new_items.get(i)}
             for i in sorted(set(old_items) | set(new_items))
             if old_items.get(i) is None or new_items.get(i) is None or abs(old_items[i] - new_items[i]) > 1e-6]
    if not items and abs(old["total"] - new["total"]) <= 1e-6 and old["passed"] == new["passed"]:
        return None
    return {"old_total": old["total"], "new_total": new["total"], "delta": round(new["total"] - old["total"], 6),
            "old_passed": old["passed"], "new_passed": new["passed"], "items": items}


def commit_regrade(db: Session, run: RegradeRun, examiner: User, now: datetime) -> int:
    """Put the corrected sheet in force for the session and queue everyone's grading with it (the new
    reports supersede the old ones as the jobs finish). Returns the number of jobs queued."""
    if run.committed_at is not None:
        raise UserError("grading.already_committed", 409)
    newer = db.execute(select(RegradeRun.id).where(RegradeRun.exam_session_id == run.exam_session_id,
                                                   RegradeRun.sheet_id == run.sheet_id,
                                                   RegradeRun.committed_at.is_not(None),
                                                   RegradeRun.sheet_version >= run.sheet_version)).first()
    if newer is not None:
        raise UserError("grading.version_not_newer", 409, version=run.sheet_version)
    run.committed_at, run.committed_by_id = now, examiner.id
    db.flush()
    jobs = [enqueue_grading(db, attempt, now, reason="regrade")
            for attempt, _ in _graded(db, run.exam_session, run.sheet_id)]
    audit.record(db, "regrade_committed", actor=examiner, object_type="exam_session", object_id=run.exam_session_id,
                 now=now, data={"run": run.id, "sheet": f"{run.sheet_id}@{run.sheet_version}", "jobs": len(jobs)})
    return len(jobs)


# ---- appeals (申诉) ---------------------------------------------------------------------------------------

def file_appeal(db: Session, attempt: Attempt, candidate: User, items: Any, reason: str, now: datetime) -> Appeal:
    """The candidate appeals items of their released report, with a reason; one open appeal at a time."""
    row = _current_row(db, attempt.id)
    if row is None or row.released_at is None:
        raise UserError("grading.not_released", 409)
    why = _reason(reason)
    known = {r["id"] for r in json.loads(row.report_json)["rows"]}
    if not isinstance(items, list) or not items or any(i not in known for i in items):
        raise UserError("grading.appeal_items")
    open_ = db.execute(select(Appeal.id).where(Appeal.attempt_id == attempt.id, Appeal.decided_at.is_(None))).first()
    if open_ is not None:
        raise UserError("grading.appeal_open", 409)
    appeal = Appeal(attempt_id=attempt.id, score_report_id=row.id, filed_by_id=candidate.id,
                    items=canonical_json(sorted(set(items))), reason=why[:1000], filed_at=now)
    db.add(appeal)
    db.flush()
    audit.record(db, "appeal_filed", actor=candidate, object_type="attempt", object_id=attempt.id, now=now,
                 data={"appeal": appeal.id, "items": sorted(set(items)), "reason": why})
    return appeal


def _other_examiner(db: Session, appeal: Appeal, examiner: User) -> None:
    if examiner.id in graders_of(db, appeal.attempt_id):
        raise UserError("grading.appeal_own_grading", 403)


def review_appeal(db: Session, appeal: Appeal, examiner: User, item_id: str, score: Any, note: str,
                  now: datetime) -> AppealReview:
    """An examiner who did not grade the attempt re-grades one appealed item."""
    if appeal.decided_at is not None:
        raise UserError("grading.appeal_decided", 409)
    _other_examiner(db, appeal, examiner)
    if item_id not in json.loads(appeal.items):
        raise UserError("grading.appeal_items")
    value = _score(score, _sheet_item(db, appeal.attempt, item_id).points)
    review = db.execute(select(AppealReview).where(AppealReview.appeal_id == appeal.id, AppealReview.item_id == item_id,
                                                   AppealReview.examiner_id == examiner.id)).scalar_one_or_none()
    if review is None:
        review = AppealReview(appeal_id=appeal.id, item_id=item_id, examiner_id=examiner.id, score=value)
        db.add(review)
    review.score, review.note, review.reviewed_at = value, (note or "")[:MAX_REASON], now
    db.flush()
    db.expire(appeal, ["reviews"])
    audit.record(db, "appeal_reviewed", actor=examiner, object_type="attempt", object_id=appeal.attempt_id, now=now,
                 data={"appeal": appeal.id, "item": item_id, "score": value, "note": review.note})
    return review


def decide_appeal(db: Session, appeal: Appeal, examiner: User, upheld: Any, reason: str, now: datetime) -> Appeal:
    """Decide with reasons. Upheld: every appealed item takes the median of its re-grades as an override
    (each item needs at least one); rejected: the report stands."""
    if appeal.decided_at is not None:
        raise UserError("grading.appeal_decided", 409)
    if not isinstance(upheld, bool):
        raise UserError("grading.appeal_decision")
    _other_examiner(db, appeal, examiner)
    why = _reason(reason)
    scores: dict[str, list[float]] = {}
    for review in appeal.reviews:
        scores.setdefault(review.item_id, []).append(review.score)
    if upheld and set(scores) != set(json.loads(appeal.items)):
        raise UserError("grading.appeal_unreviewed", 409)
    appeal.decided_at, appeal.decided_by_id, appeal.upheld, appeal.decision_reason = now, examiner.id, upheld, why
    db.flush()
    audit.record(db, "appeal_decided", actor=examiner, object_type="attempt", object_id=appeal.attempt_id, now=now,
                 data={"appeal": appeal.id, "upheld": upheld, "reason": why,
                       "scores": {k: statistics.median(v) for k, v in scores.items()} if upheld else {}})
    if upheld:
        for item_id, marks in sorted(scores.items()):
            override(db, appeal.attempt, examiner, item_id, statistics.median(marks),
                     f"申诉 #{appeal.id}: {why}", now, appeal=appeal)
    return appeal


def appeal_view(appeal: Appeal) -> dict:
    return {"id": appeal.id, "attempt_id": appeal.attempt_id, "status": appeal.status,
            "items": json.loads(appeal.items), "reason": appeal.reason, "filed_at": appeal.filed_at.isoformat(),
            "reviews": [{"item_id": r.item_id, "examiner": r.examiner.display_name, "score": r.score, "note": r.note}
                        for r in appeal.reviews],
            "decision_reason": appeal.decision_reason,
            "decided_at": appeal.decided_at.isoformat() if appeal.decided_at else None}
