"""Grading pages and JSON routes: the session's grading overview, the printable score report (HTML and PDF),
examiner review (manual marks, overrides, findings, confirmation and release), the regrade dry run and commit,
and appeals (filed by the candidate from their report, re-graded and decided by other examiners).

Access: examiners of the session's organisation act; supervisors (and the examiners) read; a candidate reads
only their own released report and files appeals against it. Anybody else's object answers 404.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from .. import openapi, scoring
from ..errors import UserError
from ..models import Appeal, Attempt, ExamSession, ManualMark, RegradeRun, Role, ScoreOverride
from ..security.access import public, requires
from ..web import get_db, json_body, t
from ..fonts import cjk_font
from .scopes import attempt_organisation, session_organisation

bp = Blueprint("grading", __name__)

EXAMINER = (Role.examiner,)
READERS = (Role.examiner, Role.supervisor)
MARK_SCHEMA = {"type": "object", "required": ["item_id", "score"], "properties": {
    "item_id": {"type": "string", "maxLength": 64}, "score": {"type": "number"},
    "note": {"type": "string", "maxLength": 300}}}
OVERRIDE_SCHEMA = {"type": "object", "required": ["item_id", "score", "reason"], "properties": {
    "item_id": {"type": "string", "maxLength": 64}, "score": {"type": "number"},
    "reason": {"type": "string", "maxLength": 300}}}
FINDING_SCHEMA = {"type": "object", "required": ["kind", "description"], "properties": {
    "kind": {"type": "string", "enum": ["civility", "veto"]}, "description": {"type": "string", "maxLength": 300}}}
REGRADE_SCHEMA = {"type": "object", "required": ["sheet", "reason"], "properties": {
    "sheet": {"type": "object"}, "reason": {"type": "string", "maxLength": 300}}}
APPEAL_SCHEMA = {"type": "object", "required": ["items", "reason"], "properties": {
    "items": {"type": "array", "items": {"type": "string"}}, "reason": {"type": "string", "maxLength": 1000}}}
REVIEW_SCHEMA = MARK_SCHEMA
DECISION_SCHEMA = {"type": "object", "required": ["upheld", "reason"], "properties": {
    "upheld": {"type": "boolean"}, "reason": {"type": "string", "maxLength": 1000}}}
JOB_SCHEMA = {"type": "object", "properties": {"job_id": {"type": "integer"}, "status": {"type": "string"}}}
REPORT_SCHEMA = {"type": "object", "properties": {"attempt_id": {"type": "integer"}, "report": {"type": "object"}}}
OBJECT = {"type": "object"}


def regrade_organisation(run_id: int):
    run = get_db().get(RegradeRun, run_id)
    return run.exam_session.organisation if run else None


def appeal_organisation(appeal_id: int):
    appeal = get_db().get(Appeal, appeal_id)
    return attempt_organisation(appeal.attempt_id) if appeal else None


def _attempt(attempt_id: int) -> Attempt:
    return get_db().get(Attempt, attempt_id)


def _own_attempt(attempt_id: int) -> Attempt:
    """The signed-in candidate's own attempt; anybody else's does not exist."""
    attempt = get_db().get(Attempt, attempt_id)
    if attempt is None or attempt.roster_entry.candidate_id != g.user.id:
        abort(404)
    return attempt


def _released_report(attempt: Attempt):
    row = scoring.current_report(get_db(), attempt)
    if row is None or row.released_at is None:
        abort(404)
    return row


def _job_response(job):
    return jsonify(job_id=job.id, status=job.status(g.now)), 202


# ---- pages ---------------------------------------------------------------------------------------------------

def _staff() -> dict:
    """What every staff page needs: whether the user may act (an examiner here) and the role links."""
    return {"can_act": any(a.role is Role.examiner for a in g.assignments),
            "roles": sorted({a.role for a in g.user.active_roles()}, key=list(Role).index)}


@bp.get("/grading/sessions/<int:session_id>")
@requires(*READERS, scope=session_organisation)
def session_page(session_id: int):
    db = get_db()
    session = db.get(ExamSession, session_id)
    appeals = scoring.session_appeals(db, session)
    return render_template("grading/session.html", session=session, lines=scoring.session_overview(db, session, g.now),
                           open_appeals=sum(a.decided_at is None for a in appeals), **_staff())


@bp.post("/grading/sessions/<int:session_id>/release")
@requires(*EXAMINER, scope=session_organisation)
def release_page(session_id: int):
    db = get_db()
    scoring.release(db, db.get(ExamSession, session_id), g.user, g.now)
    db.commit()
    return redirect(url_for("grading.session_page", session_id=session_id))


@bp.get("/grading/attempts/<int:attempt_id>/report")
@requires(*READERS, scope=attempt_organisation)
def report_page(attempt_id: int):
    db = get_db()
    attempt = _attempt(attempt_id)
    row = scoring.current_report(db, attempt)
    if row is None:                 # not graded yet: the job's state, and nothing to review
        lines = scoring.session_overview(db, attempt.roster_entry.exam_session, g.now)
        return render_template("grading/ungraded.html", attempt=attempt, entry=attempt.roster_entry,
                               line=next(x for x in lines if x["attempt_id"] == attempt_id), **_staff())
    return render_template("grading/report.html", **report_context(attempt, row), staff=True, **_staff(),
                           manual=scoring.manual_items(db, attempt), overrides=scoring.overrides_of(db, attempt),
                           findings=scoring.findings_of(db, attempt), appeals=scoring.appeals_of(db, attempt))


@bp.post("/grading/attempts/<int:attempt_id>/findings")
@requires(*EXAMINER, scope=attempt_organisation)
def finding_page(attempt_id: int):
    db = get_db()
    scoring.record_finding(db, _attempt(attempt_id), g.user, request.form.get("kind", ""),
                           request.form.get("description", ""), g.now)
    db.commit()
    flash(t("grading.finding." + request.form.get("kind", "")), "grading_queued")
    return redirect(url_for("grading.report_page", attempt_id=attempt_id))


@bp.post("/grading/attempts/<int:attempt_id>/release")
@requires(*EXAMINER, scope=attempt_organisation)
def release_attempt_page(attempt_id: int):
    db = get_db()
    attempt = _attempt(attempt_id)
    scoring.release_attempt(db, attempt, g.user, g.now)
    db.commit()
    flash(attempt.roster_entry.candidate.display_name, "grading_released")
    return redirect(url_for("grading.report_page", attempt_id=attempt_id))


@bp.get("/grading/attempts/<int:attempt_id>/sheet.json")
@requires(*READERS, scope=attempt_organisation)
def sheet_json(attempt_id: int):
    """The score sheet or answer key in force for the attempt, to correct and upload on the regrade page."""
    sheet = scoring.sheet_in_force(get_db(), _attempt(attempt_id))
    body = json.dumps(sheet.to_dict(), ensure_ascii=False, indent=1)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{sheet.id}-v{sheet.version}.json"'})


# ---- regrade pages: a corrected sheet, its dry run, the commit ---------------------------------------------

@bp.get("/grading/sessions/<int:session_id>/regrade")
@requires(*EXAMINER, scope=session_organisation)
def regrade_page(session_id: int):
    db = get_db()
    session = db.get(ExamSession, session_id)
    runs = db.execute(select(RegradeRun).where(RegradeRun.exam_session_id == session_id)
                      .order_by(RegradeRun.id.desc())).scalars().all()
    graded = [line for line in scoring.session_overview(db, session, g.now) if line["total"] is not None]
    return render_template("grading/regrade.html", session=session, runs=runs, graded=graded, **_staff())


@bp.post("/grading/sessions/<int:session_id>/regrade")
@requires(*EXAMINER, scope=session_organisation)
def regrade_preview_page(session_id: int):
    db = get_db()
    run, _ = scoring.preview_regrade(db, db.get(ExamSession, session_id), _uploaded_sheet(),
                                     request.form.get("reason", ""), g.user, g.now)
    db.commit()
    return redirect(url_for("grading.regrade_run_page", run_id=run.id))


def _uploaded_sheet():
    """The corrected sheet or key: an uploaded JSON file, else the pasted text."""
    upload = request.files.get("sheet_file")
    text = upload.read().decode("utf-8-sig", "replace") if upload and upload.filename else ""
    text = text or request.form.get("sheet_json", "")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UserError("grading.bad_sheet", detail=f"JSON: {exc}"[:500]) from None


@bp.get("/grading/regrades/<int:run_id>")
@requires(*READERS, scope=regrade_organisation)
def regrade_run_page(run_id: int):
    run = get_db().get(RegradeRun, run_id)
    return render_template("grading/regrade_run.html", run=run, session=run.exam_session,
                           changes=json.loads(run.diff_json), fmt=_fmt, **_staff())


@bp.post("/grading/regrades/<int:run_id>/commit")
@requires(*EXAMINER, scope=regrade_organisation)
def regrade_commit_page(run_id: int):
    db = get_db()
    run = db.get(RegradeRun, run_id)
    jobs = scoring.commit_regrade(db, run, g.user, g.now)
    db.commit()
    flash(str(jobs), "regrade_committed")
    return redirect(url_for("grading.session_page", session_id=run.exam_session_id))


# ---- appeal pages ------------------------------------------------------------------------------------------

@bp.get("/grading/sessions/<int:session_id>/appeals")
@requires(*READERS, scope=session_organisation)
def appeals_page(session_id: int):
    db = get_db()
    session = db.get(ExamSession, session_id)
    appeals = scoring.session_appeals(db, session)
    return render_template("grading/appeals.html", session=session, appeals=appeals,
                           items={a.id: json.loads(a.items) for a in appeals}, **_staff())


@bp.get("/grading/appeals/<int:appeal_id>")
@requires(*READERS, scope=appeal_organisation)
def appeal_page(appeal_id: int):
    db = get_db()
    appeal = db.get(Appeal, appeal_id)
    row = scoring.current_report(db, appeal.attempt)
    report = json.loads(row.report_json)
    items = json.loads(appeal.items)
    staff = _staff()
    return render_template("grading/appeal.html", appeal=appeal, entry=appeal.attempt.roster_entry,
                           session=appeal.attempt.roster_entry.exam_session,
                           rows=[r for r in report["rows"] if r["id"] in items], fmt=_fmt,
                           may_review=staff["can_act"] and scoring.may_review(db, appeal, g.user), **staff)


@bp.post("/grading/appeals/<int:appeal_id>/reviews")
@requires(*EXAMINER, scope=appeal_organisation)
def appeal_review_page(appeal_id: int):
    db = get_db()
    scoring.review_appeal(db, db.get(Appeal, appeal_id), g.user, request.form.get("item_id", ""),
                          _form_number("score"), request.form.get("note", ""), g.now)
    db.commit()
    flash(request.form.get("item_id", ""), "appeal_reviewed")
    return redirect(url_for("grading.appeal_page", appeal_id=appeal_id))


@bp.post("/grading/appeals/<int:appeal_id>/decision")
@requires(*EXAMINER, scope=appeal_organisation)
def appeal_decision_page(appeal_id: int):
    db = get_db()
    decision = request.form.get("upheld", "")
    upheld = {"yes": True, "no": False}.get(decision)
    scoring.decide_appeal(db, db.get(Appeal, appeal_id), g.user, upheld, request.form.get("reason", ""), g.now)
    db.commit()
    flash(f"#{appeal_id}", "appeal_decided")
    return redirect(url_for("grading.appeal_page", appeal_id=appeal_id))


@bp.post("/grading/attempts/<int:attempt_id>/marks")
@requires(*EXAMINER, scope=attempt_organisation)
def mark_page(attempt_id: int):
    db = get_db()
    scoring.add_mark(db, _attempt(attempt_id), g.user, request.form.get("item_id", ""),
                     _form_number("score"), request.form.get("note", ""), g.now)
    db.commit()
    flash(request.form.get("item_id", ""), "grading_queued")
    return redirect(url_for("grading.report_page", attempt_id=attempt_id))


@bp.post("/grading/attempts/<int:attempt_id>/overrides")
@requires(*EXAMINER, scope=attempt_organisation)
def override_page(attempt_id: int):
    db = get_db()
    scoring.override(db, _attempt(attempt_id), g.user, request.form.get("item_id", ""), _form_number("score"),
                     request.form.get("reason", ""), g.now)
    db.commit()
    flash(request.form.get("item_id", ""), "grading_queued")
    return redirect(url_for("grading.report_page", attempt_id=attempt_id))


def _form_number(name: str):
    """A form's number, or None (which the use case refuses with its own message)."""
    try:
        return float(request.form.get(name, ""))
    except ValueError:
        return None


