"""Grading use cases: grading on submission (through grading jobs), examiner review of manual items, overrides
with reasons, misconduct sanctions, the regrade dry run and its commit, releasing reports to candidates (which
feeds the candidate's result and any competition board), and appeals (申诉).

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

from . import audit, certificates, competitions, delivery, grading_jobs, monitoring, papers, practical
from .audit import canonical_json
from .errors import UserError
from .models import (Appeal, AppealReview, Attempt, ExamPart, ExaminerFinding, ExamSession, GradingJob, JobTypeLevel,
                     ManualMark, RegradeRun, RosterEntry, ScoreOverride, ScoreReport, TraceEvent, User)

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
    sanctions: list[dict] = field(default_factory=list)         # monitoring.sanctions_for: signed 违纪 records

    @property
    def digest(self) -> str:
        return inputs_digest(self.marks, self.overrides, self.findings, self.sanctions)


def inputs_digest(marks: dict, overrides: dict, findings: dict, sanctions: list = ()) -> str:
    """A digest of the examiners' inputs: a job is one grading of one set of them."""
    data = {"marks": {k: sorted(v) for k, v in marks.items()},
            "overrides": {k: [s, r] for k, (s, r) in overrides.items()}, "findings": findings}
    if sanctions:        # absent when there are none, so the digests of earlier jobs stay as they were
        data["sanctions"] = list(sanctions)
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def current_digest(db: Session, attempt: Attempt) -> str:
    return inputs_digest(*examiner_inputs(db, attempt.id), monitoring.sanctions_for(db, attempt))


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
    sanctions = monitoring.sanctions_for(db, attempt)
    candidate = attempt.roster_entry.ticket_number
    if part_of(attempt) == ExamPart.practical.value:
        finished_ms = (None if attempt.submitted_at is None
                       else int((attempt.submitted_at - attempt.started_at).total_seconds() * 1000))
        submission = PracticalSubmission(_task_of(db, attempt), _events_since_start(db, attempt),
                                         examiner_marks=marks, overrides=overrides, finished_ms=finished_ms,
                                         civility_violations=tuple(findings.get("civility", ())),
                                         vetoes=tuple(findings.get("veto", ())), candidate=candidate)
        return Inputs("practical", sheet, submission, marks, overrides, findings, sanctions)
    answers = {item: r["value"] for item, r in delivery.responses_of(db, attempt).items()}
    return Inputs("theory", sheet, TheorySubmission(answers, candidate=candidate, overrides=overrides), marks,
                  overrides, findings, sanctions)


def compute(inputs: Inputs) -> dict:
    """The report JSON (CPU only: run it in a worker, never on the server's event loop)."""
    return apply_sanctions(grade(inputs.submission, inputs.sheet).to_dict(), inputs.part, inputs.sanctions)


# ---- misconduct sanctions (违纪) ----------------------------------------------------------------------------

TIER_NAMES = {"warning": "警告", "continued_after_end": "终考信号后继续作答", "void_subject": "取消本科目成绩",
              "void_all": "取消全部科目成绩"}


def sanction_name(sanction: dict) -> str:
    """The misconduct record a sanction comes from, as the report names it."""
    number = f" #{sanction['id']}" if sanction.get("id") is not None else ""
    return f"违纪记录{number}（{TIER_NAMES.get(sanction['tier'], sanction['tier'])}）"


def apply_sanctions(report: dict, part: str, sanctions: list[dict]) -> dict:
    """The signed misconduct sanctions on a graded report, after the sheet's own rules: the theory part loses
    its points (−10), the practical part a percentage of its total (−10 %), a voiding tier voids the part.
    Each applied sanction is listed with the record it comes from."""
    if not sanctions:
        return report
    total, reasons, applied = report["total"], list(report["void_reasons"]), []
    for sanction in sanctions:
        name = sanction_name(sanction)
        if sanction["void_subject"] or sanction["void_all"]:
            reasons.append(name)
            applied.append({"record": name, "tier": sanction["tier"], "deduction": None, "void": True})
            continue
        cut = (sanction["theory_points"] if part == ExamPart.theory.value
               else total * sanction["practical_percent"] / 100)
        cut = round(min(total, cut), 6)
        total = round(total - cut, 6)
        applied.append({"record": name, "tier": sanction["tier"], "deduction": cut, "void": False})
    voided = bool(reasons)
    total = 0.0 if voided else total
    notes = list(report["notes"]) + [f"{a['record']}：" + ("成绩作废" if a["void"] else f"扣 {a['deduction']:g} 分")
                                     for a in applied]
    return {**report, "total": total, "passed": not voided and total >= report["pass_mark"] - 1e-9,
            "voided": voided, "void_reasons": reasons, "notes": notes, "sanctions": applied,
            "sanction_deduction": round(sum(a["deduction"] or 0 for a in applied), 6),
            "labels": {**report["labels"], "sanction_deduction": "违纪扣分"}}


