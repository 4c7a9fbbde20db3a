"""Paper assembly: every produced paper meets every hard rule (checked here independently of compliance.py),
same seed → same papers, infeasible requests raise and produce nothing."""
from collections import Counter
from functools import lru_cache

import pytest

from assessment.assembly import AssemblyError, assemble_forms, assemble_loft, exposure
from assessment.bank import Blueprint, Candidate, Item, PaperSpec, Point, Policy, Range, Section, snapshot_hash
from assessment.blueprint import allocate
from assessment.capacity import CapacityError
from assessment.demo_bank import lathe_bank

FORMS = PaperSpec(sections=(Section("single", 80, 1.0), Section("true_false", 20, 1.0)))


@lru_cache(maxsize=1)
def bank():
    return lathe_bank()


def independent_violations(paper, items, blueprint, spec, policy, excluded=frozenset()):
    """Hard rules re-derived from the items: counts per leaf and type, top-level counts by hand, one item per
    point, enemies apart, active items only, X/Z shares, expected score within target ± band."""
    by_ref = {i.ref: i for i in items}
    chosen = [by_ref[r] for r in paper.item_refs]
    leaf_of = {p.code: leaf.code for leaf in blueprint.leaves() for p in leaf.points}
    importance = {p.code: p.importance for p in blueprint.points()}
    found = []
    counts = Counter((leaf_of[i.point_code], i.type) for i in chosen)
    wanted = {cell: n for cell, n in allocate(blueprint, spec).cells.items() if n}
    if dict(counts) != wanted:
        found.append("cell counts")
    if len(chosen) != sum(s.count for s in spec.sections):
        found.append("length")
    if len({i.point_code for i in chosen}) != len(chosen):
        found.append("two items on one point")
    groups = [i.enemy_group for i in chosen if i.enemy_group]
    if len(groups) != len(set(groups)):
        found.append("enemies together")
    if any(i.status != "active" for i in chosen) or any(i.id in excluded for i in chosen):
        found.append("inactive or excluded item")
    n = len(chosen)
    x = sum(importance[i.point_code] == "X" for i in chosen)
    z = sum(importance[i.point_code] == "Z" for i in chosen)
    if x < policy.min_x_share * n - 1e-9 or z > policy.max_z_share * n + 1e-9:
        found.append("importance shares")
    points_each = {s.type: s.points_each for s in spec.sections}
    score = sum(i.difficulty * points_each[i.type] for i in chosen)
    total = sum(s.count * s.points_each for s in spec.sections)
    if abs(score - policy.difficulty_target * total) > policy.difficulty_band * total + 1e-9:
        found.append(f"expected score {score}")
    return found


def loft(candidates=40, seed=11, policy=Policy()):
    b = bank()
    return assemble_loft(b.items, b.blueprint, PaperSpec(), policy,
                         [Candidate(f"C{k:03d}") for k in range(candidates)], "2026-12-01", seed=seed)


def test_per_candidate_papers_meet_every_hard_rule():
    papers = loft()
    b = bank()
    for paper in papers:
        assert independent_violations(paper, b.items, b.blueprint, PaperSpec(), Policy()) == [], paper.id
        # national format: 160 single + 40 true/false, 25 % of each from 基本要求 (A): 40 and 10
        types = Counter(i.split("@")[0][:1] for i in paper.item_refs)
        assert sum(types.values()) == 200
        assert sum(c.actual for c in paper.report.cells if c.range_code == "A" and c.type == "single") == 40
        assert abs(paper.expected_score - 65.0) <= 0.5
    assert max(exposure(papers).values()) <= Policy().exposure_cap
    assert len({p.item_refs for p in papers}) == len(papers)


def test_papers_record_how_they_were_made():
    papers = loft(candidates=3)
    b = bank()
    paper = papers[1]
    assert paper.blueprint_version == 1 and paper.bank_hash == snapshot_hash(b.items)
    assert paper.seed == 11 and paper.index == 1 and paper.candidate_id == "C001"
    assert paper.solver.startswith("greedy+swap")
    assert paper.solver_version.startswith("HiGHS 1.") and "numpy" in paper.solver_version
    assert paper.objective == pytest.approx(abs(paper.expected_score - 65.0))


