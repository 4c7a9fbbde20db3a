"""Station quality (质量督导) arithmetic, pure: periods, pass rates, the pass-rate anomaly test, and the red/black
list (红黑榜) rules evaluated over a station's indicators. No database, no clock; docs/affairs.md explains the
choices.

Pass-rate anomaly: a station whose pass rate is suspiciously *high* compared with the rest of the province (lax
marking or leaked papers show up this way; a low rate is a training problem, not an integrity one). It is flagged
when all three hold:

* the station sat at least ``min_sample`` graded candidates (small stations swing too much to judge);
* its rate exceeds the rest of the province's by more than ``margin`` (15 percentage points by default), so a
  statistically clear but practically small difference is not flagged;
* a one-sided two-proportion z-test (pooled variance) of station vs the rest of the province gives p < ``alpha``
  (0.01 by default). The station is compared with the *rest* of the province, not the whole, so it is not tested
  against itself.
"""
from __future__ import annotations

import calendar
import math
import operator
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Iterable, Mapping, Optional

# ------------------------------------------------------------------------------------------ periods


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end`` inclusive, with the label it was asked for (2026-03, 2026-Q1, 2026 or a range)."""
    start: date
    end: date
    label: str


_MONTH, _QUARTER, _YEAR = re.compile(r"^(\d{4})-(\d{2})$"), re.compile(r"^(\d{4})-Q([1-4])$"), re.compile(r"^(\d{4})$")


def parse_period(text: str) -> Period:
    """"2026-03" (a month), "2026-Q1" (a quarter), "2026" (a year) or "2026-01-15..2026-02-14" (days, inclusive).
    Raises ValueError on anything else, or on a range that ends before it starts."""
    text = (text or "").strip()
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ValueError(text)
        return Period(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]), text)
    if m := _QUARTER.match(text):
        year, q = int(m[1]), int(m[2])
        last = 3 * q
        return Period(date(year, last - 2, 1), date(year, last, calendar.monthrange(year, last)[1]), text)
    if m := _YEAR.match(text):
        return Period(date(int(m[1]), 1, 1), date(int(m[1]), 12, 31), text)
    start_text, sep, end_text = text.partition("..")
    if not sep:
        raise ValueError(text)
    start, end = date.fromisoformat(start_text.strip()), date.fromisoformat(end_text.strip())
    if end < start:
        raise ValueError(text)
    return Period(start, end, f"{start.isoformat()}..{end.isoformat()}")


def shortcuts(today: date) -> list[tuple[str, str]]:
    """(name, period) for this and last month, this quarter, this and last year."""
    last_month = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    return [("this_month", f"{today:%Y-%m}"), ("last_month", f"{last_month:%Y-%m}"),
            ("this_quarter", f"{today.year}-Q{(today.month - 1) // 3 + 1}"), ("this_year", str(today.year)),
            ("last_year", str(today.year - 1))]


# ------------------------------------------------------------------------------------------ rates and the test


def rate(passed: int, total: int) -> Optional[float]:
    """The share passed, None when nobody was graded."""
    return passed / total if total else None


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """z and the one-sided p (H1: p1 > p2) of the pooled two-proportion z-test; (0, 1) when undefined."""
    if n1 == 0 or n2 == 0:
        return 0.0, 1.0
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance == 0:
        return 0.0, 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    return z, 0.5 * math.erfc(z / math.sqrt(2))


@dataclass(frozen=True)
class AnomalyRule:
    min_sample: int = 20
    margin: float = 0.15
    alpha: float = 0.01


@dataclass(frozen=True)
class Comparison:
    """A station's pass rate against the rest of the province, and the verdict."""
    passed: int
    graded: int
    rest_passed: int
    rest_graded: int
    z: float
    p_value: float
    anomalous: bool

    @property
    def rate(self) -> Optional[float]:
        return rate(self.passed, self.graded)

    @property
    def rest_rate(self) -> Optional[float]:
        return rate(self.rest_passed, self.rest_graded)


def compare(passed: int, graded: int, province_passed: int, province_graded: int,
            rule: AnomalyRule = AnomalyRule()) -> Comparison:
    """Compare a station (passed of graded) with the province totals that include it."""
    rest_passed, rest_graded = province_passed - passed, province_graded - graded
    z, p = two_proportion_z(passed, graded, rest_passed, rest_graded)
    anomalous = (graded >= rule.min_sample and rest_graded > 0
                 and passed / graded - rest_passed / rest_graded > rule.margin and p < rule.alpha)
    return Comparison(passed, graded, rest_passed, rest_graded, z, p, anomalous)


# ------------------------------------------------------------------------------------------ tallies


@dataclass
class Tally:
    """Counts of one group of sittings: candidates (distinct), graded sittings and passes."""
    candidates: set = field(default_factory=set)
    graded: int = 0
    passed: int = 0
    scores: list = field(default_factory=list)

    @property
    def rate(self) -> Optional[float]:
        return rate(self.passed, self.graded)


