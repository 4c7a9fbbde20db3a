"""The issue's Selenium path in headless Chromium, on the pages only: the province publishes a plan, a station
registers a candidate through the form, the centre approves and marks the fee paid, the station adds a room,
schedules the session, staffs it with a rotated examiner (examiner_sz01 at JS-NJ-01) and gets the tickets PDF;
the examiner checks the ticket at the door and opens check-in; the candidate checks in with ticket, ID number and
PIN and sees the identity card. Then, in-process, the exam is sat, graded and the certificate issued, and the
public lookup page finds it by number and name."""
from __future__ import annotations

import time
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from exam_server import (certificates, delivery, demo_affairs, grading_jobs, id_numbers, papers, photos, plans,
                         scoring)
from exam_server.accounts import find_user
from exam_server.models import (ExamSession, JobType, JobTypeLevel, Organisation, Registration, Result, RosterEntry,
                                TicketCheck, utcnow)
from tests.server.conftest import check_in_page, sign_in
from tests.server.test_affairs_cycle import load_affairs
from tests.server import conftest

pytestmark = pytest.mark.browser

NAME = "赵雪梅"
ID_NUMBER = id_numbers.make_resident_id("320106", date(1990, 4, 5), 36)       # even sequence: female


def test_register_review_schedule_ticket_check_in_then_certificate(app, database, live_server, chrome, tmp_path):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    load_affairs(database)      # the demo's registry: examiner_sz01 and supervisor_sz are qualified
    wait = WebDriverWait(chrome, 10, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,))

    def click_and_wait(element):
        conftest.click_and_wait(chrome, element)

    def value(element_id: str, text: str):
        chrome.execute_script("arguments[0].value = arguments[1]", chrome.find_element(By.ID, element_id), text)

    def switch_to(username: str):
        chrome.delete_all_cookies()
        sign_in(chrome, live_server, username, "Demo@2026")

    with database.session(write=False) as db:
        station = db.execute(select(Organisation).where(Organisation.code == "JS-NJ-01")).scalar_one().id
        job_type = db.execute(select(JobType).where(JobType.name == "数控车工")).scalar_one().id
        today = plans.local_today(utcnow())
    exam_day = today + timedelta(days=10)
    photo = tmp_path / "photo.png"
    photo.write_bytes(photos.placeholder_png(7))
    began = time.monotonic()

    # the province publishes a plan
    sign_in(chrome, live_server, "admin", "Demo@2026")
    chrome.get(live_server + "/affairs/plans/new")
    chrome.find_element(By.ID, "code").send_keys("JS-BROWSER-CYCLE")
    chrome.find_element(By.ID, "name").send_keys("浏览器全流程 数控车工 四级")
    Select(chrome.find_element(By.ID, "job_level")).select_by_value(f"{job_type}:4")
    for field, day in (("registration_opens_on", today), ("registration_closes_on", today),
                       ("exam_from", exam_day), ("exam_to", exam_day)):
        value(field, day.isoformat())
    chrome.find_element(By.ID, f"capacity_{station}").send_keys("5")
    click_and_wait(chrome.find_element(By.ID, "create-plan"))
    click_and_wait(chrome.find_element(By.ID, "publish"))
    plan_url = chrome.current_url

    # the station registers a candidate through the form
    switch_to("nj01_manager")
    chrome.get(plan_url)
    click_and_wait(chrome.find_element(By.CSS_SELECTOR, f'tr[data-station="{station}"] a.register'))
    chrome.find_element(By.ID, "id_number").send_keys(ID_NUMBER)
    chrome.find_element(By.ID, "name").send_keys(NAME)
    Select(chrome.find_element(By.ID, "education")).select_by_value("college")
    chrome.find_element(By.ID, "eligibility_basis").send_keys("取得五级证书后从事本职业工作 4 年")
    chrome.find_element(By.ID, "photo").send_keys(str(photo))
    click_and_wait(chrome.find_element(By.ID, "register-submit"))
    assert chrome.find_element(By.ID, "registration-status").text == "待审核"
    registration_url = chrome.current_url

    # the centre approves and records the fee
    switch_to("nj_admin")
    chrome.get(registration_url)
    click_and_wait(chrome.find_element(By.ID, "approve"))
    click_and_wait(chrome.find_element(By.ID, "mark-paid"))
    assert chrome.find_element(By.ID, "registration-status").text == "已缴费"

    # the station adds a room, schedules the theory session and staffs it with examiners of other stations
    switch_to("nj01_manager")
    chrome.get(live_server + "/scheduling/rooms")
    Select(chrome.find_element(By.ID, "room-station")).select_by_value(str(station))
    chrome.find_element(By.ID, "room-name").send_keys("理论机房 B")
    Select(chrome.find_element(By.ID, "room-machine")).select_by_value("computer")
    click_and_wait(chrome.find_element(By.ID, "room-submit"))
    chrome.get(live_server + "/scheduling")
    block = next(b for b in chrome.find_elements(By.CSS_SELECTOR, ".plan-station")
                 if b.get_attribute("data-station") == str(station) and "JS-BROWSER-CYCLE" in b.text)
    Select(block.find_element(By.CSS_SELECTOR, "select.part")).select_by_value("theory")
    room_select = Select(block.find_element(By.CSS_SELECTOR, "select.room"))
    room_select.select_by_value(next(o.get_attribute("value") for o in room_select.options if "理论机房 B" in o.text))
    chrome.execute_script("arguments[0].value = arguments[1]", block.find_element(By.CSS_SELECTOR, "input.start"),
                          f"{exam_day.isoformat()}T09:00")
    click_and_wait(block.find_element(By.CSS_SELECTOR, "button.schedule"))
    Select(chrome.find_element(By.CSS_SELECTOR, 'tr[data-user="examiner_sz01"] select.duty')
           ).select_by_value("chief_examiner")
    Select(chrome.find_element(By.CSS_SELECTOR, 'tr[data-user="supervisor_sz"] select.duty')
           ).select_by_value("supervisor")
    click_and_wait(chrome.find_element(By.ID, "staff-submit"))
    (row,) = chrome.find_elements(By.CSS_SELECTOR, "#roster tbody tr")
    ticket = row.find_element(By.CSS_SELECTOR, ".ticket").text
    assert row.find_element(By.CSS_SELECTOR, ".name").text == NAME and len(ticket) == 16
    tickets_href = chrome.find_element(By.ID, "session-tickets").get_attribute("href")
    answer = chrome.execute_async_script(
        "fetch(arguments[0]).then(r => arguments[1](r.status + ' ' + r.headers.get('content-type')))", tickets_href)
    assert answer == "200 application/pdf"
    session_id = int(tickets_href.split("/sessions/")[1].split("/")[0])

    # the rotated examiner checks the ticket at the door and opens check-in
    switch_to("examiner_sz01")
    chrome.get(f"{live_server}/scheduling/sessions/{session_id}/check-in")
    chrome.find_element(By.ID, "door-ticket").send_keys(ticket + Keys.ENTER)
    wait.until(lambda d: d.find_element(By.ID, "door-name").text == NAME)
    click_and_wait(chrome.find_element(By.ID, "door-confirm"))
    chrome.get(f"{live_server}/sessions/{session_id}")
    chrome.find_element(By.CSS_SELECTOR, '#session-actions button[data-action="check-in"]').click()
    wait.until(lambda d: len(d.find_element(By.ID, "pin").text) == 6)
    pin = chrome.find_element(By.ID, "pin").text

    # the candidate checks in and sees the identity card
    chrome.delete_all_cookies()
    check_in_page(chrome, live_server, ticket, ID_NUMBER, pin)
    wait.until(lambda d: d.find_element(By.ID, "identity").is_displayed())
    identity = chrome.find_element(By.ID, "identity").text
    assert NAME in identity and ticket in identity
    assert time.monotonic() - began < 60

    with database.session(write=False) as db:
        (check,) = db.execute(select(TicketCheck)).scalars().all()
        assert (db.get(RosterEntry, check.roster_entry_id).ticket_number, check.examiner_id) == \
            (ticket, find_user(db, "examiner_sz01").id)
        registration = db.execute(select(Registration).where(Registration.id_number == ID_NUMBER)).scalar_one()
        assert (registration.sex, registration.photo_type) == ("F", "image/png")

    number = _sit_grade_and_issue(app, database, session_id)
    chrome.get(live_server + "/certificates/lookup")
    chrome.find_element(By.ID, "name").send_keys(NAME)
    chrome.find_element(By.ID, "number").send_keys(number)
    click_and_wait(chrome.find_element(By.ID, "lookup-submit"))
    found = chrome.find_element(By.CSS_SELECTOR, f'#lookup-results table.certificate[data-number="{number}"]')
    assert NAME in found.text and ID_NUMBER not in found.text                  # the ID is masked


