"""Review and appeal in headless Chromium: an examiner overrides an item of a practical report with a reason and
releases it; the candidate appeals that item from their home page; a second examiner, who did not grade the
attempt, re-grades it and upholds the appeal; the candidate sees the decision and the new total.

The test itself is the grading worker (grade_all between the steps), so the server runs in this process."""
from __future__ import annotations


import pytest

from exam_server import scoring
from exam_server.accounts import find_user
from exam_server.models import utcnow
from tests.server.conftest import sign_in

from .test_grading_views import candidate_of
from .test_scoring import extra_examiner, grade_all, stored, submitted_practical_attempt, with_attempt

pytestmark = pytest.mark.browser
PASSWORD = "Demo@2026"


def practical_report_ready_for_review(database) -> int:
    """The reference lathe run graded with 外观 Q01 confirmed by two examiners (3 and 3): 94 + 3 = 97."""
    attempt_id = submitted_practical_attempt(database)

    def mark(db, attempt):
        for username in ("examiner_nj01", "examiner_nj01c"):
            user = find_user(db, username) or extra_examiner(db, username)
            scoring.add_mark(db, attempt, user, "Q01", 3, "", utcnow())
        extra_examiner(db, "examiner_nj01b")           # the appeal's reviewer: grades nothing before
    with_attempt(database, attempt_id, mark)
    grade_all(database)
    assert stored(database, attempt_id)["total"] == 97
    return attempt_id


def click_through(chrome, by: str, selector: str) -> None:
    """Click a link or submit button and wait for the next page (click() does not wait for the navigation)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = chrome.find_element(By.TAG_NAME, "html")
    chrome.find_element(by, selector).click()
    WebDriverWait(chrome, 10, poll_frequency=0.05).until(lambda d: _gone(page))


def _gone(element) -> bool:
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        element.tag_name
        return False
    except StaleElementReferenceException:
        return True


def as_user(chrome, base: str, username: str) -> None:
    chrome.delete_all_cookies()
    sign_in(chrome, base, username, PASSWORD)


def test_override_release_appeal_review_and_decision_in_the_browser(live_server, chrome, database):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    attempt_id = practical_report_ready_for_review(database)
    text = lambda element_id: chrome.find_element(By.ID, element_id).text  # noqa: E731

    # The examiner lowers Ra (L14, 4 points) to 2 with a reason: 97 − 2 = 95; then confirms and releases.
    as_user(chrome, live_server, "examiner_nj01")
    chrome.get(f"{live_server}/grading/attempts/{attempt_id}/report")
    assert text("report-total") == "97"
    Select(chrome.find_element(By.ID, "override-item")).select_by_value("L14")
    chrome.find_element(By.ID, "override-score").send_keys("2")
    chrome.find_element(By.ID, "override-reason").send_keys("表面有振纹，降一级")
    click_through(chrome, By.ID, "override-submit")
    assert "表面有振纹" in text("override-list")
    grade_all(database)
    chrome.get(f"{live_server}/grading/attempts/{attempt_id}/report")
    assert text("report-total") == "95"
    click_through(chrome, By.ID, "release-report")
    assert "发布" in text("release-state")

    # The candidate appeals L14 from the report their home page links.
    as_user(chrome, live_server, candidate_of(database, attempt_id))
    click_through(chrome, By.CSS_SELECTOR, f"#my-reports a[href='/my/reports/{attempt_id}']")
    assert text("report-total") == "95"
    chrome.find_element(By.CSS_SELECTOR, "#appeal-form input[value='L14']").click()
    chrome.find_element(By.ID, "appeal-reason").send_keys("表面无振纹，请复核")
    click_through(chrome, By.ID, "appeal-submit")
    assert chrome.find_element(By.CSS_SELECTOR, "#my-appeals .appeal").get_attribute("data-status") == "filed"

    # Another examiner finds the appeal in the session's list, re-grades L14 at 4 and upholds it.
    as_user(chrome, live_server, "examiner_nj01b")
    chrome.get(f"{live_server}/grading/attempts/{attempt_id}/report")
    click_through(chrome, By.CSS_SELECTOR, "#appeal-list a")
    Select(chrome.find_element(By.ID, "review-item")).select_by_value("L14")
    chrome.find_element(By.ID, "review-score").send_keys("4")
    chrome.find_element(By.ID, "review-note").send_keys("复测 Ra1.6 合格")
    click_through(chrome, By.ID, "review-submit")
    assert "复测 Ra1.6 合格" in text("appealed-items")
    chrome.find_element(By.ID, "decide-uphold").click()
    chrome.find_element(By.ID, "decision-reason").send_keys("复测表面粗糙度合格，恢复原分")
    click_through(chrome, By.ID, "decision-submit")
    assert "恢复原分" in text("appeal-decision")
    grade_all(database)

    # The candidate sees the decision with its reasons and the restored total: 95 + 2 = 97.
    as_user(chrome, live_server, candidate_of(database, attempt_id))
    chrome.get(f"{live_server}/my/reports/{attempt_id}")
    appeal = chrome.find_element(By.CSS_SELECTOR, "#my-appeals .appeal")
    assert appeal.get_attribute("data-status") == "upheld" and "恢复原分" in appeal.text
    assert text("report-total") == "97"
