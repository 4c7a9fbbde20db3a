"""Theory scoring against a versioned answer key, one attempt and a vectorised batch."""
import json
from pathlib import Path

import numpy as np
import pytest

from grading import AnswerKey, TheorySubmission, answer_key_from_dict, grade, score_attempts
from grading.sheet import SheetError

PAPER = Path(__file__).resolve().parents[2] / "exam_server" / "papers" / "demo_cnc_turning_4.json"

KEY = {"id": "K", "version": 3, "pass_mark": 6, "multiple": {"full": 1, "subset": 0.5, "wrong": 0},
       "items": [{"id": "s", "type": "single", "points": 1, "key": "B"},
                 {"id": "m", "type": "multiple", "points": 2, "key": ["A", "B", "D"]},
                 {"id": "t", "type": "truefalse", "points": 1, "key": False},
                 {"id": "n", "type": "numeric", "points": 2, "key": 21.4, "tolerance": 0.01}]}


@pytest.fixture(scope="module")
def key() -> AnswerKey:
    return answer_key_from_dict(KEY)


@pytest.mark.parametrize("answers, expected", [
    ({"s": "B", "m": ["A", "B", "D"], "t": False, "n": 21.4}, [1, 2, 1, 2]),    # all right: 6
    ({"s": "A", "m": ["A", "D"], "t": True, "n": 21.41}, [0, 1, 0, 2]),         # subset without wrong: half of 2
    ({"m": ["A", "B", "C"], "n": 21.42}, [0, 0, 0, 0]),                         # a wrong option: 0; 0.02 off: 0
    ({"m": ["D", "B", "A"], "t": "F", "n": 21.39}, [0, 2, 1, 2]),               # order does not matter; "F" = False
    ({"s": None, "m": [], "t": None, "n": "21.4"}, [0, 0, 0, 0]),               # empty and text answers score 0
])
def test_item_types(key, answers, expected):
    assert score_attempts(key, [answers])[0].tolist() == expected


def test_partial_credit_rule_is_data():
    strict = answer_key_from_dict({**KEY, "multiple": {"subset": 0}})
    assert score_attempts(strict, [{"m": ["A", "B"]}])[0, 1] == 0
    generous = answer_key_from_dict({**KEY, "multiple": {"subset": 0.75}})
    assert score_attempts(generous, [{"m": ["A", "B"]}])[0, 1] == 1.5       # 0.75 × 2 points


def test_report_of_one_attempt(key):
    report = grade(TheorySubmission({"s": "B", "m": ["A", "B"], "t": False, "n": 3}, "c1"), key)
    assert report.total == 1 + 1 + 1 + 0 and not report.passed            # 3 < pass mark 6
    assert report.sheet_version == 3 and report.row("m").deduction == 1
    assert report.row("m").result == "AB" and report.to_dict()["columns"]["score"] == "得分"


def test_key_errors_name_paths():
    with pytest.raises(SheetError) as error:
        answer_key_from_dict({"version": 1, "items": [{"id": "a", "type": "single", "key": 3},
                                                      {"id": "b", "type": "essay", "key": "x"},
                                                      {"id": "c", "type": "numeric", "key": 1, "tolerance": -1}]})
    assert "items[0].key: not a valid single key: 3" in error.value.problems
    assert any(p.startswith("items[1].type") for p in error.value.problems)
    assert "items[2].tolerance: must be a number ≥ 0" in error.value.problems


def test_demo_paper_full_marks():
    paper = json.loads(PAPER.read_text(encoding="utf-8"))
    key = answer_key_from_dict({**paper, "version": 1})
    right = {i["id"]: i["key"] for i in paper["items"]}
    scores = score_attempts(key, [right, {}])
    assert scores[0].sum() == sum(i.get("points", 1) for i in paper["items"]) and scores[1].sum() == 0


def test_batch_equals_one_by_one(key):
    rng = np.random.default_rng(7)
    choices = ["A", "B", "C", "D"]
    attempts = [{"s": choices[rng.integers(4)], "m": sorted(set(rng.choice(choices, rng.integers(1, 4)))),
                 "t": bool(rng.integers(2)), "n": 21.4 + float(rng.normal(0, 0.01))} for _ in range(50)]
    batch = score_attempts(key, attempts)
    one_by_one = np.vstack([score_attempts(key, [a]) for a in attempts])
    assert np.array_equal(batch, one_by_one)
