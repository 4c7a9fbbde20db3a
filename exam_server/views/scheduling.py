"""Scheduling pages: the staff registry (centre), rooms and sessions from published plans (stations and centres),
each session's roster and staff, admission tickets as PDF, and the examiners' ticket check at the door."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from .. import scheduling, staffing, tickets
from ..accounts import find_user
from ..errors import UserError
from ..models import (Duty, ExamPart, ExamPlan, ExamSession, JobType, MachineKind, Organisation, OrganisationKind,
                      QualificationRole, Role, RoleAssignment, Room, RosterEntry, SessionSchedule, StaffQualification,
                      User)
from ..security.access import in_scope, login_required, requires
from ..web import get_db, t
from .scopes import session_organisation

bp = Blueprint("scheduling", __name__)

CHINA = ZoneInfo("Asia/Shanghai")      # the forms' dates and times are Beijing time
REGISTRARS = (Role.centre_admin, Role.provincial_admin)
SCHEDULERS = (Role.station_manager, Role.centre_admin, Role.provincial_admin)
DOOR = (Role.examiner, Role.station_manager, Role.centre_admin, Role.provincial_admin)
STATIONS = (OrganisationKind.station, OrganisationKind.college_base)


# ------------------------------------------------------------------------------------------ helpers

def station_organisation(station_id: int, **_):
    return get_db().get(Organisation, station_id)


def qualification_organisation(qualification_id: int):
    qualification = get_db().get(StaffQualification, qualification_id)
    return qualification.home_station if qualification else None


def room_organisation(room_id: int):
    room = get_db().get(Room, room_id)
    return room.station if room else None


def staff_user_organisation(user_id: int):
    user = get_db().get(User, user_id)
    return user.organisation if user and user.is_staff else None


def _roles():
    return sorted({a.role for a in g.user.active_roles()}, key=list(Role).index)


def _page(template: str, status: int = 200, **context):
    return render_template(f"scheduling/{template}", roles=_roles(), role=None, local=_local_text,
                           **context), status


def _local_text(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _organisations_in_scope(kinds=None) -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.code)
    if kinds:
        query = query.where(Organisation.kind.in_(kinds))
    return [o for o in get_db().execute(query).scalars() if in_scope(g.assignments, o)]


def _stations_in_scope() -> list[Organisation]:
    return _organisations_in_scope(STATIONS)


def _local(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=CHINA).astimezone(timezone.utc)
    except ValueError:
        raise UserError("scheduling.bad_time") from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError("staffing.bad_dates") from None


def _int(name: str) -> int:
    try:
        return int(request.form.get(name, ""))
    except ValueError:
        raise UserError("scheduling.bad_number", field=name) from None


def _door_session(session_id: int) -> ExamSession:
    """The session, for a scheduler over its station or an examiner over it or on its staff (a rotated
    examiner comes from another station)."""
    db = get_db()
    session = db.get(ExamSession, session_id)
    if session is None:
        abort(404)
    if not (in_scope(g.assignments, session.organisation) or scheduling.works_session(db, session, g.user)):
        abort(403)
    return session


def _ticket_key() -> bytes:
    return tickets.ticket_key(current_app.config["SECRET_KEY"])


def _plan_names(db, entries) -> dict[int, str]:
    ids = {e.exam_session_id for e in entries}
    rows = db.execute(select(SessionSchedule.exam_session_id, ExamPlan.name)
                      .join(ExamPlan, ExamPlan.id == SessionSchedule.plan_id)
                      .where(SessionSchedule.exam_session_id.in_(ids))).all() if ids else []
    return dict(rows)


def _pdf(entries, filename: str) -> Response:
    db = get_db()
    return Response(tickets.render(entries, _ticket_key(), _plan_names(db, entries)), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}.pdf"'})


# ------------------------------------------------------------------------------------------ staff registry

@bp.get("/scheduling/staff")
@requires(*REGISTRARS)
def staff():
    db = get_db()
    staff_ids = select(RoleAssignment.user_id).where(RoleAssignment.role.in_((Role.examiner, Role.supervisor)),
                                                     RoleAssignment.revoked_at.is_(None))
    people = [u for u in db.execute(select(User).where(User.id.in_(staff_ids)).order_by(User.username)).scalars()
              if in_scope(g.assignments, u.organisation)]
    return _page("staff.html", qualifications=staffing.registry(db, [a.organisation for a in g.assignments]),
                 people=people, homes=_organisations_in_scope(),
                 job_types=db.execute(select(JobType).order_by(JobType.code)).scalars().all(),
                 valid=lambda q: staffing.is_valid_on(q, scheduling.local_date(g.now)))


@bp.post("/scheduling/staff")
@requires(*REGISTRARS)
def add_qualification():
    db = get_db()
    user = find_user(db, request.form.get("username", ""))
    home = db.execute(select(Organisation).where(Organisation.code == request.form.get("home", ""))
                      ).scalar_one_or_none()
    if user is None or home is None or not in_scope(g.assignments, user.organisation) \
            or not in_scope(g.assignments, home):
        raise UserError("staffing.unknown_person_or_home", 404)
    try:
        role = QualificationRole(request.form.get("role", ""))
    except ValueError:
        raise UserError("staffing.bad_role") from None
    coverage = []
    for job_type in db.execute(select(JobType).order_by(JobType.code)).scalars():
        level = request.form.get(f"level-{job_type.id}", "")
        if level:
            coverage.append(staffing.Coverage(job_type, int(level) if level.isdigit() else 0))
    qualification = staffing.add_qualification(
        db, user, request.form.get("number", ""), role, home, _day(request.form.get("valid_from", "")),
        _day(request.form.get("valid_until", "")), coverage, g.user, g.now)
    db.commit()
    flash(qualification.number, "qualification_added")
    return redirect(url_for("scheduling.staff"))


@bp.post("/scheduling/staff/qualifications/<int:qualification_id>/expire")
@requires(*REGISTRARS, scope=qualification_organisation)
def expire_qualification(qualification_id: int):
    db = get_db()
    qualification = db.get(StaffQualification, qualification_id)
    staffing.expire_qualification(db, qualification, request.form.get("reason", ""), g.user, g.now)
    db.commit()
    flash(qualification.number, "qualification_expired")
    return redirect(url_for("scheduling.staff"))


@bp.get("/scheduling/staff/<int:user_id>")
@requires(*REGISTRARS, *SCHEDULERS, scope=staff_user_organisation)
def staff_member(user_id: int):
    db = get_db()
    user = db.get(User, user_id)
    return _page("staff_member.html", person=user, qualifications=staffing.qualifications_of(db, user),
                 history=staffing.history(db, user))


# ------------------------------------------------------------------------------------------ rooms

@bp.get("/scheduling/rooms")
@requires(*SCHEDULERS)
def rooms():
    stations = _stations_in_scope()
    return _page("rooms.html", rooms=scheduling.rooms_at(get_db(), stations), stations=stations,
                 machines=list(MachineKind))


@bp.post("/scheduling/rooms")
@requires(*SCHEDULERS)
def add_room():
    db = get_db()
    station = db.get(Organisation, _int("station_id"))
    if station is None or station.kind not in STATIONS or not in_scope(g.assignments, station):
        abort(404)
    try:
        machine = MachineKind(request.form.get("machine", ""))
    except ValueError:
        raise UserError("scheduling.bad_machine") from None
    room = scheduling.add_room(db, station, request.form.get("name", ""), machine, _int("seats"), g.user, g.now)
    db.commit()
    flash(room.name, "room_added")
    return redirect(url_for("scheduling.rooms"))


@bp.post("/scheduling/rooms/<int:room_id>/retire")
@requires(*SCHEDULERS, scope=room_organisation)
def retire_room(room_id: int):
    db = get_db()
    room = db.get(Room, room_id)
    scheduling.retire_room(db, room, g.user, g.now)
    db.commit()
    flash(room.name, "room_retired")
    return redirect(url_for("scheduling.rooms"))


# ------------------------------------------------------------------------------------------ sessions

@bp.get("/scheduling")
@requires(*SCHEDULERS)
def index():
    db = get_db()
    stations = _stations_in_scope()
    plans = db.execute(select(ExamPlan).where(ExamPlan.published_at.is_not(None))
                       .order_by(ExamPlan.exam_from.desc(), ExamPlan.id.desc())).scalars().all()
    rows = []
    for plan in plans:
        for station in [ps.station for ps in plan.stations if ps.station in stations]:
            rows.append({"plan": plan, "station": station,
                         "waiting": {part: len(scheduling.waiting(db, plan, station, part)) for part in ExamPart},
                         "rooms": [r for r in scheduling.rooms_at(db, [station])],
                         "sessions": scheduling.scheduled_sessions(db, plan, [station])})
    return _page("index.html", rows=rows, parts=list(ExamPart))


@bp.post("/scheduling/plans/<int:plan_id>/stations/<int:station_id>/sessions")
@requires(*SCHEDULERS, scope=station_organisation)
def schedule(plan_id: int, station_id: int):
    db = get_db()
    plan, room = db.get(ExamPlan, plan_id), db.get(Room, _int("room_id"))
    if plan is None or room is None:
        abort(404)
    try:
        part = ExamPart(request.form.get("part", ""))
    except ValueError:
        raise UserError("scheduling.bad_part") from None
    session = scheduling.schedule_session(
        db, plan, db.get(Organisation, station_id), part, room, _local(request.form.get("start", "")),
        _int("duration_minutes") * 60, g.user, g.now, seed=request.form.get("seed", ""))
    db.commit()
    flash(session.room, "session_scheduled")
    return redirect(url_for("scheduling.session_page", session_id=session.id))


@bp.get("/scheduling/sessions/<int:session_id>")
@requires(*SCHEDULERS, scope=session_organisation)
def session_page(session_id: int):
    db = get_db()
    session = db.get(ExamSession, session_id)
    day = scheduling.local_date(session.scheduled_start_at)
    candidates = [q for q in db.execute(select(StaffQualification).order_by(StaffQualification.number)).scalars()
                  if staffing.is_valid_on(q, day)]
    staff = {s.user_id: s for s in scheduling.staff_of(db, session)}
    return _page("session.html", session=session, schedule=scheduling.schedule_of(db, session), staff=staff,
                 qualified=candidates, duties=list(Duty), start=session.scheduled_start_at.astimezone(CHINA))


@bp.post("/scheduling/sessions/<int:session_id>/staff")
@requires(*SCHEDULERS, scope=session_organisation)
def assign_staff(session_id: int):
    db = get_db()
    team = []
    for name, value in request.form.items():
        if name.startswith("duty-") and value:
            user = db.get(User, int(name[5:])) if name[5:].isdigit() else None
            if user is None:
                abort(404)
            try:
                team.append((user, Duty(value)))
            except ValueError:
                raise UserError("scheduling.bad_duty") from None
    scheduling.assign_staff(db, db.get(ExamSession, session_id), team, g.user, g.now)
    db.commit()
    flash(str(len(team)), "staff_assigned")
    return redirect(url_for("scheduling.session_page", session_id=session_id))


@bp.get("/scheduling/sessions/<int:session_id>/tickets.pdf")
@requires(*DOOR)
def session_tickets(session_id: int):
    session = _door_session(session_id)
    return _pdf(list(session.roster), f"tickets-{session.id}")


@bp.get("/scheduling/roster/<int:entry_id>/ticket.pdf")
@requires(*DOOR)
def entry_ticket(entry_id: int):
    entry = get_db().get(RosterEntry, entry_id)
    if entry is None:
        abort(404)
    _door_session(entry.exam_session_id)
    return _pdf([entry], entry.ticket_number)


@bp.get("/scheduling/my-tickets.pdf")
@login_required
def my_tickets():
    """The signed-in candidate's tickets for the scheduled sessions still to come, a page each."""
    db = get_db()
    entries = db.execute(select(RosterEntry).join(ExamSession, ExamSession.id == RosterEntry.exam_session_id)
                         .join(SessionSchedule, SessionSchedule.exam_session_id == ExamSession.id)
                         .where(RosterEntry.candidate_id == g.user.id, ExamSession.ended_at.is_(None))
                         .order_by(ExamSession.scheduled_start_at)).scalars().all()
    if not entries:
        abort(404)
    return _pdf(list(entries), f"tickets-{g.user.username}")


