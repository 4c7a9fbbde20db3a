"""The examiners' pages of the practical-task bank: the list with the upload form (task JSON, drawing SVG and
the reference program), a task's page with its drawing and last `task check`, the check behind a button, and
the review transitions (draft → reviewed → active → retired)."""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from .. import machines, practical
from ..errors import UserError
from ..models import JobType, PracticalTask, Role
from ..security.access import requires
from ..web import get_db
from .practical_api import SVG_HEADERS

bp = Blueprint("practical_bank", __name__, url_prefix="/practical-tasks")

AUTHORS = (Role.question_author, Role.provincial_admin)
MAX_UPLOAD_BYTES = 1024 * 1024


def _roles():
    return sorted({a.role for a in g.user.active_roles()}, key=list(Role).index)


def _task(task_id: int) -> PracticalTask:
    task = get_db().get(PracticalTask, task_id)
    if task is None:
        abort(404)
    return task


def _upload_text(name: str, required: bool = True) -> str:
    upload = request.files.get(name)
    data = upload.read(MAX_UPLOAD_BYTES + 1) if upload else b""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UserError("error.too_large", 413)
    if required and not data:
        raise UserError("practical.file_missing", name=name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError("practical.not_utf8", name=name) from None


@bp.get("")
@requires(*AUTHORS)
def bank():
    db = get_db()
    tasks = db.execute(select(PracticalTask).order_by(PracticalTask.code, PracticalTask.version.desc())).scalars()
    job_types = db.execute(select(JobType).order_by(JobType.code)).scalars().all()
    return render_template("practical/bank.html", tasks=list(tasks), job_types=job_types, roles=_roles(),
                           role=None)


@bp.post("")
@requires(*AUTHORS)
def upload():
    try:
        data = json.loads(_upload_text("task"))
    except ValueError:
        raise UserError("practical.not_json") from None
    drawing, program = _upload_text("drawing"), _upload_text("program", required=False)
    job_type_id, level = request.form.get("job_type_id", type=int), request.form.get("level", type=int)
    if job_type_id is None or level is None:
        raise UserError("practical.level_unknown")
    db = get_db()
    task = practical.upload_task(db, data, drawing, program or None, job_type_id, level, g.user, g.now)
    db.commit()
    flash(f"{task.code} v{task.version}", "practical_uploaded")
    return redirect(url_for("practical_bank.task_page", task_id=task.id))


@bp.get("/<int:task_id>")
@requires(*AUTHORS)
def task_page(task_id: int):
    task = _task(task_id)
    report = json.loads(task.check_report) if task.check_report else None
    return render_template("practical/task.html", task=task, report=report, document=json.loads(task.task_json),
                           actions=[a for a, (states, _) in practical.TRANSITIONS.items() if task.status in states],
                           roles=_roles(), role=None)


@bp.get("/<int:task_id>/drawing")
@requires(*AUTHORS)
def task_drawing(task_id: int):
    return Response(_task(task_id).drawing_svg, headers=SVG_HEADERS)


@bp.post("/<int:task_id>/check")
@requires(*AUTHORS)
def check(task_id: int):
    """`examctl task check` behind a button: the reference program with exact offsets, every item measured.
    The run takes seconds, so it runs outside the transaction (and off the event loop under gevent)."""
    db = get_db()
    task_json = _task(task_id).task_json
    db.commit()
    report = machines.run_aside(practical.run_check, task_json)
    task = _task(task_id)
    practical.record_check(db, task, report, g.user, g.now)
    db.commit()
    flash(f"{task.code} v{task.version}", "practical_checked_ok" if report["ok"] else "practical_checked_failed")
    return redirect(url_for("practical_bank.task_page", task_id=task.id))


@bp.post("/<int:task_id>/<action>")
@requires(*AUTHORS)
def transition(task_id: int, action: str):
    if action not in practical.TRANSITIONS:
        abort(404)
    db = get_db()
    task = _task(task_id)
    practical.transition(db, task, action, g.user, g.now)
    db.commit()
    flash(f"{task.code} v{task.version}", f"practical_{task.status.value}")
    return redirect(url_for("practical_bank.task_page", task_id=task.id))
