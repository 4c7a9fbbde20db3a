"""Score sheets as data: parsing, validation errors naming their path, the JSON round trip, task files."""
import json
from pathlib import Path

import pytest

from grading.sheet import SheetError, sheet_from_dict, sheet_from_task

TASKS = Path(__file__).resolve().parents[2] / "examples" / "tasks"


def small_sheet(**changes):
    data = {"id": "T", "version": 2, "title": "测试评分表", "pass_mark": 6,
            "items": [{"id": "A", "label": "外圆 Ø24", "kind": "dimension", "points": 10, "measurement": "L01",
                       "rule": {"type": "step", "per": 0.01, "deduct": 3}},
                      {"id": "B", "label": "外观", "kind": "visual", "points": 5,
                       "rule": {"type": "manual", "examiners": 3, "confirmations": 2}},
                      {"id": "C", "label": "回参考点", "kind": "operation", "group": "operation", "points": 2,
                       "predicate": "reference_return"}]}
    data.update(changes)
    return data


def problems(data):
    with pytest.raises(SheetError) as error:
        sheet_from_dict(data)
    return error.value.problems


def test_round_trip():
    sheet = sheet_from_dict(small_sheet())
    assert sheet.total_points == 17
    assert sheet_from_dict(sheet.to_dict()) == sheet
    assert json.loads(json.dumps(sheet.to_dict(), ensure_ascii=False)) == sheet.to_dict()


def test_errors_name_their_paths():
    data = small_sheet()
    data["items"][0]["rule"] = {"type": "step", "per": -1}
    data["items"][1]["rule"] = "all_or_nothing"
    data["items"][2]["kind"] = "operations"
    found = problems(data)
    assert "items[0].rule.per: must be a positive number" in found
    assert "items[0].rule.deduct: is required for a step rule" in found
    assert any(p.startswith("items[1].rule:") and "manual" in p for p in found)
    assert any(p.startswith("items[2].kind:") for p in found)


def test_unknown_keys_and_misused_parameters_are_errors():
    data = small_sheet()
    data["items"][0]["tolerence"] = 0.01
    data["items"][2]["rule"] = {"type": "all_or_nothing", "deduct": 2}
    data["items"][2]["args"] = {"tolerence": 0.02}
    found = problems(data)
    assert "items[2].args.tolerence: not an argument of reference_return" in found
    assert "items[0].tolerence: unknown key" in found
    assert "items[2].rule.deduct: is not used by a all_or_nothing rule" in found


def test_sheet_level_checks():
    assert "version: must be a positive integer (a corrected sheet is a new version)" in problems(
        small_sheet(version=0))
    assert any(p.startswith("pass_mark:") for p in problems(small_sheet(pass_mark=50)))
    assert any(p.startswith("items:") and "twice" in p for p in problems(
        small_sheet(items=small_sheet()["items"] + [small_sheet()["items"][0]])))
    assert "time.limit_min: is required with an overtime deduction" in problems(small_sheet(time={"deduct": 1}))
    assert any(p.startswith("items[0].predicate: unknown predicate") for p in problems(small_sheet(items=[
        {"id": "X", "label": "x", "kind": "operation", "points": 1, "predicate": "reference_retrun"}])))


def test_grade_down_only_on_roughness_and_manual_confirmations():
    data = small_sheet()
    data["items"][0]["rule"] = {"type": "grade_down", "per_grade": 2}
    data["items"][1]["rule"] = {"type": "manual", "examiners": 2, "confirmations": 3}
    found = problems(data)
    assert "items[0].rule.type: grade_down applies to roughness items" in found
    assert "items[1].rule.confirmations: cannot exceed examiners" in found


@pytest.mark.parametrize("name, total, items", [("lathe_zj01", 100, 24), ("mill_zj01", 100, 22)])
def test_example_task_sheets(name, total, items):
    task = json.loads((TASKS / name / "task.json").read_text(encoding="utf-8"))
    sheet = sheet_from_task(task)
    assert (sheet.total_points, len(sheet.items)) == (total, items)
    assert sheet.gate is not None and sheet.gate.min_fraction == 0.6
    assert sum(i.points for i in sheet.items if sheet.group(i.group).role == "quality") == (70 if items == 24 else 80)


def test_task_item_rule_errors_point_into_the_task_file():
    task = json.loads((TASKS / "lathe_zj01" / "task.json").read_text(encoding="utf-8"))
    task["items"][1]["rules"] = {"points": 6, "rule": "step", "per": 0.01}
    task["rules"]["items"][0]["points"] = -1
    with pytest.raises(SheetError) as error:
        sheet_from_task(task)
    assert "items[1].rules.deduct: is required for a step rule" in error.value.problems
    assert "rules.items[0].points: must be at least 0" in error.value.problems


def test_task_sheet_round_trips_through_json():
    task = json.loads((TASKS / "mill_zj01" / "task.json").read_text(encoding="utf-8"))
    sheet = sheet_from_task(task)
    assert sheet_from_dict(json.loads(json.dumps(sheet.to_dict(), ensure_ascii=False))) == sheet
    assert sheet.time.limit_min == 240 and sheet.time.every_min == 3 and sheet.time.hard_stop_min == 255
