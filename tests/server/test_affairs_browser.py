"""In headless Chromium: a station registers a candidate through the form (with a photo), the centre approves it."""
from __future__ import annotations


import pytest

from exam_server import photos
from exam_server.models import Registration, utcnow
from tests.server.conftest import sign_in

from .test_affairs import FEMALE, org, published_plan

pytestmark = pytest.mark.browser


def status_becomes(chrome, expected: str) -> None:
    """Wait for the next page: click() returns before the form's navigation, and the old page has the same ids."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(chrome, 10, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.ID, "registration-status").text == expected)


def test_a_station_registers_and_the_centre_approves(chrome, live_server, database, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    with database.transaction() as db:
        plan_id = published_plan(db, utcnow()).id
        nj01 = org(db, "JS-NJ-01").id
    photo = tmp_path / "photo.png"
    photo.write_bytes(photos.placeholder_png(5))

    sign_in(chrome, live_server, "nj01_manager", "Demo@2026")
    chrome.get(f"{live_server}/affairs/plans/{plan_id}")
    chrome.find_element(By.CSS_SELECTOR, f'tr[data-station="{nj01}"] a.register').click()
    chrome.find_element(By.ID, "id_number").send_keys(FEMALE)
    chrome.find_element(By.ID, "name").send_keys("李娜")
    Select(chrome.find_element(By.ID, "education")).select_by_value("college")
    chrome.find_element(By.ID, "eligibility_basis").send_keys("取得四级证书后从事本职业工作 5 年")
    chrome.find_element(By.ID, "photo").send_keys(str(photo))
    chrome.find_element(By.ID, "register-submit").click()
    status_becomes(chrome, "待审核")
    assert chrome.find_element(By.ID, "registration-photo").get_attribute("naturalWidth") == "90"
    registration_url = chrome.current_url

    chrome.delete_all_cookies()
    sign_in(chrome, live_server, "nj_admin", "Demo@2026")
    chrome.get(registration_url)
    chrome.find_element(By.ID, "approve").click()
    status_becomes(chrome, "审核通过（未缴费）")
    with database.transaction() as db:
        (reg,) = db.query(Registration).all()
        assert (reg.name, reg.sex, reg.approved, reg.photo_type) == ("李娜", "F", True, "image/png")
