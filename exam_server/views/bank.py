"""The question bank's pages and JSON routes: import and export, items and their review, paper assembly for a
session with its compliance report, and the item analysis after the session.

Question authors and provincial admins work on the bank (it is provincial, not bound to an organisation);
examiners and centre staff assemble and analyse the sessions of their own organisation subtree.
"""
from __future__ import annotations

import json

from flask import (Blueprint, Response, abort, current_app, flash, g, jsonify, redirect, render_template, request,
                   url_for)
from sqlalchemy import select

from assessment import charts
from assessment.analysis import describe_flags
from assessment.bank import TYPE_NAMES_EN, TYPE_NAMES_ZH

from .. import bank, delivery, openapi
from ..errors import UserError
from ..models import BankItem, BankItemVersion, ExamSession, JobType, JobTypeLevel, Role
from ..security.access import requires
from ..web import get_db, json_body, t
from .scopes import session_organisation

bp = Blueprint("bank", __name__)

AUTHORS = (Role.question_author, Role.provincial_admin)
ASSEMBLERS = (Role.examiner, Role.station_manager, Role.centre_admin)
READERS = ASSEMBLERS + (Role.supervisor, Role.provincial_admin)
FORMATS = {"xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
           "qti": ("application/zip", "zip")}

ITEM_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "code": {"type": "string"}, "version": {"type": "integer"},
    "status": {"type": "string"}, "point_code": {"type": "string"}, "type": {"type": "string"},
    "stem": {"type": "string"}, "options": {"type": "array"}, "difficulty": {"type": "number"}}}
EDIT_SCHEMA = {"type": "object", "properties": {
    "point_code": {"type": "string", "maxLength": 64}, "type": {"type": "string", "maxLength": 16},
    "stem": {"type": "string", "maxLength": 4000}, "options": {"type": "array"}, "key": {},
    "tolerance": {}, "enemy_group": {}, "source": {"type": "string", "maxLength": 16}, "media": {"type": "array"},
    "difficulty": {}}}
TRANSITION_SCHEMA = {"type": "object", "required": ["action"], "properties": {
    "action": {"type": "string", "enum": list(bank.TRANSITIONS)}}}
ASSEMBLE_SCHEMA = {"type": "object", "properties": {"seed": {"type": "integer"}}}
IMPORT_RESULT = {"type": "object", "properties": {
    "created": {"type": "integer"}, "new_versions": {"type": "integer"}, "updated": {"type": "integer"},
    "unchanged": {"type": "integer"}, "blueprint_version": {"type": "integer"}}}


# ---- lookups -----------------------------------------------------------------------------------------------------

def _job_type(job_type_id: int, level: int) -> JobType:
    db = get_db()
    job_type = db.get(JobType, job_type_id)
    known = db.execute(select(JobTypeLevel.id).where(JobTypeLevel.job_type_id == job_type_id,
                                                     JobTypeLevel.level == level)).first()
    if job_type is None or known is None:
        abort(404)
    return job_type


def _get(model, object_id: int):
    found = get_db().get(model, object_id)
    if found is None:
        abort(404)
    return found


def _session(session_id: int) -> ExamSession:
    return get_db().get(ExamSession, session_id)


def _roles() -> list[Role]:
    return sorted({a.role for a in g.user.active_roles()}, key=list(Role).index)


def _zh() -> bool:
    return g.locale == "zh_CN"


def _problem_text(problem: dict) -> str:
    where = problem["file"] or problem["sheet"]
    if problem["column"]:
        where = f"{problem['sheet']} {problem['column']}{problem['row']}"
    elif problem["row"]:
        where = t("bank.problem_row", sheet=problem["sheet"], row=problem["row"])
    reason = problem["reason_zh"] if _zh() else problem["reason_en"]
    return f"{where}：{reason}" if where and _zh() else f"{where}: {reason}" if where else reason


def _problems_json(problems: list[dict]) -> list[dict]:
    return [{"sheet": p["sheet"], "row": p["row"], "column": p["column"], "file": p["file"],
             "reason": p["reason_zh"] if _zh() else p["reason_en"], "message": _problem_text(p)} for p in problems]


def _shortfall_texts(shortfalls: list[tuple[str, str]]) -> list[str]:
    return [zh if _zh() else en for zh, en in shortfalls]


