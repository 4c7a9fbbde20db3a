"""Scheduling (考场编排): rooms, sessions made from a published plan's approved and paid registrations, the
candidates' accounts, the seat draw (抽签) and the staff of each session.

The seat draw is reproducible by anyone from its recorded seed (no library's random generator, whose algorithm
may change between versions): the room's seats are ordered by SHA-256 of ``"<seed>:<seat number>"`` (hex,
ascending), and the registrations, taken in the order of their ids, get those seats in that order.

Ticket numbers (准考证号) have 16 digits: the session's local date ``YYMMDD``, the part (1 theory, 2 practical),
the session id on 6 digits and the seat on 3, e.g. ``2612151000042007`` = 15 Dec 2026, theory, session 42,
seat 7. They are unique because the session id is.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import audit, practical, staffing
from .errors import UserError
from .models import (Duty, Exam, ExamPart, ExamPlan, ExamSession, JobType, MachineKind, Organisation,
                     PracticalTask, QualificationRole, Registration, Role, RoleAssignment, Room, RosterEntry,
                     SessionSchedule, SessionStaff, User)

BEIJING = timedelta(hours=8)               # plan dates and ticket dates are local dates in China
MIN_PRACTICAL_EXAMINERS = 3                # 技能考场 ≥ 3 考评员, one of them the 考评组长
MAX_SEATS = 999
# The machine a job type's practical part is done on, by occupation code; anything else uses a computer room.
PRACTICAL_MACHINE = {"6-18-01-01": MachineKind.lathe,     # 车工 (数控车工)
                     "6-18-01-02": MachineKind.mill}      # 铣工 (数控铣工, 加工中心操作工)
EXAMINER_DUTIES = (Duty.examiner, Duty.chief_examiner)


def local_date(moment: datetime) -> date:
    return (moment + BEIJING).date()


# ---- rooms --------------------------------------------------------------------------------------------------

def add_room(db: Session, station: Organisation, name: str, machine: MachineKind, seats: int, actor: User,
             now: datetime) -> Room:
    name = name.strip()
    if not name or len(name) > 100:
        raise UserError("scheduling.room_name")
    if not 1 <= seats <= MAX_SEATS:
        raise UserError("scheduling.room_seats", most=MAX_SEATS)
    taken = db.execute(select(Room.id).where(Room.station_id == station.id, Room.name == name)).first()
    if taken:
        raise UserError("scheduling.room_exists", 409, name=name)
    room = Room(station=station, name=name, machine=machine, seats=seats, created_at=now, created_by_id=actor.id)
    db.add(room)
    db.flush()
    audit.record(db, "room_added", actor=actor, object_type="room", object_id=room.id, now=now,
                 data={"station": station.code, "name": name, "machine": machine.value, "seats": seats})
    return room


def retire_room(db: Session, room: Room, actor: User, now: datetime) -> None:
    if room.retired_at is None:
        room.retired_at = now
        audit.record(db, "room_retired", actor=actor, object_type="room", object_id=room.id, now=now)


def rooms_at(db: Session, stations: list[Organisation]) -> list[Room]:
    ids = [s.id for s in stations]
    return list(db.execute(select(Room).where(Room.station_id.in_(ids), Room.retired_at.is_(None))
                           .order_by(Room.station_id, Room.name)).scalars()) if ids else []


def machine_for(part: ExamPart, job_type: JobType) -> MachineKind:
    if part is ExamPart.theory:
        return MachineKind.computer
    return PRACTICAL_MACHINE.get(job_type.occupation.code, MachineKind.computer)


# ---- sessions, accounts, seat draw ----------------------------------------------------------------------------

def waiting(db: Session, plan: ExamPlan, station: Organisation, part: ExamPart) -> list[Registration]:
    """Approved, fee-paid registrations at the station for the part, not yet seated in a session of the plan."""
    sits = Registration.sits_theory if part is ExamPart.theory else Registration.sits_practical
    seated = (select(RosterEntry.candidate_id).join(ExamSession, ExamSession.id == RosterEntry.exam_session_id)
              .join(SessionSchedule, SessionSchedule.exam_session_id == ExamSession.id)
              .where(SessionSchedule.plan_id == plan.id, ExamSession.part == part))
    return list(db.execute(
        select(Registration).where(Registration.plan_id == plan.id, Registration.station_id == station.id,
                                   Registration.approved.is_(True), Registration.fee_paid_at.is_not(None),
                                   sits.is_(True),
                                   Registration.candidate_id.is_(None) | Registration.candidate_id.not_in(seated))
        .order_by(Registration.id)).scalars())


def seat_order(seed: str, seats: int) -> list[int]:
    """The room's seat numbers in drawn order (see the module's docstring)."""
    return sorted(range(1, seats + 1), key=lambda n: hashlib.sha256(f"{seed}:{n}".encode()).hexdigest())


def ticket_number(session: ExamSession, seat: int) -> str:
    part = 1 if session.part is ExamPart.theory else 2
    return f"{local_date(session.scheduled_start_at):%y%m%d}{part}{session.id:06d}{seat:03d}"


def schedule_session(db: Session, plan: ExamPlan, station: Organisation, part: ExamPart, room: Room,
                     start_at: datetime, duration_s: int, actor: User, now: datetime,
                     seed: Optional[str] = None) -> ExamSession:
    """Make one session in a room for the registrations still waiting (as many as the room seats, by
    registration id), create the candidates' accounts and draw their seats. Run again with another room for
    the rest."""
    _check_session(plan, station, part, room, start_at, duration_s)
    seed = (seed or "").strip() or secrets.token_hex(8)
    if len(seed) > 64:
        raise UserError("scheduling.bad_seed")
    registrations = waiting(db, plan, station, part)[:room.seats]
    if not registrations:
        raise UserError("scheduling.no_candidates")
    session = ExamSession(exam=_exam_for(db, plan, now), part=part, organisation=station, room=room.name,
                          scheduled_start_at=start_at, duration_s=duration_s, created_at=now)
    db.add(session)
    db.flush()
    seats = seat_order(seed, room.seats)
    drawn = {}
    for registration, seat in zip(registrations, seats):
        candidate = candidate_account(db, registration, actor, now)
        entry = RosterEntry(exam_session=session, candidate=candidate, seat=f"{seat:02d}",
                            ticket_number=ticket_number(session, seat))
        db.add(entry)
        drawn[registration.id] = entry.seat
    db.add(SessionSchedule(exam_session_id=session.id, plan_id=plan.id, room_id=room.id, seed=seed, drawn_at=now,
                           drawn_by_id=actor.id))
    db.flush()
    _attach_tasks(db, session, room, actor, now)
    audit.record(db, "session_scheduled", actor=actor, object_type="exam_session", object_id=session.id, now=now,
                 data={"plan": plan.code, "part": part.value, "room": room.id, "start": start_at.isoformat(),
                       "duration_s": duration_s, "seed": seed, "seats": drawn})
    return session


def _check_session(plan: ExamPlan, station: Organisation, part: ExamPart, room: Room, start_at: datetime,
                   duration_s: int) -> None:
    if plan.published_at is None:
        raise UserError("scheduling.plan_not_published")
    if station.id not in {s.station_id for s in plan.stations}:
        raise UserError("scheduling.station_not_in_plan")
    if room.station_id != station.id or room.retired_at is not None:
        raise UserError("scheduling.room_not_at_station")
    if room.machine is not machine_for(part, plan.job_type):
        raise UserError("scheduling.room_wrong_machine", machine=machine_for(part, plan.job_type).value)
    if not plan.exam_from <= local_date(start_at) <= plan.exam_to:
        raise UserError("scheduling.outside_plan_dates", start=plan.exam_from.isoformat(),
                        end=plan.exam_to.isoformat())
    if not 30 * 60 <= duration_s <= 600 * 60:
        raise UserError("scheduling.bad_duration")


def _attach_tasks(db: Session, session: ExamSession, room: Room, actor: User, now: datetime) -> None:
    """A practical session draws from every active bank task of its job type, level and machine (none: the pool
    stays empty until tasks are activated). A theory paper is assembled and sealed on the bank's pages."""
    if session.part is not ExamPart.practical:
        return
    tasks = list(db.execute(select(PracticalTask).where(
        PracticalTask.activated_at.is_not(None), PracticalTask.retired_at.is_(None),
        PracticalTask.job_type_id == session.exam.job_type_id,
        PracticalTask.level == session.exam.level, PracticalTask.machine_type == room.machine.value)).scalars())
    if tasks:
        practical.set_pool(db, session, tasks, actor, now)


