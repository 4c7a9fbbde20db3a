"""Rotated examiners (轮换): an examiner put on another station's session through its staff reaches that session's
pages and actions in their duty's role; an examiner of another station who is not on its staff does not; a
rotated supervisor stays read-only. The demo's theory session at JS-SZ-02 has examiner_nj01 (from JS-NJ-01) as
its chief and supervisor_sz; its practical session adds examiner_nj02 and examiner_sz01."""
from __future__ import annotations

from datetime import date

import pytest

from sqlalchemy import select

from exam_server import demo_affairs, directory, scheduling, staffing
from exam_server.accounts import find_user
from exam_server.models import Duty, ExamPart, ExamSession, Organisation, QualificationRole, utcnow

from .test_affairs_cycle import affairs  # noqa: F401 - the fixture


pytestmark = pytest.mark.usefixtures("affairs")


def demo_sessions(database) -> dict[ExamPart, int]:
    with database.session(write=False) as db:
        return {part: s.id for part, s in demo_affairs.sessions_of(db).items()}


def test_the_rotated_chief_opens_the_session_page_and_monitor_and_acts(database, browser):
    theory = demo_sessions(database)[ExamPart.theory]
    assert browser.login("examiner_nj01").status_code == 302
    page = browser.get(f"/sessions/{theory}")
    assert page.status_code == 200 and 'data-can-act="1"' in page.get_data(as_text=True)
    snapshot = browser.get(f"/api/sessions/{theory}/monitor")
    assert snapshot.status_code == 200 and len(snapshot.json["tiles"]) == 4      # the four demo registrations
    opened = browser.post_json(f"/api/sessions/{theory}/check-in")
    assert opened.status_code == 200 and len(opened.json["pin"]) == 6
    assert browser.post_json(f"/api/sessions/{theory}/start").status_code == 200
    assert browser.get(f"/api/sessions/{theory}").json["status"] == "running"


def test_an_examiner_of_another_station_not_on_the_staff_is_refused(database, browser):
    sessions = demo_sessions(database)
    browser.login("examiner_sz01")           # on the practical session's staff, not on the theory session's
    theory = sessions[ExamPart.theory]
    assert browser.get(f"/sessions/{theory}").status_code == 403
    assert browser.get(f"/api/sessions/{theory}/monitor").status_code == 403
    assert browser.post_json(f"/api/sessions/{theory}/check-in").status_code == 403
    assert browser.get(f"/sessions/{sessions[ExamPart.practical]}").status_code == 200
    assert browser.get("/sessions/999999").status_code == 404


def test_a_rotated_supervisor_reads_but_cannot_act(database, browser):
    practical = demo_sessions(database)[ExamPart.practical]
    now = utcnow()
    with database.transaction() as db:        # supervisor_nj (over JS-NJ) replaces supervisor_sz at JS-SZ-02
        session = db.get(ExamSession, practical)
        js_nj = db.execute(select(Organisation).where(Organisation.code == "JS-NJ")).scalar_one()
        supervisor = find_user(db, "supervisor_nj")
        staffing.add_qualification(db, supervisor, "TEST-DDY-9", QualificationRole.supervisor, js_nj,
                                   date(2025, 1, 1), date(2030, 1, 1), [], find_user(db, "admin"), now)
        team = [(find_user(db, s.user.username), s.duty) for s in scheduling.staff_of(db, session)
                if s.duty is not Duty.supervisor] + [(supervisor, Duty.supervisor)]
        scheduling.assign_staff(db, session, team, find_user(db, "sz02_manager"), now)
    browser.login("supervisor_nj")
    page = browser.get(f"/sessions/{practical}")
    assert page.status_code == 200 and 'data-can-act="0"' in page.get_data(as_text=True)
    assert browser.get(f"/api/sessions/{practical}/monitor").status_code == 200
    assert browser.post_json(f"/api/sessions/{practical}/check-in").status_code == 403
    assert browser.get(f"/sessions/{demo_sessions(database)[ExamPart.theory]}").status_code == 403


def test_staffed_sessions_are_listed_on_the_examiners_home(database, browser):
    sessions = demo_sessions(database)
    with database.session(write=False) as db:
        nj01 = find_user(db, "examiner_nj01")
        sz01 = find_user(db, "examiner_sz01")
        listed = {s.id for s in directory.sessions_in_scope(db, nj01.active_roles())}
        listed_sz01 = {s.id for s in directory.sessions_in_scope(db, sz01.active_roles())}
    assert {sessions[ExamPart.theory], sessions[ExamPart.practical]} <= listed
    assert sessions[ExamPart.practical] in listed_sz01 and sessions[ExamPart.theory] not in listed_sz01
    browser.login("examiner_nj01")
    home = browser.get("/home/examiner").get_data(as_text=True)
    assert f"/sessions/{sessions[ExamPart.theory]}" in home
