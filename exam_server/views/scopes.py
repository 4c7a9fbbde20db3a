"""Scope functions for `requires(..., scope=...)`: the organisation a URL's object belongs to, or None."""
from __future__ import annotations

from ..models import Organisation, Role, User
from ..web import get_db


def candidate_organisation(user_id: int) -> Organisation | None:
    user = get_db().get(User, user_id)
    if user is None or not any(a.role is Role.candidate for a in user.active_roles()):
        return None
    return user.organisation
