"""Group commit: a batch of saves from many candidates is one transaction, each save in its own savepoint."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from exam_server import delivery
from exam_server.errors import UserError
from exam_server.models import Response, SaveOperation, utcnow
from exam_server.save_writer import Job, SaveWriter
from tests.server.test_delivery import demo_session, op, running_session


def writer(database) -> SaveWriter:
    """A writer without its background task: the test drives the batches itself."""
    w = SaveWriter.__new__(SaveWriter)
    w.database, w.pause = database, lambda seconds: None
    return w


def save_job(user_id, attempt_id, seq, item):
    return Job(user_id, attempt_id, lambda db, a, now: delivery.apply_save(db, a, op(seq, item=item), now).to_json(),
               threading.Event())


def test_one_refused_or_broken_save_does_not_spoil_the_others_in_its_batch(database):
    t0 = utcnow()
    running_session(database, t0)
    with database.transaction() as db:
        entries = demo_session(db).roster[:3]
        attempts = [delivery.start_attempt(db, e, t0) for e in entries]
        db.flush()
        owners = [(e.candidate_id, a.id) for e, a in zip(entries, attempts)]

    def broken(db, attempt, now):
        delivery.apply_save(db, attempt, op(7, item="q9"), now)
        raise RuntimeError("a bug after a write")            # its write must be rolled back with it

    batch = [save_job(*owners[0], 1, "q1"),
             save_job(owners[1][0], owners[0][1], 1, "q1"),    # someone else's attempt
             Job(*owners[2], broken, threading.Event()),
             save_job(*owners[1], 1, "q2")]
    writer(database)._commit(batch)

    assert batch[0].ack["ok"] and batch[3].ack["ok"]
    assert batch[1].error.key == "error.not_found" and batch[1].ack is None
    assert isinstance(batch[2].error, UserError) and batch[2].error.key == "error.internal"
    with database.session(write=False) as db:
        assert db.execute(select(func.count()).select_from(Response)).scalar() == 2
        assert db.execute(select(func.count()).select_from(SaveOperation)).scalar() == 2
