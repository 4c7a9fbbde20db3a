"""Dry-run regrade after a key or sheet correction: who changes, by how much."""
from dataclasses import replace

from grading import PracticalSubmission, TheorySubmission, answer_key_from_dict, grade, regrade_diff
from grading import sheet_from_task
from grading.sheet import Rule

from .traces import load, set_offset, with_trial_run

KEY = {"id": "K", "version": 1, "pass_mark": 2,
       "items": [{"id": "a", "type": "single", "points": 2, "key": "B"},
                 {"id": "b", "type": "numeric", "points": 1, "key": 10, "tolerance": 0.1}]}


def test_corrected_key_lists_who_changes():
    old_key = answer_key_from_dict(KEY)
    new_key = answer_key_from_dict({**KEY, "version": 2, "items": [dict(KEY["items"][0], key="C"), KEY["items"][1]]})
    submissions = {"ann": TheorySubmission({"a": "B", "b": 10}), "bob": TheorySubmission({"a": "C", "b": 10}),
                   "cai": TheorySubmission({"a": "D", "b": 9})}
    old = {c: grade(s, old_key) for c, s in submissions.items()}
    changes = {c.candidate: c for c in regrade_diff(old, new_key, submissions)}
    # ann: 2 + 1 = 3 -> 0 + 1 = 1 (fails now); bob: 1 -> 3 (passes now); cai: 0 -> 0, unchanged
    assert set(changes) == {"ann", "bob"}
    assert (changes["ann"].delta, changes["ann"].old_passed, changes["ann"].new_passed) == (-2, True, False)
    assert changes["bob"].delta == 2 and changes["bob"].items == (("a", 0.0, 2.0),)
    assert changes["bob"].to_dict()["new_total"] == 3 and changes["bob"].report.sheet_version == 2


def test_corrected_sheet_rule_on_a_practical_batch():
    # The Ø42 item's rule corrected from "超差0.01扣3分" to a band (≤0.01 free, ≤0.02 half): the candidate whose
    # Ø42 measures 42.008 (T02 X keyed 80.02, 0.008 over) kept 3 of 6 and now keeps 6 (+3); nobody else changes.
    task, events = load("lathe_zj01")
    events = with_trial_run(events)
    sheet = sheet_from_task(task)
    marks = {"Q01": [3, 3, 3]}
    subs = {"good": PracticalSubmission(task, events, examiner_marks=marks),
            "big": PracticalSubmission(task, set_offset(events, 2, "X", 80.02), examiner_marks=marks)}
    old = {c: grade(s, sheet).to_dict() for c, s in subs.items()}
    items = tuple(replace(i, rule=Rule("band", free=0.01, half=0.02)) if i.id == "L02" else i for i in sheet.items)
    changes = regrade_diff(old, replace(sheet, version=2, items=items), subs)
    assert [(c.candidate, c.delta, c.items) for c in changes] == [("big", 3.0, (("L02", 3.0, 6.0),))]
