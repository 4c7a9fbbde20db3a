"""The bank's pages and JSON routes: an author imports from Excel, an examiner assembles the demo session's papers
and reads the compliance report, the analysis page shows its charts; and nobody else gets in."""
from __future__ import annotations

import inspect
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from exam_server import i18n, papers
from exam_server.models import AssembledPaper, BankItem, BankItemVersion, ExamSession, JobType
from tests.server.conftest import theory_session

from .conftest import start_demo_session
from .test_bank import (GOOD_ROWS, _retire_singles_of_leaf_but_one_point, assemble_demo, bank_template,  # noqa: F401
                        database_url, opened_papers, sit_and_end, workbook)

TEMPLATES = Path(i18n.__file__).resolve().parent.parent / "templates" / "bank"


def ids(database) -> dict:
    with database.transaction() as db:
        centre = db.execute(select(JobType).where(JobType.name == "加工中心操作工")).scalar_one()
        version = db.execute(select(BankItemVersion).order_by(BankItemVersion.id)).scalars().first()
        return {"job_type_id": centre.id, "level": 4, "item_id": version.bank_item_id, "version_id": version.id,
                "session_id": theory_session(db).id, "action": "review"}


def upload(browser, job_type_id: int, data: bytes, fmt: str = "xlsx"):
    return browser.client.post(f"/bank/{job_type_id}/4/import", content_type="multipart/form-data",
                               data={"csrf_token": browser.csrf(), "format": fmt,
                                     "file": (io.BytesIO(data), "bank.xlsx")})


def test_an_author_imports_a_bank_and_blueprint_from_excel(browser, database):
    job_type_id = ids(database)["job_type_id"]
    browser.login("author")
    response = upload(browser, job_type_id, workbook(GOOD_ROWS))
    assert response.status_code == 302
    page = browser.get(f"/bank/{job_type_id}/4").get_data(as_text=True)
    assert page.count('href="/bank/items/') == 4 and "A-A-001" in page and "B-A-002" in page
    assert 'id="blueprint"' in page and "安全文明生产" in page
    listed = browser.get(f"/api/bank/{job_type_id}/4/items?status=draft").json
    assert listed["total"] == 4 and {i["status"] for i in listed["items"]} == {"draft"}
    index = browser.get("/bank").get_data(as_text=True)
    assert f'href="/bank/{job_type_id}/4"' in index and "加工中心操作工" in index
    exported = browser.post(f"/bank/{job_type_id}/4/export", {"format": "xlsx"})
    assert exported.status_code == 200 and exported.data[:2] == b"PK"           # an .xlsx is a zip
    assert "attachment" in exported.headers["Content-Disposition"]


def test_a_rejected_upload_names_row_and_column_and_stores_nothing(browser, database):
    job_type_id = ids(database)["job_type_id"]
    bad = [list(r) for r in GOOD_ROWS]
    bad[1][8] = 1.7          # sheet row 3, column I (难度)
    browser.login("author")
    response = upload(browser, job_type_id, workbook(bad))
    assert response.status_code == 422
    assert "题目 I3" in response.get_data(as_text=True)
    api = browser.client.post(f"/api/bank/{job_type_id}/4/import?format=xlsx", data=workbook(bad),
                              headers={"X-CSRF-Token": browser.csrf()})
    assert api.status_code == 422
    assert {(p["sheet"], p["row"], p["column"]) for p in api.json["problems"]} == {("题目", 3, "I")}
    with database.transaction() as db:
        assert db.execute(select(func.count()).select_from(BankItem)
                          .where(BankItem.job_type_id == job_type_id)).scalar_one() == 0


