"""Reports over the sittings: counts and pass rates by period, occupation, level, station and part; exports to
Excel and CSV; the national data-exchange export of certificates.

A *sitting* is one attempt at one part in a session held at a station. Its outcome is the attempt's current
score report (not superseded, not pending); a voided attempt counts as failed; an attempt without a report is
counted as a candidate but not in any pass rate. Periods are calendar days in Beijing time, on the session's
scheduled start. The overall outcome of a candidate at an exam is decided by assessment.quality.overall_outcomes.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Optional, Sequence
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from assessment import quality as rules
from assessment.quality import Period

from . import audit, id_numbers
from .models import (LEVEL_NAMES_ZH, Attempt, Certificate, Exam, ExamSession, JobType, Occupation, Organisation,
                     OrganisationKind, Registration, RosterEntry, ScoreReport, User)

CHINA = ZoneInfo("Asia/Shanghai")
GROUPINGS = ("month", "occupation", "job_type", "level", "station", "part")
PARTS = ("theory", "practical", "overall")
NATIONAL_FIELDS = ("certificate_number", "name", "id_type", "id_number", "occupation_code", "job_type_code",
                   "occupation", "level", "issue_date", "organisation_code", "issuer", "status", "revoked_on",
                   "source")
NATIONAL_FORMAT = "exam-platform/national-certificates/v1"


# ------------------------------------------------------------------------------------------ scope and period

def utc_bounds(period: Period) -> tuple[datetime, datetime]:
    """The period's first and last day (Beijing time) as a half-open UTC interval."""
    start = datetime.combine(period.start, time(), CHINA)
    return start, datetime.combine(period.end + timedelta(days=1), time(), CHINA)


def in_subtrees(column_path, roots: Sequence[Organisation]):
    """SQL: the organisation path lies under one of ``roots``."""
    return or_(*[column_path.like(root.path + "%") for root in roots])


def stations_under(db: Session, roots: Sequence[Organisation]) -> list[Organisation]:
    return list(db.execute(select(Organisation).where(Organisation.kind == OrganisationKind.station,
                                                      in_subtrees(Organisation.path, roots))
                           .order_by(Organisation.code)).scalars())


def province_of(db: Session, organisation: Organisation) -> Organisation:
    """The root of the organisation's tree (the province centre)."""
    return db.get(Organisation, int(organisation.path.strip("/").split("/")[0]))


def sessions_in(roots: Sequence[Organisation], period: Period):
    """SQL: ids of the sessions held under ``roots`` within the period."""
    start, end = utc_bounds(period)
    return (select(ExamSession.id).join(Organisation, ExamSession.organisation_id == Organisation.id)
            .where(in_subtrees(Organisation.path, roots), ExamSession.scheduled_start_at >= start,
                   ExamSession.scheduled_start_at < end))


# ------------------------------------------------------------------------------------------ sittings

@dataclass(frozen=True)
class Filters:
    period: Period
    occupation_id: Optional[int] = None
    level: Optional[int] = None
    station_id: Optional[int] = None


def sittings(db: Session, roots: Sequence[Organisation], filters: Filters) -> list[dict]:
    """One dict per attempt held under ``roots`` in the period (see the module docstring)."""
    start, end = utc_bounds(filters.period)
    query = (select(Attempt.id, Attempt.voided_at, RosterEntry.candidate_id, ExamSession.id, ExamSession.part,
                    ExamSession.scheduled_start_at, Exam.id, Exam.level, JobType.id, JobType.name, Occupation.id,
                    Occupation.code, Occupation.name, Organisation.id, Organisation.code, Organisation.name)
             .join(RosterEntry, Attempt.roster_entry_id == RosterEntry.id)
             .join(ExamSession, RosterEntry.exam_session_id == ExamSession.id)
             .join(Exam, ExamSession.exam_id == Exam.id).join(JobType, Exam.job_type_id == JobType.id)
             .join(Occupation, JobType.occupation_id == Occupation.id)
             .join(Organisation, ExamSession.organisation_id == Organisation.id)
             .where(in_subtrees(Organisation.path, roots), ExamSession.scheduled_start_at >= start,
                    ExamSession.scheduled_start_at < end))
    if filters.occupation_id:
        query = query.where(Occupation.id == filters.occupation_id)
    if filters.level:
        query = query.where(Exam.level == filters.level)
    if filters.station_id:
        query = query.where(Organisation.id == filters.station_id)
    found = db.execute(query.order_by(Attempt.id)).all()
    outcomes = _current_outcomes(db, [row[0] for row in found])
    rows = []
    for (attempt_id, voided_at, candidate, session_id, part, start_at, exam_id, level, job_type_id, job_type_name,
         occupation_id, occupation_code, occupation_name, station_id, station_code, station_name) in found:
        outcome = outcomes.get(attempt_id)
        passed = False if voided_at is not None else (outcome[0] if outcome is not None else None)
        day = start_at.astimezone(CHINA).date()
        rows.append({"attempt": attempt_id, "session": session_id, "candidate": candidate, "exam": exam_id,
                     "part": getattr(part, "value", part), "level": level, "job_type": job_type_id,
                     "job_type_name": job_type_name, "occupation": occupation_id, "occupation_code": occupation_code,
                     "occupation_name": occupation_name, "station": station_id, "station_code": station_code,
                     "station_name": station_name, "day": day, "month": f"{day:%Y-%m}",
                     "score": None if voided_at is not None or outcome is None else float(outcome[1]),
                     "passed": passed})
    return rows


