"""Every item rule with deductions computed by hand from the sheet's wording."""
import pytest

from grading import rules
from grading.general_tolerance import angle_deviation_deg, broken_edge_deviation, general_limits, linear_deviation
from grading.sheet import Rule

STEP_3 = Rule("step", per=0.01, deduct=3)          # 超差0.01扣3分
BAND = Rule("band", free=0.005, half=0.01)          # ≤0.005 free, ≤0.01 half, else zero
RA_2 = Rule("grade_down", per_grade=2)              # 降一级扣2分
RA_HALF = Rule("grade_down", half_then_zero=True)   # one grade half, two grades zero


def test_step_counts_started_steps_below_the_lower_limit():
    # Ø24 +0.021/0: limits [24.000, 24.021]; 23.990 is 0.010 under = exactly one step of 0.01 -> 10 - 3 = 7
    assert rules.score_measured(STEP_3, 10, 23.990, 24.000, 24.021).score == 7


@pytest.mark.parametrize("measured, expected", [
    (24.021, 10),      # on the upper limit: in tolerance
    (24.022, 7),       # 0.001 over: one started step -> -3
    (24.031, 7),       # 0.010 over: exactly one step -> -3
    (24.0311, 4),      # 0.0101 over: two started steps -> -6
    (24.045, 1),       # 0.024 over: three steps -> -9
    (24.055, 0),       # 0.034 over: four steps = -12, capped at the 10 points
])
def test_step_deduction(measured, expected):
    assert rules.score_measured(STEP_3, 10, measured, 24.000, 24.021).score == expected


def test_float_noise_on_a_limit_costs_nothing():
    # 24.021 computed as a sum of floats: 24.021000000000004 rounds to the limit
    assert rules.score_measured(STEP_3, 10, 24.0 + 0.021 + 4e-15, 24.000, 24.021).score == 10


@pytest.mark.parametrize("measured, expected", [
    (72.030, 8),       # in tolerance (72 ±0.03)
    (72.035, 8),       # 0.005 over: within the free band
    (72.036, 4),       # 0.006 over: half band -> 8 / 2
    (72.040, 4),       # 0.010 over: still half
    (72.041, 0),       # 0.011 over: zero
    (71.962, 4),       # 0.008 under: half
])
def test_band(measured, expected):
    assert rules.score_measured(BAND, 8, measured, 71.97, 72.03).score == expected


@pytest.mark.parametrize("ra, expected", [
    (1.6, 4),          # meets Ra1.6
    (0.4, 4),          # better
    (1.61, 2),         # grade 3.2: one grade worse -> -2
    (3.2, 2),
    (6.3, 0),          # two grades worse -> -4
    (25.0, 0),         # four grades: -8 capped at 4
])
def test_grade_down_per_grade(ra, expected):
    assert rules.score_measured(RA_2, 4, ra, None, 1.6).score == expected


@pytest.mark.parametrize("ra, expected", [(3.2, 4), (5.0, 2), (6.3, 2), (7.0, 0)])
def test_grade_down_half_then_zero(ra, expected):
    # Ra3.2 required: 5.0 and 6.3 are grade 6.3 (one worse) -> half of 4; 7.0 is grade 12.5 -> zero
    assert rules.score_measured(RA_HALF, 4, ra, None, 3.2).score == expected


def test_ra_series_grades():
    assert rules.ra_grade(0.8) == rules.RA_SERIES.index(0.8)
    assert rules.grades_worse(1.7, 0.8) == 2            # 1.7 -> grade 3.2: 0.8 -> 1.6 -> 3.2


def test_gauge_says_which_gauge_failed():
    # M20x1.5-6g pitch diameter limits 18.876..18.994
    assert rules.score_measured(Rule("gauge"), 8, 18.90, 18.876, 18.994).score == 8
    big = rules.score_measured(Rule("gauge"), 8, 19.00, 18.876, 18.994)
    small = rules.score_measured(Rule("gauge"), 8, 18.80, 18.876, 18.994)
    assert (big.score, small.score) == (0, 0)
    assert "go gauge does not enter" in big.note and "no-go gauge enters" in small.note