def test_same_seed_same_papers_other_seed_other_papers():
    first = [p.item_refs for p in loft(candidates=5, seed=3)]
    assert first == [p.item_refs for p in loft(candidates=5, seed=3)]
    assert first != [p.item_refs for p in loft(candidates=5, seed=4)]


def test_exposure_cap_is_never_exceeded_when_it_binds():
    # 8 papers, cap 0.25 → an item in at most 2 of them
    papers = loft(candidates=8, policy=Policy(exposure_cap=0.25))
    counts = Counter(i for p in papers for i in p.item_ids)
    assert max(counts.values()) <= 2


def test_a_candidate_never_gets_an_item_seen_within_the_window():
    b = bank()
    active = [i for i in b.items if i.status == "active"]
    # 12-month window before 2026-12-01 starts 2025-12-01: seen on 2026-06-01 is recent, 2025-01-01 is not
    recent = {i.id: "2026-06-01" for i in active[::2]}
    old = {i.id: "2025-01-01" for i in active[1::4]}
    candidate = Candidate("R1", seen={**recent, **old})
    [paper] = assemble_loft(b.items, b.blueprint, PaperSpec(), Policy(), [candidate], "2026-12-01", seed=5)
    assert not set(paper.item_ids) & set(recent)
    assert independent_violations(paper, b.items, b.blueprint, PaperSpec(), Policy(), frozenset(recent)) == []


def test_a_candidate_who_saw_a_whole_range_gets_an_error_naming_it():
    b = bank()
    seen = {i.id: "2026-06-01" for i in b.items if i.point_code.startswith("A-B-A-")}     # all of 机械制图
    with pytest.raises(AssemblyError, match="鉴定范围 A-B-A needs 8 single items on distinct 鉴定点; only 0"):
        assemble_loft(b.items, b.blueprint, PaperSpec(), Policy(), [Candidate("R2", seen)], "2026-12-01", seed=5)


def test_disjoint_parallel_forms_are_parallel_and_share_nothing():
    b = bank()
    forms = assemble_forms(b.items, b.blueprint, FORMS, Policy(), 6, seed=2)
    for form in forms:
        assert independent_violations(form, b.items, b.blueprint, FORMS, Policy()) == []
        assert abs(form.expected_score - 65.0) <= 0.01      # the goal is 0.001; p has 3 decimals
    ids = [set(f.item_ids) for f in forms]
    assert all(not (a & c) for k, a in enumerate(ids) for c in ids[k + 1:])


def test_forms_with_an_overlap_cap():
    b = bank()
    forms = assemble_forms(b.items, b.blueprint, FORMS, Policy(), 4, seed=2, max_overlap=10)
    ids = [set(f.item_ids) for f in forms]
    assert max(len(a & c) for k, a in enumerate(ids) for c in ids[k + 1:]) <= 10
    assert all(independent_violations(f, b.items, b.blueprint, FORMS, Policy()) == [] for f in forms)


def tiny_bank(difficulties=(0.5, 0.6, 0.7, 0.8), enemies=(None, None, None, None)):
    points = [Point(f"A-A-{k:03d}", f"p{k}", "X") for k in range(1, len(difficulties) + 1)]
    blueprint = Blueprint("数控车工", 4, 1, [Range("A", "基本要求", 100, children=[
        Range("A-A", "职业道德", 100, points=points)])])
    items = [Item(f"T{k}", 1, "数控车工", 4, p.code, "single", "stem", ["a", "b", "c", "d"], "A", d, enemy_group=e)
             for k, (p, d, e) in enumerate(zip(points, difficulties, enemies))]
    return blueprint, items


TWO = PaperSpec(sections=(Section("single", 2, 1.0),))


def test_the_exact_polish_fixes_what_the_swaps_cannot():
    # One item per point, so no same-point swap exists. Target 2 × 0.65 = 1.3 ± 2 × 0.005 = 0.01: only the
    # pairs 0.5 + 0.8 and 0.6 + 0.7 qualify, so a greedy pick of points misses in 4 of 6 pairs; HiGHS repairs it.
    blueprint, items = tiny_bank()
    policy = Policy(exposure_cap=1.0)
    papers = assemble_loft(items, blueprint, TWO, policy, [Candidate(f"C{k}") for k in range(12)], "2026-12-01", 1)
    assert any(p.solver == "greedy+swap+highs" for p in papers)
    for paper in papers:
        assert paper.expected_score == pytest.approx(1.3)
        assert independent_violations(paper, items, blueprint, TWO, policy) == []