# ---- jobs ------------------------------------------------------------------------------------------------

def enqueue_grading(db: Session, attempt: Attempt, now: datetime, reason: str = "submission") -> GradingJob:
    """Queue the grading of a closed attempt with the sheet in force and the examiners' current inputs
    (idempotent: the same grading is queued once)."""
    if attempt.submitted_at is None or attempt.voided_at is not None:
        raise UserError("grading.not_submitted", 409)
    return _enqueue(db, attempt, now, reason)


def _enqueue(db: Session, attempt: Attempt, now: datetime, reason: str) -> GradingJob:
    sheet = sheet_in_force(db, attempt)
    return grading_jobs.enqueue(db, attempt.id, sheet.id, sheet.version, current_digest(db, attempt), reason, now)


def on_sanctions_changed(db: Session, attempt: Attempt, now: datetime) -> Optional[GradingJob]:
    """What monitoring calls once a misconduct record is signed: a submitted attempt is graded again with the
    sanction (even when the sanction voided it, so that its report says so); an unsubmitted one gets the
    sanction when it is graded."""
    if attempt.submitted_at is None:
        return None
    return _enqueue(db, attempt, now, "sanction")


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
    attempt = db.get(Attempt, job.attempt_id)
    feed_competition(db, attempt, report, now, "grading" if job.reason == "submission" else "regrade")
    if row.released_at is not None:
        feed_result(db, attempt, row, now)      # a released report graded again: the result follows it
    return row


# ---- what a report feeds: the candidate's result, a competition board -------------------------------------

def _level_of(db: Session, attempt: Attempt) -> JobTypeLevel:
    exam = attempt.roster_entry.exam_session.exam
    level = db.execute(select(JobTypeLevel).where(JobTypeLevel.job_type_id == exam.job_type_id,
                                                  JobTypeLevel.level == exam.level)).scalar_one_or_none()
    if level is None:
        level = JobTypeLevel(job_type_id=exam.job_type_id, level=exam.level)
        db.add(level)
        db.flush()
    return level


def feed_result(db: Session, attempt: Attempt, row: ScoreReport, now: datetime) -> None:
    """A released, complete report's total becomes the candidate's part score, which certificates combine
    with the other parts."""
    if row.pending:
        return
    entry = attempt.roster_entry
    _isolated(db, "part score", attempt, lambda: certificates.record_part_score(
        db, entry.candidate, _level_of(db, attempt), entry.exam_session.part.value, row.total,
        f"grading: score report {row.id} r{row.revision}", now))


def feed_competition(db: Session, attempt: Attempt, report: dict, now: datetime, source: str) -> None:
    """A complete report's total on the board of any competition round run on the attempt's session (none
    when the sitting is no contest); safety and civility deductions break ties."""
    if report["pending"]:
        return
    deductions = report["civility_deduction"] + sum(r["deduction"] for r in report["rows"] if r["role"] == "safety")
    used = int((attempt.submitted_at - attempt.started_at).total_seconds()) if attempt.started_at else 0
    _isolated(db, "competition score", attempt, lambda: competitions.record_graded_attempt(
        db, attempt, round(report["total"], 3), round(deductions, 3), now, source, time_used_s=max(0, used)))


def _isolated(db: Session, what: str, attempt: Attempt, work) -> None:
    """Run a hook in a savepoint: a refusal (a result the centre already confirmed) must not undo the grading."""
    try:
        with db.begin_nested():
            work()
    except Exception:           # noqa: BLE001 - logged; the report stands
        log.warning("%s of attempt %s not recorded", what, attempt.id, exc_info=True)


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
            _release_row(db, attempt, row, examiner, now)
            released += 1
    audit.record(db, "score_reports_released", actor=examiner, object_type="exam_session", object_id=session.id,
                 now=now, data={"released": released, "waiting": waiting})
    return {"released": released, "waiting": waiting}


