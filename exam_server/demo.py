"""The demo province: a small but realistic set of centres, stations, staff and candidates.

Everything is derived from a fixed seed, so two loads give the same people. Identity numbers have the
GB 11643-1999 layout (region, birth date, sequence, ISO 7064 MOD 11-2 check character) with the regions of
the stations' cities; they are made up and belong to nobody.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, demo_affairs, id_numbers, papers, photos
from .demo_bank import load_bank
from .demo_practical import load_practical
from .models import (Exam, ExamPart, ExamSession, JobType, JobTypeLevel, Level, Occupation, Organisation,
                     OrganisationKind, Role, RosterEntry, User, RoleAssignment)
from .security.passwords import hash_password

DEMO_PASSWORD = "Demo@2026"
SEED = 20261126

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英", "霞",
         "平", "刚", "桂英", "志强", "建华", "建国", "海燕", "晓东", "文博", "子豪", "浩然", "宇航", "欣怡", "梓涵",
         "俊杰", "思远", "佳豪", "雨萱", "嘉伟", "晨阳", "天宇", "鑫"]

# (code, name, kind, parent code, identity-number region)
ORGANISATIONS = [
    ("JS", "江苏省职业技能鉴定中心", OrganisationKind.province_centre, None, None),
    ("JS-NJ", "南京市职业技能鉴定中心", OrganisationKind.city_centre, "JS", None),
    ("JS-SZ", "苏州市职业技能鉴定中心", OrganisationKind.city_centre, "JS", None),
    ("JS-NJ-01", "南京技师学院鉴定站", OrganisationKind.station, "JS-NJ", "320106"),
    ("JS-NJ-02", "南京高等职业技术学校鉴定站", OrganisationKind.station, "JS-NJ", "320115"),
    ("JS-SZ-01", "苏州技师学院鉴定站", OrganisationKind.station, "JS-SZ", "320505"),
    ("JS-SZ-02", "苏州工业园区职业技能鉴定所", OrganisationKind.station, "JS-SZ", "320571"),
]

# (occupation code, name, English, [(job type code, name, English, levels)])
OCCUPATIONS = [
    ("6-18-01-01", "车工", "Turner", [("6-18-01-01-02", "数控车工", "CNC lathe operator", (Level.intermediate, Level.senior))]),
    ("6-18-01-02", "铣工", "Milling machine operator",
     [("6-18-01-02-02", "数控铣工", "CNC milling operator", (Level.intermediate, Level.senior)),
      ("6-18-01-02-03", "加工中心操作工", "Machining centre operator", (Level.intermediate, Level.senior))]),
    ("COMPUTER-OP", "计算机操作员", "Computer operator",
     [("COMPUTER-OP-01", "计算机操作员", "Computer operator", (Level.intermediate,))]),
]

# (username, display name, role, organisation code)
STAFF = [
    ("admin", "省级管理员", Role.provincial_admin, "JS"),
    ("nj_admin", "南京中心管理员", Role.centre_admin, "JS-NJ"),
    ("sz_admin", "苏州中心管理员", Role.centre_admin, "JS-SZ"),
    ("nj01_manager", "南京技师学院站长", Role.station_manager, "JS-NJ-01"),
    ("nj02_manager", "南京高职站长", Role.station_manager, "JS-NJ-02"),
    ("sz01_manager", "苏州技师学院站长", Role.station_manager, "JS-SZ-01"),
    ("sz02_manager", "园区鉴定所所长", Role.station_manager, "JS-SZ-02"),
    ("author", "命题专家", Role.question_author, "JS"),
    ("examiner_nj01", "考评员（南京技师学院）", Role.examiner, "JS-NJ-01"),
    ("examiner_nj02", "考评员（南京高职）", Role.examiner, "JS-NJ-02"),
    ("examiner_sz01", "考评员（苏州技师学院）", Role.examiner, "JS-SZ-01"),
    ("examiner_sz02", "考评员（园区鉴定所）", Role.examiner, "JS-SZ-02"),
    ("supervisor_nj", "督导员（南京）", Role.supervisor, "JS-NJ"),
    ("supervisor_sz", "督导员（苏州）", Role.supervisor, "JS-SZ"),
]
CANDIDATES_PER_STATION = 10


def id_check_character(first17: str) -> str:
    """GB 11643-1999 check character of the first 17 digits (ISO 7064 MOD 11-2)."""
    return id_numbers.check_character(first17)


def is_valid_id_number(number: str, today: date = date.max) -> bool:
    return id_numbers.is_valid_resident_id(number, today)


def make_id_number(rng: random.Random, region: str, female: bool) -> str:
    born = date(1975, 1, 1) + timedelta(days=rng.randrange(30 * 365))
    sequence = rng.randrange(0, 100) * 10 + rng.randrange(0, 5) * 2 + (0 if female else 1)  # odd = male
    return id_numbers.make_resident_id(region, born, sequence)


@dataclass
class DemoSummary:
    organisations: int
    staff: int
    candidates: int


def is_loaded(db: Session) -> bool:
    return db.execute(select(func.count()).select_from(Organisation)).scalar_one() > 0


def load(db: Session, now, paper_key: bytes, affairs: bool = False) -> DemoSummary:
    """Create the demo province in the caller's transaction (the caller checks the database is empty). With
    ``affairs`` (``examctl demo load``), also the exam-affairs demo: a plan through to two staffed sessions
    (demo_affairs); the tests' template leaves it out, so that their counts of plans, rooms and staff hold."""
    rng = random.Random(SEED)
    password_hash = hash_password(DEMO_PASSWORD)  # one hash for all: the demo loads in a second
    orgs = _organisations(db)
    _occupations(db)
    for username, name, role, org_code in STAFF:
        _person(db, username, name, role, orgs[org_code], password_hash, now)
    count = 0
    used_names: set[str] = set()
    for code, _, kind, _, region in ORGANISATIONS:
        if kind is not OrganisationKind.station:
            continue
        for _ in range(CANDIDATES_PER_STATION):
            count += 1
            name = _unique_name(rng, used_names)
            user = _person(db, f"ks{count:03d}", name, Role.candidate, orgs[code], password_hash, now)
            user.id_number = make_id_number(rng, region, female=rng.random() < 0.2)
            user.photo, user.photo_type = photos.placeholder_png(count), "image/png"
    session = _theory_session(db, orgs["JS-NJ-01"], now)
    db.flush()
    papers.seal_for_session(db, session, papers.demo_paper(), paper_key, now)
    load_bank(db, now)
    load_practical(db, now, paper_key)
    if affairs:
        demo_affairs.load(db, now, paper_key)
    audit.record(db, "demo_loaded", actor_name="examctl", object_type="province", object_id="JS", now=now,
                 data={"organisations": len(orgs), "staff": len(STAFF), "candidates": count})
    return DemoSummary(len(orgs), len(STAFF), count)


