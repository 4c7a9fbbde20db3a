"""Grading in the server: jobs, stored score reports, examiners' marks and overrides, regrade runs, appeals (申诉).

Reports are kept apart from submissions and keyed by attempt + score-sheet (or answer-key) version, so a
corrected sheet grades everyone again into new rows. Status is derived from timestamps, never stored.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base
from .exams import Attempt, ExamSession


class GradingJob(Base):
    """One grading of one attempt with one sheet version and one set of examiner inputs.

    `idempotency_key` = attempt, sheet version and a digest of the examiner inputs: enqueueing the same
    grading twice finds the first job. A worker leases the job until `lease_expires_at`; a worker that dies
    loses the lease and the job is taken again (`attempts` counts the takes)."""

    __tablename__ = "grading_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    sheet_id: Mapped[str] = mapped_column(String(100))
    sheet_version: Mapped[int]
    inputs_digest: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    reason: Mapped[str] = mapped_column(String(40), default="submission")   # submission | review | regrade | appeal
    queued_at: Mapped[datetime] = mapped_column(index=True)
    leased_by: Mapped[Optional[str]] = mapped_column(String(100))
    leased_at: Mapped[Optional[datetime]]
    lease_expires_at: Mapped[Optional[datetime]]
    attempts: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[Optional[datetime]]
    failed_at: Mapped[Optional[datetime]]
    last_error: Mapped[str] = mapped_column(Text, default="")
    score_report_id: Mapped[Optional[int]] = mapped_column(ForeignKey("score_reports.id"))

    def status(self, now: datetime) -> str:
        """queued → leased → done | failed (an expired lease is queued again)."""
        if self.finished_at is not None:
            return "done"
        if self.failed_at is not None:
            return "failed"
        if self.lease_expires_at is not None and self.lease_expires_at > now:
            return "leased"
        return "queued"


class ScoreReport(Base):
    """The current report of an attempt under one sheet version (the JSON of grading's ScoreReport.to_dict).

    Re-scoring with new examiner inputs rewrites it and bumps `revision` (the audit log keeps each total);
    a committed regrade supersedes it with a row of the new version. Released reports are what the candidate
    sees."""

    __tablename__ = "score_reports"
    __table_args__ = (UniqueConstraint("attempt_id", "sheet_id", "sheet_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    sheet_id: Mapped[str] = mapped_column(String(100))
    sheet_version: Mapped[int]
    revision: Mapped[int] = mapped_column(default=1)
    inputs_digest: Mapped[str] = mapped_column(String(64))
    report_json: Mapped[str] = mapped_column(Text)
    total: Mapped[float]
    passed: Mapped[bool]
    pending: Mapped[bool]
    graded_at: Mapped[datetime]
    superseded_at: Mapped[Optional[datetime]]
    released_at: Mapped[Optional[datetime]]
    released_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    attempt: Mapped[Attempt] = relationship()


class ManualMark(Base):
    """One examiner's mark for one manual item of an attempt (the sheet says how many must agree).
    Marking again replaces the examiner's own mark; the audit log keeps every one."""

    __tablename__ = "manual_marks"
    __table_args__ = (UniqueConstraint("attempt_id", "item_id", "examiner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    examiner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    score: Mapped[float]
    note: Mapped[str] = mapped_column(String(300), default="")
    marked_at: Mapped[datetime]

    examiner: Mapped[User] = relationship()


class ScoreOverride(Base):
    """An examiner's override of an automatic item, with the reason; the newest one not revoked counts."""

    __tablename__ = "score_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    score: Mapped[float]
    reason: Mapped[str] = mapped_column(String(300))
    examiner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    appeal_id: Mapped[Optional[int]] = mapped_column(ForeignKey("appeals.id"))
    created_at: Mapped[datetime]
    revoked_at: Mapped[Optional[datetime]]

    examiner: Mapped[User] = relationship()


class ExaminerFinding(Base):
    """What the examiners saw in the workshop, for a practical sheet's rules: a 文明生产 violation (deducted per
    violation up to the cap) or a serious accident that voids the practical part (veto)."""

    __tablename__ = "examiner_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))            # civility | veto
    description: Mapped[str] = mapped_column(String(300))
    examiner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]

    examiner: Mapped[User] = relationship()


class RegradeRun(Base):
    """A corrected sheet or key for a session: previewed (the diff, nothing changed), then maybe committed."""

    __tablename__ = "regrade_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    sheet_id: Mapped[str] = mapped_column(String(100))
    sheet_version: Mapped[int]
    sheet_json: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(300))
    diff_json: Mapped[str] = mapped_column(Text, default="[]")
    previewed_at: Mapped[datetime]
    previewed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    committed_at: Mapped[Optional[datetime]]
    committed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    exam_session: Mapped[ExamSession] = relationship()

    @property
    def status(self) -> str:
        return "committed" if self.committed_at is not None else "previewed"


class Appeal(Base):
    """A candidate's appeal (申诉) against a released report: re-graded by examiners who did not grade the
    attempt, then decided with reasons. filed → under_review → upheld | rejected."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    score_report_id: Mapped[int] = mapped_column(ForeignKey("score_reports.id"))
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    items: Mapped[str] = mapped_column(Text, default="[]")      # JSON list of the item ids appealed
    reason: Mapped[str] = mapped_column(String(1000))
    filed_at: Mapped[datetime]
    decided_at: Mapped[Optional[datetime]]
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    upheld: Mapped[Optional[bool]]
    decision_reason: Mapped[str] = mapped_column(String(1000), default="")

    attempt: Mapped[Attempt] = relationship()
    reviews: Mapped[list["AppealReview"]] = relationship(order_by="AppealReview.id")

    @property
    def status(self) -> str:
        if self.decided_at is not None:
            return "upheld" if self.upheld else "rejected"
        return "under_review" if self.reviews else "filed"


class AppealReview(Base):
    """Another examiner's re-grading of one appealed item."""

    __tablename__ = "appeal_reviews"
    __table_args__ = (UniqueConstraint("appeal_id", "item_id", "examiner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    examiner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    score: Mapped[float]
    note: Mapped[str] = mapped_column(String(300), default="")
    reviewed_at: Mapped[datetime]

    examiner: Mapped[User] = relationship()
