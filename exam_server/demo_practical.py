"""The demo's practical exam: the two example tasks (examples/tasks/lathe_zj01, mill_zj01) as active tasks of
the bank, checked by their reference programs, and two practical sessions (操作技能考核) — 数控车工 at the demo
station 南京技师学院 with its ten candidates, and 数控铣工 at 南京高职 with its ten — each with its task pool.

Called by demo.load after the province exists; everything is fixed (the draw seed too), so two loads agree.
"""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, practical
from .models import (Exam, ExamPart, ExamSession, JobType, Level, Organisation, PracticalTask, RosterEntry, User)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "tasks"
DRAW_SEED = "demo-practical-20261126"
# (task folder, job type, exam code, exam name, station code, room, hours after the theory session's start)
SESSIONS = [
    ("lathe_zj01", "数控车工", "2026-CNC-T-4-12", "2026 年 12 月 数控车工 四级/中级工", "JS-NJ-01", "数控车间 1", 4),
    ("mill_zj01", "数控铣工", "2026-CNC-M-4-12", "2026 年 12 月 数控铣工 四级/中级工", "JS-NJ-02", "加工中心车间", 4),
]


def example_task(folder: str) -> tuple[dict, str, str]:
    """An example task's document, drawing and reference program, read from the repository."""
    base = EXAMPLES / folder
    data = json.loads((base / "task.json").read_text(encoding="utf-8"))
    drawing = (base / data["drawing"]).read_text(encoding="utf-8")
    program_file = data["reference_program"].get("file") if isinstance(data["reference_program"], dict) else None
    program = (base / program_file).read_text(encoding="utf-8") if program_file else None
    return data, drawing, program


def add_active_task(db: Session, folder: str, job_type: JobType, level: int, now) -> PracticalTask:
    """Upload, check, review and activate one example task, as examctl (audited like the pages' actions)."""
    data, drawing, program = example_task(folder)
    task = practical.upload_task(db, data, drawing, program, job_type.id, level, None, now)
    practical.record_check(db, task, practical.run_check(task.task_json), None, now)
    practical.transition(db, task, "review", None, now)
    practical.transition(db, task, "activate", None, now)
    return task


def _exam(db: Session, code: str, name: str, job_type: JobType, now) -> Exam:
    exam = db.execute(select(Exam).where(Exam.code == code)).scalar_one_or_none()
    if exam is None:
        exam = Exam(code=code, name=name, job_type=job_type, level=int(Level.intermediate), created_at=now)
        db.add(exam)
    return exam


def _session(db: Session, exam: Exam, station: Organisation, room: str, start, duration_min: float,
             now) -> ExamSession:
    session = ExamSession(exam=exam, part=ExamPart.practical, organisation=station, room=room,
                          scheduled_start_at=start, duration_s=int(duration_min * 60), created_at=now)
    db.add(session)
    candidates = db.execute(select(User).where(User.organisation_id == station.id, User.username.like("ks%"))
                            .order_by(User.username)).scalars().all()
    for seat, candidate in enumerate(candidates, start=1):
        db.add(RosterEntry(exam_session=session, candidate=candidate, seat=f"{seat:02d}",
                           ticket_number=f"{start:%Y%m%d}{station.code[-2:]}P{seat:03d}"))
    db.flush()
    return session


def load_practical(db: Session, now, paper_key: bytes | None = None) -> list[ExamSession]:
    """Add the practical part of the demo in the caller's transaction (after demo.load); returns the sessions.
    `paper_key` is unused: a practical session has no sealed paper (its task is in the bank)."""
    sessions = []
    start = (now + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)   # 09:00 UTC+8
    for folder, job_name, code, name, station_code, room, hours in SESSIONS:
        job_type = db.execute(select(JobType).where(JobType.name == job_name)).scalar_one()
        station = db.execute(select(Organisation).where(Organisation.code == station_code)).scalar_one()
        task = add_active_task(db, folder, job_type, int(Level.intermediate), now)
        exam = _exam(db, code, name, job_type, now)
        time_limit = json.loads(task.task_json)["time_limit_min"]
        session = _session(db, exam, station, room, start + timedelta(hours=hours), time_limit, now)
        practical.set_pool(db, session, [task], None, now, seed=DRAW_SEED)
        sessions.append(session)
    audit.record(db, "demo_practical_loaded", actor_name="examctl", object_type="province", object_id="JS", now=now,
                 data={"sessions": [s.id for s in sessions]})
    return sessions
