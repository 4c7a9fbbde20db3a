"""In headless Chromium: the station schedules a practical session from approved, paid registrations, the
session's admission tickets answer as a PDF, and the station's examiner checks a candidate in at the door by
typing the ticket number."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from exam_server.accounts import find_user
from exam_server.models import MachineKind, RosterEntry, TicketCheck
from tests.server.conftest import sign_in
from tests.server.test_scheduling import make_plan, qualified_team, register, room
from tests.server import conftest

pytestmark = pytest.mark.browser


def test_schedule_print_and_check_in_at_the_door(database, live_server, chrome):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    def click_and_wait(element):
        conftest.click_and_wait(chrome, element)

    began = time.monotonic()
    with database.transaction() as db:
        plan = make_plan(db)
        for serial in (1, 2, 3):
            register(db, plan, serial)
        register(db, plan, 4, paid=False)                   # not paid: not seated
        lathe = room(db, MachineKind.lathe, seats=12)
        qualified_team(db)
        plan_id, room_id = plan.id, lathe.id

    sign_in(chrome, live_server, "nj01_manager", "Demo@2026")
    chrome.get(live_server + "/scheduling")
    block = chrome.find_element(By.CSS_SELECTOR, f'.plan-station[data-plan="{plan_id}"]')
    assert "3" in block.find_element(By.CSS_SELECTOR, ".waiting-practical").text
    Select(block.find_element(By.CSS_SELECTOR, "select.part")).select_by_value("practical")
    Select(block.find_element(By.CSS_SELECTOR, "select.room")).select_by_value(str(room_id))
    chrome.execute_script("arguments[0].value = '2026-12-15T09:00'", block.find_element(By.CSS_SELECTOR, "input.start"))
    block.find_element(By.CSS_SELECTOR, "input.seed").send_keys("browser-seed")
    click_and_wait(block.find_element(By.CSS_SELECTOR, "button.schedule"))

    assert "browser-seed" in chrome.find_element(By.TAG_NAME, "main").text
    rows = chrome.find_elements(By.CSS_SELECTOR, "#roster tbody tr")
    assert len(rows) == 3
    ticket = rows[0].find_element(By.CSS_SELECTOR, ".ticket").text
    name = rows[0].find_element(By.CSS_SELECTOR, ".name").text
    seat = rows[0].find_element(By.CSS_SELECTOR, ".seat").text
    assert ticket.startswith("2612152") and len(ticket) == 16

    href = chrome.find_element(By.ID, "session-tickets").get_attribute("href")
    content_type = chrome.execute_async_script(
        "fetch(arguments[0]).then(r => arguments[1](r.status + ' ' + r.headers.get('content-type')))", href)
    assert content_type == "200 application/pdf"

    click_and_wait(chrome.find_element(By.ID, "logout"))
    sign_in(chrome, live_server, "examiner_nj01", "Demo@2026")
    chrome.get(href.replace("/tickets.pdf", "/check-in"))
    field = chrome.find_element(By.ID, "door-ticket")
    field.send_keys(ticket + Keys.ENTER)                     # a USB scanner types and ends with Enter too
    assert chrome.find_element(By.ID, "door-name").text == name
    assert chrome.find_element(By.ID, "door-seat").text == seat
    click_and_wait(chrome.find_element(By.ID, "door-confirm"))
    checked = chrome.find_element(By.CSS_SELECTOR, "#door-roster tbody tr:first-child .checked").text
    assert "考评员" in checked

    with database.session(write=False) as db:
        check = db.execute(select(TicketCheck)).scalar_one()
        entry = db.get(RosterEntry, check.roster_entry_id)
        assert (entry.ticket_number, check.scanned, check.examiner_id) == \
            (ticket, False, find_user(db, "examiner_nj01").id)
    assert time.monotonic() - began < 25
