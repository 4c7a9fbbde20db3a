"""Score sheets (评分表) as versioned data: items with a kind, points and a rule, and the sheet's own rules.

A sheet is plain data so that a province's sheet is configured, never coded. ``sheet_from_dict`` checks the
JSON form and raises :class:`SheetError` listing every problem with its JSON path
(``items[3].rule.per: must be a positive number``); ``ScoreSheet.to_dict`` gives the same form back, so a
sheet round-trips. ``sheet_from_task`` builds the sheet of a practical task file: the measured items are the
task's ``items`` with their ``rules`` blocks, the rest (operation items, manual items, sheet rules) come from
the task's top-level ``rules`` block (docs/grading.md).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from .predicates import PREDICATE_ARGS, PREDICATES

FORMAT = 1
ITEM_KINDS = ("dimension", "geometric", "roughness", "thread", "visual", "process", "operation", "safety", "time")
MEASURED_KINDS = ("dimension", "geometric", "roughness", "thread")
RULE_TYPES = ("all_or_nothing", "step", "band", "grade_down", "gauge", "manual", "per_occurrence")
GROUP_ROLES = ("quality", "process", "operation", "safety", "equipment", "other")
DEFAULT_GROUPS = (("quality", "工件质量", "quality"), ("process", "程序编制与工艺", "process"),
                  ("operation", "机床操作", "operation"), ("safety", "安全文明生产", "safety"))
ROUGHNESS_OPERATORS = ("roughness_ra", "wall_roughness_ra", "floor_roughness_ra")


class SheetError(ValueError):
    """A malformed score sheet; ``problems`` are ``path: message`` strings."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("score sheet: " + "; ".join(self.problems))


@dataclass(frozen=True)
class Rule:
    """How an item's points are lost. Which fields matter depends on ``type`` (docs/grading.md)."""

    type: str = "all_or_nothing"
    per: float | None = None            # step: the overshoot per step ("超差 0.01 扣 3 分": per 0.01)
    deduct: float | None = None         # step, per_occurrence: points per step or occurrence
    free: float | None = None           # band: overshoot up to this costs nothing
    half: float | None = None           # band: overshoot up to this costs half the points, beyond: all
    per_grade: float | None = None      # grade_down: points per Ra grade worse ("降一级扣 2 分")
    half_then_zero: bool = False        # grade_down: one grade worse = half, two = zero
    confirmations: int = 1              # manual: examiners who must agree (2 of 3)
    examiners: int = 1                  # manual: examiners who score the item
    agree_within: float = 0.0           # manual: scores this close count as agreeing
    cap: float | None = None            # per_occurrence, manual: most points the item can lose

    def to_dict(self) -> dict:
        out = {"type": self.type}
        for f in fields(self)[1:]:
            value = getattr(self, f.name)
            if value != f.default:
                out[f.name] = value
        return out


@dataclass(frozen=True)
class Group:
    """A block of the sheet (考核项目 group): its role decides the gate."""

    id: str
    label: str
    role: str = "other"

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "role": self.role}


