"""A session as files, for the trip between the hub and a station node.

Out of the hub (``package_files``): everything the station needs to run the session — the exam and its job
type, the station, room and times, the roster with photos, the staff duties, the papers in clear (they travel
encrypted inside the package) and the practical tasks. Into the node (``import_package``): the same rows in the
node's own database, papers sealed again under the node's paper key, so that the node runs the session exactly
as the hub would.

Back from the node (``result_files``): attempts with their answers and traces, the examiners' inputs, score
reports, incidents, misconduct and the session report. Into the hub (``import_results``): attempts, answers and
traces under the hub's own roster entries; anything that does not fit is reported as a conflict, never merged."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import monitoring, papers, sealing
from .errors import UserError
from .models import (AdjustmentKind, AssembledPaper, Assembly, Attempt, Exam, ExamPart, ExamSession, ExaminerFinding,
                     JobType, ManualMark, Occupation, Organisation, OrganisationKind, Pause, PracticalAssignment,
                     PracticalPart, PracticalPartTask, PracticalTask, Response, Role, RoleAssignment, RosterEntry,
                     ScoreOverride, SealedPaper, SessionStaff, SubmitKind, TimeAdjustment, TraceEvent, User)
from .models.affairs import Duty
from .papers import assembled
from .scoring import current_report

SESSION, PAPER, RESULTS = "session.json", "paper.json", "results.json"
UNUSABLE_PASSWORD = "!imported"     # candidates check in with ticket + ID + PIN; never a password


def session_ref(session: ExamSession) -> str:
    return f"{session.exam.code}/{session.id}"


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _time(value: Optional[datetime]) -> Optional[str]:
    return value.isoformat() if value is not None else None


def _parse(value: Optional[str]) -> Optional[datetime]:
    return datetime.fromisoformat(value) if value else None


# ------------------------------------------------------------------------------------------ hub → node

def package_files(db: Session, session: ExamSession, paper_key: bytes) -> dict[str, bytes]:
    exam, station = session.exam, session.organisation
    files: dict[str, bytes] = {}
    roster = []
    for entry in session.roster:
        candidate = entry.candidate
        if candidate.photo:
            files[f"photos/{entry.ticket_number}"] = candidate.photo
        roster.append({"seat": entry.seat, "ticket_number": entry.ticket_number, "username": candidate.username,
                       "display_name": candidate.display_name, "id_number": candidate.id_number,
                       "photo_type": candidate.photo_type if candidate.photo else None})
    staff = db.execute(select(SessionStaff).where(SessionStaff.exam_session_id == session.id)
                       .order_by(SessionStaff.id)).scalars()
    document = {
        "ref": session_ref(session), "part": session.part.value, "room": session.room,
        "scheduled_start_at": _time(session.scheduled_start_at), "duration_s": session.duration_s,
        "exam": {"code": exam.code, "name": exam.name, "level": exam.level, "seb_config_key": exam.seb_config_key,
                 "job_type": _job_type(exam.job_type)},
        "station": {"code": station.code, "name": station.name},
        "roster": roster,
        "staff": [{"username": s.user.username, "display_name": s.user.display_name, "duty": s.duty.value}
                  for s in staff]}
    if session.part == ExamPart.theory:
        files.update(_theory_papers(db, session, paper_key))
    else:
        document["practical"] = _practical(db, session, files)
    files[SESSION] = _json(document)
    return files


def _job_type(job_type: JobType) -> dict:
    occupation = job_type.occupation
    return {"code": job_type.code, "name": job_type.name, "name_en": job_type.name_en,
            "occupation": {"code": occupation.code, "name": occupation.name, "name_en": occupation.name_en}}


def _theory_papers(db: Session, session: ExamSession, paper_key: bytes) -> dict[str, bytes]:
    sealed = db.execute(select(SealedPaper).where(SealedPaper.exam_session_id == session.id)).scalar_one_or_none()
    if sealed is None:
        raise UserError("transfer.no_paper", 409)
    context = f"exam_session:{session.id}".encode()
    data_key = sealing.release_key(sealed.key_nonce, sealed.wrapped_key, paper_key, context)
    own = db.execute(select(AssembledPaper, RosterEntry.ticket_number).join(RosterEntry)
                     .where(RosterEntry.exam_session_id == session.id)).all()
    if own:
        return {f"papers/{ticket}.json": _json(assembled.open_paper(row, data_key)) for row, ticket in own}
    return {PAPER: sealing.open_sealed(sealed.nonce, sealed.ciphertext, data_key, context)}


def _practical(db: Session, session: ExamSession, files: dict[str, bytes]) -> dict:
    part = db.execute(select(PracticalPart).where(PracticalPart.exam_session_id == session.id)).scalar_one_or_none()
    if part is None:
        raise UserError("transfer.no_paper", 409)
    names = []
    for link in part.pool:
        task = link.task
        name = f"{task.code}@{task.version}"
        files[f"tasks/{name}.json"] = _json({
            "code": task.code, "version": task.version, "level": task.level, "machine_type": task.machine_type,
            "title": task.title, "task_json": task.task_json, "drawing_svg": task.drawing_svg,
            "job_type": _job_type(task.job_type)})
        names.append(name)
    return {"draw_seed": part.draw_seed, "tasks": names}


def import_package(db: Session, files: dict[str, bytes], paper_key: bytes, actor: User, now: datetime) -> ExamSession:
    """The package's session in this node's database, ready to be opened by the room's examiner."""
    document = json.loads(files[SESSION])
    station = _station(db, document["station"])
    exam = _exam(db, document["exam"], now)
    session = ExamSession(exam=exam, part=ExamPart(document["part"]), organisation=station, room=document["room"],
                          scheduled_start_at=_parse(document["scheduled_start_at"]),
                          duration_s=document["duration_s"], created_at=now)
    db.add(session)
    for row in document["roster"]:
        candidate = _candidate(db, row, station, files.get(f"photos/{row['ticket_number']}"), now)
        db.add(RosterEntry(exam_session=session, candidate=candidate, seat=row["seat"],
                           ticket_number=row["ticket_number"]))
    db.flush()
    for row in document["staff"]:
        user = db.execute(select(User).where(User.username == row["username"])).scalar_one_or_none()
        if user is not None:     # staff accounts are the node's own; a missing one is assigned by the station
            db.add(SessionStaff(exam_session_id=session.id, user_id=user.id, duty=Duty(row["duty"]),
                                assigned_at=now, assigned_by_id=actor.id))
    if session.part == ExamPart.theory:
        _seal_papers(db, session, files, paper_key, now)
    else:
        _practical_part(db, session, document["practical"], files, now)
    return session


