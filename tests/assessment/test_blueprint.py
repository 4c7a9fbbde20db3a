"""Blueprint arithmetic: largest-remainder rounding by hand, top-down through levels, policy limits, demo bank."""
import pytest

from assessment.bank import Blueprint, Item, PaperSpec, Point, Policy, Range, Section, snapshot_hash
from assessment.blueprint import allocate, largest_remainder, paper_rules
from assessment.demo_bank import lathe_bank, mill_bank


def test_largest_remainder_gives_the_extra_item_to_the_largest_remainder():
    # quotas 10·33.3/100 = 3.33, 3.33, 3.34 → floors 3, 3, 3; one left → the 0.34 remainder → 3/3/4
    assert largest_remainder([33.3, 33.3, 33.4], 10) == [3, 3, 4]


def test_largest_remainder_breaks_ties_toward_the_earlier_weight():
    # quotas 2.5, 2.5 → floors 2, 2; one left, equal remainders → the first
    assert largest_remainder([25, 25], 5) == [3, 2]


def test_largest_remainder_of_the_national_format():
    # 160 single-choice × (25 %, 75 %) = 40, 120 exactly
    assert largest_remainder([25, 75], 160) == [40, 120]
    assert largest_remainder([1, 1, 1], 0) == [0, 0, 0]


def _point(code, importance="X"):
    return Point(code, code, importance)


def two_level_blueprint():
    p = Range("P", "P", 50, children=[Range("P1", "P1", 16.7, points=[_point("P1-001")]),
                                      Range("P2", "P2", 16.7, points=[_point("P2-001")]),
                                      Range("P3", "P3", 16.6, points=[_point("P3-001")])])
    q = Range("Q", "Q", 50, children=[Range("Q1", "Q1", 25, points=[_point("Q1-001")]),
                                      Range("Q2", "Q2", 25, points=[_point("Q2-001")])])
    return Blueprint("数控车工", 4, 1, [p, q])


def test_rounding_is_applied_top_down_through_two_levels():
    counts = allocate(two_level_blueprint(), PaperSpec(sections=(Section("single", 10, 1.0),))).cells
    # Level 1: P, Q = 10·50/100 = 5, 5.
    # In P: 5·16.7/50 = 1.67, 1.67, 1.66 → floors 1, 1, 1; two left → P1, P2 (.67, .67) → 2, 2, 1.
    # In Q: 5·25/50 = 2.5, 2.5 → 2, 2; one left, tie → Q1 → 3, 2.
    # (Rounding the leaves directly would give P1..P3 = 2, 2, 2 and Q1, Q2 = 2, 2: P 6, Q 4, not 5/5.)
    assert counts == {("P1", "single"): 2, ("P2", "single"): 2, ("P3", "single"): 1,
                      ("Q1", "single"): 3, ("Q2", "single"): 2}


def test_every_section_is_rounded_on_its_own():
    targets = allocate(two_level_blueprint(), PaperSpec(sections=(Section("single", 10, 1.0),
                                                                 Section("true_false", 4, 1.0))))
    # true/false: P, Q = 2, 2; in P 2·(16.7, 16.7, 16.6)/50 = .668, .668, .664 → 0,0,0 + 2 → 1, 1, 0;
    # in Q 1, 1.
    assert [targets.cells[(c, "true_false")] for c in ("P1", "P2", "P3", "Q1", "Q2")] == [1, 1, 0, 1, 1]
    assert targets.nodes[("P", "true_false")] == 2 and targets.nodes[("Q", "single")] == 5


def test_national_format_on_the_demo_blueprint():
    targets = allocate(lathe_bank().blueprint, PaperSpec())
    # 基本要求 25 %, 相关知识 75 %: 160 × 25 % = 40 single, 40 × 25 % = 10 true/false; the rest in B.
    assert targets.nodes[("A", "single")] == 40 and targets.nodes[("B", "single")] == 120
    assert targets.nodes[("A", "true_false")] == 10 and targets.nodes[("B", "true_false")] == 30
    # 数控编程 B-B is 22 %: 160 × 22/100 = 35.2 inside B's 120 (120 × 22/75 = 35.2) → 35
    assert targets.nodes[("B-B", "single")] == 35
    assert sum(targets.cells.values()) == 200