def test_review_and_edit_through_the_api(new_browser, database):
    job_type_id = ids(database)["job_type_id"]
    author, admin = new_browser(), new_browser()
    author.login("author")
    admin.login("admin")
    assert upload(author, job_type_id, workbook(GOOD_ROWS)).status_code == 302
    item = author.get(f"/api/bank/{job_type_id}/4/items?point=A-A-001").json["items"][0]
    own = author.post_json(f"/api/bank/versions/{item['version_id']}/transitions", {"action": "review"})
    assert own.status_code == 403 and own.json["error"]["code"] == "bank.own_review"
    for who, action in ((admin, "review"), (author, "activate")):
        done = who.post_json(f"/api/bank/versions/{item['version_id']}/transitions", {"action": action})
        assert done.status_code == 200
    assert done.json["status"] == "active"
    edited = author.post_json(f"/api/bank/items/{item['id']}/versions", {"stem": "进入车间前必须（  ）。"})
    assert edited.status_code == 200 and edited.json["version"] == 2 and edited.json["status"] == "draft"
    versions = author.get(f"/api/bank/items/{item['id']}").json["versions"]
    assert [(v["version"], v["status"], v["stem"]) for v in versions] == [
        (1, "active", GOOD_ROWS[0][2]), (2, "draft", "进入车间前必须（  ）。")]
    page = author.get(f"/bank/items/{item['id']}").get_data(as_text=True)
    assert 'data-action="review"' in page and 'data-action="retire"' in page


def test_the_examiner_assembles_and_reads_the_compliance_report(browser, database):
    session_id = ids(database)["session_id"]
    browser.login("examiner_nj01")
    before = browser.get(f"/sessions/{session_id}/papers").get_data(as_text=True)
    assert 'id="assemble"' in before
    assert browser.post(f"/sessions/{session_id}/papers").status_code == 302
    page = browser.get(f"/sessions/{session_id}/papers").get_data(as_text=True)
    assert page.count('class="paper"') == 10 and page.count('class="tag compliant"') == 10
    assert 'id="cells"' in page and "A-B-F" in page
    report = browser.get(f"/api/sessions/{session_id}/papers").json
    assert report["assembled"] and len(report["papers"]) == 10
    assert all(p["report"]["violations"] == [] and abs(p["expected_score"] - 65) <= 0.5 for p in report["papers"])
    again = browser.post_json(f"/api/sessions/{session_id}/papers", {})
    assert again.status_code == 409 and again.json["error"]["code"] == "bank.already_assembled"


def test_a_capacity_shortfall_shows_its_words_and_makes_no_paper(browser, database):
    session_id = ids(database)["session_id"]
    with database.transaction() as db:
        _retire_singles_of_leaf_but_one_point(db, "A-B-F")
    browser.login("examiner_nj01")
    response = browser.post(f"/sessions/{session_id}/papers")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'id="shortfalls"' in page and "鉴定范围 A-B-F（安全文明生产与质量管理）每份试卷需要 2 道" in page
    api = browser.post_json(f"/api/sessions/{session_id}/papers", {"seed": 3})
    assert api.status_code == 409 and any("A-B-F" in s for s in api.json["shortfalls"])
    with database.transaction() as db:
        assert db.execute(select(func.count()).select_from(AssembledPaper)).scalar_one() == 0


def test_the_analysis_page_renders_the_charts(browser, database):
    session_id = assemble_demo(database)
    sit_and_end(database, session_id)
    browser.login("examiner_nj01")
    assert 'id="analyse"' in browser.get(f"/sessions/{session_id}/analysis").get_data(as_text=True)
    assert browser.post(f"/sessions/{session_id}/analysis").status_code == 302
    page = browser.get(f"/sessions/{session_id}/analysis").get_data(as_text=True)
    assert page.count("<svg") == 2 and "难度与区分度" in page and "成绩分布" in page
    data = browser.get(f"/api/sessions/{session_id}/analysis").json
    assert data["analysed"] and data["candidates"] == 10 and data["mean_total"] == pytest.approx(55)
    # one dot per item whose r_it exists (with one paper per candidate most items sat before one or two
    # candidates only), plus the legend's two
    with_r = sum(1 for s in data["statistics"] if s["r_it"] is not None)
    assert with_r > 0 and page.count("<circle") == with_r + 2
    assert page.count("<tr>") >= data["items"]             # the table lists every item
    flags = re.search(r'id="review-flags">(.*?)</section>', page, re.S).group(1)
    assert flags.count("<li>") == 2 and "仅供人工复核" in flags      # seat 10: rapid guessing, fast and correct
    supervisor = browser.client.application.test_client()
    assert supervisor.get(f"/sessions/{session_id}/analysis").status_code == 302     # signed out: to the login


