"""Review flags after a sitting (reference §4.2, §4.3): seat-neighbour answer similarity and rapid guessing.

A flag is a request for a person to look, with the evidence written out; it never changes a score or a result.
Similarity uses the ω index (Wollack 1997) with the response probabilities taken from the option proportions in
the copier's score group (leaving the copier out), on the items both candidates had, in both directions, with a
Bonferroni correction over the pairs tested. Rapid guessing uses the NT10 threshold (10 % of the item's mean
time, at most 10 s) and response-time effort; a candidate whose rapid answers are right far more often than
chance gets a "fast and correct" flag (possible preknowledge).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Sequence

import numpy as np

NOT_ON_PAPER = -1
OMITTED = 0
PAIR_BLOCK = 4096      # pairs per vectorised block (keeps the pair × item arrays to tens of MB)


@dataclass(frozen=True)
class ReviewFlag:
    kind: str                       # "answer_similarity" | "rapid_guessing" | "fast_and_correct"
    candidates: tuple[str, ...]
    statistic: float                # ω, response-time effort, or rapid-correct count
    p_value: float | None
    evidence: dict = field(default_factory=dict)

    def describe(self, locale: str = "zh-CN") -> str:
        template = _TEMPLATES[self.kind][0 if locale.startswith("zh") else 1]
        return template.format(*self.candidates, **self.evidence, statistic=self.statistic,
                               p=self.p_value if self.p_value is not None else math.nan)


_TEMPLATES = {
    "answer_similarity": (
        "相邻座位考生 {0} 与 {1} 作答相似度异常：共同题 {shared} 道，相同作答 {identical} 道（其中相同错误 "
        "{identical_incorrect} 道），按同分组考生期望 {expected:.1f} 道，ω = {statistic:.2f}，p = {p:.1e}。"
        "仅供人工复核，不作为处理依据。",
        "Seat neighbours {0} and {1} answered unusually alike: {identical} identical answers of {shared} shared "
        "items ({identical_incorrect} identical wrong answers), {expected:.1f} expected from candidates of the same "
        "score, ω = {statistic:.2f}, p = {p:.1e}. For human review only, not a penalty."),
    "rapid_guessing": (
        "考生 {0} 有 {rapid} 道题作答时间低于阈值（快速猜测），作答努力度 RTE = {statistic:.2f}"
        "（低于 {min_effort:.2f}）。仅供人工复核。",
        "Candidate {0} answered {rapid} items faster than the rapid-guess threshold; response-time effort "
        "{statistic:.2f} (below {min_effort:.2f}). For human review only."),
    "fast_and_correct": (
        "考生 {0} 的 {rapid} 道快速作答中答对 {statistic:.0f} 道，随机猜测期望 {expected:.1f} 道，p = {p:.1e}"
        "（疑似事先知晓试题）。仅供人工复核。",
        "Candidate {0} got {statistic:.0f} of {rapid} rapid answers right where guessing gives {expected:.1f}, "
        "p = {p:.1e} (possible preknowledge). For human review only."),
}


def neighbour_pairs(seats: Sequence[tuple[int, int] | None]) -> list[tuple[int, int]]:
    """Index pairs (i < j) of candidates seated side by side, front/back or diagonally (row, column grid)."""
    where = {seat: i for i, seat in enumerate(seats) if seat is not None}
    pairs = set()
    for (row, col), i in where.items():
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                j = where.get((row + dr, col + dc))
                if j is not None and j != i:
                    pairs.add((min(i, j), max(i, j)))
    return sorted(pairs)


def score_groups(totals: np.ndarray, groups: int) -> np.ndarray:
    """Quantile groups of the total score; tied candidates always share a group."""
    edges = np.quantile(totals, np.linspace(0, 1, groups + 1)[1:-1])
    return np.searchsorted(edges, totals, side="right")


def similarity_flags(responses, keys, pairs: Sequence[tuple[int, int]], *, candidate_ids: Sequence[str] | None = None,
                     alpha: float = 0.001, groups: int | None = None) -> list[ReviewFlag]:
    """ω flags for the given pairs. responses: (n, k) option bitmasks, 0 = omitted, −1 = not on the paper."""
    responses = np.asarray(responses, dtype=np.int64)
    keys = np.asarray(keys, dtype=np.int64)
    n, k = responses.shape
    ids = list(candidate_ids) if candidate_ids is not None else [str(i) for i in range(n)]
    taken = responses != NOT_ON_PAPER
    totals = ((responses == keys[None, :]) & taken).sum(axis=1)
    group = score_groups(totals, groups or max(1, min(10, n // 25)))
    counts, takers = _group_response_counts(responses, taken, group)
    critical = -NormalDist().inv_cdf(alpha / (2 * max(1, len(pairs))))    # one-tailed, Bonferroni, 2 directions
    pair_array = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    flags = []
    for start in range(0, len(pair_array), PAIR_BLOCK):
        block = pair_array[start:start + PAIR_BLOCK]
        forward = _omega_block(block[:, 0], block[:, 1], responses, taken, group, counts, takers)
        backward = _omega_block(block[:, 1], block[:, 0], responses, taken, group, counts, takers)
        for row in np.flatnonzero(np.maximum(forward, backward) > critical):
            a, b = (int(v) for v in block[row])
            copier, source = (a, b) if forward[row] >= backward[row] else (b, a)
            evidence = _omega(copier, source, responses, taken, keys, group, counts, takers)
            flags.append(ReviewFlag("answer_similarity", (ids[a], ids[b]), evidence.pop("omega"), evidence.pop("p"),
                                    {**evidence, "copier": ids[copier], "source": ids[source]}))
    return flags


def _omega_block(copiers, sources, responses, taken, group, counts, takers) -> np.ndarray:
    """ω for many (copier, source) pairs at once; same arithmetic as `_omega`."""
    k = responses.shape[1]
    items = np.arange(k)[None, :]
    c_resp, s_resp = responses[copiers], responses[sources]
    shared = taken[copiers] & taken[sources]
    g = group[copiers][:, None]
    same = (c_resp == s_resp) & shared
    others = takers[g, items] - 1.0
    safe_code = np.where(shared, s_resp, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        prob = np.where(shared & (others > 0), (counts[g, items, safe_code] - same) / others, 0.0)
    expected = prob.sum(axis=1)
    variance = (prob * (1 - prob)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        omega = np.where(variance > 0, (same.sum(axis=1) - expected) / np.sqrt(variance), 0.0)
    return omega


def _group_response_counts(responses, taken, group):
    """counts[g, i, code]: candidates of score group g who gave response `code` to item i; takers[g, i]."""
    n, k = responses.shape
    n_groups, n_codes = int(group.max()) + 1, int(responses.max(initial=0)) + 1
    rows, cols = np.nonzero(taken)
    flat = (group[rows] * k + cols) * n_codes + responses[rows, cols]
    counts = np.bincount(flat, minlength=n_groups * k * n_codes).reshape(n_groups, k, n_codes)
    takers = counts.sum(axis=2)
    return counts, takers


def _omega(copier, source, responses, taken, keys, group, counts, takers) -> dict:
    shared = np.flatnonzero(taken[copier] & taken[source])
    c_resp, s_resp = responses[copier, shared], responses[source, shared]
    g = group[copier]
    # Probability that a candidate like the copier gives the source's answer, the copier left out of the counts.
    same_own = (c_resp == s_resp).astype(np.float64)
    others = takers[g, shared] - 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        prob = np.where(others > 0, (counts[g, shared, s_resp] - same_own) / others, 0.0)
    identical = c_resp == s_resp
    expected, variance = float(prob.sum()), float((prob * (1 - prob)).sum())
    omega = (identical.sum() - expected) / math.sqrt(variance) if variance > 0 else 0.0
    wrong_alike = identical & (c_resp != keys[shared]) & (c_resp != OMITTED)
    return {"omega": float(omega), "p": 0.5 * math.erfc(omega / math.sqrt(2)), "copier": copier, "source": source,
            "shared": int(len(shared)), "identical": int(identical.sum()),
            "identical_incorrect": int(wrong_alike.sum()), "expected": expected,
            "identical_incorrect_items": [int(i) for i in shared[wrong_alike]]}


def rapid_guess_thresholds(times, share: float = 0.10, cap_s: float = 10.0) -> np.ndarray:
    """NT10: per item, 10 % of its mean response time over those who answered, at most `cap_s` seconds."""
    with np.errstate(invalid="ignore"):
        return np.minimum(cap_s, share * np.nanmean(np.asarray(times, dtype=np.float64), axis=0))


def rapid_guessing_flags(times, correct, chance, *, candidate_ids: Sequence[str] | None = None,
                         min_effort: float = 0.90, alpha: float = 0.001, thresholds=None) -> list[ReviewFlag]:
    """Rapid-guessing and fast-and-correct flags.

    times: (n, k) seconds per item, NaN = not answered or not on the paper; correct: (n, k) bool;
    chance: (k,) probability of guessing item i right (1/4 for 4-option single choice, 1/2 for true/false).
    """
    times = np.asarray(times, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    chance = np.asarray(chance, dtype=np.float64)
    n = times.shape[0]
    ids = list(candidate_ids) if candidate_ids is not None else [str(i) for i in range(n)]
    limit = rapid_guess_thresholds(times) if thresholds is None else np.asarray(thresholds, dtype=np.float64)
    answered = ~np.isnan(times)
    with np.errstate(invalid="ignore"):
        rapid = answered & (times < limit[None, :])
    effort = 1 - rapid.sum(axis=1) / np.maximum(1, answered.sum(axis=1))
    flags = []
    for j in range(n):
        items = np.flatnonzero(rapid[j])
        if effort[j] < min_effort:
            flags.append(ReviewFlag("rapid_guessing", (ids[j],), float(effort[j]), None,
                                    {"rapid": int(len(items)), "min_effort": min_effort,
                                     "items": [int(i) for i in items]}))
        right = int(correct[j, items].sum())
        if right >= 3:
            p = _poisson_binomial_tail(chance[items], right)
            if p < alpha / n:
                flags.append(ReviewFlag("fast_and_correct", (ids[j],), float(right), p,
                                        {"rapid": int(len(items)), "expected": float(chance[items].sum()),
                                         "items": [int(i) for i in items]}))
    return flags


def _poisson_binomial_tail(probabilities: np.ndarray, at_least: int) -> float:
    """P(at least `at_least` successes) for independent trials with the given probabilities (exact, by DP)."""
    dist = np.zeros(len(probabilities) + 1)
    dist[0] = 1.0
    for q in probabilities:
        dist[1:] = dist[1:] * (1 - q) + dist[:-1] * q
        dist[0] *= 1 - q
    return float(dist[at_least:].sum())
