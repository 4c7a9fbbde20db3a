"""Sheet rules on hand-made rows: veto, quality gate, civility cap, overtime, start deadline, hard stop."""
import pytest

from grading.practical import within_hard_stop
from grading.report import ItemScore
from grading.sheet import sheet_from_dict
from grading.totals import finish, time_deduction

# A 100-point sheet as the Zhejiang 高级数控铣工 paper reads: quality 80, safety 10, equipment 10, gate 60 %.
SHEET = {
    "id": "ZJ-GJ", "version": 1, "title": "浙江省 高级数控铣工", "pass_mark": 60,
    "groups": [{"id": "q", "label": "工件质量", "role": "quality"},
               {"id": "s", "label": "安全文明生产", "role": "safety"},
               {"id": "e", "label": "工具设备使用与维护", "role": "equipment"}],
    "items": [{"id": "Q1", "label": "尺寸", "kind": "visual", "group": "q", "points": 80, "rule": "manual"},
              {"id": "S1", "label": "撞刀", "kind": "safety", "group": "s", "points": 10, "predicate": "no_collision",
               "veto": True},
              {"id": "E1", "label": "设备", "kind": "operation", "group": "e", "points": 10,
               "predicate": "reference_return"}],
    "gate": {"min_fraction": 0.6, "role": "quality", "gated": ["safety", "equipment"]},
    "civility": {"per_violation": 3, "cap": 10},
    "time": {"limit_min": 240, "deduct": 1, "every_min": 3, "hard_stop_min": 255}}


def rows(quality, safety=10.0, equipment=10.0):
    def row(n, item_id, points, score, role):
        return ItemScore(n, item_id, role, item_id, "", points, "", "", None, score, role=role)
    return [row(1, "Q1", 80, quality, "quality"), row(2, "S1", 10, safety, "safety"),
            row(3, "E1", 10, equipment, "equipment")]


@pytest.fixture(scope="module")
def sheet():
    return sheet_from_dict(SHEET)


def test_gate_reached_counts_everything(sheet):
    report = finish(sheet, rows(48))            # 48 = 60 % of 80: the gate is reached
    assert report.total == 68 and report.passed and report.gate["reached"]


def test_gate_missed_drops_safety_and_equipment(sheet):
    report = finish(sheet, rows(47.5))          # 47.5 < 48: the 20 other points do not count
    assert report.total == 47.5 and not report.passed
    assert report.row("S1").score == 0 and report.row("E1").score == 0 and "gate" in report.row("S1").provenance


@pytest.mark.parametrize("violations, deduction", [(0, 0), (1, 3), (3, 9), (4, 10), (7, 10)])
def test_civility_three_each_capped_at_ten(sheet, violations, deduction):
    report = finish(sheet, rows(70), civility_violations=violations)
    assert report.civility_deduction == deduction and report.total == 90 - deduction


@pytest.mark.parametrize("elapsed, deduction", [(240, 0), (240.5, 1), (243, 1), (243.01, 2), (250, 4), (255, 5)])
def test_overtime_one_point_per_started_three_minutes(sheet, elapsed, deduction):
    # 250 min: 10 min over -> 4 started periods of 3 min (0-3, 3-6, 6-9, 9-10) -> -4
    assert finish(sheet, rows(70), elapsed_min=elapsed).time_deduction == deduction


def test_overtime_per_minute():
    per_minute = sheet_from_dict({**SHEET, "time": {"limit_min": 150, "deduct": 1, "hard_stop_min": 180}})
    assert time_deduction(per_minute.time, 160) == 10          # 10 min past 150, -1 per min
    assert time_deduction(per_minute.time, 150) == 0


def test_veto_voids_the_part(sheet):
    report = finish(sheet, rows(80, safety=0))
    assert report.voided and report.total == 0 and not report.passed and "S1" in report.void_reasons[0]


def test_examiner_veto(sheet):
    report = finish(sheet, rows(80), void_reasons=["重大事故"])
    assert report.voided and report.total == 0


def test_total_never_below_zero(sheet):
    # 300 min: 60 min over -> 20 periods -> -20; 4 violations -> -10 (cap)
    report = finish(sheet, rows(50, 10, 0), civility_violations=4, elapsed_min=300)
    assert report.total == 60 - 10 - 20
    report = finish(sheet, rows(5, 10, 0), civility_violations=4, elapsed_min=300)   # gate missed: 5 - 30 -> 0
    assert report.total == 0


def test_hard_stop_drops_later_events():
    events = [{"seq": n, "t_client": ms, "t_server": None} for n, ms in enumerate((0, 60_000, 180 * 60_000,
                                                                                       180 * 60_000 + 1))]
    kept, dropped = within_hard_stop(events, 180)
    assert [e["seq"] for e in kept] == [0, 1, 2] and dropped == 1