def _error_json(exc: UserError, status: int, **extra):
    return jsonify(error={"code": exc.key, "message": t(exc.key, **exc.values)}, **extra), status


# ---- the bank: pages ---------------------------------------------------------------------------------------------

@bp.get("/bank")
@requires(*AUTHORS)
def index():
    db = get_db()
    job_types = db.execute(select(JobType).order_by(JobType.code)).scalars().all()
    rows = [(jt, level.level, bank.current_blueprint(db, jt.id, level.level))
            for jt in job_types for level in jt.levels]
    return render_template("bank/index.html", rows=rows, counts=bank.status_counts(db), roles=_roles())


def _items_page(job_type: JobType, level: int, problems=None, status_code: int = 200):
    db = get_db()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    status, prefix = request.args.get("status", ""), request.args.get("point", "")[:64]
    versions, total = bank.newest_versions(db, job_type.id, level, page, status, prefix)
    current = bank.current_blueprint(db, job_type.id, level)
    spec = bank.spec_of(bank.current_spec(db, job_type.id, level))
    blueprint = bank.blueprint_of(current) if current else None
    return render_template("bank/items.html", job_type=job_type, level=level, versions=versions, total=total,
                           page=page, page_size=bank.PAGE_SIZE, status=status, point=prefix, blueprint=blueprint,
                           spec=spec, problems=[_problem_text(p) for p in problems or []], roles=_roles(),
                           type_name=TYPE_NAMES_ZH if _zh() else TYPE_NAMES_EN), status_code


@bp.get("/bank/<int:job_type_id>/<int:level>")
@requires(*AUTHORS)
def items(job_type_id: int, level: int):
    return _items_page(_job_type(job_type_id, level), level)


def _upload() -> tuple[bytes, str]:
    upload = request.files.get("file")
    fmt = request.form.get("format", "xlsx")
    if upload is None or fmt not in FORMATS:
        raise UserError("bank.no_file")
    return upload.read(), fmt


def _import(db, data: bytes, fmt: str, job_type: JobType, level: int) -> bank.ImportSummary:
    use_case = bank.import_excel if fmt == "xlsx" else bank.import_qti
    return use_case(db, data, job_type, level, g.user, g.now)


@bp.post("/bank/<int:job_type_id>/<int:level>/import")
@requires(*AUTHORS)
def import_items(job_type_id: int, level: int):
    job_type = _job_type(job_type_id, level)
    data, fmt = _upload()
    db = get_db()
    try:
        summary = _import(db, data, fmt, job_type, level)
    except bank.ImportRejected as rejected:
        db.rollback()
        return _items_page(job_type, level, rejected.problems, 422)
    db.commit()
    flash(t("bank.imported", **summary.as_dict()), "bank")
    return redirect(url_for("bank.items", job_type_id=job_type_id, level=level))


def _export(job_type_id: int, level: int, fmt: str) -> Response:
    job_type = _job_type(job_type_id, level)
    if fmt not in FORMATS:
        raise UserError("bank.bad_format")
    db = get_db()
    use_case = bank.export_excel if fmt == "xlsx" else bank.export_qti
    data = use_case(db, job_type, level, g.user, g.now)
    db.commit()
    mimetype, extension = FORMATS[fmt]
    name = f"bank-{job_type.code}-{level}.{extension}"
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/bank/<int:job_type_id>/<int:level>/export")
@requires(*AUTHORS)
def export_items(job_type_id: int, level: int):
    return _export(job_type_id, level, request.form.get("format", "xlsx"))


@bp.get("/bank/items/<int:item_id>")
@requires(*AUTHORS)
def item(item_id: int):
    bank_item = _get(BankItem, item_id)
    return render_template("bank/item.html", item=bank_item, newest=bank_item.newest, roles=_roles(),
                           actions=bank.TRANSITIONS, type_name=TYPE_NAMES_ZH if _zh() else TYPE_NAMES_EN)