def _station(db: Session, row: dict) -> Organisation:
    station = db.execute(select(Organisation).where(Organisation.code == row["code"])).scalar_one_or_none()
    if station is None:
        station = Organisation(code=row["code"], name=row["name"], kind=OrganisationKind.station)
        db.add(station)
        db.flush()
        station.path = f"/{station.id}/"
    return station


def _job_type_row(db: Session, row: dict) -> JobType:
    occupation = db.execute(select(Occupation).where(Occupation.code == row["occupation"]["code"])).scalar_one_or_none()
    if occupation is None:
        occupation = Occupation(**row["occupation"])
        db.add(occupation)
        db.flush()
    job_type = db.execute(select(JobType).where(JobType.occupation_id == occupation.id,
                                                JobType.code == row["code"])).scalar_one_or_none()
    if job_type is None:
        job_type = JobType(occupation=occupation, code=row["code"], name=row["name"], name_en=row["name_en"])
        db.add(job_type)
    return job_type


def _exam(db: Session, row: dict, now: datetime) -> Exam:
    exam = db.execute(select(Exam).where(Exam.code == row["code"])).scalar_one_or_none()
    if exam is None:
        exam = Exam(code=row["code"], name=row["name"], job_type=_job_type_row(db, row["job_type"]),
                    level=row["level"], seb_config_key=row["seb_config_key"], created_at=now)
        db.add(exam)
    return exam


