"""Signing in: the zh-CN page, role homes, throttling and lockout, sessions, CSRF."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from exam_server import accounts
from exam_server.models import AuditEvent, UserSession, utcnow
from exam_server.security import sessions, throttle


def actions(database) -> list[str]:
    with database.session(write=False) as db:
        return [e.action for e in db.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()]


def test_login_page_is_zh_cn_by_default(client):
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text and "用户名" in page.text and "密码" in page.text


def test_language_switch_to_english(browser):
    response = browser.post("/language", {"locale": "en", "next": "/login"})
    assert response.status_code == 302
    assert "Sign in" in browser.get("/login").text


def test_unknown_language_is_refused_in_chinese(browser):
    response = browser.post("/language", {"locale": "fr"})
    assert response.status_code == 400 and "不支持该语言" in response.text


ROLE_HOMES = [("admin", "provincial_admin", "省级管理首页"), ("nj_admin", "centre_admin", "鉴定中心管理首页"),
              ("nj01_manager", "station_manager", "鉴定站首页"), ("author", "question_author", "命题工作首页"),
              ("examiner_nj01", "examiner", "考评员首页"), ("supervisor_sz", "supervisor", "督导员首页"),
              ("ks001", "candidate", "考生首页")]


def test_each_role_lands_on_its_own_home(new_browser):
    for username, role, title in ROLE_HOMES:
        browser = new_browser()
        response = browser.login(username)
        assert response.status_code == 302, username
        home = browser.get("/", follow_redirects=True)
        assert home.request.path == f"/home/{role}", username
        assert title in home.text, username


def test_role_home_of_another_role_is_forbidden(browser):
    browser.login("ks001")
    assert browser.get("/home/examiner").status_code == 403
    assert browser.get("/home/nonsense").status_code == 404


def test_centre_admin_sees_only_own_subtree(browser):
    browser.login("nj_admin")
    page = browser.get("/home/centre_admin").text
    assert "南京技师学院鉴定站" in page and "苏州技师学院鉴定站" not in page


def test_wrong_password_gives_one_generic_message(browser, database):
    for username in ("admin", "nobody-here"):
        response = browser.login(username, "wrong-password")
        assert response.status_code == 401 and "用户名或密码错误" in response.text
    assert actions(database).count("login_failed") == 2


def test_staff_account_slows_down_then_locks(database):
    """Three free failures, then doubling waits, then a 15-minute lock at the eighth failure."""
    t0 = utcnow()
    with database.transaction() as db:
        for i in range(3):
            _fail(db, "admin", t0 + timedelta(seconds=i))
    with database.transaction() as db:
        _fail(db, "admin", t0 + timedelta(seconds=3))          # 4th failure: now 2^1 = 2 s to wait
    with database.transaction() as db:
        refused = _attempt(db, "admin", "wrong", t0 + timedelta(seconds=4))
        assert refused.key == "login.wait" and refused.status == 429 and refused.values["seconds"] == 1
    now = t0 + timedelta(seconds=5)
    for failures in range(5, 9):                               # waits 2, 4, 8, 16 s after the 4th..7th
        now += timedelta(seconds=30)
        with database.transaction() as db:
            _fail(db, "admin", now)
    with database.transaction() as db:
        refused = _attempt(db, "admin", "Demo@2026", now + timedelta(minutes=14))
        assert refused.key == "login.locked"                   # even the right password waits out the lock
    with database.transaction() as db:
        signed = accounts.sign_in(db, "admin", "Demo@2026", now + timedelta(minutes=15, seconds=1), "10.0.0.1")
        assert signed.user.username == "admin"
    log = actions(database)
    assert log.count("login_failed") == 8 and log.count("account_locked") == 1
    assert log.count("login_throttled") == 2 and log[-1] == "login_succeeded"


def test_candidate_is_never_locked_and_examiner_can_reset(database):
    t0 = utcnow()
    now = t0
    for _ in range(15):
        now += timedelta(seconds=40)                           # wait out each back-off (at most 30 s)
        with database.transaction() as db:
            _fail(db, "ks001", now)
    with database.transaction() as db:
        refused = _attempt(db, "ks001", "Demo@2026", now + timedelta(seconds=1))
        assert refused.key == "login.wait" and refused.values["seconds"] <= 30
    with database.transaction() as db:
        candidate = accounts.find_user(db, "ks001")
        examiner = accounts.find_user(db, "examiner_nj01")
        assert accounts.reset_login_delay(db, examiner, candidate, now) is True
    with database.transaction() as db:
        assert accounts.sign_in(db, "ks001", "Demo@2026", now + timedelta(seconds=2)).user.username == "ks001"
    assert "account_locked" not in actions(database)


def test_examiner_reset_is_scoped_to_own_station(new_browser, database):
    with database.transaction() as db:
        nj_candidate = accounts.find_user(db, "ks001").id     # ks001..ks010 sit at JS-NJ-01
        sz_candidate = accounts.find_user(db, "ks025").id     # ks021..ks030 sit at JS-SZ-01
        examiner = accounts.find_user(db, "examiner_nj01").id
    browser = new_browser()
    browser.login("examiner_nj01")
    assert browser.post_json(f"/api/candidates/{nj_candidate}/login-delay/reset").status_code == 200
    assert browser.post_json(f"/api/candidates/{sz_candidate}/login-delay/reset").status_code == 403
    assert browser.post_json(f"/api/candidates/{examiner}/login-delay/reset").status_code == 404
    assert browser.post_json("/api/candidates/999999/login-delay/reset").status_code == 404
    supervisor = new_browser()
    supervisor.login("supervisor_nj")                           # read-only: may see, may not act
    assert supervisor.post_json(f"/api/candidates/{nj_candidate}/login-delay/reset").status_code == 403
    assert actions(database).count("login_delay_reset") == 1


def test_examiner_page_lists_own_candidates_with_reset_button(new_browser, database):
    with database.transaction() as db:
        _fail(db, "ks002", utcnow())
    browser = new_browser()
    browser.login("examiner_nj01")
    page = browser.get("/home/examiner").text
    assert "ks001" in page and "ks011" not in page and "解除登录等待" in page


def test_login_rotates_the_session_and_logout_revokes_it(browser, client):
    browser.login("admin")
    first = client.get_cookie("exam_session").value
    browser.login("nj_admin")
    second = client.get_cookie("exam_session").value
    assert first != second
    client.set_cookie("exam_session", first)
    assert client.get("/api/me").status_code == 401            # the old session died with the new login
    client.set_cookie("exam_session", second)
    assert client.get("/api/me").json["username"] == "nj_admin"
    assert browser.post("/logout").status_code == 302
    client.set_cookie("exam_session", second)
    assert client.get("/api/me").status_code == 401


def test_idle_and_absolute_timeouts(database):
    t0 = utcnow()
    with database.transaction() as db:
        token, _ = sessions.open_session(db, accounts.find_user(db, "admin"), t0)
    idle, absolute = timedelta(minutes=30), timedelta(hours=12)
    with database.session(write=False) as db:
        assert sessions.find_session(db, token, t0 + timedelta(minutes=29), idle, absolute) is not None
        assert sessions.find_session(db, token, t0 + timedelta(minutes=31), idle, absolute) is None
    with database.transaction() as db:
        row = db.execute(select(UserSession)).scalars().one()
        for hour in range(1, 13):                               # active every 20 minutes for 12 hours
            sessions.touch(db, row.id, t0 + timedelta(hours=hour))
    with database.session(write=False) as db:
        assert sessions.find_session(db, token, t0 + timedelta(hours=12, minutes=1), idle, absolute) is None


def test_post_without_csrf_token_is_refused_and_changes_nothing(client, database):
    response = client.post("/login", data={"username": "admin", "password": "Demo@2026"})
    assert response.status_code == 403 and "页面已过期" in response.text
    assert client.get_cookie("exam_session") is None
    assert "login_succeeded" not in actions(database)


def test_cross_site_post_is_refused_even_with_a_token(browser):
    token = browser.csrf()
    response = browser.client.post("/login", data={"username": "admin", "password": "Demo@2026",
                                                   "csrf_token": token}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403


def test_json_login_and_errors_in_the_users_language(browser):
    bad = browser.post_json("/api/login", {"username": "admin"})
    assert bad.status_code == 400 and bad.json["error"]["code"] == "error.json_fields"
    assert "password" in bad.json["error"]["message"]
    wrong = browser.post_json("/api/login", {"username": "admin", "password": "nope-nope"})
    assert wrong.status_code == 401 and wrong.json["error"]["message"] == "用户名或密码错误。"
    ok = browser.post_json("/api/login", {"username": "admin", "password": "Demo@2026"})
    assert ok.status_code == 200 and ok.json["roles"][0]["role"] == "provincial_admin"


def test_anonymous_api_call_gets_json_401(client):
    response = client.get("/api/me")
    assert response.status_code == 401 and response.json["error"]["code"] == "error.unauthorised"


def _attempt(db, username, password, now):
    try:
        accounts.sign_in(db, username, password, now, "10.0.0.1")
    except accounts.LoginRefused as refused:
        return refused
    raise AssertionError("sign-in was expected to be refused")


def _fail(db, username, now):
    refused = _attempt(db, username, "wrong-password", now)
    assert refused.key == "login.failed", refused.key
    return refused


def test_throttle_key_is_account_and_centre_not_address(database):
    with database.session(write=False) as db:
        user = accounts.find_user(db, "ks001")
        assert throttle.key_for(user, "1.2.3.4") == throttle.key_for(user, "5.6.7.8")
        assert str(user.organisation_id) in throttle.key_for(user, "1.2.3.4")
