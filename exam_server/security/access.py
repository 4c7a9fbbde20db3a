"""Deny-by-default authorisation: every view declares who may call it, and a role only reaches the
organisation subtree it was granted over.

A view without a declaration is refused at request time, and `build_app` refuses to start if one exists.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable, Iterable, Optional

from flask import abort, g

from ..models import Organisation, Role, RoleAssignment

PUBLIC = "public"
AUTHENTICATED = "authenticated"
NODE_SIGNED = "node-signed"       # a station node's signed request (views/nodes.py checks the signature)

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
    the object does not exist: 404, so that ids cannot be probed). The assignments that granted access are
    left in ``g.assignments`` for views that filter lists by scope.
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
                held = [a for a in held if a.organisation.contains(target)]
                if not held:
                    abort(403)
            g.assignments = held
            return view(*args, **kwargs)

        wrapper.access = allowed
        return wrapper

    return decorate


def primary_role(assignments: Iterable[RoleAssignment]) -> Optional[Role]:
    held = {a.role for a in assignments}
    return next((r for r in ROLE_ORDER if r in held), None)


def in_scope(assignments: Iterable[RoleAssignment], organisation: Organisation) -> bool:
    return any(a.organisation.contains(organisation) for a in assignments)
