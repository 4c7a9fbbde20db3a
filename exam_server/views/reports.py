"""Quality management and report pages.

Who sees what: provincial and centre admins see every station of their subtree and act (compute and publish the
红黑榜, record responsibility agreements, export); supervisors read the same pages over their subtree; a station
manager sees their own station only (its indicators against the province, never another station's rates).
Examiners and candidates are refused.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from flask import Blueprint, Response, abort, flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from assessment import charts
from assessment.quality import Period, parse_period, shortcuts

from .. import openapi, quality, reports
from ..errors import UserError
from ..models import (LEVEL_NAMES_ZH, Occupation, Organisation, OrganisationKind, QualityList, ResponsibilityAgreement,
                      Role)
from ..security.access import requires
from ..web import get_db

bp = Blueprint("reports", __name__)

ADMINS = (Role.centre_admin, Role.provincial_admin)
READERS = ADMINS + (Role.supervisor, Role.station_manager)
COMPARISON_SCHEMA = {"type": "object", "properties": {
    "rate": {"type": ["number", "null"]}, "graded": {"type": "integer"}, "passed": {"type": "integer"},
    "rest_rate": {"type": ["number", "null"]}, "z": {"type": "number"}, "p": {"type": "number"},
    "anomalous": {"type": "boolean"}}}
QUALITY_SCHEMA = {"type": "object", "properties": {
    "period": {"type": "object"},
    "stations": {"type": "array", "items": {"type": "object", "properties": {
        "code": {"type": "string"}, "name": {"type": "string"}, "metrics": {"type": "object"},
        "parts": {"type": "object", "additionalProperties": COMPARISON_SCHEMA}, "evidence": {"type": "object"}}}}}}


# ------------------------------------------------------------------------------------------ helpers

def _roles():
    return sorted({a.role for a in g.user.active_roles()}, key=list(Role).index)


def _scope() -> list[Organisation]:
    """The organisations the granting assignments cover, without ones nested in another."""
    orgs = {a.organisation.id: a.organisation for a in g.assignments}.values()
    return [o for o in orgs if not any(other is not o and other.contains(o) for other in orgs)]


def _is_admin() -> bool:
    return any(a.role in ADMINS for a in g.assignments)


def _period() -> Period:
    text = request.values.get("period", "").strip()
    if not text:
        today = g.now.astimezone(reports.CHINA).date()
        return parse_period(f"{today:%Y-%m}")
    try:
        return parse_period(text)
    except ValueError:
        raise UserError("reports.period_invalid", value=text[:40]) from None


def _shortcuts() -> list[tuple[str, str]]:
    return [(f"reports.{name}", value)
            for name, value in shortcuts(g.now.astimezone(reports.CHINA).date())]


def _int_arg(name: str):
    value = request.values.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise UserError("reports.filter_invalid", name=name)
    return int(value)


def _filters(scope: list[Organisation]) -> reports.Filters:
    station_id = _int_arg("station")
    if station_id is not None:
        station = get_db().get(Organisation, station_id)
        if station is None or not any(o.contains(station) for o in scope):
            abort(404)
    return reports.Filters(_period(), _int_arg("occupation"), _int_arg("level"), station_id)


def _comparison_json(c) -> dict:
    return {"rate": c.rate, "graded": c.graded, "passed": c.passed, "rest_rate": c.rest_rate, "z": c.z,
            "p": c.p_value, "anomalous": c.anomalous}


# ------------------------------------------------------------------------------------------ quality

@bp.get("/reports/quality")
@requires(*READERS)
def quality_page():
    db, scope, period = get_db(), _scope(), _period()
    found = quality.indicators(db, scope, period)
    lists = quality.lists_under(db, scope, published_only=not _is_admin())
    chart = charts.pass_rate_bars_svg(
        [s.station.code for s in found], [s.parts["overall"].rate for s in found],
        reference=_province_rate(found), flagged=[s.parts["overall"].anomalous for s in found],
        title="各鉴定站综合合格率") if found else ""
    return render_template("reports/quality.html", period=period, stations=found, lists=lists, shortcuts=_shortcuts(),
                           chart=chart, province_rate=_province_rate(found), can_act=_is_admin(),
                           roles=_roles(), role=None)


def _province_rate(found) -> float | None:
    if not found:
        return None
    c = found[0].parts["overall"]
    total, passed = c.graded + c.rest_graded, c.passed + c.rest_passed
    return passed / total if total else None


@bp.get("/api/reports/quality")
@requires(*READERS)
@openapi.documented("Station quality indicators over a period (period=2026-03, 2026-Q1, 2026 or from..to), "
                    "each station against the province", tags=("reports",), responses={200: QUALITY_SCHEMA})
def quality_json():
    period = _period()
    found = quality.indicators(get_db(), _scope(), period)
    return jsonify(period={"label": period.label, "from": period.start.isoformat(), "to": period.end.isoformat()},
                   stations=[{"code": s.station.code, "name": s.station.name, "metrics": s.metrics,
                              "parts": {p: _comparison_json(c) for p, c in s.parts.items()},
                              "evidence": s.evidence} for s in found])


@bp.post("/reports/quality/lists")
@requires(*ADMINS)
def compute_list():
    db, period = get_db(), _period()
    organisation = min(_scope(), key=lambda o: len(o.path))
    row = quality.compute_list(db, organisation, period, g.user, g.now)
    db.commit()
    return redirect(url_for("reports.list_page", list_id=row.id))


def list_organisation(list_id: int):
    row = get_db().get(QualityList, list_id)
    return row.organisation if row else None


def _visible_list(list_id: int) -> QualityList:
    """A list is visible over the assignments' subtrees; a station reads the published lists above it."""
    row = get_db().get(QualityList, list_id)
    if row is None:
        abort(404)
    if any(o.contains(row.organisation) for o in _scope()):
        return row
    if row.published_at is not None and any(row.organisation.contains(o) for o in _scope()):
        return row
    abort(404)