def release_attempt(db: Session, attempt: Attempt, examiner: User, now: datetime) -> ScoreReport:
    """Confirm one complete report and release it to its candidate (from the report page)."""
    row = _current_row(db, attempt.id)
    if row is None or row.pending:
        raise UserError("grading.not_complete", 409)
    if row.released_at is not None:
        raise UserError("grading.already_released", 409)
    _release_row(db, attempt, row, examiner, now)
    audit.record(db, "score_report_released", actor=examiner, object_type="attempt", object_id=attempt.id, now=now,
                 data={"report": row.id, "total": row.total, "passed": row.passed})
    return row


def _release_row(db: Session, attempt: Attempt, row: ScoreReport, examiner: User, now: datetime) -> None:
    row.released_at, row.released_by_id = now, examiner.id
    feed_result(db, attempt, row, now)


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
    if not may_review(db, appeal, examiner):
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


# ---- what the pages read ---------------------------------------------------------------------------------

def manual_items(db: Session, attempt: Attempt) -> list[dict]:
    """The sheet's manual items with the examiners' marks so far and how many must agree (e.g. 2 of 3)."""
    sheet = sheet_in_force(db, attempt)
    marks: dict[str, list[ManualMark]] = {}
    for mark in db.execute(select(ManualMark).where(ManualMark.attempt_id == attempt.id)
                           .order_by(ManualMark.id)).scalars():
        marks.setdefault(mark.item_id, []).append(mark)
    return [{"id": item.id, "label": item.label, "points": item.points, "examiners": item.rule.examiners,
             "confirmations": item.rule.confirmations,
             "marks": [{"examiner_id": m.examiner_id, "examiner": m.examiner.display_name, "score": m.score,
                        "note": m.note} for m in marks.get(item.id, [])]}
            for item in getattr(sheet, "items", ()) if getattr(getattr(item, "rule", None), "type", None) == "manual"]


def overrides_of(db: Session, attempt: Attempt) -> list[ScoreOverride]:
    return list(db.execute(select(ScoreOverride).where(ScoreOverride.attempt_id == attempt.id)
                           .order_by(ScoreOverride.id)).scalars())


def findings_of(db: Session, attempt: Attempt) -> list[ExaminerFinding]:
    return list(db.execute(select(ExaminerFinding).where(ExaminerFinding.attempt_id == attempt.id)
                           .order_by(ExaminerFinding.id)).scalars())


def appeals_of(db: Session, attempt: Attempt) -> list[Appeal]:
    return list(db.execute(select(Appeal).where(Appeal.attempt_id == attempt.id).order_by(Appeal.id)).scalars())


def session_appeals(db: Session, session: ExamSession) -> list[Appeal]:
    """The session's appeals, open ones first, oldest first."""
    appeals = db.execute(select(Appeal).join(Attempt, Appeal.attempt_id == Attempt.id)
                         .join(RosterEntry, Attempt.roster_entry_id == RosterEntry.id)
                         .where(RosterEntry.exam_session_id == session.id).order_by(Appeal.id)).scalars().all()
    return sorted(appeals, key=lambda a: a.decided_at is not None)


def released_reports_of(db: Session, candidate: User) -> list[tuple[Attempt, ScoreReport]]:
    """The candidate's released score reports, the newest release first."""
    rows = db.execute(select(Attempt, ScoreReport).join(ScoreReport, ScoreReport.attempt_id == Attempt.id)
                      .join(RosterEntry, Attempt.roster_entry_id == RosterEntry.id)
                      .where(RosterEntry.candidate_id == candidate.id, ScoreReport.superseded_at.is_(None),
                             ScoreReport.released_at.is_not(None))
                      .order_by(ScoreReport.released_at.desc(), ScoreReport.id.desc())).all()
    return [(attempt, row) for attempt, row in rows]


def may_review(db: Session, appeal: Appeal, examiner: User) -> bool:
    """Whether this examiner may re-grade and decide the appeal (not one who graded the attempt)."""
    return examiner.id not in graders_of(db, appeal.attempt_id)