def _current_outcomes(db: Session, attempt_ids: list[int]) -> dict[int, tuple[bool, float]]:
    """Per attempt, (passed, total) of the report that counts: not superseded, not pending, newest sheet version."""
    found: dict[int, tuple[bool, float]] = {}
    for chunk in range(0, len(attempt_ids), 500):
        rows = db.execute(select(ScoreReport.attempt_id, ScoreReport.passed, ScoreReport.total).where(
            ScoreReport.attempt_id.in_(attempt_ids[chunk:chunk + 500]), ScoreReport.superseded_at.is_(None),
            ScoreReport.pending.is_(False)).order_by(ScoreReport.sheet_version))
        found.update((attempt_id, (passed, total)) for attempt_id, passed, total in rows)
    return found


def with_overall(rows: list[dict]) -> list[dict]:
    """Part rows plus one "overall" row per candidate × exam."""
    return rows + rules.overall_outcomes(rows)


# ------------------------------------------------------------------------------------------ breakdowns

_LABELS = {
    "month": lambda r: r["month"],
    "occupation": lambda r: f"{r['occupation_name']} {r['occupation_code']}",
    "job_type": lambda r: r["job_type_name"],
    "level": lambda r: LEVEL_NAMES_ZH.get(r["level"], str(r["level"])),
    "station": lambda r: f"{r['station_name']} ({r['station_code']})",
    "part": lambda r: r["part"],
}


def breakdown(rows: list[dict], by: str) -> list[dict]:
    """Counts and pass rates per group (and part: theory, practical, overall), in group order."""
    if by not in GROUPINGS:
        raise ValueError(by)
    everything = with_overall(rows)
    keyed = rules.tally(everything, lambda r: (_LABELS[by](r), r["part"]))
    out = []
    for (label, part), t in sorted(keyed.items(), key=lambda kv: (kv[0][0], PARTS.index(kv[0][1]))):
        out.append({"group": label, "part": part, "candidates": len(t.candidates), "graded": t.graded,
                    "passed": t.passed, "pass_rate": t.rate,
                    "mean": sum(t.scores) / len(t.scores) if t.scores else None})
    return out


def trailing_year(period: Period) -> Period:
    """The twelve calendar months ending with the period's last month (the trend chart's window)."""
    months = period.end.year * 12 + period.end.month - 1 - 11
    start = date(months // 12, months % 12 + 1, 1)
    return Period(start, period.end, f"{start.isoformat()}..{period.end.isoformat()}")


def trend(rows: list[dict], period: Period, part: str = "overall") -> list[tuple[str, Optional[float], int]]:
    """(month, pass rate or None, graded) for every month of the period, in order."""
    keyed = rules.tally([r for r in with_overall(rows) if r["part"] == part], lambda r: r["month"])
    first, last = period.start.year * 12 + period.start.month - 1, period.end.year * 12 + period.end.month - 1
    months = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(first, last + 1)]
    return [(m, keyed[m].rate, keyed[m].graded) if m in keyed else (m, None, 0) for m in months]


def scores(rows: list[dict], part: str) -> list[float]:
    return [r["score"] for r in rows if r["part"] == part and r["score"] is not None]


# ------------------------------------------------------------------------------------------ exports

EXPORT_HEADERS = ("分组 group", "部分 part", "考生 candidates", "已评 graded", "合格 passed", "合格率 pass rate",
                  "平均分 mean")


def _cells(row: dict) -> list:
    rate = None if row["pass_rate"] is None else round(row["pass_rate"], 4)
    mean = None if row["mean"] is None else round(row["mean"], 1)
    return [row["group"], row["part"], row["candidates"], row["graded"], row["passed"], rate, mean]


