"""The projection page in headless Chromium: a score change appears without a reload; during the freeze it does
not (while the examiners' board shows it); the chief examiner's reveal moves the entry on the public screen;
then medals, award certificates and the public award lookup."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from exam_server import competitions
from exam_server.accounts import find_user
from exam_server.models import Competition, CompetitionEntry, Organisation, utcnow
from tests.server.conftest import sign_in

pytestmark = pytest.mark.browser
ROUNDS = [{"key": "theory", "name": "理论", "part": "theory", "weight_percent": 30},
          {"key": "turning", "name": "实操", "part": "practical", "weight_percent": 70}]


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def set_up(database) -> tuple[int, list[int]]:
    """Three contestants; started an hour ago, ends in 40 minutes with a 30-minute freeze (not frozen yet)."""
    now = utcnow()
    with database.transaction() as db:
        from sqlalchemy import select
        nanjing = db.execute(select(Organisation).where(Organisation.code == "JS-NJ")).scalar_one()
        admin, chief = find_user(db, "nj_admin"), find_user(db, "examiner_nj01")
        competition = competitions.create_competition(
            db, nanjing, "数控车工技能竞赛", starts_at=now + timedelta(minutes=1), ends_at=now + timedelta(minutes=40),
            freeze_minutes=30, rounds=ROUNDS, chief_examiner=chief, actor=admin, now=now)
        red = competitions.add_delegation(db, competition, "南京代表队", "#e63946", admin, now)
        blue = competitions.add_delegation(db, competition, "苏州代表队", "#1d3557", admin, now)
        ids = [competitions.register_entry(db, d, bib, name, admin, now).id
               for d, bib, name in ((red, "N01", "王伟"), (red, "N02", "李娜"), (blue, "S01", "张敏"))]
        competition.starts_at = now - timedelta(hours=1)
        return competition.id, ids


def score(app, database, entry_id, part, value, at=None):
    with app.app_context(), database.transaction() as db:
        competitions.record_score(db, db.get(CompetitionEntry, entry_id), part, value, "0", at or utcnow(),
                                  "grading")


def total_of(chrome, entry_id) -> str:
    """Read in one script call: the page re-renders its rows, so a held element may go stale."""
    return chrome.execute_script(f"var c = document.querySelector('#entry-{entry_id} td.total');"
                                 "return c ? c.textContent : null;")


def first_row(chrome) -> str:
    return chrome.execute_script("var r = document.querySelector('#standings-body tr'); return r ? r.id : null;")


def wait_for(chrome, condition, seconds=10):
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(chrome, seconds, poll_frequency=0.1).until(lambda d: condition())


def test_projection_shows_changes_hides_them_in_the_freeze_and_reveals(app, database, live_server, chrome):
    from selenium.webdriver.common.by import By

    competition_id, (a, b, c) = set_up(database)
    chrome.get(f"{live_server}/competitions/{competition_id}/board")
    assert chrome.find_element(By.ID, "board-title").text == "数控车工技能竞赛"
    chrome.implicitly_wait(0)
    joined = 'return document.body.dataset.joined === "yes"'
    wait_for(chrome, lambda: total_of(chrome, c) is not None and chrome.execute_script(joined))

    # Before the freeze: c's practical 90 → 0.7*90 = 63, shown without a reload, c first.
    score(app, database, c, "turning", "90", utcnow() - timedelta(minutes=50))   # graded 50 minutes ago
    wait_for(chrome, lambda: total_of(chrome, c) == "63")
    assert first_row(chrome) == f"entry-{c}"
    assert not chrome.find_element(By.ID, "board-frozen").is_displayed()

    # The freeze begins (ends in 10 minutes, 30-minute freeze, so since 20 minutes; c's score at -50 min stays
    # before it): a's practical 100 (70), graded now, stays hidden.
    with database.transaction() as db:
        db.get(Competition, competition_id).ends_at = utcnow() + timedelta(minutes=10)
    score(app, database, a, "turning", "100")
    live = app.test_client()
    live.post("/login", data={"username": "examiner_nj02", "password": "Demo@2026",
                              "csrf_token": live.get("/api/csrf").json["csrf_token"]})
    assert live.get(f"/api/competitions/{competition_id}/live").json["rows"][0]["id"] == a
    chrome.refresh()     # even a fresh load of the public page shows the frozen board
    wait_for(chrome, lambda: total_of(chrome, a) is not None and chrome.execute_script(joined))
    wait_for(chrome, lambda: chrome.find_element(By.ID, "board-frozen").is_displayed())
    assert total_of(chrome, a) == "0" and total_of(chrome, c) == "63"

    # After the end the chief examiner reveals from the live page, bottom-up. Public: c 63, then a and b tied on
    # 0 (sharing rank 2), listed by name in code-point order (李 U+674E before 王 U+738B): a is last, so it is
    # revealed first: 0.7*100 = 70 → rank 2 to rank 1.
    with database.transaction() as db:
        db.get(Competition, competition_id).ends_at = utcnow() - timedelta(minutes=1)
    public_window = chrome.current_window_handle
    chrome.switch_to.new_window("window")
    sign_in(chrome, live_server, "examiner_nj01", "Demo@2026")
    chrome.get(f"{live_server}/competitions/{competition_id}/live")
    wait_for(chrome, lambda: total_of(chrome, a) == "70" and chrome.execute_script(joined))
    chrome.find_element(By.ID, "reveal-next").click()
    wait_for(chrome, lambda: chrome.find_element(By.ID, "reveal-result").text)
    assert chrome.find_element(By.ID, "reveal-result").text.endswith(f"#{a}: 2 → 1")
    chief_window = chrome.current_window_handle
    chrome.switch_to.window(public_window)
    wait_for(chrome, lambda: total_of(chrome, a) == "70")
    assert first_row(chrome) == f"entry-{a}"

    # The rest of the reveal: a 70, c 63, b 0, so b (3 → 3), then c (2 → 2); then the organiser awards medals
    # (gold 1, silver 2, bronze 3 places) and issues the certificates, and the public lookup finds a's gold.
    chrome.switch_to.window(chief_window)
    for entry, step in ((b, "3 → 3"), (c, "2 → 2")):
        chrome.find_element(By.ID, "reveal-next").click()
        wait_for(chrome, lambda: chrome.find_element(By.ID, "reveal-result").text.endswith(f"#{entry}: {step}"))
    chrome.delete_all_cookies()
    sign_in(chrome, live_server, "nj_admin", "Demo@2026")
    chrome.get(f"{live_server}/competitions/{competition_id}")
    chrome.find_element(By.ID, "award-submit").click()
    wait_for(chrome, lambda: chrome.find_elements(By.ID, "issue-awards-submit"))
    chrome.find_element(By.ID, "issue-awards-submit").click()
    wait_for(chrome, lambda: not chrome.find_elements(By.ID, "issue-awards-submit"))
    number = chrome.find_element(By.CSS_SELECTOR, "#awards tr td.award-number").text
    chrome.switch_to.window(public_window)
    chrome.get(f"{live_server}/awards/lookup?number={number}&name=王伟")
    found = chrome.find_element(By.ID, "lookup-results").text
    assert number in found and "金牌" in found and "数控车工技能竞赛" in found and "南京代表队" in found
