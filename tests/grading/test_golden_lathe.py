"""Golden score reports for the lathe task LX-ZJ01 (examples/tasks/lathe_zj01) from edited reference traces.

The sheet (task.json): quality 70 (L01 8, L02 6, L03 8, L04 8 "超差0.01扣3分"; L05 5; L06 5 "超差0.02扣2分";
L07 8 gauge; L08, L09, L10 2; L11 3; L12 4 band 0.02/0.05; L13 2; L14 4 "降一级扣2分"; Q01 3 examiners),
program 10 (P01 3, P02 4, P03 3), operation 12 (O01 3, O02 4, O03 2, O04 3), safety 8 (S01 4 -2 each,
S02 4 veto), gate 60 % of quality before safety counts, overtime -1/min after 150 min.
The reference program (O1001.nc) finishes Ø47.98, Ø41.988, Ø31.988, Ø25.99, R5, C1 with T0202 under G42.
"""
import pytest

from .traces import edit_program, finishing_at, grade_events, load, set_offset, with_trial_run, without

MARKS = {"Q01": [3, 3, 2]}          # 2 of 3 examiners agree on 3


@pytest.fixture(scope="module")
def lathe():
    task, events = load("lathe_zj01")
    return task, with_trial_run(events)


def lost(report) -> dict:
    return {r.item_id: r.deduction for r in report.rows if r.deduction}


def test_perfect_run(lathe):
    task, events = lathe
    report = grade_events(task, events, MARKS)
    assert lost(report) == {} and report.total == 100 and report.passed
    row = report.row("L01")
    assert row.result == "47.980" and "cut by N200 (line 27) with T0202, G42" in row.provenance
    assert report.to_dict()["columns"] == {"index": "序号", "group": "考核项目", "requirement": "考核内容及要求",
                                           "points": "配分", "criterion": "评分标准", "result": "检测结果",
                                           "deduction": "扣分", "score": "得分"}


def test_reference_trace_without_trial_run_loses_p03():
    task, events = load("lathe_zj01")
    assert lost(grade_events(task, events, MARKS)) == {"P03": 3}


def test_out_of_tolerance_diameters(lathe):
    # T02 geometry X keyed 80.02 instead of 80 (diameter): every finished diameter +0.02.
    # Ø48 0/-0.039: 47.98 + 0.02 = 48.000, on the limit: 0. Ø42: 42.008, 0.008 over: 1 step -> -3.
    # Ø32 0/-0.025: 32.008 -> -3. Ø26 0/-0.021: 26.010, 0.010 over = 1 step -> -3. O02: X error 0.02 <= 0.02.
    task, events = lathe
    report = grade_events(task, set_offset(events, 2, "X", 80.02), MARKS)
    assert lost(report) == {"L02": 3, "L03": 3, "L04": 3} and report.total == 91
    assert report.row("L02").result == "42.008" and 13 in report.row("L02").seqs   # seq of the T02 X input


def test_forgotten_g42(lathe):
    # N100 without G42: the R0.4 nose follows the programmed path uncompensated.
    # R5 fillet (concave): the nose centre runs on R5, the surface is R5 + 0.4 = 5.4: 0.35 over -> 0 (-5).
    # C1 at 45°: the imaginary-tip error shortens each leg by r(1 - tan 22.5°) = 0.4 × 0.5858 = 0.234:
    # 0.766 < 0.8 -> 0 (-2) (the drawn chamfer runs 0.99 radially over 1 axially, so about 0.765).
    # The taper is offset parallel: its angle is unchanged. P02: -4.
    task, events = lathe
    report = grade_events(task, edit_program(events, "N100 G00 G42 X14.", "N100 G00 X14."), MARKS)
    assert lost(report) == {"L06": 5, "L13": 2, "P02": 4} and report.total == 89
    assert report.row("L06").result == "5.400" and report.row("L13").measured == pytest.approx(0.766, abs=3e-3)
    assert "not active on L05 (N160 (line 21) with T0202, G40)" in report.row("P02").provenance


def test_crash_voids_the_practical_part(lathe):
    # N40 rapids to X40 Z-5: into the bar. A collision is the veto item S02: total 0, not passed.
    task, events = lathe
    report = grade_events(task, edit_program(events, "N40 G00 X54. Z2.", "N40 G00 X40. Z-5."), MARKS)
    assert report.voided and report.total == 0 and not report.passed
    assert report.row("S02").score == 0 and "rapid_into_stock" in report.row("S02").provenance
    crash_seq = report.facts["crashes"][0]["seq"]
    assert report.row("S02").seqs == (crash_seq,) and "N40 (line 9) with T0101" in report.row("S01").provenance


def test_overtime(lathe):
    # last event at 160 min: 10 min past the 150 min limit, -1 per minute -> 90
    task, events = lathe
    report = grade_events(task, finishing_at(events, 160), MARKS)
    assert report.time_deduction == 10 and report.total == 90 and lost(report) == {}


def test_skipped_reference_return(lathe):
    # No REF: cycle start raises PS0224, nothing is machined. Every measured item fails (raw Ø50 bar);
    # Q01 (examiners, 0) -> quality 0 < 42: the safety group (8) does not count.
    # Kept: P01 3 (program stored, M30), P03 3 (trial run switches on), O03 2 (offsets right), O04 3 -> 11.
    task, events = lathe
    report = grade_events(task, without(events, "ref_return"), {"Q01": [0, 0, 0]})
    kept = {r.item_id: r.score for r in report.rows if r.score}
    assert kept == {"P01": 3, "P03": 3, "O03": 2, "O04": 3} and report.total == 11 and not report.gate["reached"]
    assert "PS0224" in [a["code"] for a in report.facts["alarms"]]
    assert report.row("O01").result == "未回参考点"
