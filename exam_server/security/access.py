"""Deny-by-default authorisation: every view declares who may call it, and a role only reaches the
organisation subtree it was granted over, or one exam session it is on the staff of (a rotated examiner from
another station, 轮换).

A view without a declaration is refused at request time, and `build_app` refuses to start if one exists.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable, Iterable, Optional

from flask import abort, g
from sqlalchemy import select

from ..models import Attempt, Duty, Organisation, Role, RoleAssignment, RosterEntry, SessionStaff

PUBLIC = "public"
AUTHENTICATED = "authenticated"
NODE_SIGNED = "node-signed"       # a station node's signed request (views/nodes.py checks the signature)

# The role each duty on a session's staff acts in: a supervisor stays read-only wherever the view allows only
# examiners to act.
DUTY_ROLES = {Duty.examiner: Role.examiner, Duty.chief_examiner: Role.examiner, Duty.supervisor: Role.supervisor}

# The order in which a user with several roles is sent to a home page.
ROLE_ORDER = (Role.provincial_admin, Role.centre_admin, Role.station_manager, Role.question_author,
              Role.examiner, Role.supervisor, Role.candidate)


def public(view: Callable) -> Callable:
    view.access = PUBLIC
    return view


def login_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.user is None:
            abort(401)
        return view(*args, **kwargs)

    wrapper.access = AUTHENTICATED
    return wrapper


def requires(*roles: Role, scope: Optional[Callable[..., Optional[Organisation]]] = None) -> Callable:
    """Allow users holding one of ``roles``; with ``scope``, only over the organisation it returns.

    ``scope`` receives the view's URL arguments and returns the organisation the request acts on (None when
    the object does not exist: 404, so that ids cannot be probed). Outside that organisation, a user on the
    staff of the exam session the URL names is admitted in the roles their duties stand for (`staffed_roles`).
    The assignments that granted access are left in ``g.assignments`` for views that filter lists by scope.
    """
    allowed = frozenset(roles)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if g.user is None:
                abort(401)
            held = [a for a in g.user.active_roles() if a.role in allowed]
            if not held:
                abort(403)
            if scope is not None:
                target = scope(**kwargs)
                if target is None:
                    abort(404)
                inside = [a for a in held if a.organisation.contains(target)]
                held = inside or _by_duty(held, kwargs)
                if not held:
                    abort(403)
            g.assignments = held
            return view(*args, **kwargs)

        wrapper.access = allowed
        return wrapper

    return decorate


def _by_duty(held: list[RoleAssignment], url_args: dict) -> list[RoleAssignment]:
    """The held assignments whose role the user's duties on the URL's session stand for."""
    from ..web import get_db     # web imports this module

    session_id = session_named(get_db(), url_args)
    if session_id is None:
        return []
    roles = staffed_roles(get_db(), g.user.id, session_id)
    return [a for a in held if a.role in roles]


def session_named(db, url_args: dict) -> Optional[int]:
    """The id of the exam session a URL acts on, through its session, attempt or roster-entry argument."""
    if "session_id" in url_args:
        return url_args["session_id"]
    if "attempt_id" in url_args:
        attempt = db.get(Attempt, url_args["attempt_id"])
        return attempt.roster_entry.exam_session_id if attempt else None
    if "entry_id" in url_args:
        entry = db.get(RosterEntry, url_args["entry_id"])
        return entry.exam_session_id if entry else None
    return None


def staffed_roles(db, user_id: int, session_id: int) -> set[Role]:
    """The roles the user acts in on the session's staff (none when not on it)."""
    duties = db.execute(select(SessionStaff.duty).where(SessionStaff.exam_session_id == session_id,
                                                        SessionStaff.user_id == user_id)).scalars()
    return {DUTY_ROLES[d] for d in duties}


def primary_role(assignments: Iterable[RoleAssignment]) -> Optional[Role]:
    held = {a.role for a in assignments}
    return next((r for r in ROLE_ORDER if r in held), None)


def in_scope(assignments: Iterable[RoleAssignment], organisation: Organisation) -> bool:
    return any(a.organisation.contains(organisation) for a in assignments)