@bp.get("/reports/quality/lists/<int:list_id>")
@requires(*READERS)
def list_page(list_id: int):
    row = _visible_list(list_id)
    if row.published_at is None and not _is_admin():
        abort(404)
    scope = _scope()
    entries = [e for e in row.entries if any(o.contains(e.station) for o in scope)]
    return render_template("reports/list.html", row=row, entries=entries, can_act=_is_admin(), roles=_roles(),
                           role=None, loads=json.loads)


@bp.post("/reports/quality/lists/<int:list_id>/publish")
@requires(*ADMINS, scope=list_organisation)
def publish_list(list_id: int):
    db = get_db()
    row = quality.publish_list(db, db.get(QualityList, list_id), g.user, g.now)
    db.commit()
    flash(row.period_label, "quality_list_published")
    return redirect(url_for("reports.list_page", list_id=list_id))


# ------------------------------------------------------------------------------------------ agreements

@bp.get("/reports/agreements")
@requires(*READERS)
def agreements_page():
    db, scope = get_db(), _scope()
    return render_template("reports/agreements.html", agreements=quality.agreements_under(db, scope),
                           stations=reports.stations_under(db, scope), can_act=_is_admin(), roles=_roles(),
                           role=None)


def _station_from_form():
    station_id = _int_arg("station")
    station = get_db().get(Organisation, station_id) if station_id else None
    if station is None or station.kind is not OrganisationKind.station:
        raise UserError("quality.not_a_station")
    if not any(o.contains(station) for o in _scope()):
        abort(403)
    return station


