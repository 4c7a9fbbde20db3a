"""The migrations produce exactly the models' schema; Socket.IO refuses anonymous connections."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import pytest

from exam_server import create_app
from exam_server.models import Base
from tests.server.conftest import REDIS_URL, Browser


def test_migrations_match_the_models(database):
    with database.write_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_sqlite_runs_in_wal_with_full_sync(database):
    if not database.is_sqlite:
        return
    with database.write_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2      # FULL
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_socket_refuses_anonymous_and_accepts_signed_in(database_url, tmp_path):
    # Socket.IO's test client cannot run over a message queue, so this app has none.
    app = create_app({"database_url": database_url, "instance_path": tmp_path / "i", "secret_key": "t",
                      "redis_url": "", "testing": True})
    browser = Browser(app.test_client())
    socketio = app.extensions["socketio"]
    anonymous = socketio.test_client(app, flask_test_client=app.test_client())
    assert not anonymous.is_connected()
    browser.login("examiner_nj01")
    signed_in = socketio.test_client(app, flask_test_client=browser.client)
    assert signed_in.is_connected()
    signed_in.disconnect()
    app.extensions["exam_db"].dispose()


@pytest.mark.skipif(not REDIS_URL, reason="EXAM_REDIS_URL not set")
def test_redis_message_queue_is_used_when_configured(app):
    import redis

    assert type(app.extensions["socketio"].server.manager).__name__ == "RedisManager"
    assert redis.Redis.from_url(REDIS_URL).ping()
