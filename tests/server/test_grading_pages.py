"""Grading pages: the overview links every attempt, the report page's review (confirmations, findings, release),
the regrade page (upload, dry run, commit), appeals from the candidate's report to another examiner's decision,
and the candidate's home listing released reports. Roles and objects are checked on every route."""
from __future__ import annotations

import io
import json

from .test_grading_views import candidate_of, session_of, signed_in
from .test_scoring import (HAND_TOTAL, corrected_key, extra_examiner, grade_all, stored, submitted_practical_attempt,
                           submitted_theory_attempt, with_attempt)


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_overview_links_every_attempt_even_before_grading(database, new_browser):
    attempt_id = submitted_theory_attempt(database)           # queued, not graded yet
    examiner = signed_in(new_browser, "examiner_nj01")
    overview = html(examiner.get(f"/grading/sessions/{session_of(database, attempt_id)}"))
    assert f'href="/grading/attempts/{attempt_id}/report"' in overview and "未评分" in overview
    assert 'id="regrade-link"' in overview and 'id="appeals-link"' in overview
    page = html(examiner.get(f"/grading/attempts/{attempt_id}/report"))
    assert 'id="ungraded"' in page and "排队中" in page
    assert 'id="regrade-link"' not in html(signed_in(new_browser, "supervisor_nj").get(
        f"/grading/sessions/{session_of(database, attempt_id)}"))


def test_report_page_shows_confirmations_records_findings_and_refuses_an_incomplete_release(database, new_browser):
    attempt_id = submitted_practical_attempt(database)
    grade_all(database)
    examiner = signed_in(new_browser, "examiner_nj01")
    assert examiner.post(f"/grading/attempts/{attempt_id}/marks", {"item_id": "Q01", "score": "3"}).status_code == 302
    page = html(examiner.get(f"/grading/attempts/{attempt_id}/report"))
    assert "已评 1/3 人，需 2 人一致" in page and '<span class="mark">考评员（南京技师学院）: 3</span>' in page
    assert 'id="finding-form"' in page and 'id="release-report"' not in page       # pending: no release button
    assert examiner.post(f"/grading/attempts/{attempt_id}/release").status_code == 409
    assert examiner.post(f"/grading/attempts/{attempt_id}/findings",
                         {"kind": "civility", "description": "量具随意摆放"}).status_code == 302
    grade_all(database)
    # Reference run 94, Q01 still pending (0), one civility violation −3: 91.
    result = stored(database, attempt_id)
    assert result["total"] == 91 and result["report"]["civility_deduction"] == 3
    assert "量具随意摆放" in html(examiner.get(f"/grading/attempts/{attempt_id}/report"))
    supervisor = signed_in(new_browser, "supervisor_nj")
    assert 'id="finding-form"' not in html(supervisor.get(f"/grading/attempts/{attempt_id}/report"))
    assert supervisor.post(f"/grading/attempts/{attempt_id}/findings",
                           {"kind": "civility", "description": "x"}).status_code == 403


def test_regrade_page_uploads_a_corrected_key_previews_and_commits(database, new_browser):
    attempt_id = submitted_theory_attempt(database)
    grade_all(database)
    session_id = session_of(database, attempt_id)
    examiner = signed_in(new_browser, "examiner_nj01")
    assert 'id="regrade-form"' in html(examiner.get(f"/grading/sessions/{session_id}/regrade"))
    sheet = examiner.get(f"/grading/attempts/{attempt_id}/sheet.json")
    assert sheet.mimetype == "application/json" and json.loads(sheet.data)["version"] == 1
    upload = io.BytesIO(json.dumps(corrected_key()).encode())
    preview = examiner.post(f"/grading/sessions/{session_id}/regrade",
                            {"sheet_file": (upload, "key-v2.json"), "reason": "q02 答案更正为 A"},
                            content_type="multipart/form-data")
    assert preview.status_code == 302
    run_page = html(examiner.get(preview.headers["Location"]))
    # The candidate answered q02 A: 9 → 10, +1, q02 0 → 1; nothing is committed yet.
    assert '<td class="old">9</td>' in run_page and '<td class="new">10</td>' in run_page
    assert '<td class="delta">+1</td>' in run_page and "q02 0→1" in run_page
    assert grade_all(database) == {} and stored(database, attempt_id)["total"] == HAND_TOTAL
    supervisor = signed_in(new_browser, "supervisor_nj")
    assert 'id="regrade-commit"' not in html(supervisor.get(preview.headers["Location"]))
    assert supervisor.get(f"/grading/sessions/{session_id}/regrade").status_code == 403
    assert supervisor.post(preview.headers["Location"] + "/commit").status_code == 403
    assert examiner.post(preview.headers["Location"] + "/commit").status_code == 302
    grade_all(database)
    assert (stored(database, attempt_id)["total"], stored(database, attempt_id)["version"]) == (10, 2)
    bad = examiner.post(f"/grading/sessions/{session_id}/regrade", {"sheet_json": "{not json", "reason": "x"})
    assert bad.status_code == 400


