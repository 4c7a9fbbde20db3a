"""Grading use cases: automatic grading on submission, examiner review (2 of 3), overrides, regrade preview and
commit, release, appeals. The helpers here build real attempts through delivery and are shared with
test_grading_jobs.py and test_grading_views.py."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from exam_server import audit, delivery, grading_jobs, papers, practical, scoring
from exam_server.accounts import find_user
from exam_server.errors import UserError
from exam_server.models import (AuditEvent, ExamPart, ExamSession, GradingJob, Organisation, Role, RoleAssignment,
                                ScoreReport, TraceEvent, User, utcnow)
from simulators.core import trace

from .conftest import PAPER_KEY

TRACE = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "lathe_zj01" / "trace_reference.jsonl"

# Demo paper keys: q01–q12 single (1 point) B B B C B B B A B B B B; q13 ABD, q14 ABC, q15 ACD multiple (2 points,
# a subset without a wrong option earns half); q16 F, q17 T, q18 F, q19 T (1 point); q20 numeric 21.4 ± 0.01 (2).
ANSWERS = {"q01": "B", "q02": "A", "q03": "B", "q04": "C", "q13": ["A", "B"], "q14": ["A", "B", "C"],
           "q15": ["A", "B"], "q16": False, "q17": False, "q20": 21.405}
# Hand count: q01 1 + q02 0 + q03 1 + q04 1 = 3; q13 subset 0.5 × 2 = 1; q14 2; q15 wrong option 0;
# q16 1; q17 0; q20 |21.405 − 21.4| = 0.005 ≤ 0.01: 2. Total 3 + 1 + 2 + 0 + 1 + 0 + 2 = 9.
HAND_TOTAL = 9.0


def examiner(db, username="examiner_nj01"):
    return find_user(db, username)


def extra_examiner(db, username: str, org_code: str = "JS-NJ-01") -> User:
    """Another examiner of a station (the demo has one per station; a room has three)."""
    org = db.execute(select(Organisation).where(Organisation.code == org_code)).scalar_one()
    user = User(username=username, display_name=username, password_hash=find_user(db, "examiner_nj01").password_hash,
                organisation=org, created_at=utcnow())
    user.role_assignments = [RoleAssignment(role=Role.examiner, organisation=org, granted_at=utcnow())]
    db.add(user)
    db.flush()
    return user


def _start(db, session: ExamSession, now) -> None:
    staff = examiner(db, "examiner_nj01")
    delivery.open_check_in(db, session, staff, now)
    delivery.start_session(db, session, staff, now, PAPER_KEY)


def submitted_theory_attempt(database, seat: int = 0, answers: dict | None = None, started: bool = False):
    """Start the demo theory session (unless started), answer through apply_save, submit, queue grading.
    Returns the attempt id."""
    now = utcnow()
    with database.transaction() as db:
        session = db.execute(select(ExamSession).where(ExamSession.part == ExamPart.theory)).scalars().first()
        if not started:
            _start(db, session, now)
        entry = session.roster[seat]
        attempt = delivery.start_attempt(db, entry, now)
        for n, (item, value) in enumerate(sorted((answers if answers is not None else ANSWERS).items()), start=1):
            delivery.apply_save(db, attempt, delivery.SaveOp(uuid.uuid4().hex, n, item, value), now)
        delivery.submit(db, attempt, entry.candidate, now)
        scoring.on_attempt_closed(db, attempt, now)
        return attempt.id


def submitted_practical_attempt(database, seat: int = 0, started: bool = False) -> int:
    """The demo lathe session: the task's reference trace stored as the candidate's, submitted at its end."""
    events = trace.parse_jsonl(TRACE.read_text(encoding="utf-8"))
    now = utcnow()
    with database.transaction() as db:
        session = db.execute(select(ExamSession).where(ExamSession.part == ExamPart.practical)
                             .order_by(ExamSession.id)).scalars().first()
        if not started:
            _start(db, session, now)
        entry = session.roster[seat]
        attempt = delivery.start_attempt(db, entry, now)
        practical.assign_task(db, attempt, now)
        start_ms = int(attempt.started_at.timestamp() * 1000)
        for e in events:
            db.add(TraceEvent(attempt_id=attempt.id, seq=e["seq"], op_id=uuid.uuid4().hex, type=e["type"],
                              payload=json.dumps(e["payload"]), t_client=e["t_client"],
                              t_server=start_ms + e["t_client"], received_at=now))
        db.flush()
        end = attempt.started_at + timedelta(milliseconds=events[-1]["t_client"] + 1000)
        delivery.submit(db, attempt, entry.candidate, end)
        scoring.on_attempt_closed(db, attempt, end)
        return attempt.id


def grade_all(database, clock=utcnow) -> dict:
    return grading_jobs.run_pending(database, "test-worker", clock)


def stored(database, attempt_id: int) -> dict:
    with database.session(write=False) as db:
        row = db.execute(select(ScoreReport).where(ScoreReport.attempt_id == attempt_id,
                                                   ScoreReport.superseded_at.is_(None))).scalar_one()
        return {"total": row.total, "revision": row.revision, "version": row.sheet_version,
                "report": json.loads(row.report_json), "released": row.released_at is not None}


def audit_actions(database, attempt_id: int) -> list[str]:
    with database.session(write=False) as db:
        return list(db.execute(select(AuditEvent.action).where(AuditEvent.object_type == "attempt",
                                                               AuditEvent.object_id == str(attempt_id))
                               .order_by(AuditEvent.seq)).scalars())


def with_attempt(database, attempt_id: int, work):
    from exam_server.models import Attempt

    with database.transaction() as db:
        return work(db, db.get(Attempt, attempt_id))


# ---- theory ------------------------------------------------------------------------------------------------

def test_submitted_theory_attempt_is_graded_to_the_hand_count(database):
    attempt_id = submitted_theory_attempt(database)
    assert grade_all(database) == {"done": 1}
    result = stored(database, attempt_id)
    assert result["total"] == HAND_TOTAL
    rows = {r["id"]: r["score"] for r in result["report"]["rows"]}
    assert (rows["q02"], rows["q13"], rows["q15"], rows["q20"]) == (0, 1, 0, 2)
    assert result["report"]["passed"] is False and result["version"] == 1
    assert "score_report_stored" in audit_actions(database, attempt_id)
    with database.session(write=False) as db:
        assert audit.verify(db).ok


def test_grading_is_queued_once_per_sheet_version_and_inputs(database):
    attempt_id = submitted_theory_attempt(database)
    now = utcnow()
    first = with_attempt(database, attempt_id, lambda db, a: scoring.enqueue_grading(db, a, now).id)
    again = with_attempt(database, attempt_id, lambda db, a: scoring.enqueue_grading(db, a, now).id)
    assert first == again
    with database.session(write=False) as db:
        assert db.execute(select(func.count()).select_from(GradingJob)).scalar_one() == 1


def test_open_attempt_is_not_graded(database):
    now = utcnow()
    with database.transaction() as db:
        session = db.execute(select(ExamSession).where(ExamSession.part == ExamPart.theory)).scalars().first()
        _start(db, session, now)
        attempt = delivery.start_attempt(db, session.roster[0], now)
        with pytest.raises(UserError) as refused:
            scoring.enqueue_grading(db, attempt, now)
    assert refused.value.key == "grading.not_submitted"


def test_theory_override_with_reason_is_applied_and_audited(database):
    attempt_id = submitted_theory_attempt(database)
    grade_all(database)
    staff_id = with_attempt(database, attempt_id, lambda db, a: examiner(db).id)
    with pytest.raises(UserError) as no_reason:
        with_attempt(database, attempt_id, lambda db, a: scoring.override(db, a, db.get(User, staff_id), "q02", 1,
                                                                         "  ", utcnow()))
    assert no_reason.value.key == "grading.reason_required"
    with_attempt(database, attempt_id, lambda db, a: scoring.override(
        db, a, db.get(User, staff_id), "q02", 1, "题干有歧义，A 亦可", utcnow()))
    grade_all(database)
    result = stored(database, attempt_id)
    q02 = next(r for r in result["report"]["rows"] if r["id"] == "q02")
    assert q02["score"] == 1 and q02["source"] == "override" and "题干有歧义" in q02["provenance"]
    assert result["total"] == HAND_TOTAL + 1 and result["revision"] == 2      # 9 + 1 for q02
    actions = audit_actions(database, attempt_id)
    assert actions.index("score_overridden") < len(actions) - 1 and actions[-1] == "score_report_stored"


def test_override_refuses_a_score_above_the_items_points(database):
    attempt_id = submitted_theory_attempt(database)
    with pytest.raises(UserError) as refused:
        with_attempt(database, attempt_id, lambda db, a: scoring.override(db, a, examiner(db), "q01", 1.5, "x",
                                                                         utcnow()))
    assert refused.value.key == "grading.bad_score"


# ---- regrade -----------------------------------------------------------------------------------------------

def corrected_key(q02_key: str = "A") -> dict:
    paper = papers.demo_paper()
    for item in paper["items"]:
        if item["id"] == "q02":
            item["key"] = q02_key
    return {**paper, "version": 2}


def test_regrade_preview_lists_changes_and_commits_nothing_until_confirmed(database):
    a = submitted_theory_attempt(database, seat=0)                                    # answered q02 A
    b = submitted_theory_attempt(database, seat=1, answers={"q02": "B"}, started=True)  # answered q02 B: 1 point
    grade_all(database)
    assert (stored(database, a)["total"], stored(database, b)["total"]) == (9, 1)
    now = utcnow()

    def preview(db, attempt):
        run, diff = scoring.preview_regrade(db, attempt.roster_entry.exam_session, corrected_key(), "q02 答案更正为 A",
                                            examiner(db), now)
        return run.id, diff

    run_id, diff = with_attempt(database, a, preview)
    # Key of q02 corrected from B to A: candidate a gains 1 (9 → 10), b loses 1 (1 → 0).
    changes = [(c["attempt_id"], c["old_total"], c["new_total"], c["delta"]) for c in diff]
    assert changes == [(a, 9, 10, 1), (b, 1, 0, -1)]
    assert diff[0]["items"] == [{"id": "q02", "old": 0, "new": 1}]
    assert grade_all(database) == {}                       # nothing queued by a preview
    assert (stored(database, a)["total"], stored(database, b)["total"]) == (9, 1)

    from exam_server.models import RegradeRun

    queued = with_attempt(database, a, lambda db, _: scoring.commit_regrade(db, db.get(RegradeRun, run_id),
                                                                           examiner(db), utcnow()))
    assert queued == 2
    assert grade_all(database) == {"done": 2}
    assert (stored(database, a)["total"], stored(database, b)["total"]) == (10, 0)
    assert stored(database, a)["version"] == 2
    with pytest.raises(UserError) as twice:
        with_attempt(database, a, lambda db, _: scoring.commit_regrade(db, db.get(RegradeRun, run_id), examiner(db),
                                                                      utcnow()))
    assert twice.value.key == "grading.already_committed"


def test_regrade_with_the_same_version_is_refused(database):
    a = submitted_theory_attempt(database)
    grade_all(database)
    with pytest.raises(UserError) as refused:
        with_attempt(database, a, lambda db, at: scoring.preview_regrade(
            db, at.roster_entry.exam_session, {**corrected_key(), "version": 1}, "x", examiner(db), utcnow()))
    assert refused.value.key == "grading.version_not_newer"


# ---- practical: manual items, 2 of 3 ------------------------------------------------------------------------

@pytest.fixture
def practical_attempt(database) -> int:
    attempt_id = submitted_practical_attempt(database)
    assert grade_all(database) == {"done": 1}
    return attempt_id


def test_practical_attempt_is_graded_with_the_manual_item_pending(database, practical_attempt):
    result = stored(database, practical_attempt)
    rows = {r["id"]: r for r in result["report"]["rows"]}
    # The reference trace has no trial run (P03, 3 points lost) and Q01 (3 points, 2 of 3 examiners) is pending:
    # 100 − 3 − 3 = 94 (tests/grading/test_golden_lathe.py: the same trace with Q01 confirmed loses only P03).
    assert rows["Q01"]["source"] == "pending" and rows["P03"]["score"] == 0
    assert result["total"] == 94 and result["report"]["pending"] is True


def test_manual_item_needs_two_of_three_examiners(database, practical_attempt):
    ids = with_attempt(database, practical_attempt,
                       lambda db, a: [examiner(db).id, extra_examiner(db, "examiner_nj01b").id,
                                      extra_examiner(db, "examiner_nj01c").id,
                                      extra_examiner(db, "examiner_nj01d").id])

    def mark(user_id: int, score: float):
        with_attempt(database, practical_attempt,
                     lambda db, a: scoring.add_mark(db, a, db.get(User, user_id), "Q01", score, "", utcnow()))
        grade_all(database)
        return stored(database, practical_attempt)

    first = mark(ids[0], 3)
    assert first["report"]["pending"] and first["total"] == 94                  # 1 of 2 confirmations
    second = mark(ids[1], 2)
    assert second["report"]["pending"] and second["total"] == 94                # 3 and 2 do not agree
    third = mark(ids[2], 3)
    assert not third["report"]["pending"] and third["total"] == 97              # 3, 3 agree: Q01 = 3; 94 + 3
    with pytest.raises(UserError) as full:
        mark(ids[3], 3)
    assert full.value.key == "grading.marks_full"
    with pytest.raises(UserError) as not_manual:
        with_attempt(database, practical_attempt,
                     lambda db, a: scoring.add_mark(db, a, examiner(db), "P01", 3, "", utcnow()))
    assert not_manual.value.key == "grading.not_manual"
    assert audit_actions(database, practical_attempt).count("manual_item_marked") == 3


def test_practical_override_of_an_automatic_item(database, practical_attempt):
    with_attempt(database, practical_attempt, lambda db, a: scoring.override(
        db, a, examiner(db), "P03", 3, "单段运行已在监考记录中确认", utcnow()))
    grade_all(database)
    row = next(r for r in stored(database, practical_attempt)["report"]["rows"] if r["id"] == "P03")
    assert row["score"] == 3 and row["source"] == "override" and "trial_run" in row["provenance"]
    assert stored(database, practical_attempt)["total"] == 97                     # 94 + 3


# ---- release and appeals -------------------------------------------------------------------------------------

def release_session(database, attempt_id: int) -> dict:
    return with_attempt(database, attempt_id, lambda db, a: scoring.release(db, a.roster_entry.exam_session,
                                                                            examiner(db), utcnow()))


def test_pending_reports_are_not_released(database, practical_attempt):
    assert release_session(database, practical_attempt) == {"released": 0, "waiting": 1}
    assert stored(database, practical_attempt)["released"] is False


def test_appeal_regraded_by_another_examiner_then_decided(database):
    attempt_id = submitted_theory_attempt(database)
    grade_all(database)
    assert release_session(database, attempt_id) == {"released": 1, "waiting": 0}
    # The room's examiner graded q02 by hand (an override), so the appeal goes to others.
    with_attempt(database, attempt_id,
                 lambda db, a: scoring.override(db, a, examiner(db), "q02", 0, "复核维持", utcnow()))
    grade_all(database)

    def file(db, a):
        return scoring.file_appeal(db, a, a.roster_entry.candidate, ["q02"], "我认为 A 也正确", utcnow()).id

    appeal_id = with_attempt(database, attempt_id, file)
    from exam_server.models import Appeal

    with pytest.raises(UserError) as own:
        with_attempt(database, attempt_id, lambda db, a: scoring.review_appeal(
            db, db.get(Appeal, appeal_id), examiner(db), "q02", 1, "", utcnow()))
    assert own.value.key == "grading.appeal_own_grading"
    other = with_attempt(database, attempt_id, lambda db, a: extra_examiner(db, "examiner_nj01b").id)
    with pytest.raises(UserError) as unreviewed:
        with_attempt(database, attempt_id, lambda db, a: scoring.decide_appeal(
            db, db.get(Appeal, appeal_id), db.get(User, other), True, "成立", utcnow()))
    assert unreviewed.value.key == "grading.appeal_unreviewed"
    with_attempt(database, attempt_id, lambda db, a: scoring.review_appeal(
        db, db.get(Appeal, appeal_id), db.get(User, other), "q02", 1, "A 亦符合题意", utcnow()))
    decided = with_attempt(database, attempt_id, lambda db, a: scoring.decide_appeal(
        db, db.get(Appeal, appeal_id), db.get(User, other), True, "申诉成立，q02 给分", utcnow()).status)
    assert decided == "upheld"
    grade_all(database)
    result = stored(database, attempt_id)
    assert result["total"] == HAND_TOTAL + 1 and result["released"]       # 9 + 1 for q02, still released
    actions = audit_actions(database, attempt_id)
    assert [x for x in actions if x.startswith("appeal_")] == ["appeal_filed", "appeal_reviewed", "appeal_decided"]


def test_appeal_needs_a_released_report(database):
    attempt_id = submitted_theory_attempt(database)
    grade_all(database)
    with pytest.raises(UserError) as refused:
        with_attempt(database, attempt_id, lambda db, a: scoring.file_appeal(db, a, a.roster_entry.candidate,
                                                                            ["q02"], "x", utcnow()))
    assert refused.value.key == "grading.not_released"


def test_a_broken_sheet_never_refuses_a_submission(database, monkeypatch):
    def broken(db, attempt):
        raise ValueError("score sheet: items[0].points: must be a number")

    monkeypatch.setattr(scoring, "sheet_in_force", broken)
    attempt_id = submitted_theory_attempt(database)           # the submission commits all the same
    from exam_server.models import Attempt

    with database.session(write=False) as db:
        assert db.get(Attempt, attempt_id).submitted_at is not None
        assert db.execute(select(func.count()).select_from(GradingJob)).scalar_one() == 0


def test_examiner_findings_deduct_civility_up_to_the_cap_and_a_veto_voids(database, practical_attempt):
    def find(kind: str, text: str):
        with_attempt(database, practical_attempt,
                     lambda db, a: scoring.record_finding(db, a, examiner(db), kind, text, utcnow()))

    for n in range(4):
        find("civility", f"量具随意摆放 {n + 1}")
    grade_all(database)
    result = stored(database, practical_attempt)
    # LX-ZJ01: −3 per violation, at most −10: 4 × 3 = 12 → 10; 94 − 10 = 84.
    assert result["report"]["civility_deduction"] == 10 and result["total"] == 84
    find("veto", "未停主轴测量，工件飞出")
    grade_all(database)
    result = stored(database, practical_attempt)
    assert result["report"]["voided"] and result["total"] == 0 and not result["report"]["passed"]
    assert audit_actions(database, practical_attempt).count("examiner_finding_recorded") == 5


def test_findings_are_for_practical_attempts(database):
    attempt_id = submitted_theory_attempt(database)
    with pytest.raises(UserError) as refused:
        with_attempt(database, attempt_id,
                     lambda db, a: scoring.record_finding(db, a, examiner(db), "civility", "x", utcnow()))
    assert refused.value.key == "grading.bad_finding"
