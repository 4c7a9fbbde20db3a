"""The compliance report of one paper, readable by an examiner: counts per cell and per range against the
blueprint, X/Y/Z shares, expected score against the target, overlap with other papers, and every hard-rule
violation. Assembly refuses to produce a paper whose report lists a violation.

It works from the paper's items alone (not the assembler's internal arrays), so it also checks papers
assembled elsewhere or edited by hand.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from assessment.bank import IMPORTANCES, TYPE_NAMES_EN, Blueprint, Item, PaperSpec, Policy
from assessment.blueprint import Targets, allocate, paper_rules


@dataclass(frozen=True)
class CellCount:
    range_code: str
    type: str
    target: int
    actual: int


@dataclass(frozen=True)
class ComplianceReport:
    paper_id: str
    item_refs: tuple[str, ...]              # the paper's items in the order checked
    cells: tuple[CellCount, ...]            # every range (leaves and inner nodes) × type
    importance_counts: dict[str, int]
    expected_score: float
    target_score: float
    score_band: float
    overlap: dict[str, int] = field(default_factory=dict)      # other paper id → shared items
    violations: tuple[str, ...] = ()

    @property
    def compliant(self) -> bool:
        return not self.violations

    @property
    def importance_shares(self) -> dict[str, float]:
        total = sum(self.importance_counts.values()) or 1
        return {k: v / total for k, v in self.importance_counts.items()}

    def to_text(self) -> str:
        """A plain-text report for the examiner."""
        shares = ", ".join(f"{k} {v:.1%}" for k, v in self.importance_shares.items())
        lines = [f"paper {self.paper_id}: {'compliant' if self.compliant else 'NOT COMPLIANT'}",
                 f"expected score {self.expected_score:.3f} (target {self.target_score:.2f} ± {self.score_band:.2f})",
                 f"importance shares: {shares}"]
        lines += [f"  {c.range_code:<8} {TYPE_NAMES_EN[c.type]:<16} {c.actual:>3} / {c.target:<3}"
                  + ("" if c.actual == c.target else "  ← differs") for c in self.cells]
        if self.overlap:
            lines.append("largest overlap: " + ", ".join(f"{k}: {v}" for k, v in
                                                         sorted(self.overlap.items(), key=lambda kv: -kv[1])[:5]))
        lines += [f"VIOLATION: {v}" for v in self.violations]
        return "\n".join(lines)


def compliance_report(paper_id: str, items: list[Item], blueprint: Blueprint, spec: PaperSpec, policy: Policy,
                      targets: Targets | None = None, others: dict[str, set[str]] | None = None,
                      max_overlap: int | None = None, excluded_ids: frozenset[str] = frozenset()) -> ComplianceReport:
    """Check one paper. `others` maps other papers' ids to their item ids (for overlap; a hard rule when
    max_overlap is given); `excluded_ids` are items this candidate must not get (seen recently)."""
    targets = targets or allocate(blueprint, spec)
    rules = paper_rules(spec, policy)
    index = blueprint.point_index()
    violations = _item_violations(items, blueprint, spec, index, excluded_ids)
    known = [i for i in items if i.point_code in index and i.type in {s.type for s in spec.sections}]
    cells = _cell_counts(known, blueprint, targets, index)
    violations += [f"range {c.range_code} has {c.actual} {TYPE_NAMES_EN[c.type]} items, the blueprint asks for "
                   f"{c.target}" for c in cells if c.actual != c.target]
    importance = Counter(index[i.point_code][0].importance for i in known)
    counts = {k: importance.get(k, 0) for k in IMPORTANCES}
    if counts["X"] < rules.min_x_items:
        violations.append(f"{counts['X']} items on X points, the policy needs at least {rules.min_x_items}")
    if counts["Z"] > rules.max_z_items:
        violations.append(f"{counts['Z']} items on Z points, the policy allows at most {rules.max_z_items}")
    score = sum(i.difficulty * spec.points_of(i.type) for i in known)
    if abs(score - rules.target_score) > rules.score_band + 1e-9:
        violations.append(f"expected score {score:.3f} is outside {rules.target_score:.2f} ± {rules.score_band:.2f}")
    violations += _pair_violations(items, policy)
    overlap = {}
    if others:
        ids = {i.id for i in items}
        overlap = {k: len(ids & v) for k, v in others.items() if k != paper_id}
        if max_overlap is not None:
            violations += [f"shares {n} items with paper {k}, at most {max_overlap} allowed"
                           for k, n in overlap.items() if n > max_overlap]
    return ComplianceReport(paper_id, tuple(i.ref for i in items), tuple(cells), counts, score, rules.target_score,
                            rules.score_band, overlap, tuple(violations))


def _item_violations(items, blueprint, spec, index, excluded_ids) -> list[str]:
    found = []
    types = {s.type for s in spec.sections}
    for item in items:
        if item.status != "active":
            found.append(f"item {item.ref} is {item.status}, not active")
        if item.occupation != blueprint.occupation or item.level != blueprint.level:
            found.append(f"item {item.ref} belongs to {item.occupation} level {item.level}")
        if item.point_code not in index:
            found.append(f"item {item.ref} is on 鉴定点 {item.point_code}, which the blueprint lacks")
        if item.type not in types:
            found.append(f"item {item.ref} is {item.type}, which the paper structure lacks")
        if item.id in excluded_ids:
            found.append(f"item {item.ref} was seen by the candidate within the recent-use window")
    return found


def _cell_counts(items, blueprint: Blueprint, targets: Targets, index) -> list[CellCount]:
    """Actual counts per (range, type) for every range, leaves summed up their ancestors."""
    parents: dict[str, list[str]] = {}

    def walk(ranges, chain):
        for r in ranges:
            parents[r.code] = chain + [r.code]
            walk(r.children, chain + [r.code])

    walk(blueprint.ranges, [])
    actual: Counter = Counter()
    for item in items:
        for code in parents[index[item.point_code][1].code]:
            actual[(code, item.type)] += 1
    return [CellCount(code, t, n, actual.get((code, t), 0)) for (code, t), n in targets.nodes.items()]


def _pair_violations(items, policy: Policy) -> list[str]:
    found = []
    ids = Counter(i.id for i in items)
    found += [f"item {k} appears {n} times" for k, n in ids.items() if n > 1]
    if policy.one_item_per_point:
        points = Counter(i.point_code for i in items)
        found += [f"鉴定点 {k} has {n} items, at most 1 allowed" for k, n in points.items() if n > 1]
    if policy.enemies_apart:
        groups = Counter(i.enemy_group for i in items if i.enemy_group)
        found += [f"enemy group {k} has {n} items together" for k, n in groups.items() if n > 1]
    return found


@dataclass(frozen=True)
class BatchSummary:
    """Exposure across a batch of papers: how often the most used item appears, how many distinct items are
    used, and how much two papers share on average (exact: Σᵢ cᵢ(cᵢ−1)/2 shared items over P(P−1)/2 pairs)."""

    papers: int
    distinct_items: int
    max_exposure: float             # largest share of the papers one item is in
    mean_overlap_items: float       # items two papers share, averaged over all pairs
    max_overlap_items: int | None   # the worst pair (computed only for small batches)


def batch_summary(papers: list[list[str]], pairwise_limit: int = 100) -> BatchSummary:
    """`papers` are lists of item ids."""
    counts = Counter(i for paper in papers for i in set(paper))
    n = len(papers)
    pairs = n * (n - 1) / 2
    shared = sum(c * (c - 1) / 2 for c in counts.values())
    worst = None
    if 1 < n <= pairwise_limit:
        sets = [set(p) for p in papers]
        worst = max(len(a & b) for k, a in enumerate(sets) for b in sets[k + 1:])
    return BatchSummary(n, len(counts), max(counts.values()) / n if n else 0.0, shared / pairs if pairs else 0.0,
                        worst)
