"""Review flags: a planted copier is found among seat neighbours, independent candidates are not; rapid guessing."""
from __future__ import annotations

import numpy as np
import pytest

from assessment.flags import (_group_response_counts, _omega, _omega_block, _poisson_binomial_tail, neighbour_pairs,
                              rapid_guess_thresholds, rapid_guessing_flags, score_groups, similarity_flags)

N, K = 300, 100


def _independent_responses(seed: int):
    """Each candidate knows an item with a logistic chance, otherwise guesses uniformly among 4 options."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=N)
    b = rng.normal(scale=0.8, size=K)
    knows = rng.random((N, K)) < 1 / (1 + np.exp(-1.7 * (theta[:, None] - b[None, :])))
    keys = rng.integers(0, 4, size=K)
    chosen = np.where(knows, keys[None, :], rng.integers(0, 4, size=(N, K)))
    return (1 << chosen).astype(np.int64), (1 << keys).astype(np.int64), rng


SEATS = [(i // 10, i % 10) for i in range(N)]      # 30 rows of 10 seats


def test_neighbour_pairs_on_a_grid():
    # 2 × 2 block: every pair touches (side, front or diagonal) → C(4,2) = 6 pairs; a far seat has none.
    assert neighbour_pairs([(0, 0), (0, 1), (1, 0), (1, 1), (5, 5), None]) == [
        (0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]


def test_score_groups_keep_ties_together():
    groups = score_groups(np.array([1, 1, 1, 1, 2, 3, 4, 5, 6, 7]), 5)
    assert len(set(groups[:4].tolist())) == 1


def test_no_similarity_flag_for_independent_neighbours():
    responses, keys, _ = _independent_responses(seed=11)
    assert similarity_flags(responses, keys, neighbour_pairs(SEATS)) == []


def test_planted_copier_is_flagged_with_evidence():
    responses, keys, rng = _independent_responses(seed=11)
    # candidate 45 (seat 4,5) copies 40 of candidate 44's answers (seat 4,4, the neighbour on the left)
    copied = rng.choice(K, size=40, replace=False)
    responses[45, copied] = responses[44, copied]
    flags = similarity_flags(responses, keys, neighbour_pairs(SEATS), candidate_ids=[f"C{i:03d}" for i in range(N)])
    assert [f.candidates for f in flags] == [("C044", "C045")]
    flag = flags[0]
    assert flag.evidence["shared"] == K
    assert flag.evidence["identical"] >= 40
    assert flag.evidence["identical"] > flag.evidence["expected"] + 10
    assert flag.statistic > 3.0 and flag.p_value < 0.001 / (2 * len(neighbour_pairs(SEATS)))
    assert "仅供人工复核" in flag.describe("zh-CN")
    assert "human review" in flag.describe("en")


def test_similarity_uses_only_items_both_candidates_had():
    responses, keys, _ = _independent_responses(seed=3)
    responses[1, :60] = responses[0, :60]
    responses[0, :60] = -1              # candidate 0's paper did not hold the copied items
    flags = similarity_flags(responses, keys, [(0, 1)])
    assert flags == []


def test_vectorised_omega_matches_the_one_pair_computation():
    responses, keys, rng = _independent_responses(seed=4)
    responses[rng.random(responses.shape) < 0.3] = -1          # per-candidate papers: 30 % of cells not held
    taken = responses != -1
    group = score_groups(((responses == keys) & taken).sum(axis=1), 10)
    counts, takers = _group_response_counts(responses, taken, group)
    copiers, sources = np.arange(0, 40), np.arange(40, 80)
    block = _omega_block(copiers, sources, responses, taken, group, counts, takers)
    one_by_one = [_omega(c, s, responses, taken, keys, group, counts, takers)["omega"]
                  for c, s in zip(copiers, sources)]
    assert block == pytest.approx(one_by_one)


def test_omega_by_hand_on_a_tiny_room():
    # 4 candidates, 2 items (key A = 1 on both), one score group. Pair (0 → 1): candidate 0 copies from 1.
    responses = np.array([[2, 4], [2, 4], [1, 1], [2, 1]])
    keys = np.array([1, 1])
    taken = responses != -1
    group = np.zeros(4, int)
    counts, takers = _group_response_counts(responses, taken, group)
    got = _omega(0, 1, responses, taken, keys, group, counts, takers)
    # item 1: source answered B; others (1, 2, 3) gave B, A, B → P = 2/3. item 2: source C; others C, A, A → P = 1/3
    # h = 2; E = 1; V = 2/3·1/3 + 1/3·2/3 = 4/9; ω = (2 − 1)/(2/3) = 1.5
    assert (got["identical"], got["identical_incorrect"]) == (2, 2)
    assert got["expected"] == pytest.approx(1.0)
    assert got["omega"] == pytest.approx(1.5)


def _times(seed: int):
    rng = np.random.default_rng(seed)
    return rng.lognormal(mean=np.log(30), sigma=0.4, size=(N, K)), rng


def test_nt10_threshold_is_a_tenth_of_the_mean_capped_at_10_s():
    times = np.array([[20.0, 300.0], [40.0, 100.0], [np.nan, 200.0]])
    # item 1: mean 30 → 3 s; item 2: mean 200 → 20 s, capped at 10 s
    assert rapid_guess_thresholds(times) == pytest.approx([3.0, 10.0])


def test_rapid_guessers_are_flagged_and_ordinary_candidates_are_not():
    times, rng = _times(seed=5)
    correct = rng.random((N, K)) < 0.65
    chance = np.full(K, 0.25)
    assert rapid_guessing_flags(times, correct, chance) == []
    times[7, :50] = 1.0                                  # half the paper in one second each
    correct[7, :50] = rng.random(50) < 0.25              # at chance
    flags = rapid_guessing_flags(times, correct, chance)
    assert [(f.kind, f.candidates) for f in flags] == [("rapid_guessing", ("7",))]
    assert flags[0].statistic == pytest.approx(0.5)      # RTE = 1 − 50/100
    assert flags[0].evidence["rapid"] == 50


def test_fast_and_correct_suggests_preknowledge():
    times, rng = _times(seed=6)
    correct = rng.random((N, K)) < 0.65
    times[9, :10] = 1.5
    correct[9, :10] = True           # 10 of 10 rapid answers right; guessing gives 10 · 0.25 = 2.5
    # P = 0.25¹⁰ = 9.5e-7 < 0.001 / 300 candidates; RTE = 0.90 is not below 0.90, so no rapid-guessing flag
    flags = rapid_guessing_flags(times, correct, np.full(K, 0.25))
    assert [(f.kind, f.candidates) for f in flags] == [("fast_and_correct", ("9",))]
    assert flags[0].p_value == pytest.approx(0.25 ** 10)
    assert "事先知晓" in flags[0].describe()


def test_poisson_binomial_tail():
    # two trials at 0.5 and 0.2: P(≥1) = 1 − 0.5·0.8 = 0.6; P(2) = 0.1
    assert _poisson_binomial_tail(np.array([0.5, 0.2]), 1) == pytest.approx(0.6)
    assert _poisson_binomial_tail(np.array([0.5, 0.2]), 2) == pytest.approx(0.1)
