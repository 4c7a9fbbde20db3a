"""The sweeper closes attempts whose time ran out while nobody was there to submit them (a closed browser, a
dead computer), with the deadline as their finish time. Every server process may run it: closing is a
conditional update inside a transaction, so two sweepers never close one attempt twice."""
from __future__ import annotations

import logging
from typing import Callable

from flask import Flask

from . import delivery
from .models import utcnow

INTERVAL_S = 15
log = logging.getLogger(__name__)


def sweep_once(app: Flask) -> int:
    database, now = app.extensions["exam_db"], utcnow()
    with database.session(write=False) as db:   # most rounds find nothing: never take the write lock for that
        if not delivery.overdue_candidates(db, now):
            return 0
    with database.transaction() as db:
        return delivery.sweep(db, now)


def run_forever(app: Flask, sleep: Callable[[float], None]) -> None:
    while True:
        try:
            closed = sweep_once(app)
            if closed:
                log.info("sweeper closed %d expired attempts", closed)
        except Exception:  # a failed round must not end the loop; the next round retries
            log.exception("sweeper round failed")
        sleep(INTERVAL_S)
