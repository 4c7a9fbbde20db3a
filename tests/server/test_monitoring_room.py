"""A staffed room run from the dashboard: who signs the session report (the chief examiner, countersigned by the
session's supervisor; the organisation's examiners and supervisors only when the session has no staff), and a
room of 40 candidates taken through a whole session over Socket.IO, the dashboard agreeing with the database at
every step, down to the signed report."""
from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from exam_server import create_app, delivery, monitoring, papers
from exam_server.accounts import find_user
from exam_server.errors import UserError
from exam_server.models import (Attempt, Duty, ExamPart, ExamSession, Organisation, Pause, Response, Role,
                                RoleAssignment, RosterEntry, SessionStaff, TimeAdjustment, User, utcnow)
from tests.server.conftest import PAPER_KEY, Browser, theory_session

DURATION_S = 90 * 60


@pytest.fixture
def quiet_app(database_url, tmp_path):
    """An app without a message queue: Socket.IO's test client cannot run over one."""
    app = create_app({"database_url": database_url, "instance_path": tmp_path / "q", "secret_key": "t",
                      "redis_url": "", "testing": True})
    yield app
    app.extensions["exam_db"].dispose()


def _user(db, username: str, name: str, role: Role, organisation: Organisation, now) -> User:
    user = User(username=username, display_name=name, password_hash=find_user(db, "examiner_nj01").password_hash,
                organisation=organisation, created_at=now)
    user.role_assignments = [RoleAssignment(role=role, organisation=organisation, granted_at=now)]
    db.add(user)
    return user


def staffed_room(database, candidates: int) -> dict:
    """A theory session at 南京技师学院 with `candidates` people, its paper sealed, and its staff: examiner_nj01
    as examiner, a new chief examiner (考评组长) and supervisor_nj; a second supervisor of 南京 who is not on it."""
    now = utcnow()
    with database.transaction() as db:
        station = db.execute(select(Organisation).where(Organisation.code == "JS-NJ-01")).scalar_one()
        city = db.execute(select(Organisation).where(Organisation.code == "JS-NJ")).scalar_one()
        template = theory_session(db)
        session = ExamSession(exam_id=template.exam_id, part=ExamPart.theory, organisation=station, room="302 机房",
                              scheduled_start_at=now, duration_s=DURATION_S, created_at=now)
        db.add(session)
        hash_ = find_user(db, "ks001").password_hash
        people = []
        for n in range(1, candidates + 1):
            id_number = f"3201061990{n:04d}001X"[:18]
            user = User(username=f"room{n:03d}", display_name=f"考生{n:03d}", id_number=id_number,
                        password_hash=hash_, organisation=station, created_at=now)
            user.role_assignments = [RoleAssignment(role=Role.candidate, organisation=station, granted_at=now)]
            entry = RosterEntry(exam_session=session, candidate=user, seat=f"{n:02d}", ticket_number=f"RM{n:06d}")
            db.add(entry)
            people.append((entry, id_number))
        chief = _user(db, "chief_nj01", "考评组长（南京技师学院）", Role.examiner, station, now)
        _user(db, "supervisor_nj2", "督导员二（南京）", Role.supervisor, city, now)
        db.flush()
        examiner, supervisor = find_user(db, "examiner_nj01"), find_user(db, "supervisor_nj")
        for user, duty in ((examiner, Duty.examiner), (chief, Duty.chief_examiner), (supervisor, Duty.supervisor)):
            db.add(SessionStaff(exam_session_id=session.id, user_id=user.id, duty=duty, assigned_at=now,
                                assigned_by_id=examiner.id))
        papers.seal_for_session(db, session, papers.demo_paper(), PAPER_KEY, now)
        return {"session_id": session.id,
                "seats": [(e.id, e.ticket_number, id_number, e.candidate_id) for e, id_number in people]}


def browser(app, username: str | None = None) -> Browser:
    b = Browser(app.test_client())
    if username:
        b.login(username)
    return b


# ---- who signs the report -------------------------------------------------------------------------------------