def to_csv(table: list[dict]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADERS)
    for row in table:
        writer.writerow(["" if v is None else v for v in _cells(row)])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def to_xlsx(tables: dict[str, list[dict]], title: str) -> bytes:
    """One sheet per grouping (the sheet name is the grouping), header row first."""
    book = Workbook()
    book.remove(book.active)
    for name, table in tables.items():
        sheet = book.create_sheet(name[:31])
        sheet.append([title])
        sheet.append(list(EXPORT_HEADERS))
        for row in table:
            sheet.append(_cells(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def record_export(db: Session, kind: str, scope: Sequence[Organisation], period: Period, rows: int, sha256: str,
                  actor: User, now: datetime) -> None:
    """Data leaving the platform is audited: who took what, over which scope and period."""
    audit.record(db, f"report.export.{kind}", actor=actor, object_type="report", object_id=period.label,
                 data={"scope": [o.code for o in scope], "rows": rows, "sha256": sha256}, now=now)


# ------------------------------------------------------------------------------------------ national exchange

def national_rows(db: Session, roots: Sequence[Organisation], period: Period,
                  include_legacy: bool = False) -> list[dict]:
    """Certificates issued (dated) within the period by organisations under ``roots``, in the field list of
    NATIONAL_FIELDS (docs/affairs.md). Legacy imports came from the national data already, so they are left out
    unless asked for."""
    query = (select(Certificate).join(Organisation, Certificate.organisation_id == Organisation.id)
             .where(in_subtrees(Organisation.path, roots), Certificate.issued_on >= period.start.isoformat(),
                    Certificate.issued_on <= period.end.isoformat()))
    if not include_legacy:
        query = query.where(Certificate.legacy.is_(False))
    certs = list(db.execute(query.order_by(Certificate.issued_on, Certificate.number)).scalars())
    id_types = _id_types(db, [c.id_number for c in certs])
    by_name = {o.name: o for o in db.execute(select(Occupation)).scalars()}
    return [_national_row(c, id_types, by_name) for c in certs]


def _id_types(db: Session, numbers: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in range(0, len(numbers), 500):
        for number, kind in db.execute(select(Registration.id_number, Registration.id_type)
                                       .where(Registration.id_number.in_(numbers[chunk:chunk + 500]))):
            found[number] = getattr(kind, "value", kind)
    return found


def _national_row(cert: Certificate, id_types: dict[str, str], occupations: dict[str, Occupation]) -> dict:
    job_type = cert.result.job_type_level.job_type if cert.result else None
    occupation = job_type.occupation if job_type else occupations.get(cert.occupation.split("(")[0].split("（")[0])
    id_type = id_types.get(cert.id_number) or (
        "resident_id" if id_numbers.is_valid_resident_id(cert.id_number, date.max) else "other")
    return {"certificate_number": cert.number, "name": cert.holder_name, "id_type": id_type,
            "id_number": cert.id_number, "occupation_code": occupation.code if occupation else "",
            "job_type_code": job_type.code if job_type else "", "occupation": cert.occupation, "level": cert.level,
            "issue_date": cert.issued_on, "organisation_code": cert.organisation.code if cert.organisation else "",
            "issuer": cert.issuer, "status": "revoked" if cert.revoked_at else "valid",
            "revoked_on": cert.revoked_at.astimezone(CHINA).date().isoformat() if cert.revoked_at else "",
            "source": "legacy" if cert.legacy else "issued"}


def national_export(db: Session, roots: Sequence[Organisation], period: Period, actor: User, now: datetime,
                    include_legacy: bool = False) -> tuple[bytes, dict]:
    """A zip of certificates.csv (UTF-8 with BOM), certificates.json and manifest.json (the format, field list,
    period, count and each file's SHA-256). Audited with the manifest's own SHA-256."""
    rows = national_rows(db, roots, period, include_legacy)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=NATIONAL_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    files = {"certificates.csv": b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"),
             "certificates.json": json.dumps(rows, ensure_ascii=False, indent=1).encode("utf-8")}
    manifest = {"format": NATIONAL_FORMAT, "fields": list(NATIONAL_FIELDS), "period": period.label,
                "from": period.start.isoformat(), "to": period.end.isoformat(), "count": len(rows),
                "organisations": [o.code for o in roots], "include_legacy": include_legacy,
                "generated_at": now.isoformat(), "generated_by": actor.username,
                "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                          for name, data in files.items()}}
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in {**files, "manifest.json": manifest_bytes}.items():
            info = zipfile.ZipInfo(name, date_time=(now.year, now.month, now.day, 0, 0, 0))
            z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    record_export(db, "national", roots, period, len(rows), hashlib.sha256(manifest_bytes).hexdigest(), actor, now)
    return archive.getvalue(), manifest

