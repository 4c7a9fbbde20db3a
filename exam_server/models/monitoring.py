"""What happens in an exam room besides answering: announcements, late-start authorisations, incidents,
misconduct (违纪) records with their sanction, supervisors' annotations and the signed session report (场次报告).

Status is derived from timestamps (signed, countersigned), never stored."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base


class Announcement(Base):
    """A message the examiner sends to the whole room (attempt_id empty) or to one candidate."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    attempt_id: Mapped[Optional[int]] = mapped_column(ForeignKey("attempts.id"), index=True)
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class LateStart(Base):
    """The examiner's authorisation for a candidate who arrived late to start anyway."""

    __tablename__ = "late_starts"

    id: Mapped[int] = mapped_column(primary_key=True)
    roster_entry_id: Mapped[int] = mapped_column(ForeignKey("roster_entries.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(300))
    authorised_at: Mapped[datetime]
    authorised_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class IncidentCategory(str, enum.Enum):
    environment = "environment"   # noise, power cut, heat…
    candidate = "candidate"       # behaviour, illness, identity, lateness…
    staff = "staff"               # examiner or proctor
    technical = "technical"       # workstation, network, freezing
    other = "other"


class Incident(Base):
    """An irregularity in the room, for the session report; optionally about one candidate."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    attempt_id: Mapped[Optional[int]] = mapped_column(ForeignKey("attempts.id"))
    category: Mapped[IncidentCategory] = mapped_column(Enum(IncidentCategory, native_enum=False, length=16))
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class MisconductTier(str, enum.Enum):
    """违纪 tiers, lightest first; each has one sanction (monitoring.SANCTIONS)."""

    warning = "warning"                      # 警告
    continued_after_end = "continued_after_end"   # 终考信号后继续答题/操作: −10 points theory, −10 % practical
    void_subject = "void_subject"            # 取消该科目成绩
    void_all = "void_all"                    # 各科成绩无效，当年不得报考


class MisconductRecord(Base):
    """One 违纪 record: what happened, the evidence, the sanction for grading, the examiner's signature, the
    candidate's statement and the supervisor's countersignature. A signature covers `content_sha256`, so the
    record cannot change under it."""

    __tablename__ = "misconduct_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    tier: Mapped[MisconductTier] = mapped_column(Enum(MisconductTier, native_enum=False, length=24))
    description: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="{}")          # canonical JSON: notes, event ids, files
    theory_points_deducted: Mapped[int] = mapped_column(default=0)
    practical_percent_deducted: Mapped[int] = mapped_column(default=0)
    voids_subject: Mapped[bool] = mapped_column(default=False)
    voids_all: Mapped[bool] = mapped_column(default=False)
    barred_year: Mapped[Optional[int]]                                  # no registration in this year
    candidate_statement: Mapped[str] = mapped_column(Text, default="")
    statement_at: Mapped[Optional[datetime]]
    content_sha256: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    examiner_signed_at: Mapped[Optional[datetime]]
    examiner_signed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    supervisor_signed_at: Mapped[Optional[datetime]]
    supervisor_signed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    examiner_signed_by: Mapped[Optional[User]] = relationship(foreign_keys=[examiner_signed_by_id])
    supervisor_signed_by: Mapped[Optional[User]] = relationship(foreign_keys=[supervisor_signed_by_id])

    @property
    def status(self) -> str:
        if self.supervisor_signed_at is not None:
            return "countersigned"
        return "signed" if self.examiner_signed_at is not None else "draft"


class SupervisorAnnotation(Base):
    """A supervisor's note on a session or on one candidate (read-only supervision leaves only notes)."""

    __tablename__ = "supervisor_annotations"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    attempt_id: Mapped[Optional[int]] = mapped_column(ForeignKey("attempts.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class SessionReport(Base):
    """The 场次报告, generated once the session ended: frozen content and its hash, signed by the chief examiner
    and countersigned by the supervisor."""

    __tablename__ = "session_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), unique=True)
    content: Mapped[str] = mapped_column(Text)                       # canonical JSON
    content_sha256: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[datetime]
    generated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    chief_signed_at: Mapped[Optional[datetime]]
    chief_signed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    supervisor_signed_at: Mapped[Optional[datetime]]
    supervisor_signed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    @property
    def status(self) -> str:
        if self.supervisor_signed_at is not None:
            return "countersigned"
        return "signed" if self.chief_signed_at is not None else "generated"
