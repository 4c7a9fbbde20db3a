"""Grading a practical attempt: replay the operation trace, measure the part, run the operation predicates,
score every sheet line with its provenance, then apply the sheet's rules (grading/totals.py).

The simulators do the machining: ``simulators.<machine>.session.replay(task["machine"], events)`` folds the
trace and ``summary(items, work_zero)`` measures the task's items on the final stock exactly. Everything here
reads that summary and the events; the replay is the one expensive step.
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from . import general_tolerance, rules
from .predicates import TraceContext, evaluate
from .report import ItemScore, ScoreReport
from .sheet import ScoreSheet, SheetItem
from .totals import finish
from .trace_facts import event_ms, trace_facts

AXES = {"lathe": ("X", "Z"), "mill": ("X", "Y", "Z")}
SESSIONS = {"lathe": "simulators.cnc_lathe.session", "mill": "simulators.cnc_mill.session"}
UNITS = {"deg": "°", "um": "µm", "mm": ""}


@dataclass(frozen=True)
class PracticalSubmission:
    """What a practical attempt hands to grading. Times are ms since the attempt started."""

    task: Mapping[str, Any]
    events: Sequence[Mapping[str, Any]]
    examiner_marks: Mapping[str, Sequence[float]] = field(default_factory=dict)    # manual items
    overrides: Mapping[str, tuple[float, str]] = field(default_factory=dict)       # item -> (score, reason)
    civility_violations: Sequence[str] = ()          # 文明生产 violations the examiners recorded
    vetoes: Sequence[str] = ()                       # serious accidents the examiners recorded
    finished_ms: int | None = None                   # the attempt's end by the server's clock
    candidate: str | None = None


def replay_summary(task: Mapping[str, Any], events: Sequence[Mapping[str, Any]]) -> dict:
    """The session summary after folding ``events`` on the task's machine, with the task's items measured."""
    module = importlib.import_module(SESSIONS[task["machine_type"]])
    session = module.replay(task["machine"], events)
    return session.summary(items=task["items"], work_zero=task["work_zero"])


def within_hard_stop(events: Sequence[Mapping], hard_stop_min: float | None) -> tuple[list, int]:
    """The events up to the hard stop (work after it is not graded) and how many were dropped."""
    if hard_stop_min is None:
        return list(events), 0
    limit = hard_stop_min * 60_000
    kept = [e for e in events if (event_ms(e) or 0) <= limit]
    return kept, len(events) - len(kept)


def grade_practical(submission: PracticalSubmission, sheet: ScoreSheet) -> ScoreReport:
    events, dropped = within_hard_stop(submission.events, sheet.time.hard_stop_min)
    return grade_replayed(submission, sheet, events, replay_summary(submission.task, events), dropped)


def grade_replayed(submission: PracticalSubmission, sheet: ScoreSheet, events: Sequence[Mapping], summary: Mapping,
                   dropped: int = 0) -> ScoreReport:
    """The report from an already replayed summary of ``events`` (the graded ones, after the hard stop)."""
    task = submission.task
    facts = trace_facts(events, summary, AXES[task["machine_type"]])
    end_ms = submission.finished_ms if submission.finished_ms is not None else (facts.last_ms or 0)
    elapsed_min = round(end_ms / 60_000, 6)
    ctx = TraceContext(task["machine_type"], task, summary, facts, elapsed_min, sheet.time.limit_min)
    rows = [score_item(n + 1, item, ctx, sheet, submission) for n, item in enumerate(sheet.items)]
    notes = ([f"{dropped} event(s) after the hard stop at {sheet.time.hard_stop_min:g} min not graded"]
             if dropped else [])
    started_min = None if facts.first_machining is None else round(facts.first_machining[1] / 60_000, 6)
    return finish(sheet, rows, civility_violations=len(submission.civility_violations), elapsed_min=elapsed_min,
                  void_reasons=_void_reasons(sheet, submission, started_min), notes=notes,
                  candidate=submission.candidate, facts=_facts(summary, submission, elapsed_min, started_min))


def _facts(summary: Mapping, submission: PracticalSubmission, elapsed_min: float, started_min: float | None) -> dict:
    """What the printout shows besides the rows: times, event counts, alarms and crashes with their seqs."""
    return {"elapsed_min": elapsed_min, "started_min": started_min, "events": summary.get("events"),
            "invalid_events": len(summary.get("invalid_events", [])),
            "alarms": [{k: a.get(k) for k in ("code", "seq", "message")} for a in summary["alarms"]],
            "crashes": [{k: c.get(k) for k in ("kind", "seq", "line", "detail")} for c in summary["crashes"]],
            "machine_time_s": summary.get("time_s"), "civility_violations": list(submission.civility_violations)}


def _void_reasons(sheet: ScoreSheet, submission: PracticalSubmission, started_min: float | None) -> list[str]:
    reasons = [f"examiners: {v}" for v in submission.vetoes]
    deadline = sheet.time.start_deadline_min
    if deadline is not None and (started_min is None or started_min > deadline + 1e-9):
        reasons.append(f"machining not started within {deadline:g} min")
    return reasons


def score_item(index: int, item: SheetItem, ctx: TraceContext, sheet: ScoreSheet,
               submission: PracticalSubmission) -> ItemScore:
    """One sheet line: measured, predicate or manual; then an examiner's override if there is one."""
    group = sheet.group(item.group)
    base = {"index": index, "item_id": item.id, "group": group.label, "label": item.label,
            "requirement": item.requirement or item.label, "points": item.points,
            "criterion": rules.criterion_text(item.rule, item.veto), "kind": item.kind, "role": group.role}
    if item.rule.type == "manual":
        row = _manual_row(item, base, submission)
    elif item.predicate:
        row = _predicate_row(item, base, ctx)
    else:
        row = _measured_row(item, base, ctx)
    if item.id in submission.overrides:
        score, reason = submission.overrides[item.id]
        score = min(item.points, max(0.0, float(score)))
        row = replace(row, score=score, source="override",
                      provenance=f"{row.provenance}; overridden by the examiners to {score:g}: {reason}")
    return row


