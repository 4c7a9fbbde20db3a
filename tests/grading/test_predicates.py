"""Operation predicates on small edits of the lathe reference trace, and the submission's examiner inputs."""
import pytest

from grading import PracticalSubmission, grade, sheet_from_task
from grading.practical import _limits
from grading.sheet import Rule, SheetItem

from .traces import make_event, grade_events, load, renumber, set_offset, with_trial_run

MARKS = {"Q01": [3, 3, 3]}


@pytest.fixture(scope="module")
def lathe():
    task, events = load("lathe_zj01")
    return task, with_trial_run(events)


def lost(report) -> dict:
    return {r.item_id: r.deduction for r in report.rows if r.deduction}


def test_roughing_tool_offset_off_only_costs_the_tool_setting_item(lathe):
    # T01 X keyed 80.1: 0.1 beyond the exact 80 (> 0.02). T01 only roughs (G71 leaves 0.5 mm), T02 finishes,
    # so every dimension stays right: only O02 (4 points) is lost, decided by the T01 X input (seq 9).
    task, events = lathe
    report = grade_events(task, set_offset(events, 1, "X", 80.1), MARKS)
    assert lost(report) == {"O02": 4}
    assert report.row("O02").seqs == (9, 10, 11, 12) and "T01: X +0.100" in report.row("O02").provenance


def test_manual_spindle_the_wrong_way(lathe):
    # a manual CCW start (seq 9, after the chuck is closed) before the offsets: O04 lost (3)
    task, events = lathe
    at = next(n for n, e in enumerate(events) if e["type"] == "offset")
    edited = renumber(events[:at] + [make_event("spindle", 7000, command="ccw", rpm=500),
                                     make_event("spindle", 7000, command="stop")] + events[at:])
    report = grade_events(task, edited, MARKS)
    assert lost(report) == {"O04": 3} and report.row("O04").seqs == (9,)


def test_examiner_inputs(lathe):
    task, events = lathe
    sheet = sheet_from_task(task)
    submission = PracticalSubmission(task, events, examiner_marks={"Q01": [3, 2, 1]},
                                     overrides={"L01": (6, "micrometer reading disputed")},
                                     civility_violations=["工具乱放", "未戴护目镜"])
    report = grade(submission, sheet)
    # Q01 pending (no two marks agree): 0 of 3; L01 overridden to 6 (-2); civility 2 × 3 = -6: 100 - 3 - 2 - 6
    assert report.row("Q01").source == "pending" and report.pending
    assert report.row("L01").score == 6 and "disputed" in report.row("L01").provenance
    assert report.civility_deduction == 6 and report.total == 89
    vetoed = grade(PracticalSubmission(task, events, examiner_marks=MARKS, vetoes=["重大事故"]), sheet)
    assert vetoed.voided and vetoed.total == 0


def test_start_deadline(lathe):
    # the first jog/cycle start at 95 min, the deadline 90 min: the exam ends, 0
    task, events = lathe
    late = [dict(e, t_client=e["t_client"] + 95 * 60_000) for e in events]
    report = grade_events(task, late, MARKS)
    assert report.voided and "not started within 90 min" in report.void_reasons[0]


def test_general_tolerance_limits():
    item = SheetItem("X", "长度 70", "dimension", 4, Rule(), measurement="X", general_tolerance="m")
    # GB/T 1804-m, 70 mm in >30-120: ±0.3; R5 in >3-6 of the radius table: ±0.5
    assert _limits(item, {"nominal": 70, "operator": "length", "low": 69.99, "high": 70.01}) == (69.7, 70.3)
    assert _limits(item, {"nominal": 5, "operator": "arc_radius"}) == (4.5, 5.5)


def test_report_json_is_plain(lathe):
    import json
    task, events = lathe
    data = grade_events(task, events, MARKS).to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["rows"][0]["index"] == 1 and data["sheet"]["total_points"] == 100


def test_mill_tool_offsets_read_d_only_where_compensation_calls_it():
    # the Ø8.5 drill T5 never runs under G41/G42, so a D5 of 0 costs nothing; D1 4.9 (0.1 off) costs E03 (2)
    # and the boss and pocket: 72 - 0.2 = 71.8 (M01, M02 0: -16), pocket 30.016 + 0.2 = 30.216 (M04 0: -10),
    # R8 corner 8 - 0.1 = 7.9, 0.05 under its 7.95 limit -> 3 started steps of 0.02 -> -6: 100 - 2 - 16 - 10 - 6 = 66
    task, events = load("mill_zj01")
    events = with_trial_run(events)
    assert grade_events(task, set_offset(events, "5", "D", 0), {"Q13": [8, 8, 8]}).total == 100
    report = grade_events(task, set_offset(events, "1", "D", 4.9), {"Q13": [8, 8, 8]})
    assert lost(report) == {"E03": 2, "M01": 8, "M02": 8, "M04": 10, "M10": 6} and report.total == 66
