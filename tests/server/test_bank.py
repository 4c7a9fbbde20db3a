"""Question-bank use cases: Excel import (all or nothing), the review workflow, versions on edit, per-candidate
assembly sealed for the demo session, capacity shortfalls, and item analysis after the session.

The demo banks (assessment.demo_bank, about 7,300 item versions) are loaded once into a copy of the migrated
demo template; each test gets a fresh copy of that.
"""
from __future__ import annotations

import io
import json
import math
import shutil
import uuid
from datetime import timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from exam_server import bank, delivery, sealing
from exam_server.accounts import find_user
from exam_server.audit import canonical_json
from exam_server.db import Database
from exam_server.demo_bank import load_bank
from exam_server.errors import UserError
from exam_server.models import (AssembledPaper, Assembly, Attempt, AuditEvent, BankBlueprint, BankItem,
                                BankItemVersion, ExamSession, JobType, Response, RosterEntry, SaveOperation,
                                SealedPaper, SubmitKind, utcnow)
from exam_server.papers import assembled, candidate_view
from tests.server.conftest import theory_session

from .conftest import PAPER_KEY, SERVER_URL

LEVEL = 4


# ---- fixtures: the demo template plus the demo banks ----------------------------------------------------------

def _load_banks(url: str) -> None:
    database = Database(url)
    with database.transaction() as db:
        load_bank(db, utcnow())
    database.dispose()


