"""Theory scoring against a versioned answer key: single, multiple (partial credit as data), true/false, numeric.

Answers are the delivery's values (exam_server/papers): an option id for single choice, a list of option ids
for multiple choice, a bool (or "T"/"F") for true/false, a number for numeric items. A batch of attempts is
scored at once: the answers are encoded into integer option masks and floats, and every rule is a numpy
expression over the (attempts × items) arrays, so regrading a session after a key correction is cheap.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .report import ItemScore, ScoreReport
from .sheet import SheetError

TYPES = ("single", "multiple", "true_false", "numeric")
TYPE_ALIASES = {"truefalse": "true_false", "judge": "true_false"}
TYPE_LABELS = {"single": "单项选择题", "multiple": "多项选择题", "true_false": "判断题", "numeric": "数值填空题"}
MISSING = -1


@dataclass(frozen=True)
class MultipleRule:
    """Fractions of the points for a multiple-choice answer: all key options and nothing else (``full``), a
    non-empty subset of the key without a wrong option (``subset``), anything with a wrong option (``wrong``)."""

    full: float = 1.0
    subset: float = 0.5
    wrong: float = 0.0

    def text(self) -> str:
        return f"全对得分，少选得{self.subset:g}倍，错选不得分" if self.subset else "全对得分，少选、错选不得分"


@dataclass(frozen=True)
class KeyItem:
    id: str
    type: str
    points: float
    key: Any                       # "B"; ("A", "B", "D"); True; 21.4
    tolerance: float = 0.0         # numeric: |answer − key| ≤ tolerance


@dataclass(frozen=True)
class AnswerKey:
    id: str
    version: int
    items: tuple[KeyItem, ...]
    multiple: MultipleRule = MultipleRule()
    pass_mark: float = 60.0
    title: str = ""
    part: str = "theory"

    @property
    def total_points(self) -> float:
        return sum(i.points for i in self.items)

    def to_dict(self) -> dict:
        return {"id": self.id, "version": self.version, "title": self.title, "pass_mark": self.pass_mark,
                "multiple": self.multiple.__dict__,
                "items": [{"id": i.id, "type": i.type, "points": i.points,
                           "key": list(i.key) if i.type == "multiple" else i.key,
                           **({"tolerance": i.tolerance} if i.type == "numeric" else {})} for i in self.items]}


def _key_value(type_: str, key: Any, path: str, problems: list[str]) -> Any:
    if type_ == "single" and isinstance(key, str) and key:
        return key
    if type_ == "multiple" and isinstance(key, (list, tuple, str)) and key:
        return tuple(sorted(key))          # "AC" or ["A", "C"]
    if type_ == "true_false":
        if isinstance(key, bool):
            return key
        if key in ("T", "F"):
            return key == "T"
    if type_ == "numeric" and isinstance(key, (int, float)) and not isinstance(key, bool) and math.isfinite(key):
        return float(key)
    problems.append(f"{path}.key: not a valid {type_} key: {key!r}")
    return None


def answer_key_from_dict(data: Mapping[str, Any]) -> AnswerKey:
    """A key from its JSON form, or from a paper (exam_server/papers: items with type, points, key, tolerance).
    :class:`~grading.sheet.SheetError` names every problem's path."""
    problems: list[str] = []
    items = []
    for n, raw in enumerate(data.get("items") or []):
        path = f"items[{n}]"
        type_ = TYPE_ALIASES.get(raw.get("type"), raw.get("type"))
        if type_ not in TYPES:
            problems.append(f"{path}.type: must be one of {', '.join(TYPES)}")
            continue
        points = raw.get("points", 1)
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
            problems.append(f"{path}.points: must be a number ≥ 0")
            continue
        key = _key_value(type_, raw.get("key"), path, problems)
        tolerance = raw.get("tolerance", 0.0) or 0.0
        if not isinstance(tolerance, (int, float)) or tolerance < 0:
            problems.append(f"{path}.tolerance: must be a number ≥ 0")
            tolerance = 0.0
        items.append(KeyItem(str(raw.get("id")), type_, float(points), key, float(tolerance)))
    if not items and not problems:
        problems.append("items: must be a non-empty list")
    ids = [i.id for i in items]
    problems += [f"items: id {d!r} is used twice" for d in sorted({i for i in ids if ids.count(i) > 1})]
    version = data.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        problems.append("version: must be a positive integer")
    rule = data.get("multiple") or {}
    multiple = MultipleRule(**{k: float(rule[k]) for k in ("full", "subset", "wrong") if k in rule})
    if not 0 <= multiple.wrong <= multiple.subset <= multiple.full <= 1:
        problems.append("multiple: needs 0 ≤ wrong ≤ subset ≤ full ≤ 1")
    if problems:
        raise SheetError(problems)
    return AnswerKey(str(data.get("id", "")), version, tuple(items), multiple,
                     float(data.get("pass_mark", 60.0)), str(data.get("title", "")))


