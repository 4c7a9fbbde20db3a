"""Group commit for candidates' saves: one writer per server process applies every save that is waiting, each
in its own savepoint, and commits them together, so a thousand candidates cost one fsync per batch instead of
one each. The acknowledgement still goes out only after the commit that holds the save.

The writer is a background task of the Socket.IO server (a greenlet under gevent, a thread otherwise); callers
block on an event of the same kind, which under gevent yields to the other candidates.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from queue import Empty
from typing import Any, Callable, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from .errors import UserError
from .models import Attempt, ExamSession, RosterEntry, utcnow

MAX_BATCH = 256
YIELD_EVERY = 16
WAIT_S = 30.0
log = logging.getLogger(__name__)

# work(db, attempt, now) -> ack; it raises UserError for a refused operation
Work = Callable[[Session, Attempt, datetime], dict]


@dataclass
class Job:
    user_id: int
    attempt_id: Any
    work: Work
    done: Any                                  # an Event of the server's async mode
    ack: Optional[dict] = None
    error: Optional[UserError] = field(default=None)


class SaveWriter:
    def __init__(self, database, socketio):
        eio = socketio.server.eio
        self.database = database
        self.queue = eio.create_queue()
        self.new_event = eio.create_event
        self.pause = socketio.sleep
        socketio.start_background_task(self._run)

    def submit(self, user_id: int, attempt_id: Any, work: Work) -> dict:
        """Queue one unit of work on the caller's own attempt and wait for it to be committed.

        Returns the work's ack; raises UserError when it was refused (or the attempt is not the caller's)."""
        job = Job(user_id, attempt_id, work, self.new_event())
        self.queue.put(job)
        if not job.done.wait(WAIT_S):
            raise UserError("error.busy", 503)
        if job.error is not None:
            raise job.error
        return job.ack

    def _run(self) -> None:
        while True:
            batch = [self.queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except Empty:
                    break
            try:
                self._commit(batch)
            except Exception:   # the commit failed: nobody is acknowledged, every client retries
                log.exception("save batch of %d failed", len(batch))
                for job in batch:
                    job.ack, job.error = None, UserError("error.busy", 503)
            for job in batch:
                job.done.set()

    def _commit(self, batch: list[Job]) -> None:
        now = utcnow()
        with self.database.transaction() as db:
            attempts = _own_attempts(db, batch)
            for n, job in enumerate(batch, start=1):
                if n % YIELD_EVERY == 0:    # let the loop read and write sockets during a long batch
                    self.pause(0)
                attempt = attempts.get((job.user_id, job.attempt_id))
                if attempt is None:
                    job.error = UserError("error.not_found", 404)
                    continue
                try:
                    with db.begin_nested():
                        job.ack = job.work(db, attempt, now)
                except UserError as exc:
                    job.error = exc
                except Exception:   # one bad operation must not fail the others in its batch, again and again
                    log.exception("save refused by an error")
                    job.error = UserError("error.internal", 500)


def _own_attempts(db: Session, batch: list[Job]) -> dict[tuple[int, int], Attempt]:
    """The batch's attempts with everything their clock reads, in a few queries; keyed by (owner, id)."""
    ids = {job.attempt_id for job in batch if type(job.attempt_id) is int}
    rows = db.execute(select(Attempt).where(Attempt.id.in_(ids)).options(
        joinedload(Attempt.roster_entry).joinedload(RosterEntry.exam_session).selectinload(ExamSession.pauses),
        selectinload(Attempt.own_pauses), selectinload(Attempt.adjustments))).unique().scalars()
    return {(a.roster_entry.candidate_id, a.id): a for a in rows}


def writer_for(app) -> SaveWriter:
    """The app's writer, started on first use (an app that never receives a save never starts one)."""
    writer = app.extensions.get("save_writer")
    if writer is None:
        writer = app.extensions["save_writer"] = SaveWriter(app.extensions["exam_db"], app.extensions["socketio"])
    return writer
