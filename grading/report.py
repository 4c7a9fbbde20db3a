"""Score reports: every line of the sheet with what was found, what it cost and why, plus the totals.

``ScoreReport.to_dict()`` is the JSON the server stores and the printout reads: the standard columns of a
Chinese score sheet (序号, 考核项目, 考核内容及要求, 配分, 评分标准, 检测结果, 扣分, 得分) under ``columns``,
one ``rows`` entry per sheet item with the same keys, and the provenance and deciding event seqs of each.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COLUMNS = {"index": "序号", "group": "考核项目", "requirement": "考核内容及要求", "points": "配分",
           "criterion": "评分标准", "result": "检测结果", "deduction": "扣分", "score": "得分"}
SUMMARY_LABELS = {"items_total": "项目得分", "civility_deduction": "文明生产扣分", "time_deduction": "超时扣分",
                  "total": "总分", "pass_mark": "合格分", "passed": "是否合格", "voided": "取消实操成绩",
                  "gate": "质量门槛"}


@dataclass(frozen=True)
class ItemScore:
    index: int
    item_id: str
    group: str                         # the group's label (考核项目)
    label: str
    requirement: str
    points: float
    criterion: str
    result: str                        # 检测结果 as printed
    measured: float | None
    score: float
    provenance: str = ""
    seqs: tuple[int, ...] = ()
    source: str = "auto"               # auto | examiners | pending (manual, not yet confirmed)
    kind: str = ""
    role: str = ""

    @property
    def deduction(self) -> float:
        return round(self.points - self.score, 6)

    def to_dict(self) -> dict:
        return {"index": self.index, "id": self.item_id, "group": self.group, "label": self.label,
                "requirement": self.requirement, "points": self.points, "criterion": self.criterion,
                "result": self.result, "measured": self.measured, "deduction": self.deduction,
                "score": self.score, "provenance": self.provenance, "seqs": list(self.seqs),
                "source": self.source, "kind": self.kind, "role": self.role}


@dataclass(frozen=True)
class ScoreReport:
    sheet_id: str
    sheet_version: int
    part: str
    rows: tuple[ItemScore, ...]
    items_total: float
    civility_deduction: float = 0.0
    time_deduction: float = 0.0
    total: float = 0.0
    pass_mark: float = 60.0
    passed: bool = False
    voided: bool = False
    void_reasons: tuple[str, ...] = ()
    gate: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    candidate: str | None = None
    facts: dict = field(default_factory=dict)          # elapsed minutes, events, alarms… for the printout
    title: str = ""

    @property
    def total_points(self) -> float:
        return round(sum(r.points for r in self.rows), 6)

    @property
    def pending(self) -> bool:
        return any(row.source == "pending" for row in self.rows)

    def row(self, item_id: str) -> ItemScore:
        return next(r for r in self.rows if r.item_id == item_id)

    def to_dict(self) -> dict[str, Any]:
        return {"sheet": {"id": self.sheet_id, "version": self.sheet_version, "title": self.title,
                          "total_points": self.total_points}, "part": self.part,
                "candidate": self.candidate, "columns": dict(COLUMNS), "labels": dict(SUMMARY_LABELS),
                "rows": [r.to_dict() for r in self.rows], "items_total": self.items_total,
                "civility_deduction": self.civility_deduction, "time_deduction": self.time_deduction,
                "total": self.total, "pass_mark": self.pass_mark, "passed": self.passed, "voided": self.voided,
                "void_reasons": list(self.void_reasons), "gate": dict(self.gate), "pending": self.pending,
                "notes": list(self.notes), "facts": dict(self.facts)}


def fmt(value: float) -> str:
    """A score or deduction as printed: no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


__all__ = ["COLUMNS", "ItemScore", "ScoreReport", "SUMMARY_LABELS", "fmt"]
