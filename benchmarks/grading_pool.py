"""Grading jobs end to end (issue #8): a batch of realistic ~3,000-event lathe practical traces stored as submitted
attempts, graded through the job queue — by the in-process pool (worker processes, 1 and 2 workers) and, when
Redis answers, by two Celery workers. Target: 1,000 traces ≤ 3 min on 2 workers.

    python -m benchmarks.grading_pool [count]      # default 1,000 traces; a smaller count extrapolates

Each worker reads the trace from the database, replays and measures it, grades it and stores the report, so
the figure includes the database work the pure benchmark (benchmarks/grading.py) leaves out. Everything runs in
a temporary SQLite database (WAL), with the demo province loaded. Preparing 1,000 stored traces (3 million
event rows) takes minutes, so the prepared database is kept under the temporary directory, keyed by everything
it is made of (the trace, the task, the schema and demo sources): a rerun copies it, a fresh machine or any
change prepares it again.

Figures are printed as `name value` lines (seconds unless the name says otherwise).
"""
from __future__ import annotations

import hashlib
import json
import os
import resource
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(tempfile.gettempdir()) / "exam-bench-grading-pool"
SOURCES = ("exam_server/migrations/versions/*.py", "exam_server/models/*.py", "exam_server/demo*.py",
           "benchmarks/grading_pool.py")


def _inputs() -> tuple[list[dict], dict]:
    from .grading import practical_task
    from .operation import build_trace

    return build_trace(3000), practical_task()


def _cache_key(count: int, events: list[dict], task: dict) -> str:
    digest = hashlib.sha256(json.dumps([count, events, task], sort_keys=True).encode())
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:20]


def prepared(path: Path, count: int) -> tuple[float, bool]:
    """The prepared database at ``path``: copied from the cache when it holds one for these inputs, else
    prepared and cached. (Seconds taken, whether the cache served it.)"""
    started = time.perf_counter()
    events, task = _inputs()
    cached = CACHE / f"{_cache_key(count, events, task)}.db"
    if not cached.exists():
        CACHE.mkdir(exist_ok=True)
        for old in CACHE.glob("*.db"):          # one cached database at a time: 1,000 traces take ~0.5 GB
            old.unlink()
        partial = cached.with_suffix(".partial")
        _prepare(f"sqlite:///{partial}", count, events, task)
        with closing(sqlite3.connect(partial)) as connection:     # everything into the one file
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        partial.rename(cached)
        hit = False
    else:
        hit = True
    shutil.copyfile(cached, path)
    return time.perf_counter() - started, hit