def test_all_or_nothing_and_unmeasurable():
    assert rules.score_measured(Rule(), 5, 5.06, 4.95, 5.05).score == 0
    assert rules.score_measured(Rule(), 5, 5.05, 4.95, 5.05).score == 5
    assert rules.score_measured(STEP_3, 10, None, 24.0, 24.021).score == 0


def test_per_occurrence_with_and_without_cap():
    # chamfer/burr: -0.25 each, 扣完为止 (no cap: at most the item's 1 point)
    assert rules.score_count(Rule("per_occurrence", deduct=0.25), 1, 3).score == 0.25
    assert rules.score_count(Rule("per_occurrence", deduct=0.25), 1, 9).score == 0
    # -2 each, capped at 3: four occurrences lose 3 of 4
    assert rules.score_count(Rule("per_occurrence", deduct=2, cap=3), 4, 4).score == 1
    assert rules.score_count(Rule(), 4, 1).score == 0
    assert rules.score_count(Rule(), 4, 0).score == 4


def test_manual_two_of_three_confirm():
    rule = Rule("manual", examiners=3, confirmations=2)
    assert rules.score_manual(rule, 10, [8, 8, 6]).score == 8
    pending = rules.score_manual(rule, 10, [8, 7, 6])
    assert pending.pending and pending.score == 0
    # agree within 1 point: 7 and 8 agree; the cautious (lower) mark counts
    assert rules.score_manual(Rule("manual", examiners=3, confirmations=2, agree_within=1), 10, [8, 7, 3]).score == 7
    # marks outside 0..points are clamped
    assert rules.score_manual(rule, 10, [12, 12, 0]).score == 10


def test_criterion_texts():
    assert rules.criterion_text(STEP_3) == "超差0.01扣3分"
    assert rules.criterion_text(RA_2) == "降一级扣2分"
    assert "否决" in rules.criterion_text(Rule(), veto=True)


@pytest.mark.parametrize("nominal, deviation", [
    (2, 0.1), (3, 0.1), (5, 0.1), (6, 0.1), (20, 0.2), (30, 0.2), (70, 0.3), (120, 0.3), (200, 0.5),
    (500, 0.8), (1500, 1.2), (3000, 2.0)])
def test_gb1804_m_linear(nominal, deviation):
    # GB/T 1804-2000 table 1, class m: 0.5-3 ±0.1, >3-6 ±0.1, >6-30 ±0.2, >30-120 ±0.3, >120-400 ±0.5,
    # >400-1000 ±0.8, >1000-2000 ±1.2, >2000-4000 ±2
    assert linear_deviation(nominal, "m") == deviation
    assert general_limits(nominal) == (-deviation, deviation)


def test_gb1804_other_tables():
    assert linear_deviation(50, "f") == 0.15 and linear_deviation(50, "c") == 0.8 and linear_deviation(50, "v") == 1.5
    assert broken_edge_deviation(1, "m") == 0.2 and broken_edge_deviation(5, "m") == 0.5
    assert broken_edge_deviation(8, "m") == 1.0
    assert angle_deviation_deg(8, "m") == 1.0 and angle_deviation_deg(40, "m") == 0.5   # ±1°, ±30'
    with pytest.raises(ValueError):
        linear_deviation(0.3, "m")            # below 0.5 mm the drawing must say
    with pytest.raises(ValueError):
        linear_deviation(2, "v")              # the standard has no v value for 0.5-3


def test_rounding_never_lifts_a_score_above_its_points():
    # found by hypothesis: 1.5e-6 points, rounded to 6 decimals, must not become 2e-6
    assert rules.score_manual(Rule("manual"), 1.5e-6, [1.5e-6]).score <= 1.5e-6
    assert rules.score_measured(STEP_3, 1.5e-6, 24.05, 24.0, 24.021).score == 0
