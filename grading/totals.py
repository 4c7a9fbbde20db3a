"""The sheet's own rules applied to scored rows: veto, quality gate, civility and overtime deductions, pass mark.

Order (as the sheets read): a veto or a missed start deadline voids the part (total 0, not passed); otherwise
the gated groups' points count only when the quality groups reached the gate's fraction of their points;
civility deductions (per violation, capped) and overtime deductions come off the items' total, which never
drops below 0.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from .report import ItemScore, ScoreReport
from .sheet import ScoreSheet, TimeRules

ROUND = 6


def civility_deduction(sheet: ScoreSheet, violations: int) -> float:
    """文明生产: ``per_violation`` for each violation, at most ``cap``."""
    return round(min(sheet.civility_cap, sheet.civility_per_violation * max(0, violations)), ROUND)


def overtime_minutes(time: TimeRules, elapsed_min: float) -> float:
    if time.limit_min is None:
        return 0.0
    return round(max(0.0, elapsed_min - time.limit_min), ROUND)


def time_deduction(time: TimeRules, elapsed_min: float) -> float:
    """``deduct`` points per started ``every_min`` minutes past the limit."""
    over = overtime_minutes(time, elapsed_min)
    if over <= 0 or not time.deduct:
        return 0.0
    return round(math.ceil(over / time.every_min - 1e-9) * time.deduct, ROUND)


def apply_gate(sheet: ScoreSheet, rows: Sequence[ItemScore]) -> tuple[list[ItemScore], dict]:
    """Rows with the gated roles' scores zeroed when quality missed the gate; and the gate's figures."""
    gate = sheet.gate
    if gate is None:
        return list(rows), {}
    quality = [r for r in rows if r.role == gate.role]
    points = sum(r.points for r in quality)
    scored = round(sum(r.score for r in quality), ROUND)
    needed = round(gate.min_fraction * points, ROUND)
    reached = scored >= needed - 1e-9
    info = {"role": gate.role, "scored": scored, "needed": needed, "reached": reached,
            "gated": list(gate.gated)}
    if reached:
        return list(rows), info
    out = []
    for row in rows:
        if row.role in gate.gated and row.score > 0:
            note = f"{row.provenance}; gate: quality {scored:g} < {needed:g}, not counted".lstrip("; ")
            row = replace(row, score=0.0, provenance=note)
        out.append(row)
    return out, info


def finish(sheet: ScoreSheet, rows: Sequence[ItemScore], *, civility_violations: int = 0,
           elapsed_min: float = 0.0, void_reasons: Sequence[str] = (), notes: Sequence[str] = (),
           candidate: str | None = None, facts: dict | None = None) -> ScoreReport:
    """The report of ``rows`` under the sheet's rules."""
    vetoed = [f"{r.item_id} {r.label}: {r.result}" for r in rows
              if r.item_id in {i.id for i in sheet.items if i.veto} and r.score < r.points - 1e-9]
    reasons = tuple(void_reasons) + tuple(vetoed)
    rows, gate = apply_gate(sheet, rows)
    items_total = round(sum(r.score for r in rows), ROUND)
    civility = civility_deduction(sheet, civility_violations)
    overtime = time_deduction(sheet.time, elapsed_min)
    total = 0.0 if reasons else round(max(0.0, items_total - civility - overtime), ROUND)
    passed = not reasons and total >= sheet.pass_mark - 1e-9
    return ScoreReport(sheet_id=sheet.id, sheet_version=sheet.version, part=sheet.part, rows=tuple(rows),
                       items_total=items_total, civility_deduction=civility, time_deduction=overtime,
                       total=total, pass_mark=sheet.pass_mark, passed=passed, voided=bool(reasons),
                       void_reasons=reasons, gate=gate, notes=tuple(notes), candidate=candidate,
                       facts=dict(facts or {}), title=sheet.title)


__all__ = ["apply_gate", "civility_deduction", "finish", "overtime_minutes", "time_deduction"]