def _form_changes(version: BankItemVersion) -> dict:
    """The fields the edit form changed (unchanged fields are left out, so no needless version is made)."""
    form = request.form
    changes = {}
    for name in ("point_code", "stem", "enemy_group", "tolerance", "difficulty"):
        if name in form:
            changes[name] = form[name].strip()
    if "options" in form:
        changes["options"] = form["options"]
    if "key" in form:
        raw = form["key"].strip()
        changes["key"] = float(raw) if version.type == "numeric" and _is_number(raw) else raw.upper()
    return changes


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@bp.post("/bank/items/<int:item_id>/edit")
@requires(*AUTHORS)
def edit_item(item_id: int):
    bank_item = _get(BankItem, item_id)
    db = get_db()
    version = bank.edit_item(db, bank_item, _form_changes(bank_item.newest), g.user, g.now)
    db.commit()
    flash(str(version.version), "bank_item_saved")
    return redirect(url_for("bank.item", item_id=item_id))


@bp.post("/bank/versions/<int:version_id>/<action>")
@requires(*AUTHORS)
def transition(version_id: int, action: str):
    version = _get(BankItemVersion, version_id)
    db = get_db()
    bank.transition(db, version, action, g.user, g.now)
    db.commit()
    return redirect(url_for("bank.item", item_id=version.bank_item_id))


# ---- the bank: JSON ----------------------------------------------------------------------------------------------

def _version_json(version: BankItemVersion) -> dict:
    return {"id": version.bank_item_id, "version_id": version.id, "code": version.bank_item.code,
            "version": version.version, "status": version.status.value, "point_code": version.point_code,
            "type": version.type, "stem": version.stem, "options": version.option_list, "key": version.key_value,
            "difficulty": version.difficulty, "discrimination": version.discrimination,
            "exposure": version.exposure, "last_used": version.last_used}


@bp.get("/api/bank/<int:job_type_id>/<int:level>/items")
@requires(*AUTHORS)
@openapi.documented("One page of the bank's items (newest versions); filters: status, point (鉴定点 prefix), page",
                    tags=("bank",), responses={200: {"type": "object", "properties": {
                        "total": {"type": "integer"}, "items": {"type": "array", "items": ITEM_SCHEMA}}}})
def api_items(job_type_id: int, level: int):
    _job_type(job_type_id, level)
    versions, total = bank.newest_versions(get_db(), job_type_id, level, request.args.get("page", 1, type=int) or 1,
                                           request.args.get("status", ""), request.args.get("point", "")[:64])
    return jsonify(total=total, page_size=bank.PAGE_SIZE, items=[_version_json(v) for v in versions])


@bp.post("/api/bank/<int:job_type_id>/<int:level>/import")
@requires(*AUTHORS)
@openapi.documented("Import an .xlsx bank (?format=xlsx, items and 细目表) or a QTI package (?format=qti) sent as "
                    "the request body; all or nothing: 422 lists every problem with row, column and reason",
                    tags=("bank",), responses={200: IMPORT_RESULT, 422: {"type": "object"}})
def api_import(job_type_id: int, level: int):
    job_type = _job_type(job_type_id, level)
    fmt = request.args.get("format", "xlsx")
    if fmt not in FORMATS:
        raise UserError("bank.bad_format")
    db = get_db()
    try:
        summary = _import(db, request.get_data(), fmt, job_type, level)
    except bank.ImportRejected as rejected:
        db.rollback()
        return _error_json(rejected, 422, problems=_problems_json(rejected.problems))
    db.commit()
    return jsonify(summary.as_dict())


@bp.post("/api/bank/<int:job_type_id>/<int:level>/export")
@requires(*AUTHORS)
@openapi.documented("Export the bank's newest versions as .xlsx (?format=xlsx) or a QTI 3.0 package "
                    "(?format=qti); audited", tags=("bank",), responses={200: {"type": "string"}})
def api_export(job_type_id: int, level: int):
    return _export(job_type_id, level, request.args.get("format", "xlsx"))


@bp.get("/api/bank/items/<int:item_id>")
@requires(*AUTHORS)
@openapi.documented("An item with every version", tags=("bank",), responses={200: {"type": "object"}})
def api_item(item_id: int):
    bank_item = _get(BankItem, item_id)
    return jsonify(id=bank_item.id, code=bank_item.code, versions=[_version_json(v) for v in bank_item.versions])


@bp.post("/api/bank/items/<int:item_id>/versions")
@requires(*AUTHORS)
@openapi.documented("Edit an item: a version that was ever active gets a new draft version, a draft is changed "
                    "in place", tags=("bank",), request=EDIT_SCHEMA, responses={200: ITEM_SCHEMA})