OWN_PAPERS = "assembled" in inspect.getsource(papers.paper_for)


@pytest.mark.skipif(not OWN_PAPERS, reason="papers.paper_for does not look for the candidate's own paper yet")
def test_the_candidate_receives_their_own_paper_without_keys(new_browser, database):
    session_id = assemble_demo(database)
    ticket, id_number, pin = start_demo_session(database)
    candidate = new_browser()
    entry_id = candidate.post_json("/api/check-in", {"ticket_number": ticket, "id_number": id_number,
                                                     "pin": pin}).json["roster_entry_id"]
    attempt = candidate.post_json(f"/api/roster/{entry_id}/attempt", {"client_id": "browser-0001"}).json
    shown = candidate.get(f"/api/attempts/{attempt['attempt_id']}/paper").json
    with database.transaction() as db:
        own = opened_papers(db, db.get(ExamSession, session_id))[entry_id]
    assert len(shown["items"]) == 200 and all("key" not in i and "ref" not in i for i in shown["items"])
    assert sorted(i["stem"] for i in shown["items"]) == sorted(i["stem"] for i in own["items"])


def _bank_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("bank."):
            routes += [(method, rule.rule) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def _fill(rule: str, values: dict) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule)


@pytest.mark.parametrize("username", ["ks001", "examiner_sz01"])
def test_candidates_and_other_centres_get_nothing(app, browser, database, username):
    values = ids(database)
    routes = _bank_routes(app)
    assert len(routes) >= 20
    browser.login(username)
    for method, rule in routes:
        path = _fill(rule, values)
        if method == "GET":
            response = browser.get(path)
        elif path.startswith("/api/"):
            response = browser.post_json(path, {})
        else:
            response = browser.post(path)
        assert response.status_code in (403, 404), (method, path, response.status_code)
    with database.transaction() as db:
        assert db.execute(select(func.count()).select_from(AssembledPaper)).scalar_one() == 0


def test_the_examiners_own_routes_are_scoped_to_the_session(browser, database):
    session_id = ids(database)["session_id"]
    browser.login("examiner_nj01")
    assert browser.get(f"/sessions/{session_id + 999}/papers").status_code == 404
    assert browser.get("/bank").status_code == 403          # the bank is for authors
    browser.login("supervisor_nj")
    assert browser.get(f"/sessions/{session_id}/papers").status_code == 200
    assert browser.post(f"/sessions/{session_id}/papers").status_code == 403     # supervisors only read


def test_bank_catalogues_have_the_same_keys_and_cover_the_templates():
    zh = json.loads((TEMPLATES.parent.parent / "i18n" / "bank.zh_CN.json").read_text(encoding="utf-8"))
    en = json.loads((TEMPLATES.parent.parent / "i18n" / "bank.en.json").read_text(encoding="utf-8"))
    assert set(zh) == set(en) and all(v.strip() for v in [*zh.values(), *en.values()])
    fields = re.compile(r"\{(\w+)\}")
    assert {k: set(fields.findall(v)) for k, v in zh.items()} == {k: set(fields.findall(v)) for k, v in en.items()}
    used = set()
    for path in TEMPLATES.glob("*.html"):
        used.update(re.findall(r"t\('(bank\.[a-z_.]+[a-z_])'", path.read_text(encoding="utf-8")))
    assert used and used <= set(zh)
