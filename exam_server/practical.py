"""Practical exam use cases: the candidate's machine events (stored once, in order, committed before the ack,
then applied to the machine session), the machine state for a reload, the task's drawing, the task each
attempt works on (the same for all, or a seeded, recorded draw), and the practical-task bank's review workflow
with `task check` as the gate before a task becomes active.

Functions that write take the database session and `now` from their caller and audit in the same transaction;
the caller commits. The wire protocol is docs/practical-protocol.md.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Optional

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from simulators.core import task as task_format

from . import audit, delivery, machines
from .audit import canonical_json
from .errors import UserError
from .models import (Attempt, ExamPart, ExamSession, JobTypeLevel, PracticalAssignment, PracticalPart,
                     PracticalPartTask, PracticalTask, RosterEntry, TaskStatus, TraceEvent, User)

MAX_PAYLOAD_BYTES = 48 * 1024          # a whole program text fits; the socket refuses more than 64 KB anyway
MAX_DRAWING_BYTES = 1024 * 1024
EVENT_TYPE = re.compile(r"^[a-z_]{1,32}$")
OP_KEYS = {"attempt_id", "client_id", "op_id", "seq", "event"}
EVENT_KEYS = {"type", "payload", "t_client"}
UNSAFE_SVG = re.compile(r"<\s*script|javascript:|\son[a-z]+\s*=|<\s*foreignObject", re.IGNORECASE)


# ---- machine events ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MachineOp:
    """One machine event as the client sends it (the `machine` Socket.IO event, or one element of the REST
    list): op_id and seq from the outbox, the event itself in the trace format minus v and t_server."""

    op_id: str
    seq: int
    type: str
    payload: dict
    t_client: int
    client_id: Optional[str] = None

    @classmethod
    def parse(cls, raw: Any) -> "MachineOp":
        """Check the envelope; the event's payload is the machine session's business (a bad one is stored and
        recorded by the session as an invalid event, as the trace format says). Raises UserError."""
        if not isinstance(raw, dict) or set(raw) - OP_KEYS or not isinstance(raw.get("event"), dict):
            raise UserError("delivery.bad_op")
        op_id, seq, event, client_id = raw.get("op_id"), raw.get("seq"), raw["event"], raw.get("client_id")
        if not (isinstance(op_id, str) and 8 <= len(op_id) <= 40 and type(seq) is int and 0 < seq < 2**31):
            raise UserError("delivery.bad_op")
        if client_id is not None and not (isinstance(client_id, str) and len(client_id) <= 40):
            raise UserError("delivery.bad_op")
        type_, payload, t_client = event.get("type"), event.get("payload", {}), event.get("t_client", 0)
        if (set(event) - EVENT_KEYS or not isinstance(type_, str) or not EVENT_TYPE.match(type_)
                or not isinstance(payload, dict) or type(t_client) is not int or abs(t_client) >= 2**53):
            raise UserError("delivery.bad_op")
        if len(canonical_json(payload).encode()) > MAX_PAYLOAD_BYTES:
            raise UserError("delivery.bad_op")
        return cls(op_id, seq, type_, payload, t_client, client_id)


@dataclass(frozen=True)
class Recorded:
    """What storing an operation did: a new event (to apply), or a duplicate of an earlier one."""

    seq: int
    event: Optional[dict] = None

    @property
    def duplicate(self) -> bool:
        return self.event is None


def trace_event(row: TraceEvent) -> dict:
    """A stored row as the trace format's event (what the machine session folds)."""
    return {"v": 1, "seq": row.seq, "t_client": row.t_client, "t_server": row.t_server, "type": row.type,
            "payload": json.loads(row.payload)}


def _epoch_ms(now: datetime) -> int:
    return int(now.timestamp() * 1000)


