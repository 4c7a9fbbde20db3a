"""Capacity check: every shortfall explained in words, naming the cell or the 鉴定点."""
import pytest

from assessment.bank import Blueprint, Item, PaperSpec, Point, Policy, Range, Section
from assessment.capacity import CapacityError, check_capacity, require_capacity
from assessment.demo_bank import lathe_bank

SINGLE3 = PaperSpec(sections=(Section("single", 3, 1.0),))
EASY = Policy(min_x_share=0.0, max_z_share=1.0, difficulty_band=0.5)


def blueprint(points=("A-B-001", "A-B-002", "A-B-003"), importance="X"):
    return Blueprint("数控车工", 4, 1, [Range("A", "基本要求", 100, children=[
        Range("A-B", "基础知识", 100, points=[Point(c, c, importance) for c in points])])])


def items(per_point: dict[str, int], item_type="single", status="active", start=0, p=0.65):
    made, k = [], start
    for code, n in per_point.items():
        for _ in range(n):
            k += 1
            options, key = (["a", "b", "c", "d"], "A") if item_type == "single" else ([], "T")
            made.append(Item(f"Q{k:04d}", 1, "数控车工", 4, code, item_type, "stem", options, key, p, status=status))
    return made


def test_a_point_with_too_few_items_for_disjoint_forms_is_named():
    bank = items({"A-B-001": 20, "A-B-002": 20, "A-B-003": 2})
    # 3 items per paper from 3 points: every point is in every paper. 20 disjoint papers need 20 items on each;
    # A-B-003 supplies min(2, 20) = 2 uses, the others 20 + 20, so it must give 60 − 40 = 20.
    shortfalls = check_capacity(bank, blueprint(), SINGLE3, EASY, papers=20, mode="disjoint")
    assert [s.message_en for s in shortfalls] == ["鉴定点 A-B-003 has 2 active single-choice items; 20 papers need 20"]
    assert shortfalls[0].message_zh == "鉴定点 A-B-003 只有 2 道可用的单项选择题；20 份试卷需要 20 道"
    assert shortfalls[0].cell == ("A-B", "single") and shortfalls[0].point_code == "A-B-003"


def test_only_active_items_count():
    bank = items({"A-B-001": 20, "A-B-002": 20, "A-B-003": 2}) + items({"A-B-003": 30}, status="draft", start=100)
    messages = [s.message_en for s in check_capacity(bank, blueprint(), SINGLE3, EASY, 20, "disjoint")]
    assert messages == ["鉴定点 A-B-003 has 2 active single-choice items; 20 papers need 20"]


def test_per_candidate_papers_may_reuse_items_up_to_the_exposure_cap():
    bank = items({"A-B-001": 20, "A-B-002": 20, "A-B-003": 2})
    # cap 0.25 × 20 papers = 5 papers per item: A-B-003 supplies 2 × 5 = 10 of its 20 → needs ⌈20/5⌉ = 4 items
    shortfalls = check_capacity(bank, blueprint(), SINGLE3, EASY, 20, "loft")
    assert [s.message_en for s in shortfalls] == ["鉴定点 A-B-003 has 2 active single-choice items; 20 papers need 4"]
    bank += items({"A-B-003": 2}, start=100)
    assert check_capacity(bank, blueprint(), SINGLE3, EASY, 20, "loft") == []


def test_a_range_with_too_few_points_is_named():
    bank = items({"A-B-001": 5, "A-B-002": 5})
    [shortfall] = check_capacity(bank, blueprint(), SINGLE3, EASY, 1, "disjoint")
    assert shortfall.message_en == ("鉴定范围 A-B (基础知识) needs 3 single-choice items on distinct 鉴定点 in every "
                                    "paper; only 2 of its 3 鉴定点 have an active single-choice item")
    assert "鉴定范围 A-B（基础知识）每份试卷需要 3 道不同鉴定点的单项选择题" in shortfall.message_zh


def test_a_spread_shortage_is_explained_for_the_range():
    points = ("A-B-001", "A-B-002", "A-B-003", "A-B-004", "A-B-005", "A-B-006")
    bank = items({c: 3 for c in points})
    # 10 disjoint papers × 3 items = 30 uses; 6 points × min(3, 10) = 18, 12 short. One point can serve at most
    # 10 papers, 7 more than its 3: no single point closes the gap, so the range is named with the numbers.
    shortfalls = check_capacity(bank, blueprint(points), SINGLE3, EASY, 10, "disjoint")
    assert [s.message_en for s in shortfalls][-1] == (
        "鉴定范围 A-B (基础知识): 10 papers × 3 single-choice items need 30 item uses (one per 鉴定点 per paper); "
        "its 鉴定点 can supply 18")


def test_types_sharing_a_range_need_distinct_points():
    spec = PaperSpec(sections=(Section("single", 2, 1.0), Section("true_false", 2, 1.0)))
    bank = items({"A-B-001": 5, "A-B-002": 5, "A-B-003": 5}) + items(
        {"A-B-001": 5, "A-B-002": 5, "A-B-003": 5}, "true_false", start=100)
    # 2 + 2 items at most one per point need 4 points; the range has 3
    messages = [s.message_en for s in check_capacity(bank, blueprint(), spec, EASY, 1, "loft")]
    assert messages == ["鉴定范围 A-B needs 4 items on distinct 鉴定点 per paper (single-choice, true/false); "
                        "only 3 鉴定点 have items"]


def test_policy_shortfalls_for_importance_and_difficulty():
    bank = items({"A-B-001": 5, "A-B-002": 5, "A-B-003": 5}, p=0.9)
    found = check_capacity(bank, blueprint(importance="Y"), SINGLE3, Policy(), 1, "loft")
    # 3 items, X ≥ ⌈1.5⌉ = 2 but no X points; every item has p = 0.9 → score 2.7 vs 3 × 0.65 = 1.95 ± 0.015
    assert [s.message_en for s in found] == [
        "at most 0 items can sit on X points; the policy needs 2",
        "expected scores from 2.7 to 2.7 are reachable; the target is 1.95 ± 0.015"]
    with pytest.raises(CapacityError, match="X points"):
        require_capacity(bank, blueprint(importance="Y"), SINGLE3, Policy(), 1, "loft")


def test_the_demo_bank_passes_for_the_benchmark_requests():
    bank = lathe_bank()
    assert check_capacity(bank.items, bank.blueprint, PaperSpec(), Policy(), 500, "loft") == []
    forms = PaperSpec(sections=(Section("single", 80, 1.0), Section("true_false", 20, 1.0)))
    assert check_capacity(bank.items, bank.blueprint, forms, Policy(), 20, "disjoint") == []


def test_a_range_short_under_the_exposure_cap_says_so():
    points = ("A-B-001", "A-B-002", "A-B-003", "A-B-004", "A-B-005", "A-B-006")
    bank = items({c: 1 for c in points})
    # 40 papers, cap 0.25 → an item in at most 10; 6 points × 1 item × 10 = 60 uses, 40 × 3 = 120 needed
    [shortfall] = check_capacity(bank, blueprint(points), SINGLE3, EASY, 40, "loft")
    assert shortfall.message_en == (
        "鉴定范围 A-B (基础知识): 40 papers × 3 single-choice items need 120 item uses (one per 鉴定点 per paper, "
        "each item in at most 10 papers); its 鉴定点 can supply 60")
    assert "每道题至多用于 10 份试卷" in shortfall.message_zh