def test_appeal_from_the_candidates_report_to_another_examiners_decision(database, new_browser):
    attempt_id = submitted_theory_attempt(database)
    grade_all(database)
    examiner = signed_in(new_browser, "examiner_nj01")
    examiner.post(f"/grading/attempts/{attempt_id}/overrides", {"item_id": "q17", "score": "1", "reason": "已确认"})
    grade_all(database)
    assert examiner.post(f"/grading/attempts/{attempt_id}/release").status_code == 302
    owner = signed_in(new_browser, candidate_of(database, attempt_id))
    home = html(owner.get("/home/candidate"))
    assert f'href="/my/reports/{attempt_id}"' in home and "10" in home            # 9 + 1 (q17 overridden)
    assert 'id="appeal-form"' in html(owner.get(f"/my/reports/{attempt_id}"))
    filed = owner.post(f"/my/reports/{attempt_id}/appeals", {"items": ["q15"], "reason": "B 选项应给分"})
    assert filed.status_code == 302
    mine = html(owner.get(f"/my/reports/{attempt_id}"))
    assert 'data-status="filed"' in mine and 'id="appeal-form"' not in mine      # one open appeal at a time

    session_id = session_of(database, attempt_id)
    listing = html(examiner.get(f"/grading/sessions/{session_id}/appeals"))
    assert 'data-status="filed"' in listing and "B 选项应给分" in listing
    appeal_id = int(listing.split('data-appeal="')[1].split('"')[0])
    own = html(examiner.get(f"/grading/appeals/{appeal_id}"))                  # they overrode q17: not theirs
    assert 'id="appeal-own-grading"' in own and 'id="appeal-review-form"' not in own
    assert examiner.post(f"/grading/appeals/{appeal_id}/reviews", {"item_id": "q15", "score": "2"}).status_code == 403

    with_attempt(database, attempt_id, lambda db, a: extra_examiner(db, "examiner_nj01b"))
    second = signed_in(new_browser, "examiner_nj01b")
    assert 'id="appeal-review-form"' in html(second.get(f"/grading/appeals/{appeal_id}"))
    assert second.post(f"/grading/appeals/{appeal_id}/reviews",
                       {"item_id": "q15", "score": "1", "note": "少选给一半"}).status_code == 302
    assert second.post(f"/grading/appeals/{appeal_id}/decision",
                       {"upheld": "yes", "reason": "B 为正确选项之外，按少选计"}).status_code == 302
    grade_all(database)
    # q15 (0 of 2) upheld at the re-grade's 1: 10 + 1 = 11, still released to the candidate.
    assert stored(database, attempt_id)["total"] == 11 and stored(database, attempt_id)["released"]
    mine = html(owner.get(f"/my/reports/{attempt_id}"))
    assert 'data-status="upheld"' in mine and "按少选计" in mine and 'id="report-total">11<' in mine

    assert owner.get(f"/grading/appeals/{appeal_id}").status_code == 403
    assert owner.get(f"/grading/sessions/{session_id}/appeals").status_code == 403
    assert signed_in(new_browser, "examiner_sz01").get(f"/grading/appeals/{appeal_id}").status_code == 403
    assert signed_in(new_browser, "supervisor_nj").post(f"/grading/appeals/{appeal_id}/decision",
                                                        {"upheld": "no", "reason": "x"}).status_code == 403


def test_a_candidate_appeals_only_their_own_released_report(database, new_browser):
    attempt_id = submitted_theory_attempt(database)
    other_id = submitted_theory_attempt(database, seat=1, started=True)
    grade_all(database)
    owner = signed_in(new_browser, candidate_of(database, attempt_id))
    assert owner.post(f"/my/reports/{attempt_id}/appeals", {"items": ["q15"], "reason": "x"}).status_code == 404
    assert "暂无已发布的成绩" in html(owner.get("/home/candidate"))
    signed_in(new_browser, "examiner_nj01").post(f"/grading/sessions/{session_of(database, attempt_id)}/release")
    assert owner.post(f"/my/reports/{other_id}/appeals", {"items": ["q15"], "reason": "x"}).status_code == 404
    assert f'href="/my/reports/{other_id}"' not in html(owner.get("/home/candidate"))


def test_the_review_pages_speak_english_too(database, new_browser):
    attempt_id = submitted_theory_attempt(database)
    grade_all(database)
    examiner = signed_in(new_browser, "examiner_nj01")
    assert examiner.post("/language", {"locale": "en", "next": "/"}).status_code == 302
    session_id = session_of(database, attempt_id)
    assert "Regrade" in html(examiner.get(f"/grading/sessions/{session_id}"))
    report = html(examiner.get(f"/grading/attempts/{attempt_id}/report"))
    assert "Examiners&#39; review" in report and "Confirm and release to the candidate" in report
    assert "Upload or paste the corrected score sheet" in html(examiner.get(f"/grading/sessions/{session_id}/regrade"))
