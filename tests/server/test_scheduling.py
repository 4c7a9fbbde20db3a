"""Scheduling: sessions from approved, paid registrations with candidate accounts, a reproducible seat draw,
documented ticket numbers, rooms matched to the part, and the staff rules (qualified, unexpired, not from the
station, ≥3 examiners in a practical room with one chief, a supervisor), refused in the user's language."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from exam_server import practical, scheduling, staffing
from exam_server.accounts import find_user
from exam_server.demo import id_check_character
from exam_server.errors import UserError
from exam_server.models import (AuditEvent, Duty, ExamPart, ExamPlan, JobType, MachineKind, Organisation,
                                PlanStation, PracticalTask, QualificationRole, Registration, RosterEntry, SessionStaff,
                                utcnow)
from exam_server.photos import placeholder_png

START = datetime(2026, 12, 15, 1, 0, tzinfo=timezone.utc)       # 09:00 Beijing time on 15 Dec 2026
VALID = (date(2025, 1, 1), date(2028, 12, 31))


def org(db, code: str) -> Organisation:
    return db.execute(select(Organisation).where(Organisation.code == code)).scalar_one()


def job_type(db, name: str = "数控车工") -> JobType:
    return db.execute(select(JobType).where(JobType.name == name)).scalar_one()


def id_number(serial: int) -> str:
    first17 = f"320106199003{serial % 28 + 1:02d}{serial:03d}"
    return first17 + id_check_character(first17)


def make_plan(db, code: str = "2026-12-CNC-4", published: bool = True, station: str = "JS-NJ-01") -> ExamPlan:
    admin = find_user(db, "admin")
    plan = ExamPlan(code=code, name="2026 年 12 月 数控车工 四级", organisation_id=org(db, "JS").id,
                    job_type_id=job_type(db).id, level=4, registration_opens_on=date(2026, 10, 1),
                    registration_closes_on=date(2026, 11, 30), exam_from=date(2026, 12, 14),
                    exam_to=date(2026, 12, 20), created_at=utcnow(), created_by_id=admin.id,
                    published_at=utcnow() if published else None)
    plan.stations = [PlanStation(station_id=org(db, station).id, capacity=50)]
    db.add(plan)
    db.flush()
    return plan


def register(db, plan: ExamPlan, serial: int, approved=True, paid=True, station: str = "JS-NJ-01",
             number: str | None = None, theory=True, practical=True) -> Registration:
    manager, now = find_user(db, "nj01_manager"), utcnow()
    registration = Registration(
        plan_id=plan.id, station_id=org(db, station).id, id_type="resident_id", id_number=number or id_number(serial),
        name=f"考生{serial:02d}", sex="M", education="高中", eligibility_basis="取得五级证书后从事本职业 4 年",
        photo=placeholder_png(serial), photo_type="image/png", submitted_at=now, submitted_by_id=manager.id,
        reviewed_at=now if approved is not None else None, approved=approved, fee_paid_at=now if paid else None,
        sits_theory=theory, sits_practical=practical)
    db.add(registration)
    db.flush()
    return registration


def room(db, machine: MachineKind, seats: int = 10, name: str | None = None, station: str = "JS-NJ-01"):
    return scheduling.add_room(db, org(db, station), name or f"{machine.value} 1", machine, seats,
                               find_user(db, "nj01_manager"), utcnow())


def qualify(db, username: str, role=QualificationRole.examiner, home: str | None = None, level: int = 4,
            valid=VALID, number: str | None = None):
    user = find_user(db, username)
    coverage = [staffing.Coverage(job_type(db), level)] if role is QualificationRole.examiner else []
    return staffing.add_qualification(db, user, number or f"Q-{username}", role,
                                      home and org(db, home) or user.organisation, valid[0], valid[1], coverage,
                                      find_user(db, "admin"), utcnow())


def practical_session(db, registrations: int = 3, seed: str = "seed-1"):
    plan = make_plan(db)
    for serial in range(1, registrations + 1):
        register(db, plan, serial)
    return scheduling.schedule_session(db, plan, org(db, "JS-NJ-01"), ExamPart.practical,
                                       room(db, MachineKind.lathe), START, 180 * 60, find_user(db, "nj01_manager"),
                                       utcnow(), seed=seed)


def qualified_team(db):
    """Three examiners from other stations and a supervisor, all qualified."""
    for name in ("examiner_nj02", "examiner_sz01", "examiner_sz02"):
        qualify(db, name)
    qualify(db, "supervisor_nj", QualificationRole.supervisor)
    return [(find_user(db, "examiner_nj02"), Duty.chief_examiner), (find_user(db, "examiner_sz01"), Duty.examiner),
            (find_user(db, "examiner_sz02"), Duty.examiner), (find_user(db, "supervisor_nj"), Duty.supervisor)]


# ------------------------------------------------------------------------------------------ sessions

def test_only_approved_paid_registrations_are_seated_with_new_candidate_accounts(database):
    with database.transaction() as db:
        plan = make_plan(db)
        seated = [register(db, plan, 1), register(db, plan, 2), register(db, plan, 3)]
        register(db, plan, 4, paid=False)                 # approved, fee not paid
        register(db, plan, 5, approved=False)             # rejected
        register(db, plan, 6, approved=None)              # not reviewed yet
        register(db, plan, 7, practical=False)            # resit of the theory only
        session = scheduling.schedule_session(db, plan, org(db, "JS-NJ-01"), ExamPart.practical,
                                              room(db, MachineKind.lathe), START, 180 * 60,
                                              find_user(db, "nj01_manager"), utcnow(), seed="x")
        roster = {e.candidate.id_number: e for e in session.roster}
        assert set(roster) == {r.id_number for r in seated}
        for serial, registration in enumerate(seated, start=1):
            candidate = registration.candidate
            assert candidate.display_name == f"考生{serial:02d}" and candidate.photo == placeholder_png(serial)
            assert candidate.organisation.code == "JS-NJ-01" and candidate.password_hash.startswith("!")
            assert [a.role.value for a in candidate.role_assignments] == ["candidate"]
            # 15 Dec 2026 (Beijing), practical = 2, the session id on 6 digits, the seat on 3
            assert roster[candidate.id_number].ticket_number == \
                f"2612152{session.id:06d}{int(roster[candidate.id_number].seat):03d}"
        assert session.exam.code == plan.code and session.room == "lathe 1" and session.duration_s == 10800
        # the demo's active 数控车工 level-4 lathe task becomes the session's pool
        pool = [db.get(PracticalTask, p.task_id) for p in practical.part_of(db, session).pool]
        assert pool and {(t.job_type.name, t.level, t.machine_type) for t in pool} == {("数控车工", 4, "lathe")}
        event = db.execute(select(AuditEvent).where(AuditEvent.action == "session_scheduled")).scalar_one()
        assert '"seed":"x"' in event.data


def test_the_seat_draw_follows_the_documented_hash_order():
    # seats 1..4 sorted by SHA-256("demo:<n>") in hex
    expected = sorted(range(1, 5), key=lambda n: hashlib.sha256(f"demo:{n}".encode()).hexdigest())
    assert scheduling.seat_order("demo", 4) == expected
    assert sorted(expected) == [1, 2, 3, 4]


def test_the_same_seed_gives_the_same_draw_and_another_seed_another(database):
    with database.transaction() as db:
        manager, station, lathe = find_user(db, "nj01_manager"), org(db, "JS-NJ-01"), room(db, MachineKind.lathe, 30)
        draws = []
        for code, seed in (("P-A", "2026-12-draw"), ("P-B", "2026-12-draw"), ("P-C", "another seed")):
            plan = make_plan(db, code)
            for serial in range(1, 11):
                register(db, plan, serial)
            session = scheduling.schedule_session(db, plan, station, ExamPart.practical, lathe, START, 7200, manager,
                                                  utcnow(), seed=seed)
            by_person = {e.candidate.id_number: e.seat for e in session.roster}
            draws.append([by_person[id_number(s)] for s in range(1, 11)])
        assert draws[0] == draws[1]
        assert draws[0] != draws[2]
        # the i-th registration (by id) takes the i-th drawn seat
        assert draws[0] == [f"{n:02d}" for n in scheduling.seat_order("2026-12-draw", 30)[:10]]


def test_a_second_room_takes_the_candidates_the_first_could_not_seat(database):
    with database.transaction() as db:
        plan, manager, station = make_plan(db), find_user(db, "nj01_manager"), org(db, "JS-NJ-01")
        for serial in range(1, 4):
            register(db, plan, serial)
        first = scheduling.schedule_session(db, plan, station, ExamPart.theory, room(db, MachineKind.computer, 2),
                                            START, 7200, manager, utcnow())
        second = scheduling.schedule_session(db, plan, station, ExamPart.theory,
                                             room(db, MachineKind.computer, 5, "机房 2"), START, 7200, manager,
                                             utcnow())
        assert (len(first.roster), len(second.roster)) == (2, 1)
        with pytest.raises(UserError) as refused:
            scheduling.schedule_session(db, plan, station, ExamPart.theory, room(db, MachineKind.computer, 5, "机房 3"),
                                        START, 7200, manager, utcnow())
        assert refused.value.key == "scheduling.no_candidates"


@pytest.mark.parametrize("case, key", [
    ("theory_in_lathe_room", "scheduling.room_wrong_machine"),
    ("practical_in_mill_room", "scheduling.room_wrong_machine"),
    ("unpublished", "scheduling.plan_not_published"),
    ("outside_dates", "scheduling.outside_plan_dates"),
    ("other_station_room", "scheduling.room_not_at_station"),
])
def test_sessions_are_refused_for_the_wrong_room_plan_or_day(database, case, key):
    with database.transaction() as db:
        plan = make_plan(db, published=case != "unpublished")
        register(db, plan, 1)
        part, machine, start, station = ExamPart.practical, MachineKind.lathe, START, "JS-NJ-01"
        if case == "theory_in_lathe_room":
            part = ExamPart.theory
        elif case == "practical_in_mill_room":
            machine = MachineKind.mill
        elif case == "outside_dates":
            start = datetime(2026, 12, 20, 16, 30, tzinfo=timezone.utc)   # 21 Dec 00:30 in Beijing: after exam_to
        elif case == "other_station_room":
            station = "JS-NJ-02"
        with pytest.raises(UserError) as refused:
            scheduling.schedule_session(db, plan, org(db, "JS-NJ-01"), part, room(db, machine, station=station),
                                        start, 7200, find_user(db, "nj01_manager"), utcnow())
        assert refused.value.key == key


# ------------------------------------------------------------------------------------------ staff rules

def test_a_qualified_rotated_team_is_assigned_and_audited(database):
    with database.transaction() as db:
        session = practical_session(db)
        rows = scheduling.assign_staff(db, session, qualified_team(db), find_user(db, "nj01_manager"), utcnow())
        assert sorted(r.duty.value for r in rows) == ["chief_examiner", "examiner", "examiner", "supervisor"]
        assert db.execute(select(AuditEvent).where(AuditEvent.action == "session_staff_assigned")).scalar_one()
        history = staffing.history(db, find_user(db, "examiner_sz01"))
        assert [(row.duty, s.id) for row, s in history] == [(Duty.examiner, session.id)]


def _refusal(db, session, team):
    with pytest.raises(UserError) as refused:
        scheduling.assign_staff(db, session, team, find_user(db, "nj01_manager"), utcnow())
    return refused.value


def test_staff_rules_refuse_each_violation(database):
    with database.transaction() as db:
        session = practical_session(db)
        team = qualified_team(db)
        nj01, sz01 = find_user(db, "examiner_nj01"), find_user(db, "examiner_sz01")

        # unqualified: examiner_nj01 has no qualification at all
        error = _refusal(db, session, team[:3] + [(nj01, Duty.examiner)] + team[3:])
        assert (error.key, error.values["name"]) == ("scheduling.examiner_unqualified", nj01.display_name)

        # own station: qualified, but the session is at JS-NJ-01, the examiner's home
        qualify(db, "examiner_nj01")
        assert _refusal(db, session, team + [(nj01, Duty.examiner)]).key == "scheduling.examiner_home_station"

        # fewer than three examiners in a practical room
        error = _refusal(db, session, [team[0], team[1], team[3]])
        assert (error.key, error.values["count"]) == ("scheduling.too_few_examiners", 2)

        # two chiefs, and none
        assert _refusal(db, session, [team[0], (sz01, Duty.chief_examiner), team[2], team[3]]).values["count"] == 2
        assert _refusal(db, session, [(u, Duty.examiner) for u, _ in team[:3]] + [team[3]]).key == \
            "scheduling.one_chief"

        # no supervisor
        assert _refusal(db, session, team[:3]).key == "scheduling.no_supervisor"
        assert db.execute(select(SessionStaff)).first() is None      # nothing was assigned


def test_expired_lower_level_and_missing_qualifications_are_refused(database):
    with database.transaction() as db:
        session = practical_session(db)                                 # level 4, on 15 Dec 2026
        team = qualified_team(db)
        sz02 = find_user(db, "examiner_sz02")
        qualification = staffing.qualifications_of(db, sz02)[0]
        qualification.valid_until = date(2026, 12, 14)                 # lapsed the day before
        error = _refusal(db, session, team)
        assert (error.key, error.values["day"]) == ("scheduling.examiner_expired", "2026-12-15")
        qualification.valid_until = VALID[1]
        staffing.expire_qualification(db, qualification, "培训未达标", find_user(db, "admin"), utcnow())
        assert _refusal(db, session, team).key == "scheduling.examiner_expired"
        # up to level 5 (初级工) only: does not cover a level-4 exam
        qualification.scopes[0].highest_level = 5
        assert _refusal(db, session, team).key == "scheduling.examiner_unqualified"
        # a supervisor without a supervisor's qualification
        supervisor = find_user(db, "supervisor_sz")
        error = _refusal(db, session, [team[0], team[1], (supervisor, Duty.supervisor)])
        assert error.key == "scheduling.supervisor_unqualified"


def test_nobody_works_two_sessions_at_once(database):
    with database.transaction() as db:
        manager, station = find_user(db, "nj01_manager"), org(db, "JS-NJ-01")
        morning = practical_session(db)                               # 09:00–12:00 Beijing time
        team = qualified_team(db)
        scheduling.assign_staff(db, morning, team, manager, utcnow())
        plan = db.get(ExamPlan, scheduling.schedule_of(db, morning).plan_id)
        overlapping = scheduling.schedule_session(db, plan, station, ExamPart.theory, room(db, MachineKind.computer),
                                                  START + timedelta(hours=2, minutes=59), 3600, manager, utcnow())
        error = _refusal(db, overlapping, team)
        assert (error.key, error.values["name"]) == ("scheduling.staff_busy", team[0][0].display_name)
        overlapping.scheduled_start_at = START + timedelta(hours=3)   # starts as the morning ends: allowed
        assert len(scheduling.assign_staff(db, overlapping, team, manager, utcnow())) == 4


def test_staff_cannot_change_once_check_in_opened(database):
    with database.transaction() as db:
        session = practical_session(db)
        session.check_in_opened_at = utcnow()
        assert _refusal(db, session, qualified_team(db)).key == "scheduling.staff_locked"


# ------------------------------------------------------------------------------------------ pages

def test_the_station_schedules_from_the_page_and_others_may_not(database, new_browser):
    with database.transaction() as db:
        plan = make_plan(db)
        for serial in range(1, 4):
            register(db, plan, serial)
        lathe = room(db, MachineKind.lathe)
        plan_id, station_id, room_id = plan.id, org(db, "JS-NJ-01").id, lathe.id
    form = {"part": "practical", "room_id": str(room_id), "start": "2026-12-15T09:00", "duration_minutes": "180",
            "seed": "page-seed"}
    path = f"/scheduling/plans/{plan_id}/stations/{station_id}/sessions"
    stranger = new_browser()
    stranger.login("nj02_manager")
    assert stranger.post(path, form).status_code == 403
    manager = new_browser()
    manager.login("nj01_manager")
    assert "3" in manager.get("/scheduling").get_data(as_text=True)
    response = manager.post(path, form)
    assert response.status_code == 302
    page = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "page-seed" in page
    with database.session(write=False) as db:
        entries = db.execute(select(RosterEntry).join(RosterEntry.exam_session)
                             .where(RosterEntry.ticket_number.like("2612152%"))).scalars().all()
        assert len(entries) == 3
        assert entries[0].exam_session.scheduled_start_at == START    # 09:00 Beijing = 01:00 UTC


def test_a_refused_team_is_explained_in_the_users_language(database, new_browser):
    with database.transaction() as db:
        session = practical_session(db)
        team = qualified_team(db)
        session_id = session.id
        form = {f"duty-{u.id}": d.value for u, d in team}
        form[f"duty-{team[1][0].id}"] = "chief_examiner"
    manager = new_browser()
    manager.login("nj01_manager")
    manager.client.set_cookie("lang", "en")
    response = manager.post(f"/scheduling/sessions/{session_id}/staff", form)
    assert response.status_code == 400
    assert "A session needs exactly one chief examiner (2 chosen)." in response.get_data(as_text=True)
    manager.client.set_cookie("lang", "zh_CN")
    response = manager.post(f"/scheduling/sessions/{session_id}/staff", form)
    assert "每个场次须有且只有一名考评组长（现有 2 名）。" in response.get_data(as_text=True)


def test_stations_keep_their_own_rooms(database, new_browser):
    with database.session(write=False) as db:
        own, other = org(db, "JS-NJ-01").id, org(db, "JS-NJ-02").id
    manager = new_browser()
    manager.login("nj01_manager")
    form = {"station_id": str(own), "name": "数控车床实训室", "machine": "lathe", "seats": "12"}
    assert manager.post("/scheduling/rooms", {**form, "station_id": str(other)}).status_code == 404
    assert manager.post("/scheduling/rooms", {**form, "seats": "0"}).status_code == 400
    assert manager.post("/scheduling/rooms", form).status_code == 302
    assert manager.post("/scheduling/rooms", form).status_code == 409              # the same name twice
    assert "数控车床实训室" in manager.get("/scheduling/rooms").get_data(as_text=True)
    with database.session(write=False) as db:
        (room_id,) = db.execute(select(AuditEvent.object_id).where(AuditEvent.action == "room_added")).scalars()
    neighbour = new_browser()
    neighbour.login("nj02_manager")
    assert neighbour.post(f"/scheduling/rooms/{room_id}/retire").status_code == 403
    assert manager.post(f"/scheduling/rooms/{room_id}/retire").status_code == 302
    page = manager.get("/scheduling/rooms").get_data(as_text=True)
    assert "考场“数控车床实训室”已停用。" in page and f'data-room="{room_id}"' not in page
