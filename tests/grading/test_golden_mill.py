"""Golden score reports for the mill task MX-ZJ01 (examples/tasks/mill_zj01) from edited reference traces.

The sheet (task.json), after the Zhejiang 高级数控铣工 paper: quality 80 (M01 8 "超差0.01扣2分"; M02 8 band
≤0.005 free, ≤0.01 half; M03 6 and M04 10 "超差0.01扣2分"; M05, M06 6; M07, M08 5; M09 4; M10 6
"超差0.02扣2分"; M11, M12 4 "降一级扣一半"; Q13 8 examiners), safety 10 (S01 4 veto, S02 3, S03 3), equipment
10 (E01-E04 2, E05, E06 1); safety and equipment count once quality reaches 48; overtime -1 per 3 min after 240.
The reference program O2001 cuts the 72×72 R8 boss with T1 (Ø10, D1 = 5) under G41 in O2002 and the Ø30.016
pocket under G41 at N370.
"""
import pytest

from .traces import edit_program, finishing_at, grade_events, load, set_offset, with_trial_run, without

MARKS = {"Q13": [8, 8, 8]}


@pytest.fixture(scope="module")
def mill():
    task, events = load("mill_zj01")
    return task, with_trial_run(events)


def lost(report) -> dict:
    return {r.item_id: r.deduction for r in report.rows if r.deduction}


def test_perfect_run(mill):
    task, events = mill
    report = grade_events(task, events, MARKS)
    assert lost(report) == {} and report.total == 100 and report.passed
    assert "N60 (line 77) with T1, G41" in report.row("M01").provenance


def test_out_of_tolerance_boss_and_pocket(mill):
    # D1 keyed 4.98 instead of 5: the tool runs 0.02 nearer every compensated wall.
    # Boss 72 - 2×0.02 = 71.96: 0.01 under 71.97 -> M01 1 step -> -2; M02 band: 0.01 -> half -> -4.
    # Pocket 30.016 + 0.04 = 30.056: 0.023 over 30.033 -> 3 steps -> -6.
    # R8 corner: path radius 8 + 4.98, cut radius 12.98 - 5 = 7.98, in ±0.05. E03: D error 0.02 <= 0.02.
    task, events = mill
    report = grade_events(task, set_offset(events, "1", "D", 4.98), MARKS)
    assert lost(report) == {"M01": 2, "M02": 4, "M04": 6} and report.total == 88
    assert report.row("M01").result == "71.960" and report.row("M04").result == "30.056"


def test_forgotten_g41(mill):
    # O2002 N10 without G41: the tool centre runs on the drawn boss, 72 - 10 = 62 wide -> M01, M02 0 (-16);
    # the R8 corner becomes 8 - 5 = 3 -> M10 0 (-6); E04 -2. The pocket (G41 at N370 in O2001) is unchanged.
    task, events = mill
    report = grade_events(task, edit_program(events, "N10 G41 G01 X-36. Y-28. D1", "N10 G01 X-36. Y-28. D1"),
                          MARKS)
    assert lost(report) == {"M01": 8, "M02": 8, "M10": 6, "E04": 2} and report.total == 76
    assert report.row("M01").result == "62.000" and report.row("M10").result == "3.000"
    assert "M01 (N20 (line 73) with T1, G40" in report.row("E04").provenance


def test_crash_voids_the_practical_part(mill):
    # N40 positions over the centre, N60 G00 Z0 rapids 0.5 mm into the raw top: veto S01 -> 0.
    task, events = mill
    report = grade_events(task, edit_program(events, "N40 G00 X-52. Y-36.", "N40 G00 X0. Y0."), MARKS)
    assert report.voided and report.total == 0 and not report.passed
    assert "rapid_into_stock" in report.row("S01").provenance and report.row("S02").seqs == report.row("S01").seqs


def test_overtime(mill):
    # 250 min: 10 min past 240 -> 4 started periods of 3 min -> -4
    task, events = mill
    report = grade_events(task, finishing_at(events, 250), MARKS)
    assert report.time_deduction == 4 and report.total == 96


def test_skipped_reference_return(mill):
    # PS0224 at cycle start, nothing machined: every measured item fails (the raw top's Ra is not a machined
    # surface), Q13 0: quality 0 < 48, so safety and equipment do not count either -> 0.
    task, events = mill
    report = grade_events(task, without(events, "ref_return"), {"Q13": [0, 0, 0]})
    assert report.total == 0 and not report.gate["reached"]
    assert report.row("M12").result == "无法测量" and report.row("E01").result == "未回参考点"