def _admin_engine():
    return create_engine(make_url(SERVER_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def bank_template(template_database, tmp_path_factory):
    """The demo template with the demo banks loaded, made once per run."""
    if not SERVER_URL:
        path = tmp_path_factory.mktemp("bank_template") / "bank.db"
        shutil.copy(template_database, path)
        _load_banks(f"sqlite:///{path}")
        yield path
        return
    name = f"{template_database}_bank_{uuid.uuid4().hex[:6]}"    # test_bank_views imports this fixture: two instances
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
    try:
        _load_banks(make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False))
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(bank_template, tmp_path):
    """Overrides conftest's: a fresh copy of the template with the banks."""
    if not SERVER_URL:
        path = tmp_path / "exam.db"
        shutil.copy(bank_template, path)
        yield f"sqlite:///{path}"
        return
    name = f"exam_test_bank_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{bank_template}"'))
    yield make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# ---- helpers -------------------------------------------------------------------------------------------------

ITEM_HEAD = ["鉴定点代码", "题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "难度", "重要程度", "容差"]
#             A            B       C       D        E        F        G        H       I       J          K
GOOD_ROWS = [
    ["A-A-001", "单选", "进入车间必须（  ）。", "穿戴劳保用品", "戴手套操作", "赤脚", "随意", "A", 0.8, "X", None],
    ["A-A-002", "判断", "操作机床时可以戴手套。", None, None, None, None, "错", 0.7, "Y", None],
    ["B-A-001", "多选", "下列属于插补指令的有（  ）。", "G01", "G02", "G04", "G03", "ABD", 0.55, "X", None],
    ["B-A-002", "填空", "M24×2 螺纹小径约为多少 mm？", None, None, None, None, 21.4, 0.5, "Z", 0.01],
]
BLUEPRINT_ROWS = [["层级", "代码", "名称", "比重", "重要程度"],
                  [1, "A", "基本要求", 40, None], [2, "A", "安全文明生产", 40, None],
                  ["点", "001", "劳动保护", None, "X"], ["点", "002", "安全规程", None, "Y"],
                  [1, "B", "相关知识", 60, None], [2, "A", "数控编程", 60, None],
                  ["点", "001", "插补指令", None, "X"], ["点", "002", "螺纹计算", None, "Z"]]


def workbook(item_rows, with_blueprint=True) -> bytes:
    wb = Workbook()
    items = wb.active
    items.title = "题目"
    items.append(ITEM_HEAD)
    for row in item_rows:
        items.append(row)
    if with_blueprint:
        sheet = wb.create_sheet("细目表")
        for row in BLUEPRINT_ROWS:
            sheet.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def machining_centre(db) -> JobType:
    """加工中心操作工: in the demo province, with no bank yet."""
    return db.execute(select(JobType).where(JobType.name == "加工中心操作工")).scalar_one()


def demo_session(db) -> ExamSession:
    return theory_session(db)


def data_key(db, session) -> bytes:
    sealed = db.execute(select(SealedPaper).where(SealedPaper.exam_session_id == session.id)).scalar_one()
    return sealing.release_key(sealed.key_nonce, sealed.wrapped_key, PAPER_KEY, f"exam_session:{session.id}".encode())


def assemble_demo(database, seed=7) -> int:
    with database.transaction() as db:
        session = demo_session(db)
        bank.assemble_session(db, session, find_user(db, "examiner_nj01"), utcnow(), PAPER_KEY, seed)
        return session.id


def opened_papers(db, session) -> dict[int, dict]:
    key = data_key(db, session)
    rows = db.execute(select(AssembledPaper).where(AssembledPaper.roster_entry_id.in_([e.id for e in session.roster]))
                      ).scalars().all()
    return {row.roster_entry_id: assembled.open_paper(row, key) for row in rows}


def actions(db, action: str) -> list[AuditEvent]:
    return db.execute(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)).scalars().all()


# ---- demo banks --------------------------------------------------------------------------------------------------

def test_the_demo_banks_are_loaded_once(database):
    with database.transaction() as db:
        counts = bank.status_counts(db)
        lathe = db.execute(select(JobType).where(JobType.name == "数控车工")).scalar_one()
        mill = db.execute(select(JobType).where(JobType.name == "数控铣工")).scalar_one()
        # docs/assembly.md: 数控车工 中级 6,203 items (5,857 active) on 443 鉴定点; 数控铣工 中级 1,129 items
        assert sum(counts[(lathe.id, LEVEL)].values()) == 6203 and counts[(lathe.id, LEVEL)]["active"] == 5857
        assert sum(counts[(mill.id, LEVEL)].values()) == 1129
        assert len(bank.blueprint_of(bank.current_blueprint(db, lathe.id, LEVEL)).point_index()) == 443
        assert bank.spec_of(bank.current_spec(db, lathe.id, LEVEL)).total_points == 100
        assert load_bank(db, utcnow()).items == 0                 # a second load leaves the banks alone


# ---- import ------------------------------------------------------------------------------------------------------

def test_excel_import_stores_the_blueprint_and_the_items_as_drafts(database):
    with database.transaction() as db:
        summary = bank.import_excel(db, workbook(GOOD_ROWS), machining_centre(db), LEVEL, find_user(db, "author"),
                                    utcnow())
    assert (summary.created, summary.blueprint_version) == (4, 1)
    with database.transaction() as db:
        job_type = machining_centre(db)
        blueprint = bank.blueprint_of(bank.current_blueprint(db, job_type.id, LEVEL))
        # A → A → 001 gives A-A-001 (the 细目表's code rule); weights as printed
        assert sorted(blueprint.point_index()) == ["A-A-001", "A-A-002", "B-A-001", "B-A-002"]
        assert [r.weight_pct for r in blueprint.ranges] == [40, 60]
        versions = bank.versions_of(db, job_type.id, LEVEL)
        assert {v.status.value for v in versions} == {"draft"}
        by_point = {v.point_code: v for v in versions}
        assert by_point["B-A-001"].key_value == "ABD" and by_point["A-A-002"].key_value == "F"
        assert by_point["B-A-002"].key_value == 21.4 and by_point["B-A-002"].tolerance == 0.01
        assert by_point["A-A-001"].option_list[0] == "穿戴劳保用品"
        assert [e.actor_name for e in actions(db, "bank_imported")] == ["author"]
        assert len(actions(db, "blueprint_imported")) == 1
        # importing the same file again changes nothing (ids derive from content when the file has none)
        again = bank.import_excel(db, workbook(GOOD_ROWS), job_type, LEVEL, find_user(db, "author"), utcnow())
        assert (again.created, again.unchanged, again.blueprint_version) == (0, 4, 1)
        assert db.execute(select(func.count()).select_from(BankBlueprint)
                          .where(BankBlueprint.job_type_id == job_type.id)).scalar_one() == 1


def test_one_bad_row_rejects_the_whole_import_naming_row_and_column(database):
    bad = [list(r) for r in GOOD_ROWS]
    bad[1][8] = 1.7          # sheet row 3 (row 1 is the header), column I = 难度: outside 0..1
    bad[2][1] = "问答"        # sheet row 4, column B = 题型: not a type we know
    with database.transaction() as db:
        with pytest.raises(bank.ImportRejected) as rejected:
            bank.import_excel(db, workbook(bad), machining_centre(db), LEVEL, find_user(db, "author"), utcnow())
    where = {(p["sheet"], p["row"], p["column"]) for p in rejected.value.problems}
    assert {("题目", 3, "I"), ("题目", 4, "B")} <= where
    assert all(p["reason_zh"] and p["reason_en"] for p in rejected.value.problems)
    with database.transaction() as db:
        job_type = machining_centre(db)
        assert db.execute(select(func.count()).select_from(BankItem)
                          .where(BankItem.job_type_id == job_type.id)).scalar_one() == 0
        assert bank.current_blueprint(db, job_type.id, LEVEL) is None      # the good 细目表 sheet is not kept either
        assert actions(db, "bank_imported") == []


def test_items_without_any_blueprint_are_refused(database):
    with database.transaction() as db:
        with pytest.raises(UserError, match="bank.no_blueprint"):
            bank.import_excel(db, workbook(GOOD_ROWS, with_blueprint=False), machining_centre(db), LEVEL,
                              find_user(db, "author"), utcnow())


def test_excel_and_qti_exports_read_back_unchanged(database):
    with database.transaction() as db:
        job_type, author = machining_centre(db), find_user(db, "author")
        bank.import_excel(db, workbook(GOOD_ROWS), job_type, LEVEL, author, utcnow())
        xlsx = bank.export_excel(db, job_type, LEVEL, author, utcnow())
        package = bank.export_qti(db, job_type, LEVEL, author, utcnow())
        assert len(actions(db, "bank_exported")) == 2          # keys leave the server: audited
        again = bank.import_excel(db, xlsx, job_type, LEVEL, author, utcnow())
        assert (again.created, again.unchanged, again.blueprint_version) == (0, 4, 1)
        from_qti = bank.import_qti(db, package, job_type, LEVEL, author, utcnow())
        assert (from_qti.created, from_qti.new_versions, from_qti.updated, from_qti.unchanged) == (0, 0, 0, 4)
        with pytest.raises(bank.ImportRejected) as rejected:
            bank.import_qti(db, b"not a zip", job_type, LEVEL, author, utcnow())
        assert rejected.value.problems[0]["file"] == "imsmanifest.xml"


# ---- review workflow and versions ------------------------------------------------------------------------------

def _imported_draft(database) -> int:
    with database.transaction() as db:
        bank.import_excel(db, workbook(GOOD_ROWS), machining_centre(db), LEVEL, find_user(db, "author"), utcnow())
        version = db.execute(select(BankItemVersion).where(BankItemVersion.point_code == "A-A-001")
                             .join(BankItemVersion.bank_item).where(BankItem.job_type_id == machining_centre(db).id)
                             ).scalar_one()
        return version.id


def test_review_transitions_are_checked_and_audited(database):
    version_id = _imported_draft(database)
    with database.transaction() as db:
        version = db.get(BankItemVersion, version_id)
        with pytest.raises(UserError, match="bank.own_review"):      # four eyes: not by its author
            bank.transition(db, version, "review", find_user(db, "author"), utcnow())
        with pytest.raises(UserError, match="bank.bad_transition"):  # a draft cannot be activated
            bank.transition(db, version, "activate", find_user(db, "author"), utcnow())
    with database.transaction() as db:     # a version must sit on a 鉴定点 of the blueprint to become active
        version = db.get(BankItemVersion, version_id)
        bank.transition(db, version, "review", find_user(db, "admin"), utcnow())
        version.point_code = "Z-Z-999"
        with pytest.raises(UserError, match="bank.unknown_point"):
            bank.transition(db, version, "activate", find_user(db, "author"), utcnow())
        db.rollback()
    steps = [("review", "admin", "reviewed"), ("activate", "author", "active"), ("retire", "admin", "retired")]
    for action, who, status in steps:
        with database.transaction() as db:
            version = db.get(BankItemVersion, version_id)
            assert bank.transition(db, version, action, find_user(db, who), utcnow()).value == status
    with database.transaction() as db:
        version = db.get(BankItemVersion, version_id)
        assert version.reviewed_by.username == "admin" and version.status.value == "retired"
        logged = [(e.action, e.actor_name, json.loads(e.data)["version"])
                  for e in db.execute(select(AuditEvent).where(AuditEvent.object_type == "bank_item")
                                      .order_by(AuditEvent.seq)).scalars()]
        assert logged == [("item_reviewed", "admin", 1), ("item_activated", "author", 1),
                          ("item_retired", "admin", 1)]


def test_a_draft_is_edited_in_place(database):
    version_id = _imported_draft(database)
    with database.transaction() as db:
        draft = db.get(BankItemVersion, version_id)
        edited = bank.edit_item(db, draft.bank_item, {"stem": "进入车间前必须（  ）。"}, find_user(db, "author"),
                                utcnow())
        assert edited.id == version_id and edited.version == 1 and edited.stem == "进入车间前必须（  ）。"
        with pytest.raises(UserError, match="bank.unknown_point"):
            bank.edit_item(db, draft.bank_item, {"point_code": "Z-Z-999"}, find_user(db, "author"), utcnow())


def test_editing_an_item_that_is_in_a_paper_makes_a_new_version(database):
    session_id = assemble_demo(database)
    with database.transaction() as db:
        paper = next(iter(opened_papers(db, db.get(ExamSession, session_id)).values()))
        used = paper["items"][0]
        code, number = used["ref"].split("@")
        bank_item = db.execute(select(BankItem).where(BankItem.code == code)).scalar_one()
        new = bank.edit_item(db, bank_item, {"stem": used["stem"] + "（修订）"}, find_user(db, "author"), utcnow())
        assert new.version == int(number) + 1 and new.status.value == "draft"
        old = next(v for v in bank_item.versions if v.version == int(number))
        assert old.stem == used["stem"] and old.status.value == "active"     # the paper's version is untouched
        assert json.loads(actions(db, "item_edited")[-1].data)["new_version"] is True
        # the prior p is a statistic, not content: corrected in place on the newest version
        same = bank.edit_item(db, bank_item, {"difficulty": 0.61}, find_user(db, "author"), utcnow())
        assert same.id == new.id and same.difficulty == 0.61 and len(bank_item.versions) == int(number) + 1
    with database.transaction() as db:   # the sealed paper still holds the version it was made with
        again = opened_papers(db, db.get(ExamSession, session_id))
        assert any(i["ref"] == used["ref"] and i["stem"] == used["stem"] for p in again.values() for i in p["items"])


# ---- assembly ----------------------------------------------------------------------------------------------------

def test_each_candidate_gets_a_different_compliant_sealed_paper(database):
    session_id = assemble_demo(database)
    with database.transaction() as db:
        session = db.get(ExamSession, session_id)
        papers = opened_papers(db, session)
        assert sorted(papers) == sorted(e.id for e in session.roster) and len(papers) == 10
        versions = {f"{v.bank_item.code}@{v.version}": v
                    for v in bank.versions_of(db, session.exam.job_type_id, session.exam.level)}
        item_sets = []
        for paper in papers.values():
            items = paper["items"]
            # the national format: 160 单选 + 40 判断, 0.5 points each = 100 points
            assert [i["type"] for i in items].count("single") == 160
            assert [i["type"] for i in items].count("truefalse") == 40
            assert sum(i["points"] for i in items) == 100
            chosen = [versions[i["ref"]] for i in items]
            assert all(v.status.value == "active" for v in chosen)
            assert len({v.point_code for v in chosen}) == 200                     # one item per 鉴定点
            expected = sum(v.difficulty * 0.5 for v in chosen)
            assert abs(expected - 65) <= 0.5 + 1e-9                               # 0.65 × 100 ± 0.005 × 100
            item_sets.append(frozenset(i["ref"] for i in items))
        assert len(set(item_sets)) == 10
        rows = db.execute(select(AssembledPaper)).scalars().all()
        assert all(json.loads(r.report)["violations"] == [] for r in rows)
        assert all("ref" not in r.report for r in rows)        # the readable report names no item
        assembly = db.execute(select(Assembly)).scalar_one()
        assert assembly.seed == 7 and len(assembly.bank_hash) == 64 and "HiGHS" in assembly.solver_version
        assert json.loads(actions(db, "papers_assembled")[0].data)["papers"] == 10
        with pytest.raises(UserError, match="bank.already_assembled"):
            bank.assemble_session(db, session, find_user(db, "examiner_nj01"), utcnow(), PAPER_KEY, 7)


def test_the_candidate_reads_their_own_paper_once_the_session_started(database):
    session_id = assemble_demo(database)
    examiner_now = utcnow()
    with database.transaction() as db:
        session = db.get(ExamSession, session_id)
        entry = session.roster[0]
        attempt = Attempt(roster_entry=entry, started_at=examiner_now)
        db.add(attempt)
        db.flush()
        with pytest.raises(UserError, match="delivery.no_paper"):          # sealed before the start
            assembled.paper_of(db, attempt)
        examiner = find_user(db, "examiner_nj01")
        delivery.open_check_in(db, session, examiner, examiner_now)
        delivery.start_session(db, session, examiner, examiner_now, PAPER_KEY)
        own = assembled.paper_of(db, attempt)
        assert own == opened_papers(db, session)[entry.id]
        shown = candidate_view(own, 1)
        assert len(shown["items"]) == 200 and all("key" not in i and "ref" not in i for i in shown["items"])
        with pytest.raises(UserError, match="bank.session_started"):
            bank.assemble_session(db, session, examiner, examiner_now, PAPER_KEY)
        late = RosterEntry(exam_session=session, candidate=find_user(db, "ks011"), seat="11", ticket_number="LATE1")
        db.add(Attempt(roster_entry=late, started_at=examiner_now))
        db.flush()
        with pytest.raises(UserError, match="delivery.no_paper"):         # added after assembly: no paper
            assembled.paper_of(db, late.attempt)


def test_a_candidate_never_gets_an_item_seen_in_an_earlier_session(database):
    first_id = assemble_demo(database)
    now = utcnow()
    with database.transaction() as db:
        first = db.get(ExamSession, first_id)
        examiner = find_user(db, "examiner_nj01")
        delivery.open_check_in(db, first, examiner, now)
        delivery.start_session(db, first, examiner, now, PAPER_KEY)      # its papers count as seen from now on
        retake = ExamSession(exam=first.exam, part=first.part, organisation=first.organisation, room="理论机房 2",
                             scheduled_start_at=first.scheduled_start_at + timedelta(days=30), duration_s=7200,
                             created_at=now)
        db.add(retake)
        for entry in first.roster[:3]:
            db.add(RosterEntry(exam_session=retake, candidate=entry.candidate, seat=entry.seat,
                               ticket_number="R" + entry.ticket_number[1:]))
        db.flush()
        bank.assemble_session(db, retake, examiner, now, PAPER_KEY, 11)
        before, after = opened_papers(db, first), opened_papers(db, retake)
        for entry in retake.roster:
            old = next(e for e in first.roster if e.candidate_id == entry.candidate_id)
            seen = {i["ref"].split("@")[0] for i in before[old.id]["items"]}
            again = {i["ref"].split("@")[0] for i in after[entry.id]["items"]}
            assert len(again) == 200 and not seen & again       # within the 12-month window: nothing repeats


def _retire_singles_of_leaf_but_one_point(db, leaf: str) -> None:
    versions = db.execute(select(BankItemVersion).where(BankItemVersion.point_code.startswith(leaf + "-"),
                                                        BankItemVersion.type == "single")).scalars().all()
    keep = min(v.point_code for v in versions)
    for version in versions:
        if version.point_code != keep and version.retired_at is None:
            version.retired_at = utcnow()


def test_a_capacity_shortfall_is_explained_and_produces_nothing(database):
    with database.transaction() as db:
        _retire_singles_of_leaf_but_one_point(db, "A-B-F")
    with database.transaction() as db:
        with pytest.raises(bank.CapacityShortfall) as shortfall:
            bank.assemble_session(db, demo_session(db), find_user(db, "examiner_nj01"), utcnow(), PAPER_KEY, 7)
    zh = [z for z, _ in shortfall.value.shortfalls]
    # 160 单选: A 25 % → 40; A-B 20/25 of 40 = 32; A-B-F 1/20 of 32 = 1.6, which the largest remainders
    # (A-B-C .8, A-B-E .8, A-B-F .6 for the 3 left after flooring 29) round up to 2.
    assert any("A-B-F" in z and "需要 2 道不同鉴定点的单项选择题" in z and "只有 1 个" in z for z in zh)
    with database.transaction() as db:
        assert db.execute(select(func.count()).select_from(Assembly)).scalar_one() == 0
        assert db.execute(select(func.count()).select_from(AssembledPaper)).scalar_one() == 0
        assert actions(db, "papers_assembled") == []


# ---- item analysis -----------------------------------------------------------------------------------------------

def _wrong(item: dict):
    if item["type"] == "truefalse":
        return not item["key"]
    return next(o["id"] for o in item["options"] if o["id"] != item["key"])


def sit_and_end(database, session_id: int) -> None:
    """Start the session, let the candidate at seat s answer the first 20·s items (by item id) right and the rest
    wrong, submit everybody and end the session. Totals: 20·s × 0.5 = 10·s points. Answers arrive every 30 s,
    except at seat 10, which answers everything (all right) one second apart."""
    now = utcnow()
    with database.transaction() as db:
        session = db.get(ExamSession, session_id)
        examiner = find_user(db, "examiner_nj01")
        delivery.open_check_in(db, session, examiner, now)
        delivery.start_session(db, session, examiner, now, PAPER_KEY)
        papers = opened_papers(db, session)
        for entry in session.roster:
            gap = timedelta(seconds=1 if entry.seat == "10" else 30)
            attempt = Attempt(roster_entry=entry, started_at=now, submitted_at=now + 201 * gap,
                              submit_kind=SubmitKind.submitted)
            db.add(attempt)
            db.flush()
            right = 20 * int(entry.seat)
            for seq, item in enumerate(sorted(papers[entry.id]["items"], key=lambda i: i["id"]), start=1):
                value = item["key"] if seq <= right else _wrong(item)
                db.add(Response(attempt_id=attempt.id, item_id=item["id"], value=canonical_json(value), seq=seq,
                                saved_at=now + seq * gap))
                db.add(SaveOperation(op_id=uuid.uuid4().hex, attempt_id=attempt.id, seq=seq, item_id=item["id"],
                                     received_at=now + seq * gap, applied=True))
        delivery.end_session(db, session, examiner, now + timedelta(hours=2))


def test_item_analysis_after_the_session_feeds_the_bank(database):
    session_id = assemble_demo(database)
    with database.transaction() as db:
        before = {f"{v.bank_item.code}@{v.version}": (v.difficulty, v.exposure)
                  for v in db.execute(select(BankItemVersion)).scalars()}
        with pytest.raises(UserError, match="bank.session_not_ended"):
            bank.analyse_session(db, db.get(ExamSession, session_id), find_user(db, "examiner_nj01"), utcnow())
    sit_and_end(database, session_id)
    with database.transaction() as db:
        session = db.get(ExamSession, session_id)
        record = bank.analyse_session(db, session, find_user(db, "examiner_nj01"), utcnow())
        # totals 10, 20, …, 100: mean 55, population SD 10·√(Σ(s − 5.5)²/10) = 10·√8.25, pass (≥ 60) at seats 6–10
        assert record.n_candidates == 10 and record.forms_differ
        assert record.mean_total == pytest.approx(55)
        assert record.sd_total == pytest.approx(10 * math.sqrt(8.25))
        assert record.pass_rate == pytest.approx(0.5)
        assert sorted(json.loads(record.totals)) == [10.0 * s for s in range(1, 11)]
        papers = opened_papers(db, session)
        counts: dict[str, list[int]] = {}
        for entry in session.roster:
            ordered = sorted(papers[entry.id]["items"], key=lambda i: i["id"])
            for k, item in enumerate(ordered, start=1):
                counts.setdefault(item["ref"], []).append(1 if k <= 20 * int(entry.seat) else 0)
        assert record.n_items == len(counts)
        ref, marks = max(counts.items(), key=lambda kv: (len(kv[1]), kv[0]))
        stat = next(s for s in record.statistics if f"{s.bank_item_version.bank_item.code}@"
                    f"{s.bank_item_version.version}" == ref)
        p_obs = sum(marks) / len(marks)
        assert stat.n_taken == len(marks) and stat.p == pytest.approx(p_obs)
        version = stat.bank_item_version
        prior, exposure = before[ref]
        # sample-size weighting: the author's p counts as 20 candidates (docs/item-analysis.md)
        assert version.difficulty == pytest.approx((20 * prior + len(marks) * p_obs) / (20 + len(marks)))
        assert version.observed_n == len(marks) and version.exposure == exposure + len(marks)
        assert version.last_used == bank.exam_date(session)
        assert json.loads(actions(db, "items_analysed")[0].data)["candidates"] == 10
        # seat 10 answered 200 items 1 s apart; the threshold is 10 % of the sitting's mean answer time,
        # (9 × 30 s + 1 s)/10 = 27.1 s → 2.71 s: all 200 answers rapid (effort 0), all of them right
        flags = json.loads(record.review_flags)
        assert {(f["kind"], f["candidates"][0][:2]) for f in flags} == {("rapid_guessing", "10"),
                                                                        ("fast_and_correct", "10")}
        rapid = next(f for f in flags if f["kind"] == "rapid_guessing")
        assert rapid["statistic"] == 0 and "仅供人工复核" in rapid["zh"]
        with pytest.raises(UserError, match="bank.already_analysed"):
            bank.analyse_session(db, session, find_user(db, "examiner_nj01"), utcnow())


def test_scoring_of_each_item_type():
    single = {"type": "single", "points": 0.5, "key": "B"}
    assert bank.score_response(single, "B") == 0.5 and bank.score_response(single, "A") == 0
    multiple = {"type": "multiple", "points": 2, "key": ["A", "B", "D"], "partial_credit": 0.5}
    assert bank.score_response(multiple, ["A", "B", "D"]) == 2
    assert bank.score_response(multiple, ["A", "B"]) == 1            # a correct subset: half of 2
    assert bank.score_response(multiple, ["A", "C"]) == 0            # a wrong option: nothing
    true_false = {"type": "truefalse", "points": 1, "key": False}
    assert bank.score_response(true_false, False) == 1 and bank.score_response(true_false, 0) == 0
    numeric = {"type": "numeric", "points": 2, "key": 21.4, "tolerance": 0.01}
    assert bank.score_response(numeric, 21.41) == 2 and bank.score_response(numeric, 21.42) == 0
    assert bank.choice_mask(multiple, ["A", "D"]) == 1 + 8 and bank.choice_mask(true_false, False) == 2