def _prepare(url: str, count: int, events: list[dict], task: dict) -> None:
    """`count` candidates in one started practical session, each with the benchmark trace, submitted."""
    from exam_server import demo
    from exam_server.db import Database
    from exam_server.models import (Attempt, ExamSession, GradingJob, Organisation, PracticalAssignment,
                                    PracticalTask, RosterEntry, TraceEvent, User, utcnow)
    from exam_server.schema import upgrade

    upgrade(url)
    database = Database(url)
    now = utcnow()
    with database.transaction() as db:
        demo.load(db, now, secrets.token_bytes(32))
        lathe = db.execute(select(ExamSession).where(ExamSession.room == "数控车间 1")).scalar_one()
        station = db.get(Organisation, lathe.organisation_id)
        template = db.execute(select(PracticalTask)).scalars().first()
        bench_task = PracticalTask(code="BENCH", version=1, job_type_id=template.job_type_id, level=template.level,
                                   machine_type="lathe", title="bench", task_json=json.dumps(task),
                                   drawing_svg="<svg/>", created_at=now)
        db.add(bench_task)
        session = ExamSession(exam_id=lathe.exam_id, part=lathe.part, organisation_id=station.id, room="bench",
                              scheduled_start_at=now, duration_s=180 * 60, started_at=now, created_at=now)
        db.add(session)
        db.flush()
        start_ms = int(now.timestamp() * 1000)
        end = now + timedelta(milliseconds=max(e["t_client"] for e in events) + 1000)
        for n in range(count):
            user = db.execute(insert(User).values(username=f"bench{n:05d}", display_name=f"bench {n}",
                                                  password_hash="x", organisation_id=station.id, created_at=now)
                              .returning(User.id)).scalar_one()
            entry = db.execute(insert(RosterEntry).values(exam_session_id=session.id, candidate_id=user,
                                                          seat=f"{n:05d}", ticket_number=f"BENCH{n:06d}")
                               .returning(RosterEntry.id)).scalar_one()
            attempt = db.execute(insert(Attempt).values(roster_entry_id=entry, started_at=now, submitted_at=end,
                                                        receipt_hash="", last_seq=0).returning(Attempt.id)).scalar_one()
            db.execute(insert(PracticalAssignment).values(attempt_id=attempt, task_id=bench_task.id, pool="[]",
                                                          draw_seed="", assigned_at=now, last_seq=len(events)))
            db.execute(insert(TraceEvent.__table__), [
                {"attempt_id": attempt, "seq": e["seq"], "op_id": f"{attempt}-{e['seq']}", "type": e["type"],
                 "payload": json.dumps(e["payload"]), "t_client": e["t_client"],
                 "t_server": start_ms + e["t_client"], "received_at": now} for e in events])
        db.flush()
        # No job yet: the workers start first, then every job is queued at once (see _queue).
        assert db.execute(select(func.count()).select_from(GradingJob)).scalar_one() == 0
    database.dispose()


def _queue(url: str) -> list[int]:
    """Queue the grading of every submitted bench attempt (what submission does) in one transaction."""
    from exam_server import scoring
    from exam_server.db import Database
    from exam_server.models import Attempt, RosterEntry, utcnow

    database = Database(url)
    with database.transaction() as db:
        attempts = db.execute(select(Attempt).join(RosterEntry, Attempt.roster_entry_id == RosterEntry.id)
                              .where(RosterEntry.ticket_number.like("BENCH%"))).scalars().all()
        ids = [scoring.enqueue_grading(db, a, utcnow(), reason="bench").id for a in attempts]
    database.dispose()
    return ids


def _reset(url: str) -> None:
    """Forget the previous run's jobs and reports (the next run grades everything again)."""
    from exam_server.db import Database
    from exam_server.models import GradingJob, ScoreReport

    database = Database(url)
    with database.transaction() as db:
        db.execute(GradingJob.__table__.delete())
        db.execute(ScoreReport.__table__.delete())
    database.dispose()


def _wait_done(url: str, expected: int, timeout_s: float) -> tuple[float, dict]:
    from exam_server import grading_jobs
    from exam_server.db import Database
    from exam_server.models import utcnow

    database = Database(url)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < timeout_s:
            with database.session(write=False) as db:
                counts = grading_jobs.job_counts(db, utcnow())
            if counts.get("done", 0) + counts.get("failed", 0) >= expected:
                return time.perf_counter() - started, counts
            time.sleep(0.2)
        return time.perf_counter() - started, counts
    finally:
        database.dispose()


def _outcome(url: str) -> str:
    """The distinct totals (one trace, so one total) and how many jobs each worker finished."""
    from exam_server.db import Database
    from exam_server.models import GradingJob, ScoreReport

    database = Database(url)
    with database.session(write=False) as db:
        totals = sorted(set(db.execute(select(ScoreReport.total)).scalars()))
        per_worker = sorted(db.execute(select(func.count()).select_from(GradingJob)
                                       .group_by(GradingJob.leased_by)).scalars())
    database.dispose()
    return f"totals {totals}, jobs per worker {per_worker}"


