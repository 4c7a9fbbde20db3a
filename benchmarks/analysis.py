"""Item analysis benchmark (issue #7): one sitting of 20,000 candidates × 200 four-option items, target ≤ 2 s.

Synthetic responses: abilities θ ~ N(0, 1), item difficulties b ~ N(0, 0.8), 2PL-like knowing with a 1.7 slope,
otherwise a uniform guess among the four options. Seeded, so every run analyses the same matrix.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

from assessment.analysis import analyse_sitting, dichotomous_scores
from assessment.flags import neighbour_pairs, rapid_guessing_flags, similarity_flags


def simulated_choices(candidates: int = 20_000, items: int = 200, seed: int = 2026):
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=candidates)
    b = rng.normal(scale=0.8, size=items)
    knows = rng.random((candidates, items)) < 1 / (1 + np.exp(-1.7 * (theta[:, None] - b[None, :])))
    keys = rng.integers(0, 4, size=items)
    chosen = np.where(knows, keys[None, :], rng.integers(0, 4, size=(candidates, items)))
    return (1 << chosen).astype(np.int64), 1 << keys


def main(runs: int = 5) -> None:
    choices, keys = simulated_choices()
    points = np.full(choices.shape[1], 0.5)
    scores = dichotomous_scores(choices, keys, points)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = analyse_sitting(scores, points, choices=choices, keys=keys, option_counts=[4] * len(keys),
                                 pass_mark=60)
        times.append(time.perf_counter() - started)
    flagged = sum(1 for f in result.flags if f)
    print(f"item analysis 20,000 × 200 (p, r_it, D27, KR-20, α-if-deleted, SEM, distractors, flags): "
          f"best {min(times):.2f} s, median {statistics.median(times):.2f} s, worst {max(times):.2f} s "
          f"of {runs} (target ≤ 2 s); "
          f"KR-20 {result.kr20:.3f}, SEM {result.sem:.2f} points, {flagged} items flagged")
    review_flags(choices, keys, scores)


def review_flags(choices, keys, scores) -> None:
    """Seat-neighbour ω over rooms of 30 (5 rows × 6 seats) and rapid-guess flags for the same sitting."""
    n = choices.shape[0]
    seats = [(i // 30 * 10 + i % 30 // 6, i % 6) for i in range(n)]      # rooms 10 rows apart never touch
    pairs = neighbour_pairs(seats)
    started = time.perf_counter()
    similar = similarity_flags(choices, keys, pairs)
    similarity_s = time.perf_counter() - started
    times = np.random.default_rng(7).lognormal(np.log(25), 0.5, size=choices.shape)
    started = time.perf_counter()
    rapid = rapid_guessing_flags(times, scores > 0, np.full(choices.shape[1], 0.25))
    rapid_s = time.perf_counter() - started
    print(f"review flags: ω on {len(pairs):,} seat-neighbour pairs {similarity_s:.2f} s ({len(similar)} flagged, "
          f"independent responders); rapid guessing {n:,} candidates {rapid_s:.2f} s ({len(rapid)} flagged)")


if __name__ == "__main__":
    main()
