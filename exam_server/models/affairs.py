"""Exam affairs (考务) before the exam: the province's exam plans (鉴定计划), the stations taking part, candidates'
registrations (报名) with the centre's eligibility review, and who works each session (考评员, 考评组长, 督导员).

Status is derived from timestamps and decisions (submitted → approved | rejected; fee paid or not), never stored."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Optional

from sqlalchemy import Enum, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base
from .organisations import JobType, Organisation


class ExamPlan(Base):
    """One occupation × level offered over a date range at some stations, with its fees."""

    __tablename__ = "exam_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)   # the publisher
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_types.id"))
    level: Mapped[int]
    registration_opens_on: Mapped[date]
    registration_closes_on: Mapped[date]
    exam_from: Mapped[date]
    exam_to: Mapped[date]
    theory_fee_fen: Mapped[int] = mapped_column(default=0)       # fees in fen (0.01 yuan), set by the plan
    practical_fee_fen: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[Optional[datetime]]

    organisation: Mapped[Organisation] = relationship()
    job_type: Mapped[JobType] = relationship()
    stations: Mapped[list["PlanStation"]] = relationship(back_populates="plan", order_by="PlanStation.id")


class PlanStation(Base):
    """A station taking part in a plan, with the places it offers."""

    __tablename__ = "plan_stations"
    __table_args__ = (UniqueConstraint("plan_id", "station_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plans.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    capacity: Mapped[int]

    plan: Mapped[ExamPlan] = relationship(back_populates="stations")
    station: Mapped[Organisation] = relationship()


class IdType(str, enum.Enum):
    resident_id = "resident_id"     # 居民身份证 (18 digits, ISO 7064 MOD 11-2 check)
    passport = "passport"           # 护照
    hk_macau = "hk_macau"           # 港澳居民来往内地通行证
    taiwan = "taiwan"               # 台湾居民来往大陆通行证


class Registration(Base):
    """A candidate's registration for a plan at a station; ``candidate_id`` is set once the candidate has an
    account (at scheduling). A resit registers only the parts still to pass."""

    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("plan_id", "id_type", "id_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plans.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    id_type: Mapped[IdType] = mapped_column(Enum(IdType, native_enum=False, length=16))
    id_number: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(1))                    # "M" | "F"
    education: Mapped[str] = mapped_column(String(32))
    eligibility_basis: Mapped[str] = mapped_column(String(300))   # 申报条件
    employer: Mapped[str] = mapped_column(String(200), default="")
    previous_certificate_number: Mapped[str] = mapped_column(String(32), default="")
    photo: Mapped[Optional[bytes]] = mapped_column(LargeBinary, deferred=True)
    photo_type: Mapped[Optional[str]] = mapped_column(String(32))
    sits_theory: Mapped[bool] = mapped_column(default=True)
    sits_practical: Mapped[bool] = mapped_column(default=True)
    submitted_at: Mapped[datetime]
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[Optional[datetime]]
    reviewed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    approved: Mapped[Optional[bool]]                               # None until reviewed
    review_reason: Mapped[str] = mapped_column(String(300), default="")
    fee_paid_at: Mapped[Optional[datetime]]
    candidate_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"), index=True)

    plan: Mapped[ExamPlan] = relationship()
    station: Mapped[Organisation] = relationship()
    candidate: Mapped[Optional[User]] = relationship(foreign_keys=[candidate_id])


class Duty(str, enum.Enum):
    examiner = "examiner"                  # 考评员
    chief_examiner = "chief_examiner"      # 考评组长: signs the session report
    supervisor = "supervisor"              # 督导员: read only, countersigns


class SessionStaff(Base):
    """Who works a session, and as what."""

    __tablename__ = "session_staff"
    __table_args__ = (UniqueConstraint("exam_session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    duty: Mapped[Duty] = mapped_column(Enum(Duty, native_enum=False, length=16))
    assigned_at: Mapped[datetime]
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