def _candidate(db: Session, row: dict, station: Organisation, photo: Optional[bytes], now: datetime) -> User:
    user = db.execute(select(User).where(User.username == row["username"])).scalar_one_or_none()
    if user is not None:
        if user.id_number != row["id_number"]:
            raise UserError("transfer.candidate_clash", 409, detail=row["username"])
        return user
    user = User(username=row["username"], display_name=row["display_name"], id_number=row["id_number"],
                password_hash=UNUSABLE_PASSWORD, organisation=station, photo=photo, photo_type=row["photo_type"],
                created_at=now)
    user.role_assignments = [RoleAssignment(role=Role.candidate, organisation=station, granted_at=now)]
    db.add(user)
    return user


def _seal_papers(db: Session, session: ExamSession, files: dict[str, bytes], paper_key: bytes, now: datetime) -> None:
    if PAPER in files:
        papers.seal_for_session(db, session, json.loads(files[PAPER]), paper_key, now)
        return
    assembly = Assembly(exam_session=session, blueprint_id=None, mode="imported", seed=0, bank_hash="",
                        solver_version="hub package", created_at=now)
    db.add(assembly)
    data_key = assembled.session_data_key(db, session, paper_key, {"id": "imported", "items": []}, now)
    for index, entry in enumerate(session.roster):
        paper = json.loads(files[f"papers/{entry.ticket_number}.json"])
        nonce, ciphertext, digest = assembled.seal_paper(data_key, paper, entry.id)
        db.add(AssembledPaper(assembly=assembly, roster_entry_id=entry.id, paper_index=index, solver="hub",
                              objective=0.0, expected_score=0.0, report="{}", nonce=nonce, ciphertext=ciphertext,
                              sha256=digest, sealed_at=now))


def _practical_part(db: Session, session: ExamSession, row: dict, files: dict[str, bytes], now: datetime) -> None:
    part = PracticalPart(exam_session_id=session.id, draw_seed=row["draw_seed"], created_at=now)
    db.add(part)
    db.flush()
    for name in row["tasks"]:
        db.add(PracticalPartTask(part_id=part.id, task_id=_task(db, json.loads(files[f"tasks/{name}.json"]), now).id))


def _task(db: Session, row: dict, now: datetime) -> PracticalTask:
    task = db.execute(select(PracticalTask).where(PracticalTask.code == row["code"],
                                                  PracticalTask.version == row["version"])).scalar_one_or_none()
    if task is not None:
        if task.task_json != row["task_json"]:
            raise UserError("transfer.task_clash", 409, detail=f"{row['code']}@{row['version']}")
        return task
    task = PracticalTask(code=row["code"], version=row["version"], job_type=_job_type_row(db, row["job_type"]),
                         level=row["level"], machine_type=row["machine_type"], title=row["title"],
                         task_json=row["task_json"], drawing_svg=row["drawing_svg"], check_ok=True, created_at=now,
                         reviewed_at=now, activated_at=now)
    db.add(task)
    db.flush()
    return task


# ------------------------------------------------------------------------------------------ node → hub

def result_files(db: Session, session: ExamSession, ref: str) -> dict[str, bytes]:
    attempts = [_attempt_record(db, entry) for entry in session.roster if entry.attempt is not None]
    report = monitoring.report_of(db, session)
    document = {
        "ref": ref, "check_in_opened_at": _time(session.check_in_opened_at), "started_at": _time(session.started_at),
        "ended_at": _time(session.ended_at),
        "pauses": [_pause(p) for p in session.pauses if p.attempt_id is None],
        "attempts": attempts,
        "session_report": monitoring.report_json(report) if report is not None else None,
        "report_content": monitoring.report_content(db, session)}
    return {RESULTS: _json(document)}


def _pause(pause: Pause) -> dict:
    return {"paused_at": _time(pause.paused_at), "resumed_at": _time(pause.resumed_at), "reason": pause.reason}