@dataclass(frozen=True)
class SheetItem:
    """One line of the sheet. Exactly one source: ``measurement`` (a task item id, measured on the final
    part), ``predicate`` (an operation predicate over the trace, grading/predicates.py) or neither (scored by
    the examiners: rule ``manual``)."""

    id: str
    label: str
    kind: str
    points: float
    rule: Rule
    group: str = "quality"
    requirement: str = ""               # 考核内容及要求 as printed ("Ø48 0/-0.039")
    measurement: str | None = None
    predicate: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict)      # predicate arguments
    general_tolerance: str | None = None                        # "m": limits from GB/T 1804-m (untoleranced)
    veto: bool = False                  # failing it voids the practical part (重大事故, ★ item)

    def to_dict(self) -> dict:
        out = {"id": self.id, "label": self.label, "kind": self.kind, "group": self.group,
               "points": self.points, "rule": self.rule.to_dict()}
        for name in ("requirement", "measurement", "predicate", "general_tolerance"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.args:
            out["args"] = dict(self.args)
        if self.veto:
            out["veto"] = True
        return out


@dataclass(frozen=True)
class Gate:
    """Quality must reach ``min_fraction`` of its points before the ``gated`` roles' points count."""

    min_fraction: float = 0.6
    role: str = "quality"
    gated: tuple[str, ...] = ("safety", "equipment")


@dataclass(frozen=True)
class TimeRules:
    """Minutes from the attempt's start. Overtime: ``deduct`` points per started ``every_min`` minutes past
    ``limit_min``; work after ``hard_stop_min`` is not graded; no machining by ``start_deadline_min`` ends
    the exam (score 0)."""

    limit_min: float | None = None
    deduct: float = 0.0
    every_min: float = 1.0
    hard_stop_min: float | None = None
    start_deadline_min: float | None = None


@dataclass(frozen=True)
class ScoreSheet:
    id: str
    version: int
    title: str
    items: tuple[SheetItem, ...]
    groups: tuple[Group, ...] = tuple(Group(*g) for g in DEFAULT_GROUPS)
    pass_mark: float = 60.0
    gate: Gate | None = None
    civility_per_violation: float = 3.0
    civility_cap: float = 10.0
    time: TimeRules = TimeRules()
    part: str = "practical"

    @property
    def total_points(self) -> float:
        return sum(item.points for item in self.items)

    def group(self, group_id: str) -> Group:
        return next(g for g in self.groups if g.id == group_id)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"format": FORMAT, "id": self.id, "version": self.version, "title": self.title,
                               "part": self.part, "pass_mark": self.pass_mark,
                               "groups": [g.to_dict() for g in self.groups],
                               "items": [i.to_dict() for i in self.items],
                               "civility": {"per_violation": self.civility_per_violation, "cap": self.civility_cap}}
        if self.gate is not None:
            out["gate"] = {"min_fraction": self.gate.min_fraction, "role": self.gate.role,
                           "gated": list(self.gate.gated)}
        time = {k: v for k, v in self.time.__dict__.items() if v is not None}
        out["time"] = time
        return out


# ---------------------------------------------------------------------------------------------- parsing
class _Checker:
    """Collects problems with their JSON paths instead of stopping at the first."""

    def __init__(self):
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def number(self, data: Mapping, key: str, path: str, default=None, positive=False, minimum=None):
        value = data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"{path}.{key}", "must be a number")
            return default
        if positive and value <= 0:
            self.fail(f"{path}.{key}", "must be a positive number")
        if minimum is not None and value < minimum:
            self.fail(f"{path}.{key}", f"must be at least {minimum:g}")
        return float(value)

    def text(self, data: Mapping, key: str, path: str, required=True, default=""):
        value = data.get(key, default)
        if value in (None, "") and required:
            self.fail(f"{path}.{key}", "is required")
            return default
        if value is not None and not isinstance(value, str):
            self.fail(f"{path}.{key}", "must be a string")
            return default
        return value

    def done(self) -> None:
        if self.problems:
            raise SheetError(self.problems)


_RULE_PARAMS = {"all_or_nothing": (), "gauge": (), "step": ("per", "deduct"), "band": ("free", "half"),
                "grade_down": ("per_grade", "half_then_zero"), "per_occurrence": ("deduct", "cap"),
                "manual": ("confirmations", "examiners", "agree_within", "cap")}
_RULE_KEYS = {"type", "per", "deduct", "free", "half", "per_grade", "half_then_zero", "confirmations",
              "examiners", "agree_within", "cap"}


