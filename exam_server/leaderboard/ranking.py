"""Ranking as data: a weighted total over the rounds, then tie-breaks named in the competition's rules.

Pure: no Flask, no database, no clock. Scores are exact (`Fraction`), so two totals that are equal on paper are
equal here (0.3 × 80 + 0.7 × 90 never differs from 0.3 × 90 + 0.7 × 85.714… by a rounding error).
Every standing carries the reason it sits below the entry above it, so a rank can be explained from the scores.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Iterable, Mapping, Optional

THEORY, PRACTICAL = "theory", "practical"


@dataclass(frozen=True)
class Round:
    """One round of a competition: a key, its part (theory or practical) and its weight in percent."""

    key: str
    part: str
    weight_percent: int


@dataclass(frozen=True)
class PartScore:
    """The score an entry holds in one round: points out of 100, safety deductions and the time used."""

    score: Fraction
    deductions: Fraction = Fraction(0)
    time_used_s: int = 0


@dataclass(frozen=True)
class EntryScores:
    entry_id: int
    name: str
    parts: Mapping[str, PartScore] = field(default_factory=dict)


@dataclass(frozen=True)
class Criterion:
    """A tie-break: how to read it from an entry and whether more is better."""

    name: str
    value: Callable[[EntryScores, tuple], Fraction]
    higher_is_better: bool


def _weighted(entry: EntryScores, rounds: tuple, part: Optional[str] = None) -> Fraction:
    return sum((Fraction(r.weight_percent, 100) * entry.parts[r.key].score
                for r in rounds if r.key in entry.parts and (part is None or r.part == part)), Fraction(0))


CRITERIA = {
    "total": Criterion("total", lambda e, rs: _weighted(e, rs), True),
    "practical": Criterion("practical", lambda e, rs: _weighted(e, rs, PRACTICAL), True),
    "theory": Criterion("theory", lambda e, rs: _weighted(e, rs, THEORY), True),
    "time_used": Criterion("time_used", lambda e, rs: Fraction(sum(p.time_used_s for p in e.parts.values())), False),
    "deductions": Criterion("deductions", lambda e, rs: sum((p.deductions for p in e.parts.values()), Fraction(0)),
                            False),
}
DEFAULT_TIE_BREAKS = ("practical", "time_used", "theory", "deductions")


@dataclass(frozen=True)
class Rules:
    rounds: tuple
    tie_breaks: tuple = DEFAULT_TIE_BREAKS

    def __post_init__(self):
        unknown = [name for name in self.tie_breaks if name not in CRITERIA or name == "total"]
        if unknown:
            raise ValueError(f"unknown tie-breaks: {unknown}")
        if sum(r.weight_percent for r in self.rounds) != 100:
            raise ValueError("round weights must add up to 100 %")

    @property
    def criteria(self) -> tuple:
        return (CRITERIA["total"], *(CRITERIA[name] for name in self.tie_breaks))


@dataclass(frozen=True)
class Standing:
    rank: int
    entry_id: int
    name: str
    values: tuple           # (total, *tie-break values), in the order of Rules.criteria
    reason: str             # why it is below the previous standing (empty for the first)


def sort_key(entry: EntryScores, rules: Rules) -> tuple:
    """Smaller sorts first: each criterion negated when more is better; the name only orders true ties."""
    values = tuple(c.value(entry, rules.rounds) for c in rules.criteria)
    signed = tuple(-v if c.higher_is_better else v for v, c in zip(values, rules.criteria))
    return signed + (entry.name, entry.entry_id)


def values_of(key: tuple, rules: Rules) -> tuple:
    return tuple(-v if c.higher_is_better else v for v, c in zip(key, rules.criteria))


def explain(above: tuple, below: tuple, rules: Rules) -> str:
    """The first criterion that separates two value tuples, e.g. 'practical 63 > 60 (total tied at 87)'."""
    tied = []
    for criterion, a, b in zip(rules.criteria, above, below):
        if a != b:
            sign = ">" if criterion.higher_is_better else "<"
            prefix = f" ({', '.join(tied)} tied)" if tied else ""
            return f"{criterion.name} {fmt(a)} {sign} {fmt(b)}{prefix}"
        tied.append(f"{criterion.name} {fmt(a)}")
    return "tied on " + ", ".join(tied)


def fmt(value: Fraction) -> str:
    """Two decimals at most, no trailing zeros: 87, 87.5, 85.71."""
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def ranks_of(keys: Iterable[tuple], rules: Rules) -> list[int]:
    """Competition ranking (1, 1, 3): equal on every criterion shares a rank."""
    ranks, previous, rank = [], None, 0
    for position, key in enumerate(keys, start=1):
        values = key[:len(rules.criteria)]
        if values != previous:
            rank, previous = position, values
        ranks.append(rank)
    return ranks


def rank(entries: Iterable[EntryScores], rules: Rules) -> list[Standing]:
    """Every entry with its rank and the reason it is below the one above."""
    keyed = sorted(((sort_key(e, rules), e) for e in entries), key=lambda pair: pair[0])
    standings, above = [], None
    for (key, entry), place in zip(keyed, ranks_of((k for k, _ in keyed), rules)):
        values = values_of(key[:len(rules.criteria)], rules)
        reason = "" if above is None else explain(above, values, rules)
        standings.append(Standing(place, entry.entry_id, entry.name, values, reason))
        above = values
    return standings


MEDALS = ("gold", "silver", "bronze")


def medal_counts(entries: int, *, shares: Optional[tuple] = None, counts: Optional[tuple] = None) -> tuple:
    """How many places each medal covers: by count as given, or by share of the entries rounded down (a share
    is never exceeded), e.g. 10 %/20 %/30 % of 25 entries = 2, 5, 7."""
    if counts is not None:
        return tuple(int(c) for c in counts)
    return tuple(int(Fraction(share) * entries) for share in shares)


def medals(standings: list[Standing], places: tuple) -> dict[int, str]:
    """entry id → medal. Medals go by rank, so entries tied on a medal line share the better medal."""
    limits, running = [], 0
    for count in places:
        running += count
        limits.append(running)
    awarded = {}
    for standing in standings:
        medal = next((m for m, limit in zip(MEDALS, limits) if standing.rank <= limit), None)
        if medal is not None:
            awarded[standing.entry_id] = medal
    return awarded
