"""Legacy certificates from older systems' CSV or Excel exports: read, validate, deduplicate, and store all of a
file or nothing, with a report naming each error's row and column.

Columns (Chinese or English headings, any order): 证书编号/number, 姓名/name, 证件号码/id_number,
职业(工种)/occupation, 等级/level, 发证日期/issued_on, 发证机构/issuer. Numbers may be the old 16-digit
国家职业资格证书 codes or the new 22-character ones. A row that repeats one already stored (or one earlier in the
file) with the same content is skipped as a duplicate; the same number with different content is an error.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Iterable, Iterator, Optional

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from . import audit
from .demo import is_valid_id_number
from .errors import UserError
from .models import Certificate, CertificateImport, Organisation, User

COLUMNS = {   # field → accepted headings
    "number": ("证书编号", "number"), "name": ("姓名", "name"), "id_number": ("证件号码", "身份证号", "id_number"),
    "occupation": ("职业(工种)", "职业（工种）", "职业", "occupation"), "level": ("等级", "level"),
    "issued_on": ("发证日期", "issued_on"), "issuer": ("发证机构", "issuer"),
}
LEVEL_WORDS = {"一级": 1, "高级技师": 1, "二级": 2, "技师": 2, "三级": 3, "高级工": 3, "高级": 3,
               "四级": 4, "中级工": 4, "中级": 4, "五级": 5, "初级工": 5, "初级": 5}
NUMBER_PATTERN = re.compile(r"^(\d{16}|[A-Z]\d{21}|[A-Z]{2}\d{20})$")
MAX_ROWS = 500_000          # per file; bigger exports are split
BATCH = 1000


@dataclass(frozen=True)
class RowError:
    row: int            # the spreadsheet's row number (the heading is row 1)
    column: str         # the heading as written in the file ("" for the whole row)
    key: str            # message catalogue key
    value: str = ""


@dataclass
class ImportReport:
    filename: str
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {"filename": self.filename, "rows": self.rows, "imported": self.imported,
                "duplicates": self.duplicates, "errors": [asdict(e) for e in self.errors]}


# ------------------------------------------------------------------------------------------ reading

def read_rows(filename: str, data: bytes) -> Iterator[list[str]]:
    """The file's rows as lists of text, whatever its format (.csv in UTF-8 or GB18030, .xlsx)."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        return _xlsx_rows(data)
    if filename.lower().endswith((".csv", ".txt")):
        return csv.reader(io.StringIO(_decode(data)))
    raise UserError("certificates.import_format", filename=filename)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):   # exports from Chinese Windows systems are often GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError("certificates.import_encoding")


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:   # openpyxl raises many kinds for a file that is not a workbook
        raise UserError("certificates.import_format", filename="xlsx") from None
    for values in book.worksheets[0].iter_rows(values_only=True):
        yield [_cell_text(v) for v in values]


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header_map(header: list[str]) -> tuple[dict[str, int], list[RowError]]:
    positions, errors = {}, []
    cleaned = [h.strip() for h in header]
    for name, headings in COLUMNS.items():
        found = [i for i, h in enumerate(cleaned) if h in headings or h.lower() in headings]
        if not found:
            errors.append(RowError(1, headings[0], "certificates.import_column_missing"))
        else:
            positions[name] = found[0]
    return positions, errors


# ------------------------------------------------------------------------------------------ validating

def _level(text: str) -> Optional[int]:
    text = text.strip()
    if text.isdigit() and 1 <= int(text) <= 5:
        return int(text)
    return LEVEL_WORDS.get(text.split("/")[-1].strip()) or LEVEL_WORDS.get(text.split("/")[0].strip())


def _issued_on(text: str) -> Optional[str]:
    text = text.strip().replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat("-".join(p.zfill(2) for p in text.split("-"))).isoformat()
    except ValueError:
        return None


def validate_row(row_no: int, cells: list[str], positions: dict[str, int], header: list[str],
                 errors: list[RowError]) -> Optional[dict]:
    """The row's fields, or None after adding its errors (each naming the column as headed in the file)."""
    def cell(name: str) -> str:
        i = positions[name]
        return cells[i].strip() if i < len(cells) else ""

    def fail(name: str, key: str) -> None:
        errors.append(RowError(row_no, header[positions[name]].strip(), key, cell(name)))

    before = len(errors)
    fields = {name: cell(name) for name in positions}
    fields["number"] = fields["number"].upper()
    if not NUMBER_PATTERN.match(fields["number"]):
        fail("number", "certificates.import_bad_number")
    if not fields["name"] or len(fields["name"]) > 50:
        fail("name", "certificates.import_bad_name")
    fields["id_number"] = fields["id_number"].upper()
    if not is_valid_id_number(fields["id_number"]):
        fail("id_number", "certificates.import_bad_id")
    if not fields["occupation"] or len(fields["occupation"]) > 100:
        fail("occupation", "certificates.import_bad_occupation")
    level = _level(fields["level"])
    if level is None:
        fail("level", "certificates.import_bad_level")
    issued_on = _issued_on(fields["issued_on"])
    if issued_on is None or not "2001-01-01" <= issued_on <= "2099-12-31":
        fail("issued_on", "certificates.import_bad_date")
    if not fields["issuer"] or len(fields["issuer"]) > 200:
        fail("issuer", "certificates.import_bad_issuer")
    if len(errors) > before:
        return None
    return {**fields, "level": level, "issued_on": issued_on}


