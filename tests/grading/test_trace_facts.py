"""The observer folds only the events the session accepted, in step with its refusal list."""
from grading.practical import replay_summary
from grading.trace_facts import trace_facts

from .traces import load, make_event, renumber


def facts_of(task, events):
    return trace_facts(events, replay_summary(task, events), ("X", "Z"))


def test_refused_edits_do_not_reach_program_memory():
    task, events = load("lathe_zj01")
    at = next(n for n, e in enumerate(events) if e["type"] == "program_text")
    # in JOG mode (refused: EDIT needed) a text without M30 is "saved" before the real one
    bad = make_event("program_text", 0, number=1001, text="O1001\nG00 X0\n")
    edited = renumber(events[:at - 1] + [bad] + events[at - 1:])
    facts = facts_of(task, edited)
    assert "M30" in facts.final_programs[1001] and facts.program_saved_at[1001] == at + 2


def test_a_retransmitted_duplicate_is_ignored():
    task, events = load("lathe_zj01")
    at = next(n for n, e in enumerate(events) if e["type"] == "program_text")
    duplicate = dict(events[at], payload=dict(events[at]["payload"], text="O1001\nM30\n"))   # same seq, later
    facts = facts_of(task, events[:at + 1] + [duplicate] + events[at + 1:])
    assert len(facts.final_programs[1001]) > 100 and facts.starts[0].program == 1001


def test_starts_record_switches_and_reference():
    task, events = load("lathe_zj01")
    facts = facts_of(task, events)
    (start,) = facts.starts
    assert start.mode == "MEM" and start.referenced == {"X", "Z"} and not any(start.switches.values())
    assert start.text.startswith("%\nO1001") and facts.stick_out == 75
