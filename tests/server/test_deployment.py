"""Behind nginx (docs/deployment.md): the client address comes from X-Forwarded-For only when the server is
told a proxy stands in front; otherwise the header is a client's to forge and is ignored."""
import pytest
from sqlalchemy import select

from exam_server import create_app
from exam_server.models import AuditEvent

from .conftest import Browser


@pytest.mark.parametrize("hops, expected", [(1, "10.1.2.3"), (0, "127.0.0.1")])
def test_the_client_address_behind_a_proxy(database_url, tmp_path, hops, expected):
    app = create_app({"database_url": database_url, "instance_path": tmp_path / "instance", "secret_key": "s",
                      "redis_url": "", "testing": True, "proxy_hops": hops})
    client = app.test_client()
    browser = Browser(client)
    client.post("/login", data={"username": "admin", "password": "wrong-password", "csrf_token": browser.csrf()},
                headers={"X-Forwarded-For": "10.1.2.3"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    with app.extensions["exam_db"].session(write=False) as db:
        event = db.execute(select(AuditEvent).where(AuditEvent.action == "login_failed")
                           .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
        assert event.ip == expected
    app.extensions["exam_db"].dispose()
