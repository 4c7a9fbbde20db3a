"""Grading routes: who may see and do what, the printable report (HTML and PDF), the JSON review flow."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from exam_server.models import Appeal, Attempt, ExamSession
from exam_server.views import grading as grading_views

from .test_scoring import (HAND_TOTAL, corrected_key, extra_examiner, grade_all, stored, submitted_practical_attempt,
                           submitted_theory_attempt, with_attempt)


@pytest.fixture
def app(app):
    """The app with the grading blueprint (registered here until app.py registers it)."""
    if "grading" not in app.blueprints:
        app.register_blueprint(grading_views.bp)
    return app


@pytest.fixture
def graded(database) -> int:
    attempt_id = submitted_theory_attempt(database)
    grade_all(database)
    return attempt_id


def session_of(database, attempt_id: int) -> int:
    with database.session(write=False) as db:
        return db.get(Attempt, attempt_id).roster_entry.exam_session_id


def candidate_of(database, attempt_id: int) -> str:
    with database.session(write=False) as db:
        return db.get(Attempt, attempt_id).roster_entry.candidate.username


def signed_in(new_browser, username: str):
    browser = new_browser()
    assert browser.login(username).status_code == 302
    return browser


def test_every_grading_view_declares_access(app):
    views = [name for name in app.view_functions if name.startswith("grading.")]
    assert len(views) >= 15 and all(hasattr(app.view_functions[name], "access") for name in views)


def test_examiner_sees_the_printable_report_in_the_standard_layout(database, graded, new_browser):
    examiner = signed_in(new_browser, "examiner_nj01")
    page = examiner.get(f"/grading/attempts/{graded}/report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for column in ("序号", "考核项目", "考核内容及要求", "配分", "评分标准", "检测结果", "扣分", "得分"):
        assert f">{column}</th>" in html
    assert 'id="report-total">9<' in html and "考评员签字" in html and "考生签字" in html
    assert examiner.get("/grading/report.css").mimetype == "text/css"
    overview = examiner.get(f"/grading/sessions/{session_of(database, graded)}")
    assert overview.status_code == 200 and f'data-attempt="{graded}"' in overview.get_data(as_text=True)


def test_report_pdf_is_a_pdf(database, graded, new_browser):
    if grading_views.cjk_font() is None:
        pytest.skip("no CJK font on this machine: the HTML page's print stylesheet is the fallback")
    response = signed_in(new_browser, "examiner_nj01").get(f"/grading/attempts/{graded}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-") and len(response.data) > 2000


def test_practical_report_page_shows_provenance_to_staff(database, new_browser):
    attempt_id = submitted_practical_attempt(database)
    grade_all(database)
    html = signed_in(new_browser, "supervisor_nj").get(f"/grading/attempts/{attempt_id}/report").get_data(as_text=True)
    assert "外圆" in html and "cut by" in html and 'id="report-pending"' in html


def test_examiner_of_another_centre_is_refused(database, graded, new_browser):
    other = signed_in(new_browser, "examiner_sz01")
    assert other.get(f"/grading/attempts/{graded}/report").status_code == 403
    assert other.get(f"/api/grading/attempts/{graded}/report").status_code == 403
    assert other.post_json(f"/api/grading/attempts/{graded}/overrides",
                           {"item_id": "q02", "score": 1, "reason": "x"}).status_code == 403
    assert other.get("/api/grading/attempts/999999/report").status_code == 404


def test_supervisor_reads_but_cannot_act(database, graded, new_browser):
    supervisor = signed_in(new_browser, "supervisor_nj")
    assert supervisor.get(f"/api/grading/attempts/{graded}/report").json["report"]["report"]["total"] == HAND_TOTAL
    session_id = session_of(database, graded)
    assert supervisor.get(f"/api/grading/sessions/{session_id}/attempts").status_code == 200
    for path, body in ((f"/api/grading/attempts/{graded}/overrides", {"item_id": "q02", "score": 1, "reason": "x"}),
                       (f"/api/grading/attempts/{graded}/marks", {"item_id": "q02", "score": 1}),
                       (f"/api/grading/sessions/{session_id}/release", {}),
                       (f"/api/grading/sessions/{session_id}/regrades", {"sheet": corrected_key(), "reason": "x"})):
        assert supervisor.post_json(path, body).status_code == 403, path
    assert stored(database, graded)["released"] is False


def test_candidate_sees_only_their_own_released_report(database, graded, new_browser):
    owner = signed_in(new_browser, candidate_of(database, graded))
    assert owner.get(f"/api/my/reports/{graded}").status_code == 404               # not released yet
    assert owner.get(f"/grading/attempts/{graded}/report").status_code == 403       # staff pages are not theirs
    examiner = signed_in(new_browser, "examiner_nj01")
    assert examiner.post_json(f"/api/grading/sessions/{session_of(database, graded)}/release").json == {
        "released": 1, "waiting": 0}
    mine = owner.get(f"/api/my/reports/{graded}")
    assert mine.status_code == 200 and mine.json["report"]["total"] == HAND_TOTAL
    assert owner.get(f"/my/reports/{graded}").status_code == 200
    assert "cut by" not in owner.get(f"/my/reports/{graded}").get_data(as_text=True)
    other_attempt = submitted_theory_attempt(database, seat=1, started=True)
    grade_all(database)
    examiner.post_json(f"/api/grading/sessions/{session_of(database, graded)}/release")
    assert owner.get(f"/api/my/reports/{other_attempt}").status_code == 404
    assert owner.get(f"/my/reports/{other_attempt}.pdf").status_code == 404
    assert owner.post_json(f"/api/my/reports/{other_attempt}/appeals",
                           {"items": ["q02"], "reason": "x"}).status_code == 404


def test_review_regrade_and_appeal_through_the_api(database, graded, new_browser):
    session_id = session_of(database, graded)
    examiner = signed_in(new_browser, "examiner_nj01")
    override = examiner.post_json(f"/api/grading/attempts/{graded}/overrides",
                                  {"item_id": "q17", "score": 1, "reason": "判断题答案更正前已确认"})
    assert override.status_code == 202 and override.json["status"] == "queued"
    bad = examiner.post_json(f"/api/grading/attempts/{graded}/overrides", {"item_id": "q17", "score": 1, "reason": ""})
    assert bad.status_code == 400 and bad.json["error"]["code"] == "grading.reason_required"
    grade_all(database)
    assert stored(database, graded)["total"] == HAND_TOTAL + 1                       # q17 overridden: 9 + 1

    preview = examiner.post_json(f"/api/grading/sessions/{session_id}/regrades",
                                 {"sheet": corrected_key(), "reason": "q02 答案更正为 A"})
    assert preview.status_code == 200
    assert [(c["old_total"], c["new_total"]) for c in preview.json["changes"]] == [(10, 11)]   # q02 A now right
    assert grade_all(database) == {} and stored(database, graded)["total"] == 10
    committed = examiner.post_json(f"/api/grading/regrades/{preview.json['run_id']}/commit")
    assert committed.status_code == 202 and committed.json["jobs"] == 1
    grade_all(database)
    assert stored(database, graded)["total"] == 11 and stored(database, graded)["version"] == 2

    examiner.post_json(f"/api/grading/sessions/{session_id}/release")
    owner = signed_in(new_browser, candidate_of(database, graded))
    filed = owner.post_json(f"/api/my/reports/{graded}/appeals", {"items": ["q15"], "reason": "B 选项应给分"})
    assert filed.status_code == 201 and filed.json["status"] == "filed"
    appeal_id = filed.json["id"]
    assert examiner.post_json(f"/api/grading/appeals/{appeal_id}/reviews",
                              {"item_id": "q15", "score": 1}).json["error"]["code"] == "grading.appeal_own_grading"
    with_attempt(database, graded, lambda db, a: extra_examiner(db, "examiner_nj01b"))
    second = signed_in(new_browser, "examiner_nj01b")
    reviewed = second.post_json(f"/api/grading/appeals/{appeal_id}/reviews", {"item_id": "q15", "score": 0,
                                                                            "note": "含错误选项 B，不得分"})
    assert reviewed.status_code == 200 and reviewed.json["status"] == "under_review"
    decided = second.post_json(f"/api/grading/appeals/{appeal_id}/decision",
                               {"upheld": False, "reason": "多选题含错误选项不得分，维持原评分"})
    assert decided.json["status"] == "rejected"
    assert grade_all(database) == {} and stored(database, graded)["total"] == 11
    assert signed_in(new_browser, "supervisor_nj").get(f"/api/grading/appeals/{appeal_id}").json["status"] == "rejected"
    with database.session(write=False) as db:
        assert db.execute(select(Appeal)).scalar_one().decision_reason.startswith("多选题")


def test_openapi_lists_the_grading_routes(app, client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert "post" in paths["/api/grading/attempts/{attempt_id}/marks"]
    assert "post" in paths["/api/my/reports/{attempt_id}/appeals"]


def test_session_page_is_for_staff_of_the_session(database, graded, new_browser):
    with database.session(write=False) as db:
        session_id = db.execute(select(ExamSession.id).order_by(ExamSession.id)).scalars().first()
    assert signed_in(new_browser, "examiner_sz01").get(f"/grading/sessions/{session_id}").status_code == 403
    assert signed_in(new_browser, candidate_of(database, graded)).get(
        f"/grading/sessions/{session_id}").status_code == 403


def test_examiners_mark_and_override_from_the_report_page(database, new_browser):
    attempt_id = submitted_practical_attempt(database)
    grade_all(database)
    examiner = signed_in(new_browser, "examiner_nj01")
    page = examiner.get(f"/grading/attempts/{attempt_id}/report").get_data(as_text=True)
    assert 'id="mark-form"' in page and 'value="Q01"' in page
    assert examiner.post(f"/grading/attempts/{attempt_id}/marks", {"item_id": "Q01", "score": "3"}).status_code == 302
    refused = examiner.post(f"/grading/attempts/{attempt_id}/overrides", {"item_id": "P03", "score": "3", "reason": ""})
    assert refused.status_code == 400
    assert examiner.post(f"/grading/attempts/{attempt_id}/overrides",
                         {"item_id": "P03", "score": "3", "reason": "空运行已由考评员目视确认"}).status_code == 302
    grade_all(database)
    result = stored(database, attempt_id)
    # Q01 has 1 of the 2 confirmations it needs (still pending, 0); P03 overridden to 3: 94 + 3 = 97.
    assert result["report"]["pending"] and result["total"] == 97
    supervisor = signed_in(new_browser, "supervisor_nj")
    assert 'id="mark-form"' not in supervisor.get(f"/grading/attempts/{attempt_id}/report").get_data(as_text=True)
    assert supervisor.post(f"/grading/attempts/{attempt_id}/marks", {"item_id": "Q01", "score": "3"}).status_code == 403
