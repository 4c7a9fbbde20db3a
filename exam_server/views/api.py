"""JSON routes for the browser client and integrations, described in /api/openapi.json."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from .. import accounts, directory, openapi
from ..models import Role
from ..security import sessions
from ..security.access import login_required, public, requires
from ..web import client_ip, csrf_token, get_db, json_body, t
from .auth import session_cookie_args
from .scopes import candidate_organisation

bp = Blueprint("api", __name__, url_prefix="/api")

USER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "username": {"type": "string"}, "display_name": {"type": "string"},
    "organisation": {"type": "string"}, "roles": {"type": "array", "items": {"type": "object"}},
    "locale": {"type": "string"}, "csrf_token": {"type": "string"}}}
LOGIN_SCHEMA = {"type": "object", "required": ["username", "password"], "additionalProperties": False,
                "properties": {"username": {"type": "string", "maxLength": 64},
                               "password": {"type": "string", "maxLength": 256}}}


def _user_json(user) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "organisation": user.organisation.name, "locale": g.locale,
            "roles": [{"role": a.role.value, "organisation": a.organisation.name} for a in user.active_roles()],
            "csrf_token": csrf_token()}


@bp.get("/openapi.json")
@public
@openapi.documented("This document", tags=("meta",), responses={200: {"type": "object"}})
def openapi_document():
    return jsonify(openapi.build(current_app))


@bp.get("/csrf")
@public
@openapi.documented("A CSRF token for the next state-changing request", tags=("auth",),
                    responses={200: {"type": "object", "properties": {"csrf_token": {"type": "string"}}}})
def csrf():
    return jsonify(csrf_token=csrf_token())


@bp.post("/login")
@public
@openapi.documented("Sign in; sets the session cookie", tags=("auth",), request=LOGIN_SCHEMA,
                    responses={200: USER_SCHEMA})
def login():
    body = json_body(LOGIN_SCHEMA)
    db = get_db()
    try:
        signed = accounts.sign_in(db, body["username"], body["password"], g.now, client_ip(),
                                  request.user_agent.string, previous=g.user_session)
    except accounts.LoginRefused as refused:
        db.commit()
        return jsonify(error={"code": refused.key, "message": t(refused.key, **refused.values)}), refused.status
    db.commit()
    g.user_session = signed.session
    response = jsonify(_user_json(signed.user))
    response.set_cookie(sessions.COOKIE_NAME, signed.token, **session_cookie_args())
    return response


@bp.post("/logout")
@login_required
@openapi.documented("Sign out", tags=("auth",), responses={200: {"type": "object"}})
def logout():
    db = get_db()
    accounts.sign_out(db, g.user_session, g.now, client_ip())
    db.commit()
    response = jsonify(ok=True)
    response.delete_cookie(sessions.COOKIE_NAME, path="/")
    return response


@bp.get("/me")
@login_required
@openapi.documented("The signed-in user and their roles", tags=("auth",), responses={200: USER_SCHEMA})
def me():
    return jsonify(_user_json(g.user))


@bp.post("/candidates/<int:user_id>/login-delay/reset")
@requires(Role.examiner, scope=candidate_organisation)
@openapi.documented("Examiner: let a candidate who mistyped their password try again at once",
                    tags=("examiner",), responses={200: {"type": "object"}})
def reset_login_delay(user_id: int):
    db = get_db()
    cleared = accounts.reset_login_delay(db, g.user, directory.get_user_or_none(db, user_id), g.now, client_ip())
    db.commit()
    return jsonify(ok=True, cleared=cleared)
