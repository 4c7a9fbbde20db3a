"""Registration (报名) and eligibility review (资格审核).

A station registers candidates for a published plan during its registration window, one by one or from an Excel
file (all or nothing: every problem is reported by row and column and nothing is stored). A candidate who still
holds a valid pass of one part at the plan's job type and level registers as a resit of the other part only.
The centre approves or rejects each registration with a reason and records the fee; a rejected registration can
be corrected and resubmitted by its station. Every change is audited in the caller's transaction.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field as dataclass_field
from datetime import date, datetime
from typing import Iterable, Optional

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from . import audit, id_numbers, photos
from .errors import UserError
from .models import (ExamPlan, IdType, JobTypeLevel, Organisation, PartScore, Registration, Result, ResultPart,
                     User)
from .plans import local_today, locked_place, places_taken, registration_open

SHEET = "报名"
MAX_ROWS = 5000
# field -> Excel headers accepted (the first is the template's)
COLUMNS = {
    "id_type": ("证件类型",), "id_number": ("证件号码", "身份证号", "身份证号码"), "name": ("姓名",),
    "sex": ("性别",), "education": ("文化程度", "学历"), "eligibility_basis": ("申报条件", "申报依据"),
    "employer": ("工作单位", "单位"), "previous_certificate_number": ("原证书编号", "原证书号"),
}
REQUIRED_COLUMNS = ("id_number", "name", "education", "eligibility_basis")
LIMITS = {"name": 100, "eligibility_basis": 300, "employer": 200, "previous_certificate_number": 32,
          "id_number": 32}
ID_TYPE_WORDS = {"居民身份证": "resident_id", "身份证": "resident_id", "护照": "passport",
                 "港澳居民来往内地通行证": "hk_macau", "港澳通行证": "hk_macau", "回乡证": "hk_macau",
                 "台湾居民来往大陆通行证": "taiwan", "台胞证": "taiwan"}
SEX_WORDS = {"男": "M", "女": "F", "M": "M", "F": "F"}
EDUCATION = {"junior_secondary": "初中及以下", "senior_secondary": "高中/中专/技校", "college": "大专",
             "bachelor": "本科", "postgraduate": "研究生"}
EDUCATION_WORDS = {**{v: k for k, v in EDUCATION.items()}, "初中": "junior_secondary", "小学": "junior_secondary",
                   "高中": "senior_secondary", "中专": "senior_secondary", "技校": "senior_secondary",
                   "职高": "senior_secondary", "大学本科": "bachelor", "硕士": "postgraduate",
                   "博士": "postgraduate", "研究生及以上": "postgraduate"}


# ---- problems -----------------------------------------------------------------------------------------------------

@dataclass
class Problem:
    """What is wrong and where: a message key with its values, at a field (form) or a row and column (Excel)."""
    key: str
    field: str = ""
    row: Optional[int] = None
    column: str = ""
    values: dict = dataclass_field(default_factory=dict)


class Rejected(UserError):
    """A registration form or file refused as a whole; `problems` says why, nothing was stored."""

    def __init__(self, key: str, problems: list[Problem]):
        super().__init__(key, 422, count=len(problems))
        self.problems = problems


# ---- applicants -----------------------------------------------------------------------------------------------

@dataclass
class Applicant:
    id_type: str
    id_number: str
    name: str
    sex: str
    education: str
    eligibility_basis: str
    employer: str = ""
    previous_certificate_number: str = ""


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_applicant(raw: dict, today: date) -> tuple[Optional[Applicant], list[Problem]]:
    """Validate one applicant given as form or Excel text (codes or the Chinese words); problems name fields."""
    problems: list[Problem] = []
    values = {name: _text(raw.get(name)) for name in COLUMNS}
    id_type = ID_TYPE_WORDS.get(values["id_type"], values["id_type"] or "resident_id")
    if id_type not in id_numbers.ID_TYPES:
        problems.append(Problem("affairs.bad_id_type", "id_type"))
    if isinstance(raw.get("id_number"), float):       # 18 digits do not survive as an Excel number
        problems.append(Problem("affairs.id_as_text", "id_number"))
    number = id_numbers.normalise(values["id_number"])
    for name in REQUIRED_COLUMNS:
        if not values[name]:
            problems.append(Problem("affairs.required", name))
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            problems.append(Problem("affairs.too_long", name, values={"limit": limit}))
    sex = _checked_sex(id_type, number, values["sex"], today, problems)
    education = EDUCATION_WORDS.get(values["education"], values["education"])
    if values["education"] and education not in EDUCATION:
        problems.append(Problem("affairs.bad_education", "education"))
    if problems:
        return None, problems
    return Applicant(id_type, number, values["name"], sex, education, values["eligibility_basis"],
                     values["employer"], values["previous_certificate_number"]), []


def _checked_sex(id_type: str, number: str, given: str, today: date, problems: list[Problem]) -> str:
    """Check the ID number (appending to ``problems``) and return the sex: a resident ID number fixes it, and a
    sex given as well must agree."""
    sex = SEX_WORDS.get(given.upper(), "") if given else ""
    if given and not sex:
        problems.append(Problem("affairs.bad_sex", "sex"))
    id_problem = any(p.field == "id_number" for p in problems)
    if number and id_type in id_numbers.ID_TYPES and not id_problem:
        reason = id_numbers.check(id_type, number, today)
        if reason:
            problems.append(Problem(f"affairs.id.{reason}", "id_number"))
            id_problem = True
        elif id_type == "resident_id":
            id_sex = id_numbers.parse_resident_id(number, today).sex
            if sex and sex != id_sex:
                problems.append(Problem("affairs.sex_mismatch", "sex"))
            sex = id_sex
    derivable = id_type == "resident_id" and id_problem
    if not sex and not derivable and not any(p.field == "sex" for p in problems):
        problems.append(Problem("affairs.required", "sex"))
    return sex


# ---- resits ---------------------------------------------------------------------------------------------------

def passed_parts(db: Session, plan: ExamPlan, numbers: Iterable[str], now: datetime) -> dict[str, set[str]]:
    """For each ID number, the parts whose newest score at the plan's job type and level passed and still
    counts (a pass is kept until its ``valid_until``)."""
    level = db.execute(select(JobTypeLevel.id).where(JobTypeLevel.job_type_id == plan.job_type_id,
                                                     JobTypeLevel.level == plan.level)).scalar_one()
    numbers = sorted(set(numbers))
    found: dict[str, set[str]] = {}
    for start in range(0, len(numbers), 500):
        rows = db.execute(
            select(User.id_number, PartScore.part).select_from(Result)
            .join(User, User.id == Result.candidate_id)
            .join(PartScore, or_(PartScore.id == Result.theory_score_id, PartScore.id == Result.practical_score_id))
            .where(Result.job_type_level_id == level, User.id_number.in_(numbers[start:start + 500]),
                   PartScore.passed.is_(True), PartScore.valid_until >= now))
        for number, part in rows:
            found.setdefault(number, set()).add(part)
    return found


def _sittings(passed: set[str]) -> dict:
    return {"sits_theory": ResultPart.theory.value not in passed,
            "sits_practical": ResultPart.practical.value not in passed}


def fee_fen(registration: Registration) -> int:
    plan = registration.plan
    return plan.theory_fee_fen * registration.sits_theory + plan.practical_fee_fen * registration.sits_practical


def status(registration: Registration) -> str:
    if registration.approved is None:
        return "submitted"
    if not registration.approved:
        return "rejected"
    return "paid" if registration.fee_paid_at else "approved"


# ---- registering ----------------------------------------------------------------------------------------------

def _open_place(db: Session, plan: ExamPlan, station: Organisation, now: datetime, wanted: int = 1) -> None:
    if not registration_open(plan, now):
        raise UserError("affairs.window_closed", 409)
    place = locked_place(db, plan, station.id)
    if place is None:
        raise UserError("affairs.not_in_plan", 404)
    if places_taken(db, plan.id).get(station.id, 0) + wanted > place.capacity:
        raise UserError("affairs.station_full", 409, capacity=place.capacity)


def _photo(photo: Optional[bytes]) -> tuple[Optional[bytes], Optional[str]]:
    if not photo:
        return None, None
    kind = photos.sniff_type(photo)
    if kind is None:
        raise UserError("affairs.photo_type")
    if len(photo) > photos.MAX_PHOTO_BYTES:
        raise UserError("affairs.photo_size", kb=photos.MAX_PHOTO_BYTES // 1024)
    return photo, kind


def _duplicate(db: Session, plan: ExamPlan, applicant: Applicant, other_than: Optional[int] = None) -> bool:
    query = select(Registration.id).where(Registration.plan_id == plan.id,
                                          Registration.id_type == IdType(applicant.id_type),
                                          Registration.id_number == applicant.id_number)
    if other_than is not None:
        query = query.where(Registration.id != other_than)
    return db.execute(query).first() is not None


def _checked(db: Session, plan: ExamPlan, raw: dict, now: datetime, other_than: Optional[int] = None) -> tuple:
    applicant, problems = parse_applicant(raw, local_today(now))
    if applicant is not None and _duplicate(db, plan, applicant, other_than):
        problems.append(Problem("affairs.duplicate_existing", "id_number"))
    sittings = None
    if applicant is not None:
        sittings = _sittings(passed_parts(db, plan, [applicant.id_number], now).get(applicant.id_number, set()))
        if not (sittings["sits_theory"] or sittings["sits_practical"]):
            problems.append(Problem("affairs.already_passed", "id_number"))
    if problems:
        raise Rejected("affairs.form_rejected", problems)
    return applicant, sittings


def _columns(applicant: Applicant) -> dict:
    return {**vars(applicant), "id_type": IdType(applicant.id_type)}


def _summary(registration: Registration) -> dict:
    return {"plan_id": registration.plan_id, "station_id": registration.station_id,
            "id_type": registration.id_type.value, "id_number": registration.id_number, "name": registration.name,
            "sits_theory": registration.sits_theory, "sits_practical": registration.sits_practical}


def register(db: Session, plan: ExamPlan, station: Organisation, raw: dict, photo: Optional[bytes], actor: User,
             now: datetime) -> Registration:
    """Register one candidate from a form (field values as text); raises Rejected with field problems."""
    _open_place(db, plan, station, now)
    applicant, sittings = _checked(db, plan, raw, now)
    photo, photo_type = _photo(photo)
    registration = Registration(plan_id=plan.id, station_id=station.id, **_columns(applicant), photo=photo,
                                photo_type=photo_type, submitted_at=now, submitted_by_id=actor.id, **sittings)
    db.add(registration)
    db.flush()
    audit.record(db, "registration.create", actor=actor, object_type="registration", object_id=registration.id,
                 data=_summary(registration), now=now)
    return registration


# ---- Excel ------------------------------------------------------------------------------------------------------

def template_xlsx() -> bytes:
    """The import template: the header row (Chinese), a text-formatted ID column, and the accepted values."""
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    for index, (name, headers) in enumerate(COLUMNS.items(), start=1):
        sheet.cell(row=1, column=index, value=headers[0] + ("*" if name in REQUIRED_COLUMNS else ""))
        sheet.column_dimensions[get_column_letter(index)].width = 24 if name == "id_number" else 16
    for row in range(2, 1002):
        sheet.cell(row=row, column=2).number_format = "@"
    notes = book.create_sheet("说明")
    notes.append(["带 * 的列必填；性别可空（居民身份证号码可推出性别）；证件类型空即居民身份证。"])
    notes.append(["证件类型", "居民身份证", "护照", "港澳居民来往内地通行证", "台湾居民来往大陆通行证"])
    notes.append(["性别", "男", "女"])
    notes.append(["文化程度", *EDUCATION.values()])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _header_map(header: tuple) -> tuple[dict[str, int], list[Problem]]:
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        text = _text(cell).rstrip("*").strip()
        for name, headers in COLUMNS.items():
            if text in headers and name not in positions:
                positions[name] = index
    missing = [Problem("affairs.missing_column", row=1, values={"column": COLUMNS[name][0]})
               for name in REQUIRED_COLUMNS if name not in positions]
    return positions, missing


def read_rows(data: bytes) -> tuple[list[tuple[int, dict]], dict[str, str], list[Problem]]:
    """The data rows as (sheet row, raw values by field), the column letter of each field, and header problems."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:   # openpyxl raises many kinds for a file that is not an .xlsx
        return [], {}, [Problem("affairs.import_unreadable")]
    try:
        sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        positions, problems = _header_map(next(rows, ()))
        letters = {name: get_column_letter(index + 1) for name, index in positions.items()}
        if problems:                        # without its columns, every row would repeat the same complaint
            return [], letters, problems
        found = []
        for number, values in enumerate(rows, start=2):
            if any(_text(v) for v in values):
                found.append((number, {name: values[i] if i < len(values) else None for name, i in positions.items()}))
            if len(found) > MAX_ROWS:
                return [], letters, [Problem("affairs.too_many_rows", values={"limit": MAX_ROWS})]
        return found, letters, []
    finally:
        book.close()


