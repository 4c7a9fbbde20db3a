"""Blueprint weights → item counts per cell, and the policy turned into integer limits for one paper.

A cell is (leaf 鉴定范围 code, item type). Counts come from largest-remainder (Hamilton) rounding applied
top-down: a section's count is split over the top-level ranges by their weights, then each range's count over
its children, down to the leaves. Rounding once per level keeps every subtree's total equal to its parent's
share, which rounding the leaves directly would not.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from assessment.bank import Blueprint, PaperSpec, Policy, Range

Cell = tuple[str, str]      # (leaf range code, item type)


def largest_remainder(weights: list[float], total: int) -> list[int]:
    """Split `total` into integers proportional to `weights`: floors first, then one more to the largest
    remainders (ties to the earlier weight, so the result is deterministic)."""
    if total < 0:
        raise ValueError("total must be non-negative")
    weight_sum = float(sum(weights))
    if total == 0:
        return [0] * len(weights)
    if weight_sum <= 0:
        raise ValueError("weights must have a positive sum to share out items")
    quotas = [total * w / weight_sum for w in weights]
    counts = [math.floor(q + 1e-9) for q in quotas]
    remainders = [q - c for q, c in zip(quotas, counts)]
    order = sorted(range(len(weights)), key=lambda i: (-round(remainders[i], 9), i))
    for i in order[:total - sum(counts)]:
        counts[i] += 1
    return counts


@dataclass(frozen=True)
class Targets:
    """Item counts per cell (leaves) and per node (every range, for the compliance report)."""

    cells: dict[Cell, int]
    nodes: dict[Cell, int]

    def cells_of_type(self, item_type: str) -> dict[str, int]:
        return {leaf: n for (leaf, t), n in self.cells.items() if t == item_type}


def allocate(blueprint: Blueprint, spec: PaperSpec) -> Targets:
    """Counts per (range, type) for every range of the blueprint, rounded top-down per section."""
    cells: dict[Cell, int] = {}
    nodes: dict[Cell, int] = {}

    def share(ranges: tuple[Range, ...], count: int, item_type: str) -> None:
        for node, n in zip(ranges, largest_remainder([r.weight_pct for r in ranges], count)):
            nodes[(node.code, item_type)] = n
            if node.is_leaf:
                cells[(node.code, item_type)] = n
            else:
                share(node.children, n, item_type)

    for section in spec.sections:
        share(blueprint.ranges, section.count, section.type)
    return Targets(cells=cells, nodes=nodes)


@dataclass(frozen=True)
class PaperRules:
    """The policy as integer limits for a paper of a given spec."""

    item_count: int
    min_x_items: int
    max_z_items: int
    target_score: float         # expected score Σ p·points aimed at
    score_band: float           # allowed |expected score − target| (hard rule)


def paper_rules(spec: PaperSpec, policy: Policy) -> PaperRules:
    n = spec.item_count
    total = spec.total_points
    return PaperRules(item_count=n,
                      min_x_items=math.ceil(policy.min_x_share * n - 1e-9),
                      max_z_items=math.floor(policy.max_z_share * n + 1e-9),
                      target_score=policy.difficulty_target * total,
                      score_band=policy.difficulty_band * total)


def weight_problems(blueprint: Blueprint, tolerance: float = 0.05) -> list[str]:
    """Where the 鉴定比重 do not add up: top-level weights to 100, children to their parent's weight."""
    problems = []
    top = sum(r.weight_pct for r in blueprint.ranges)
    if abs(top - 100.0) > tolerance:
        problems.append(f"top-level ranges weigh {top:g} %, not 100 %")

    def walk(node: Range) -> None:
        if node.children:
            inner = sum(c.weight_pct for c in node.children)
            if abs(inner - node.weight_pct) > tolerance:
                problems.append(f"range {node.code} weighs {node.weight_pct:g} % but its children {inner:g} %")
            for child in node.children:
                walk(child)
        elif not node.points:
            problems.append(f"range {node.code} has neither child ranges nor 鉴定点")

    for node in blueprint.ranges:
        walk(node)
    return problems
