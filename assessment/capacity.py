"""Capacity check before assembly: can the bank supply the requested papers at all? Each shortfall is
explained in words (English and zh-CN), naming the cell or the 鉴定点, e.g.
"鉴定点 A-B-003 has 2 active single-choice items; 20 papers need 20".

Cheap necessary conditions, per cell (leaf range, type): with N papers, each item usable in at most U papers
(U = 1 for disjoint forms, the exposure cap for per-candidate papers) and at most one item per 鉴定点 per
paper, point j supplies min(a_j·U, N) uses, so the cell needs Σ_j min(a_j·U, N) ≥ N·n_c (also sufficient for a
cell alone: fill the papers round-robin). Across types, a leaf's points must cover all its cells (Hall's
condition); across the paper, the X/Z limits and the difficulty target must be reachable.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

from assessment.bank import TYPE_NAMES_EN, TYPE_NAMES_ZH, Blueprint, Item, PaperSpec, Policy
from assessment.blueprint import Cell, allocate, paper_rules

MODES = ("disjoint", "overlap", "loft")


@dataclass(frozen=True)
class Shortfall:
    cell: Cell | None
    point_code: str | None
    message_en: str
    message_zh: str


class CapacityError(ValueError):
    """The request cannot be met; `shortfalls` says why, cell by cell."""

    def __init__(self, shortfalls: list[Shortfall]):
        self.shortfalls = shortfalls
        lines = [f"{s.message_en} / {s.message_zh}" for s in shortfalls]
        super().__init__("the bank cannot supply the requested papers:\n" + "\n".join(lines))


def eligible_items(items, blueprint: Blueprint, spec: PaperSpec) -> list[Item]:
    """Active items of the blueprint's occupation and level, on one of its points, of a type the paper asks
    for; of several active versions of one item, only the newest. Sorted by id for reproducibility."""
    points = blueprint.point_index()
    types = {s.type for s in spec.sections}
    newest: dict[str, Item] = {}
    for item in items:
        if (item.status == "active" and item.occupation == blueprint.occupation and item.level == blueprint.level
                and item.point_code in points and item.type in types):
            if item.id not in newest or item.version > newest[item.id].version:
                newest[item.id] = item
    return [newest[k] for k in sorted(newest)]


def uses_per_item(mode: str, papers: int, policy: Policy) -> int:
    """How many of the papers one item may appear in."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} not in {MODES}")
    if mode == "disjoint":
        return 1
    if mode == "loft":
        return max(1, math.floor(policy.exposure_cap * papers + 1e-9))
    return papers


def check_capacity(items, blueprint: Blueprint, spec: PaperSpec, policy: Policy, papers: int,
                   mode: str = "loft") -> list[Shortfall]:
    """Every shortfall found (empty when the request passes the cheap checks)."""
    pool = eligible_items(items, blueprint, spec)
    targets = allocate(blueprint, spec)
    per_item = uses_per_item(mode, papers, policy)
    counts: dict[tuple[str, str], int] = {}
    for item in pool:
        counts[(item.point_code, item.type)] = counts.get((item.point_code, item.type), 0) + 1
    shortfalls = []
    for leaf in blueprint.leaves():
        needs = {t: n for (code, t), n in targets.cells.items() if code == leaf.code and n > 0}
        codes = [p.code for p in leaf.points]
        for item_type, n in needs.items():
            supply = [counts.get((c, item_type), 0) for c in codes]
            shortfalls += _cell_shortfalls((leaf.code, item_type), leaf.name, codes, supply, n, papers, per_item)
        shortfalls += _leaf_cover_shortfalls(leaf.code, codes, needs, counts)
    shortfalls += _policy_shortfalls(blueprint, spec, policy, targets.cells, pool)
    return shortfalls


def require_capacity(items, blueprint, spec, policy, papers: int, mode: str = "loft") -> None:
    shortfalls = check_capacity(items, blueprint, spec, policy, papers, mode)
    if shortfalls:
        raise CapacityError(shortfalls)