def _exam_for(db: Session, plan: ExamPlan, now: datetime) -> Exam:
    """The plan's exam (one per plan, shared by its parts and sessions)."""
    exam = db.execute(select(Exam).where(Exam.code == plan.code)).scalar_one_or_none()
    if exam is None:
        exam = Exam(code=plan.code, name=plan.name, job_type_id=plan.job_type_id, level=plan.level, created_at=now)
        db.add(exam)
    return exam


def candidate_account(db: Session, registration: Registration, actor: User, now: datetime) -> User:
    """The registration's candidate account, made on first need from the registration (name, ID number,
    photo). Its password is unusable on purpose: candidates sign in with ticket + ID number + room PIN."""
    if registration.candidate is not None:
        return registration.candidate
    id_number = registration.id_number.strip().upper()
    if len(id_number) > 18:
        raise UserError("scheduling.id_too_long", name=registration.name)
    user = db.execute(select(User).where(User.id_number == id_number)).scalar_one_or_none()
    if user is not None and not any(a.role is Role.candidate for a in user.role_assignments):
        raise UserError("scheduling.id_on_staff_account", name=registration.name)
    if user is None:
        user = User(username=f"ks-{id_number.lower()}", display_name=registration.name, id_number=id_number,
                    password_hash="!" + secrets.token_hex(16), organisation_id=registration.station_id,
                    photo=registration.photo, photo_type=registration.photo_type, created_at=now)
        user.role_assignments = [RoleAssignment(role=Role.candidate, organisation_id=registration.station_id,
                                                granted_at=now, granted_by_id=actor.id)]
        db.add(user)
        db.flush()
        audit.record(db, "candidate_account_created", actor=actor, object_type="user", object_id=user.id, now=now,
                     data={"registration": registration.id, "username": user.username})
    registration.candidate = user
    return user


