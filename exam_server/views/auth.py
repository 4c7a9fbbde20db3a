"""Sign-in, sign-out and the language switch."""
from __future__ import annotations

from flask import Blueprint, current_app, g, make_response, redirect, render_template, request, url_for

from .. import accounts, audit, i18n
from ..security import sessions
from ..security.access import login_required, public
from ..web import UserError, client_ip, get_db, t

bp = Blueprint("auth", __name__)


def session_cookie_args() -> dict:
    settings = current_app.extensions["exam_settings"]
    return {"httponly": True, "samesite": "Lax", "secure": settings.secure_cookies, "path": "/",
            "max_age": settings.session_absolute_hours * 3600}


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the login form cannot be used to redirect elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("home.index")


@bp.get("/login")
@public
def login():
    if g.user is not None:
        return redirect(url_for("home.index"))
    return render_template("login.html", next=request.args.get("next", ""))


@bp.post("/login")
@public
def login_submit():
    db = get_db()
    username = request.form.get("username", "")[:64]
    try:
        signed = accounts.sign_in(db, username, request.form.get("password", "")[:256], g.now, client_ip(),
                                  request.user_agent.string, previous=g.user_session)
    except accounts.LoginRefused as refused:
        db.commit()  # the failure count and the audit entry stay
        return render_template("login.html", error=t(refused.key, **refused.values), username=username,
                               next=request.form.get("next", "")), refused.status
    db.commit()
    response = redirect(_safe_next(request.form.get("next")))
    response.set_cookie(sessions.COOKIE_NAME, signed.token, **session_cookie_args())
    return response


@bp.post("/logout")
@login_required
def logout():
    db = get_db()
    accounts.sign_out(db, g.user_session, g.now, client_ip())
    db.commit()
    response = redirect(url_for("auth.login"))
    response.delete_cookie(sessions.COOKIE_NAME, path="/")
    return response


@bp.post("/language")
@public
def language():
    choice = request.form.get("locale", "")
    if choice not in i18n.LOCALES:
        raise UserError("error.bad_locale")
    if g.user is not None:
        db = get_db()
        g.user.locale = choice
        audit.record(db, "locale_changed", actor=g.user, object_type="user", object_id=g.user.id, ip=client_ip(),
                     now=g.now, data={"locale": choice})
        db.commit()
    response = make_response(redirect(_safe_next(request.form.get("next"))))
    response.set_cookie("lang", choice, samesite="Lax", max_age=365 * 86400, path="/")
    return response
