"""Exam affairs pages: plans (the province creates and publishes them), registration by stations (a form with a
photo, or an Excel file), and the centre's eligibility review with fee status.

Who reaches what: plan management needs a provincial or centre admin role over the province centre; registering
needs a station manager over the station (or a centre admin above it); reviewing needs a centre or provincial
admin over the registration's station. Everyone else, candidates included, is refused; objects outside the
user's subtree answer 403 or 404.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from .. import plans, registration
from ..errors import UserError
from ..models import ExamPlan, Organisation, Registration, Role
from ..security.access import in_scope, requires
from ..web import get_db, t

bp = Blueprint("affairs", __name__)

MANAGERS = (Role.provincial_admin, Role.centre_admin)      # plans, over the province centre
REVIEWERS = (Role.provincial_admin, Role.centre_admin)     # eligibility review, over the station
REGISTRARS = (Role.station_manager, Role.centre_admin)     # registering, over the station
STAFF = (Role.provincial_admin, Role.centre_admin, Role.station_manager)
PAGE_SIZE = 100
STATUSES = ("submitted", "rejected", "approved", "paid")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---- scopes (None answers 404) ------------------------------------------------------------------------------------

def plan_publisher(plan_id: int) -> Organisation | None:
    plan = get_db().get(ExamPlan, plan_id)
    return plan.organisation if plan else None


def plan_site(plan_id: int, station_id: int) -> Organisation | None:
    plan = get_db().get(ExamPlan, plan_id)
    place = plans.plan_station(plan, station_id) if plan and plan.published_at else None
    return place.station if place else None


def registration_site(registration_id: int) -> Organisation | None:
    found = get_db().get(Registration, registration_id)
    return found.station if found else None


# ---- helpers ------------------------------------------------------------------------------------------------------

def _roles() -> list[Role]:
    return sorted({a.role for a in g.user.active_roles()}, key=list(Role).index)


def _holding(*roles: Role) -> list:
    return [a for a in g.user.active_roles() if a.role in roles]


def _manages(plan: ExamPlan) -> bool:
    return in_scope(_holding(*MANAGERS), plan.organisation)


def _sites_in_scope(plan: ExamPlan, *roles: Role) -> list[Organisation]:
    held = _holding(*roles)
    return [place.station for place in plan.stations if in_scope(held, place.station)]


def _visible_plan(plan_id: int) -> ExamPlan:
    """Managers see their province's plans, drafts included; stations and centres see published plans they
    take part in."""
    plan = get_db().get(ExamPlan, plan_id)
    if plan is None or not (_manages(plan) or plan.published_at and _sites_in_scope(plan, *STAFF)):
        abort(404)
    return plan


def yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:.2f}"


def problem_text(problem: registration.Problem) -> str:
    message = t(problem.key, **problem.values)
    if problem.row and problem.column:
        return t("affairs.problem_cell", cell=f"{problem.column}{problem.row}", message=message)
    if problem.row:
        return t("affairs.problem_row", row=problem.row, message=message)
    if problem.field:
        return t("affairs.problem_field", field=t(f"affairs.field.{problem.field}"), message=message)
    return message


def _render(template: str, status: int = 200, **context):
    return render_template(f"affairs/{template}", roles=_roles(), yuan=yuan, status_of=registration.status,
                           fee_of=registration.fee_fen, education=registration.EDUCATION, **context), status


# ---- plans --------------------------------------------------------------------------------------------------------

@bp.get("/affairs/plans")
@requires(*STAFF)
def plan_list():
    db = get_db()
    found = db.execute(select(ExamPlan).order_by(ExamPlan.registration_opens_on.desc(), ExamPlan.id.desc()))
    visible = [p for p in found.scalars() if _manages(p) or p.published_at and _sites_in_scope(p, *STAFF)]
    return _render("plans.html", plans=visible, can_create=plans.publisher_of(_holding(*MANAGERS)) is not None)


def _publisher() -> Organisation:
    publisher = plans.publisher_of(_holding(*MANAGERS))
    if publisher is None:
        abort(403)
    return publisher


def _plan_form(publisher: Organisation, error: str = "", status: int = 200):
    db = get_db()
    return _render("plan_form.html", status, job_levels=plans.job_type_levels(db),
                   sites=plans.exam_sites(db, publisher), form=request.form, error=error)


@bp.get("/affairs/plans/new")
@requires(*MANAGERS)
def new_plan():
    return _plan_form(_publisher())


def _date(name: str) -> date:
    try:
        return date.fromisoformat(request.form.get(name, ""))
    except ValueError:
        raise UserError("affairs.plan_dates") from None


def _fen(name: str) -> int:
    try:
        value = Decimal(request.form.get(name, "0").strip() or "0")
    except InvalidOperation:
        raise UserError("affairs.plan_fees") from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise UserError("affairs.plan_fees")
    return int(value * 100)


def _int(name: str) -> int:
    try:
        return int(request.form.get(name, "").strip() or "0")
    except ValueError:
        raise UserError("affairs.plan_capacity") from None


def _plan_input(publisher: Organisation) -> plans.PlanInput:
    job_type_id, _, level = request.form.get("job_level", "").partition(":")
    if not job_type_id.isdigit() or not level.isdigit():
        raise UserError("affairs.plan_job_level")
    stations = [(site.id, _int(f"capacity_{site.id}")) for site in plans.exam_sites(get_db(), publisher)]
    return plans.PlanInput(
        code=request.form.get("code", ""), name=request.form.get("name", ""), job_type_id=int(job_type_id),
        level=int(level), registration_opens_on=_date("registration_opens_on"),
        registration_closes_on=_date("registration_closes_on"), exam_from=_date("exam_from"),
        exam_to=_date("exam_to"), theory_fee_fen=_fen("theory_fee"), practical_fee_fen=_fen("practical_fee"),
        stations=[(site, capacity) for site, capacity in stations if capacity])


@bp.post("/affairs/plans")
@requires(*MANAGERS)
def create_plan():
    publisher = _publisher()
    db = get_db()
    try:
        plan = plans.create_plan(db, publisher, _plan_input(publisher), g.user, g.now)
    except UserError as refused:
        db.rollback()
        return _plan_form(publisher, t(refused.key, **refused.values), refused.status)
    db.commit()
    flash(plan.code, "affairs.plan_created")
    return redirect(url_for("affairs.plan_detail", plan_id=plan.id))


@bp.get("/affairs/plans/<int:plan_id>")
@requires(*STAFF)
def plan_detail(plan_id: int):
    db = get_db()
    plan = _visible_plan(plan_id)
    sites = _sites_in_scope(plan, *STAFF)
    wanted = request.args.get("status", "")
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    query = select(Registration).where(Registration.plan_id == plan.id,
                                       Registration.station_id.in_([s.id for s in sites]))
    query = _status_filter(query, wanted)
    total = db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.execute(query.order_by(Registration.station_id, Registration.id)
                      .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    return _render("plan.html", plan=plan, manages=_manages(plan), taken=plans.places_taken(db, plan.id),
                   registering=_sites_in_scope(plan, *REGISTRARS),
                   reviewing={s.id for s in _sites_in_scope(plan, *REVIEWERS)},
                   open=plans.registration_open(plan, g.now), registrations=rows, total=total, page=page,
                   page_size=PAGE_SIZE, wanted=wanted, statuses=STATUSES)


def _status_filter(query, wanted: str):
    if wanted == "submitted":
        return query.where(Registration.approved.is_(None))
    if wanted == "rejected":
        return query.where(Registration.approved.is_(False))
    if wanted == "approved":
        return query.where(Registration.approved.is_(True), Registration.fee_paid_at.is_(None))
    if wanted == "paid":
        return query.where(Registration.fee_paid_at.is_not(None))
    return query


@bp.post("/affairs/plans/<int:plan_id>/publish")
@requires(*MANAGERS, scope=plan_publisher)
def publish_plan(plan_id: int):
    db = get_db()
    plan = plans.publish(db, db.get(ExamPlan, plan_id), g.user, g.now)
    db.commit()
    flash(plan.code, "affairs.plan_published")
    return redirect(url_for("affairs.plan_detail", plan_id=plan_id))


# ---- registering --------------------------------------------------------------------------------------------------

def _register_form(plan: ExamPlan, station: Organisation, problems=(), status: int = 200):
    return _render("register.html", status, plan=plan, station=station, form=request.form,
                   problems=[problem_text(p) for p in problems], bad_fields={p.field for p in problems})


def _raw_applicant() -> dict:
    return {name: request.form.get(name, "") for name in registration.COLUMNS}


def _photo_upload() -> bytes | None:
    upload = request.files.get("photo")
    return upload.read() if upload and upload.filename else None


@bp.get("/affairs/plans/<int:plan_id>/stations/<int:station_id>/register")
@requires(*REGISTRARS, scope=plan_site)
def register_form(plan_id: int, station_id: int):
    db = get_db()
    return _register_form(db.get(ExamPlan, plan_id), db.get(Organisation, station_id))


@bp.post("/affairs/plans/<int:plan_id>/stations/<int:station_id>/register")
@requires(*REGISTRARS, scope=plan_site)
def register(plan_id: int, station_id: int):
    db = get_db()
    plan, station = db.get(ExamPlan, plan_id), db.get(Organisation, station_id)
    try:
        created = registration.register(db, plan, station, _raw_applicant(), _photo_upload(), g.user, g.now)
    except registration.Rejected as rejected:
        db.rollback()
        return _register_form(plan, station, rejected.problems, 422)
    db.commit()
    flash(created.name, "affairs.registered")
    return redirect(url_for("affairs.registration_detail", registration_id=created.id))


@bp.get("/affairs/registration-template.xlsx")
@requires(*REGISTRARS)
def import_template():
    return Response(registration.template_xlsx(), mimetype=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="registration-template.xlsx"'})


def _import_page(plan, station, problems=(), status: int = 200):
    return _render("import.html", status, plan=plan, station=station, problems=[problem_text(p) for p in problems])


@bp.get("/affairs/plans/<int:plan_id>/stations/<int:station_id>/import")
@requires(*REGISTRARS, scope=plan_site)
def import_form(plan_id: int, station_id: int):
    db = get_db()
    return _import_page(db.get(ExamPlan, plan_id), db.get(Organisation, station_id))


@bp.post("/affairs/plans/<int:plan_id>/stations/<int:station_id>/import")
@requires(*REGISTRARS, scope=plan_site)
def import_registrations(plan_id: int, station_id: int):
    db = get_db()
    plan, station = db.get(ExamPlan, plan_id), db.get(Organisation, station_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise UserError("affairs.no_file")
    try:
        imported = registration.import_excel(db, plan, station, upload.read(), g.user, g.now)
    except registration.Rejected as rejected:
        db.rollback()
        return _import_page(plan, station, rejected.problems, 422)
    db.commit()
    flash(str(imported), "affairs.imported")
    return redirect(url_for("affairs.plan_detail", plan_id=plan_id))


# ---- one registration ---------------------------------------------------------------------------------------------

def _registration_page(found: Registration, problems=(), status: int = 200):
    return _render("registration.html", status, reg=found, form=request.form if problems else None,
                   can_review=in_scope(_holding(*REVIEWERS), found.station),
                   can_correct=in_scope(_holding(*REGISTRARS), found.station),
                   problems=[problem_text(p) for p in problems], bad_fields={p.field for p in problems})


@bp.get("/affairs/registrations/<int:registration_id>")
@requires(*REGISTRARS, *REVIEWERS, scope=registration_site)
def registration_detail(registration_id: int):
    return _registration_page(get_db().get(Registration, registration_id))


@bp.get("/affairs/registrations/<int:registration_id>/photo")
@requires(*REGISTRARS, *REVIEWERS, scope=registration_site)
def registration_photo(registration_id: int):
    found = get_db().get(Registration, registration_id)
    if not found.photo:
        abort(404)
    return Response(found.photo, mimetype=found.photo_type)


@bp.post("/affairs/registrations/<int:registration_id>/review")
@requires(*REVIEWERS, scope=registration_site)
def review(registration_id: int):
    db = get_db()
    found = db.get(Registration, registration_id)
    decision = request.form.get("decision")
    if decision not in ("approve", "reject"):
        raise UserError("affairs.bad_decision")
    registration.review(db, found, decision == "approve", request.form.get("reason", ""), g.user, g.now)
    db.commit()
    flash(found.name, f"affairs.{decision}d")
    return redirect(url_for("affairs.registration_detail", registration_id=registration_id))


@bp.post("/affairs/registrations/<int:registration_id>/fee")
@requires(*REVIEWERS, scope=registration_site)
def mark_paid(registration_id: int):
    db = get_db()
    found = registration.mark_paid(db, db.get(Registration, registration_id), g.user, g.now)
    db.commit()
    flash(found.name, "affairs.fee_paid")
    return redirect(url_for("affairs.registration_detail", registration_id=registration_id))


@bp.post("/affairs/registrations/<int:registration_id>/correct")
@requires(*REGISTRARS, scope=registration_site)
def correct(registration_id: int):
    db = get_db()
    found = db.get(Registration, registration_id)
    try:
        registration.correct(db, found, _raw_applicant(), _photo_upload(), g.user, g.now)
    except registration.Rejected as rejected:
        db.rollback()
        return _registration_page(db.get(Registration, registration_id), rejected.problems, 422)
    db.commit()
    flash(found.name, "affairs.corrected")
    return redirect(url_for("affairs.registration_detail", registration_id=registration_id))


@bp.post("/affairs/plans/<int:plan_id>/approve")
@requires(*REVIEWERS)
def approve_selected(plan_id: int):
    """Bulk approval of the ticked registrations; each one must lie in the reviewer's scope."""
    db = get_db()
    plan = _visible_plan(plan_id)
    ids = [int(i) for i in request.form.getlist("registration") if i.isdigit()]
    chosen = db.execute(select(Registration).where(Registration.plan_id == plan.id,
                                                   Registration.id.in_(ids))).scalars().all()
    if len(chosen) != len(set(ids)) or not all(in_scope(g.assignments, r.station) for r in chosen):
        abort(404)
    approved = registration.approve_all(db, chosen, g.user, g.now)
    db.commit()
    flash(str(approved), "affairs.bulk_approved")
    return redirect(url_for("affairs.plan_detail", plan_id=plan_id, status=request.form.get("status", "")))
