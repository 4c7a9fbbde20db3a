"""The practical exam (操作技能考核): the versioned practical-task bank, a session's task pool and each attempt's
assigned task, and the operation trace (every machine event a candidate sent, in order, never deleted).

Task status is derived from timestamps, as for theory items (draft → reviewed → active → retired). A task
version's content (task JSON, drawing) is never changed: uploading the same code again makes a new version.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base
from .exams import Attempt, ExamSession
from .organisations import JobType


class TaskStatus(str, enum.Enum):
    draft = "draft"          # 草稿
    reviewed = "reviewed"    # 已审核
    active = "active"        # 启用
    retired = "retired"      # 停用


class PracticalTask(Base):
    """One version of a practical task (docs/task-format.md), with its drawing and its last `task check`."""

    __tablename__ = "practical_tasks"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)        # the task file's `id`, e.g. LX-ZJ01
    version: Mapped[int]
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_types.id"), index=True)
    level: Mapped[int]
    machine_type: Mapped[str] = mapped_column(String(8))            # lathe | mill
    title: Mapped[str] = mapped_column(String(200))
    task_json: Mapped[str] = mapped_column(Text)                    # canonical JSON, reference program inlined
    drawing_svg: Mapped[str] = mapped_column(Text)
    check_ok: Mapped[Optional[bool]]                                # None: never checked
    check_report: Mapped[str] = mapped_column(Text, default="")     # JSON of the last `task check`
    checked_at: Mapped[Optional[datetime]]
    created_at: Mapped[datetime]
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[Optional[datetime]]
    reviewed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    activated_at: Mapped[Optional[datetime]]
    activated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    retired_at: Mapped[Optional[datetime]]
    retired_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    job_type: Mapped[JobType] = relationship()
    created_by: Mapped[Optional[User]] = relationship(foreign_keys=[created_by_id])
    reviewed_by: Mapped[Optional[User]] = relationship(foreign_keys=[reviewed_by_id])

    @property
    def status(self) -> TaskStatus:
        if self.retired_at is not None:
            return TaskStatus.retired
        if self.activated_at is not None:
            return TaskStatus.active
        return TaskStatus.reviewed if self.reviewed_at is not None else TaskStatus.draft


class PracticalPart(Base):
    """A practical session's task pool: one task (everyone gets it) or several equivalent ones (each
    candidate draws one, seeded by `draw_seed` and the roster entry, and the draw is recorded)."""

    __tablename__ = "practical_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), unique=True)
    draw_seed: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    exam_session: Mapped[ExamSession] = relationship()
    pool: Mapped[list["PracticalPartTask"]] = relationship(order_by="PracticalPartTask.task_id")


class PracticalPartTask(Base):
    __tablename__ = "practical_part_tasks"
    __table_args__ = (UniqueConstraint("part_id", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("practical_parts.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("practical_tasks.id"))

    task: Mapped[PracticalTask] = relationship()


class PracticalAssignment(Base):
    """The task an attempt works on, how it was chosen, and the last trace seq it accepted."""

    __tablename__ = "practical_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), unique=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("practical_tasks.id"), index=True)
    pool: Mapped[str] = mapped_column(Text, default="[]")     # JSON list of the task ids drawn among
    draw_seed: Mapped[str] = mapped_column(String(100), default="")   # "" when the pool had one task
    assigned_at: Mapped[datetime]
    last_seq: Mapped[int] = mapped_column(default=0)

    attempt: Mapped[Attempt] = relationship()
    task: Mapped[PracticalTask] = relationship()


class TraceEvent(Base):
    """One machine event as the candidate sent it (docs/trace-format.md); append-only (triggers refuse UPDATE
    and DELETE). The machine state is the fold of these rows in seq order."""

    __tablename__ = "trace_events"
    __table_args__ = (UniqueConstraint("attempt_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"))
    seq: Mapped[int]
    op_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text, default="{}")   # canonical JSON
    t_client: Mapped[int] = mapped_column(BigInteger)
    t_server: Mapped[int] = mapped_column(BigInteger)          # ms since the epoch, on receipt
    received_at: Mapped[datetime]
