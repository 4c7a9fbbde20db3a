"""The grading queue: jobs in the database, leased by workers, so that nothing in a worker's memory is the
only copy of anything.

A worker claims a job with one conditional UPDATE (not finished, not failed, lease free or expired), reads the
inputs, grades outside any transaction, then stores the report and finishes the job in one transaction. A
worker killed mid-job holds only a lease: once it expires another worker takes the job again (`attempts`
counts the takes); a late finish of the dead worker finds the job done and changes nothing. Errors release the
lease for a retry; after MAX_TAKES takes the job fails (the examiners see it).

Workers: by default a pool of worker processes started by the server (`WorkerPool`; grading never runs on the
gevent loop); `examctl grading worker` runs one standalone; with EXAM_CELERY_BROKER_URL set, jobs are also sent
to Celery workers (Redis broker), which run the very same `run_job` — the lease makes duplicates harmless.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import threading
from datetime import datetime, timedelta
from typing import Any, Callable, Optional

from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from .db import Database
from .models import Attempt, GradingJob, utcnow

# A 3,000-event lathe trace grades in ~0.5 s; the lease is generous. EXAM_GRADING_LEASE_S shortens it where a
# killed worker's job must be retaken sooner (the rehearsal).
LEASE = timedelta(seconds=float(os.environ.get("EXAM_GRADING_LEASE_S", "120")))
RETRY_AFTER = timedelta(seconds=5)
MAX_TAKES = 3
POLL_S = 0.5
BROKER_ENV = "EXAM_CELERY_BROKER_URL"
WORKERS_ENV = "EXAM_GRADING_WORKERS"
log = logging.getLogger(__name__)


def worker_name(kind: str = "pool") -> str:
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10000}"


# ---- the queue -------------------------------------------------------------------------------------------

def enqueue(db: Session, attempt_id: int, sheet_id: str, sheet_version: int, digest: str, reason: str,
            now: datetime) -> GradingJob:
    """The job for this grading (attempt, sheet version, examiner inputs), created once."""
    key = f"{attempt_id}:{sheet_id}@{sheet_version}:{digest[:32]}"
    job = db.execute(select(GradingJob).where(GradingJob.idempotency_key == key)).scalar_one_or_none()
    if job is not None:
        return job
    job = GradingJob(attempt_id=attempt_id, sheet_id=sheet_id, sheet_version=sheet_version, inputs_digest=digest,
                     idempotency_key=key, reason=reason, queued_at=now, attempts=0, last_error="")
    db.add(job)
    db.flush()
    _send_after_commit(db, job.id)
    return job


def claim(db: Session, job_id: int, worker: str, now: datetime, lease: timedelta = LEASE) -> bool:
    """Take the job's lease if nobody holds a live one; True when this worker got it."""
    table = GradingJob.__table__
    taken = db.execute(update(table).where(
        table.c.id == job_id, table.c.finished_at.is_(None), table.c.failed_at.is_(None),
        or_(table.c.lease_expires_at.is_(None), table.c.lease_expires_at <= now))
        .values(leased_by=worker, leased_at=now, lease_expires_at=now + lease, attempts=table.c.attempts + 1))
    return taken.rowcount == 1


def due_jobs(db: Session, now: datetime, limit: int = 20) -> list[int]:
    """Jobs a worker may take now, oldest first."""
    return list(db.execute(select(GradingJob.id).where(
        GradingJob.finished_at.is_(None), GradingJob.failed_at.is_(None),
        or_(GradingJob.lease_expires_at.is_(None), GradingJob.lease_expires_at <= now))
        .order_by(GradingJob.queued_at, GradingJob.id).limit(limit)).scalars())


def _finish(db: Session, job_id: int, worker: str, report: Optional[dict], now: datetime) -> str:
    from . import scoring

    job = db.execute(select(GradingJob).where(GradingJob.id == job_id).with_for_update()).scalar_one()
    if job.finished_at is not None:
        return "duplicate"           # another worker finished it after this one's lease expired
    job.finished_at, job.leased_by = now, worker
    if report is None:
        return "superseded"          # the examiners' inputs changed: a newer job grades them
    job.score_report_id = scoring.store_report(db, job, report, now).id
    return "done"


def _fail(db: Session, job_id: int, error: str, now: datetime) -> str:
    job = db.execute(select(GradingJob).where(GradingJob.id == job_id).with_for_update()).scalar_one()
    job.last_error = error[-2000:]
    if job.attempts >= MAX_TAKES:
        job.failed_at = now
        return "failed"
    job.lease_expires_at = now + RETRY_AFTER
    return "retry"


