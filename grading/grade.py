"""The one entry point: ``grade(submission, sheet) -> ScoreReport`` for a theory or a practical attempt."""
from __future__ import annotations

from typing import Any

from .practical import PracticalSubmission, grade_practical
from .report import ScoreReport
from .sheet import ScoreSheet
from .theory import AnswerKey, TheorySubmission, grade_theory


def grade(submission: PracticalSubmission | TheorySubmission, sheet: ScoreSheet | AnswerKey) -> ScoreReport:
    """A practical attempt against its score sheet, or a theory attempt against its answer key."""
    if isinstance(submission, PracticalSubmission) and isinstance(sheet, ScoreSheet):
        return grade_practical(submission, sheet)
    if isinstance(submission, TheorySubmission) and isinstance(sheet, AnswerKey):
        return grade_theory(submission, sheet)
    raise TypeError(f"cannot grade a {type(submission).__name__} with a {type(sheet).__name__}")


def report_total(report: ScoreReport | dict[str, Any]) -> tuple[float, bool, dict[str, float]]:
    """(total, passed, item scores) of a report or of its stored ``to_dict()`` form."""
    if isinstance(report, ScoreReport):
        return report.total, report.passed, {r.item_id: r.score for r in report.rows}
    return report["total"], report["passed"], {r["id"]: r["score"] for r in report["rows"]}


__all__ = ["grade", "report_total"]