def _same(a: dict, b: dict) -> bool:
    return all(a[k] == b[k] for k in ("number", "name", "id_number", "occupation", "level", "issued_on", "issuer"))


def validate_file(filename: str, data: bytes) -> tuple[ImportReport, list[dict]]:
    """Every row checked, duplicates inside the file folded; the records to store when the report is clean."""
    report, records, by_number = ImportReport(filename), [], {}
    rows = read_rows(filename, data)
    header = next(rows, None)
    if header is None:
        report.errors.append(RowError(1, "", "certificates.import_empty"))
        return report, []
    positions, report.errors = _header_map(header)
    if report.errors:
        return report, []
    for row_no, cells in enumerate(rows, start=2):
        if not any(c.strip() for c in cells):
            continue
        report.rows += 1
        if report.rows > MAX_ROWS:
            report.errors.append(RowError(row_no, "", "certificates.import_too_many", str(MAX_ROWS)))
            break
        record = validate_row(row_no, cells, positions, header, report.errors)
        if record is None:
            continue
        earlier = by_number.get(record["number"])
        if earlier is None:
            by_number[record["number"]] = record
            records.append(record | {"row": row_no})
        elif _same(earlier, record):
            report.duplicates += 1
        else:
            report.errors.append(RowError(row_no, header[positions["number"]].strip(),
                                          "certificates.import_conflict", record["number"]))
    return report, records


# ------------------------------------------------------------------------------------------ storing

def _existing(db: Session, numbers: list[str]) -> dict[str, dict]:
    found = {}
    for start in range(0, len(numbers), BATCH):
        rows = db.execute(select(Certificate.number, Certificate.holder_name, Certificate.id_number,
                                 Certificate.occupation, Certificate.level, Certificate.issued_on,
                                 Certificate.issuer).where(Certificate.number.in_(numbers[start:start + BATCH])))
        for r in rows:
            found[r.number] = {"number": r.number, "name": r.holder_name, "id_number": r.id_number,
                               "occupation": r.occupation, "level": r.level, "issued_on": r.issued_on,
                               "issuer": r.issuer}
    return found


def import_legacy(db: Session, filename: str, data: bytes, user: Optional[User], organisation: Organisation,
                  now: datetime) -> ImportReport:
    """Validate the whole file, then store every new record, or none when any row is wrong. The report (and the
    audit record) are written either way; the caller commits."""
    report, records = validate_file(filename, data)
    stored = _existing(db, [r["number"] for r in records]) if records else {}
    fresh = []
    for record in records:
        old = stored.get(record["number"])
        if old is None:
            fresh.append(record)
        elif _same(old, record):
            report.duplicates += 1
        else:
            report.errors.append(RowError(record["row"], "", "certificates.import_conflict_stored",
                                          record["number"]))
    if report.ok:
        _insert(db, fresh, filename, user, organisation, now)
        report.imported = len(fresh)
    _record_import(db, filename, data, report, user, now)
    return report


def _insert(db: Session, records: Iterable[dict], filename: str, user: Optional[User], organisation: Organisation,
            now: datetime) -> None:
    rows = [{"number": r["number"], "public_id": secrets.token_hex(16), "holder_name": r["name"],
             "id_number": r["id_number"], "occupation": r["occupation"], "level": r["level"], "issuer": r["issuer"],
             "issued_on": r["issued_on"], "organisation_id": organisation.id, "issued_at": now,
             "issued_by_id": user.id if user else None, "legacy": True, "legacy_source": filename[:200]}
            for r in records]
    for start in range(0, len(rows), BATCH):
        db.execute(insert(Certificate), rows[start:start + BATCH])


def _record_import(db: Session, filename: str, data: bytes, report: ImportReport, user: Optional[User],
                   now: datetime) -> None:
    digest = hashlib.sha256(data).hexdigest()
    summary = report.as_dict()
    summary["errors"] = summary["errors"][:200]     # the full list is in the response; keep the row bounded
    db.add(CertificateImport(filename=filename[:200], sha256=digest, rows=report.rows, imported=report.imported,
                             duplicates=report.duplicates, report_json=json.dumps(summary, ensure_ascii=False),
                             imported_at=now, imported_by_id=user.id if user else None))
    audit.record(db, "certificate.import", actor=user, actor_name="examctl", object_type="certificate_import",
                 object_id=digest[:16], data={"filename": filename, "rows": report.rows, "imported": report.imported,
                                              "duplicates": report.duplicates, "errors": len(report.errors)},
                 now=now)