def _attempt_record(db: Session, entry: RosterEntry) -> dict:
    attempt = entry.attempt
    responses = db.execute(select(Response).where(Response.attempt_id == attempt.id).order_by(Response.item_id))
    trace = db.execute(select(TraceEvent).where(TraceEvent.attempt_id == attempt.id).order_by(TraceEvent.seq))
    assignment = db.execute(select(PracticalAssignment).where(PracticalAssignment.attempt_id == attempt.id)
                            ).scalar_one_or_none()
    report = current_report(db, attempt)
    return {
        "ticket_number": entry.ticket_number, "started_at": _time(attempt.started_at),
        "submitted_at": _time(attempt.submitted_at),
        "submit_kind": attempt.submit_kind.value if attempt.submit_kind else None,
        "voided_at": _time(attempt.voided_at), "receipt_hash": attempt.receipt_hash, "last_seq": attempt.last_seq,
        "responses": [{"item_id": r.item_id, "value": r.value, "flagged": r.flagged, "seq": r.seq,
                       "saved_at": _time(r.saved_at)} for r in responses.scalars()],
        "trace": [{"seq": e.seq, "op_id": e.op_id, "type": e.type, "payload": e.payload, "t_client": e.t_client,
                   "t_server": e.t_server, "received_at": _time(e.received_at)} for e in trace.scalars()],
        "assignment": None if assignment is None else {
            "task": f"{assignment.task.code}@{assignment.task.version}", "pool": assignment.pool,
            "draw_seed": assignment.draw_seed, "assigned_at": _time(assignment.assigned_at),
            "last_seq": assignment.last_seq},
        "adjustments": [{"kind": a.kind.value, "seconds": a.seconds, "reason": a.reason,
                         "created_at": _time(a.created_at), "reverted_at": _time(a.reverted_at)}
                        for a in attempt.adjustments],
        "pauses": [_pause(p) for p in attempt.own_pauses],
        "examiner_inputs": _examiner_inputs(db, attempt.id),
        "report": None if report is None else json.loads(report.report_json)}


def _examiner_inputs(db: Session, attempt_id: int) -> dict:
    """Who scored what on the node, by user name (the hub has its own accounts)."""
    def named(rows):
        return [(row, db.get(User, row.examiner_id).username) for row in rows]
    marks = db.execute(select(ManualMark).where(ManualMark.attempt_id == attempt_id).order_by(ManualMark.id)).scalars()
    overrides = db.execute(select(ScoreOverride).where(ScoreOverride.attempt_id == attempt_id,
                                                       ScoreOverride.revoked_at.is_(None))
                           .order_by(ScoreOverride.id)).scalars()
    findings = db.execute(select(ExaminerFinding).where(ExaminerFinding.attempt_id == attempt_id)
                          .order_by(ExaminerFinding.id)).scalars()
    return {"marks": [{"item_id": m.item_id, "score": m.score, "note": m.note, "at": _time(m.marked_at), "by": who}
                      for m, who in named(marks)],
            "overrides": [{"item_id": o.item_id, "score": o.score, "reason": o.reason, "at": _time(o.created_at),
                           "by": who} for o, who in named(overrides)],
            "findings": [{"kind": f.kind, "description": f.description, "at": _time(f.recorded_at), "by": who}
                         for f, who in named(findings)]}


def import_results(db: Session, session: ExamSession, document: dict,
                   now: datetime) -> tuple[list[Attempt], list[dict]]:
    """The node's attempts under this hub session's roster. Returns the attempts imported and the conflicts."""
    entries = {entry.ticket_number: entry for entry in session.roster}
    imported, conflicts = [], []
    for record in document["attempts"]:
        entry = entries.get(record["ticket_number"])
        if entry is None:
            conflicts.append({"ticket_number": record["ticket_number"], "conflict": "not_on_roster"})
        elif entry.attempt is not None:
            kind = "voided_on_hub" if entry.attempt.voided_at is not None else "attempt_exists"
            conflicts.append({"ticket_number": record["ticket_number"], "conflict": kind})
        else:
            imported.append(_import_attempt(db, entry, record, conflicts))
    for name in ("check_in_opened_at", "started_at", "ended_at"):
        if getattr(session, name) is None and document[name]:
            setattr(session, name, _parse(document[name]))
    return imported, conflicts