def test_the_chief_examiner_signs_and_the_sessions_supervisor_countersigns(quiet_app):
    database = quiet_app.extensions["exam_db"]
    session_id = staffed_room(database, 1)["session_id"]
    examiner, chief = browser(quiet_app, "examiner_nj01"), browser(quiet_app, "chief_nj01")
    supervisor, other_supervisor = browser(quiet_app, "supervisor_nj"), browser(quiet_app, "supervisor_nj2")
    examiner.post_json(f"/api/sessions/{session_id}/check-in")
    examiner.post_json(f"/api/sessions/{session_id}/start")
    examiner.post_json(f"/api/sessions/{session_id}/end")
    assert examiner.post_json(f"/api/sessions/{session_id}/report").json["status"] == "generated"
    refused = examiner.post_json(f"/api/sessions/{session_id}/report/sign")    # an examiner, but not the chief
    assert refused.status_code == 403 and refused.json["error"]["code"] == "monitor.not_chief"
    assert supervisor.post_json(f"/api/sessions/{session_id}/report/sign").status_code == 403
    assert chief.post_json(f"/api/sessions/{session_id}/report/countersign").status_code == 403
    signed = chief.post_json(f"/api/sessions/{session_id}/report/sign").json
    assert signed["status"] == "signed" and signed["chief"] == "考评组长（南京技师学院）"
    refused = other_supervisor.post_json(f"/api/sessions/{session_id}/report/countersign")   # not on the session
    assert refused.status_code == 403 and refused.json["error"]["code"] == "monitor.not_session_supervisor"
    done = supervisor.post_json(f"/api/sessions/{session_id}/report/countersign").json
    assert done["status"] == "countersigned" and done["supervisor"] == "督导员（南京）"
    page = chief.get(f"/sessions/{session_id}/report").get_data(as_text=True)
    assert "考评组长（南京技师学院）" in page and "督导员（南京）" in page


def test_without_staff_any_examiner_and_supervisor_of_the_organisation_may_sign(database):
    now = utcnow()
    with database.transaction() as db:
        session = theory_session(db)                 # the demo's session has no staff rows
        examiner, elsewhere = find_user(db, "examiner_nj01"), find_user(db, "examiner_sz01")
        supervisor = find_user(db, "supervisor_nj")
        assert monitoring.may_sign(db, session, examiner, "sign")
        assert not monitoring.may_sign(db, session, elsewhere, "sign")          # another station's examiner
        assert not monitoring.may_sign(db, session, supervisor, "sign")         # a supervisor never signs
        assert monitoring.may_sign(db, session, supervisor, "countersign")
        assert not monitoring.may_sign(db, session, examiner, "countersign")
        delivery.open_check_in(db, session, examiner, now)
        delivery.start_session(db, session, examiner, now, PAPER_KEY)
        delivery.end_session(db, session, examiner, now + timedelta(minutes=1))
        monitoring.generate_report(db, session, examiner, now + timedelta(minutes=2))
        with pytest.raises(UserError, match="monitor.not_chief"):
            monitoring.sign_report(db, session, elsewhere, now + timedelta(minutes=3))
        monitoring.sign_report(db, session, examiner, now + timedelta(minutes=3))
        # once the session has staff, an examiner who is not its chief may no longer sign
        db.add(SessionStaff(exam_session_id=session.id, user_id=supervisor.id, duty=Duty.supervisor,
                            assigned_at=now, assigned_by_id=examiner.id))
        db.flush()
        assert not monitoring.may_sign(db, session, examiner, "sign")
        assert monitoring.countersign_report(db, session, supervisor, now).status == "countersigned"


# ---- a room of 40 --------------------------------------------------------------------------------------------

def _ms(value: datetime) -> int:
    return int(value.replace(tzinfo=value.tzinfo or timezone.utc).timestamp() * 1000)


def database_view(database, session_id: int) -> dict:
    """The room as the database holds it, counted here by hand (not by the delivery code): each seat's phase
    from the attempt's own columns and the open pauses, and the answers saved."""
    with database.session(write=False) as db:
        session = db.get(ExamSession, session_id)
        open_pauses = db.execute(select(Pause.attempt_id).where(Pause.exam_session_id == session_id,
                                                                Pause.resumed_at.is_(None))).scalars().all()
        phases = Counter()
        for entry in session.roster:
            attempt = entry.attempt
            if attempt is None:
                phases["none"] += 1
            elif attempt.voided_at is not None:
                phases["voided"] += 1
            elif attempt.submitted_at is not None:
                phases["submitted"] += 1
            elif None in open_pauses or attempt.id in open_pauses:
                phases["paused"] += 1
            else:
                phases["active"] += 1
        answered = db.execute(select(func.count()).select_from(Response).join(Attempt).join(RosterEntry)
                              .where(RosterEntry.exam_session_id == session_id, Response.value != "null")).scalar()
    return {"phases": phases, "answered": answered}


def dashboard_view(snapshot: dict) -> dict:
    tiles = snapshot["tiles"]
    return {"phases": Counter(t["attempt"]["phase"] if t["attempt"] else "none" for t in tiles),
            "answered": sum(t["attempt"]["answered"] for t in tiles if t["attempt"])}


