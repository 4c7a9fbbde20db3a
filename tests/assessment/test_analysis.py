"""Item analysis (reference §3.2): every statistic checked against numbers worked out by hand below."""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from assessment.analysis import (analyse_sitting, area_means, describe_flags, dichotomous_scores, feed_back,
                                 group_weights, key_mask, updated_difficulty)
from assessment.bank import Item
from assessment.charts import FLAG_COLOUR, difficulty_discrimination_svg, histogram_counts, score_distribution_svg

# 5 candidates × 4 items, 1 point each.       totals
TINY = np.array([[1, 1, 1, 1],             # 4
                 [1, 1, 1, 0],             # 3
                 [1, 1, 0, 0],             # 2
                 [1, 0, 1, 0],             # 2
                 [0, 0, 0, 0]], float)     # 0
ONES = np.ones(4)


def test_difficulty_is_the_share_correct():
    result = analyse_sitting(TINY, ONES)
    # p = column sums / 5 = 4/5, 3/5, 3/5, 1/5
    assert result.p == pytest.approx([0.8, 0.6, 0.6, 0.2])
    assert result.n_taken.tolist() == [5, 5, 5, 5]
    assert not result.forms_differ


def test_difficulty_of_half_point_items_is_mean_score_over_max():
    result = analyse_sitting(TINY * 0.5, ONES * 0.5)
    assert result.p == pytest.approx([0.8, 0.6, 0.6, 0.2])


def test_kr20_and_sem_by_the_formula():
    result = analyse_sitting(TINY, ONES)
    # pq = .16 + .24 + .24 + .16 = 0.80; T = 4,3,2,2,0: mean 2.2, σ²_T = 33/5 − 2.2² = 6.6 − 4.84 = 1.76
    # KR-20 = 4/3 · (1 − 0.80/1.76) = 4/3 · 6/11 = 8/11
    assert result.kr20 == pytest.approx(8 / 11)
    assert result.mean_total == pytest.approx(2.2)
    assert result.sd_total == pytest.approx(math.sqrt(1.76))
    # SEM = σ_T·√(1 − KR-20) = √(1.76 · 3/11) = √0.48
    assert result.sem == pytest.approx(math.sqrt(0.48))


def test_kr20_scale_free_for_half_point_items():
    assert analyse_sitting(TINY * 0.5, ONES * 0.5).kr20 == pytest.approx(8 / 11)


def test_corrected_item_rest_correlation():
    r = analyse_sitting(TINY, ONES).r_it
    # item 1: X = 1,1,1,1,0, R = T − X = 3,2,1,1,0; cov = 7/5 − 0.8·1.4 = 0.28; var X = .16; var R = 15/5 − 1.96 = 1.04
    assert r[0] == pytest.approx(0.28 / math.sqrt(0.16 * 1.04))        # 0.6864
    # item 4: X = 1,0,0,0,0, R = 3,3,2,2,0; cov = 3/5 − 0.2·2 = 0.2; var X = .16; var R = 26/5 − 4 = 1.2
    assert r[3] == pytest.approx(0.2 / math.sqrt(0.16 * 1.2))          # 0.4564


def test_alpha_if_item_deleted():
    result = analyse_sitting(TINY, ONES)
    # without item 4: totals 3,3,2,2,0: mean 2, σ² = 26/5 − 4 = 1.2; Σpq = .16 + .24 + .24 = .64
    # α = 3/2 · (1 − .64/1.2) = 0.7
    assert result.alpha_if_deleted[3] == pytest.approx(0.7)
    # without item 1: totals 3,2,1,1,0: mean 1.4, σ² = 15/5 − 1.96 = 1.04; Σpq = .24+.24+.16 = .64
    # α = 3/2 · (1 − .64/1.04) = 0.576923
    assert result.alpha_if_deleted[0] == pytest.approx(1.5 * (1 - 0.64 / 1.04))


def test_upper_lower_27_percent_discrimination():
    # 10 candidates, item 1 right for the top half; g = round(2.7) = 3 per group.
    scores = np.zeros((10, 3))
    scores[:, 0] = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    scores[:, 1] = [1, 1, 1, 1, 0, 1, 0, 0, 1, 0]
    scores[:, 2] = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    # totals = 3,3,2,2,1,1,0,0,1,0: upper = the two 3s + one of the two 2s (share 1/2 each);
    # lower = the three 0s (candidates 7, 8, 10)
    result = analyse_sitting(scores, np.ones(3))
    # item 1: upper p = (1+1+½·1+½·1)/3 = 1, lower p = 0 → D = 1
    # item 2: upper p = (1+1+½·1+½·1)/3 = 1, lower p = (0+0+0)/3 = 0 → D = 1
    # item 3: upper p = (1+1+0)/3 = 2/3, lower 0 → D = 2/3
    assert result.d27 == pytest.approx([1.0, 1.0, 2 / 3])