@bp.post("/reports/agreements")
@requires(*ADMINS)
def record_agreement():
    db = get_db()
    station = _station_from_form()
    try:
        signed_on = date.fromisoformat(request.form.get("signed_on", "").strip())
    except ValueError:
        raise UserError("quality.signed_on_invalid") from None
    upload = request.files.get("file")
    data = upload.read(quality.MAX_AGREEMENT_BYTES + 1) if upload else b""
    file = quality.Upload(upload.filename or "agreement", upload.mimetype or "", data) if data else None
    quality.record_agreement(db, station, _period(), request.form.get("signer_name", ""),
                             request.form.get("signer_title", ""), signed_on, g.user, g.now, file)
    db.commit()
    flash(station.name, "agreement_recorded")
    return redirect(url_for("reports.agreements_page"))


def agreement_organisation(agreement_id: int):
    row = get_db().get(ResponsibilityAgreement, agreement_id)
    return row.station if row else None


@bp.post("/reports/agreements/<int:agreement_id>/withdraw")
@requires(*ADMINS, scope=agreement_organisation)
def withdraw_agreement(agreement_id: int):
    db = get_db()
    quality.withdraw_agreement(db, db.get(ResponsibilityAgreement, agreement_id), g.user, g.now)
    db.commit()
    return redirect(url_for("reports.agreements_page"))


@bp.get("/reports/agreements/<int:agreement_id>/file")
@requires(*READERS, scope=agreement_organisation)
def agreement_file(agreement_id: int):
    row = get_db().get(ResponsibilityAgreement, agreement_id)
    if row.file_data is None:
        abort(404)
    return Response(row.file_data, mimetype=row.file_type,
                    headers={"Content-Disposition": f'attachment; filename="agreement-{row.id}"'})


# ------------------------------------------------------------------------------------------ reports

def _report_rows(scope):
    filters = _filters(scope)
    return filters, reports.sittings(get_db(), scope, filters)


def _by() -> str:
    by = request.args.get("by", "station")
    if by not in reports.GROUPINGS:
        raise UserError("reports.filter_invalid", name="by")
    return by


@bp.get("/reports")
@requires(*READERS)
def reports_page():
    db, scope = get_db(), _scope()
    filters, rows = _report_rows(scope)
    by = _by()
    window = replace(filters, period=reports.trailing_year(filters.period))
    months = reports.trend(reports.sittings(db, scope, window), window.period)
    return render_template(
        "reports/index.html", filters=filters, by=by, shortcuts=_shortcuts(), table=reports.breakdown(rows, by),
        groupings=reports.GROUPINGS,
        occupations=db.execute(select(Occupation).order_by(Occupation.code)).scalars().all(),
        stations=reports.stations_under(db, scope), levels=LEVEL_NAMES_ZH, can_export=_is_admin(),
        theory_chart=charts.score_distribution_svg(reports.scores(rows, "theory"), title="理论知识成绩分布"),
        practical_chart=charts.score_distribution_svg(reports.scores(rows, "practical"), title="操作技能成绩分布"),
        trend_chart=charts.pass_rate_trend_svg([m[2:] for m, _, _ in months], [r for _, r, _ in months],
                                               [n for _, _, n in months], title="综合合格率趋势（按月）"),
        query=request.args.to_dict(), roles=_roles(), role=None)


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/reports/export.csv")
@requires(*READERS)
def export_csv():
    filters, rows = _report_rows(_scope())
    by = _by()
    return _download(reports.to_csv(reports.breakdown(rows, by)), "text/csv; charset=utf-8",
                     f"report-{filters.period.label}-{by}.csv")


@bp.get("/reports/export.xlsx")
@requires(*READERS)
def export_xlsx():
    filters, rows = _report_rows(_scope())
    tables = {by: reports.breakdown(rows, by) for by in reports.GROUPINGS}
    return _download(reports.to_xlsx(tables, f"{filters.period.label}"),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     f"report-{filters.period.label}.xlsx")


@bp.post("/reports/certificates/national-export")
@requires(*ADMINS)
def national_export():
    db, period = get_db(), _period()
    data, _ = reports.national_export(db, _scope(), period, g.user, g.now,
                                      include_legacy=request.form.get("include_legacy") == "1")
    db.commit()
    return _download(data, "application/zip", f"certificates-{period.label}.zip")
