"""The rehearsal's province: the demo province (4 stations, their examiners and supervisors, the two example
practical tasks) plus N candidates spread over R rooms. Each candidate sits a theory session in their room and
then a practical one on the lathe or the mill (alternating), so that both parts are graded and those who pass
both get a certificate."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from exam_server import demo, papers, practical
from exam_server.db import Database
from exam_server.models import (Exam, ExamPart, ExamSession, Organisation, OrganisationKind, PracticalTask, Role,
                                RoleAssignment, RosterEntry, User)
from exam_server.schema import upgrade

STATION_EXAMINERS = {"JS-NJ-01": "examiner_nj01", "JS-NJ-02": "examiner_nj02", "JS-SZ-01": "examiner_sz01",
                     "JS-SZ-02": "examiner_sz02"}
STATION_SUPERVISORS = {"JS-NJ-01": "supervisor_nj", "JS-NJ-02": "supervisor_nj", "JS-SZ-01": "supervisor_sz",
                       "JS-SZ-02": "supervisor_sz"}
EXAMS = {"lathe": "2026-CNC-T-4-12", "mill": "2026-CNC-M-4-12"}


@dataclass
class Seat:
    ticket: str
    practical_ticket: str
    id_number: str
    machine: str                # lathe | mill
    room: int


@dataclass
class Room:
    index: int
    station: str
    examiner: str
    supervisor: str
    theory: dict[str, int] = field(default_factory=dict)      # machine → theory session id
    practical: dict[str, int] = field(default_factory=dict)   # machine → practical session id


@dataclass
class Province:
    rooms: list[Room]
    seats: list[Seat]
    answers: dict[str, object]      # the demo paper's key: bots answer mostly right, so that many pass


def build(url: str, candidates: int, rooms: int, theory_s: int, practical_s: int, paper_key: bytes,
          now: datetime) -> Province:
    upgrade(url)
    database = Database(url)
    rng = random.Random(2026)
    with database.transaction() as db:
        demo.load(db, now, paper_key)
        stations = db.execute(select(Organisation).where(Organisation.kind == OrganisationKind.station)
                              .order_by(Organisation.code)).scalars().all()
        tasks = {m: db.execute(select(PracticalTask).where(PracticalTask.machine_type == m)).scalars().one()
                 for m in ("lathe", "mill")}
        exams = {m: db.execute(select(Exam).where(Exam.code == code)).scalar_one() for m, code in EXAMS.items()}
        password = db.execute(select(User.password_hash).where(User.username == "ks001")).scalar_one()
        plan = [Room(r, stations[r % len(stations)].code, STATION_EXAMINERS[stations[r % len(stations)].code],
                     STATION_SUPERVISORS[stations[r % len(stations)].code]) for r in range(rooms)]
        seats = []
        for room in plan:
            station = next(s for s in stations if s.code == room.station)
            for machine in ("lathe", "mill"):
                theory = ExamSession(exam=exams[machine], part=ExamPart.theory, organisation=station,
                                     room=f"理论机房 R{room.index:02d}", scheduled_start_at=now,
                                     duration_s=theory_s, created_at=now)
                work = ExamSession(exam=exams[machine], part=ExamPart.practical, organisation=station,
                                   room=f"实操车间 R{room.index:02d}", scheduled_start_at=now, duration_s=practical_s,
                                   created_at=now)
                db.add_all([theory, work])
                db.flush()
                room.theory[machine], room.practical[machine] = theory.id, work.id
                papers.seal_for_session(db, theory, paper(), paper_key, now)
                practical.set_pool(db, work, [tasks[machine]], None, now, seed=f"rehearsal-{work.id}")
        for n in range(candidates):
            room, machine = plan[n % rooms], ("lathe", "mill")[(n // rooms) % 2]
            station = next(s for s in stations if s.code == room.station)
            id_number = demo.make_id_number(rng, "320106", female=rng.random() < 0.3)
            user = User(username=f"rh{n:05d}", display_name=f"考生{n:05d}", id_number=id_number,
                        password_hash=password, organisation=station, created_at=now)
            user.role_assignments = [RoleAssignment(role=Role.candidate, organisation=station, granted_at=now)]
            seat = Seat(f"RT{n:08d}", f"RP{n:08d}", id_number, machine, room.index)
            db.add(RosterEntry(exam_session_id=room.theory[machine], candidate=user, seat=f"{n:05d}",
                               ticket_number=seat.ticket))
            db.add(RosterEntry(exam_session_id=room.practical[machine], candidate=user, seat=f"{n:05d}",
                               ticket_number=seat.practical_ticket))
            seats.append(seat)
    database.dispose()
    return Province(plan, seats, {item["id"]: item["key"] for item in paper()["items"]})


def paper() -> dict:
    """The demo paper marked out of 100 like a real theory paper (the demo's own totals 24 points, under the
    60-point pass mark, so nobody could pass it): the same 20 items at 5 points each."""
    demo_paper = papers.demo_paper()
    items = demo_paper["items"]
    assert 100 % len(items) == 0, "the demo paper no longer has a number of items that divides 100"
    return {**demo_paper, "items": [{**item, "points": 100 // len(items)} for item in items]}