def _import_attempt(db: Session, entry: RosterEntry, record: dict, conflicts: list[dict]) -> Attempt:
    attempt = Attempt(roster_entry=entry, started_at=_parse(record["started_at"]),
                      submitted_at=_parse(record["submitted_at"]),
                      submit_kind=SubmitKind(record["submit_kind"]) if record["submit_kind"] else None,
                      voided_at=_parse(record["voided_at"]), receipt_hash=record["receipt_hash"],
                      last_seq=record["last_seq"])
    db.add(attempt)
    db.flush()
    for row in record["responses"]:
        db.add(Response(attempt_id=attempt.id, item_id=row["item_id"], value=row["value"], flagged=row["flagged"],
                        seq=row["seq"], saved_at=_parse(row["saved_at"])))
    for row in record["trace"]:
        db.add(TraceEvent(attempt_id=attempt.id, seq=row["seq"], op_id=row["op_id"], type=row["type"],
                          payload=row["payload"], t_client=row["t_client"], t_server=row["t_server"],
                          received_at=_parse(row["received_at"])))
    _import_examiner_inputs(db, attempt, record["examiner_inputs"], conflicts)
    for row in record["adjustments"]:
        db.add(TimeAdjustment(attempt_id=attempt.id, kind=AdjustmentKind(row["kind"]), seconds=row["seconds"],
                              reason=row["reason"], created_at=_parse(row["created_at"]),
                              reverted_at=_parse(row["reverted_at"])))
    for row in record["pauses"]:
        db.add(Pause(exam_session_id=entry.exam_session_id, attempt_id=attempt.id, paused_at=_parse(row["paused_at"]),
                     resumed_at=_parse(row["resumed_at"]), reason=row["reason"]))
    assignment = record["assignment"]
    if assignment is not None:
        code, version = assignment["task"].rsplit("@", 1)
        task = db.execute(select(PracticalTask).where(PracticalTask.code == code,
                                                      PracticalTask.version == int(version))).scalar_one_or_none()
        if task is None:
            conflicts.append({"ticket_number": entry.ticket_number, "conflict": "unknown_task",
                              "task": assignment["task"]})
        else:
            db.add(PracticalAssignment(attempt_id=attempt.id, task_id=task.id, pool=assignment["pool"],
                                       draw_seed=assignment["draw_seed"],
                                       assigned_at=_parse(assignment["assigned_at"]),
                                       last_seq=assignment["last_seq"]))
    return attempt


def _import_examiner_inputs(db: Session, attempt: Attempt, given: dict, conflicts: list[dict]) -> None:
    """The node examiners' marks, overrides and findings under the hub accounts of the same user names (the
    package named them); an examiner the hub does not know is a conflict, and that input is left out."""
    def examiner(username: str) -> Optional[User]:
        user = db.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            conflicts.append({"ticket_number": attempt.roster_entry.ticket_number, "conflict": "unknown_examiner",
                              "examiner": username})
        return user
    for row in given["marks"]:
        if (user := examiner(row["by"])) is not None:
            db.add(ManualMark(attempt_id=attempt.id, item_id=row["item_id"], examiner_id=user.id, score=row["score"],
                              note=row["note"], marked_at=_parse(row["at"])))
    for row in given["overrides"]:
        if (user := examiner(row["by"])) is not None:
            db.add(ScoreOverride(attempt_id=attempt.id, item_id=row["item_id"], score=row["score"],
                                 reason=row["reason"], examiner_id=user.id, created_at=_parse(row["at"])))
    for row in given["findings"]:
        if (user := examiner(row["by"])) is not None:
            db.add(ExaminerFinding(attempt_id=attempt.id, kind=row["kind"], description=row["description"],
                                   examiner_id=user.id, recorded_at=_parse(row["at"])))
