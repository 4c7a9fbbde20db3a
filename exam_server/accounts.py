"""Account use cases: signing in and out, resetting a candidate's login delay. They take the session and
`now` from the caller and write the audit log in the same transaction as the change."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .errors import UserError
from .models import Organisation, Role, RoleAssignment, User, UserSession
from .security import passwords, sessions, throttle


class LoginRefused(UserError):
    """A refused sign-in; unlike other user errors, the caller still commits (the failure is counted)."""


@dataclass
class SignedIn:
    user: User
    token: str
    session: UserSession


def find_user(db: Session, username: str) -> Optional[User]:
    return db.execute(select(User).where(func.lower(User.username) == username.strip().lower())).scalar_one_or_none()


def sign_in(db: Session, username: str, password: str, now: datetime, ip: str = "", user_agent: str = "",
            previous: Optional[UserSession] = None) -> SignedIn:
    """Check the password under the throttle; on success rotate the session. Raises LoginRefused.

    The caller commits in both cases: failures are counted and audited too.
    """
    if not username.strip() or not password:
        raise LoginRefused("login.missing", 400)
    user = find_user(db, username)
    if user is not None and user.deactivated_at is not None:
        user = None
    key, policy = throttle.key_for(user, ip), throttle.policy_for(user)
    verdict = throttle.check(db, key, policy, now)
    if not verdict.allowed:
        audit.record(db, "login_throttled", actor=user, actor_name=username[:100], object_type="user",
                     object_id=user.id if user else "", ip=ip, now=now,
                     data={"retry_after_s": verdict.retry_after_s, "locked": verdict.locked})
        raise LoginRefused("login.locked" if verdict.locked else "login.wait", 429,
                           seconds=verdict.retry_after_s)
    if not passwords.verify_password(user.password_hash if user else None, password):
        locked = throttle.record_failure(db, key, policy, now)
        audit.record(db, "login_failed", actor_name=username[:100], object_type="user",
                     object_id=user.id if user else "", ip=ip, now=now)
        if locked:
            audit.record(db, "account_locked", actor_name=username[:100], object_type="user", object_id=user.id,
                         ip=ip, now=now, data={"minutes": policy.lock_minutes})
        raise LoginRefused("login.failed", 401)
    throttle.reset(db, key)
    if previous is not None:
        sessions.revoke(db, previous, now)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    token, row = sessions.open_session(db, user, now, ip, user_agent)
    audit.record(db, "login_succeeded", actor=user, object_type="user", object_id=user.id, ip=ip, now=now)
    return SignedIn(user, token, row)


def sign_out(db: Session, row: UserSession, now: datetime, ip: str = "") -> None:
    sessions.revoke(db, row, now)
    audit.record(db, "logout", actor=row.user, object_type="user", object_id=row.user_id, ip=ip, now=now)


def reset_login_delay(db: Session, examiner: User, candidate: User, now: datetime, ip: str = "") -> bool:
    """An examiner lets a candidate who mistyped their password try again at once."""
    cleared = throttle.reset(db, throttle.key_for(candidate, ip))
    audit.record(db, "login_delay_reset", actor=examiner, object_type="user", object_id=candidate.id, ip=ip,
                 now=now, data={"cleared": cleared})
    return cleared


USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")


def create_user(db: Session, username: str, display_name: str, role: Role, organisation_code: str, password: str,
                now: datetime, actor: Optional[User] = None, actor_name: str = "") -> User:
    """Create an account holding one role over an organisation. Raises UserError and changes nothing."""
    if not USERNAME.match(username):
        raise UserError("user.bad_username")
    if not display_name.strip():
        raise UserError("user.missing_name")
    if find_user(db, username) is not None:
        raise UserError("user.exists", 409, username=username)
    problem = passwords.password_problem(password)
    if problem:
        raise UserError(problem)
    org = db.execute(select(Organisation).where(Organisation.code == organisation_code)).scalar_one_or_none()
    if org is None:
        raise UserError("user.unknown_organisation", 404, code=organisation_code)
    user = User(username=username, display_name=display_name.strip(), organisation=org, created_at=now,
                password_hash=passwords.hash_password(password))
    user.role_assignments = [RoleAssignment(role=role, organisation=org, granted_at=now,
                                            granted_by_id=actor.id if actor else None)]
    db.add(user)
    db.flush()
    audit.record(db, "user_created", actor=actor, actor_name=actor_name, object_type="user", object_id=user.id,
                 now=now, data={"username": username, "role": role.value, "organisation": organisation_code})
    return user