def import_excel(db: Session, plan: ExamPlan, station: Organisation, data: bytes, actor: User,
                 now: datetime) -> int:
    """Register every row of an .xlsx, or none: raises Rejected with every problem by row and column."""
    if not registration_open(plan, now):
        raise UserError("affairs.window_closed", 409)
    rows, letters, problems = read_rows(data)     # before taking the lock: parsing is the slow part
    place = locked_place(db, plan, station.id)
    if place is None:
        raise UserError("affairs.not_in_plan", 404)
    if not rows and not problems:
        problems.append(Problem("affairs.import_empty"))
    today = local_today(now)
    parsed: list[tuple[int, Applicant]] = []
    first_row: dict[tuple[str, str], int] = {}
    for row, raw in rows:
        applicant, found = parse_applicant(raw, today)
        for p in found:
            p.row, p.column = row, letters.get(p.field, "")
        problems.extend(found)
        if applicant is None:
            continue
        key = (applicant.id_type, applicant.id_number)
        if key in first_row:
            problems.append(Problem("affairs.duplicate_in_file", "id_number", row, letters.get("id_number", ""),
                                    {"first": first_row[key]}))
            continue
        first_row[key] = row
        parsed.append((row, applicant))
    problems.extend(_against_database(db, plan, parsed, letters, now))
    free = place.capacity - places_taken(db, plan.id).get(station.id, 0)
    if len(rows) > free:
        problems.append(Problem("affairs.import_over_capacity", row=rows[max(free, 0)][0],
                                values={"capacity": place.capacity, "free": max(free, 0), "rows": len(rows)}))
    if problems:
        raise Rejected("affairs.import_rejected", sorted(problems, key=lambda p: (p.row or 0, p.column)))
    passed = passed_parts(db, plan, [a.id_number for _, a in parsed], now)
    db.execute(insert(Registration), [
        {**_columns(a), "plan_id": plan.id, "station_id": station.id,
         "submitted_at": now, "submitted_by_id": actor.id, "review_reason": "",
         **_sittings(passed.get(a.id_number, set()))} for _, a in parsed])
    audit.record(db, "registration.import", actor=actor, object_type="exam_plan", object_id=plan.id, now=now,
                 data={"station_id": station.id, "rows": len(parsed), "sha256": hashlib.sha256(data).hexdigest()})
    return len(parsed)