def _children_cpu_s() -> float:
    """CPU seconds of the finished (joined or waited for) child processes: the workers, once stopped."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _figures(name: str, workers: int, count: int, seconds: float, counts: dict, url: str, cpu_s: float) -> None:
    """Wall time, and the workers' CPU time, which other load on the machine hardly changes."""
    load = os.getloadavg()[0]
    print(f"grading_pool.{name}{workers}_s {seconds:.1f}")
    print(f"grading_pool.{name}{workers}_worker_cpu_per_trace_s {cpu_s / count:.3f}")
    print(f"grading_pool.{name}{workers}_per_trace_s {seconds / count:.3f}")
    print(f"grading_pool.{name}{workers}_1000_traces_s {seconds / count * 1000:.0f}")
    print(f"grading_pool.{name}{workers}_outcome jobs={counts} {_outcome(url)} load_1m={load:.2f}")


def run_pool(url: str, workers: int, count: int) -> float:
    from exam_server.grading_jobs import WorkerPool

    _reset(url)
    cpu = _children_cpu_s()
    pool = WorkerPool(url, workers=workers, mode="process", poll_s=0.1).start()
    time.sleep(4)                                    # the workers import and start polling
    try:
        started = time.perf_counter()
        _queue(url)
        seconds, counts = _wait_done(url, count, timeout_s=max(600, count * 2))
        seconds = time.perf_counter() - started
    finally:
        pool.stop()
    _figures("pool", workers, count, seconds, counts, url, _children_cpu_s() - cpu)
    return seconds


def _redis_up(broker: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(broker, socket_connect_timeout=1).ping())
    except Exception:
        return False


def run_celery(url: str, count: int, broker: str, workers: int = 2) -> float | None:
    if not _redis_up(broker):
        print("grading_pool.celery skipped: Redis not reachable")
        return None
    import redis

    redis.Redis.from_url(broker).flushdb()           # a private database number: only this run's messages
    _reset(url)
    cpu = _children_cpu_s()
    env = dict(os.environ, EXAM_CELERY_BROKER_URL=broker, EXAM_DATABASE_URL=url, PYTHONPATH=str(ROOT))
    code = "from exam_server.grading_jobs import celery_worker_main; celery_worker_main()"
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for _ in range(workers)]
    time.sleep(6)                                    # the workers connect to the broker
    try:
        os.environ["EXAM_CELERY_BROKER_URL"] = broker    # the queueing sends each job after its commit
        started = time.perf_counter()
        _queue(url)
        _, counts = _wait_done(url, count, timeout_s=max(600, count * 2))
        seconds = time.perf_counter() - started
    finally:
        os.environ.pop("EXAM_CELERY_BROKER_URL", None)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(20)
    _figures("celery", workers, count, seconds, counts, url, _children_cpu_s() - cpu)
    return seconds


def main(count: int | None = None) -> None:
    count = count or int(os.environ.get("GRADING_POOL_COUNT", "1000"))
    load = os.getloadavg()
    print(f"grading_pool.traces {count}")
    print(f"grading_pool.load_average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="grading-pool-") as folder:
        url = f"sqlite:///{folder}/bench.db"
        seconds, hit = prepared(Path(folder) / "bench.db", count)
        print(f"grading_pool.prepare_s {seconds:.1f} ({'copied from the cache' if hit else 'prepared and cached'})")
        one = run_pool(url, 1, count)
        two = run_pool(url, 2, count)
        print(f"grading_pool.pool_speedup_2_over_1 {one / two:.2f}")
        broker = os.environ.get("GRADING_POOL_BROKER", "redis://127.0.0.1:6379/13")
        celery = {n: run_celery(url, count, broker, workers=n) for n in (1, 2)}
        if celery[1] and celery[2]:
            print(f"grading_pool.celery_speedup_2_over_1 {celery[1] / celery[2]:.2f}")
            print(f"grading_pool.celery2_over_pool2 {celery[2] / two:.2f}")
    load = os.getloadavg()
    print(f"grading_pool.load_average_after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else None)