def _unique_name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        if name not in used:
            used.add(name)
            return name


def _organisations(db: Session) -> dict[str, Organisation]:
    orgs: dict[str, Organisation] = {}
    for code, name, kind, parent_code, _ in ORGANISATIONS:
        parent = orgs.get(parent_code) if parent_code else None
        org = Organisation(code=code, name=name, kind=kind, parent=parent)
        db.add(org)
        db.flush()
        org.path = (parent.path if parent else "/") + f"{org.id}/"
        orgs[code] = org
    return orgs


def _occupations(db: Session) -> None:
    for code, name, name_en, job_types in OCCUPATIONS:
        occupation = Occupation(code=code, name=name, name_en=name_en)
        db.add(occupation)
        for jt_code, jt_name, jt_en, levels in job_types:
            job_type = JobType(occupation=occupation, code=jt_code, name=jt_name, name_en=jt_en)
            job_type.levels = [JobTypeLevel(level=int(level)) for level in levels]
            db.add(job_type)


def _person(db: Session, username: str, name: str, role: Role, org: Organisation, password_hash: str,
            now) -> User:
    user = User(username=username, display_name=name, password_hash=password_hash, organisation=org,
                created_at=now)
    user.role_assignments = [RoleAssignment(role=role, organisation=org, granted_at=now)]
    db.add(user)
    return user


def _theory_session(db: Session, station: Organisation, now) -> ExamSession:
    """数控车工 四级/中级工: a 120-minute theory session tomorrow at 09:00 (Beijing time) for the station's ten
    candidates, seated by their user names."""
    job_type = db.execute(select(JobType).where(JobType.name == "数控车工")).scalar_one()
    exam = Exam(code="2026-CNC-T-4-12", name="2026 年 12 月 数控车工 四级/中级工", job_type=job_type,
                level=int(Level.intermediate), created_at=now)
    start = (now + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)  # 09:00 UTC+8
    session = ExamSession(exam=exam, part=ExamPart.theory, organisation=station, room="理论机房 1",
                          scheduled_start_at=start, duration_s=120 * 60, created_at=now)
    db.add(session)
    candidates = db.execute(select(User).where(User.organisation_id == station.id, User.username.like("ks%"))
                            .order_by(User.username)).scalars().all()
    for seat, candidate in enumerate(candidates, start=1):
        db.add(RosterEntry(exam_session=session, candidate=candidate, seat=f"{seat:02d}",
                           ticket_number=f"{start:%Y%m%d}{station.code[-2:]}{seat:04d}"))
    return session
