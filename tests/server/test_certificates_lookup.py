"""The public lookup's fast path (db.Database.public_read): one autocommit statement outside any session, so it
sees a certificate the moment it is committed, and it survives a connection the server has dropped although it
does not ping before use. The limiter counts its three counters in one go."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from exam_server import certificate_lookup
from exam_server.certificate_lookup import Limit, LookupLimiter, LookupLimits, MemoryCounters
from exam_server.models import Certificate, utcnow

NOW = datetime(2026, 11, 26, 10, 0, 30, tzinfo=timezone.utc)


def _store(database, number: str, name: str = "赵敏", id_number: str = "32010219900101123X") -> None:
    with database.transaction() as db:
        db.add(Certificate(number=number, public_id=number.lower().rjust(32, "0")[-32:], holder_name=name,
                           id_number=id_number, occupation="车工(数控车工)", level=4, issuer="南京站",
                           issued_on="2026-11-26", issued_at=utcnow(), legacy=True))


def test_found_at_once_by_number_or_id_and_a_wrong_name_finds_nothing(database):
    assert certificate_lookup.by_number(database, "S0001320000012640000001", "赵敏") == []
    _store(database, "S0001320000012640000001")
    found = certificate_lookup.by_number(database, " s0001320000012640000001 ", "赵敏")
    assert [(r.number, r.level, r.legacy) for r in found] == [("S0001320000012640000001", 4, True)]
    assert certificate_lookup.by_number(database, "S0001320000012640000001", "赵四") == []
    by_id = certificate_lookup.by_id_number(database, "赵敏", "32010219900101123x")
    assert [r.number for r in by_id] == ["S0001320000012640000001"]
    assert certificate_lookup.public_view(by_id[0])["id_number"] == "3201**********123X"


def test_a_connection_dropped_by_the_server_is_replaced_without_an_error(database):
    if database.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite has no server to drop a connection")
    _store(database, "S0001320000012640000002")
    pid = database.public_read(text("SELECT pg_backend_pid() AS pid"), {})[0].pid
    with database.transaction() as db:
        assert db.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() is True
    found = certificate_lookup.by_number(database, "S0001320000012640000002", "赵敏")   # retried once
    assert [r.number for r in found] == ["S0001320000012640000002"]
    assert database.public_read(text("SELECT pg_backend_pid() AS pid"), {})[0].pid != pid


class CountingStore(MemoryCounters):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def count_many(self, counts):
        self.calls += 1
        return super().count_many(counts)


def test_the_limiter_counts_in_one_call_and_refused_lookups_still_count():
    store = CountingStore()
    limiter = LookupLimiter(LookupLimits(Limit("address", 3, 60), Limit("target", 100, 3600),
                                         Limit("miss", 100, 3600)), store)
    verdicts = [limiter.admit("10.1.1.1", f"S{i}", NOW).allowed for i in range(5)]
    assert verdicts == [True, True, True, False, False] and store.calls == 5
    # window of 60 s from 10:00:00: 30 s left; the next minute starts afresh
    assert limiter.admit("10.1.1.1", "S9", NOW).retry_after_s == 30
    assert limiter.admit("10.1.1.1", "S9", NOW.replace(minute=1)).allowed