def tally(rows: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], Any]) -> dict[Any, Tally]:
    """Group rows (each with "candidate", "passed": True/False/None for ungraded, "score") by ``key``."""
    groups: dict[Any, Tally] = {}
    for row in rows:
        group = groups.setdefault(key(row), Tally())
        group.candidates.add(row["candidate"])
        if row["passed"] is not None:
            group.graded += 1
            group.passed += bool(row["passed"])
            if row.get("score") is not None:
                group.scores.append(row["score"])
    return groups


def overall_outcomes(rows: Iterable[Mapping[str, Any]]) -> list[dict]:
    """One row per candidate × exam from its part rows: passed when every part sat was graded and passed (a resit
    sits only the failed part, so that part decides); None (ungraded) while any part is ungraded."""
    merged: dict[tuple, dict] = {}
    for row in rows:
        key = (row["candidate"], row["exam"])
        if key not in merged:
            merged[key] = {**row, "part": "overall", "score": None}
        elif row["passed"] is None or merged[key]["passed"] is None:
            merged[key]["passed"] = None
        else:
            merged[key]["passed"] = merged[key]["passed"] and row["passed"]
    return list(merged.values())


# ------------------------------------------------------------------------------------------ red/black list rules

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


@dataclass(frozen=True)
class Condition:
    metric: str       # a key of the station's indicators
    op: str           # one of == != >= > <= <
    value: Any

    def holds(self, metrics: Mapping[str, Any]) -> bool:
        return _OPERATORS[self.op](metrics[self.metric], self.value)


@dataclass(frozen=True)
class Rule:
    """All conditions must hold. ``code`` names the rule in the catalogues (quality.rule.<code>)."""
    code: str
    conditions: tuple[Condition, ...]

    def holds(self, metrics: Mapping[str, Any]) -> bool:
        return all(c.holds(metrics) for c in self.conditions)

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(c.metric for c in self.conditions)


@dataclass(frozen=True)
class RuleSet:
    """Red list: every red rule holds. Black list: any black rule holds (and black wins over red)."""
    red: tuple[Rule, ...]
    black: tuple[Rule, ...]

    def to_dict(self) -> dict:
        def rules(items):
            return [{"code": r.code, "conditions": [[c.metric, c.op, c.value] for c in r.conditions]} for r in items]
        return {"red": rules(self.red), "black": rules(self.black)}

    @classmethod
    def from_dict(cls, data: Mapping) -> "RuleSet":
        def rules(items):
            return tuple(Rule(r["code"], tuple(Condition(m, op, v) for m, op, v in r["conditions"])) for r in items)
        return cls(rules(data["red"]), rules(data["black"]))


def _c(metric: str, op: str, value: Any) -> Condition:
    return Condition(metric, op, value)


DEFAULT_RULES = RuleSet(
    red=(
        Rule("enough_candidates", (_c("candidates", ">=", 10),)),
        Rule("no_misconduct", (_c("misconduct", "==", 0),)),
        Rule("no_upheld_appeal", (_c("appeals_upheld", "==", 0),)),
        Rule("pass_rate_normal", (_c("pass_rate_anomaly", "==", False),)),
        Rule("reports_countersigned", (_c("sessions_not_countersigned", "==", 0),)),
        Rule("no_leak_signal", (_c("leak_signals", "==", 0),)),
        Rule("agreement_signed", (_c("agreement", "==", True),)),
    ),
    black=(
        Rule("void_all_misconduct", (_c("misconduct_void_all", ">=", 1),)),
        Rule("anomaly_with_overrides", (_c("pass_rate_anomaly", "==", True), _c("overrides_per_100", ">", 10))),
        Rule("anomaly_with_leak", (_c("pass_rate_anomaly", "==", True), _c("leak_signals", ">=", 1))),
        Rule("appeals_upheld_repeatedly", (_c("appeals_upheld", ">=", 3),)),
    ),
)


@dataclass(frozen=True)
class ListDecision:
    """``list`` is "red", "black" or None; ``rules`` the codes that put the station there (for red, every red
    rule; for black, the black rules that fired); ``metrics`` the indicators those rules read."""
    list: Optional[str]
    rules: tuple[str, ...]
    metrics: tuple[str, ...]


def decide(metrics: Mapping[str, Any], rules: RuleSet = DEFAULT_RULES) -> ListDecision:
    fired = [r for r in rules.black if r.holds(metrics)]
    if fired:
        return ListDecision("black", tuple(r.code for r in fired), _unique(m for r in fired for m in r.metrics))
    if rules.red and all(r.holds(metrics) for r in rules.red):
        return ListDecision("red", tuple(r.code for r in rules.red), _unique(m for r in rules.red for m in r.metrics))
    return ListDecision(None, (), ())


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def per_100(count: int, candidates: int) -> float:
    """Events per 100 candidates (0 without candidates)."""
    return 100.0 * count / candidates if candidates else 0.0