def _compute(database: Database, job_id: int) -> Optional[dict]:
    """Read the job's inputs and grade them (None when the examiners' inputs changed since it was queued)."""
    from . import scoring

    with database.session(write=False) as db:
        job = db.get(GradingJob, job_id)
        attempt = db.get(Attempt, job.attempt_id)
        inputs = scoring.load_inputs(db, attempt)
        if inputs.digest != job.inputs_digest or inputs.sheet.version != job.sheet_version:
            return None
    return scoring.compute(inputs)


def run_job(database: Database, job_id: int, worker: str, clock: Callable[[], datetime] = utcnow,
            lease: timedelta = LEASE) -> str:
    """Claim, grade and finish one job: done, duplicate, superseded, retry, failed or skipped (not claimable)."""
    with database.transaction() as db:
        if not claim(db, job_id, worker, clock(), lease):
            return "skipped"
    try:
        report = _compute(database, job_id)
    except Exception as exc:     # a bad trace or sheet must not stop the worker; the job records why
        log.exception("grading job %s failed", job_id)
        with database.transaction() as db:
            return _fail(db, job_id, f"{type(exc).__name__}: {exc}", clock())
    with database.transaction() as db:
        return _finish(db, job_id, worker, report, clock())


def run_pending(database: Database, worker: str, clock: Callable[[], datetime] = utcnow,
                limit: Optional[int] = None, lease: timedelta = LEASE) -> dict[str, int]:
    """Run due jobs until none is left (or `limit` were taken); counts by outcome."""
    outcomes: dict[str, int] = {}
    taken = 0
    while limit is None or taken < limit:
        with database.session(write=False) as db:
            ids = due_jobs(db, clock(), limit=5)
        if not ids:
            break
        progressed = False
        for job_id in ids:
            outcome = run_job(database, job_id, worker, clock, lease)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if outcome != "skipped":
                taken += 1
                progressed = True
            if limit is not None and taken >= limit:
                break
        if not progressed:
            break
    return outcomes


def job_counts(db: Session, now: datetime, attempt_ids: Optional[list[int]] = None) -> dict[str, int]:
    query = select(GradingJob)
    if attempt_ids is not None:
        query = query.where(GradingJob.attempt_id.in_(attempt_ids))
    counts: dict[str, int] = {}
    for job in db.execute(query).scalars():
        status = job.status(now)
        counts[status] = counts.get(status, 0) + 1
    return counts


# ---- CPU work from a request -----------------------------------------------------------------------------

def run_cpu(fn: Callable, *args: Any) -> Any:
    """Run CPU-bound work off the gevent loop (on the hub's native thread pool) when the server is
    monkey-patched; called directly otherwise (tests, CLI, workers)."""
    try:
        from gevent import monkey
    except ImportError:         # pragma: no cover - gevent is a dependency
        return fn(*args)
    if not monkey.is_module_patched("threading"):
        return fn(*args)
    import gevent

    return gevent.get_hub().threadpool.apply(fn, args)


# ---- workers ---------------------------------------------------------------------------------------------

def work_forever(database_url: str, name: str, stop: Any, poll_s: float = POLL_S,
                 parent_pid: Optional[int] = None) -> None:
    """A worker's loop: take due jobs, sleep when there are none, until `stop` is set — or, for a server's
    worker, until that server is gone (a server killed with SIGKILL never sets `stop`)."""
    database = Database(database_url)
    try:
        while not stop.is_set() and (parent_pid is None or os.getppid() == parent_pid):
            try:
                outcomes = run_pending(database, name, limit=10)
            except Exception:    # the database may be briefly unavailable: try again after a pause
                log.exception("grading worker round failed")
                outcomes = {}
            if not outcomes:
                stop.wait(poll_s)
    finally:
        database.dispose()


class WorkerPool:
    """Worker processes (or threads, without gevent) started by the server; each runs `work_forever`."""

    def __init__(self, database_url: str, workers: int = 2, mode: str = "process", poll_s: float = POLL_S):
        self.database_url, self.workers, self.mode, self.poll_s = database_url, workers, mode, poll_s
        self._runners: list[Any] = []
        context = multiprocessing.get_context("spawn") if mode == "process" else None
        self._stop = context.Event() if context else threading.Event()
        self._context = context

    def start(self) -> "WorkerPool":
        for n in range(self.workers):
            name = f"{self.mode}:{socket.gethostname()}:{os.getpid()}:{n}"
            parent = os.getpid() if self._context is not None else None   # a process outlives a killed server
            args = (self.database_url, name, self._stop, self.poll_s, parent)
            if self._context is not None:
                runner = self._context.Process(target=work_forever, args=args, name=f"grading-{n}", daemon=True)
            else:
                runner = threading.Thread(target=work_forever, args=args, name=f"grading-{n}", daemon=True)
            runner.start()
            self._runners.append(runner)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for runner in self._runners:
            runner.join(timeout)
            if self._context is not None and runner.is_alive():
                runner.terminate()      # its lease expires and another worker takes the job again
        self._runners.clear()