# ------------------------------------------------------------------------------------------ the door

@bp.get("/scheduling/sessions/<int:session_id>/check-in")
@requires(*DOOR)
def door(session_id: int):
    return _door_page(_door_session(session_id))


def _door_page(session: ExamSession, found=None, scanned=False, error=None, status=200):
    db = get_db()
    return _page("door.html", status, session=session, found=found, scanned=scanned, error=error,
                 photo=tickets.photo_data_uri(found.candidate) if found else "",
                 checks=tickets.checks_of(db, session))


@bp.post("/scheduling/sessions/<int:session_id>/check-in")
@requires(*DOOR)
def door_lookup(session_id: int):
    """Show who a scanned or typed ticket names; with ``confirm``, record that the examiner checked them (the
    ticket is read again, so the record says truthfully whether its signature was scanned)."""
    session = _door_session(session_id)
    db = get_db()
    try:
        entry, scanned = tickets.identify(db, session, request.form.get("ticket", ""), _ticket_key(), g.user, g.now)
    except tickets.TicketRefused as refused:
        db.commit()     # the refusal stays in the audit log
        return _door_page(session, error=t(refused.key), status=refused.status)
    if request.form.get("confirm") != "1":
        return _door_page(session, found=entry, scanned=scanned)
    tickets.confirm_identity(db, entry, g.user, scanned, g.now)
    db.commit()
    flash(entry.candidate.display_name, "identity_confirmed")
    return redirect(url_for("scheduling.door", session_id=session.id))
