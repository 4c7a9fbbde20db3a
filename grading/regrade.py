"""Dry-run regrade: grade everyone again with a corrected sheet or key and list who changes, before anything
is stored. Pure: the caller hands in the stored reports and the submissions and decides what to commit."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .grade import grade, report_total
from .report import ScoreReport

EPSILON = 1e-6


@dataclass(frozen=True)
class Change:
    candidate: str
    old_total: float
    new_total: float
    old_passed: bool
    new_passed: bool
    items: tuple[tuple[str, float | None, float | None], ...]      # (item id, old score, new score)
    report: ScoreReport                                              # the new report, to commit if accepted

    @property
    def delta(self) -> float:
        return round(self.new_total - self.old_total, 6)

    def to_dict(self) -> dict:
        return {"candidate": self.candidate, "old_total": self.old_total, "new_total": self.new_total,
                "delta": self.delta, "old_passed": self.old_passed, "new_passed": self.new_passed,
                "items": [{"id": i, "old": o, "new": n} for i, o, n in self.items]}


def regrade_diff(old_reports: Mapping[str, ScoreReport | dict[str, Any]], new_sheet: Any,
                 submissions: Mapping[str, Any]) -> list[Change]:
    """Candidates (keys of ``submissions``) whose total, verdict or any item score changes under
    ``new_sheet``, in candidate order; a candidate without an old report counts as a change from 0."""
    changes = []
    for candidate in sorted(submissions):
        new = grade(submissions[candidate], new_sheet)
        old = old_reports.get(candidate)
        old_total, old_passed, old_items = report_total(old) if old is not None else (0.0, False, {})
        new_total, new_passed, new_items = report_total(new)
        items = tuple((i, old_items.get(i), new_items.get(i)) for i in sorted(set(old_items) | set(new_items))
                      if old_items.get(i) is None or new_items.get(i) is None
                      or abs(old_items[i] - new_items[i]) > EPSILON)
        if items or abs(new_total - old_total) > EPSILON or old_passed != new_passed:
            changes.append(Change(candidate, old_total, new_total, old_passed, new_passed, items, new))
    return changes


__all__ = ["Change", "regrade_diff"]