def _rule(data: Any, path: str, check: _Checker) -> Rule:
    if isinstance(data, str):
        data = {"type": data}
    if not isinstance(data, Mapping):
        check.fail(path, "must be an object or a rule name")
        return Rule()
    for key in sorted(set(data) - _RULE_KEYS):
        check.fail(f"{path}.{key}", "unknown key")
    type_ = data.get("type", "all_or_nothing")
    if type_ not in RULE_TYPES:
        check.fail(f"{path}.type", f"must be one of {', '.join(RULE_TYPES)}")
        return Rule()
    num = check.number
    rule = Rule(type=type_, per=num(data, "per", path, positive=True), deduct=num(data, "deduct", path, positive=True),
                free=num(data, "free", path, minimum=0), half=num(data, "half", path, minimum=0),
                per_grade=num(data, "per_grade", path, positive=True),
                half_then_zero=bool(data.get("half_then_zero", False)),
                confirmations=int(num(data, "confirmations", path, 1, positive=True) or 1),
                examiners=int(num(data, "examiners", path, 1, positive=True) or 1),
                agree_within=num(data, "agree_within", path, 0.0, minimum=0) or 0.0,
                cap=num(data, "cap", path, positive=True))
    needs = {"step": ("per", "deduct"), "band": ("free", "half"), "per_occurrence": ("deduct",)}
    for key in needs.get(type_, ()):
        if getattr(rule, key) is None:
            check.fail(f"{path}.{key}", f"is required for a {type_} rule")
    for key in sorted(set(data) - {"type"} - set(_RULE_PARAMS[type_])):
        check.fail(f"{path}.{key}", f"is not used by a {type_} rule")
    if type_ == "band" and rule.free is not None and rule.half is not None and rule.half < rule.free:
        check.fail(f"{path}.half", "must not be below free")
    if type_ == "grade_down" and rule.per_grade is None and not rule.half_then_zero:
        check.fail(f"{path}.per_grade", "is required unless half_then_zero is true")
    if type_ == "manual" and rule.confirmations > rule.examiners:
        check.fail(f"{path}.confirmations", "cannot exceed examiners")
    return rule


_ITEM_KEYS = {"id", "label", "kind", "group", "points", "rule", "requirement", "measurement", "predicate", "args",
              "general_tolerance", "veto"}


def _item(data: Any, path: str, check: _Checker, groups: set[str]) -> SheetItem | None:
    if not isinstance(data, Mapping):
        check.fail(path, "must be an object")
        return None
    for key in sorted(set(data) - _ITEM_KEYS):
        check.fail(f"{path}.{key}", "unknown key")
    kind = data.get("kind")
    if kind not in ITEM_KINDS:
        check.fail(f"{path}.kind", f"must be one of {', '.join(ITEM_KINDS)}")
    group = check.text(data, "group", path, default="quality")
    if group and group not in groups:
        check.fail(f"{path}.group", f"no group {group!r} in groups")
    points = check.number(data, "points", path, minimum=0)
    if points is None:
        check.fail(f"{path}.points", "is required")
    rule = _rule(data.get("rule", "all_or_nothing"), f"{path}.rule", check)
    sources = [k for k in ("measurement", "predicate") if data.get(k)]
    if len(sources) > 1:
        check.fail(path, "give measurement or predicate, not both")
    if not sources and rule.type != "manual":
        check.fail(f"{path}.rule", "an item with neither measurement nor predicate is scored by examiners: "
                                   "its rule must be manual")
    predicate = data.get("predicate")
    if predicate and predicate not in PREDICATES:
        check.fail(f"{path}.predicate", f"unknown predicate {predicate!r} (one of {', '.join(PREDICATES)})")
    if kind in MEASURED_KINDS and "measurement" not in sources and rule.type != "manual":
        check.fail(f"{path}.measurement", f"a {kind} item needs the id of a task measurement item")
    if rule.type == "grade_down" and kind != "roughness":
        check.fail(f"{path}.rule.type", "grade_down applies to roughness items")
    tolerance = data.get("general_tolerance")
    if tolerance is not None and tolerance not in ("f", "m", "c", "v"):
        check.fail(f"{path}.general_tolerance", "must be f, m, c or v (GB/T 1804)")
    args = data.get("args", {})
    if not isinstance(args, Mapping):
        check.fail(f"{path}.args", "must be an object")
        args = {}
    for key in sorted(set(args) - set(PREDICATE_ARGS.get(predicate, ()))):
        check.fail(f"{path}.args.{key}", f"not an argument of {predicate or 'this item'}")
    return SheetItem(id=check.text(data, "id", path), label=check.text(data, "label", path), kind=kind or "",
                     points=points or 0.0, rule=rule, group=group or "quality",
                     requirement=check.text(data, "requirement", path, required=False) or "",
                     measurement=data.get("measurement"), predicate=data.get("predicate"), args=dict(args),
                     general_tolerance=tolerance, veto=bool(data.get("veto", False)))