def record_op(db: Session, attempt: Attempt, op: MachineOp, now: datetime) -> Recorded:
    """Store one operation at most once and strictly in seq order (the caller commits, then applies and acks).

    A repeated op_id is a duplicate (acknowledged again, not stored twice); a seq that is not the next one is
    refused with `delivery.seq_gap` carrying the last accepted seq, so the client can resend from there."""
    known = db.execute(select(TraceEvent.attempt_id, TraceEvent.seq).where(TraceEvent.op_id == op.op_id)).first()
    if known is not None:
        if known.attempt_id != attempt.id:
            raise UserError("delivery.bad_op")
        return Recorded(known.seq)
    delivery.check_browser(attempt, op.client_id)
    if not delivery.clock(attempt, now).accepts_saves(now):
        raise UserError("delivery.attempt_closed", 409)
    if not _advance(db, attempt.id, op.seq):
        assignment = assign_task(db, attempt, now)      # the first event may come before the first load
        if op.seq != assignment.last_seq + 1 or not _advance(db, attempt.id, op.seq):
            raise UserError("delivery.seq_gap", 409, last_seq=assignment.last_seq)
    event = {"v": 1, "seq": op.seq, "t_client": op.t_client, "t_server": _epoch_ms(now), "type": op.type,
             "payload": op.payload}
    db.execute(insert(TraceEvent.__table__).values(
        attempt_id=attempt.id, seq=op.seq, op_id=op.op_id, type=op.type, payload=canonical_json(op.payload),
        t_client=op.t_client, t_server=event["t_server"], received_at=now))
    return Recorded(op.seq, event)


def _advance(db: Session, attempt_id: int, seq: int) -> bool:
    """Move the attempt's last_seq from seq − 1 to seq. The WHERE makes the order a database fact: a gap, a
    replayed seq or another server process racing on the same attempt all leave it unchanged (False)."""
    table = PracticalAssignment.__table__
    moved = db.execute(update(table).where(table.c.attempt_id == attempt_id, table.c.last_seq == seq - 1)
                       .values(last_seq=seq))
    return moved.rowcount == 1


# what delivery.clock reads, loaded with the attempt (as the group-commit writer does)
CLOCK_LOADS = (joinedload(Attempt.roster_entry).joinedload(RosterEntry.exam_session).selectinload(ExamSession.pauses),
               selectinload(Attempt.own_pauses), selectinload(Attempt.adjustments))

# commit(user_id, attempt_id, work) -> work's result, after the commit that holds it; raises UserError
Commit = Callable[[int, Any, Callable[[Session, Attempt, datetime], Any]], Any]


def direct_commit(database, clock: Callable[[], datetime]) -> Commit:
    """Each operation in a transaction of its own (tools, tests, benchmarks; the server uses the group-commit
    writer of save_writer.py instead)."""
    def commit(user_id: int, attempt_id: Any, work):
        now = clock()
        with database.transaction() as db:
            attempt = db.execute(select(Attempt).where(Attempt.id == attempt_id).options(*CLOCK_LOADS)
                                 ).unique().scalar_one_or_none() if type(attempt_id) is int else None
            if attempt is None or attempt.roster_entry.candidate_id != user_id:
                raise UserError("error.not_found", 404)
            return work(db, attempt, now)
    return commit


def error_ack(exc: UserError, message: str) -> dict:
    ack: dict[str, Any] = {"ok": False, "error": {"code": exc.key, "message": message}}
    if "last_seq" in exc.values:
        ack["last_seq"] = exc.values["last_seq"]
    return ack


def submit_op(commit: Commit, manager: machines.MachineManager, user_id: int, raw: Any) -> dict:
    """The whole path of one operation: check, store and commit, then apply to the machine session; returns
    the ack. Holding the attempt's lock throughout keeps the session's order the database's order.
    Raises UserError (the caller turns it into an error ack)."""
    op = MachineOp.parse(raw)
    attempt_id = raw.get("attempt_id")
    if type(attempt_id) is not int:
        raise UserError("error.not_found", 404)
    with manager.lock(attempt_id):
        try:
            recorded = commit(user_id, attempt_id, lambda db, attempt, now: record_op(db, attempt, op, now))
        except UserError:
            if not manager.cached(attempt_id):
                manager.drop(attempt_id)     # probing other ids must not push real sessions out
            raise
        if recorded.duplicate:
            return {"ok": True, "seq": recorded.seq, "duplicate": True}
        update_ = manager.apply(attempt_id, recorded.event)
    return {"ok": True, "seq": recorded.seq, "update": update_}


def trace_digest(db: Session, attempt: Attempt) -> tuple[int, str]:
    """(events, SHA-256) of the attempt's whole trace: what a practical submission's receipt certifies."""
    rows = db.execute(select(TraceEvent.seq, TraceEvent.op_id, TraceEvent.type, TraceEvent.payload)
                      .where(TraceEvent.attempt_id == attempt.id).order_by(TraceEvent.seq)).all()
    trace = [[seq, op_id, type_, json.loads(payload)] for seq, op_id, type_, payload in rows]
    return len(trace), hashlib.sha256(canonical_json({"attempt": attempt.id, "trace": trace}).encode()).hexdigest()


