"""The grading queue: leases, a worker killed mid-job, retries, superseded inputs, the worker pool, Celery hand-off."""
from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select

from exam_server import grading_jobs, scoring
from exam_server.models import GradingJob, ScoreReport, utcnow

from .test_scoring import (HAND_TOTAL, examiner, grade_all, stored, submitted_practical_attempt,
                           submitted_theory_attempt, with_attempt)


def only_job(database) -> GradingJob:
    with database.session(write=False) as db:
        return db.execute(select(GradingJob).order_by(GradingJob.id.desc())).scalars().first()


def report_rows(database) -> int:
    with database.session(write=False) as db:
        return db.execute(select(func.count()).select_from(ScoreReport)).scalar_one()


def test_worker_killed_mid_job_the_job_is_taken_again_after_its_lease_and_graded_once(database):
    attempt_id = submitted_theory_attempt(database)
    job_id = only_job(database).id
    t0 = utcnow()
    with database.transaction() as db:                       # worker "dead" takes the lease, then is killed
        assert grading_jobs.claim(db, job_id, "dead", t0)
    assert only_job(database).status(t0 + timedelta(seconds=1)) == "leased"
    # While the lease lives nobody else takes the job.
    assert grading_jobs.run_pending(database, "alive", lambda: t0 + timedelta(seconds=60)) == {}
    assert report_rows(database) == 0
    after = t0 + grading_jobs.LEASE + timedelta(seconds=1)
    assert grading_jobs.run_pending(database, "alive", lambda: after) == {"done": 1}
    job = only_job(database)
    assert (job.status(after), job.attempts, job.leased_by) == ("done", 2, "alive")
    # The dead worker's late finish changes nothing: one report, graded once.
    with database.transaction() as db:
        assert grading_jobs._finish(db, job_id, "dead", {"total": 0}, after) == "duplicate"
    assert report_rows(database) == 1
    assert stored(database, attempt_id)["total"] == HAND_TOTAL and stored(database, attempt_id)["revision"] == 1


def test_practical_job_survives_a_killed_worker_too(database):
    attempt_id = submitted_practical_attempt(database)
    t0 = utcnow()
    with database.transaction() as db:
        assert grading_jobs.claim(db, only_job(database).id, "dead", t0)
    later = t0 + grading_jobs.LEASE + timedelta(seconds=1)
    assert grading_jobs.run_pending(database, "alive", lambda: later) == {"done": 1}
    assert stored(database, attempt_id)["total"] == 94     # as in test_scoring: 100 − P03 3 − Q01 pending 3


def test_errors_are_retried_then_the_job_fails(database, monkeypatch):
    submitted_theory_attempt(database)

    def broken(_inputs):
        raise RuntimeError("corrupt trace")

    monkeypatch.setattr(scoring, "compute", broken)
    t = utcnow()
    outcomes = []
    for n in range(grading_jobs.MAX_TAKES):
        now = t + n * (grading_jobs.RETRY_AFTER + timedelta(seconds=1))
        outcomes.append(grading_jobs.run_pending(database, "w", lambda: now))
    assert outcomes == [{"retry": 1}, {"retry": 1}, {"failed": 1}]
    job = only_job(database)
    assert job.status(utcnow()) == "failed" and job.attempts == 3 and "corrupt trace" in job.last_error
    assert report_rows(database) == 0


def test_a_job_whose_inputs_changed_is_superseded_by_the_newer_one(database):
    attempt_id = submitted_theory_attempt(database)
    # The examiner overrides before any worker ran: the first job's inputs are out of date.
    with_attempt(database, attempt_id, lambda db, a: scoring.override(db, a, examiner(db), "q02", 1, "更正", utcnow()))
    assert grade_all(database) == {"superseded": 1, "done": 1}
    assert stored(database, attempt_id)["total"] == HAND_TOTAL + 1 and stored(database, attempt_id)["revision"] == 1


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_thread_pool_grades_queued_jobs(database):
    attempt_id = submitted_theory_attempt(database)
    pool = grading_jobs.WorkerPool(database.url, workers=2, mode="thread", poll_s=0.05).start()
    try:
        assert _wait_for(lambda: report_rows(database) == 1, 20)
    finally:
        pool.stop()
    assert stored(database, attempt_id)["total"] == HAND_TOTAL


def test_process_pool_grades_queued_jobs(database):
    """The server's default: worker processes (spawned, so nothing of a gevent-patched parent leaks in)."""
    attempt_id = submitted_theory_attempt(database)
    pool = grading_jobs.WorkerPool(database.url, workers=1, mode="process", poll_s=0.05).start()
    try:
        assert _wait_for(lambda: report_rows(database) == 1, 60)
    finally:
        pool.stop()
    assert stored(database, attempt_id)["total"] == HAND_TOTAL


class FakeTask:
    def __init__(self):
        self.sent = []

    def apply_async(self, args, retry=False):
        self.sent.append(args[0])


class FakeCelery:
    def __init__(self):
        self.tasks = {"exam_grading.run_job": FakeTask()}


def test_with_a_broker_jobs_are_sent_to_celery_after_commit_only(database, monkeypatch):
    fake = FakeCelery()
    monkeypatch.setenv(grading_jobs.BROKER_ENV, "redis://127.0.0.1:6379/15")
    monkeypatch.setattr(grading_jobs, "celery_app", lambda: fake)
    attempt_id = submitted_theory_attempt(database)           # commits: the job is sent
    sent = fake.tasks["exam_grading.run_job"].sent
    assert sent == [only_job(database).id]
    with database.session() as db:                            # rolled back: nothing sent
        with db.begin():
            from exam_server.models import Attempt

            scoring.override(db, db.get(Attempt, attempt_id), examiner(db), "q02", 1, "x", utcnow())
            db.rollback()
    assert sent == [only_job(database).id]
    # A worker (here: the test) runs the sent job by id, as the Celery task does.
    assert grading_jobs.run_job(database, sent[0], "celery:test") == "done"
    assert grading_jobs.run_job(database, sent[0], "celery:again") == "skipped"


def test_resend_stale_sends_jobs_nobody_took(database, monkeypatch):
    fake = FakeCelery()
    monkeypatch.setattr(grading_jobs, "celery_app", lambda: fake)
    submitted_theory_attempt(database)
    assert grading_jobs.resend_stale(database, utcnow()) == 0                       # queued just now
    assert grading_jobs.resend_stale(database, utcnow() + timedelta(minutes=2)) == 1
    assert fake.tasks["exam_grading.run_job"].sent == [only_job(database).id]


def test_cpu_work_runs_directly_without_gevent():
    assert grading_jobs.run_cpu(sum, [1, 2, 3]) == 6


def test_a_server_worker_stops_when_its_server_is_gone(database):
    """A server killed with SIGKILL never sets the pool's stop event; its workers notice the lost parent."""
    import threading
    import time

    from exam_server.grading_jobs import work_forever

    started = time.monotonic()
    work_forever(database.url, "orphan", threading.Event(), 0.01, parent_pid=-1)   # -1: never our parent
    assert time.monotonic() - started < 5
