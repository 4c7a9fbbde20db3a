"""Each role's home page, and the examiner's reset of a candidate's login delay."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from .. import accounts, delivery, directory, scoring
from ..models import ExamSession, JobType, Role
from ..security.access import login_required, primary_role, public, requires
from ..web import client_ip, get_db
from .scopes import candidate_organisation, session_organisation

bp = Blueprint("home", __name__)

ADMIN_ROLES = (Role.provincial_admin, Role.centre_admin, Role.station_manager)


@bp.get("/")
@public
def index():
    if g.user is None:
        return redirect(url_for("auth.login"))
    role = primary_role(g.user.active_roles())
    if role is None:
        abort(403)
    return redirect(url_for("home.role_home", role=role.value))


@bp.get("/home/<role>")
@login_required
def role_home(role: str):
    try:
        wanted = Role(role)
    except ValueError:
        abort(404)
    assignments = [a for a in g.user.active_roles() if a.role == wanted]
    if not assignments:
        abort(403)
    db = get_db()
    page = request.args.get("page", 1, type=int) or 1
    context = {"role": wanted, "assignments": assignments,
               "roles": sorted({a.role for a in g.user.active_roles()}, key=list(Role).index)}
    if wanted in ADMIN_ROLES:
        context["organisations"] = directory.organisations_in_scope(db, assignments)
        context["candidate_counts"] = directory.candidate_counts(db, assignments)
    elif wanted is Role.question_author:
        context["job_types"] = db.execute(select(JobType).order_by(JobType.code)).scalars().all()
    elif wanted is Role.candidate:
        context["score_reports"] = scoring.released_reports_of(db, g.user)
    elif wanted in (Role.examiner, Role.supervisor):
        candidates, total = directory.candidates_in_scope(db, assignments, page)
        context.update(candidates=candidates, total=total, page=page, page_size=directory.PAGE_SIZE,
                       failures=directory.login_failures(db, candidates),
                       exam_sessions=directory.sessions_in_scope(db, assignments),
                       session_status=lambda s: delivery.session_status(s, g.now))
    return render_template(f"home/{wanted.value}.html", **context)


@bp.post("/candidates/<int:user_id>/login-delay/reset")
@requires(Role.examiner, scope=candidate_organisation)
def reset_login_delay(user_id: int):
    db = get_db()
    candidate = directory.get_user_or_none(db, user_id)
    accounts.reset_login_delay(db, g.user, candidate, g.now, client_ip())
    db.commit()
    flash(candidate.display_name, "login_delay_reset")
    return redirect(url_for("home.role_home", role=Role.examiner.value))


@bp.get("/sessions/<int:session_id>")
@requires(Role.examiner, Role.supervisor, scope=session_organisation)
def exam_session(session_id: int):
    session = get_db().get(ExamSession, session_id)
    can_act = any(a.role is Role.examiner for a in g.assignments)
    return render_template("session.html", session=session, can_act=can_act,
                           roles=sorted({a.role for a in g.user.active_roles()}, key=list(Role).index))