def test_ties_at_the_cut_share_the_group_places():
    lower, upper = group_weights(np.array([5, 4, 4, 4, 3, 2, 2, 1, 0, 0], float))
    # g = 3. Upper: 5 and two of the three 4s → each 4 gets 2/3. Lower: 0, 0 and the single 1.
    assert upper == pytest.approx([1, 2 / 3, 2 / 3, 2 / 3, 0, 0, 0, 0, 0, 0])
    assert lower == pytest.approx([0, 0, 0, 0, 0, 0, 0, 1, 1, 1])


def test_candidates_without_the_item_are_left_out():
    scores = TINY.copy()
    scores[4, 3] = np.nan       # candidate 5's paper did not hold item 4
    result = analyse_sitting(scores, ONES)
    assert result.forms_differ
    assert result.n_taken[3] == 4
    # item 4 over its 4 takers: X = 1,0,0,0 → p = 1/4
    assert result.p[3] == pytest.approx(0.25)
    # R = 3,3,2,2: cov = 3/4 − .25·2.5 = .125; var X = .1875; var R = 26/4 − 6.25 = .25
    assert result.r_it[3] == pytest.approx(0.125 / math.sqrt(0.1875 * 0.25))
    # parallel-forms KR-20: L = (4·4 + 3)/5 = 3.8; mean Σσ²_i = (5·.64 + 4·.1875)/5 = .79; σ²_T = 1.76
    assert result.kr20 == pytest.approx(3.8 / 2.8 * (1 - 0.79 / 1.76))


def test_distractor_table_and_non_functioning_options():
    # item 1 (key A): candidates 1–4 chose A, candidate 5 chose C. Items 2–4 only scored.
    choices = np.zeros((5, 4), int)
    choices[:, 0] = [1, 1, 1, 1, 4]          # bitmasks: A = 1, C = 4
    result = analyse_sitting(TINY, ONES, choices=choices, keys=[1, 1, 1, 1], option_counts=[4, 0, 0, 0])
    table = result.distractors
    assert table.proportion[0] == pytest.approx([0.8, 0.0, 0.2, 0.0])
    # "chose C" = 1 − X₁, so its r with the rest score is −r_it(item 1)
    assert table.r_rest[0, 2] == pytest.approx(-0.28 / math.sqrt(0.16 * 1.04))
    assert table.r_rest[0, 0] == pytest.approx(result.r_it[0])
    # upper group = candidate 1 (A), lower group = candidate 5 (C)
    assert table.upper[0] == pytest.approx([1, 0, 0, 0])
    assert table.lower[0] == pytest.approx([0, 0, 1, 0])
    assert table.non_functioning()[0].tolist() == [False, True, False, True]   # B and D chosen by 0 %
    assert "non_functioning_distractor" in result.flags[0]
    assert "possible_miskey" not in result.flags[0]
    assert np.isnan(table.proportion[1]).all()


def _simulated_sitting(seed: int, n: int = 400, k: int = 20):
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n)
    b = rng.normal(scale=0.8, size=k)
    knows = rng.random((n, k)) < 1 / (1 + np.exp(-(1.7 * (theta[:, None] - b[None, :]))))
    true_key = rng.integers(0, 4, size=k)
    guess = rng.integers(0, 4, size=(n, k))
    chosen = np.where(knows, true_key[None, :], guess)
    return 1 << chosen, 1 << true_key


def test_a_miskeyed_item_is_flagged_with_the_likely_key():
    choices, true_keys = _simulated_sitting(seed=7)
    keys = true_keys.copy()
    wrong = (int(np.log2(true_keys[3])) + 1) % 4
    keys[3] = 1 << wrong                    # item 4 keyed wrongly
    scores = dichotomous_scores(choices, keys, np.ones(20))
    result = analyse_sitting(scores, np.ones(20), choices=choices, keys=keys, option_counts=[4] * 20)
    assert "possible_miskey" in result.flags[3]
    assert "key_negative_r" in result.flags[3]
    assert result.distractors.suspected_keys()[3] == "ABCD"[int(np.log2(true_keys[3]))]
    others = [i for i in range(20) if i != 3 and "possible_miskey" in result.flags[i]]
    assert others == []


def test_flags_for_too_easy_and_too_hard():
    scores = np.zeros((40, 3))
    scores[:38, 0] = 1          # p = 0.95 → too easy
    scores[:4, 1] = 1           # p = 0.10 → too hard
    scores[:20, 2] = 1          # p = 0.50, right for the best candidates → neither
    result = analyse_sitting(scores, np.ones(3))
    assert "too_easy" in result.flags[0]
    assert "too_hard" in result.flags[1]
    assert describe_flags(["too_easy"]) == ["过易（难度 p > 0.90）"]
    assert describe_flags(["too_hard"], "en") == ["too hard (p < 0.20)"]
    assert not {"too_easy", "too_hard"} & set(result.flags[2])


def test_pass_rate_at_the_cut():
    result = analyse_sitting(TINY * 25, ONES * 25, pass_mark=60)
    # totals 100, 75, 50, 50, 0 → 2 of 5 reach 60
    assert result.pass_rate == pytest.approx(0.4)


