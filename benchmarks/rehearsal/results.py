"""After the day: grading on the Celery workers (one killed mid-job, its job taken again once the lease runs out),
the examiners' release of the reports, the centre's confirmation, certificate issuance, and public lookups
through nginx."""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from exam_server import certificates, scoring
from exam_server.certificate_signing import SignedRecord, private_key_from_hex, public_key_from_text, verify
from exam_server.db import Database
from exam_server.models import (ExamSession, GradingJob, Result, Role, RoleAssignment, User,
                                utcnow)

from .bots import Metrics, Person
from .day import Fault
from .stack import Stack


@dataclass
class Aftermath:
    jobs: dict[str, int] = field(default_factory=dict)     # grading jobs by final status
    retaken: list[int] = field(default_factory=list)       # the killed worker's job(s), taken again
    graded_s: float = 0.0                                   # from the last submission to the last job done
    marked: int = 0
    released: int = 0
    confirmed: int = 0
    issued: int = 0
    looked_up: int = 0
    lookup_failures: list[str] = field(default_factory=list)


def kill_worker_mid_job(stack: Stack, faults: list[Fault], seconds: float = 120) -> list[int]:
    """Wait for a Celery worker to hold a lease on an unfinished job, kill it -9, start a fresh one; the job's id."""
    database = Database(stack.database_url)
    pids = {w.process.pid: w for w in stack.workers}
    deadline = time.time() + seconds
    try:
        while time.time() < deadline:
            with database.session(write=False) as db:
                held = db.execute(select(GradingJob.id, GradingJob.leased_by).where(
                    GradingJob.finished_at.is_(None), GradingJob.leased_by.like("celery:%"))).all()
            for job_id, leased_by in held:
                pid = int(leased_by.split(":")[2])
                if pid in pids:
                    faults.append(Fault("a grading worker killed mid-job", time.time()))
                    pids[pid].kill()
                    pids[pid].start()
                    return [job_id]
            time.sleep(0.02)
    finally:
        database.dispose()
    return []


def wait_graded(stack: Stack, seconds: float) -> dict[str, int]:
    """Until no grading job is left unfinished (or ``seconds`` pass): the jobs by status."""
    database = Database(stack.database_url)
    deadline = time.time() + seconds
    try:
        while True:
            with database.session(write=False) as db:
                open_jobs = db.execute(select(func.count()).select_from(GradingJob).where(
                    GradingJob.finished_at.is_(None), GradingJob.failed_at.is_(None))).scalar_one()
                if open_jobs == 0 or time.time() > deadline:
                    counts = {}
                    for job in db.execute(select(GradingJob)).scalars():
                        status = job.status(utcnow())
                        counts[status] = counts.get(status, 0) + 1
                    return counts
            time.sleep(1.0)
    finally:
        database.dispose()


def mark_manual_items(database: Database, session_ids: list[int], outcome: Aftermath) -> int:
    """The examiners mark the practical sheets' manual items (as many examiners as each item needs, agreeing
    on 80 % of its points); each mark queues the attempt's grading again."""
    now, marked = utcnow(), 0
    with database.transaction() as db:
        panel = db.execute(select(User).join(RoleAssignment, RoleAssignment.user_id == User.id).where(
            RoleAssignment.role == Role.examiner).order_by(User.id)).scalars().unique().all()
        for session_id in session_ids:
            for attempt in scoring.session_attempts(db, db.get(ExamSession, session_id)):
                if attempt.submitted_at is None or attempt.voided_at is not None:
                    continue
                for item in scoring.manual_items(db, attempt):
                    for examiner in panel[len(item["marks"]):item["examiners"]]:
                        scoring.add_mark(db, attempt, examiner, item["id"], round(item["points"] * 0.8, 1),
                                         "演练评分", now)
                        marked += 1
    outcome.marked = marked
    return marked


def release_confirm_issue(database: Database, session_ids: list[int], cert_key_hex: str,
                          outcome: Aftermath) -> list[tuple[str, str, str]]:
    """The examiners release each session's reports (feeding the part scores); the centre confirms every
    complete result and issues the certificates of those who passed."""
    now = utcnow()
    key = private_key_from_hex(cert_key_hex)
    with database.transaction() as db:
        for session_id in session_ids:
            session = db.get(ExamSession, session_id)
            examiner = _staff(db, Role.examiner, session.organisation_id)
            outcome.released += scoring.release(db, session, examiner, now)["released"]
    issued = []
    with database.transaction() as db:
        admin = db.execute(select(User).where(User.username == "admin")).scalar_one()
        for result in db.execute(select(Result).order_by(Result.id)).scalars():
            if result.theory is None or result.practical is None or result.confirmed_at is not None:
                continue
            certificates.confirm(db, result, admin, now)
            outcome.confirmed += 1
            if result.passed_at is not None:
                issued.append(certificates.issue(db, result, admin, now + timedelta(seconds=1), key))
        outcome.issued = len(issued)
        return [(c.number, c.holder_name, c.public_id) for c in issued]


def _staff(db, role: Role, organisation_id: int) -> User:
    return db.execute(select(User).join(RoleAssignment, RoleAssignment.user_id == User.id).where(
        RoleAssignment.role == role, RoleAssignment.organisation_id == organisation_id)).scalars().first()


async def look_up(base: str, issued: list[tuple[str, str, str]], metrics: Metrics, outcome: Aftermath) -> None:
    """The public, through nginx: each certificate by number and name, then its signed document verified
    against the published keys."""
    person = Person(base, metrics)
    await person.open()
    try:
        keys = {k["key_id"]: public_key_from_text(k["public_key"])
                for k in (await person._request("GET", "/api/certificate-keys"))["keys"]}

        async def one(number: str, name: str, public_id: str) -> None:
            started = time.perf_counter()
            found = await person._request("GET", f"/api/certificates/lookup?number={number}&name={name}")
            metrics.took("lookup", time.perf_counter() - started)
            document = await person._request("GET", f"/api/certificates/{public_id}")
            try:
                assert [c["number"] for c in found["certificates"]] == [number]
                verify(SignedRecord(document["record"], document["key_id"], document["signature"]), keys)
                outcome.looked_up += 1
            except Exception as exc:     # noqa: BLE001 — reported as a finding
                outcome.lookup_failures.append(f"{number}: {type(exc).__name__} {json.dumps(found)[:200]}")

        for start in range(0, len(issued), 20):
            await asyncio.gather(*(one(*row) for row in issued[start:start + 20]))
    finally:
        await person.close()
