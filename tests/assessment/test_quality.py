"""Station quality arithmetic and the red/black list rules, with expected values worked out by hand."""
from datetime import date

import pytest

from assessment import charts
from assessment import quality as q


@pytest.mark.parametrize("text, start, end", [
    ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),          # leap year
    ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
    ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
    ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ("2026-01-15..2026-02-14", date(2026, 1, 15), date(2026, 2, 14)),
])
def test_periods(text, start, end):
    period = q.parse_period(text)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("text", ["", "2026-13", "2026-Q5", "Q1", "2026-03-01..2026-02-01", "march"])
def test_bad_periods_are_refused(text):
    with pytest.raises(ValueError):
        q.parse_period(text)


@pytest.mark.parametrize("today, expected", [
    (date(2026, 1, 15), ["2026-01", "2025-12", "2026-Q1", "2026", "2025"]),
    (date(2026, 11, 26), ["2026-11", "2026-10", "2026-Q4", "2026", "2025"]),
    (date(2026, 7, 1), ["2026-07", "2026-06", "2026-Q3", "2026", "2025"]),
])
def test_period_shortcuts(today, expected):
    assert [value for _, value in q.shortcuts(today)] == expected


def test_two_proportion_z_by_hand():
    # 18/20 = 0.9 vs 50/100 = 0.5; pooled 68/120; var = (68/120)(52/120)(1/20 + 1/100) = 0.0147333; z = 0.4/0.121381
    z, p = q.two_proportion_z(18, 20, 50, 100)
    assert z == pytest.approx(3.2954, abs=1e-3)
    assert p == pytest.approx(4.91e-4, rel=1e-2)          # 1 − Φ(3.2954)
    assert q.two_proportion_z(5, 0, 3, 10) == (0.0, 1.0)     # nobody graded
    assert q.two_proportion_z(10, 10, 20, 20) == (0.0, 1.0)  # everybody passed everywhere: no variance


@pytest.mark.parametrize("passed, graded, province_passed, province_graded, anomalous", [
    (18, 20, 68, 120, True),       # +40 points, z 3.30, p 0.0005, n 20
    (17, 19, 67, 119, False),      # as large, but fewer than 20 graded
    (600, 1000, 1100, 2000, False),  # z 4.49 but only +10 points (margin 15)
    (27, 40, 37, 60, False),       # +17.5 points but z 1.31, p 0.094
    (10, 20, 60, 120, False),      # the same rate as the rest
    (20, 20, 20, 20, False),       # no rest of the province to compare with
])
def test_anomaly_rule_table(passed, graded, province_passed, province_graded, anomalous):
    assert q.compare(passed, graded, province_passed, province_graded).anomalous is anomalous


def test_comparison_is_against_the_rest_of_the_province():
    c = q.compare(18, 20, 68, 120)
    assert (c.rest_passed, c.rest_graded) == (50, 100)
    assert (c.rate, c.rest_rate) == (0.9, 0.5)


def _row(candidate, exam, part, passed, score=None):
    return {"candidate": candidate, "exam": exam, "part": part, "passed": passed, "score": score}


def test_overall_outcome_needs_every_part_sat():
    rows = [_row("c1", 1, "theory", True, 70), _row("c1", 1, "practical", False, 50),
            _row("c2", 1, "theory", True, 80), _row("c2", 1, "practical", True, 90),
            _row("c3", 1, "practical", True, 65),                      # a resit of one part
            _row("c4", 1, "theory", True, 61), _row("c4", 1, "practical", None)]   # not graded yet
    overall = {r["candidate"]: r["passed"] for r in q.overall_outcomes(rows)}
    assert overall == {"c1": False, "c2": True, "c3": True, "c4": None}
    tallies = q.tally(q.overall_outcomes(rows), lambda r: r["part"])
    assert (len(tallies["overall"].candidates), tallies["overall"].graded, tallies["overall"].passed) == (4, 3, 2)
    parts = q.tally(rows, lambda r: r["part"])
    assert (parts["theory"].graded, parts["theory"].passed, parts["theory"].scores) == (3, 3, [70, 80, 61])
    assert (parts["practical"].graded, parts["practical"].passed) == (3, 2)


CLEAN = {"candidates": 25, "misconduct": 0, "misconduct_void_all": 0, "appeals_upheld": 0,
         "pass_rate_anomaly": False, "sessions_not_countersigned": 0, "leak_signals": 0, "agreement": True,
         "overrides_per_100": 4.0}


@pytest.mark.parametrize("changes, colour, fired", [
    ({}, "red", ("enough_candidates", "no_misconduct", "no_upheld_appeal", "pass_rate_normal",
                 "reports_countersigned", "no_leak_signal", "agreement_signed")),
    ({"candidates": 9}, None, ()),
    ({"misconduct": 1}, None, ()),                       # a warning: off the red list, not black
    ({"agreement": False}, None, ()),
    ({"sessions_not_countersigned": 1}, None, ()),
    ({"misconduct": 1, "misconduct_void_all": 1}, "black", ("void_all_misconduct",)),
    ({"pass_rate_anomaly": True, "overrides_per_100": 12.0}, "black", ("anomaly_with_overrides",)),
    ({"pass_rate_anomaly": True, "overrides_per_100": 10.0}, None, ()),   # "above" 10 is strict
    ({"pass_rate_anomaly": True, "leak_signals": 2}, "black", ("anomaly_with_leak",)),
    ({"appeals_upheld": 3}, "black", ("appeals_upheld_repeatedly",)),
    ({"appeals_upheld": 2}, None, ()),
    ({"misconduct": 2, "misconduct_void_all": 1, "pass_rate_anomaly": True, "leak_signals": 1}, "black",
     ("void_all_misconduct", "anomaly_with_leak")),
])
def test_list_rules_table(changes, colour, fired):
    decision = q.decide({**CLEAN, **changes})
    assert (decision.list, decision.rules) == (colour, fired)


def test_black_entries_name_the_metrics_behind_them():
    decision = q.decide({**CLEAN, "pass_rate_anomaly": True, "overrides_per_100": 15.0})
    assert decision.metrics == ("pass_rate_anomaly", "overrides_per_100")


def test_rules_are_data_and_round_trip():
    data = q.DEFAULT_RULES.to_dict()
    assert data["black"][0] == {"code": "void_all_misconduct", "conditions": [["misconduct_void_all", ">=", 1]]}
    assert q.RuleSet.from_dict(data) == q.DEFAULT_RULES
    stricter = q.RuleSet.from_dict({"red": [], "black": [{"code": "any_incident",
                                                          "conditions": [["misconduct", ">", 0]]}]})
    assert q.decide({**CLEAN, "misconduct": 1}, stricter).list == "black"
    assert q.decide(CLEAN, stricter).list is None    # no red rules: nobody is red


def test_per_100():
    assert q.per_100(3, 20) == 15.0
    assert q.per_100(3, 0) == 0.0


def test_trend_chart_breaks_the_line_where_nobody_was_graded():
    svg = charts.pass_rate_trend_svg(["01", "02", "03", "04", "05"], [0.5, 0.6, None, 0.7, 0.8], [4, 5, 0, 6, 7])
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 4
    assert "03" in svg and "70.0%（6 人）" in svg


def test_bar_chart_marks_anomalies_and_the_province():
    svg = charts.pass_rate_bars_svg(["A", "B", "C"], [0.9, 0.5, None], reference=0.6, flagged=[True, False, False])
    assert svg.count("<rect") == 1 + 2          # the background and two bars (C has none)
    assert f'fill="{charts.FLAG_COLOUR}"><title>A：90.0%' in svg
    assert "全省 60.0%" in svg