def expected_remaining_ms(database, attempt_id: int, now_ms: int) -> int:
    """Duration + live adjustments − time since the attempt started + every pause since then (hand formula)."""
    with database.session(write=False) as db:
        attempt = db.get(Attempt, attempt_id)
        session_id = attempt.roster_entry.exam_session_id
        extra = sum(a.seconds for a in db.execute(select(TimeAdjustment).where(
            TimeAdjustment.attempt_id == attempt_id, TimeAdjustment.reverted_at.is_(None))).scalars())
        paused = 0
        start = _ms(attempt.started_at)
        for p in db.execute(select(Pause).where(Pause.exam_session_id == session_id)).scalars():
            if p.attempt_id in (None, attempt_id):
                paused += (_ms(p.resumed_at) if p.resumed_at else now_ms) - max(_ms(p.paused_at), start)
        return (DURATION_S + extra) * 1000 - (now_ms - _ms(attempt.started_at)) + paused


def received(client, name: str) -> list[dict]:
    return [e["args"][0] for e in client.get_received() if e["name"] == name]


def test_a_room_of_40_is_run_from_the_dashboard_through_a_whole_session(quiet_app):
    started = time.monotonic()
    database = quiet_app.extensions["exam_db"]
    room = staffed_room(database, 40)
    session_id, seats = room["session_id"], room["seats"]
    socketio = quiet_app.extensions["socketio"]
    examiner = browser(quiet_app, "examiner_nj01")
    dashboard = socketio.test_client(quiet_app, flask_test_client=examiner.client)
    assert dashboard.emit("monitor_join", {"session_id": session_id}, callback=True) == {"ok": True}

    def snapshot() -> dict:
        data = examiner.get(f"/api/sessions/{session_id}/monitor").json
        assert dashboard_view(data) == database_view(database, session_id)
        return data

    # check-in, start: 40 candidates in, each with a socket and a heartbeat
    pin = examiner.post_json(f"/api/sessions/{session_id}/check-in").json["pin"]
    assert snapshot()["status"] == "check_in_open"
    assert examiner.post_json(f"/api/sessions/{session_id}/start").status_code == 200
    people = []
    for n, (entry_id, ticket, id_number, _) in enumerate(seats, start=1):
        candidate = browser(quiet_app)
        assert candidate.post_json("/api/check-in", {"ticket_number": ticket, "id_number": id_number,
                                                     "pin": pin}).status_code == 200
        client_id = f"browser-{n:04d}"
        attempt_id = candidate.post_json(f"/api/roster/{entry_id}/attempt", {"client_id": client_id}).json["attempt_id"]
        socket = socketio.test_client(quiet_app, flask_test_client=candidate.client)
        assert socket.emit("heartbeat", {"attempt_id": attempt_id, "answered": 0, "total": 20},
                           callback=True) == {"ok": True}
        people.append({"browser": candidate, "socket": socket, "attempt": attempt_id, "client": client_id})
    tiles = received(dashboard, "tile")
    assert len(tiles) == 40 and {t["attempt_id"] for t in tiles} == {p["attempt"] for p in people}
    assert snapshot()["status"] == "running" and database_view(database, session_id)["phases"]["active"] == 40

    # every candidate answers q01 over the socket, the first ten also q02
    for n, person in enumerate(people):
        for seq, item in enumerate(["q01", "q02"][:2 if n < 10 else 1], start=1):
            ack = person["socket"].emit("save", {"attempt_id": person["attempt"], "op_id": uuid.uuid4().hex,
                                                 "seq": seq, "item_id": item, "value": "A",
                                                 "client_id": person["client"]}, callback=True)
            assert ack["ok"] is True, ack
    assert dashboard_view(snapshot())["answered"] == 50
    for person in people:
        received(person["socket"], "monitor")

    # ten more minutes for seat 03 only: that candidate (and nobody else) is told to re-read the time
    first, third = people[0], people[2]
    assert examiner.post_json(f"/api/attempts/{third['attempt']}/time",
                              {"seconds": 600, "kind": "incident", "reason": "3 号机死机"}).status_code == 200
    told = [received(p["socket"], "monitor") for p in people]
    assert told[2] == [{"kind": "resync", "attempt_id": third["attempt"], "roster_entry_id": seats[2][0],
                        "cause": "time"}] and sum(map(len, told)) == 1
    data = snapshot()
    for person in (first, third):
        tile = next(t for t in data["tiles"] if t["attempt"] and t["attempt"]["id"] == person["attempt"])
        assert abs(tile["attempt"]["remaining_ms"] - expected_remaining_ms(database, person["attempt"],
                                                                           data["now_ms"])) <= 1
    assert next(t for t in data["tiles"] if t["attempt"]["id"] == third["attempt"])["attempt"]["adjustment_s"] == 600

    # the room pauses: every candidate is told, the clocks stand still; resumed, the paused time is credited
    assert examiner.post_json(f"/api/sessions/{session_id}/pause", {"reason": "停电"}).status_code == 200
    assert all(received(p["socket"], "monitor") == [{"kind": "resync", "cause": "paused"}] for p in people)
    paused = snapshot()
    assert paused["status"] == "paused" and dashboard_view(paused)["phases"] == {"paused": 40}
    time.sleep(0.3)
    still = snapshot()
    assert [t["attempt"]["remaining_ms"] for t in still["tiles"]] == [t["attempt"]["remaining_ms"]
                                                                       for t in paused["tiles"]]
    assert examiner.post_json(f"/api/sessions/{session_id}/resume").status_code == 200
    assert all(received(p["socket"], "monitor") == [{"kind": "resync", "cause": "resumed"}] for p in people)
    data = snapshot()
    with database.session(write=False) as db:
        pause = db.execute(select(Pause).where(Pause.exam_session_id == session_id)).scalar_one()
        pause_ms = _ms(pause.resumed_at) - _ms(pause.paused_at)
    assert pause_ms >= 300
    tile = next(t for t in data["tiles"] if t["attempt"]["id"] == first["attempt"])
    with database.session(write=False) as db:
        started_ms = _ms(db.get(Attempt, first["attempt"]).started_at)
    # the paused time is given back: duration − (now − start) + pause
    assert abs(tile["attempt"]["remaining_ms"] - (DURATION_S * 1000 - (data["now_ms"] - started_ms) + pause_ms)) <= 1

    # an announcement reaches all 40; an incident and a misconduct warning are recorded
    examiner.post_json(f"/api/sessions/{session_id}/announcements", {"text": "距离考试结束还有 30 分钟"})
    assert all([m["announcement"]["text"] for m in received(p["socket"], "monitor")] == ["距离考试结束还有 30 分钟"]
               for p in people)
    assert examiner.post_json(f"/api/sessions/{session_id}/incidents", {
        "category": "environment", "description": "窗外施工噪音", "attempt_id": third["attempt"]}).status_code == 200
    fifth = people[4]
    warning = examiner.post_json(f"/api/attempts/{fifth['attempt']}/misconduct", {
        "tier": "warning", "description": "交头接耳", "evidence": {"notes": "两名考评员目睹"}})
    assert warning.json["sanction"]["tier"] == "warning"
    examiner.post_json(f"/api/misconduct/{warning.json['id']}/sign")
    flags = {t["seat"]: t["attempt"]["flags"] for t in snapshot()["tiles"]}
    assert flags["05"] == ["misconduct:warning"] and flags["03"] == ["incident:environment"] and flags["01"] == []

    # seat 40 is force-submitted, the other 39 submit; the session ends
    last = people[-1]
    assert examiner.post_json(f"/api/attempts/{last['attempt']}/force-submit").status_code == 200
    assert [m["kind"] for m in received(last["socket"], "monitor")] == ["submitted"]
    assert dashboard_view(snapshot())["phases"] == {"active": 39, "submitted": 1}
    for person in people[:-1]:
        assert person["browser"].post_json(f"/api/attempts/{person['attempt']}/submit",
                                           {"client_id": person["client"]}).status_code == 200
    assert dashboard_view(snapshot())["phases"] == {"submitted": 40}
    ended = examiner.post_json(f"/api/sessions/{session_id}/end").json
    assert ended == {"ok": True, "force_submitted": 0}
    assert snapshot()["status"] == "ended"
    for person in people:
        person["socket"].disconnect()
    offline = [t for t in received(dashboard, "tile") if t["online"] is False]
    assert len(offline) == 40

    # the report: generated, signed by the chief, countersigned by the session's supervisor
    assert examiner.post_json(f"/api/sessions/{session_id}/report").status_code == 200
    assert browser(quiet_app, "chief_nj01").post_json(f"/api/sessions/{session_id}/report/sign").status_code == 200
    report = browser(quiet_app, "supervisor_nj").post_json(f"/api/sessions/{session_id}/report/countersign").json
    assert report["status"] == "countersigned" and report["chief"] == "考评组长（南京技师学院）"
    content = report["content"]
    assert content["attendance"] == {"registered": 40, "present": 40, "absent": 0, "voided": 0, "submitted": 39,
                                     "force_submitted": 1, "expired": 0}
    assert [(i["category"], i["seat"]) for i in content["incidents"]] == [("environment", "03")]
    assert content["technical_faults"] == []
    assert [(m["seat"], m["tier"], m["status"]) for m in content["misconduct"]] == [("05", "warning", "signed")]
    assert content["time_adjustments"] == [{"seat": "03", "kind": "incident", "seconds": 600,
                                            "reason": "3 号机死机", "reverted": False}]
    assert [(p["seat"], p["reason"], p["seconds"]) for p in content["pauses"]] == [(None, "停电", pause_ms // 1000)]
    with database.session(write=False) as db:
        assert json.loads(monitoring.report_of(db, db.get(ExamSession, session_id)).content) == content
    dashboard.disconnect()
    assert time.monotonic() - started < 30
