"""A candidate takes the theory exam on a station node in Chromium while the hub is out of reach."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from exam_server import create_app, delivery
from exam_server.accounts import find_user
from exam_server.models import ExamPart, ExamSession, Response, utcnow

from .conftest import check_in_page
from .test_nodes import (NODE_PAPER_KEY, node_database, node_template, package_on_hub, receive_and_unlock,  # noqa: F401
                         release_code, set_up_node)

pytestmark = pytest.mark.browser


@pytest.fixture
def node_server(database, node_database, tmp_path):  # noqa: F811
    """The node's server, its session unlocked from the hub's package; the hub is not reachable from here."""
    data, session_id, station = package_on_hub(database, ExamPart.theory)
    set_up_node(node_database, station)
    with database.session(write=False) as db:
        start = db.get(ExamSession, session_id).scheduled_start_at
    node_session_id = receive_and_unlock(node_database, data, release_code(database, session_id, start), start)
    with node_database.transaction() as db:
        session = db.get(ExamSession, node_session_id)
        session.scheduled_start_at = utcnow()
        examiner = find_user(db, "examiner_nj01")
        pin = delivery.open_check_in(db, session, examiner, utcnow() - timedelta(minutes=1))
        delivery.start_session(db, session, examiner, utcnow(), NODE_PAPER_KEY)
        entry = session.roster[0]
        seat = (entry.ticket_number, entry.candidate.id_number, pin)
    app = create_app({"database_url": node_database.url, "instance_path": tmp_path / "node-instance",
                      "secret_key": "node-secret", "redis_url": "", "node_role": "station", "testing": True,
                      "paper_key_hex": NODE_PAPER_KEY.hex()})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seat
    server.shutdown()
    thread.join(5)
    app.extensions["exam_db"].dispose()


def test_a_candidate_sits_the_exam_on_the_node(node_server, chrome, node_database):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base, (ticket, id_number, pin) = node_server
    wait = WebDriverWait(chrome, 10)
    check_in_page(chrome, base, ticket, id_number, pin)
    wait.until(lambda d: d.find_element(By.ID, "identity").is_displayed())
    assert ticket in chrome.find_element(By.ID, "identity").text
    chrome.find_element(By.ID, "begin").click()
    wait.until(ec.visibility_of_element_located((By.ID, "stem")))
    chrome.find_elements(By.CSS_SELECTOR, "#answers input")[0].click()
    wait.until(lambda d: d.find_element(By.ID, "save-status").text.startswith("已保存"))
    chrome.find_element(By.ID, "to-review").click()
    chrome.find_element(By.ID, "submit").click()
    chrome.find_element(By.ID, "confirm-yes").click()
    wait.until(ec.visibility_of_element_located((By.ID, "receipt-text")))
    assert chrome.find_element(By.ID, "receipt-text").text.startswith("共作答 1 题。")
    with node_database.session(write=False) as db:
        assert len(db.execute(select(Response)).scalars().all()) == 1      # stored on the node, nowhere else