def _manual_row(item: SheetItem, base: dict, submission: PracticalSubmission) -> ItemScore:
    marks = list(submission.examiner_marks.get(item.id, ()))
    outcome = rules.score_manual(item.rule, item.points, marks)
    result = "待确认" if outcome.pending else f"{outcome.score:g}"
    return ItemScore(**base, result=result, measured=None, score=outcome.score,
                     provenance=f"examiners' marks {marks}: {outcome.note}",
                     source="pending" if outcome.pending else "examiners")


def _predicate_row(item: SheetItem, base: dict, ctx: TraceContext) -> ItemScore:
    check = evaluate(item.predicate, ctx, item.args)
    outcome = rules.score_count(item.rule, item.points, 0 if check.passed else max(1, check.failures))
    return ItemScore(**base, result=check.value, measured=None, score=outcome.score,
                     provenance=f"{item.predicate}: {check.note}", seqs=check.seqs)


def _limits(item: SheetItem, measured: Mapping) -> tuple[float | None, float | None]:
    """The measurement's limits, or GB/T 1804 limits around its nominal for an untoleranced item."""
    if item.general_tolerance is None or measured.get("nominal") is None:
        return measured.get("low"), measured.get("high")
    nominal = float(measured["nominal"])
    operator = measured.get("operator", "")
    feature = "radius" if operator == "arc_radius" else "chamfer" if operator.startswith("chamfer") else "linear"
    lower, upper = general_tolerance.general_limits(nominal, feature, item.general_tolerance)
    return round(nominal + lower, 6), round(nominal + upper, 6)


def _measured_row(item: SheetItem, base: dict, ctx: TraceContext) -> ItemScore:
    measured = ctx.measurements.get(item.measurement)
    if measured is None:
        return ItemScore(**base, result="未测量", measured=None, score=0.0,
                         provenance=f"the task has no measurement item {item.measurement!r}")
    value = measured.get("measured")
    raw = item.kind == "roughness" and (measured.get("detail") or {}).get("line") == 0
    if raw:          # the simulator reads a raw face's Ra as 0: an unmachined surface earns nothing
        value, measured = None, {**measured, "error": "surface not machined (raw stock)"}
    low, high = _limits(item, measured)
    outcome = rules.score_measured(item.rule, item.points, value, low, high)
    unit = UNITS.get(measured.get("unit", "mm"), "")
    result = "无法测量" if value is None else f"{value:.3f}{unit}"
    where, seqs = _cut_provenance(item, ctx)
    limits = f"{_fmt_limit(low)}–{_fmt_limit(high)}"
    text = (f"{item.label} measured {result} (limits {limits})" if value is not None
            else f"{item.label}: {measured.get('error') or 'nothing measured'}")
    parts = [text + (f" — cut by {where}" if where else "")]
    if outcome.note and value is not None:
        parts.append(outcome.note)
    return ItemScore(**base, result=result, measured=value, score=outcome.score, provenance="; ".join(parts),
                     seqs=seqs)


def _fmt_limit(value: float | None) -> str:
    return "–∞" if value is None else f"{value:.3f}"


def _cut_provenance(item: SheetItem, ctx: TraceContext) -> tuple[str, tuple[int, ...]]:
    """Which block cut the surface, with which tool, compensation and offsets; and the deciding seqs (the
    run's cycle start and the inputs of that tool's offsets)."""
    start = ctx.last_mem_start()
    states = [s for s in (ctx.line_state(n) for n in ctx.surface_lines(item.measurement)) if s is not None]
    if start is None or not states:
        return "", ()
    texts, numbers = [], set()
    for state in states:
        texts.append(state.describe() + _offset_text(ctx, state.tool))
        if state.tool:
            numbers.add(str(int(state.tool[-2:])) if ctx.machine_type == "lathe" else state.tool[1:])
    offset_seqs = [seq for seq, p in ctx.facts.offset_events if str(p.get("number")) in numbers]
    return "; ".join(dict.fromkeys(texts)), tuple(sorted({start.seq, *offset_seqs}))


def _offset_text(ctx: TraceContext, tool: str) -> str:
    if not tool:
        return ""
    offsets = ctx.summary.get("offsets") or {}
    if ctx.machine_type == "lathe":
        line = offsets.get(str(int(tool[-2:]))) or {}
        wear = line.get("wear") or {}
        return f"; wear X {wear.get('X', 0.0):.3f} Z {wear.get('Z', 0.0):.3f}" if line else "; offset line empty"
    line = offsets.get(tool[1:]) or {}
    return f"; D wear {line.get('d_wear', 0.0):.3f}" if line else ""


__all__ = ["PracticalSubmission", "grade_practical", "grade_replayed", "replay_summary", "score_item",
           "within_hard_stop"]