def api_edit_item(item_id: int):
    bank_item = _get(BankItem, item_id)
    changes = json_body(EDIT_SCHEMA)
    db = get_db()
    version = bank.edit_item(db, bank_item, changes, g.user, g.now)
    db.commit()
    return jsonify(_version_json(version))


@bp.post("/api/bank/versions/<int:version_id>/transitions")
@requires(*AUTHORS)
@openapi.documented("Review workflow: review (draft → reviewed, not by its author), activate (reviewed → active), "
                    "retire (active → retired)", tags=("bank",), request=TRANSITION_SCHEMA,
                    responses={200: ITEM_SCHEMA})
def api_transition(version_id: int):
    action = json_body(TRANSITION_SCHEMA)["action"]
    version = _get(BankItemVersion, version_id)
    db = get_db()
    bank.transition(db, version, action, g.user, g.now)
    db.commit()
    return jsonify(_version_json(version))


# ---- assembly ----------------------------------------------------------------------------------------------------

def _paper_rows(assembly) -> list[dict]:
    rows = []
    for paper in assembly.papers if assembly else []:
        report = json.loads(paper.report)
        total = sum(report["importance_counts"].values()) or 1
        rows.append({"paper": paper, "entry": paper.roster_entry, "report": report,
                     "shares": {k: v / total for k, v in report["importance_counts"].items()},
                     "differs": [c for c in report["cells"] if c["actual"] != c["target"]]})
    return rows


def _papers_context(session: ExamSession) -> dict:
    db = get_db()
    assembly = bank.assembly_of(db, session)
    return {"session": session, "assembly": assembly, "rows": _paper_rows(assembly), "roles": _roles(),
            "summary": json.loads(assembly.summary) if assembly else None,
            "status": delivery.session_status(session, g.now),
            "can_act": any(a.role in ASSEMBLERS for a in g.assignments),
            "type_name": TYPE_NAMES_ZH if _zh() else TYPE_NAMES_EN, "shortfalls": []}


@bp.get("/sessions/<int:session_id>/papers")
@requires(*READERS, scope=session_organisation)
def papers(session_id: int):
    return render_template("bank/papers.html", **_papers_context(_session(session_id)))


def _assemble(session_id: int, seed):
    db = get_db()
    session = _session(session_id)
    paper_key = current_app.extensions["exam_settings"].paper_key()
    assembly = bank.assemble_session(db, session, g.user, g.now, paper_key, seed)
    db.commit()
    return assembly


@bp.post("/sessions/<int:session_id>/papers")
@requires(*ASSEMBLERS, scope=session_organisation)
def assemble(session_id: int):
    try:
        _assemble(session_id, None)
    except bank.CapacityShortfall as shortfall:
        get_db().rollback()
        context = _papers_context(_session(session_id))
        context["shortfalls"] = _shortfall_texts(shortfall.shortfalls)
        return render_template("bank/papers.html", **context), 409
    return redirect(url_for("bank.papers", session_id=session_id))


def _assembly_json(session: ExamSession) -> dict:
    assembly = bank.assembly_of(get_db(), session)
    if assembly is None:
        return {"assembled": False, "papers": []}
    return {"assembled": True, "seed": assembly.seed, "bank_hash": assembly.bank_hash,
            "solver_version": assembly.solver_version, "blueprint_version": assembly.blueprint.version,
            "summary": json.loads(assembly.summary),
            "papers": [{"roster_entry_id": r["entry"].id, "seat": r["entry"].seat, "solver": r["paper"].solver,
                        "expected_score": r["paper"].expected_score, "objective": r["paper"].objective,
                        "report": r["report"]} for r in _paper_rows(assembly)]}


@bp.get("/api/sessions/<int:session_id>/papers")
@requires(*READERS, scope=session_organisation)
@openapi.documented("The session's assembled papers: how they were made and each paper's compliance report "
                    "(item references stay sealed)", tags=("examiner",), responses={200: {"type": "object"}})
def api_papers(session_id: int):
    return jsonify(_assembly_json(_session(session_id)))


@bp.post("/api/sessions/<int:session_id>/papers")
@requires(*ASSEMBLERS, scope=session_organisation)
@openapi.documented("Assemble one compliant paper per candidate, sealed until the session starts; 409 with the "
                    "capacity shortfalls in words when the bank cannot supply them", tags=("examiner",),
                    request=ASSEMBLE_SCHEMA, responses={200: {"type": "object"}, 409: {"type": "object"}})
