# CONTRACT: stable
"""The question bank's plain data: items, the blueprint (鉴定要素细目表), the paper structure and the policy.

Pure data classes shared by assembly (C1) and import/export/analysis (C2). Immutable: a changed item is a new
`Item` with a higher `version` (an item used in a paper is never edited in place). Sequences are tuples; lists
handed in are converted. `level` is the national number (4 = 中级工), as `exam_server` numbers it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Iterable, Iterator

ITEM_TYPES = ("single", "multiple", "true_false", "numeric")
CHOICE_TYPES = ("single", "multiple")
STATUSES = ("draft", "reviewed", "active", "retired")
SOURCES = ("national", "provincial")
IMPORTANCES = ("X", "Y", "Z")      # 核心要素, 一般要素, 辅助要素
TYPE_NAMES_ZH = {"single": "单项选择题", "multiple": "多项选择题", "true_false": "判断题", "numeric": "数值填空题"}
TYPE_NAMES_EN = {"single": "single-choice", "multiple": "multiple-choice", "true_false": "true/false",
                 "numeric": "numeric"}


def _tuple(value) -> tuple:
    return tuple(value) if not isinstance(value, tuple) else value


@dataclass(frozen=True)
class Item:
    """One version of a question, linked to exactly one assessment point (鉴定点).

    key: option letters for choice items ("A", "AC"), "T"/"F" for true/false, a number for numeric items
    (correct within ±tolerance). difficulty is the CTT p-value (prior from the author, later observed).
    exposure counts the papers the item has appeared in; last_used is an ISO date.
    """

    id: str
    version: int
    occupation: str
    level: int
    point_code: str
    type: str
    stem: str
    options: tuple[str, ...]
    key: str | float
    difficulty: float
    tolerance: float = 0.0
    discrimination: float | None = None
    enemy_group: str | None = None
    source: str = "national"
    exposure: int = 0
    last_used: str | None = None
    status: str = "active"
    media: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "options", _tuple(self.options))
        object.__setattr__(self, "media", _tuple(self.media))
        problems = item_problems(self)
        if problems:
            raise ValueError(f"item {self.id} v{self.version}: " + "; ".join(problems))

    @property
    def ref(self) -> str:
        """Stable reference of this version, e.g. "Q0001@2"."""
        return f"{self.id}@{self.version}"


def item_problems(item: Item) -> list[str]:
    """Why an item is malformed (empty when it is fine)."""
    problems = []
    if item.type not in ITEM_TYPES:
        problems.append(f"type {item.type!r} not in {ITEM_TYPES}")
    if item.status not in STATUSES:
        problems.append(f"status {item.status!r} not in {STATUSES}")
    if item.source not in SOURCES:
        problems.append(f"source {item.source!r} not in {SOURCES}")
    if not 0.0 <= item.difficulty <= 1.0:
        problems.append(f"difficulty {item.difficulty} outside 0..1")
    if item.type in CHOICE_TYPES:
        letters = "ABCDEFGH"[:len(item.options)]
        if len(item.options) < 2:
            problems.append("a choice item needs at least 2 options")
        elif not (isinstance(item.key, str) and item.key and set(item.key) <= set(letters)):
            problems.append(f"key {item.key!r} is not among options {letters}")
        elif item.type == "single" and len(item.key) != 1:
            problems.append("a single-choice key is one letter")
    elif item.type == "true_false" and item.key not in ("T", "F"):
        problems.append(f"true/false key {item.key!r} is not T or F")
    elif item.type == "numeric" and not isinstance(item.key, (int, float)):
        problems.append(f"numeric key {item.key!r} is not a number")
    return problems


@dataclass(frozen=True)
class Point:
    """鉴定点: the smallest assessable unit; code is unique in its blueprint (e.g. "A-B-003")."""

    code: str
    name: str
    importance: str

    def __post_init__(self):
        if self.importance not in IMPORTANCES:
            raise ValueError(f"point {self.code}: importance {self.importance!r} not in {IMPORTANCES}")


@dataclass(frozen=True)
class Range:
    """鉴定范围: a node of the blueprint tree with its 鉴定比重 (weight_pct, as printed in the 细目表, i.e. a
    share of the whole paper). It holds either child ranges or assessment points, never both."""

    code: str
    name: str
    weight_pct: float
    children: tuple[Range, ...] = ()
    points: tuple[Point, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "children", _tuple(self.children))
        object.__setattr__(self, "points", _tuple(self.points))
        if self.children and self.points:
            raise ValueError(f"range {self.code} holds both child ranges and points")
        if self.weight_pct < 0:
            raise ValueError(f"range {self.code}: negative weight")

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def importance_counts(self) -> dict[str, int]:
        """The 重要程度比例 X:Y:Z of this range: its points by importance, subtree included."""
        counts = dict.fromkeys(IMPORTANCES, 0)
        for point in self.points:
            counts[point.importance] += 1
        for child in self.children:
            for k, n in child.importance_counts().items():
                counts[k] += n
        return counts


@dataclass(frozen=True)
class Blueprint:
    """鉴定要素细目表 of one occupation and level, versioned."""

    occupation: str
    level: int
    version: int
    ranges: tuple[Range, ...]

    def __post_init__(self):
        object.__setattr__(self, "ranges", _tuple(self.ranges))
        codes = [p.code for p in self.points()]
        duplicates = sorted({c for c in codes if codes.count(c) > 1}) if len(set(codes)) != len(codes) else []
        if duplicates:
            raise ValueError(f"blueprint: duplicate point codes {duplicates[:5]}")

    def leaves(self) -> Iterator[Range]:
        """Leaf ranges (those holding points), depth first in blueprint order."""
        stack = list(reversed(self.ranges))
        while stack:
            node = stack.pop()
            if node.is_leaf:
                yield node
            else:
                stack.extend(reversed(node.children))

    def points(self) -> Iterator[Point]:
        for leaf in self.leaves():
            yield from leaf.points

    def point_index(self) -> dict[str, tuple[Point, Range]]:
        """Point code → (point, its leaf range)."""
        return {p.code: (p, leaf) for leaf in self.leaves() for p in leaf.points}


@dataclass(frozen=True)
class Section:
    """One part of the paper: an item type, how many items, points per item."""

    type: str
    count: int
    points_each: float
    partial_credit: float = 0.0     # multiple choice: share of points for a correct subset with no wrong option

    def __post_init__(self):
        if self.type not in ITEM_TYPES:
            raise ValueError(f"section type {self.type!r} not in {ITEM_TYPES}")


@dataclass(frozen=True)
class PaperSpec:
    """试卷结构 of one occupation and level. Defaults: 数控车工 中级 national format."""

    sections: tuple[Section, ...] = (Section("single", 160, 0.5), Section("true_false", 40, 0.5))
    duration_min: int = 120
    pass_mark: float = 60.0

    def __post_init__(self):
        object.__setattr__(self, "sections", _tuple(self.sections))
        types = [s.type for s in self.sections]
        if len(set(types)) != len(types):
            raise ValueError("paper spec: one section per item type")

    @property
    def total_points(self) -> float:
        return sum(s.count * s.points_each for s in self.sections)

    @property
    def item_count(self) -> int:
        return sum(s.count for s in self.sections)

    def points_of(self, item_type: str) -> float:
        return next(s.points_each for s in self.sections if s.type == item_type)


@dataclass(frozen=True)
class Policy:
    """Per-blueprint assembly rules. Hard rules (a paper breaking one is never produced):
    - one_item_per_point: at most one item per 鉴定点 in a paper;
    - min_x_share / max_z_share: share of the paper's items on X (核心) / Z (辅助) points;
    - difficulty_target ± difficulty_band: mean p over the paper, weighted by points (0.65 ± 0.005 is ±0.5
      points of expected score on a 100-point paper);
    - enemies_apart: no two items of one enemy_group in a paper;
    - exposure_cap: in one batch of per-candidate papers, the largest share of papers an item may appear in;
    - recent_window_months: a candidate never gets an item seen within this many months.
    Only active items are used."""

    one_item_per_point: bool = True
    min_x_share: float = 0.5
    max_z_share: float = 0.15
    difficulty_target: float = 0.65
    difficulty_band: float = 0.005
    enemies_apart: bool = True
    exposure_cap: float = 0.25
    recent_window_months: int = 12


def item_fingerprint(item: Item) -> dict:
    """The item as canonical JSON-ready data (what the snapshot hash covers)."""
    data = asdict(item)
    data["options"] = list(item.options)
    data["media"] = list(item.media)
    return data


def snapshot_hash(items: Iterable[Item]) -> str:
    """SHA-256 of the bank snapshot, independent of the order items are given in."""
    rows = sorted((json.dumps(item_fingerprint(i), ensure_ascii=False, sort_keys=True) for i in items))
    digest = hashlib.sha256()
    for row in rows:
        digest.update(row.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


@dataclass(frozen=True)
class Candidate:
    """Who a per-candidate paper is for; seen maps item id → ISO date the candidate last saw it."""

    id: str
    seen: dict[str, str] = field(default_factory=dict)
