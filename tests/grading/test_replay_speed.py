"""Grading replays a trace on the fast path (a quiet fold: no replies, no animation, no stock drawings) and the
lathe stock answers some questions without building what it does not need. Neither may change a score: every
report here must equal, key for key, the one graded from the summary of a session folded as a live one (every
reply built), and the stock's shortcuts must give exactly their reference's answers."""
import importlib
import random

import pytest

from benchmarks.operation import build_trace
from grading import PracticalSubmission, sheet_from_task
from grading.practical import SESSIONS, grade_practical, grade_replayed, within_hard_stop
from simulators.cnc_lathe import stock as st
from simulators.cnc_lathe.session import replay

from .traces import edit_program, load, set_offset, with_trial_run, without


def live_summary(task: dict, events: list) -> dict:
    """The summary after folding the events as a live session does: every reply built and read."""
    session = importlib.import_module(SESSIONS[task["machine_type"]]).replay(task["machine"], [])
    for event in events:
        reply = session.apply(event)
        assert "status" in reply          # a live reply, with the status, motions and stock change
    return session.summary(items=task["items"], work_zero=task["work_zero"])


def graded_live(task: dict, events: list, marks: dict) -> dict:
    sheet = sheet_from_task(task)
    kept, dropped = within_hard_stop(events, sheet.time.hard_stop_min)
    submission = PracticalSubmission(task, events, examiner_marks=marks, candidate="c")
    return grade_replayed(submission, sheet, kept, live_summary(task, kept), dropped).to_dict()


def scenarios():
    lathe, lathe_events = load("lathe_zj01")
    lathe_trial = with_trial_run(lathe_events)
    mill, mill_events = load("mill_zj01")
    mill_trial = with_trial_run(mill_events)
    yield "lathe reference", lathe, lathe_events, {"Q01": [3, 3, 2]}
    yield "lathe perfect", lathe, lathe_trial, {"Q01": [3, 3, 2]}
    yield "lathe offset", lathe, set_offset(lathe_trial, 2, "X", 80.02), {}
    yield "lathe no G42", lathe, edit_program(lathe_trial, "N100 G00 G42 X14.", "N100 G00 X14."), {}
    yield "lathe crash", lathe, edit_program(lathe_trial, "N40 G00 X54. Z2.", "N40 G00 X40. Z-5."), {}
    yield "lathe no reference return", lathe, without(lathe_trial, "ref_return"), {}
    yield "mill reference", mill, mill_events, {"Q13": [8, 8, 8]}
    yield "mill D offset", mill, set_offset(mill_trial, "1", "D", 4.98), {}
    yield "mill no G41", mill, edit_program(mill_trial, "N10 G41 G01 X-36. Y-28. D1", "N10 G01 X-36. Y-28. D1"), {}
    yield "mill crash", mill, edit_program(mill_trial, "N40 G00 X-52. Y-36.", "N40 G00 X0. Y0."), {}


@pytest.mark.parametrize("task, events, marks", [pytest.param(*rest, id=name) for name, *rest in scenarios()])
def test_graded_report_equals_the_live_fold(task, events, marks):
    fast = grade_practical(PracticalSubmission(task, events, examiner_marks=marks, candidate="c"),
                           sheet_from_task(task)).to_dict()
    assert fast == graded_live(task, events, marks)


@pytest.fixture(scope="module")
def handwheel_trace():
    """The grading benchmark's trace up to the end of tool setting: 1,900 events, most of them handwheel
    trial cuts by four tools, which leave a profile of hundreds of pieces (the costly case)."""
    return build_trace(1900)


def test_benchmark_trial_cuts_grade_as_the_live_fold(handwheel_trace):
    from benchmarks.grading import practical_task

    task = practical_task()
    fast = grade_practical(PracticalSubmission(task, handwheel_trace, candidate="c"), sheet_from_task(task))
    assert fast.to_dict() == graded_live(task, handwheel_trace, {})
    # The trial cuts span work z -10..-1 down to radius 22 (tools 3 and 4): Ø44 at z -5; z -15 and -30 are
    # still the raw Ø50 bar.
    measured = {row.item_id: row.measured for row in fast.rows if row.item_id.startswith("D")}
    assert 43.9 < measured["D0"] < 44.1 and measured["D1"] == measured["D2"] == 50.0


def test_stock_shortcuts_answer_as_their_reference(handwheel_trace):
    """outer_reaches = (level < upper_bound + tolerance); removals_below = lower_envelope's removals."""
    session = replay({}, [])
    profiles = []                     # profiles are replaced, never edited: keeping the lists keeps each state
    for n, event in enumerate(handwheel_trace):
        session.apply(event)
        if n % 25 == 0 and session.model.workpiece is not None:
            profiles.append(session.model.workpiece.stock.outer)
    assert max(len(p) for p in profiles) > 100             # the fragmented profile is among them
    rng = random.Random(8)
    for profile in profiles:
        stock = st.Stock(50.0, -100.0, 0.0)
        stock.outer = profile
        z_lo, z_hi = profile[0].z0, profile[-1].z1
        for _ in range(20):
            lo = rng.uniform(z_lo - 5, z_hi)
            hi = lo + rng.choice((0.0, 0.05, 1.0, 30.0))
            top = st.upper_bound(profile, lo, hi)
            for level in (rng.uniform(0, 30), top if top is not None else 0.0):
                expected = top is not None and level < top + 1e-6
                assert stock.outer_reaches(lo, hi, level, 1e-6) == expected
            cutter = [st.flat_piece(lo, hi + 0.5, rng.uniform(10, 26), line=7, feed=rng.choice((0.0, 0.1)))]
            reference: list = []
            st.lower_envelope(profile, cutter, reference)
            probed = st.removals_below(profile, cutter)
            assert [(r.piece, r.z0, r.z1, r.depth) for r in probed] == \
                   [(r.piece, r.z0, r.z1, r.depth) for r in reference]
