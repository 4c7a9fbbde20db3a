"""Exam plans (鉴定计划): the province offers a job type × level over a registration window and exam dates, with
fees and the stations taking part (each with its places). A draft is published once; published plans are frozen.

Dates are local dates in China; every change is audited in the caller's transaction (the caller commits).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .errors import UserError
from .models import (ExamPlan, JobType, JobTypeLevel, Organisation, OrganisationKind, PlanStation, Registration,
                     RoleAssignment, User)

BEIJING = timedelta(hours=8)
EXAM_SITES = (OrganisationKind.station, OrganisationKind.college_base)
PUBLISHERS = (OrganisationKind.province_centre,)


def local_today(now: datetime) -> date:
    return (now + BEIJING).date()


@dataclass
class PlanInput:
    code: str
    name: str
    job_type_id: int
    level: int
    registration_opens_on: date
    registration_closes_on: date
    exam_from: date
    exam_to: date
    theory_fee_fen: int = 0
    practical_fee_fen: int = 0
    stations: list[tuple[int, int]] = field(default_factory=list)    # (station id, capacity)


def publisher_of(assignments: Iterable[RoleAssignment]) -> Optional[Organisation]:
    """The province centre a plan-managing role is held over, if any."""
    return next((a.organisation for a in assignments if a.organisation.kind in PUBLISHERS), None)


def _check(db: Session, publisher: Organisation, data: PlanInput) -> None:
    if not data.code.strip() or not data.name.strip():
        raise UserError("affairs.plan_code_name")
    if db.execute(select(ExamPlan.id).where(ExamPlan.code == data.code.strip())).first():
        raise UserError("affairs.plan_code_taken", 409, code=data.code.strip())
    known = db.execute(select(JobTypeLevel.id).where(JobTypeLevel.job_type_id == data.job_type_id,
                                                     JobTypeLevel.level == data.level)).first()
    if known is None:
        raise UserError("affairs.plan_job_level")
    if not (data.registration_opens_on <= data.registration_closes_on < data.exam_from <= data.exam_to):
        raise UserError("affairs.plan_dates")
    if data.theory_fee_fen < 0 or data.practical_fee_fen < 0:
        raise UserError("affairs.plan_fees")
    ids = [station_id for station_id, _ in data.stations]
    if not ids or len(set(ids)) != len(ids):
        raise UserError("affairs.plan_stations")
    for station_id, capacity in data.stations:
        station = db.get(Organisation, station_id)
        if station is None or station.kind not in EXAM_SITES or not publisher.contains(station):
            raise UserError("affairs.plan_stations")
        if capacity <= 0:
            raise UserError("affairs.plan_capacity")


def create_plan(db: Session, publisher: Organisation, data: PlanInput, actor: User, now: datetime) -> ExamPlan:
    _check(db, publisher, data)
    plan = ExamPlan(code=data.code.strip(), name=data.name.strip(), organisation_id=publisher.id,
                    job_type_id=data.job_type_id, level=data.level,
                    registration_opens_on=data.registration_opens_on,
                    registration_closes_on=data.registration_closes_on, exam_from=data.exam_from,
                    exam_to=data.exam_to, theory_fee_fen=data.theory_fee_fen,
                    practical_fee_fen=data.practical_fee_fen, created_at=now, created_by_id=actor.id)
    plan.stations = [PlanStation(station_id=s, capacity=c) for s, c in data.stations]
    db.add(plan)
    db.flush()
    audit.record(db, "plan.create", actor=actor, object_type="exam_plan", object_id=plan.id, now=now,
                 data={"code": plan.code, "job_type_id": plan.job_type_id, "level": plan.level,
                       "window": [str(plan.registration_opens_on), str(plan.registration_closes_on)],
                       "exam": [str(plan.exam_from), str(plan.exam_to)],
                       "fees_fen": [plan.theory_fee_fen, plan.practical_fee_fen], "stations": data.stations})
    return plan


def publish(db: Session, plan: ExamPlan, actor: User, now: datetime) -> ExamPlan:
    if plan.published_at is not None:
        raise UserError("affairs.plan_published", 409)
    if plan.registration_closes_on < local_today(now):
        raise UserError("affairs.plan_window_past", 409)
    plan.published_at = now
    audit.record(db, "plan.publish", actor=actor, object_type="exam_plan", object_id=plan.id, now=now,
                 data={"code": plan.code})
    return plan


def registration_open(plan: ExamPlan, now: datetime) -> bool:
    return (plan.published_at is not None
            and plan.registration_opens_on <= local_today(now) <= plan.registration_closes_on)


def places_taken(db: Session, plan_id: int) -> dict[int, int]:
    """Registrations per station that hold a place (all but rejected ones)."""
    rows = db.execute(select(Registration.station_id, func.count()).where(
        Registration.plan_id == plan_id, Registration.approved.is_not(False)).group_by(Registration.station_id))
    return dict(rows.all())


def plan_station(plan: ExamPlan, station_id: int) -> Optional[PlanStation]:
    return next((ps for ps in plan.stations if ps.station_id == station_id), None)


def locked_place(db: Session, plan: ExamPlan, station_id: int) -> Optional[PlanStation]:
    """The station's places in the plan, locked until commit so that concurrent registrations cannot overfill
    them (PostgreSQL; SQLite writers are serialised anyway)."""
    return db.execute(select(PlanStation).where(PlanStation.plan_id == plan.id, PlanStation.station_id == station_id)
                      .with_for_update()).scalar_one_or_none()


def job_type_levels(db: Session) -> list[tuple[JobType, int]]:
    job_types = db.execute(select(JobType).order_by(JobType.code)).scalars().all()
    return [(jt, lv.level) for jt in job_types for lv in sorted(jt.levels, key=lambda x: -x.level)]


def exam_sites(db: Session, publisher: Organisation) -> list[Organisation]:
    rows = db.execute(select(Organisation).where(Organisation.kind.in_(EXAM_SITES),
                                                 Organisation.path.startswith(publisher.path),
                                                 Organisation.deactivated_at.is_(None)).order_by(Organisation.code))
    return list(rows.scalars())