def schedule_of(db: Session, session: ExamSession) -> Optional[SessionSchedule]:
    return db.execute(select(SessionSchedule).where(SessionSchedule.exam_session_id == session.id)
                      ).scalar_one_or_none()


def scheduled_sessions(db: Session, plan: ExamPlan, stations: list[Organisation]) -> list[ExamSession]:
    ids = [s.id for s in stations]
    return list(db.execute(select(ExamSession).join(SessionSchedule, SessionSchedule.exam_session_id == ExamSession.id)
                           .where(SessionSchedule.plan_id == plan.id, ExamSession.organisation_id.in_(ids))
                           .order_by(ExamSession.scheduled_start_at, ExamSession.id)).scalars())


# ---- staff ------------------------------------------------------------------------------------------------

def assign_staff(db: Session, session: ExamSession, team: list[tuple[User, Duty]], actor: User,
                 now: datetime) -> list[SessionStaff]:
    """Set the session's staff as a whole (replacing any earlier team) before check-in opens. Every examiner
    is qualified for the job type and level on the session's date and not from the session's station; nobody
    works two sessions at once; a
    practical room has at least three examiners; every session has exactly one chief and a supervisor."""
    if session.check_in_opened_at is not None:
        raise UserError("scheduling.staff_locked", 409)
    if len({user.id for user, _ in team}) != len(team):
        raise UserError("scheduling.staff_duplicate")
    for user, duty in team:
        _check_member(db, session, user, duty)
    examiners = [u for u, d in team if d in EXAMINER_DUTIES]
    chiefs = [u for u, d in team if d is Duty.chief_examiner]
    if len(chiefs) != 1:
        raise UserError("scheduling.one_chief", count=len(chiefs))
    if session.part is ExamPart.practical and len(examiners) < MIN_PRACTICAL_EXAMINERS:
        raise UserError("scheduling.too_few_examiners", count=len(examiners), least=MIN_PRACTICAL_EXAMINERS)
    if not any(d is Duty.supervisor for _, d in team):
        raise UserError("scheduling.no_supervisor")
    db.execute(delete(SessionStaff).where(SessionStaff.exam_session_id == session.id))
    rows = [SessionStaff(exam_session_id=session.id, user_id=user.id, duty=duty, assigned_at=now,
                         assigned_by_id=actor.id) for user, duty in team]
    db.add_all(rows)
    db.flush()
    audit.record(db, "session_staff_assigned", actor=actor, object_type="exam_session", object_id=session.id,
                 now=now, data={"team": {user.username: duty.value for user, duty in team}})
    return rows


def _check_member(db: Session, session: ExamSession, user: User, duty: Duty) -> None:
    day, exam = local_date(session.scheduled_start_at), session.exam
    if any(other.id != session.id and _overlap(other, session) for _, other in staffing.history(db, user)):
        raise UserError("scheduling.staff_busy", name=user.display_name)
    held = staffing.qualifications_of(db, user)
    if duty is Duty.supervisor:
        if not any(q.role is QualificationRole.supervisor and staffing.is_valid_on(q, day) for q in held):
            raise UserError("scheduling.supervisor_unqualified", name=user.display_name)
        return
    covering = [q for q in held
                if q.role is QualificationRole.examiner and staffing.covers(q, exam.job_type_id, exam.level)]
    if not covering:
        raise UserError("scheduling.examiner_unqualified", name=user.display_name)
    valid = [q for q in covering if staffing.is_valid_on(q, day)]
    if not valid:
        raise UserError("scheduling.examiner_expired", name=user.display_name, day=day.isoformat())
    if session.organisation_id in {user.organisation_id, *(q.home_station_id for q in valid)}:
        raise UserError("scheduling.examiner_home_station", name=user.display_name)


def _overlap(a: ExamSession, b: ExamSession) -> bool:
    def end(s: ExamSession) -> datetime:
        return s.scheduled_start_at + timedelta(seconds=s.duration_s)
    return a.scheduled_start_at < end(b) and b.scheduled_start_at < end(a)


def staff_of(db: Session, session: ExamSession) -> list[SessionStaff]:
    return list(db.execute(select(SessionStaff).where(SessionStaff.exam_session_id == session.id)
                           .order_by(SessionStaff.id)).scalars())


def works_session(db: Session, session: ExamSession, user: User, duties=EXAMINER_DUTIES) -> bool:
    return db.execute(select(SessionStaff.id).where(SessionStaff.exam_session_id == session.id,
                                                    SessionStaff.user_id == user.id,
                                                    SessionStaff.duty.in_(duties))).first() is not None
