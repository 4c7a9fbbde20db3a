"""Grading wired to the rest: theory overrides in the pure core, misconduct sanctions on grading and regrade,
released reports feeding the candidate's result, graded attempts feeding a competition round's board."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from exam_server import competitions, monitoring, scoring
from exam_server.accounts import find_user
from exam_server.models import Attempt, CompetitionScoreEvent, ExamPart, ExamSession, Organisation, PartScore, utcnow
from grading import TheorySubmission, answer_key_from_dict, grade, regrade_diff

from .test_grading_views import signed_in
from .test_scoring import (HAND_TOTAL, corrected_key, grade_all, stored, submitted_practical_attempt,
                           submitted_theory_attempt, with_attempt)

# Every demo item answered right (keys in test_scoring): 12 single × 1 + 3 multiple × 2 + 4 true/false × 1
# + 1 numeric × 2 = 24 points.
ALL_RIGHT = {**{f"q{n:02d}": k for n, k in enumerate("BBBCBBBABBBB", start=1)},
             "q13": ["A", "B", "D"], "q14": ["A", "B", "C"], "q15": ["A", "C", "D"],
             "q16": False, "q17": True, "q18": False, "q19": True, "q20": 21.4}
ALL_RIGHT_TOTAL = 24.0


def sanction(database, attempt_id: int, tier: str) -> None:
    """A signed misconduct record of the tier (signing calls the grading hook itself)."""
    def work(db, attempt):
        examiner, now = find_user(db, "examiner_nj01"), utcnow()
        record = monitoring.record_misconduct(db, attempt, tier, "终考信号后继续作答", {}, examiner, now)
        monitoring.sign_misconduct(db, record, examiner, now)
    with_attempt(database, attempt_id, work)


def examiner_override(database, attempt_id: int, item: str, score: float, reason: str) -> None:
    with_attempt(database, attempt_id, lambda db, a: scoring.override(db, a, find_user(db, "examiner_nj01"), item,
                                                                     score, reason, utcnow()))


# ---- theory overrides in the pure core ---------------------------------------------------------------------

def test_a_theory_override_is_applied_by_the_core_like_a_practical_one():
    key = answer_key_from_dict({"id": "K", "version": 1, "items": [
        {"id": "a", "type": "single", "points": 2, "key": "B"}, {"id": "b", "type": "numeric", "points": 3,
                                                                 "key": 10, "tolerance": 0.1}]})
    # a answered C (0 of 2), overridden to 5: clamped to its 2 points; b 10.05 within ±0.1: 3. Total 5.
    report = grade(TheorySubmission({"a": "C", "b": 10.05}, overrides={"a": (5, "答案有歧义")}), key)
    row = report.row("a")
    assert (row.score, row.source, report.total) == (2.0, "override", 5.0)
    assert "答案有歧义" in row.provenance and "answer C" in row.provenance
    # A corrected key for b (10 → 11) changes b only; the overridden a stays 2 on both sides.
    corrected = answer_key_from_dict({**key.to_dict(), "version": 2, "items": [
        key.to_dict()["items"][0], {"id": "b", "type": "numeric", "points": 3, "key": 11, "tolerance": 0.1}]})
    submission = TheorySubmission({"a": "C", "b": 10.05}, overrides={"a": (5, "答案有歧义")})
    changes = regrade_diff({"c1": report}, corrected, {"c1": submission})
    assert [(c.old_total, c.new_total) for c in changes] == [(5.0, 2.0)]


# ---- misconduct sanctions ----------------------------------------------------------------------------------

def test_a_theory_sanction_takes_ten_points_on_grading_and_on_regrade(database):
    attempt_id = submitted_theory_attempt(database, answers=ALL_RIGHT)
    sanction(database, attempt_id, "continued_after_end")
    grade_all(database)
    report = stored(database, attempt_id)["report"]
    assert report["total"] == ALL_RIGHT_TOTAL - 10 and report["sanction_deduction"] == 10      # 24 − 10 = 14
    assert [s["tier"] for s in report["sanctions"]] == ["continued_after_end"]
    assert "违纪记录" in report["sanctions"][0]["record"] and "终考信号后继续作答" in report["notes"][-1]
    # The dry run applies it too: q02's key corrected to A makes the candidate's B wrong: 24 − 1 − 10 = 13.
    with database.transaction() as db:
        session = db.get(Attempt, attempt_id).roster_entry.exam_session
        _, diff = scoring.preview_regrade(db, session, corrected_key(), "q02 答案更正", find_user(db, "examiner_nj01"),
                                          utcnow())
    assert [(c["old_total"], c["new_total"]) for c in diff] == [(14.0, 13.0)]


def test_a_practical_sanction_takes_ten_percent(database, new_browser):
    attempt_id = submitted_practical_attempt(database)
    sanction(database, attempt_id, "continued_after_end")
    grade_all(database)
    report = stored(database, attempt_id)["report"]
    # The reference run scores 94 (test_grading_views); 10 % of it is 9.4: 84.6.
    assert report["total"] == 84.6 and report["sanctions"][0]["deduction"] == 9.4
    page = signed_in(new_browser, "supervisor_nj").get(f"/grading/attempts/{attempt_id}/report").get_data(as_text=True)
    assert 'id="report-sanctions"' in page and "违纪记录" in page and "−9.4" in page
    assert 'id="report-total">84.6<' in page


def test_a_voiding_sanction_after_grading_voids_the_report_and_names_the_record(database):
    attempt_id = submitted_theory_attempt(database)
    grade_all(database)
    assert stored(database, attempt_id)["total"] == HAND_TOTAL
    sanction(database, attempt_id, "void_subject")
    grade_all(database)
    report = stored(database, attempt_id)["report"]
    assert report["total"] == 0 and report["voided"] and not report["passed"]
    assert any("违纪记录" in reason and "取消本科目成绩" in reason for reason in report["void_reasons"])


# ---- results and competitions ------------------------------------------------------------------------------

def part_scores(database, attempt_id: int) -> list[tuple[str, int]]:
    with database.session(write=False) as db:
        candidate_id = db.get(Attempt, attempt_id).roster_entry.candidate_id
        return [(p.part, p.score_tenths) for p in db.execute(
            select(PartScore).where(PartScore.candidate_id == candidate_id).order_by(PartScore.id)).scalars()]


def test_release_feeds_the_result_and_a_later_grading_follows_it(database):
    attempt_id = submitted_theory_attempt(database)
    grade_all(database)
    assert part_scores(database, attempt_id) == []                       # graded, not released: nothing yet
    with_attempt(database, attempt_id, lambda db, a: scoring.release(
        db, a.roster_entry.exam_session, find_user(db, "examiner_nj01"), utcnow()))
    assert part_scores(database, attempt_id) == [("theory", 90)]         # 9 points = 90 tenths
    examiner_override(database, attempt_id, "q17", 1, "判断题答案更正前已确认")
    grade_all(database)
    assert part_scores(database, attempt_id) == [("theory", 90), ("theory", 100)]    # 9 + 1


def test_a_graded_attempt_reaches_the_competition_round_on_its_session(database):
    now = utcnow()
    with database.transaction() as db:
        session = db.execute(select(ExamSession).where(ExamSession.part == ExamPart.theory)).scalars().first()
        candidate = session.roster[0].candidate
        admin = find_user(db, "nj_admin")
        competition = competitions.create_competition(
            db, db.execute(select(Organisation).where(Organisation.code == "JS-NJ")).scalar_one(), "理论赛",
            starts_at=now + timedelta(minutes=1), ends_at=now + timedelta(hours=2), freeze_minutes=0,
            rounds=[{"key": "theory", "name": "理论", "part": "theory", "weight_percent": 100,
                     "exam_session_id": session.id}],
            chief_examiner=find_user(db, "examiner_nj01"), actor=admin, now=now)
        delegation = competitions.add_delegation(db, competition, "南京", "#000000", admin, now)
        competitions.register_entry(db, delegation, "N01", candidate.display_name, admin, now, (candidate,))
    attempt_id = submitted_theory_attempt(database)
    grade_all(database)
    examiner_override(database, attempt_id, "q17", 1, "判断题答案更正前已确认")
    grade_all(database)
    with database.session(write=False) as db:
        events = db.execute(select(CompetitionScoreEvent).order_by(CompetitionScoreEvent.id)).scalars().all()
        assert [(e.score_milli, e.source) for e in events] == [(9000, "grading"), (10000, "regrade")]
