"""Paper assembly (智能组卷): N parallel fixed forms (disjoint or with an overlap cap) or one paper per
candidate (LOFT) with exposure control.

Per paper, in order (never one model over all papers):
1. greedy: per leaf range, pick distinct 鉴定点 for its cells (Gumbel top-k on log(available items), so a point
   is drawn about in proportion to the items it can supply, which spreads exposure), then the least-used item
   of each; enemies and blocked items (used by a disjoint form, at the exposure cap, seen by the candidate)
   are skipped; X/Z shares are repaired by swapping points inside a leaf;
2. swap: replace an item by another of the same 鉴定点 and type while that brings the expected score closer to
   the target, down to the goal tolerance (structure, shares and enemies stay intact);
3. polish: only when a hard rule is still broken, one MIP for this paper with HiGHS (min |score − target|,
   stopped at the goal as absolute gap), warm-started from the greedy paper;
4. the compliance report (compliance.py) must list no violation, else AssemblyError: no paper is produced.
Seeded: paper k of a batch uses numpy Generator([seed, k]); HiGHS runs single-threaded with a fixed seed.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from assessment.bank import IMPORTANCES, Blueprint, Candidate, Item, PaperSpec, Policy, snapshot_hash
from assessment.blueprint import allocate, paper_rules
from assessment.capacity import eligible_items, require_capacity, uses_per_item
from assessment.compliance import ComplianceReport, compliance_report

HEURISTIC = "greedy+swap"
X, Z = IMPORTANCES.index("X"), IMPORTANCES.index("Z")


class AssemblyError(RuntimeError):
    """No paper meeting every hard rule could be made; the message says which paper and which rules."""


@dataclass(frozen=True)
class Paper:
    """An assembled paper and how it was made (enough to reproduce and to audit it)."""

    id: str
    mode: str                       # "disjoint" | "overlap" | "loft"
    candidate_id: str | None
    item_refs: tuple[str, ...]      # "id@version", grouped by section in the paper structure's order
    expected_score: float
    target_score: float
    objective: float                # |expected score − target| in points, what the assembler minimises
    blueprint_version: int
    bank_hash: str
    seed: int
    index: int                      # position in the batch (papers depend on earlier ones' usage)
    solver: str
    solver_version: str
    report: ComplianceReport

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(r.split("@")[0] for r in self.item_refs)


class _Pool:
    """The eligible items as arrays, indexed once per batch."""

    def __init__(self, items: list[Item], blueprint: Blueprint, spec: PaperSpec, policy: Policy):
        self.items = items
        index = blueprint.point_index()
        leaves = list(blueprint.leaves())
        leaf_of = {leaf.code: k for k, leaf in enumerate(leaves)}
        self.point_codes = [p.code for p in blueprint.points()]
        point_of = {c: k for k, c in enumerate(self.point_codes)}
        self.types = [s.type for s in spec.sections]
        type_of = {t: k for k, t in enumerate(self.types)}
        self.n_types = len(self.types)
        self.point = np.array([point_of[i.point_code] for i in items], dtype=np.int64)
        self.type = np.array([type_of[i.type] for i in items], dtype=np.int64)
        self.slot = self.point * self.n_types + self.type
        self.leaf = np.array([leaf_of[index[i.point_code][1].code] for i in items], dtype=np.int64)
        self.points = np.array([spec.points_of(i.type) for i in items])
        self.score = np.array([i.difficulty for i in items]) * self.points      # expected points per item
        self.importance = np.array([IMPORTANCES.index(index[i.point_code][0].importance) for i in items])
        self.point_importance = np.array([IMPORTANCES.index(p.importance) for p in blueprint.points()])
        groups = sorted({i.enemy_group for i in items if i.enemy_group})
        group_of = {g: k for k, g in enumerate(groups)}
        self.enemy = np.array([group_of[i.enemy_group] if i.enemy_group and policy.enemies_apart else -1
                               for i in items], dtype=np.int64)
        self.n_groups = len(groups)
        order = np.argsort(self.slot, kind="stable")
        bounds = np.searchsorted(self.slot[order], np.arange(len(self.point_codes) * self.n_types + 1))
        self.slot_items = [order[bounds[s]:bounds[s + 1]] for s in range(len(bounds) - 1)]
        self.leaf_points = [[point_of[p.code] for p in leaf.points] for leaf in leaves]
        self.point_leaf = {p: leaf for leaf, ps in enumerate(self.leaf_points) for p in ps}
        targets = allocate(blueprint, spec)
        self.leaf_needs = [[(type_of[t], targets.cells.get((leaf.code, t), 0)) for t in self.types
                            if targets.cells.get((leaf.code, t), 0) > 0] for leaf in leaves]
        self.leaf_codes = [leaf.code for leaf in leaves]
        self.ref_position = {item.ref: k for k, item in enumerate(items)}

    @property
    def size(self) -> int:
        return len(self.items)


class _Paper:
    """A paper under construction: one item per slot (a chosen point and type)."""

    def __init__(self, pool: _Pool, blocked: np.ndarray):
        self.pool = pool
        self.blocked = blocked
        self.slot_point: list[int] = []
        self.slot_type: list[int] = []
        self.item: list[int] = []
        self.enemy_count = np.zeros(max(pool.n_groups, 1), dtype=np.int64)

    def enemy_free(self, i: int, replacing: int | None = None) -> bool:
        group = self.pool.enemy[i]
        if group < 0:
            return True
        held = self.enemy_count[group] - (1 if replacing is not None and self.pool.enemy[replacing] == group else 0)
        return held == 0

    def place(self, slot: int, i: int) -> None:
        old = self.item[slot]
        if old >= 0 and self.pool.enemy[old] >= 0:
            self.enemy_count[self.pool.enemy[old]] -= 1
        self.item[slot] = i
        if self.pool.enemy[i] >= 0:
            self.enemy_count[self.pool.enemy[i]] += 1

    def drop_last_slot(self) -> None:
        for column in (self.slot_point, self.slot_type, self.item):
            column.pop()

    def add_slot(self, point: int, type_: int) -> int:
        self.slot_point.append(point)
        self.slot_type.append(type_)
        self.item.append(-1)
        return len(self.item) - 1


def _gumbel(rng: np.random.Generator, n: int) -> np.ndarray:
    return -np.log(-np.log(rng.random(n) + 1e-300) + 1e-300)


class _Builder:
    """Builds one paper from the pool, given what is blocked and how often items were used so far."""

    def __init__(self, pool: _Pool, rules, goal: float, usage: np.ndarray, rng: np.random.Generator):
        self.pool, self.rules, self.goal, self.usage, self.rng = pool, rules, goal, usage, rng

    def build(self, blocked: np.ndarray) -> _Paper | None:
        paper = _Paper(self.pool, blocked)
        available = np.bincount(self.pool.slot[~blocked], minlength=len(self.pool.slot_items))
        for leaf, needs in enumerate(self.pool.leaf_needs):
            if not self._fill_leaf(paper, leaf, needs, available):
                return None
        if not self._repair_importance(paper, available):
            return None
        self._swap_to_target(paper)
        return paper

    def _fill_leaf(self, paper: _Paper, leaf: int, needs, available) -> bool:
        points = np.array(self.pool.leaf_points[leaf])
        taken = np.zeros(len(points), dtype=bool)
        bonus = np.where(self.pool.point_importance[points] == X, 0.3,
                         np.where(self.pool.point_importance[points] == Z, -0.5, 0.0))
        # The scarcest type first: fewest usable points per item needed.
        order = sorted(needs, key=lambda tn: (available[points * self.pool.n_types + tn[0]] > 0).sum() / tn[1])
        for type_, n in order:
            supply = available[points * self.pool.n_types + type_]
            usable = (supply > 0) & ~taken
            if usable.sum() < n:
                return False
            key = np.where(usable, np.log(np.maximum(supply, 1)) + bonus + _gumbel(self.rng, len(points)), -np.inf)
            placed = 0
            for k in np.argsort(-key, kind="stable")[:usable.sum()]:
                slot = paper.add_slot(int(points[k]), type_)
                item = self._pick_item(paper, slot)
                if item < 0:            # every item of this point clashes with an enemy already in: next point
                    paper.drop_last_slot()
                    continue
                paper.place(slot, item)
                taken[k] = True
                placed += 1
                if placed == n:
                    break
            if placed < n:
                return False
        return True

    def _pick_item(self, paper: _Paper, slot: int, replacing: int | None = None) -> int:
        """The least-used unblocked, enemy-free item of the slot (random among equals); -1 if none."""
        candidates = self.pool.slot_items[paper.slot_point[slot] * self.pool.n_types + paper.slot_type[slot]]
        candidates = candidates[~paper.blocked[candidates]]
        if len(candidates) == 0:
            return -1
        key = self.usage[candidates] + 0.9 * self.rng.random(len(candidates))
        for i in candidates[np.argsort(key, kind="stable")]:
            if paper.enemy_free(int(i), replacing):
                return int(i)
        return -1

    def _repair_importance(self, paper: _Paper, available) -> bool:
        """Move slots from Y/Z to X points (or from Z to X/Y) inside their leaf until the shares hold."""
        pool = self.pool
        for _ in range(len(paper.item)):
            imp = pool.point_importance[np.array(paper.slot_point)]
            if (imp == X).sum() < self.rules.min_x_items:
                movable, wanted = imp != X, (X,)
            elif (imp == Z).sum() > self.rules.max_z_items:
                movable, wanted = imp == Z, (X, IMPORTANCES.index("Y"))
            else:
                return True
            if not self._move_one(paper, np.flatnonzero(movable), wanted, available):
                return False
        return False

    def _move_one(self, paper: _Paper, slots, wanted, available) -> bool:
        pool = self.pool
        used = set(paper.slot_point)
        for slot in self.rng.permutation(slots):
            type_ = paper.slot_type[slot]
            for point in pool.leaf_points[pool.point_leaf[paper.slot_point[slot]]]:
                if (point in used or pool.point_importance[point] not in wanted
                        or available[point * pool.n_types + type_] == 0):
                    continue
                old_point, old_item = paper.slot_point[slot], paper.item[slot]
                paper.slot_point[slot] = point
                item = self._pick_item(paper, slot, replacing=old_item)
                if item >= 0:
                    paper.place(slot, item)
                    return True
                paper.slot_point[slot] = old_point
        return False

    def _swap_to_target(self, paper: _Paper, max_swaps: int = 200) -> None:
        """Best single same-slot swaps toward the target; among swaps that reach the goal, the least used."""
        pool = self.pool
        slot_of, cands = [], []
        for slot, (point, type_) in enumerate(zip(paper.slot_point, paper.slot_type)):
            items = pool.slot_items[point * pool.n_types + type_]
            items = items[~paper.blocked[items]]
            cands.append(items)
            slot_of.append(np.full(len(items), slot))
        if not cands:
            return
        cands, slot_of = np.concatenate(cands), np.concatenate(slot_of)
        for _ in range(max_swaps):
            current = np.array(paper.item)
            gap = self.rules.target_score - pool.score[current].sum()
            if abs(gap) <= self.goal:
                return
            after = np.abs(gap - (pool.score[cands] - pool.score[current[slot_of]]))
            after[cands == current[slot_of]] = np.inf
            reaching = np.flatnonzero(after <= self.goal)
            order = (reaching[np.argsort(self.usage[cands[reaching]] + self.rng.random(len(reaching)), kind="stable")]
                     if len(reaching) else np.argsort(after, kind="stable")[:50])
            for k in order:
                if after[k] >= abs(gap):
                    return
                if paper.enemy_free(int(cands[k]), replacing=int(current[slot_of[k]])):
                    paper.place(int(slot_of[k]), int(cands[k]))
                    break
            else:
                return


Row = tuple[np.ndarray, np.ndarray, float, float]       # (columns, values, lower, upper)


def _polish(pool: _Pool, rules, blocked: np.ndarray, start: list[int] | None, goal: float, overlap_rows,
            time_limit: float) -> list[int] | None:
    """One MIP for one paper over its usable items: every hard rule as a constraint, minimise the deviation y =
    |expected score − target| (bounded by the band). Stops once y ≤ goal (absolute gap against the bound 0)."""
    free = np.flatnonzero(~blocked)
    rows = _mip_rows(pool, rules, free, overlap_rows)
    if rows is None:
        return None
    position = {int(i): k for k, i in enumerate(free)}
    start_columns = [position[i] for i in start if i in position] if start else None
    chosen = _solve_mip(rows, len(free), rules, start_columns, pool.score[free], goal, time_limit)
    return None if chosen is None else [int(i) for i in free[chosen]]


def _mip_rows(pool: _Pool, rules, free: np.ndarray, overlap_rows) -> list[Row] | None:
    """Constraint rows over columns 0..n-1 (the usable items) and n (the deviation y); None when a cell has
    no usable item at all."""
    n = len(free)
    rows: list[Row] = []

    def one_row_per_key(keys: np.ndarray, bounds_of, minimum: int = 1):
        order = np.argsort(keys, kind="stable")
        for block in np.split(order, np.flatnonzero(np.diff(keys[order])) + 1):
            if len(block) >= minimum:
                rows.append((block, np.ones(len(block)), *bounds_of(int(keys[block[0]]))))

    need = {leaf * pool.n_types + t: float(k) for leaf, needs in enumerate(pool.leaf_needs) for t, k in needs}
    cell = pool.leaf[free] * pool.n_types + pool.type[free]
    if not set(need) <= set(cell.tolist()):
        return None
    one_row_per_key(cell, lambda k: (need.get(k, 0.0), need.get(k, 0.0)))       # blueprint counts
    one_row_per_key(pool.point[free], lambda k: (0.0, 1.0), 2)                   # one item per 鉴定点
    in_group = np.flatnonzero(pool.enemy[free] >= 0)
    if len(in_group):
        groups = pool.enemy[free][in_group]
        order = np.argsort(groups, kind="stable")
        for block in np.split(in_group[order], np.flatnonzero(np.diff(groups[order])) + 1):
            if len(block) > 1:
                rows.append((block, np.ones(len(block)), 0.0, 1.0))               # enemies apart
    importance = pool.importance[free]
    x, z = np.flatnonzero(importance == X), np.flatnonzero(importance == Z)
    rows.append((x, np.ones(len(x)), float(rules.min_x_items), np.inf))
    rows.append((z, np.ones(len(z)), 0.0, float(rules.max_z_items)))
    position = {int(i): k for k, i in enumerate(free)}
    for members, cap in overlap_rows:                                           # overlap with earlier forms
        columns = np.array(sorted(position[i] for i in members if i in position), dtype=np.int64)
        if len(columns):
            rows.append((columns, np.ones(len(columns)), 0.0, float(cap)))
    with_y = np.append(np.arange(n), n)
    score = pool.score[free]
    rows.append((with_y, np.append(score, -1.0), -np.inf, rules.target_score))   # score − y ≤ target
    rows.append((with_y, np.append(score, 1.0), rules.target_score, np.inf))     # score + y ≥ target
    return rows


def _solve_mip(rows: list[Row], n: int, rules, start: list[int] | None, score: np.ndarray, goal: float,
               time_limit: float) -> np.ndarray | None:
    """Solve with HiGHS (single thread, fixed seed); the chosen columns, or None if no feasible paper."""
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n + 1, len(rows)
    lp.col_cost_ = np.append(np.zeros(n), 1.0)
    lp.col_lower_ = np.zeros(n + 1)
    lp.col_upper_ = np.append(np.ones(n), rules.score_band)      # the band is a hard rule
    lp.row_lower_ = np.array([r[2] for r in rows])
    lp.row_upper_ = np.array([r[3] for r in rows])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum([len(r[0]) for r in rows])]).astype(np.int32)
    lp.a_matrix_.index_ = np.concatenate([r[0] for r in rows]).astype(np.int32)
    lp.a_matrix_.value_ = np.concatenate([r[1] for r in rows]).astype(float)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n + [highspy.HighsVarType.kContinuous]
    h = highspy.Highs()
    for option, value in (("output_flag", False), ("threads", 1), ("random_seed", 0), ("mip_abs_gap", goal),
                          ("mip_rel_gap", 0.0), ("time_limit", time_limit)):
        h.setOptionValue(option, value)
    h.passModel(lp)
    if start:
        values = np.zeros(n + 1)
        values[start] = 1.0
        values[n] = abs(rules.target_score - score[start].sum())
        solution = highspy.HighsSolution()
        solution.col_value = list(values)
        solution.value_valid = True
        h.setSolution(solution)          # a warm start; HiGHS ignores it when it breaks a constraint
    h.run()
    if h.getInfo().primal_solution_status != 2:       # 2 = a feasible solution exists
        return None
    return np.array(h.getSolution().col_value[:n]) > 0.5


def _blocked_cells(pool: _Pool, blocked: np.ndarray) -> list[str]:
    """Cells that lack usable points once this paper's blocked items (exposure, disjointness, recent use) are
    taken out."""
    available = np.bincount(pool.slot[~blocked], minlength=len(pool.slot_items))
    found = []
    for leaf, needs in enumerate(pool.leaf_needs):
        points = np.array(pool.leaf_points[leaf])
        for type_, n in needs:
            usable = int((available[points * pool.n_types + type_] > 0).sum())
            if usable < n:
                found.append(f"鉴定范围 {pool.leaf_codes[leaf]} needs {n} {pool.types[type_]} items on distinct "
                             f"鉴定点; only {usable} 鉴定点 have a usable item for this paper")
    return found


def solver_version() -> str:
    """Versions that decide the result: HiGHS (the polish) and numpy (the generator and the heuristic)."""
    import highspy
    return f"HiGHS {highspy.Highs().version()}, numpy {np.__version__}"


@dataclass
class _Batch:
    """Shared state of one assembly run."""

    items: list[Item]
    blueprint: Blueprint
    spec: PaperSpec
    policy: Policy
    mode: str
    seed: int
    goal: float
    time_limit: float

    def __post_init__(self):
        self.pool = _Pool(eligible_items(self.items, self.blueprint, self.spec), self.blueprint, self.spec,
                          self.policy)
        self.targets = allocate(self.blueprint, self.spec)
        self.rules = paper_rules(self.spec, self.policy)
        self.bank_hash = snapshot_hash(self.items)
        self.usage = np.zeros(self.pool.size)
        self.papers: list[Paper] = []
        self.version = solver_version()

    def make(self, paper_id: str, blocked: np.ndarray, candidate: Candidate | None, overlap_rows, others,
             max_overlap, excluded_ids) -> Paper:
        index = len(self.papers)
        rng = np.random.default_rng([self.seed, index])
        builder = _Builder(self.pool, self.rules, self.goal, self.usage, rng)
        draft = builder.build(blocked)
        solver = HEURISTIC
        report = self._report(paper_id, draft.item, others, max_overlap, excluded_ids) if draft else None
        if report is None or not report.compliant:
            chosen = _polish(self.pool, self.rules, blocked, draft.item if draft else None, self.goal, overlap_rows,
                             self.time_limit)
            solver = f"{HEURISTIC}+highs"
            if chosen is None:
                reasons = _blocked_cells(self.pool, blocked) or [
                    "HiGHS proved that no paper meets the blueprint counts, one item per 鉴定点, the X/Z shares, "
                    "enemies apart and the expected score "
                    f"{self.rules.target_score:g} ± {self.rules.score_band:g} together"]
                raise AssemblyError(f"paper {paper_id}: no selection meets every hard rule: " + "; ".join(reasons))
            report = self._report(paper_id, chosen, others, max_overlap, excluded_ids)
            if not report.compliant:
                raise AssemblyError(f"paper {paper_id} breaks hard rules and is not produced: "
                                    + "; ".join(report.violations))
        paper = self._paper(paper_id, report, index, solver, candidate)
        self.usage[[self.pool.ref_position[r] for r in paper.item_refs]] += 1
        self.papers.append(paper)
        return paper

    def _report(self, paper_id, chosen, others, max_overlap, excluded_ids) -> ComplianceReport:
        pool = self.pool
        order = sorted(chosen, key=lambda i: (pool.type[i], pool.point[i]))
        return compliance_report(paper_id, [pool.items[i] for i in order], self.blueprint, self.spec, self.policy,
                                 self.targets, others, max_overlap, excluded_ids)

    def _paper(self, paper_id, report, index, solver, candidate) -> Paper:
        return Paper(id=paper_id, mode=self.mode, candidate_id=candidate.id if candidate else None,
                     item_refs=report.item_refs, expected_score=report.expected_score,
                     target_score=self.rules.target_score,
                     objective=abs(report.expected_score - self.rules.target_score),
                     blueprint_version=self.blueprint.version, bank_hash=self.bank_hash, seed=self.seed,
                     index=index, solver=solver, solver_version=self.version, report=report)
def assemble_forms(items: list[Item], blueprint: Blueprint, spec: PaperSpec, policy: Policy, count: int, seed: int,
                   max_overlap: int = 0, goal: float = 0.001, time_limit: float = 20.0) -> list[Paper]:
    """`count` parallel fixed forms, one after another. max_overlap = 0 makes them disjoint; otherwise any two
    forms share at most max_overlap items. goal: the wanted |expected score − target| in points."""
    mode = "disjoint" if max_overlap == 0 else "overlap"
    require_capacity(items, blueprint, spec, policy, count, mode)
    batch = _Batch(items, blueprint, spec, policy, mode, seed, goal, time_limit)
    used = np.zeros(batch.pool.size, dtype=bool)
    for k in range(count):
        overlap_rows = [] if mode == "disjoint" else [
            (set(_indices(batch, p)), max_overlap) for p in batch.papers]
        others = {p.id: set(p.item_ids) for p in batch.papers}
        paper = batch.make(f"form-{k + 1:02d}", used.copy(), None, overlap_rows, others, max_overlap, frozenset())
        if mode == "disjoint":
            used[_indices(batch, paper)] = True
    return batch.papers


def assemble_loft(items: list[Item], blueprint: Blueprint, spec: PaperSpec, policy: Policy,
                  candidates: list[Candidate], exam_date: str, seed: int, goal: float = 0.05,
                  time_limit: float = 20.0) -> list[Paper]:
    """One paper per candidate. No item appears in more than exposure_cap of the papers; a candidate never gets
    an item seen within policy.recent_window_months before exam_date (ISO date)."""
    require_capacity(items, blueprint, spec, policy, len(candidates), "loft")
    batch = _Batch(items, blueprint, spec, policy, "loft", seed, goal, time_limit)
    cap = uses_per_item("loft", len(candidates), policy)
    cutoff = _months_before(dt.date.fromisoformat(exam_date), policy.recent_window_months).isoformat()
    position = {item.id: k for k, item in enumerate(batch.pool.items)}     # eligible: one version per id
    for candidate in candidates:
        excluded = frozenset(i for i, seen in candidate.seen.items() if seen >= cutoff)
        blocked = batch.usage >= cap
        blocked[[position[i] for i in excluded if i in position]] = True
        batch.make(f"paper-{candidate.id}", blocked, candidate, [], None, None, excluded)
    return batch.papers


def exposure(papers: list[Paper]) -> dict[str, float]:
    """Item id → share of the papers it appears in."""
    counts: dict[str, int] = {}
    for paper in papers:
        for i in paper.item_ids:
            counts[i] = counts.get(i, 0) + 1
    return {i: n / len(papers) for i, n in counts.items()}


def _indices(batch: _Batch, paper: Paper) -> list[int]:
    return [batch.pool.ref_position[r] for r in paper.item_refs]


def _months_before(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for d in range(day.day, 0, -1):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError("unreachable")
