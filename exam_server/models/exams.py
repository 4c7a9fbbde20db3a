"""Exams (definitions), their sessions (场次) and rosters, and per-candidate attempts with their time ledger,
responses and the log of save operations. Status is derived from timestamps, never stored."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import Enum, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, utcnow
from .organisations import JobType, Organisation


class ExamPart(str, enum.Enum):
    theory = "theory"          # 理论知识考试
    practical = "practical"    # 操作技能考核


class Exam(Base):
    """What is examined: a job type at a level (e.g. 数控车工 四级/中级工, 2026 年第 4 期)."""

    __tablename__ = "exams"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_types.id"))
    level: Mapped[int]
    seb_config_key: Mapped[Optional[str]] = mapped_column(String(64))   # Safe Exam Browser required when set
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    job_type: Mapped[JobType] = relationship()


class ExamSession(Base):
    """One sitting of one part of an exam in one room."""

    __tablename__ = "exam_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    part: Mapped[ExamPart] = mapped_column(Enum(ExamPart, native_enum=False, length=16))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    room: Mapped[str] = mapped_column(String(100))
    scheduled_start_at: Mapped[datetime]
    duration_s: Mapped[int]
    pin_hash: Mapped[str] = mapped_column(String(200), default="")   # the check-in PIN the examiner reads out
    check_in_opened_at: Mapped[Optional[datetime]]
    started_at: Mapped[Optional[datetime]]
    paper_data_key: Mapped[Optional[bytes]] = mapped_column(LargeBinary)   # released at start, never before
    ended_at: Mapped[Optional[datetime]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    exam: Mapped[Exam] = relationship()
    organisation: Mapped[Organisation] = relationship()
    roster: Mapped[list["RosterEntry"]] = relationship(back_populates="exam_session", order_by="RosterEntry.seat")
    pauses: Mapped[list["Pause"]] = relationship(
        primaryjoin="and_(Pause.exam_session_id == ExamSession.id, Pause.attempt_id.is_(None))",
        order_by="Pause.paused_at", viewonly=True)


class RosterEntry(Base):
    """A candidate registered for a session, at a seat, with an admission ticket (准考证)."""

    __tablename__ = "roster_entries"
    __table_args__ = (UniqueConstraint("exam_session_id", "candidate_id"), UniqueConstraint("exam_session_id", "seat"))

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    seat: Mapped[str] = mapped_column(String(16))
    ticket_number: Mapped[str] = mapped_column(String(32), unique=True)

    exam_session: Mapped[ExamSession] = relationship(back_populates="roster")
    candidate: Mapped[User] = relationship()
    attempt: Mapped[Optional["Attempt"]] = relationship(back_populates="roster_entry", uselist=False)


class SubmitKind(str, enum.Enum):
    submitted = "submitted"              # by the candidate
    force_submitted = "force_submitted"  # by an examiner
    expired = "expired"                  # by the server at the deadline


class Attempt(Base):
    """One candidate's sitting of one session."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    roster_entry_id: Mapped[int] = mapped_column(ForeignKey("roster_entries.id"), unique=True)
    started_at: Mapped[datetime]
    submitted_at: Mapped[Optional[datetime]]
    submit_kind: Mapped[Optional[SubmitKind]] = mapped_column(Enum(SubmitKind, native_enum=False, length=16))
    voided_at: Mapped[Optional[datetime]]
    receipt_hash: Mapped[str] = mapped_column(String(64), default="")
    last_seq: Mapped[int] = mapped_column(default=0)   # highest save sequence number received
    # One browser at a time: the active browser's id, and a second browser waiting for the examiner's approval.
    client_id: Mapped[Optional[str]] = mapped_column(String(40))
    takeover_client_id: Mapped[Optional[str]] = mapped_column(String(40))
    takeover_requested_at: Mapped[Optional[datetime]]

    roster_entry: Mapped[RosterEntry] = relationship(back_populates="attempt")
    adjustments: Mapped[list["TimeAdjustment"]] = relationship(order_by="TimeAdjustment.id")
    own_pauses: Mapped[list["Pause"]] = relationship(
        primaryjoin="Pause.attempt_id == Attempt.id", order_by="Pause.paused_at", viewonly=True)


class Pause(Base):
    """A paused interval of a whole session (attempt_id empty) or of one attempt."""

    __tablename__ = "pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    attempt_id: Mapped[Optional[int]] = mapped_column(ForeignKey("attempts.id"), index=True)
    paused_at: Mapped[datetime]
    resumed_at: Mapped[Optional[datetime]]
    reason: Mapped[str] = mapped_column(String(300), default="")
    paused_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    resumed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))


class AdjustmentKind(str, enum.Enum):
    accommodation = "accommodation"      # planned extra time (e.g. a disability)
    incident = "incident"                # time credited after an incident


class TimeAdjustment(Base):
    """An entry of the append-only time ledger; reverting sets reverted_at, never deletes."""

    __tablename__ = "time_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    kind: Mapped[AdjustmentKind] = mapped_column(Enum(AdjustmentKind, native_enum=False, length=16))
    seconds: Mapped[int]
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    reverted_at: Mapped[Optional[datetime]]
    reverted_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))


class Response(Base):
    """The latest saved answer to one item; `seq` orders saves, so a late duplicate never wins."""

    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("attempt_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"))
    item_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text, default="null")   # canonical JSON
    flagged: Mapped[bool] = mapped_column(default=False)
    seq: Mapped[int]
    saved_at: Mapped[datetime]


class SaveOperation(Base):
    """Every save operation received, once (idempotency on op_id)."""

    __tablename__ = "save_operations"

    op_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    seq: Mapped[int]
    item_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
    applied: Mapped[bool]          # False when a newer save of the same item had already arrived


class IntegrityKind(str, enum.Enum):
    focus_lost = "focus_lost"              # the exam window lost focus
    hidden = "hidden"                      # the page was hidden (another window or tab in front)
    paste = "paste"                        # a paste was attempted
    second_tab = "second_tab"              # the exam was opened in a second tab of the same browser
    address_changed = "address_changed"    # a save came from another network address than the check-in


class IntegrityEvent(Base):
    """A signal for the examiners to look at; never a penalty by itself."""

    __tablename__ = "integrity_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    kind: Mapped[IntegrityKind] = mapped_column(Enum(IntegrityKind, native_enum=False, length=20))
    detail: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime]


class SealedPaper(Base):
    """A session's paper, encrypted until the session starts (see exam_server/sealing.py)."""

    __tablename__ = "sealed_papers"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), unique=True)
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_nonce: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime]