# ---- the machine's state for a (re)load --------------------------------------------------------------------

def stored_events(db: Session, attempt_id: int, before_seq: Optional[int] = None) -> list[dict]:
    query = select(TraceEvent).where(TraceEvent.attempt_id == attempt_id)
    if before_seq is not None:
        query = query.where(TraceEvent.seq < before_seq)
    return [trace_event(row) for row in db.execute(query.order_by(TraceEvent.seq)).scalars()]


def loader(database) -> machines.Loader:
    """The manager's way back to the truth: the attempt's task machine and its stored events."""
    def load(attempt_id: int, before_seq: Optional[int]) -> machines.MachineSource:
        with database.session(write=False) as db:
            assignment = db.execute(select(PracticalAssignment).where(PracticalAssignment.attempt_id == attempt_id)
                                    ).scalar_one()
            task = json.loads(assignment.task.task_json)
            return machines.MachineSource(task["machine_type"], task["machine"],
                                          stored_events(db, attempt_id, before_seq))
    return load


def manager_for(app) -> machines.MachineManager:
    """The app's machine sessions (one manager per server process), created on first use."""
    manager = app.extensions.get("practical_machines")
    if manager is None:
        manager = app.extensions["practical_machines"] = machines.MachineManager(loader(app.extensions["exam_db"]))
    return manager


def task_summary(task: PracticalTask, drawing_url: str) -> dict:
    """What the candidate's page shows of the task (never the reference program or the score sheet)."""
    data = json.loads(task.task_json)
    return {"id": task.code, "version": task.version, "title": task.title,
            "time_limit_min": data["time_limit_min"], "drawing_url": drawing_url,
            "description": data.get("description", ""), "instruments": instruments_for(task.machine_type),
            "available_tools": data.get("available_tools", []), "stock": data["machine"].get("stock")}


def instruments_for(machine_type: str) -> list[dict]:
    """The virtual instruments of docs/instruments.md the candidate may use on this machine, with their range
    and resolution (the page shows readings to that resolution)."""
    from simulators.cnc_lathe import instruments as lathe_instruments
    from simulators.cnc_mill import instruments as mill_instruments

    module = lathe_instruments if machine_type == "lathe" else mill_instruments
    return [{"name": name, "low": spec.low, "high": spec.high, "resolution": spec.resolution,
             "unit": getattr(spec, "unit", "mm")} for name, spec in module.INSTRUMENTS.items()]


def machine_state(db: Session, manager: machines.MachineManager, attempt: Attempt, now: datetime,
                  drawing_url: str) -> dict:
    """Everything the practical page renders from on load and reload (the assignment must exist)."""
    assignment = assignment_of(db, attempt)
    if assignment is None:
        raise UserError("practical.no_task", 409)
    state = delivery.clock(attempt, now)
    page = {"attempt_id": attempt.id, "machine_type": assignment.task.machine_type,
            "task": task_summary(assignment.task, drawing_url),
            "clock": {"phase": state.phase.value, "remaining_ms": state.remaining_ms}}
    stored_seq = assignment.last_seq
    # A rebuild reads the trace on a connection of its own: end this read first, or a synchronized start of a
    # room holds every pooled connection twice and waits on itself (found by the rehearsal).
    db.commit()
    view, last_seq = manager.view(attempt.id, stored_seq)
    return {**page, "view": view, "last_seq": last_seq}


def attempt_summary(db: Session, manager: machines.MachineManager, attempt: Attempt) -> dict:
    """The machine session's summary for grading (docs/trace-format.md): alarms and crashes with their seq,
    offsets and their errors, and every score-sheet item measured on the final part, as `examctl replay`
    prints it for the same trace."""
    assignment = assignment_of(db, attempt)
    if assignment is None:
        raise UserError("practical.no_task", 409)
    task = json.loads(assignment.task.task_json)
    return manager.summary(attempt.id, assignment.last_seq, task["items"], task["work_zero"])


# ---- task assignment -------------------------------------------------------------------------------------

