"""The hub and a node as two apps talking over HTTP (the node's transport routed to the hub's test client):
register, download with a cut link that resumes, unlock online, upload results in chunks across a cut, and
the refusals (unsigned calls, the other role's pages)."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from exam_server import accounts, create_app, delivery, demo, grading_jobs, hub_client, nodes, scoring
from exam_server.accounts import find_user
from exam_server.errors import UserError
from exam_server.models import Attempt, ExamPart, ExamSession, ResultBundle, Role, RosterEntry, utcnow
from exam_server.models.transfer import ReceivedPackage

from .conftest import Browser
from .test_nodes import NODE_PAPER_KEY, node_database, node_template  # noqa: F401  (fixtures)
from .test_scoring import ANSWERS, HAND_TOTAL

HUB = "http://hub.test"


class Link:
    """The WAN between node and hub: routes requests to the hub app, records them, and can be cut once."""

    def __init__(self, hub_app):
        self.hub, self.calls, self.cut_at = hub_app.test_client(), [], None

    def __call__(self, method, url, headers, body):
        self.calls.append((method, url[len(HUB):], headers.get("Range", "")))
        if self.cut_at is not None and len(self.calls) == self.cut_at:
            self.cut_at = None
            raise UserError("transfer.hub_unreachable", 503, detail="cut")
        response = self.hub.open(url[len(HUB):], method=method, headers=headers, data=body)
        return response.status_code, dict(response.headers), response.get_data()


@pytest.fixture
def node_app(node_database, tmp_path):  # noqa: F811
    app = create_app({"database_url": node_database.url, "instance_path": tmp_path / "node-instance",
                      "secret_key": "node-secret", "redis_url": "", "node_role": "station", "testing": True,
                      "paper_key_hex": NODE_PAPER_KEY.hex()})
    with node_database.transaction() as db:
        nodes.init_station(db, "JS-NJ-01", "南京第一鉴定站", utcnow())
        accounts.create_user(db, "node_manager", "站点管理员", Role.station_manager, "JS-NJ-01", demo.DEMO_PASSWORD,
                             utcnow())
        accounts.create_user(db, "examiner_nj01", "考评员", Role.examiner, "JS-NJ-01", demo.DEMO_PASSWORD, utcnow())
    yield app
    app.extensions["exam_db"].dispose()


def test_a_session_goes_to_the_node_and_its_results_come_back(app, database, node_app, node_database,  # noqa: F811
                                                               monkeypatch):
    monkeypatch.setattr(hub_client, "CHUNK", 4096)
    link = Link(app)
    node_app.config["HUB_TRANSPORT"] = link
    hub_settings, node_settings = app.extensions["exam_settings"], node_app.extensions["exam_settings"]
    with database.transaction() as db:        # the theory session starts in ten minutes
        session = db.execute(select(ExamSession).where(ExamSession.part == ExamPart.theory)
                             .order_by(ExamSession.id)).scalars().first()
        session.scheduled_start_at = utcnow() + timedelta(minutes=10)
        session_id, tickets = session.id, [e.ticket_number for e in session.roster]

    admin, manager = Browser(app.test_client()), Browser(node_app.test_client())
    admin.login("admin")
    manager.login("node_manager")
    assert admin.get("/node").status_code in (403, 404) and manager.get("/nodes").status_code in (403, 404)
    node_key = nodes.public_key_text(nodes.transfer_key(node_settings))
    assert node_key in manager.get("/node").get_data(as_text=True)
    assert admin.post("/nodes", {"station": "JS-NJ-01", "public_key": node_key}).status_code == 302
    assert manager.post("/node/hub", {"public_key": nodes.public_key_text(nodes.transfer_key(hub_settings)),
                                      "station": "JS-NJ-01", "hub_url": HUB}).status_code == 302
    assert admin.post(f"/nodes/sessions/{session_id}/packages").status_code == 302
    assert app.test_client().get("/api/node/packages").status_code == 401          # unsigned

    link.cut_at = 3                           # list, first range, then the link drops
    assert manager.post("/node/sync").status_code == 503
    assert manager.post("/node/sync").status_code == 302
    ranges = [r for method, path, r in link.calls if r]
    assert ranges[:2] == ["bytes=0-4095", "bytes=4096-8191"] and ranges[2] == "bytes=4096-8191"   # resumed
    with node_database.session(write=False) as db:
        received = db.execute(select(ReceivedPackage)).scalar_one()
        assert received.source == "download" and received.unlocked_at is None

    assert manager.post(f"/node/packages/{received.id}/unlock").status_code == 302   # the code fetched online
    with node_database.transaction() as db:   # the exam on the node
        node_session = db.execute(select(ExamSession)).scalar_one()
        assert [e.ticket_number for e in node_session.roster] == tickets
        examiner, start = find_user(db, "examiner_nj01"), utcnow()
        delivery.open_check_in(db, node_session, examiner, start)
        delivery.start_session(db, node_session, examiner, start, NODE_PAPER_KEY)
        entry = node_session.roster[0]
        attempt = delivery.start_attempt(db, entry, start)
        for n, (item, value) in enumerate(sorted(ANSWERS.items()), start=1):
            delivery.apply_save(db, attempt, delivery.SaveOp(uuid.uuid4().hex, n, item, value), start)
        delivery.submit(db, attempt, entry.candidate, start)
        scoring.on_attempt_closed(db, attempt, start)
        delivery.end_session(db, node_session, examiner, start)
    assert grading_jobs.run_pending(node_database, "node") == {"done": 1}

    link.calls.clear()
    link.cut_at = 3                           # status, first chunk, then the link drops
    assert manager.post(f"/node/packages/{received.id}/upload").status_code == 503
    assert manager.post(f"/node/packages/{received.id}/upload").status_code == 302
    puts = [path for method, path, _ in link.calls if method == "PUT"]
    assert len(puts) >= 3 and "offset=4096" in puts[2]                               # resumed after the cut
    assert manager.post(f"/node/packages/{received.id}/upload").status_code == 302   # once more: nothing new
    with database.session(write=False) as db:
        bundle = db.execute(select(ResultBundle)).scalar_one()
        regrade = json.loads(bundle.regrade)
        assert regrade == {tickets[0]: {"node": HAND_TOTAL, "hub": HAND_TOTAL, "items": [], "match": True}}
        assert db.execute(select(func.count()).select_from(Attempt).join(RosterEntry)
                          .where(RosterEntry.exam_session_id == session_id)).scalar() == 1
    page = admin.get("/nodes").get_data(as_text=True)
    assert "1/1" in page


def test_the_usb_stick_and_phone_path(app, database, node_app, node_database):  # noqa: F811
    """No link at all: the package and the results travel as files, the code by phone."""
    import io
    import re

    hub_settings, node_settings = app.extensions["exam_settings"], node_app.extensions["exam_settings"]
    with database.transaction() as db:
        session = db.execute(select(ExamSession).where(ExamSession.part == ExamPart.theory)
                             .order_by(ExamSession.id)).scalars().first()
        session.scheduled_start_at = utcnow() + timedelta(minutes=10)
        session_id = session.id
    admin, manager = Browser(app.test_client()), Browser(node_app.test_client())
    admin.login("admin")
    manager.login("node_manager")
    node_key = nodes.public_key_text(nodes.transfer_key(node_settings))
    admin.post("/nodes", {"station": "JS-NJ-01", "public_key": node_key})
    manager.post("/node/hub", {"public_key": nodes.public_key_text(nodes.transfer_key(hub_settings)),
                               "station": "JS-NJ-01", "hub_url": ""})
    admin.post(f"/nodes/sessions/{session_id}/packages")
    package = admin.get(f"/nodes/sessions/{session_id}/package")
    assert package.status_code == 200 and package.mimetype == "application/octet-stream"
    assert manager.post("/node/packages", {"file": (io.BytesIO(package.data), "session.pkg")},
                        content_type="multipart/form-data").status_code == 302
    page = admin.post(f"/nodes/sessions/{session_id}/release").get_data(as_text=True)
    code = re.search(r'id="release-code"[^>]*>([0-9A-Z-]{29})<', page).group(1)
    with node_database.session(write=False) as db:
        received = db.execute(select(ReceivedPackage)).scalar_one()
    typed = code.lower().replace("-", " ")
    assert manager.post(f"/node/packages/{received.id}/unlock", {"code": typed}).status_code == 302
    with node_database.transaction() as db:
        node_session = db.execute(select(ExamSession)).scalar_one()
        examiner = find_user(db, "examiner_nj01")
        delivery.open_check_in(db, node_session, examiner, utcnow())
        delivery.start_session(db, node_session, examiner, utcnow(), NODE_PAPER_KEY)
        entry = node_session.roster[0]
        delivery.submit(db, delivery.start_attempt(db, entry, utcnow()), entry.candidate, utcnow())
        delivery.end_session(db, node_session, examiner, utcnow())
    results = manager.get(f"/node/packages/{received.id}/results")
    assert results.status_code == 200
    assert admin.post("/nodes/bundles", {"file": (io.BytesIO(results.data), "results.bundle")},
                      content_type="multipart/form-data").status_code == 302
    with database.session(write=False) as db:
        bundle = db.execute(select(ResultBundle)).scalar_one()
        assert json.loads(bundle.conflicts) == [] and bundle.exam_session_id == session_id
        assert db.execute(select(func.count()).select_from(Attempt).join(RosterEntry)
                          .where(RosterEntry.exam_session_id == session_id)).scalar() == 1