def test_area_means():
    means = area_means(TINY, ONES, ["A", "A", "B", "B"])
    # A: items 1–2, 7 right of 10 → 70 %; B: items 3–4, 4 of 10 → 40 %
    assert means == pytest.approx({"A": 70.0, "B": 40.0})


def test_sample_size_weighted_difficulty():
    # prior 0.65 worth 20 candidates, 80 observed at 0.40: (20·.65 + 80·.40)/100 = (13 + 32)/100 = 0.45
    assert updated_difficulty(0.65, 20, 0.40, 80) == pytest.approx((0.45, 100))


def _item(i, **kw):
    base = dict(id=f"Q{i}", version=1, occupation="数控车工", level=4, point_code="A-A-001", type="single",
                stem="题干", options=("甲", "乙", "丙", "丁"), key="A", difficulty=0.65)
    return Item(**{**base, **kw})


def test_feed_back_updates_p_and_last_used():
    items = [_item(i) for i in range(4)]
    analysis = analyse_sitting(TINY, ONES)
    updated, counts = feed_back(items, analysis, [0, 0, 0, 80], "2026-11-20", author_weight=20)
    # item 1: (20·.65 + 5·.8)/25 = (13 + 4)/25 = 0.68; item 4: (100·.65 + 5·.2)/105 = 66/105
    assert updated[0].difficulty == pytest.approx(0.68)
    assert updated[3].difficulty == pytest.approx(66 / 105)
    assert counts.tolist() == [5, 5, 5, 85]
    assert updated[0].last_used == "2026-11-20"
    assert updated[0].discrimination == pytest.approx(analysis.r_it[0])
    assert (updated[0].id, updated[0].version) == ("Q0", 1)


def test_key_masks():
    assert key_mask(_item(1, type="multiple", key="AC")) == 0b101
    assert key_mask(_item(1, type="true_false", options=(), key="F")) == 0b10


# ---- charts (SVG text) ----------------------------------------------------------------------------------------

def _parsed(svg: str):
    return ET.fromstring(svg)


def _no_external_references(svg: str) -> bool:
    without_namespace = svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    return not any(s in without_namespace for s in ("http", "href", "url(", "@font-face", "<script"))


def test_scatter_has_one_dot_per_item_and_flags_in_red():
    labels = ["第1题", "第2题", "第3题", "第4题"]
    svg = difficulty_discrimination_svg([0.8, 0.6, 0.95, np.nan], [0.5, -0.1, 0.1, 0.3], labels,
                                        flagged=[False, True, True, False])
    root = _parsed(svg)
    ns = "{http://www.w3.org/2000/svg}"
    dots = [c for c in root.iter(f"{ns}circle") if c.find(f"{ns}title") is not None]
    assert len(dots) == 3                                   # item 4 has no p and is left out
    assert [c.get("fill") == FLAG_COLOUR for c in dots] == [False, True, True]
    assert "难度 p" in svg and "区分度" in svg and "第2题：p = 0.60，r = -0.10，需复核" in svg
    assert _no_external_references(svg)


def test_score_histogram_counts_and_pass_line():
    totals = np.array([0, 4.9, 5, 59.5, 60, 100])
    counts = histogram_counts(totals, 100, 5)
    # [0,5): 0 and 4.9; [5,10): 5; [55,60): 59.5; [60,65): 60; the last bin [95,100] holds 100
    assert counts[[0, 1, 11, 12, 19]].tolist() == [2, 1, 1, 1, 1] and counts.sum() == 6
    svg = score_distribution_svg(totals)
    assert len([r for r in _parsed(svg).iter("{http://www.w3.org/2000/svg}rect") if r.find("*") is not None]) == 20
    # mean = 229.4/6 = 38.2; 2 of 6 reach 60 → 33.3 %
    assert "考生 6 人，平均 38.2 分" in svg and "及格率 33.3%" in svg and "及格线 60" in svg
    assert _no_external_references(svg)


def test_agrees_with_direct_textbook_computation_on_a_random_sitting():
    """Cross-check the vectorised moments against plain per-item formulas (np.corrcoef, deleting a column)."""
    rng = np.random.default_rng(21)
    theta = rng.normal(size=300)
    x = (rng.random((300, 12)) < 1 / (1 + np.exp(-(theta[:, None] - rng.normal(size=12))))).astype(float)
    result = analyse_sitting(x, np.ones(12))
    totals = x.sum(axis=1)

    def kr20(m):
        k, t = m.shape[1], m.sum(axis=1)
        return k / (k - 1) * (1 - (m.mean(axis=0) * (1 - m.mean(axis=0))).sum() / t.var())

    assert result.kr20 == pytest.approx(kr20(x))
    for i in range(12):
        assert result.r_it[i] == pytest.approx(np.corrcoef(x[:, i], totals - x[:, i])[0, 1])
        assert result.alpha_if_deleted[i] == pytest.approx(kr20(np.delete(x, i, axis=1)))
