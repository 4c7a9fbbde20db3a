"""The registry of examiners (考评员) and supervisors (督导员): their qualification certificates, what each
covers, expiry, and their assignment history. Use cases take the session and `now` and audit every change."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .errors import UserError
from .models import (ExamSession, JobType, Organisation, QualificationRole, QualificationScope, Role, SessionStaff,
                     StaffQualification, User)

# The account role a qualification is for: an examiner's certificate on a supervisor's account is a typo.
ACCOUNT_ROLE = {QualificationRole.examiner: Role.examiner, QualificationRole.supervisor: Role.supervisor}


@dataclass(frozen=True)
class Coverage:
    job_type: JobType
    highest_level: int      # 1 (高级技师) … 5 (初级工): assesses this level and every lower one (larger number)


def add_qualification(db: Session, user: User, number: str, role: QualificationRole, home_station: Organisation,
                      valid_from: date, valid_until: date, coverage: list[Coverage], actor: User,
                      now: datetime) -> StaffQualification:
    number = number.strip()
    if not number or len(number) > 32:
        raise UserError("staffing.bad_number")
    if not any(a.role is ACCOUNT_ROLE[role] for a in user.active_roles()):
        raise UserError("staffing.wrong_account_role", role=role.value)
    if valid_until < valid_from:
        raise UserError("staffing.bad_dates")
    if role is QualificationRole.examiner and not coverage:
        raise UserError("staffing.no_coverage")
    if any(not 1 <= c.highest_level <= 5 for c in coverage):
        raise UserError("staffing.bad_level")
    if len({c.job_type.id for c in coverage}) != len(coverage):
        raise UserError("staffing.duplicate_job_type")
    if db.execute(select(StaffQualification.id).where(StaffQualification.number == number)).first():
        raise UserError("staffing.number_exists", 409, number=number)
    qualification = StaffQualification(
        user=user, number=number, role=role, home_station=home_station, valid_from=valid_from,
        valid_until=valid_until, created_at=now, created_by_id=actor.id,
        scopes=[QualificationScope(job_type=c.job_type, highest_level=c.highest_level) for c in coverage])
    db.add(qualification)
    db.flush()
    audit.record(db, "qualification_added", actor=actor, object_type="staff_qualification",
                 object_id=qualification.id, now=now,
                 data={"user": user.username, "number": number, "role": role.value, "home": home_station.code,
                       "valid": [valid_from.isoformat(), valid_until.isoformat()],
                       "covers": {c.job_type.code: c.highest_level for c in coverage}})
    return qualification


def expire_qualification(db: Session, qualification: StaffQualification, reason: str, actor: User,
                         now: datetime) -> None:
    """End a qualification before its date (withdrawn, lapsed training, a finding)."""
    if qualification.expired_at is not None:
        raise UserError("staffing.already_expired", 409)
    if not reason.strip():
        raise UserError("staffing.reason_required")
    qualification.expired_at, qualification.expired_by_id = now, actor.id
    qualification.expiry_reason = reason.strip()[:300]
    audit.record(db, "qualification_expired", actor=actor, object_type="staff_qualification",
                 object_id=qualification.id, now=now, data={"reason": qualification.expiry_reason})


def is_valid_on(qualification: StaffQualification, day: date) -> bool:
    ended = qualification.expired_at is not None and qualification.expired_at.date() <= day
    return qualification.valid_from <= day <= qualification.valid_until and not ended


def covers(qualification: StaffQualification, job_type_id: int, level: int) -> bool:
    return any(s.job_type_id == job_type_id and s.highest_level <= level for s in qualification.scopes)


def qualifications_of(db: Session, user: User) -> list[StaffQualification]:
    return list(db.execute(select(StaffQualification).where(StaffQualification.user_id == user.id)
                           .order_by(StaffQualification.valid_until.desc())).scalars())


def history(db: Session, user: User) -> list[tuple[SessionStaff, ExamSession]]:
    """Every session the person worked, newest first (what rotation rules look at)."""
    return [tuple(row) for row in db.execute(
        select(SessionStaff, ExamSession).join(ExamSession, ExamSession.id == SessionStaff.exam_session_id)
        .where(SessionStaff.user_id == user.id).order_by(ExamSession.scheduled_start_at.desc()))]


def registry(db: Session, within: list[Organisation]) -> list[StaffQualification]:
    """The qualifications whose holder's home lies in one of the given subtrees."""
    return [q for q in db.execute(select(StaffQualification).order_by(StaffQualification.number)).scalars()
            if any(org.contains(q.home_station) for org in within)]