def start_pool(app, workers: Optional[int] = None) -> Optional[WorkerPool]:
    """The server's pool (`examctl serve`): EXAM_GRADING_WORKERS (default 2) worker processes on the app's
    database, kept in app.extensions; 0 starts none (workers run elsewhere: `examctl grading worker`)."""
    workers = int(os.environ.get(WORKERS_ENV, "2")) if workers is None else workers
    if workers <= 0:
        return None
    pool = WorkerPool(app.extensions["exam_db"].url, workers).start()
    app.extensions["grading_pool"] = pool
    return pool


def start_for_server(app, socketio) -> None:
    """What `examctl serve` starts next to the sweeper: the worker pool, or with a broker the loop that sends
    Celery the jobs nobody took."""
    if broker_url():
        socketio.start_background_task(resend_forever, app, socketio.sleep)
    else:
        start_pool(app)


def resend_forever(app, sleep: Callable[[float], None], interval_s: float = 30.0) -> None:
    while True:
        try:
            resend_stale(app.extensions["exam_db"], utcnow())
        except Exception:    # the broker or the database is briefly away: the next round retries
            log.exception("resending grading jobs failed")
        sleep(interval_s)


# ---- Celery ----------------------------------------------------------------------------------------------

_celery = None


def broker_url() -> str:
    return os.environ.get(BROKER_ENV, "")


def celery_app():
    """The Celery app (one per process) when EXAM_CELERY_BROKER_URL is set: one task, `run_job(job_id)`."""
    global _celery
    if _celery is None:
        from celery import Celery

        app = Celery("exam_grading", broker=broker_url())
        app.conf.update(task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
                        task_default_queue="grading", broker_connection_retry_on_startup=True,
                        task_ignore_result=True)

        @app.task(name="exam_grading.run_job")
        def run_job_task(job_id: int) -> str:
            return run_job(_worker_database(), job_id, worker_name("celery"))

        _celery = app
    return _celery


_database: Optional[Database] = None


def _worker_database() -> Database:
    global _database
    if _database is None:
        from .config import Settings

        _database = Database(Settings().resolved_database_url())
    return _database


def _send_after_commit(db: Session, job_id: int) -> None:
    """With a broker, hand the job to Celery once its row is committed (a worker must be able to read it)."""
    if not broker_url():
        return
    pending = db.info.setdefault("grading_jobs_to_send", [])
    pending.append(job_id)
    if len(pending) == 1:
        event.listen(db, "after_commit", _send_pending, once=True)
        event.listen(db, "after_rollback", _forget_pending, once=True)


def _send_pending(db: Session) -> None:
    ids = db.info.pop("grading_jobs_to_send", [])
    try:
        task = celery_app().tasks["exam_grading.run_job"]
        for job_id in ids:
            task.apply_async((job_id,), retry=False)
    except Exception:    # the broker is down: the jobs wait in the table; resend_stale sends them again
        log.exception("could not send grading jobs %s to the broker", ids)


def _forget_pending(db: Session) -> None:
    db.info.pop("grading_jobs_to_send", None)


def resend_stale(database: Database, now: datetime, older_than: timedelta = timedelta(seconds=60)) -> int:
    """Celery mode: send again the jobs nobody took (a lost message, a worker that died holding its lease)."""
    with database.session(write=False) as db:
        ids = [i for i in due_jobs(db, now, limit=500)
               if db.get(GradingJob, i).queued_at <= now - older_than]
    if ids:
        task = celery_app().tasks["exam_grading.run_job"]
        for job_id in ids:
            task.apply_async((job_id,), retry=False)
    return len(ids)


def celery_worker_main(concurrency: int = 1) -> None:
    """One Celery worker process on the grading queue (`examctl grading worker --celery`)."""
    celery_app().Worker(concurrency=concurrency, pool="solo" if concurrency == 1 else "prefork",
                        queues=["grading"], loglevel="WARNING").start()


def standalone_worker(database_url: str) -> int:
    """`examctl grading worker`: one polling worker until interrupted."""
    stop = threading.Event()
    try:
        work_forever(database_url, worker_name("examctl"), stop)
    except KeyboardInterrupt:
        stop.set()
    return 0
