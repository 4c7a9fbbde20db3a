"""The candidate never loses an answer or time to the platform, shown in real Chromium against a real
`examctl serve` process (gevent): a killed and restarted server, a cut network, a wrong computer clock, and
a deadline that passes with nobody submitting."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.server.conftest import begin_exam, check_in_page, start_demo_session
from tests.server.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.browser, pytest.mark.slow]
EXAMCTL = Path(sys.executable).with_name("examctl")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, database_url: str, instance: Path):
        self.port = free_port()
        self.env = {**os.environ, "EXAM_DATABASE_URL": database_url, "EXAM_INSTANCE_PATH": str(instance),
                    "EXAM_SECRET_KEY": "browser-test", "EXAM_ASYNC_MODE": "gevent", "EXAM_REDIS_URL": ""}
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServerProcess":
        self.process = subprocess.Popen([str(EXAMCTL), "serve", "--port", str(self.port)], env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/login", timeout=1)
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("examctl serve did not come up")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture
def server(database_url, tmp_path):
    process = ServerProcess(database_url, tmp_path / "instance").start()
    yield process
    if process.process.poll() is None:
        process.kill()


def wait(chrome, condition, seconds=15):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(chrome, seconds, poll_frequency=0.2).until(condition)


def by_id(chrome, element_id):
    from selenium.webdriver.common.by import By

    return chrome.find_element(By.ID, element_id)


def answer(chrome, option: int) -> str:
    """Answer the shown question with its option number `option`; returns the stem."""
    from selenium.webdriver.common.by import By

    wait(chrome, lambda d: by_id(d, "stem").is_displayed())
    stem = by_id(chrome, "stem").text
    chrome.find_elements(By.CSS_SELECTOR, "#answers input")[option].click()
    return stem


def chosen(chrome) -> list[int]:
    from selenium.webdriver.common.by import By

    return [i for i, x in enumerate(chrome.find_elements(By.CSS_SELECTOR, "#answers input")) if x.is_selected()]


def saved(chrome) -> bool:
    return by_id(chrome, "save-status").text.startswith("已保存") and not by_id(chrome, "offline").is_displayed()


def test_answers_survive_a_server_kill_and_restart(server, chrome, database):
    ticket, id_number, pin = start_demo_session(database)
    check_in_page(chrome, server.url, ticket, id_number, pin)
    begin_exam(chrome)
    answer(chrome, 0)
    wait(chrome, saved)
    by_id(chrome, "next").click()
    server.kill()                                                   # kill -9 mid-exam
    answer(chrome, 1)                                               # typed while the server is down
    wait(chrome, lambda d: by_id(d, "offline").is_displayed())
    server.start()                                                  # same port, same database
    wait(chrome, saved, seconds=40)                                 # the outbox retries until acknowledged
    chrome.refresh()
    wait(chrome, lambda d: by_id(d, "stem").is_displayed())
    assert chosen(chrome) == [0]
    by_id(chrome, "next").click()
    assert chosen(chrome) == [1]


def test_answers_typed_while_cut_off_arrive_after_the_network_returns(server, chrome, database):
    proxy = TcpProxy(server.port).start()
    ticket, id_number, pin = start_demo_session(database)
    base = f"http://127.0.0.1:{proxy.port}"
    check_in_page(chrome, base, ticket, id_number, pin)
    begin_exam(chrome)
    answer(chrome, 2)
    wait(chrome, saved)
    proxy.cut()                                                     # the cable is pulled
    by_id(chrome, "next").click()
    answer(chrome, 3)
    wait(chrome, lambda d: by_id(d, "offline").is_displayed())
    restored = TcpProxy(server.port, proxy.port).start()            # the cable is back, same address
    try:
        wait(chrome, saved, seconds=40)
        with database.session(write=False) as db:
            from sqlalchemy import select

            from exam_server.models import Response
            assert len(db.execute(select(Response)).scalars().all()) == 2
    finally:
        restored.cut()


def test_a_wrong_computer_clock_does_not_change_the_time(server, chrome, database):
    ticket, id_number, pin = start_demo_session(database)
    # The candidate's computer is three hours fast.
    chrome.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
        (() => { const shift = 3 * 3600 * 1000, RealDate = Date;
          class ShiftedDate extends RealDate {
            constructor(...args) { if (args.length) super(...args); else super(RealDate.now() + shift); }
            static now() { return RealDate.now() + shift; } }
          window.Date = ShiftedDate; })();"""})
    check_in_page(chrome, server.url, ticket, id_number, pin)
    begin_exam(chrome)
    wait(chrome, lambda d: by_id(d, "stem").is_displayed())
    assert chrome.execute_script("return new Date().getTime() - performance.timeOrigin") > 3 * 3600 * 1000 - 60_000
    assert by_id(chrome, "timer").text.startswith(("02:00:", "01:59:"))


def test_the_deadline_submits_automatically(server, chrome, database):
    ticket, id_number, pin = start_demo_session(database, duration_s=12)
    check_in_page(chrome, server.url, ticket, id_number, pin)
    begin_exam(chrome)
    answer(chrome, 1)
    wait(chrome, lambda d: by_id(d, "receipt").is_displayed(), seconds=30)
    assert "考试时间到" in by_id(chrome, "receipt").text
    with database.session(write=False) as db:
        from sqlalchemy import select

        from exam_server.models import Attempt
        attempt = db.execute(select(Attempt)).scalars().one()
        assert attempt.submitted_at is not None
        assert (attempt.submitted_at - attempt.started_at).total_seconds() <= 12 + 0.001
