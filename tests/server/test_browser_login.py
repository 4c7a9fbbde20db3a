"""A person at the login page, in headless Chromium: the zh-CN page, a sign-in, the role's home page.

Skips with a message when Chromium is not installed, unless REQUIRE_BROWSER=1 (as in CI), where it fails.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading

import pytest
from werkzeug.serving import make_server

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _require_browser():
    if os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER):
        return
    message = "no Chromium/ChromeDriver (apt-get install chromium chromium-driver)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def chrome():
    _require_browser()
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


def _sign_in(chrome, base, username, password):
    from selenium.webdriver.common.by import By

    chrome.get(base + "/login")
    chrome.find_element(By.ID, "username").send_keys(username)
    chrome.find_element(By.ID, "password").send_keys(password)
    chrome.find_element(By.ID, "login-submit").click()


def test_examiner_signs_in_through_the_zh_cn_page(live_server, chrome):
    from selenium.webdriver.common.by import By

    chrome.get(live_server + "/")
    assert chrome.current_url.endswith("/login")
    assert chrome.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"  # even with an English browser
    assert chrome.find_element(By.ID, "login-submit").text == "登录"
    _sign_in(chrome, live_server, "examiner_nj01", "Demo@2026")
    assert chrome.current_url.endswith("/home/examiner")
    assert chrome.find_element(By.ID, "home-title").text == "考评员首页"
    rows = chrome.find_elements(By.CSS_SELECTOR, "#candidates tbody tr")
    assert len(rows) == 10                                      # the ten candidates of the examiner's station


def test_wrong_password_shows_the_error_and_stays_signed_out(live_server, chrome):
    from selenium.webdriver.common.by import By

    _sign_in(chrome, live_server, "admin", "not-the-password")
    assert chrome.find_element(By.ID, "login-error").text == "用户名或密码错误。"
    assert chrome.get_cookie("exam_session") is None
