"""The request lifecycle shared by every view: one clock reading, one database session, the signed-in user,
the locale, deny-by-default, CSRF, and errors in the user's language (JSON under /api, pages elsewhere)."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from . import i18n
from .errors import UserError
from .models import utcnow
from .security import csrf, sessions
from .security.access import NODE_SIGNED

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ERROR_KEYS = {400: "error.bad_request", 401: "error.unauthorised", 403: "error.forbidden", 404: "error.not_found",
              405: "error.method", 409: "error.conflict", 413: "error.too_large", 429: "error.too_many",
              500: "error.internal"}


def get_db() -> Session:
    """The request's session: writing requests get a write transaction (BEGIN IMMEDIATE on SQLite)."""
    if "db" not in g:
        g.db = current_app.extensions["exam_db"].session(write=request.method not in SAFE_METHODS)
    return g.db


def t(key: str, **values) -> str:
    return i18n.translate(g.get("locale", "zh_CN"), key, **values)


def client_ip() -> str:
    return request.remote_addr or ""


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _load_user() -> None:
    settings = current_app.extensions["exam_settings"]
    g.user = g.user_session = None
    token = request.cookies.get(sessions.COOKIE_NAME, "")
    if not token:
        return
    db = get_db()
    row = sessions.find_session(db, token, g.now, timedelta(minutes=settings.session_idle_minutes),
                                timedelta(hours=settings.session_absolute_hours))
    if row is None:
        return
    g.user_session, g.user = row, row.user
    if sessions.needs_touch(row, g.now):
        if request.method in SAFE_METHODS:
            db.commit()      # hold one pooled connection at a time: many such GETs at once would wait on themselves
            with current_app.extensions["exam_db"].transaction() as w:
                sessions.touch(w, row.id, g.now)
        else:   # this request already holds the write lock: a second writer would wait for it forever
            sessions.touch(db, row.id, g.now)


def _before_request():
    g.now = utcnow()
    request.get_data(cache=True)   # read the body before any transaction: never hold the write lock across I/O
    settings = current_app.extensions["exam_settings"]
    _load_user()
    g.locale = i18n.negotiate(getattr(g.user, "locale", None), request.cookies.get("lang"),
                              default=settings.default_locale)
    view = current_app.view_functions.get(request.endpoint)
    if view is None:
        return None  # Flask answers 404/405 itself
    if not hasattr(view, "access"):
        return error_response(403)
    if request.method in csrf.UNSAFE_METHODS and view.access != NODE_SIGNED:   # a node's signature, no cookie
        expected = g.user_session.csrf_token if g.user_session else request.cookies.get(csrf.ANON_COOKIE)
        if csrf.cross_site(request) or not csrf.token_matches(expected, csrf.submitted_token(request)):
            return error_response(403, "error.csrf")
    return None  # role and scope checks run in the view's own decorator


def csrf_token() -> str:
    if g.get("user_session") is not None:
        return g.user_session.csrf_token
    if "anon_csrf" not in g:
        g.anon_csrf = request.cookies.get(csrf.ANON_COOKIE) or csrf.new_token()
    return g.anon_csrf


def _after_request(response: Response) -> Response:
    if g.get("anon_csrf") and request.cookies.get(csrf.ANON_COOKIE) != g.anon_csrf:
        response.set_cookie(csrf.ANON_COOKIE, g.anon_csrf, httponly=True, samesite="Strict",
                            secure=current_app.extensions["exam_settings"].secure_cookies)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _teardown(_exc):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def error_response(status: int, key: str | None = None, **values):
    key = key or ERROR_KEYS.get(status, "error.internal")
    message = t(key, **values)
    if wants_json():
        return jsonify(error={"code": key, "message": message}), status
    return render_template("error.html", status=status, message=message), status


def _on_http_error(exc: HTTPException):
    if exc.code == 401 and not wants_json():
        from flask import redirect, url_for
        return redirect(url_for("auth.login", next=request.path))
    return error_response(exc.code or 500)


def _on_user_error(exc: UserError):
    db = g.get("db")
    if db is not None:
        db.rollback()
    return error_response(exc.status, exc.key, **exc.values)


def install(app: Flask) -> None:
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.teardown_request(_teardown)
    app.register_error_handler(HTTPException, _on_http_error)
    app.register_error_handler(UserError, _on_user_error)
    app.jinja_env.globals.update(t=t, csrf_token=csrf_token)


_JSON_TYPES = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list}


def json_body(schema: dict) -> dict:
    """The request's JSON object, checked against a flat OpenAPI object schema; raises UserError."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise UserError("error.json_body")
    unknown = set(body) - set(schema["properties"])
    missing = [k for k in schema.get("required", ()) if k not in body]
    if unknown or missing:
        raise UserError("error.json_fields", fields=", ".join(sorted(unknown) + missing))
    for name, value in body.items():
        spec = schema["properties"][name]
        kind = _JSON_TYPES.get(spec.get("type", ""), object)
        if (not isinstance(value, kind) or (kind is int and isinstance(value, bool))
                or (kind is str and len(value) > spec.get("maxLength", 10**6))):
            raise UserError("error.json_fields", fields=name)
    return body