def _against_database(db: Session, plan: ExamPlan, parsed: list[tuple[int, Applicant]], letters: dict,
                      now: datetime) -> list[Problem]:
    """Rows already registered for the plan, and candidates with nothing left to sit."""
    numbers = [a.id_number for _, a in parsed]
    taken: set[tuple[str, str]] = set()
    for start in range(0, len(numbers), 500):
        rows = db.execute(select(Registration.id_type, Registration.id_number).where(
            Registration.plan_id == plan.id, Registration.id_number.in_(numbers[start:start + 500])))
        taken.update((t.value, n) for t, n in rows)
    passed = passed_parts(db, plan, numbers, now)
    problems = []
    for row, a in parsed:
        if (a.id_type, a.id_number) in taken:
            problems.append(Problem("affairs.duplicate_existing", "id_number", row, letters["id_number"]))
        elif not any(_sittings(passed.get(a.id_number, set())).values()):
            problems.append(Problem("affairs.already_passed", "id_number", row, letters["id_number"]))
    return problems


# ---- review ---------------------------------------------------------------------------------------------------

def _decide(db: Session, registration: Registration, approve: bool, reason: str, actor: User,
            now: datetime) -> None:
    if registration.approved is not None:
        raise UserError("affairs.already_reviewed", 409)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise UserError("affairs.reason_required")
    if len(reason) > 300:
        raise UserError("affairs.reason_too_long")
    registration.approved, registration.review_reason = approve, reason
    registration.reviewed_at, registration.reviewed_by_id = now, actor.id
    audit.record(db, "registration.approve" if approve else "registration.reject", actor=actor,
                 object_type="registration", object_id=registration.id, data={"reason": reason}, now=now)


