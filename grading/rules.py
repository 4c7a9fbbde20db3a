"""Item rules: from a measured value, a count of failures or the examiners' marks to the points kept.

Every function returns an :class:`Outcome` whose score lies in [0, points]. Values are compared after rounding
to 1e-6 (as the simulators' measurement does), so a value exactly on a limit is in tolerance and float noise
cannot cost a step.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .sheet import Rule

# GB/T 1031 (ISO 1302) preferred Ra series, µm: "降一级" = one value up this list.
RA_SERIES = (0.012, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.3, 12.5, 25.0, 50.0, 100.0)
ROUND = 6


@dataclass(frozen=True)
class Outcome:
    score: float
    note: str = ""                   # why points were lost (English, for the provenance)
    pending: bool = False            # manual item without the confirmations it needs

    def deduction(self, points: float) -> float:
        return round(points - self.score, ROUND)


def _kept(points: float, deduction: float) -> float:
    """Points left after ``deduction``, rounded, never outside [0, points] (rounding must not add a point)."""
    return min(points, max(0.0, round(points - deduction, ROUND)))


def overshoot(measured: float, low: float | None, high: float | None) -> float:
    """How far ``measured`` lies outside [low, high] (0 inside; limits may be open)."""
    m = round(measured, ROUND)
    below = low - m if low is not None else 0.0
    above = m - high if high is not None else 0.0
    return round(max(below, above, 0.0), ROUND)


def ra_grade(value: float) -> int:
    """Index in :data:`RA_SERIES` of the first grade that ``value`` meets (len for beyond the series)."""
    v = round(value, ROUND)
    return next((n for n, grade in enumerate(RA_SERIES) if v <= grade), len(RA_SERIES))


def grades_worse(measured: float, required: float) -> int:
    """Ra grades by which ``measured`` misses ``required`` (0 when it meets it)."""
    return max(0, ra_grade(measured) - ra_grade(required))


def score_measured(rule: Rule, points: float, measured: float | None, low: float | None,
                   high: float | None) -> Outcome:
    """Points kept by a measured item under its rule."""
    if measured is None:
        return Outcome(0.0, "not measurable")
    excess = overshoot(measured, low, high)
    kind = rule.type
    if kind == "grade_down":
        return _grade_down(rule, points, measured, high)
    if excess == 0.0:
        return Outcome(points)
    over = f"{excess:.3f} out of tolerance"
    if kind == "step":
        steps = math.ceil(excess / rule.per - 1e-9)
        return Outcome(_kept(points, steps * rule.deduct), f"{over}: {steps} step(s) of {rule.per:g}")
    if kind == "band":
        if excess <= rule.free + 1e-9:
            return Outcome(points, f"{over}, within the free band {rule.free:g}")
        if excess <= rule.half + 1e-9:
            return Outcome(round(points / 2.0, ROUND), f"{over}: half band")
        return Outcome(0.0, over)
    if kind == "gauge":
        gauge = "go gauge does not enter" if high is not None and measured > high else "no-go gauge enters"
        return Outcome(0.0, gauge)
    return Outcome(0.0, over)


def _grade_down(rule: Rule, points: float, measured: float, required: float | None) -> Outcome:
    if required is None:
        return Outcome(points)
    grades = grades_worse(measured, required)
    if grades == 0:
        return Outcome(points)
    note = f"Ra {measured:.3f} is {grades} grade(s) worse than Ra{required:g}"
    if rule.half_then_zero:
        return Outcome(round(points / 2.0, ROUND) if grades == 1 else 0.0, note)
    return Outcome(_kept(points, grades * rule.per_grade), note)


def score_count(rule: Rule, points: float, failures: int) -> Outcome:
    """Points kept by an operation item whose predicate failed ``failures`` times (0 = passed)."""
    if failures <= 0:
        return Outcome(points)
    if rule.type == "per_occurrence":
        lost = failures * rule.deduct
        if rule.cap is not None:
            lost = min(lost, rule.cap)
        return Outcome(_kept(points, lost), f"{failures} occurrence(s)")
    return Outcome(0.0, "not met")


def score_manual(rule: Rule, points: float, marks: Sequence[float]) -> Outcome:
    """The examiners' marks (points kept, one per examiner) confirmed by the sheet's rule: the largest group of
    marks within ``agree_within`` of each other must hold ``confirmations`` marks; its lowest mark counts
    (the cautious reading). Fewer agreeing marks: pending, 0 until confirmed."""
    clean = sorted(min(points, max(0.0, float(m))) for m in marks)
    needed = rule.confirmations
    best: list[float] = []
    for start in range(len(clean)):
        group = [m for m in clean[start:] if m - clean[start] <= rule.agree_within + 1e-9]
        if len(group) > len(best):
            best = group
    if len(best) < needed:
        return Outcome(0.0, f"{len(best)} of {needed} confirmations", pending=True)
    lost = points - best[0]
    if rule.cap is not None:
        lost = min(lost, rule.cap)
    return Outcome(_kept(points, lost), f"confirmed by {len(best)} examiner(s)")


def criterion_text(rule: Rule, veto: bool = False) -> str:
    """评分标准 as printed on the sheet."""
    kind = rule.type
    if kind == "step":
        text = f"超差{rule.per:g}扣{rule.deduct:g}分"
    elif kind == "band":
        text = f"超差≤{rule.free:g}不扣分，≤{rule.half:g}扣一半，超出不得分"
    elif kind == "grade_down":
        text = "降一级扣一半，降二级不得分" if rule.half_then_zero else f"降一级扣{rule.per_grade:g}分"
    elif kind == "gauge":
        text = "通规通过、止规止住，否则不得分"
    elif kind == "manual":
        text = f"考评员评分（{rule.examiners}人中{rule.confirmations}人一致）"
    elif kind == "per_occurrence":
        text = f"每处扣{rule.deduct:g}分" + (f"，最多扣{rule.cap:g}分" if rule.cap else "，扣完为止")
    else:
        text = "超差或不符合不得分"
    return text + ("；★否决项：不合格取消实操成绩" if veto else "")


__all__ = ["RA_SERIES", "Outcome", "criterion_text", "grades_worse", "overshoot", "ra_grade", "score_count",
           "score_manual", "score_measured"]