def _groups(data: Any, check: _Checker) -> tuple[Group, ...]:
    if data is None:
        return tuple(Group(*g) for g in DEFAULT_GROUPS)
    if not isinstance(data, Sequence) or isinstance(data, str) or not data:
        check.fail("groups", "must be a non-empty list")
        return ()
    out = []
    for n, g in enumerate(data):
        path = f"groups[{n}]"
        if not isinstance(g, Mapping):
            check.fail(path, "must be an object")
            continue
        role = g.get("role", "other")
        if role not in GROUP_ROLES:
            check.fail(f"{path}.role", f"must be one of {', '.join(GROUP_ROLES)}")
        out.append(Group(check.text(g, "id", path), check.text(g, "label", path), role))
    if len({g.id for g in out}) != len(out):
        check.fail("groups", "group ids must be unique")
    return tuple(out)


def _gate(data: Any, check: _Checker) -> Gate | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        check.fail("gate", "must be an object")
        return None
    fraction = check.number(data, "min_fraction", "gate", 0.6, minimum=0)
    if fraction is not None and fraction > 1:
        check.fail("gate.min_fraction", "must be at most 1")
    gated = data.get("gated", ["safety", "equipment"])
    if not isinstance(gated, Sequence) or isinstance(gated, str) or any(r not in GROUP_ROLES for r in gated):
        check.fail("gate.gated", f"must be a list of roles ({', '.join(GROUP_ROLES)})")
        gated = []
    return Gate(fraction or 0.0, data.get("role", "quality"), tuple(gated))


def _time(data: Any, check: _Checker, limit_default: float | None) -> TimeRules:
    if data is None:
        return TimeRules(limit_min=limit_default)
    if not isinstance(data, Mapping):
        check.fail("time", "must be an object")
        return TimeRules()
    for key in sorted(set(data) - {"limit_min", "deduct", "every_min", "hard_stop_min", "start_deadline_min"}):
        check.fail(f"time.{key}", "unknown key")
    num = check.number
    rules = TimeRules(limit_min=num(data, "limit_min", "time", limit_default, positive=True),
                      deduct=num(data, "deduct", "time", 0.0, minimum=0) or 0.0,
                      every_min=num(data, "every_min", "time", 1.0, positive=True) or 1.0,
                      hard_stop_min=num(data, "hard_stop_min", "time", positive=True),
                      start_deadline_min=num(data, "start_deadline_min", "time", positive=True))
    if rules.deduct and rules.limit_min is None:
        check.fail("time.limit_min", "is required with an overtime deduction")
    if rules.hard_stop_min is not None and rules.limit_min is not None and rules.hard_stop_min < rules.limit_min:
        check.fail("time.hard_stop_min", "must not be before limit_min")
    return rules


_SHEET_KEYS = {"format", "id", "version", "title", "part", "pass_mark", "groups", "items", "gate", "civility",
               "time"}


def sheet_from_dict(data: Any, limit_default: float | None = None) -> ScoreSheet:
    """The sheet in ``data`` (the JSON form), checked; :class:`SheetError` names every problem's path."""
    check = _Checker()
    if not isinstance(data, Mapping):
        raise SheetError(["(top): must be an object"])
    for key in sorted(set(data) - _SHEET_KEYS):
        check.fail(key, "unknown key")
    if data.get("format", FORMAT) != FORMAT:
        check.fail("format", f"must be {FORMAT}")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        check.fail("version", "must be a positive integer (a corrected sheet is a new version)")
        version = 0
    groups = _groups(data.get("groups"), check)
    raw_items = data.get("items")
    items: list[SheetItem] = []
    if not isinstance(raw_items, Sequence) or isinstance(raw_items, str) or not raw_items:
        check.fail("items", "must be a non-empty list")
    else:
        for n, raw in enumerate(raw_items):
            item = _item(raw, f"items[{n}]", check, {g.id for g in groups})
            if item is not None:
                items.append(item)
    ids = [i.id for i in items]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        check.fail("items", f"item id {dup!r} is used twice")
    civility = data.get("civility", {})
    if not isinstance(civility, Mapping):
        check.fail("civility", "must be an object")
        civility = {}
    part = data.get("part", "practical")
    if part not in ("practical", "theory"):
        check.fail("part", "must be practical or theory")
    sheet = ScoreSheet(
        id=check.text(data, "id", "(top)") or "", version=version, title=check.text(data, "title", "(top)") or "",
        items=tuple(items), groups=groups, pass_mark=check.number(data, "pass_mark", "(top)", 60.0, minimum=0),
        gate=_gate(data.get("gate"), check),
        civility_per_violation=check.number(civility, "per_violation", "civility", 3.0, minimum=0),
        civility_cap=check.number(civility, "cap", "civility", 10.0, minimum=0),
        time=_time(data.get("time"), check, limit_default), part=part)
    if sheet.pass_mark is not None and items and sheet.pass_mark > sheet.total_points:
        check.fail("pass_mark", f"exceeds the sheet's {sheet.total_points:g} points")
    check.done()
    return sheet