def test_an_infeasible_request_names_the_cell_and_produces_nothing():
    blueprint, items = tiny_bank()
    spec = PaperSpec(sections=(Section("single", 3, 1.0),))
    # 3 items per paper from 4 points with one item each: 4 disjoint papers need 12 items, the range has 4
    with pytest.raises(CapacityError, match=r"鉴定范围 A-A \(职业道德\): 4 papers × 3 single-choice items"):
        assemble_forms(items, blueprint, spec, Policy(difficulty_band=0.5), 4, seed=1)


def test_a_request_that_passes_the_capacity_check_but_has_no_compliant_paper_raises():
    # Only 0.5 + 0.8 and 0.6 + 0.7 reach 1.3 ± 0.01, and each of those pairs is an enemy group: every cell has
    # enough points, so the capacity check passes, but no compliant paper exists.
    blueprint, items = tiny_bank(enemies=("E1", "E2", "E2", "E1"))
    with pytest.raises(AssemblyError, match="HiGHS proved that no paper meets .* expected score 1.3 ± 0.01"):
        assemble_loft(items, blueprint, TWO, Policy(exposure_cap=1.0), [Candidate("C1")], "2026-12-01", 1)


def test_strict_importance_shares_are_met_by_moving_slots_to_other_points():
    # The bank's points are about 60 % X and 11 % Z; a paper drawn freely has ~65 % X. Asking 80 % X and at most
    # 2 % Z (⌈160⌉ X items, ⌊4⌋ Z items of 200) forces the repair step (or the MIP) to move slots.
    policy = Policy(min_x_share=0.8, max_z_share=0.02)
    papers = loft(candidates=5, policy=policy)
    b = bank()
    for paper in papers:
        assert independent_violations(paper, b.items, b.blueprint, PaperSpec(), policy) == []
        assert paper.report.importance_counts["X"] >= 160 and paper.report.importance_counts["Z"] <= 4


def test_batch_summary_by_hand():
    from assessment.compliance import batch_summary
    # papers {a,b,c}, {a,b,d}, {a,e,f}: a in 3 (exposure 3/3), b in 2; shared pairs: a → 3, b → 1 = 4 over 3
    # pairs → 4/3; the worst pair (1, 2) shares a and b.
    summary = batch_summary([["a", "b", "c"], ["a", "b", "d"], ["a", "e", "f"]])
    assert summary.max_exposure == 1.0 and summary.distinct_items == 6
    assert summary.mean_overlap_items == pytest.approx(4 / 3) and summary.max_overlap_items == 2


def test_the_compliance_report_flags_a_hand_edited_paper():
    from assessment.compliance import compliance_report
    b = bank()
    paper = loft(candidates=1)[0]
    by_ref = {i.ref: i for i in b.items}
    items = [by_ref[r] for r in paper.item_refs]
    assert compliance_report("p", items, b.blueprint, PaperSpec(), Policy()).compliant
    # Replace the first item (single choice, range A-A-A) by another active item on the last item's point (a
    # true/false item of range B-E-B): that point now has two items, A-A-A is one single-choice item short and
    # B-E-B one true/false item over. By hand: 40 true/false × 75 % = 30 for B; B's children 15:22:15:15:8 →
    # 6, 8.8, 6, 6, 3.2 → 6, 9, 6, 6, 3; B-E's 3 over B-E-A:B-E-B = 4:4 → 1.5, 1.5 → 2, 1. Singles: 160 × 25 % =
    # 40 for A; A-A 5 of 25 → 8; A-A-A:A-A-B = 3:2 → 4.8, 3.2 → 5, 3.
    last = items[-1]
    assert items[0].type == "single" and last.type == "true_false"
    twin = next(i for i in b.items if i.point_code == last.point_code and i.type == last.type
                and i.status == "active" and i.id != last.id)
    report = compliance_report("p", [twin] + items[1:], b.blueprint, PaperSpec(), Policy())
    assert not report.compliant
    assert f"鉴定点 {last.point_code} has 2 items, at most 1 allowed" in report.violations
    assert "range A-A-A has 4 single-choice items, the blueprint asks for 5" in report.violations
    assert "range B-E-B has 2 true/false items, the blueprint asks for 1" in report.violations
    assert "NOT COMPLIANT" in report.to_text()
