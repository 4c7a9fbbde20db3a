"""Paper assembly benchmark (issue 7) on the generated 数控车工 中级 bank (443 鉴定点, 5,844 active items).

1. LOFT: 500 per-candidate papers of 200 items (160 single + 40 true/false × 0.5 points). Targets: every paper
   compliant, total ≤ 60 s, every expected score within ±0.5 points of 65, maximum item exposure reported.
2. 20 disjoint parallel forms of 100 items (80 single + 20 true/false × 1 point) in ≤ 30 s; the worst
   deviation from the target expected score (65) is reported.

Run: ``.venv/bin/python -m benchmarks assembly``.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(candidates: int = 500, forms: int = 20) -> None:
    from assessment.assembly import assemble_forms, assemble_loft
    from assessment.compliance import batch_summary
    from assessment.bank import Candidate, PaperSpec, Policy, Section
    from assessment.demo_bank import lathe_bank

    bank = lathe_bank()
    active = sum(1 for i in bank.items if i.status == "active")
    points = sum(1 for _ in bank.blueprint.points())
    print(f"assembly.bank points={points} items={len(bank.items)} active={active} load={_load()}")

    started = time.perf_counter()
    papers = assemble_loft(bank.items, bank.blueprint, PaperSpec(), Policy(),
                           [Candidate(f"C{k:04d}") for k in range(candidates)], "2026-12-01", seed=2026)
    elapsed = time.perf_counter() - started
    summary = batch_summary([list(p.item_ids) for p in papers])
    worst = max(abs(p.expected_score - p.target_score) for p in papers)
    print(f"assembly.loft papers={len(papers)} items_each={len(papers[0].item_refs)} "
          f"compliant={sum(p.report.compliant for p in papers)}/{len(papers)} total_s={elapsed:.2f} "
          f"worst_score_dev={worst:.3f} max_exposure={summary.max_exposure:.3f} "
          f"distinct_items={summary.distinct_items} mean_shared_items={summary.mean_overlap_items:.2f} "
          f"polished={sum('highs' in p.solver for p in papers)} load={_load()}")

    spec = PaperSpec(sections=(Section("single", 80, 1.0), Section("true_false", 20, 1.0)))
    started = time.perf_counter()
    made = assemble_forms(bank.items, bank.blueprint, spec, Policy(), forms, seed=2026)
    elapsed = time.perf_counter() - started
    shared = batch_summary([list(p.item_ids) for p in made]).max_overlap_items
    print(f"assembly.forms forms={len(made)} items_each={len(made[0].item_refs)} "
          f"compliant={sum(p.report.compliant for p in made)}/{len(made)} total_s={elapsed:.2f} "
          f"worst_score_dev={max(p.objective for p in made):.4f} max_shared_items={shared} "
          f"polished={sum('highs' in p.solver for p in made)} load={_load()}")


if __name__ == "__main__":
    main()
