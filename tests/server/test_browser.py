"""People in headless Chromium: the zh-CN login page and role homes, and a candidate's theory exam.

Skips with a message when Chromium is not installed, unless REQUIRE_BROWSER=1 (as in CI), where it fails.
"""
from __future__ import annotations


import pytest

from tests.server.conftest import check_in_page, sign_in, start_demo_session

pytestmark = pytest.mark.browser


def test_examiner_signs_in_through_the_zh_cn_page(live_server, chrome):
    from selenium.webdriver.common.by import By

    chrome.get(live_server + "/")
    assert chrome.current_url.endswith("/login")
    assert chrome.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"  # even with an English browser
    assert chrome.find_element(By.ID, "login-submit").text == "登录"
    sign_in(chrome, live_server, "examiner_nj01", "Demo@2026")
    assert chrome.current_url.endswith("/home/examiner")
    assert chrome.find_element(By.ID, "home-title").text == "考评员首页"
    rows = chrome.find_elements(By.CSS_SELECTOR, "#candidates tbody tr")
    assert len(rows) == 10                                      # the ten candidates of the examiner's station


def test_wrong_password_shows_the_error_and_stays_signed_out(live_server, chrome):
    from selenium.webdriver.common.by import By

    sign_in(chrome, live_server, "admin", "not-the-password")
    assert chrome.find_element(By.ID, "login-error").text == "用户名或密码错误。"
    assert chrome.get_cookie("exam_session") is None


def test_theory_exam_answers_survive_a_reload_and_submit(live_server, chrome, database):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    ticket, id_number, pin = start_demo_session(database)
    wait = WebDriverWait(chrome, 10)
    check_in_page(chrome, live_server, ticket, id_number, "999999")
    wait.until(lambda d: d.find_element(By.ID, "check-in-error").text)
    assert chrome.find_element(By.ID, "check-in-error").text == "准考证号、身份证号或考场口令不正确。"
    check_in_page(chrome, live_server, ticket, id_number, pin)
    wait.until(lambda d: d.find_element(By.ID, "identity").is_displayed())
    identity = chrome.find_element(By.ID, "identity").text
    assert "数控车工" in identity and ticket in identity
    chrome.find_element(By.ID, "begin").click()
    wait.until(ec.visibility_of_element_located((By.ID, "stem")))
    assert chrome.find_element(By.ID, "timer").text.startswith(("02:00", "01:59"))
    stem = chrome.find_element(By.ID, "stem").text
    chrome.find_elements(By.CSS_SELECTOR, "#answers input")[1].click()          # answer the first question: B
    chrome.find_element(By.ID, "flag").click()
    wait.until(lambda d: d.find_element(By.ID, "save-status").text.startswith("已保存"))
    chrome.refresh()
    wait.until(ec.visibility_of_element_located((By.ID, "stem")))
    assert chrome.find_element(By.ID, "stem").text == stem                    # same order after the reload
    assert chrome.find_elements(By.CSS_SELECTOR, "#answers input")[1].is_selected()
    first = chrome.find_element(By.CSS_SELECTOR, "#navigator button")
    assert "answered" in first.get_attribute("class") and "flagged" in first.get_attribute("class")
    chrome.find_element(By.ID, "to-review").click()
    assert chrome.find_element(By.ID, "unanswered").text == "未答：19 题"
    chrome.find_element(By.ID, "submit").click()
    chrome.find_element(By.ID, "confirm-yes").click()
    wait.until(ec.visibility_of_element_located((By.ID, "receipt-text")))
    assert chrome.find_element(By.ID, "receipt-text").text.startswith("共作答 1 题。交卷凭证：")


def test_examiner_opens_check_in_and_starts_the_session(live_server, chrome):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(chrome, 10)
    sign_in(chrome, live_server, "examiner_nj01", "Demo@2026")
    chrome.find_element(By.CSS_SELECTOR, "#sessions a").click()
    wait.until(lambda d: d.find_element(By.ID, "session-status").text == "未开始")
    assert len(chrome.find_elements(By.CSS_SELECTOR, "#roster tbody tr")) == 10
    chrome.find_element(By.CSS_SELECTOR, '[data-action="check-in"]').click()
    wait.until(lambda d: d.find_element(By.ID, "session-status").text == "签到中")
    pin = chrome.find_element(By.ID, "pin").text
    assert len(pin) == 6 and pin.isdigit()
    chrome.find_element(By.CSS_SELECTOR, '[data-action="start"]').click()
    wait.until(lambda d: d.find_element(By.ID, "session-status").text == "考试中")
