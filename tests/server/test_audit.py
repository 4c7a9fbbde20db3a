"""The hash-chained audit log: appends, verification, tamper detection, append-only enforcement."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from exam_server import audit
from exam_server.cli import main
from exam_server.models import AuditEvent


def _drop_append_only_guard(db, is_sqlite: bool) -> None:
    """What an intruder with the database owner's rights would do first."""
    if is_sqlite:
        db.execute(text("DROP TRIGGER audit_events_no_update"))
        db.execute(text("DROP TRIGGER audit_events_no_delete"))
    else:
        db.execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))


def _add_events(database, n: int) -> None:
    with database.transaction() as db:
        for i in range(n):
            audit.record(db, "test_event", actor_name="tester", object_type="thing", object_id=i, data={"i": i})


def _count(database) -> int:
    with database.session(write=False) as db:
        return db.execute(select(func.count()).select_from(AuditEvent)).scalar()


def test_chain_verifies_after_appends(database):
    demo = _count(database)                              # what the demo load wrote
    _add_events(database, 5)
    with database.session(write=False) as db:
        report = audit.verify(db)
        rows = db.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
    assert demo >= 2 and report.ok and report.checked == demo + 5
    assert [r.seq for r in rows] == list(range(1, demo + 6))
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:]))


def test_application_cannot_update_or_delete_audit_rows(database):
    _add_events(database, 1)
    for statement in ("UPDATE audit_events SET actor_name = 'x' WHERE seq = 1", "DELETE FROM audit_events"):
        with pytest.raises(DatabaseError, match="append-only"):
            with database.transaction() as db:
                db.execute(text(statement))


def test_edited_row_is_named(database):
    _add_events(database, 5)
    with database.transaction() as db:
        _drop_append_only_guard(db, database.is_sqlite)
        db.execute(text("UPDATE audit_events SET data = :d WHERE seq = 4"), {"d": '{"i":99}'})
    with database.session(write=False) as db:
        report = audit.verify(db)
    assert report.first_broken_seq == 4 and "hash" in report.reason


def test_deleted_rows_are_detected(database):
    _add_events(database, 5)
    with database.transaction() as db:
        _drop_append_only_guard(db, database.is_sqlite)
        db.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    with database.session(write=False) as db:
        assert audit.verify(db).first_broken_seq == 3
    with database.transaction() as db:
        db.execute(text("DELETE FROM audit_events WHERE seq >= 3"))  # truncating the tail
    with database.session(write=False) as db:
        report = audit.verify(db)
    assert report.first_broken_seq == 3 and "head" in report.reason


def test_examctl_audit_verify_exit_status(database, monkeypatch, capsys):
    monkeypatch.setenv("EXAM_DATABASE_URL", database.url)
    demo = _count(database)
    _add_events(database, 3)
    assert main(["audit", "verify"]) == 0
    assert f"已校验 {demo + 3} 条记录" in capsys.readouterr().out
    with database.transaction() as db:
        _drop_append_only_guard(db, database.is_sqlite)
        db.execute(text("UPDATE audit_events SET actor_name = 'mallory' WHERE seq = 2"))
    assert main(["audit", "verify"]) == 1
    assert "第 2 条" in capsys.readouterr().err