def _cell_shortfalls(cell: Cell, leaf_name: str, codes: list[str], supply: list[int], n: int, papers: int,
                     per_item: int) -> list[Shortfall]:
    leaf, item_type = cell
    en, zh = TYPE_NAMES_EN[item_type], TYPE_NAMES_ZH[item_type]
    with_items = sum(1 for a in supply if a > 0)
    if with_items < n:
        return [Shortfall(cell, None,
                          f"鉴定范围 {leaf} ({leaf_name}) needs {n} {en} items on distinct 鉴定点 in every paper; "
                          f"only {with_items} of its {len(codes)} 鉴定点 have an active {en} item",
                          f"鉴定范围 {leaf}（{leaf_name}）每份试卷需要 {n} 道不同鉴定点的{zh}，"
                          f"但其 {len(codes)} 个鉴定点中只有 {with_items} 个有可用的{zh}")]
    uses = [min(a * per_item, papers) for a in supply]
    if sum(uses) >= papers * n:
        return []
    missing = papers * n - sum(uses)
    # Name points when more items on one of them alone would close the gap (a point serves each paper once) and
    # they are few; otherwise the range is short as a whole.
    closers = [(code, a, own) for code, a, own in zip(codes, supply, uses) if papers - own >= missing]
    if 0 < len(closers) <= 3:
        return [Shortfall(cell, code, f"鉴定点 {code} has {a} active {en} items; {papers} papers need {need}",
                          f"鉴定点 {code} 只有 {a} 道可用的{zh}；{papers} 份试卷需要 {need} 道")
                for code, a, own in closers for need in [math.ceil((own + missing) / per_item)]]
    limit_en = f", each item in at most {per_item} papers" if 1 < per_item < papers else ""
    limit_zh = f"，每道题至多用于 {per_item} 份试卷" if 1 < per_item < papers else ""
    return [Shortfall(cell, None,
                      f"鉴定范围 {leaf} ({leaf_name}): {papers} papers × {n} {en} items need {papers * n} item uses "
                      f"(one per 鉴定点 per paper{limit_en}); its 鉴定点 can supply {sum(uses)}",
                      f"鉴定范围 {leaf}（{leaf_name}）：{papers} 份试卷 × {n} 道{zh}共需 {papers * n} 次"
                      f"（每个鉴定点每份试卷至多一道{limit_zh}），其鉴定点只能提供 {sum(uses)} 次")]


def _leaf_cover_shortfalls(leaf: str, codes: list[str], needs: dict[str, int], counts) -> list[Shortfall]:
    """Hall's condition: any set of the leaf's types needs at least as many points carrying one of them."""
    for size in range(2, len(needs) + 1):
        for types in combinations(sorted(needs), size):
            covering = sum(1 for c in codes if any(counts.get((c, t), 0) for t in types))
            need = sum(needs[t] for t in types)
            if covering < need:
                return [Shortfall(None, None,
                                  f"鉴定范围 {leaf} needs {need} items on distinct 鉴定点 per paper "
                                  f"({', '.join(TYPE_NAMES_EN[t] for t in types)}); only {covering} 鉴定点 have items",
                                  f"鉴定范围 {leaf} 每份试卷需要 {need} 道不同鉴定点的试题"
                                  f"（{'、'.join(TYPE_NAMES_ZH[t] for t in types)}），只有 {covering} 个鉴定点有题")]
    return []


def _policy_shortfalls(blueprint, spec, policy, cells, pool) -> list[Shortfall]:
    rules = paper_rules(spec, policy)
    index = blueprint.point_index()
    found = []
    most_x = least_z = 0
    for leaf in blueprint.leaves():
        slots = sum(n for (code, _), n in cells.items() if code == leaf.code)
        carrying = {i.point_code for i in pool if index[i.point_code][1].code == leaf.code}
        x_points = sum(1 for p in leaf.points if p.importance == "X" and p.code in carrying)
        non_z = sum(1 for p in leaf.points if p.importance != "Z" and p.code in carrying)
        most_x += min(slots, x_points)
        least_z += max(0, slots - non_z)
    if most_x < rules.min_x_items:
        found.append(Shortfall(None, None, f"at most {most_x} items can sit on X points; the policy needs "
                               f"{rules.min_x_items}", f"X 类鉴定点最多只能出 {most_x} 道题，策略要求至少 "
                               f"{rules.min_x_items} 道"))
    if least_z > rules.max_z_items:
        found.append(Shortfall(None, None, f"at least {least_z} items must sit on Z points; the policy allows "
                               f"{rules.max_z_items}", f"Z 类鉴定点至少要出 {least_z} 道题，策略最多允许 "
                               f"{rules.max_z_items} 道"))
    low, high = _score_range(pool, cells, spec, index)
    if high < rules.target_score - rules.score_band or low > rules.target_score + rules.score_band:
        low_, high_, target, band = (_num(x) for x in (low, high, rules.target_score, rules.score_band))
        found.append(Shortfall(None, None,
                               f"expected scores from {low_} to {high_} are reachable; the target is {target} ± {band}",
                               f"可组出的期望得分范围为 {low_}～{high_}，目标为 {target} ± {band}"))
    return found


def _score_range(pool, cells, spec, index) -> tuple[float, float]:
    """Lowest and highest expected score: per cell, the n easiest / hardest points' extreme items."""
    lows: dict[Cell, dict[str, float]] = {}
    highs: dict[Cell, dict[str, float]] = {}
    for item in pool:
        cell = (index[item.point_code][1].code, item.type)
        lo, hi = lows.setdefault(cell, {}), highs.setdefault(cell, {})
        lo[item.point_code] = min(lo.get(item.point_code, 1.0), item.difficulty)
        hi[item.point_code] = max(hi.get(item.point_code, 0.0), item.difficulty)
    low = high = 0.0
    for cell, n in cells.items():
        points = spec.points_of(cell[1])
        low += points * sum(sorted(lows.get(cell, {}).values())[:n])
        high += points * sum(sorted(highs.get(cell, {}).values(), reverse=True)[:n])
    return low, high


def _num(x: float) -> str:
    return f"{round(x, 3):g}"
