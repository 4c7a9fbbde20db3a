"""Server fixtures: every test gets a fresh, migrated database holding the demo province.

On SQLite (the default) a migrated template file is copied per test; with EXAM_DATABASE_URL pointing at a
PostgreSQL server, the run creates a template database of its own, clones it per test and drops everything
at the end. The machine's own databases are never touched.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import uuid

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from exam_server import create_app, demo
from exam_server.db import Database
from exam_server.models import utcnow
from exam_server.schema import upgrade

SERVER_URL = os.environ.get("EXAM_DATABASE_URL", "")
REDIS_URL = os.environ.get("EXAM_REDIS_URL", "")
PAPER_KEY = bytes.fromhex(os.environ["EXAM_PAPER_KEY"])


def _admin_engine():
    return create_engine(make_url(SERVER_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _fill_template(url: str) -> None:
    upgrade(url)
    database = Database(url)
    with database.transaction() as db:
        demo.load(db, utcnow(), PAPER_KEY)
    database.dispose()


@pytest.fixture(scope="session")
def template_database(tmp_path_factory):
    """A migrated database with the demo province, made once per run."""
    if not SERVER_URL:
        path = tmp_path_factory.mktemp("template") / "template.db"
        _fill_template(f"sqlite:///{path}")
        yield path
        return
    name = f"exam_test_tmpl_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _fill_template(make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False))
        yield name
    finally:
        with admin.connect() as conn:
            for leftover in conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                                         {"p": name.replace("tmpl", "%")}).scalars():
                conn.execute(text(f'DROP DATABASE IF EXISTS "{leftover}" WITH (FORCE)'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(template_database, tmp_path):
    """A fresh copy of the template for one test."""
    if not SERVER_URL:
        path = tmp_path / "exam.db"
        shutil.copy(template_database, path)
        yield f"sqlite:///{path}"
        return
    name = re.sub("tmpl", "t" + uuid.uuid4().hex[:8], template_database)
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
    yield make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app({"database_url": database_url, "instance_path": tmp_path / "instance",
                      "secret_key": "test-secret", "redis_url": REDIS_URL, "testing": True})
    yield app
    app.extensions["exam_db"].dispose()


@pytest.fixture
def socket_app(database_url, tmp_path):
    """An app without the Redis message queue: Socket.IO's test client cannot run over one."""
    app = create_app({"database_url": database_url, "instance_path": tmp_path / "socket-instance",
                      "secret_key": "test-secret", "redis_url": "", "testing": True})
    yield app
    app.extensions["exam_db"].dispose()


@pytest.fixture
def session_id(database):
    """The demo theory session's id."""
    with database.session(write=False) as db:
        return theory_session(db).id


@pytest.fixture
def examiner(new_browser):
    """The demo station's examiner, signed in."""
    browser = new_browser()
    browser.login("examiner_nj01")
    return browser


def theory_session(db):
    """The demo's theory session (the demo also has practical ones; `first()` alone is not an order)."""
    from exam_server.models import ExamPart, ExamSession

    return db.execute(select(ExamSession).where(ExamSession.part == ExamPart.theory)
                      .order_by(ExamSession.id)).scalars().first()


@pytest.fixture
def database(app) -> Database:
    return app.extensions["exam_db"]


@pytest.fixture
def client(app):
    return app.test_client()


class Browser:
    """A test client that signs in and sends CSRF tokens the way the pages do."""

    def __init__(self, client):
        self.client = client

    def csrf(self) -> str:
        return self.client.get("/api/csrf").json["csrf_token"]

    def login(self, username: str, password: str = demo.DEMO_PASSWORD, **extra):
        return self.client.post("/login", data={"username": username, "password": password,
                                                "csrf_token": self.csrf(), **extra})

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self.client.post(path, data={**(data or {}), "csrf_token": self.csrf()}, **kwargs)

    def post_json(self, path: str, body: dict | None = None):
        return self.client.post(path, json=body or {}, headers={"X-CSRF-Token": self.csrf()})

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)


@pytest.fixture
def browser(client) -> Browser:
    return Browser(client)


@pytest.fixture
def new_browser(app):
    """Several independent browsers in one test (each with its own cookies)."""
    return lambda: Browser(app.test_client())


# ---- browsers ---------------------------------------------------------------------------------------------
@pytest.fixture
def live_server(app):
    """The test's app served on a free loopback port, for Chromium."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def require_browser():
    if os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER):
        return
    message = "no Chromium/ChromeDriver (apt-get install chromium chromium-driver)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def chrome():
    require_browser()
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not try to download anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chrome-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--lang=en-US", f"--user-data-dir={profile}", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def check_in_page(chrome, base, ticket, id_number, pin):
    from selenium.webdriver.common.by import By

    chrome.get(base + "/check-in")
    chrome.find_element(By.ID, "ticket").send_keys(ticket)
    chrome.find_element(By.ID, "id-number").send_keys(id_number)
    chrome.find_element(By.ID, "pin").send_keys(pin)
    chrome.find_element(By.ID, "check-in-submit").click()


def begin_exam(chrome) -> None:
    """Confirm the identity card shown before a first start."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(chrome, 10).until(lambda d: d.find_elements(By.ID, "begin"))
    chrome.find_element(By.ID, "begin").click()


def sign_in(chrome, base, username, password):
    from selenium.webdriver.common.by import By

    from selenium.webdriver.support.ui import WebDriverWait

    chrome.get(base + "/login")
    login_page = chrome.find_element(By.TAG_NAME, "html")
    chrome.find_element(By.ID, "username").send_keys(username)
    chrome.find_element(By.ID, "password").send_keys(password)
    chrome.find_element(By.ID, "login-submit").click()
    # click() does not wait for the form's navigation: wait until the login page has been replaced
    WebDriverWait(chrome, 15, poll_frequency=0.1).until(lambda d: _replaced(login_page))


def _replaced(element) -> bool:
    """The element's page has gone (Chromium says so as a stale reference, or, while the next document loads,
    as "Node with given id does not belong to the document")."""
    from selenium.common.exceptions import WebDriverException

    try:
        element.tag_name
        return False
    except WebDriverException:
        return True


def click_and_wait(chrome, element, seconds: float = 15) -> None:
    """Click what submits a form or follows a link, and wait until the next page has loaded (click() does not)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = chrome.find_element(By.TAG_NAME, "html")
    element.click()
    wait = WebDriverWait(chrome, seconds, poll_frequency=0.1)
    wait.until(lambda d: _replaced(page))
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def start_demo_session(database, duration_s: int | None = None) -> tuple[str, str, str]:
    """Open check-in and start the demo session: the first seat's ticket, ID number and the room PIN."""

    from exam_server import delivery
    from exam_server.accounts import find_user
    from exam_server.models import utcnow

    with database.transaction() as db:
        session = theory_session(db)
        if duration_s is not None:
            session.duration_s = duration_s
        examiner = find_user(db, "examiner_nj01")
        pin = delivery.open_check_in(db, session, examiner, utcnow())
        delivery.start_session(db, session, examiner, utcnow(), PAPER_KEY)
        entry = session.roster[0]
        return entry.ticket_number, entry.candidate.id_number, pin