def api_assemble(session_id: int):
    seed = json_body(ASSEMBLE_SCHEMA).get("seed") if request.get_data() else None
    try:
        _assemble(session_id, seed)
    except bank.CapacityShortfall as shortfall:
        get_db().rollback()
        return _error_json(shortfall, 409, shortfalls=_shortfall_texts(shortfall.shortfalls))
    return jsonify(_assembly_json(_session(session_id)))


# ---- item analysis -------------------------------------------------------------------------------------------------

def _analysis_context(session: ExamSession) -> dict:
    db = get_db()
    record = bank.analysis_of(db, session)
    context = {"session": session, "analysis": record, "roles": _roles(),
               "status": delivery.session_status(session, g.now),
               "can_act": any(a.role in ASSEMBLERS for a in g.assignments)}
    if record is None:
        return context
    locale = "zh-CN" if _zh() else "en"
    stats = [(s, s.bank_item_version, json.loads(s.flags), json.loads(s.distractors)) for s in record.statistics]
    assembly = bank.assembly_of(db, session)
    spec = bank.spec_of(assembly.paper_spec if assembly else None)
    labels = [f"{v.bank_item.code}@{v.version}" for _, v, _, _ in stats]
    context.update(
        stats=[{"stat": s, "version": v, "label": label, "flags": describe_flags(f, locale), "distractors": d}
               for (s, v, f, d), label in zip(stats, labels)],
        review_flags=[f["zh"] if _zh() else f["en"] for f in json.loads(record.review_flags)],
        difficulty_chart=charts.difficulty_discrimination_svg(
            [s.p for s, _, _, _ in stats], [float("nan") if s.r_it is None else s.r_it for s, _, _, _ in stats],
            labels, [bool(f) for _, _, f, _ in stats]),
        score_chart=charts.score_distribution_svg(json.loads(record.totals), max_score=spec.total_points,
                                                  pass_mark=spec.pass_mark))
    return context


@bp.get("/sessions/<int:session_id>/analysis")
@requires(*READERS, scope=session_organisation)
def analysis(session_id: int):
    return render_template("bank/analysis.html", **_analysis_context(_session(session_id)))


@bp.post("/sessions/<int:session_id>/analysis")
@requires(*ASSEMBLERS, scope=session_organisation)
def analyse(session_id: int):
    db = get_db()
    bank.analyse_session(db, _session(session_id), g.user, g.now)
    db.commit()
    return redirect(url_for("bank.analysis", session_id=session_id))


def _analysis_json(session: ExamSession) -> dict:
    record = bank.analysis_of(get_db(), session)
    if record is None:
        return {"analysed": False}
    return {"analysed": True, "candidates": record.n_candidates, "items": record.n_items,
            "forms_differ": record.forms_differ, "mean_total": record.mean_total, "sd_total": record.sd_total,
            "kr20": record.kr20, "sem": record.sem, "pass_rate": record.pass_rate,
            "review_flags": json.loads(record.review_flags),
            "statistics": [{"ref": f"{s.bank_item_version.bank_item.code}@{s.bank_item_version.version}",
                            "n": s.n_taken, "p": s.p, "r_it": s.r_it, "d27": s.d27,
                            "alpha_if_deleted": s.alpha_if_deleted, "flags": json.loads(s.flags),
                            "distractors": json.loads(s.distractors)} for s in record.statistics]}


@bp.get("/api/sessions/<int:session_id>/analysis")
@requires(*READERS, scope=session_organisation)
@openapi.documented("The session's item analysis (p, r_it, D27, α if deleted, distractors, flags for review)",
                    tags=("examiner",), responses={200: {"type": "object"}})
def api_analysis(session_id: int):
    return jsonify(_analysis_json(_session(session_id)))


@bp.post("/api/sessions/<int:session_id>/analysis")
@requires(*ASSEMBLERS, scope=session_organisation)
@openapi.documented("Analyse the ended session's submitted attempts once and feed observed p back into the bank",
                    tags=("examiner",), responses={200: {"type": "object"}})
def api_analyse(session_id: int):
    db = get_db()
    session = _session(session_id)
    bank.analyse_session(db, session, g.user, g.now)
    db.commit()
    return jsonify(_analysis_json(session))