# ---------------------------------------------------------------------------------------------- task files
_TASK_RULE_ITEM_KEYS = {"points", "kind", "group", "requirement", "general_tolerance", "veto"}


def _measured_item(task_item: Mapping, index: int, check: _Checker) -> dict | None:
    """The sheet item of a task measurement item's ``rules`` block (rule name under ``rule``, its parameters
    beside it); None when the item has no ``rules`` (measured for information, not scored)."""
    block = task_item.get("rules")
    if block is None:
        return None
    path = f"items[{index}].rules"
    if not isinstance(block, Mapping):
        check.fail(path, "must be an object")
        return None
    rule = {k: v for k, v in block.items() if k not in _TASK_RULE_ITEM_KEYS}
    rule["type"] = rule.pop("rule", "all_or_nothing")
    operator = task_item.get("operator", "")
    kind = block.get("kind") or ("roughness" if operator in ROUGHNESS_OPERATORS else
                                 "thread" if operator.startswith("thread") else "dimension")
    out = {"id": task_item.get("id"), "label": task_item.get("label"), "kind": kind,
           "group": block.get("group", "quality"), "points": block.get("points"), "rule": rule,
           "measurement": task_item.get("id"), "requirement": block.get("requirement", task_item.get("label", ""))}
    for key in ("general_tolerance", "veto"):
        if key in block:
            out[key] = block[key]
    return out


def sheet_from_task(task: Mapping[str, Any]) -> ScoreSheet:
    """The score sheet of a practical task file: its scored measurement items, then the ``rules`` block's items
    and sheet rules. Problems in the task items' ``rules`` are reported with the task's paths."""
    check = _Checker()
    block = task.get("rules") or {}
    items, origins = [], []
    for n, task_item in enumerate(task.get("items") or []):
        item = _measured_item(task_item, n, check)
        if item is not None:
            items.append(item)
            origins.append(n)
    check.done()
    data = {"id": block.get("id", task.get("id", "")), "version": block.get("version", 1),
            "title": block.get("title", task.get("title", "")),
            **{k: v for k, v in block.items() if k not in ("id", "version", "title", "items")},
            "items": items + list(block.get("items", []))}
    try:
        return sheet_from_dict(data, limit_default=task.get("time_limit_min"))
    except SheetError as error:        # paths inside the task file: its rules block
        raise SheetError([_task_path(p, origins) for p in error.problems]) from None


def _task_path(problem: str, origins: list[int]) -> str:
    """A path in the built sheet -> where it came from in the task file (``origins``: the task item index of
    each measured sheet item)."""
    if problem.startswith("items["):
        n = int(problem[6:problem.index("]")])
        if n >= len(origins):
            return "rules." + problem.replace(f"items[{n}]", f"items[{n - len(origins)}]", 1)
        mapped = problem.replace(f"items[{n}]", f"items[{origins[n]}].rules", 1)
        return mapped.replace(".rules.rule.type", ".rules.rule").replace(".rules.rule.", ".rules.")
    return "rules." + problem


__all__ = ["FORMAT", "GROUP_ROLES", "ITEM_KINDS", "MEASURED_KINDS", "RULE_TYPES", "Gate", "Group", "Rule",
           "ScoreSheet", "SheetError", "SheetItem", "TimeRules", "sheet_from_dict", "sheet_from_task"]