# ---------------------------------------------------------------------------------------------- batch scoring
class _Encoder:
    """Answers -> (mask, number) arrays. Option ids get one bit each per item, in first-seen order."""

    def __init__(self, key: AnswerKey):
        self.key = key
        self.bits: list[dict[str, int]] = []
        masks = []
        for item in key.items:
            bits: dict[str, int] = {}
            options = item.key if item.type == "multiple" else (item.key,) if item.type == "single" else ()
            for option in options:
                bits.setdefault(option, 1 << len(bits))
            self.bits.append(bits)
            masks.append(self._mask(item, item.key, bits))
        self.key_masks = np.array(masks, dtype=np.int64)

    def _mask(self, item: KeyItem, value: Any, bits: dict[str, int]) -> int:
        if value is None:
            return MISSING
        if item.type == "true_false":
            if value in ("T", "F"):
                value = value == "T"
            return (1 if value else 2) if isinstance(value, bool) else MISSING
        if item.type == "numeric":
            return 0
        options = (value,) if isinstance(value, str) else value if isinstance(value, (list, tuple)) else ()
        mask = 0
        for option in options:
            if not isinstance(option, str) or len(bits) >= 62:
                return MISSING
            mask |= bits.setdefault(option, 1 << len(bits))
        return mask if mask else MISSING

    def encode(self, attempts: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        items = self.key.items
        masks = np.full((len(attempts), len(items)), MISSING, dtype=np.int64)
        numbers = np.full((len(attempts), len(items)), np.nan)
        numeric = [j for j, i in enumerate(items) if i.type == "numeric"]
        other = [j for j, i in enumerate(items) if i.type != "numeric"]
        for a, answers in enumerate(attempts):
            row = masks[a]
            for j in other:
                value = answers.get(items[j].id)
                if value is not None:
                    row[j] = self._mask(items[j], value, self.bits[j])
            for j in numeric:
                value = answers.get(items[j].id)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    numbers[a, j] = value
        return masks, numbers


def score_attempts(key: AnswerKey, attempts: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Points per attempt and item, shape (attempts, items), in the key's item order."""
    encoder = _Encoder(key)
    masks, numbers = encoder.encode(attempts)
    items = key.items
    types = np.array([i.type for i in items])
    points = np.array([i.points for i in items])
    key_numbers = np.array([i.key if i.type == "numeric" else np.nan for i in items], dtype=float)
    tolerance = np.array([i.tolerance for i in items])
    answered = masks != MISSING
    exact = answered & (masks == encoder.key_masks)
    subset = answered & (masks > 0) & ((masks & ~encoder.key_masks) == 0) & ~exact
    rule = key.multiple
    multiple = np.where(exact, rule.full, np.where(subset, rule.subset, np.where(answered, rule.wrong, 0.0)))
    with np.errstate(invalid="ignore"):
        numeric_ok = np.abs(numbers - key_numbers) <= tolerance + 1e-9
    fraction = np.where(types == "multiple", multiple,
                        np.where(types == "numeric", numeric_ok, exact)).astype(float)
    return np.round(fraction * points, 6)


# ---------------------------------------------------------------------------------------------- one attempt
@dataclass(frozen=True)
class TheorySubmission:
    answers: Mapping[str, Any]
    candidate: str | None = None
    overrides: Mapping[str, tuple[float, str]] = field(default_factory=dict)       # item -> (score, reason)


def _answer_text(value: Any) -> str:
    if value is None:
        return "未作答"
    if isinstance(value, bool):
        return "√" if value else "×"
    if isinstance(value, (list, tuple)):
        return "".join(sorted(map(str, value)))
    return str(value)


def _criterion(item: KeyItem, key: AnswerKey) -> str:
    if item.type == "multiple":
        return key.multiple.text()
    if item.type == "numeric":
        return f"答案{item.key:g}，允差±{item.tolerance:g}"
    return "答对得分"


def grade_theory(submission: TheorySubmission, key: AnswerKey) -> ScoreReport:
    scores = score_attempts(key, [submission.answers])[0]
    rows = []
    for n, (item, score) in enumerate(zip(key.items, scores)):
        value = submission.answers.get(item.id)
        expected = _answer_text(item.key)
        rows.append(ItemScore(index=n + 1, item_id=item.id, group=TYPE_LABELS[item.type], label=item.id,
                              requirement=f"标准答案 {expected}", points=item.points, criterion=_criterion(item, key),
                              result=_answer_text(value), measured=None, score=float(score),
                              provenance=f"answer {_answer_text(value)}, key {expected} (key v{key.version})",
                              kind=item.type, role="theory"))
    rows = [_overridden(row, submission.overrides) for row in rows]
    total = round(sum(row.score for row in rows), 6)
    return ScoreReport(sheet_id=key.id, sheet_version=key.version, part="theory", rows=tuple(rows),
                       items_total=total, total=total, pass_mark=key.pass_mark, passed=total >= key.pass_mark - 1e-9,
                       candidate=submission.candidate, title=key.title)


def _overridden(row: ItemScore, overrides: Mapping[str, tuple[float, str]]) -> ItemScore:
    """An examiner's override, as on a practical sheet: clamped to the item's points, the provenance kept."""
    if row.item_id not in overrides:
        return row
    score, reason = overrides[row.item_id]
    score = min(row.points, max(0.0, float(score)))
    return replace(row, score=score, source="override",
                   provenance=f"{row.provenance}; overridden by the examiners to {score:g}: {reason}")


__all__ = ["AnswerKey", "KeyItem", "MultipleRule", "TheorySubmission", "answer_key_from_dict", "grade_theory",
           "score_attempts"]
