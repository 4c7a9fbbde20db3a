"""Scenario traces made from an example task's reference trace by small, named edits."""
from __future__ import annotations

import json
from pathlib import Path

from grading import PracticalSubmission, grade, sheet_from_task
from simulators.core import trace

TASKS = Path(__file__).resolve().parents[2] / "examples" / "tasks"


def load(name: str) -> tuple[dict, list[dict]]:
    task = json.loads((TASKS / name / "task.json").read_text(encoding="utf-8"))
    events = trace.parse_jsonl((TASKS / name / "trace_reference.jsonl").read_text(encoding="utf-8"))
    return task, events


def renumber(events: list[dict]) -> list[dict]:
    return [dict(e, seq=n + 1) for n, e in enumerate(events)]


def make_event(type_: str, t: int, **payload) -> dict:
    return {"v": 1, "seq": 0, "t_client": t, "t_server": None, "type": type_, "payload": payload}


def with_trial_run(events: list[dict]) -> list[dict]:
    """A dry run with machine lock before the first cycle start (what the sheet's trial-run item asks)."""
    i = next(n for n, e in enumerate(events) if e["type"] == "cycle_start")
    t = events[i]["t_client"]
    extra = [make_event("switch", t, name="machine_lock", on=True), make_event("switch", t, name="dry_run", on=True),
             make_event("cycle_start", t), make_event("switch", t, name="machine_lock", on=False),
             make_event("switch", t, name="dry_run", on=False)]
    return renumber(events[:i] + extra + events[i:])


def edit_program(events: list[dict], old: str, new: str) -> list[dict]:
    out, hits = [], 0
    for e in events:
        if e["type"] == "program_text" and old in e["payload"]["text"]:
            e = dict(e, payload=dict(e["payload"], text=e["payload"]["text"].replace(old, new)))
            hits += 1
        out.append(e)
    assert hits == 1, f"{old!r} found in {hits} program texts"
    return out


def set_offset(events: list[dict], number, axis: str, value: float) -> list[dict]:
    out = []
    for e in events:
        p = e["payload"]
        if e["type"] == "offset" and str(p.get("number")) == str(number) and p.get("axis") == axis:
            e = dict(e, payload=dict(p, value=value))
        out.append(e)
    return out


def without(events: list[dict], type_: str) -> list[dict]:
    return renumber([e for e in events if e["type"] != type_])


def finishing_at(events: list[dict], minutes: float) -> list[dict]:
    return events[:-1] + [dict(events[-1], t_client=int(minutes * 60_000))]


def grade_events(task: dict, events: list[dict], marks: dict):
    return grade(PracticalSubmission(task, events, examiner_marks=marks, candidate="c"), sheet_from_task(task))