def _sit_grade_and_issue(app, database, session_id: int) -> str:
    """In-process: the candidate answers every item right, the report is graded and released, the practical
    part's score is recorded, the centre confirms and issues. Returns the certificate number."""
    settings, now = app.extensions["exam_settings"], utcnow()
    with database.transaction() as db:
        session = db.get(ExamSession, session_id)
        examiner = find_user(db, "examiner_sz01")
        papers.seal_for_session(db, session, demo_affairs.cycle_paper(), settings.paper_key(), now)
        delivery.start_session(db, session, examiner, now, settings.paper_key())
        entry = session.roster[0]
        attempt = delivery.start_attempt(db, entry, now)
        for seq, item in enumerate(demo_affairs.cycle_paper()["items"], start=1):
            delivery.apply_save(db, attempt, delivery.SaveOp(uuid.uuid4().hex, seq, item["id"], item["key"]), now)
        delivery.submit(db, attempt, entry.candidate, now)
        scoring.on_attempt_closed(db, attempt, now)
    assert grading_jobs.run_pending(database, "browser-test", lambda: now) == {"done": 1}
    with database.transaction() as db:
        session = db.get(ExamSession, session_id)
        scoring.release(db, session, find_user(db, "examiner_sz01"), now)
        candidate = session.roster[0].candidate
        level = db.execute(select(JobTypeLevel).where(JobTypeLevel.job_type_id == session.exam.job_type_id,
                                                      JobTypeLevel.level == 4)).scalar_one()
        certificates.record_part_score(db, candidate, level, "practical", 82, "practical score sheet", now)
        result = db.execute(select(Result).where(Result.candidate_id == candidate.id)).scalar_one()
        assert result.theory.score_tenths == 1000 and result.passed_at is not None    # 20 × 5 points, 82
        centre = find_user(db, "nj_admin")
        certificates.confirm(db, result, centre, now)
        return certificates.issue(db, result, centre, now, certificates.signing_key(settings)).number