@bp.get("/grading/attempts/<int:attempt_id>/report.pdf")
@requires(*READERS, scope=attempt_organisation)
def report_pdf(attempt_id: int):
    attempt = _attempt(attempt_id)
    row = scoring.current_report(get_db(), attempt)
    if row is None:
        abort(404)
    return pdf_response(report_context(attempt, row), f"score-report-{attempt_id}.pdf")


@bp.get("/my/reports/<int:attempt_id>")
@requires(Role.candidate)
def my_report_page(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    appeals = [scoring.appeal_view(a) for a in scoring.appeals_of(get_db(), attempt)]
    return render_template("grading/report.html", **report_context(attempt, _released_report(attempt)), staff=False,
                           can_act=False, appeals=appeals)


@bp.post("/my/reports/<int:attempt_id>/appeals")
@requires(Role.candidate)
def my_appeal_page(attempt_id: int):
    db = get_db()
    attempt = _own_attempt(attempt_id)
    _released_report(attempt)
    scoring.file_appeal(db, attempt, g.user, request.form.getlist("items"), request.form.get("reason", ""), g.now)
    db.commit()
    flash("", "appeal_filed")
    return redirect(url_for("grading.my_report_page", attempt_id=attempt_id))


@bp.get("/my/reports/<int:attempt_id>.pdf")
@requires(Role.candidate)
def my_report_pdf(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    return pdf_response(report_context(attempt, _released_report(attempt)), f"score-report-{attempt_id}.pdf")


@bp.get("/grading/report.css")
@public
def report_css():
    """The report's stylesheet, screen and print (the CSP allows no inline styles)."""
    return Response(render_template("grading/report_css.html"), mimetype="text/css")


def report_context(attempt: Attempt, row) -> dict:
    entry = attempt.roster_entry
    session = entry.exam_session
    return {"attempt": attempt, "entry": entry, "session": session, "row": row,
            "report": json.loads(row.report_json), "fmt": _fmt}


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return t("grading.yes") if value else t("grading.no")
    if isinstance(value, (int, float)):
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return str(value)


# ---- staff JSON ------------------------------------------------------------------------------------------------

@bp.get("/api/grading/sessions/<int:session_id>/attempts")
@requires(*READERS, scope=session_organisation)
@openapi.documented("Grading overview of a session: each attempt's job status and report total",
                    tags=("grading",), responses={200: OBJECT})
def session_attempts(session_id: int):
    session = get_db().get(ExamSession, session_id)
    return jsonify(attempts=scoring.session_overview(get_db(), session, g.now))


@bp.get("/api/grading/attempts/<int:attempt_id>/report")
@requires(*READERS, scope=attempt_organisation)
@openapi.documented("An attempt's current score report with the examiners' marks, overrides and appeals",
                    tags=("grading",), responses={200: REPORT_SCHEMA})
def attempt_report(attempt_id: int):
    db = get_db()
    attempt = _attempt(attempt_id)
    row = scoring.current_report(db, attempt)
    marks = db.execute(select(ManualMark).where(ManualMark.attempt_id == attempt_id).order_by(ManualMark.id)).scalars()
    overrides = db.execute(select(ScoreOverride).where(ScoreOverride.attempt_id == attempt_id)
                           .order_by(ScoreOverride.id)).scalars()
    appeals = db.execute(select(Appeal).where(Appeal.attempt_id == attempt_id).order_by(Appeal.id)).scalars()
    return jsonify(attempt_id=attempt_id, report=None if row is None else scoring.report_view(row),
                   marks=[{"item_id": m.item_id, "examiner": m.examiner.display_name, "score": m.score,
                           "note": m.note} for m in marks],
                   overrides=[{"item_id": o.item_id, "examiner": o.examiner.display_name, "score": o.score,
                               "reason": o.reason, "appeal_id": o.appeal_id} for o in overrides],
                   appeals=[scoring.appeal_view(a) for a in appeals])


@bp.post("/api/grading/attempts/<int:attempt_id>/marks")
@requires(*EXAMINER, scope=attempt_organisation)
@openapi.documented("An examiner's mark for a manual item (the sheet says how many examiners must agree)",
                    tags=("grading",), request=MARK_SCHEMA, responses={202: JOB_SCHEMA})
def add_mark(attempt_id: int):
    body = json_body(MARK_SCHEMA)
    db = get_db()
    job = scoring.add_mark(db, _attempt(attempt_id), g.user, body["item_id"], body["score"], body.get("note", ""),
                           g.now)
    db.commit()
    return _job_response(job)


@bp.post("/api/grading/attempts/<int:attempt_id>/overrides")
@requires(*EXAMINER, scope=attempt_organisation)
@openapi.documented("Override an item's score with a reason", tags=("grading",), request=OVERRIDE_SCHEMA,
                    responses={202: JOB_SCHEMA})
def add_override(attempt_id: int):
    body = json_body(OVERRIDE_SCHEMA)
    db = get_db()
    job = scoring.override(db, _attempt(attempt_id), g.user, body["item_id"], body["score"], body["reason"], g.now)
    db.commit()
    return _job_response(job)


@bp.post("/api/grading/attempts/<int:attempt_id>/findings")
@requires(*EXAMINER, scope=attempt_organisation)
@openapi.documented("Record a practical attempt's 文明生产 violation (civility) or serious accident (veto)",
                    tags=("grading",), request=FINDING_SCHEMA, responses={202: JOB_SCHEMA})
def add_finding(attempt_id: int):
    body = json_body(FINDING_SCHEMA)
    db = get_db()
    job = scoring.record_finding(db, _attempt(attempt_id), g.user, body["kind"], body["description"], g.now)
    db.commit()
    return _job_response(job)


@bp.post("/api/grading/sessions/<int:session_id>/regrades")
@requires(*EXAMINER, scope=session_organisation)
@openapi.documented("Dry run of a regrade with a corrected sheet or key: who changes and by how much "
                    "(nothing changes until the run is committed)", tags=("grading",), request=REGRADE_SCHEMA,
                    responses={200: OBJECT})
def preview_regrade(session_id: int):
    body = json_body(REGRADE_SCHEMA)
    db = get_db()
    run, diff = scoring.preview_regrade(db, db.get(ExamSession, session_id), body["sheet"], body["reason"], g.user,
                                        g.now)
    db.commit()
    return jsonify(run_id=run.id, sheet_id=run.sheet_id, sheet_version=run.sheet_version, changes=diff)


@bp.post("/api/grading/regrades/<int:run_id>/commit")
@requires(*EXAMINER, scope=regrade_organisation)
@openapi.documented("Commit a previewed regrade: the corrected sheet is in force and everyone is graded again",
                    tags=("grading",), responses={202: OBJECT})
def commit_regrade(run_id: int):
    db = get_db()
    queued = scoring.commit_regrade(db, db.get(RegradeRun, run_id), g.user, g.now)
    db.commit()
    return jsonify(run_id=run_id, jobs=queued), 202


@bp.post("/api/grading/sessions/<int:session_id>/release")
@requires(*EXAMINER, scope=session_organisation)
@openapi.documented("Release the session's complete score reports to their candidates", tags=("grading",),
                    responses={200: OBJECT})
def release(session_id: int):
    db = get_db()
    counts = scoring.release(db, db.get(ExamSession, session_id), g.user, g.now)
    db.commit()
    return jsonify(counts)


@bp.get("/api/grading/appeals/<int:appeal_id>")
@requires(*READERS, scope=appeal_organisation)
@openapi.documented("An appeal with its re-grades and decision", tags=("grading",), responses={200: OBJECT})
def appeal(appeal_id: int):
    return jsonify(scoring.appeal_view(get_db().get(Appeal, appeal_id)))


@bp.post("/api/grading/appeals/<int:appeal_id>/reviews")
@requires(*EXAMINER, scope=appeal_organisation)
@openapi.documented("Re-grade an appealed item (by an examiner who did not grade the attempt)", tags=("grading",),
                    request=REVIEW_SCHEMA, responses={200: OBJECT})
def review_appeal(appeal_id: int):
    body = json_body(REVIEW_SCHEMA)
    db = get_db()
    item = db.get(Appeal, appeal_id)
    scoring.review_appeal(db, item, g.user, body["item_id"], body["score"], body.get("note", ""), g.now)
    db.commit()
    return jsonify(scoring.appeal_view(item))


@bp.post("/api/grading/appeals/<int:appeal_id>/decision")
@requires(*EXAMINER, scope=appeal_organisation)
@openapi.documented("Decide an appeal with reasons (upheld: the re-grades become overrides)", tags=("grading",),
                    request=DECISION_SCHEMA, responses={200: OBJECT})
def decide_appeal(appeal_id: int):
    body = json_body(DECISION_SCHEMA)
    db = get_db()
    item = scoring.decide_appeal(db, db.get(Appeal, appeal_id), g.user, body["upheld"], body["reason"], g.now)
    db.commit()
    return jsonify(scoring.appeal_view(item))


# ---- candidate JSON --------------------------------------------------------------------------------------------

@bp.get("/api/my/reports/<int:attempt_id>")
@requires(Role.candidate)
@openapi.documented("The candidate's own released score report", tags=("candidate",),
                    responses={200: REPORT_SCHEMA})
def my_report(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    return jsonify(scoring.report_view(_released_report(attempt)))


@bp.post("/api/my/reports/<int:attempt_id>/appeals")
@requires(Role.candidate)
@openapi.documented("File an appeal (申诉) against items of the candidate's released report", tags=("candidate",),
                    request=APPEAL_SCHEMA, responses={201: OBJECT})
def file_appeal(attempt_id: int):
    body = json_body(APPEAL_SCHEMA)
    db = get_db()
    attempt = _own_attempt(attempt_id)
    item = scoring.file_appeal(db, attempt, g.user, body["items"], body["reason"], g.now)
    db.commit()
    return jsonify(scoring.appeal_view(item)), 201


# ---- PDF -------------------------------------------------------------------------------------------------------
# fpdf2 with a CJK font from the machine (fonts-noto-cjk); nothing is fetched. Without such a font the route
# answers 409 and the HTML page's print stylesheet is the way to paper.

def pdf_response(context: dict, filename: str):
    font = cjk_font()
    if font is None:
        return jsonify(error={"code": "grading.pdf_unavailable", "message": t("grading.pdf_unavailable")}), 409
    data = render_pdf(context, font)
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


COLUMN_KEYS = ("index", "group", "requirement", "points", "criterion", "result", "deduction", "score")
COLUMN_WIDTHS = (10, 24, 62, 12, 55, 50, 12, 12)      # mm, A4 landscape (277 mm between the margins)


def render_pdf(context: dict, font: tuple[str, int]) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    report, session = context["report"], context["session"]
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_margins(10, 10, 10)
    pdf.set_auto_page_break(True, 12)
    pdf.add_font("cjk", fname=font[0], collection_font_number=font[1])
    pdf.add_page()
    pdf.set_font("cjk", size=14)
    pdf.cell(0, 8, report["sheet"]["title"] or session.exam.name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    for line in _header_lines(context):
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    fmt = context["fmt"]
    with pdf.table(col_widths=COLUMN_WIDTHS, text_align="CENTER", line_height=4.5,
                   headings_style=FontFace(emphasis=None, fill_color=(235, 235, 235))) as table:
        table.row([report["columns"][k] for k in COLUMN_KEYS])
        for r in report["rows"]:
            table.row([fmt(r[k]) for k in COLUMN_KEYS])
    pdf.ln(2)
    for line in _summary_lines(report, fmt):
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.cell(0, 6, "考生签字：____________    考评员签字：____________  ____________  ____________    "
             "督导员签字：____________    日期：____________", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _header_lines(context: dict) -> list[str]:
    entry, session, row = context["entry"], context["session"], context["row"]
    return [f"考生：{entry.candidate.display_name}    准考证号：{entry.ticket_number}    座位号：{entry.seat}",
            f"考试：{session.exam.name}    场次：{session.organisation.name} · {session.room} · "
            f"{session.scheduled_start_at:%Y-%m-%d %H:%M} UTC",
            f"评分表：{row.sheet_id} 第 {row.sheet_version} 版 · 第 {row.revision} 次评分 · "
            f"{row.graded_at:%Y-%m-%d %H:%M} UTC"]


def _summary_lines(report: dict, fmt) -> list[str]:
    labels = report["labels"]
    lines = [f"{labels['items_total']}：{fmt(report['items_total'])}    "
             f"{labels['civility_deduction']}：{fmt(report['civility_deduction'])}    "
             f"{labels['time_deduction']}：{fmt(report['time_deduction'])}    "
             f"{labels['total']}：{fmt(report['total'])}    {labels['pass_mark']}：{fmt(report['pass_mark'])}    "
             f"{labels['passed']}：{'合格' if report['passed'] else '不合格'}"]
    if report.get("sanctions"):
        applied = [f"{s['record']} " + ("成绩作废" if s["void"] else f"−{fmt(s['deduction'])}")
                   for s in report["sanctions"]]
        lines.append(f"{labels['sanction_deduction']}：{'；'.join(applied)}")
    if report.get("voided"):
        lines.append(f"{labels['voided']}：{'；'.join(report['void_reasons'])}")
    if report.get("pending"):
        lines.append("有待考评员确认的项目")
    return lines