def assignment_of(db: Session, attempt: Attempt) -> Optional[PracticalAssignment]:
    return db.execute(select(PracticalAssignment).where(PracticalAssignment.attempt_id == attempt.id)
                      .execution_options(populate_existing=True)).scalar_one_or_none()


def part_of(db: Session, session: ExamSession) -> Optional[PracticalPart]:
    return db.execute(select(PracticalPart).where(PracticalPart.exam_session_id == session.id)).scalar_one_or_none()


def draw(pool: list[int], seed: str) -> int:
    """The task one candidate draws: a seeded choice, so the same seed always gives the same task."""
    return pool[random.Random(seed).randrange(len(pool))]


def assign_task(db: Session, attempt: Attempt, now: datetime) -> PracticalAssignment:
    """The attempt's task, assigned on first use: the pool's only task, or a draw seeded by the session's
    seed and the roster entry (recorded with the pool and the seed, and audited)."""
    existing = assignment_of(db, attempt)
    if existing is not None:
        return existing
    entry = attempt.roster_entry
    part = part_of(db, entry.exam_session)
    pool = sorted(p.task_id for p in part.pool if p.task.status is TaskStatus.active) if part else []
    if not pool:
        raise UserError("practical.no_task", 409)
    seed = f"{part.draw_seed}:{entry.id}" if len(pool) > 1 else ""
    task_id = draw(pool, seed) if seed else pool[0]
    assignment = PracticalAssignment(attempt_id=attempt.id, task_id=task_id, pool=canonical_json(pool),
                                     draw_seed=seed, assigned_at=now, last_seq=0)
    db.add(assignment)
    db.flush()
    audit.record(db, "practical_task_assigned", actor=entry.candidate, object_type="attempt", object_id=attempt.id,
                 now=now, data={"task_id": task_id, "pool": pool, "seed": seed})
    return assignment


def set_pool(db: Session, session: ExamSession, tasks: list[PracticalTask], actor: Optional[User], now: datetime,
             seed: Optional[str] = None) -> PracticalPart:
    """Give a practical session its task pool: one task for everyone, or several equivalent ones to draw from
    (active, same job type, level and machine as the session's exam). Fixed once a candidate has a task."""
    if session.part is not ExamPart.practical:
        raise UserError("practical.not_practical")
    exam = session.exam
    if not tasks or any(t.status is not TaskStatus.active or t.job_type_id != exam.job_type_id
                        or t.level != exam.level or t.machine_type != tasks[0].machine_type for t in tasks):
        raise UserError("practical.pool_mismatch")
    part = part_of(db, session)
    if part is not None and _pool_used(db, session):
        raise UserError("practical.pool_fixed", 409)
    if part is None:
        part = PracticalPart(exam_session_id=session.id, draw_seed=seed or secrets.token_hex(16), created_at=now,
                             created_by_id=actor.id if actor else None)
        db.add(part)
        db.flush()
    elif seed:
        part.draw_seed = seed
    for old in list(part.pool):
        db.delete(old)
    db.flush()
    for task in sorted({t.id: t for t in tasks}.values(), key=lambda t: t.id):
        db.add(PracticalPartTask(part_id=part.id, task_id=task.id))
    db.flush()
    db.expire(part, ["pool"])
    audit.record(db, "practical_pool_set", actor=actor, actor_name="" if actor else "examctl",
                 object_type="exam_session", object_id=session.id, now=now,
                 data={"tasks": sorted(t.id for t in tasks), "seed_sha256": _sha(part.draw_seed)})
    return part


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _pool_used(db: Session, session: ExamSession) -> bool:
    used = db.execute(select(func.count()).select_from(PracticalAssignment)
                      .join(Attempt, PracticalAssignment.attempt_id == Attempt.id)
                      .join(RosterEntry, Attempt.roster_entry_id == RosterEntry.id)
                      .where(RosterEntry.exam_session_id == session.id)).scalar_one()
    return used > 0


# ---- the practical-task bank -------------------------------------------------------------------------------

def _drawing_problem(svg: str) -> Optional[str]:
    if len(svg.encode()) > MAX_DRAWING_BYTES:
        return "too large"
    if "<svg" not in svg[:4096].lower():
        return "not an SVG document"
    if UNSAFE_SVG.search(svg):
        return "scripts, event handlers and foreign objects are not allowed"
    return None


