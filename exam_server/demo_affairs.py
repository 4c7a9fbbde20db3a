"""The demo's exam affairs (考务), plan to certificate.

`load` (called by demo.load) takes a 数控车工 四级 plan through the use cases as the province, the station and the
centre would on the pages: published plan, four registrations at 苏州工业园区职业技能鉴定所 (JS-SZ-02) — approved,
paid, with placeholder photos —, the staff registry, two rooms and two scheduled sessions (theory, practical)
staffed by rotated examiners from other stations. `cycle` (``examctl demo cycle``) then runs the exam: check-in,
answers, grading, release, the centre's confirmation and the certificates, which the public lookup finds.

Everything is audited by the use cases themselves; the names and ID numbers are made up and belong to nobody.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import (audit, certificates, delivery, grading_jobs, id_numbers, papers, photos, plans, practical,
               registration, scheduling, scoring, staffing)
from .accounts import find_user
from .db import Database
from .errors import UserError
from .models import (Duty, ExamPart, ExamPlan, ExamSession, JobType, JobTypeLevel, Level, MachineKind,
                     Organisation, QualificationRole, Result, SessionSchedule, TraceEvent, User)

CHINA = ZoneInfo("Asia/Shanghai")
PLAN_CODE = "JS-2026-CNCT-4-DEMO"
STATION = "JS-SZ-02"
REGION = "320571"                      # 苏州工业园区
SEEDS = {ExamPart.theory: "demo-cycle-theory", ExamPart.practical: "demo-cycle-practical"}
# (name, born, sequence (odd: male), theory items answered right of 20): three pass, one fails the theory.
APPLICANTS = [("欧阳明轩", date(1996, 3, 14), 123, 20), ("上官雨桐", date(1999, 7, 2), 246, 18),
              ("司马文涛", date(1993, 11, 25), 371, 16), ("诸葛晓峰", date(2001, 5, 9), 415, 9)]
# (username, qualification number, role, home station): nobody from JS-SZ-02 (rotation).
QUALIFIED = [("examiner_nj01", "DEMO-KPY-0001", QualificationRole.examiner, "JS-NJ-01"),
             ("examiner_nj02", "DEMO-KPY-0002", QualificationRole.examiner, "JS-NJ-02"),
             ("examiner_sz01", "DEMO-KPY-0003", QualificationRole.examiner, "JS-SZ-01"),
             ("supervisor_sz", "DEMO-DDY-0001", QualificationRole.supervisor, "JS-SZ")]
TEAMS = {ExamPart.theory: [("examiner_nj01", Duty.chief_examiner), ("supervisor_sz", Duty.supervisor)],
         ExamPart.practical: [("examiner_nj01", Duty.chief_examiner), ("examiner_nj02", Duty.examiner),
                              ("examiner_sz01", Duty.examiner), ("supervisor_sz", Duty.supervisor)]}
ROOMS = {ExamPart.theory: ("理论机房 A", MachineKind.computer, 30),
         ExamPart.practical: ("数控车间 A", MachineKind.lathe, 10)}
STARTS = {ExamPart.theory: (time(9, 0), 120), ExamPart.practical: (time(13, 30), 180)}   # Beijing time, minutes
TRACE = Path(__file__).resolve().parent.parent / "examples" / "tasks" / "lathe_zj01" / "trace_reference.jsonl"


def _org(db: Session, code: str) -> Organisation:
    return db.execute(select(Organisation).where(Organisation.code == code)).scalar_one()


def _job_type(db: Session) -> JobType:
    return db.execute(select(JobType).where(JobType.name == "数控车工")).scalar_one()


def id_number_of(born: date, sequence: int) -> str:
    return id_numbers.make_resident_id(REGION, born, sequence)


def cycle_paper() -> dict:
    """The demo theory paper at 5 points an item (20 items, 100 points), so that its score is the part score."""
    paper = papers.demo_paper()
    return {**paper, "id": paper["id"] + "-100", "items": [{**item, "points": 5} for item in paper["items"]]}


# ------------------------------------------------------------------------------------------ load

def load(db: Session, now: datetime, paper_key: bytes) -> list[ExamSession]:
    """Plan, registrations, registry, rooms and the two staffed sessions, in the caller's transaction (after
    the province, the bank and the practical tasks exist). Returns the sessions (theory, practical)."""
    admin, manager, centre = (find_user(db, n) for n in ("admin", "sz02_manager", "sz_admin"))
    station, job_type, today = _org(db, STATION), _job_type(db), plans.local_today(now)
    plan = plans.create_plan(db, _org(db, "JS"), plans.PlanInput(
        code=PLAN_CODE, name="2026 年 数控车工 四级/中级工 演示鉴定计划", job_type_id=job_type.id,
        level=int(Level.intermediate), registration_opens_on=today, registration_closes_on=today,
        exam_from=today + timedelta(days=1), exam_to=today + timedelta(days=7), theory_fee_fen=15000,
        practical_fee_fen=30000, stations=[(station.id, 20)]), admin, now)
    plans.publish(db, plan, admin, now)
    for n, (name, born, sequence, _) in enumerate(APPLICANTS, start=1):
        raw = {"id_type": "resident_id", "id_number": id_number_of(born, sequence), "name": name,
               "education": "senior_secondary", "eligibility_basis": "取得五级证书后从事本职业 4 年",
               "employer": "苏州工业园区精密机械有限公司"}
        entered = registration.register(db, plan, station, raw, photos.placeholder_png(100 + n), manager, now)
        registration.review(db, entered, True, "", centre, now)
        registration.mark_paid(db, entered, centre, now)
    for username, number, role, home in QUALIFIED:
        staffing.add_qualification(db, find_user(db, username), number, role, _org(db, home),
                                   today - timedelta(days=365), today + timedelta(days=3 * 365),
                                   [staffing.Coverage(job_type, int(Level.senior))], admin, now)
    sessions = [_session(db, plan, station, part, manager, now) for part in (ExamPart.theory, ExamPart.practical)]
    papers.seal_for_session(db, sessions[0], cycle_paper(), paper_key, now)
    audit.record(db, "demo_affairs_loaded", actor_name="examctl", object_type="exam_plan", object_id=plan.id,
                 now=now, data={"sessions": [s.id for s in sessions]})
    return sessions


def _session(db: Session, plan: ExamPlan, station: Organisation, part: ExamPart, manager: User,
             now: datetime) -> ExamSession:
    name, machine, seats = ROOMS[part]
    room = scheduling.add_room(db, station, name, machine, seats, manager, now)
    clock, minutes = STARTS[part]
    start = datetime.combine(plan.exam_from, clock, CHINA).astimezone(now.tzinfo)
    session = scheduling.schedule_session(db, plan, station, part, room, start, minutes * 60, manager, now,
                                          seed=SEEDS[part])
    scheduling.assign_staff(db, session, [(find_user(db, u), duty) for u, duty in TEAMS[part]], manager, now)
    return session


def sessions_of(db: Session) -> dict[ExamPart, ExamSession]:
    rows = db.execute(select(ExamSession).join(SessionSchedule, SessionSchedule.exam_session_id == ExamSession.id)
                      .join(ExamPlan, ExamPlan.id == SessionSchedule.plan_id)
                      .where(ExamPlan.code == PLAN_CODE)).scalars()
    return {s.part: s for s in rows}


# ------------------------------------------------------------------------------------------ cycle

@dataclass
class CycleSummary:
    candidates: int
    passed: int
    certificates: list[tuple[str, str]]        # (number, holder name)


def cycle(database: Database, now: datetime, paper_key: bytes, cert_key,
          worker: str = "demo-cycle") -> CycleSummary:
    """Run the scripted exam on the demo sessions (one transaction per step, as on the pages): sit both
    parts, grade, release, confirm, issue. The practical candidates replay the task's reference trace, so
    their times run on from ``now``; every later step is dated after the last submission."""
    with database.transaction() as db:
        sessions = sessions_of(db)
        if set(sessions) != {ExamPart.theory, ExamPart.practical}:
            raise UserError("demo.cycle_not_loaded")
        if sessions[ExamPart.theory].check_in_opened_at is not None:
            raise UserError("demo.cycle_already_run", 409)
        theory, practical_session = sessions[ExamPart.theory].id, sessions[ExamPart.practical].id
        _sit_theory(db, db.get(ExamSession, theory), paper_key, now)
    with database.transaction() as db:
        later = _sit_practical(db, db.get(ExamSession, practical_session), paper_key, now)
    clock: Callable[[], datetime] = lambda: later       # noqa: E731 - grading runs on the cycle's time
    grading_jobs.run_pending(database, worker, clock)
    with database.transaction() as db:
        _mark_manual_items(db, db.get(ExamSession, practical_session), later)
    grading_jobs.run_pending(database, worker, clock)
    with database.transaction() as db:
        for session_id in (theory, practical_session):
            session = db.get(ExamSession, session_id)
            scoring.release(db, session, _chief(db, session), later)
        return _certify(db, db.get(ExamSession, theory), later, cert_key)


def _chief(db: Session, session: ExamSession) -> User:
    return next(db.get(User, s.user_id) for s in scheduling.staff_of(db, session) if s.duty is Duty.chief_examiner)


def _open(db: Session, session: ExamSession, paper_key: bytes, now: datetime) -> None:
    """The chief opens check-in; every candidate checks in with ticket, ID number and PIN; the chief starts."""
    chief = _chief(db, session)
    pin = delivery.open_check_in(db, session, chief, now)
    for entry in session.roster:
        delivery.check_in(db, entry.ticket_number, entry.candidate.id_number, pin, now)
    delivery.start_session(db, session, chief, now, paper_key)


def _answers(right: int) -> dict:
    """The first ``right`` items answered with their keys; the others left blank."""
    return {item["id"]: item["key"] for item in cycle_paper()["items"][:right]}


def _sit_theory(db: Session, session: ExamSession, paper_key: bytes, now: datetime) -> None:
    _open(db, session, paper_key, now)
    right = {id_number_of(born, seq): n for _, born, seq, n in APPLICANTS}
    for entry in session.roster:
        attempt = delivery.start_attempt(db, entry, now)
        for seq, (item, value) in enumerate(sorted(_answers(right[entry.candidate.id_number]).items()), start=1):
            delivery.apply_save(db, attempt, delivery.SaveOp(uuid.uuid4().hex, seq, item, value), now)
        delivery.submit(db, attempt, entry.candidate, now)
        scoring.on_attempt_closed(db, attempt, now)
    delivery.end_session(db, session, _chief(db, session), now)


def _sit_practical(db: Session, session: ExamSession, paper_key: bytes, now: datetime) -> datetime:
    """Every candidate machines the part with the task's reference program (its recorded trace). Returns
    when the last one submitted."""
    from simulators.core import trace

    events = trace.parse_jsonl(TRACE.read_text(encoding="utf-8"))
    _open(db, session, paper_key, now)
    end = now
    for entry in session.roster:
        attempt = delivery.start_attempt(db, entry, now)
        practical.assign_task(db, attempt, now)
        start_ms = int(attempt.started_at.timestamp() * 1000)
        db.add_all(TraceEvent(attempt_id=attempt.id, seq=e["seq"], op_id=uuid.uuid4().hex, type=e["type"],
                              payload=json.dumps(e["payload"]), t_client=e["t_client"],
                              t_server=start_ms + e["t_client"], received_at=now) for e in events)
        db.flush()
        end = attempt.started_at + timedelta(milliseconds=events[-1]["t_client"] + 1000)
        delivery.submit(db, attempt, entry.candidate, end)
        scoring.on_attempt_closed(db, attempt, end)
    delivery.end_session(db, session, _chief(db, session), end)
    return end + timedelta(minutes=1)


def _mark_manual_items(db: Session, session: ExamSession, now: datetime) -> None:
    """Two examiners of the room agree on each manual item at full points (2 of 3 must agree)."""
    examiners = [db.get(User, s.user_id) for s in scheduling.staff_of(db, session)
                 if s.duty in scheduling.EXAMINER_DUTIES][:2]
    for attempt in scoring.session_attempts(db, session):
        for item in scoring.manual_items(db, attempt):
            for examiner in examiners:
                scoring.add_mark(db, attempt, examiner, item["id"], item["points"], "", now)


def _certify(db: Session, theory: ExamSession, now: datetime, cert_key) -> CycleSummary:
    """The centre confirms every candidate's result and issues the passed ones' certificates."""
    centre = find_user(db, "sz_admin")
    exam = theory.exam
    level = db.execute(select(JobTypeLevel).where(JobTypeLevel.job_type_id == exam.job_type_id,
                                                  JobTypeLevel.level == exam.level)).scalar_one()
    issued = []
    for entry in theory.roster:
        result = db.execute(select(Result).where(Result.candidate_id == entry.candidate_id,
                                                 Result.job_type_level_id == level.id)).scalar_one()
        certificates.confirm(db, result, centre, now)
        if result.passed_at is not None:
            cert = certificates.issue(db, result, centre, now, cert_key)
            issued.append((cert.number, cert.holder_name))
    return CycleSummary(len(theory.roster), len(issued), issued)

