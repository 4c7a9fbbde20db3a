"""Properties: scores stay within [0, points]; regrading with the same sheet changes nothing; the order of
independent items does not change any score."""
import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from grading import TheorySubmission, answer_key_from_dict, grade, regrade_diff, sheet_from_task
from grading import rules
from grading.sheet import Rule

from .traces import grade_events, load, with_trial_run

positive = st.floats(min_value=0.001, max_value=20, allow_nan=False)
value = st.floats(min_value=-1000, max_value=1000, allow_nan=False)

rule_strategy = st.one_of(
    st.just(Rule()), st.just(Rule("gauge")),
    st.builds(lambda p, d: Rule("step", per=p, deduct=d), positive, positive),
    st.builds(lambda f, h: Rule("band", free=min(f, h), half=max(f, h)), positive, positive),
    st.builds(lambda g: Rule("grade_down", per_grade=g), positive),
    st.just(Rule("grade_down", half_then_zero=True)))


@given(rule_strategy, st.floats(min_value=0, max_value=100), st.one_of(st.none(), value), value, positive)
def test_measured_score_within_points(rule, points, measured, low, width):
    score = rules.score_measured(rule, points, measured, low, low + width).score
    assert 0 <= score <= points


@given(st.builds(lambda d, c: Rule("per_occurrence", deduct=d, cap=c), positive, st.one_of(st.none(), positive)),
       st.floats(min_value=0, max_value=100), st.integers(min_value=-3, max_value=1000))
def test_count_score_within_points(rule, points, failures):
    assert 0 <= rules.score_count(rule, points, failures).score <= points


@given(st.integers(1, 5).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n))),
       st.floats(min_value=0, max_value=100), st.lists(st.floats(min_value=-50, max_value=150), max_size=6),
       st.floats(min_value=0, max_value=5))
def test_manual_score_within_points(sizes, points, marks, within):
    examiners, confirmations = sizes
    rule = Rule("manual", examiners=examiners, confirmations=confirmations, agree_within=within)
    assert 0 <= rules.score_manual(rule, points, marks).score <= points


KEY = {"id": "K", "version": 1, "items": [
    {"id": f"q{n}", "type": t, "points": p, "key": k, "tolerance": 0.01}
    for n, (t, p, k) in enumerate([("single", 1, "A"), ("multiple", 2, ["A", "C"]), ("truefalse", 1, True),
                                   ("numeric", 2, 3.5), ("single", 1, "D"), ("multiple", 2, ["B", "C", "D"])])]}
answer = st.one_of(st.none(), st.sampled_from(["A", "B", "C", "D"]), st.booleans(),
                   st.lists(st.sampled_from(["A", "B", "C", "D", "E"]), max_size=4), st.floats(3.4, 3.6))
attempts = st.dictionaries(st.sampled_from([f"c{n}" for n in range(8)]),
                           st.fixed_dictionaries({f"q{n}": answer for n in range(6)}), min_size=1, max_size=8)


@given(attempts)
@settings(max_examples=50, deadline=None)
def test_regrading_with_the_same_key_changes_nothing(answers):
    key = answer_key_from_dict(KEY)
    submissions = {c: TheorySubmission(a, c) for c, a in answers.items()}
    old = {c: grade(s, key).to_dict() for c, s in submissions.items()}
    assert regrade_diff(old, key, submissions) == []


@given(attempts, st.randoms(use_true_random=False))
@settings(max_examples=50, deadline=None)
def test_item_order_does_not_matter_theory(answers, rnd):
    key = answer_key_from_dict(KEY)
    shuffled = dict(KEY, items=rnd.sample(KEY["items"], len(KEY["items"])))
    other = answer_key_from_dict(shuffled)
    for a in answers.values():
        one, two = grade(TheorySubmission(a), key), grade(TheorySubmission(a), other)
        assert {r.item_id: r.score for r in one.rows} == {r.item_id: r.score for r in two.rows}
        assert one.total == two.total
        assert all(0 <= r.score <= r.points for r in one.rows)


def test_practical_item_order_and_regrade():
    task, events = load("lathe_zj01")
    events = with_trial_run(events)
    marks = {"Q01": [3, 3, 3]}
    report = grade_events(task, events, marks)
    sheet = sheet_from_task(task)
    shuffled = replace(sheet, items=tuple(random.Random(3).sample(sheet.items, len(sheet.items))))
    from grading import PracticalSubmission
    submission = PracticalSubmission(task, events, examiner_marks=marks)
    again = grade(submission, shuffled)
    assert {r.item_id: r.score for r in again.rows} == {r.item_id: r.score for r in report.rows}
    assert again.total == report.total
    assert regrade_diff({"c": report}, sheet, {"c": submission}) == []