def check_document(data: Any, program_text: Optional[str]) -> dict:
    """The task document as the bank stores it: checked by the task format, reference program inlined.
    Raises UserError naming the JSON path of the first problem."""
    try:
        parsed = task_format.load_task(data)
    except task_format.TaskError as error:
        raise UserError("practical.task_invalid", detail=str(error)) from None
    document = dict(data)
    if parsed.reference_file:
        if not program_text or not program_text.strip():
            raise UserError("practical.program_missing", name=parsed.reference_program)
        document["reference_program"] = program_text.replace("\r\n", "\n")
    return document


def upload_task(db: Session, data: Any, drawing_svg: str, program_text: Optional[str], job_type_id: int,
                level: int, author: Optional[User], now: datetime) -> PracticalTask:
    """Add a task to the bank as a draft: a new version when its code exists (a version is never edited)."""
    document = check_document(data, program_text)
    problem = _drawing_problem(drawing_svg)
    if problem:
        raise UserError("practical.drawing_invalid", detail=problem)
    offered = db.execute(select(JobTypeLevel).where(JobTypeLevel.job_type_id == job_type_id,
                                                    JobTypeLevel.level == level)).scalar_one_or_none()
    if offered is None:
        raise UserError("practical.level_unknown")
    code = document["id"]
    latest = db.execute(select(func.max(PracticalTask.version)).where(PracticalTask.code == code)).scalar_one()
    task = PracticalTask(code=code, version=(latest or 0) + 1, job_type_id=job_type_id, level=level,
                         machine_type=document["machine_type"], title=document["title"][:200],
                         task_json=canonical_json(document), drawing_svg=drawing_svg, created_at=now,
                         created_by_id=author.id if author else None)
    db.add(task)
    db.flush()
    audit.record(db, "practical_task_uploaded", actor=author, actor_name="" if author else "examctl",
                 object_type="practical_task", object_id=task.id, now=now,
                 data={"code": code, "version": task.version, "sha256": _sha(task.task_json + task.drawing_svg)})
    return task


def run_check(task_json: str) -> dict:
    """`examctl task check` on a stored task: the reference program with exact offsets, every item measured.
    Pure and CPU-bound (seconds for a mill task): call it outside any transaction, through machines.run_cpu."""
    data = json.loads(task_json)
    parsed = task_format.load_task(data)
    return task_format.check_reference(parsed, parsed.reference_program)


def record_check(db: Session, task: PracticalTask, report: dict, actor: Optional[User], now: datetime) -> None:
    task.check_ok, task.check_report, task.checked_at = bool(report["ok"]), canonical_json(report), now
    audit.record(db, "practical_task_checked", actor=actor, actor_name="" if actor else "examctl",
                 object_type="practical_task", object_id=task.id, now=now, data={"ok": bool(report["ok"])})


# action -> (states it applies to, the state it leads to)
TRANSITIONS = {
    "review": ((TaskStatus.draft,), TaskStatus.reviewed),
    "activate": ((TaskStatus.reviewed,), TaskStatus.active),
    "retire": ((TaskStatus.draft, TaskStatus.reviewed, TaskStatus.active), TaskStatus.retired),
}


def transition(db: Session, task: PracticalTask, action: str, actor: Optional[User], now: datetime) -> None:
    """Move a task along draft → reviewed → active → retired. Reviewing needs a second person (not the
    uploader); activating needs a passing `task check` of this very version."""
    if action not in TRANSITIONS:
        raise UserError("error.bad_request")
    allowed, target = TRANSITIONS[action]
    if task.status not in allowed:
        raise UserError("practical.bad_transition", 409, state=task.status.value)
    actor_id = actor.id if actor else None
    if action == "review":
        if actor_id is not None and actor_id == task.created_by_id:
            raise UserError("practical.own_review", 409)
        task.reviewed_at, task.reviewed_by_id = now, actor_id
    elif action == "activate":
        if not task.check_ok:
            raise UserError("practical.check_required", 409)
        task.activated_at, task.activated_by_id = now, actor_id
    else:
        task.retired_at, task.retired_by_id = now, actor_id
    audit.record(db, f"practical_task_{target.value}", actor=actor, actor_name="" if actor else "examctl",
                 object_type="practical_task", object_id=task.id, now=now,
                 data={"code": task.code, "version": task.version})
