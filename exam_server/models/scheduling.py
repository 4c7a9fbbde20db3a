"""Scheduling (考场编排): the registry of examiners' and supervisors' qualifications (考评员证, 督导员证), the
stations' rooms and their machines, each scheduled session's room, plan and recorded seat-draw seed, and the
examiners' identity checks of admission tickets at the door.

Assignment history is not stored twice: it is the ``session_staff`` rows of each person."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Optional

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base
from .exams import ExamSession, RosterEntry
from .organisations import JobType, Organisation


class QualificationRole(str, enum.Enum):
    examiner = "examiner"        # 考评员 (a 考评组长 is an examiner chosen per session)
    supervisor = "supervisor"    # 督导员


class StaffQualification(Base):
    """A qualification certificate held by a staff user. It counts from ``valid_from`` to ``valid_until``
    inclusive, unless the centre ended it early (``expired_at``)."""

    __tablename__ = "staff_qualifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[QualificationRole] = mapped_column(Enum(QualificationRole, native_enum=False, length=16))
    home_station_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    valid_from: Mapped[date]
    valid_until: Mapped[date]
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expired_at: Mapped[Optional[datetime]]
    expired_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    expiry_reason: Mapped[str] = mapped_column(String(300), default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    home_station: Mapped[Organisation] = relationship()
    scopes: Mapped[list["QualificationScope"]] = relationship(back_populates="qualification",
                                                              order_by="QualificationScope.id")


class QualificationScope(Base):
    """A job type a qualification covers, up to the highest level it may assess (levels count down: 1 is the
    highest, so a level-3 examiner may assess levels 3, 4 and 5)."""

    __tablename__ = "qualification_scopes"
    __table_args__ = (UniqueConstraint("qualification_id", "job_type_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    qualification_id: Mapped[int] = mapped_column(ForeignKey("staff_qualifications.id"), index=True)
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_types.id"))
    highest_level: Mapped[int]

    qualification: Mapped[StaffQualification] = relationship(back_populates="scopes")
    job_type: Mapped[JobType] = relationship()


class MachineKind(str, enum.Enum):
    computer = "computer"   # 机房: theory, and practical parts done on a computer
    lathe = "lathe"         # 数控车床 workstations
    mill = "mill"           # 数控铣床 / 加工中心 workstations


class Room(Base):
    """A station's room (考场) with its seats or workstations (工位), all with the same kind of machine."""

    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("station_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    machine: Mapped[MachineKind] = mapped_column(Enum(MachineKind, native_enum=False, length=16))
    seats: Mapped[int]
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    retired_at: Mapped[Optional[datetime]]

    station: Mapped[Organisation] = relationship()


class SessionSchedule(Base):
    """How a session was scheduled: for which plan, in which room, and the seed of its seat draw (抽签), so that
    anyone can redo the draw and get the same seats."""

    __tablename__ = "session_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), unique=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plans.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    seed: Mapped[str] = mapped_column(String(64))
    drawn_at: Mapped[datetime]
    drawn_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    exam_session: Mapped[ExamSession] = relationship()
    room: Mapped[Room] = relationship()


class TicketCheck(Base):
    """An examiner confirmed a candidate's identity against the admission ticket (scanned or typed)."""

    __tablename__ = "ticket_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    roster_entry_id: Mapped[int] = mapped_column(ForeignKey("roster_entries.id"), index=True)
    examiner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scanned: Mapped[bool]                 # True: the QR code (signature verified); False: the number typed
    checked_at: Mapped[datetime]

    roster_entry: Mapped[RosterEntry] = relationship()
    examiner: Mapped[User] = relationship()
