"""Read queries over organisations and people, always limited to what the caller's roles reach."""
from __future__ import annotations

from typing import Iterable, Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from .models import ExamSession, LoginThrottle, Organisation, Role, RoleAssignment, SessionStaff, User
from .security import throttle
from .security.access import DUTY_ROLES

PAGE_SIZE = 100


def _within(assignments: Iterable[RoleAssignment]):
    """SQL condition: the organisation lies in one of the granted subtrees."""
    return or_(*[Organisation.path.like(a.organisation.path + "%") for a in assignments])


def organisations_in_scope(db: Session, assignments: Sequence[RoleAssignment]) -> list[Organisation]:
    return list(db.execute(select(Organisation).where(_within(assignments)).order_by(Organisation.path)).scalars())


def candidate_counts(db: Session, assignments: Sequence[RoleAssignment]) -> dict[int, int]:
    """Candidates per organisation, for the organisations in scope."""
    rows = db.execute(
        select(User.organisation_id, func.count(func.distinct(User.id)))
        .join(Organisation, Organisation.id == User.organisation_id)
        .join(RoleAssignment, and_(RoleAssignment.user_id == User.id, RoleAssignment.role == Role.candidate,
                                   RoleAssignment.revoked_at.is_(None)))
        .where(_within(assignments)).group_by(User.organisation_id))
    return dict(rows.all())


def candidates_in_scope(db: Session, assignments: Sequence[RoleAssignment], page: int = 1) -> tuple[list[User], int]:
    """One page of candidates (by organisation, then name) and the total count."""
    base = (select(User).join(Organisation, Organisation.id == User.organisation_id)
            .join(RoleAssignment, and_(RoleAssignment.user_id == User.id, RoleAssignment.role == Role.candidate,
                                       RoleAssignment.revoked_at.is_(None)))
            .where(_within(assignments), User.deactivated_at.is_(None)))
    total = db.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    users = db.execute(base.order_by(Organisation.path, User.username)
                       .offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE)).scalars().all()
    return list(users), total


def login_failures(db: Session, users: Sequence[User]) -> dict[int, int]:
    """Current failed-login count per user id (only users with failures appear)."""
    keys = {throttle.key_for(u, ""): u.id for u in users}
    if not keys:
        return {}
    rows = db.execute(select(LoginThrottle).where(LoginThrottle.key.in_(keys))).scalars()
    return {keys[r.key]: r.failures for r in rows}


def get_user_or_none(db: Session, user_id: int) -> User | None:
    return db.get(User, user_id)


def sessions_in_scope(db: Session, assignments: Sequence[RoleAssignment]) -> list[ExamSession]:
    """The sessions of the stations in scope, and those elsewhere whose staff the user is on in one of these
    roles (a rotated examiner)."""
    duties = [d for d, role in DUTY_ROLES.items() if role in {a.role for a in assignments}]
    staffed = select(SessionStaff.exam_session_id).where(
        SessionStaff.user_id.in_({a.user_id for a in assignments}), SessionStaff.duty.in_(duties))
    return list(db.execute(select(ExamSession).join(Organisation, Organisation.id == ExamSession.organisation_id)
                           .where(or_(_within(assignments), ExamSession.id.in_(staffed)))
                           .order_by(ExamSession.scheduled_start_at, ExamSession.id)).scalars())