def review(db: Session, registration: Registration, approve: bool, reason: str, actor: User,
           now: datetime) -> Registration:
    _decide(db, registration, approve, reason, actor, now)
    return registration


def approve_all(db: Session, registrations: list[Registration], actor: User, now: datetime) -> int:
    """Approve a selection; any already-reviewed one refuses the whole selection."""
    if not registrations:
        raise UserError("affairs.nothing_selected")
    if any(r.approved is not None for r in registrations):
        raise UserError("affairs.already_reviewed", 409)
    for registration in registrations:
        _decide(db, registration, True, "", actor, now)
    return len(registrations)


def mark_paid(db: Session, registration: Registration, actor: User, now: datetime) -> Registration:
    if registration.approved is not True:
        raise UserError("affairs.fee_needs_approval", 409)
    if registration.fee_paid_at is not None:
        raise UserError("affairs.fee_already_paid", 409)
    registration.fee_paid_at = now
    audit.record(db, "registration.fee_paid", actor=actor, object_type="registration", object_id=registration.id,
                 data={"fee_fen": fee_fen(registration)}, now=now)
    return registration


def correct(db: Session, registration: Registration, raw: dict, photo: Optional[bytes], actor: User,
            now: datetime) -> Registration:
    """The station corrects a registration not yet approved; a rejected one goes back for review."""
    if registration.approved is True:
        raise UserError("affairs.registration_frozen", 409)
    plan = registration.plan
    if local_today(now) >= plan.exam_from:
        raise UserError("affairs.too_late_to_correct", 409)
    if registration.approved is False:
        place = locked_place(db, plan, registration.station_id)
        if places_taken(db, plan.id).get(registration.station_id, 0) + 1 > place.capacity:
            raise UserError("affairs.station_full", 409, capacity=place.capacity)
    applicant, sittings = _checked(db, plan, raw, now, other_than=registration.id)
    before = _summary(registration)
    for name, value in _columns(applicant).items():
        setattr(registration, name, value)
    registration.sits_theory, registration.sits_practical = sittings["sits_theory"], sittings["sits_practical"]
    if photo:
        registration.photo, registration.photo_type = _photo(photo)
    resubmitted = registration.approved is False
    rejected_for = registration.review_reason if resubmitted else ""
    if resubmitted:
        registration.approved, registration.reviewed_at, registration.reviewed_by_id = None, None, None
        registration.review_reason = ""
        registration.submitted_at, registration.submitted_by_id = now, actor.id
    audit.record(db, "registration.resubmit" if resubmitted else "registration.correct", actor=actor,
                 object_type="registration", object_id=registration.id, now=now,
                 data={"before": before, "after": _summary(registration), "photo": bool(photo),
                       "rejected_for": rejected_for})
    return registration