def test_policy_limits_for_the_national_format():
    rules = paper_rules(PaperSpec(), Policy())
    # 200 items: X ≥ ⌈0.5·200⌉ = 100, Z ≤ ⌊0.15·200⌋ = 30; 100 points × 0.65 = 65 ± 100 × 0.005 = 0.5
    assert (rules.item_count, rules.min_x_items, rules.max_z_items) == (200, 100, 30)
    assert rules.target_score == pytest.approx(65.0) and rules.score_band == pytest.approx(0.5)
    assert PaperSpec().total_points == 100 and PaperSpec().duration_min == 120 and PaperSpec().pass_mark == 60


def test_blueprint_rejects_duplicate_points_and_mixed_nodes():
    with pytest.raises(ValueError, match="duplicate"):
        Blueprint("数控车工", 4, 1, [Range("A", "A", 100, points=[_point("A-001"), _point("A-001")])])
    with pytest.raises(ValueError, match="both"):
        Range("A", "A", 100, children=[Range("A-A", "x", 100)], points=[_point("A-001")])
    with pytest.raises(ValueError, match="importance"):
        Point("A-001", "x", "W")


def test_items_reject_keys_that_do_not_fit_their_type():
    with pytest.raises(ValueError, match="key"):
        Item("Q1", 1, "数控车工", 4, "A-001", "single", "stem", ["a", "b", "c", "d"], "E", 0.6)
    with pytest.raises(ValueError, match="T or F"):
        Item("Q1", 1, "数控车工", 4, "A-001", "true_false", "stem", [], "A", 0.6)
    with pytest.raises(ValueError, match="difficulty"):
        Item("Q1", 1, "数控车工", 4, "A-001", "true_false", "stem", [], "T", 1.5)


def test_demo_banks_are_realistic_and_seeded():
    lathe = lathe_bank()
    points = list(lathe.blueprint.points())
    active = [i for i in lathe.items if i.status == "active"]
    assert len(points) >= 400 and len(active) >= 5000
    names = {r.name for r in lathe.blueprint.leaves()}
    assert {"机械制图", "公差配合与技术测量", "复合循环编程", "零件精度检验"} <= names
    assert {p.importance for p in points} == {"X", "Y", "Z"}
    assert any("G71" in p.name for p in points) and any("G76" in p.name for p in points)
    assert sum(r.weight_pct for r in lathe.blueprint.ranges) == 100
    assert snapshot_hash(lathe.items) == snapshot_hash(lathe_bank().items)
    assert snapshot_hash(lathe.items) != snapshot_hash(lathe_bank(seed=1).items)
    mill = mill_bank()
    assert 0 < len(mill.items) < len(lathe.items) and mill.blueprint.occupation == "数控铣工"


def test_weight_problems_and_importance_ratio():
    from assessment.blueprint import weight_problems
    assert weight_problems(lathe_bank().blueprint) == []
    # P's children: 16.7 + 16.7 + 16.6 = 50 = P; Q's 25 + 25 = 50 = Q; top 100
    assert weight_problems(two_level_blueprint()) == []
    bad = Blueprint("数控车工", 4, 1, [Range("A", "A", 30, children=[
        Range("A-A", "x", 20, points=[_point("A-A-001", "Y")]), Range("A-B", "y", 5, points=[_point("A-B-001")])])])
    assert weight_problems(bad) == ["top-level ranges weigh 30 %, not 100 %",
                                    "range A weighs 30 % but its children 25 %"]
    assert bad.ranges[0].importance_counts() == {"X": 1, "Y": 1, "Z": 0}
