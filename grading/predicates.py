"""Operation items (机床操作, 程序编制) as named predicates over the trace and the replayed session.

Each predicate takes the :class:`TraceContext` and the sheet item's ``args`` and returns a :class:`Check`:
passed or not, how many failures (for per-occurrence rules), the event seqs that decided it, the result as
printed (检测结果) and the provenance. Sources: the session's summary (alarms and crashes with their seq,
offsets and their errors against the exact values, measurements with the program lines that cut each
surface), the facts folded from the accepted events (grading/trace_facts.py) and the program walk
(grading/programs.py). Lathe line numbers of turned surfaces come from the summary's stock profile.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .programs import LineState, ProgramWalk, words_of, has_program_number
from .trace_facts import Start, TraceFacts

# Crash kinds the simulators report (simulators/*/workpiece.py, instruments).
RAPID = "rapid_into_stock"
SPINDLE_STOPPED = "spindle_stopped_cut"
LATHE_COMP_OPERATORS = ("taper_angle", "arc_radius", "chamfer_axial", "chamfer_radial")
MILL_COMP_OPERATORS = ("size", "gap_width", "boss_diameter", "arc_radius")


@dataclass(frozen=True)
class Check:
    passed: bool
    failures: int = 0
    seqs: tuple[int, ...] = ()
    value: str = ""                   # 检测结果
    note: str = ""                    # provenance (English)


@dataclass
class TraceContext:
    machine_type: str
    task: Mapping[str, Any]
    summary: Mapping[str, Any]
    facts: TraceFacts
    elapsed_min: float
    limit_min: float | None
    _walks: dict = field(default_factory=dict)

    @property
    def measurements(self) -> dict[str, Mapping]:
        return {m["id"]: m for m in self.summary.get("measurements") or []}

    def last_mem_start(self) -> Start | None:
        starts = self.facts.mem_starts
        return starts[-1] if starts else None

    def walk(self, start: Start) -> ProgramWalk:
        key = (start.text, start.main_lines)
        if key not in self._walks:
            self._walks[key] = ProgramWalk(start.text, self.machine_type, start.main_lines)
        return self._walks[key]

    def surface_lines(self, item_id: str) -> list[int]:
        """Run-text lines that cut the surface a measurement item probed (empty when unknown or raw)."""
        measured = self.measurements.get(item_id)
        if measured is None:
            return []
        detail = measured.get("detail") or {}
        lines = [detail[k] for k in ("line", "line_plus", "line_minus") if isinstance(detail.get(k), int)]
        lines += [n for n in detail.get("lines", []) if isinstance(n, int)]
        if not lines and self.machine_type == "lathe":
            lines = self._lathe_profile_lines(measured)
        return sorted({n for n in lines if n > 0})

    def _lathe_profile_lines(self, measured: Mapping) -> list[int]:
        z = (measured.get("args") or {}).get("z")
        stock = self.summary.get("stock") or {}
        if z is None or not stock:
            return []
        task_stick_out = ((self.task.get("machine") or {}).get("stock") or {}).get("stick_out", 0.0)
        shift = (self.facts.stick_out or task_stick_out) - task_stick_out
        z_stock = float(z) + float((self.task.get("work_zero") or {}).get("z", 0.0)) + shift
        profile = stock.get("inner") if (measured.get("args") or {}).get("surface") == "inner" else stock.get("outer")
        for piece in profile or []:
            z0, z1 = sorted((piece["start"][0], piece["end"][0]))
            if not piece.get("face") and z0 - 1e-9 <= z_stock <= z1 + 1e-9:
                return [piece.get("line", 0)]
        return []

    def line_state(self, line: int) -> LineState | None:
        start = self.last_mem_start()
        return None if start is None else self.walk(start).at(line)


def _seqs(*groups) -> tuple[int, ...]:
    return tuple(sorted({s for group in groups for s in group if isinstance(s, int)}))


# ---------------------------------------------------------------------------------------------- predicates
def reference_return(ctx: TraceContext, args: Mapping) -> Check:
    """Every axis returned to reference (since power on) before each automatic start; no PS0224."""
    axes = set(ctx.facts.axes)
    bad = [s.seq for s in ctx.facts.starts if not axes <= s.referenced]
    alarms = [a["seq"] for a in ctx.summary.get("alarms", []) if a.get("code") == "PS0224"]
    seqs = _seqs(bad, alarms)
    if not ctx.facts.starts:
        return Check(False, 1, (), "未自动运行", "no automatic operation in the trace")
    if seqs:
        return Check(False, len(seqs), seqs, "未回参考点", "cycle start before reference return at seq "
                     + ", ".join(map(str, seqs)))
    return Check(True, 0, (ctx.facts.starts[0].seq,), "已回参考点", "all axes referenced before cycle start")


def _used_tools(ctx: TraceContext) -> list[str]:
    errors = (ctx.summary.get("offset_errors") or {})
    if ctx.machine_type == "lathe":
        known = {str(k) for k in ((errors.get("errors") or {}).get("tools") or {})}
        return [str(s) for s in ctx.summary.get("stations_used", []) if str(s) in known]
    used = set()
    for start in ctx.facts.mem_starts:
        used |= {state.tool[1:] for state in ctx.walk(start).states.values() if state.tool}
    return sorted(used & {str(k) for k in (errors.get("tools") or {})}, key=int)


def _tool_errors(ctx: TraceContext) -> Mapping[str, Mapping]:
    errors = ctx.summary.get("offset_errors") or {}
    table = (errors.get("errors") or {}).get("tools") if ctx.machine_type == "lathe" else errors.get("tools")
    return {str(k): v for k, v in (table or {}).items()}


def _called_d(ctx: TraceContext) -> set[str]:
    """Mill: the D numbers the programs run call (a D offset matters only under G41/G42)."""
    return {state.d[1:] for start in ctx.facts.mem_starts for state in ctx.walk(start).states.values()
            if state.d and state.compensated}


def _offset_seqs(ctx: TraceContext, numbers: set[str], pages=("geometry", "wear")) -> list[int]:
    return [seq for seq, p in ctx.facts.offset_events if p.get("page") in pages and str(p.get("number")) in numbers]


def tool_offsets(ctx: TraceContext, args: Mapping) -> Check:
    """对刀: for every tool used, the offsets that move its tip within ``tolerance`` (mm, default 0.02; X as a
    diameter) of the exact values; with ``check_nose`` (lathe) R and the tip direction T right too."""
    tolerance = float(args.get("tolerance", 0.02))
    errors, used = _tool_errors(ctx), _used_tools(ctx)
    if not used:
        return Check(False, 1, (), "未使用刀具", "no tool cut in the trace")
    axes = ("x", "z") if ctx.machine_type == "lathe" else ("z", "d")
    called_d = _called_d(ctx)
    bad, texts, worst = [], [], 0.0
    for tool in used:
        e = errors[tool]
        checked = [a for a in axes if (a != "d" or tool in called_d) and e.get(a) is not None]   # drills: no D
        worst = max([worst] + [abs(e[a]) for a in checked])
        wrong = [f"{a.upper()} {e[a]:+.3f}" for a in checked if abs(e[a]) > tolerance + 1e-9]
        if args.get("check_nose") and ctx.machine_type == "lathe":
            if abs(e.get("r", 0.0)) > 1e-6:
                wrong.append(f"R {e['r']:+.3f}")
            if not e.get("t_ok", True):
                wrong.append("T wrong")
        if wrong:
            bad.append(tool)
            texts.append(f"T{int(tool):02d}: " + ", ".join(wrong))
    seqs = _seqs(_offset_seqs(ctx, set(bad)))
    if bad:
        return Check(False, len(bad), seqs, f"{len(bad)}把刀超差", f"offsets beyond ±{tolerance:g}: "
                     + "; ".join(texts))
    return Check(True, 0, _seqs(_offset_seqs(ctx, set(used))), f"最大误差{worst:.3f}",
                 f"tools {', '.join(used)} within ±{tolerance:g} (worst {worst:.3f})")


def work_coordinates(ctx: TraceContext, args: Mapping) -> Check:
    """工件坐标系: the work zero was set by an offset input and lies within ``tolerance`` (default 0.05).
    Lathe: the Z that every used tool's offsets give (work offset + geometry: either way of setting Z is
    right); mill: G54 X and Y, and Z through every used tool's H."""
    tolerance = float(args.get("tolerance", 0.05))
    inputs = [seq for seq, p in ctx.facts.offset_events
              if p.get("page") == "work" or str(p.get("axis")).upper() in ("Z", "H")]
    if not inputs:
        return Check(False, 1, (), "未设定", "no work offset or Z offset was entered")
    errors = ctx.summary.get("offset_errors") or {}
    problems = []
    if ctx.machine_type == "mill":
        problems += [f"G54 {a.upper()} {errors[a]:+.3f}" for a in ("x", "y")
                     if errors.get(a) is not None and abs(errors[a]) > tolerance + 1e-9]
    table = _tool_errors(ctx)
    problems += [f"T{int(t):02d} Z {table[t]['z']:+.3f}" for t in _used_tools(ctx)
                 if abs(table[t].get("z") or 0.0) > tolerance + 1e-9]
    if problems:
        return Check(False, 1, _seqs(inputs), "工件零点偏差", "work zero off: " + "; ".join(problems))
    return Check(True, 0, _seqs(inputs), "正确", f"work zero within ±{tolerance:g}")


def compensation(ctx: TraceContext, args: Mapping) -> Check:
    """刀尖圆弧半径补偿 / 刀具半径补偿: G41/G42 in force on the lines that cut the finishing surfaces
    (``surfaces``: measurement item ids; default: the machine's contour operators), and on the lathe a nose
    radius R in the offset of the tool that cut them."""
    surfaces = args.get("surfaces")
    if surfaces is None:
        operators = LATHE_COMP_OPERATORS if ctx.machine_type == "lathe" else MILL_COMP_OPERATORS
        surfaces = [i["id"] for i in ctx.task.get("items", []) if i.get("operator") in operators]
    start = ctx.last_mem_start()
    if start is None:
        return Check(False, 1, (), "未自动加工", "no program run in MEM")
    offsets = ctx.summary.get("offsets") or {}
    missing, checked = [], []
    for item_id in surfaces:
        states = [s for s in (ctx.line_state(n) for n in ctx.surface_lines(item_id)) if s is not None]
        if not states:
            continue
        checked.append(item_id)
        # a lead-out block (G40 leaving the wall) touches the surface too: one compensated pass suffices
        good = [s for s in states if s.compensated]
        if not good:
            missing.append(f"{item_id} ({'; '.join(s.describe() for s in states)})")
        elif ctx.machine_type == "lathe" and good[0].tool:
            line_r = ((offsets.get(str(int(good[0].tool[-2:]))) or {}).get("geometry") or {}).get("R", 0.0)
            if not line_r:
                missing.append(f"{item_id} ({good[0].describe()}, offset R = 0)")
    seqs = _seqs([start.seq], [ctx.facts.program_saved_at.get(start.program or -1)])
    if not checked:
        return Check(False, 1, seqs, "无法判定", "no finishing surface with a program line was found")
    if missing:
        code = "G42/G41"
        return Check(False, len(missing), seqs, "未建立刀补", f"{code} not active on " + "; ".join(missing))
    return Check(True, 0, seqs, "已建立刀补", "compensation active on " + ", ".join(sorted(set(checked))))


def spindle_direction(ctx: TraceContext, args: Mapping) -> Check:
    """Spindle on, in the right direction (``direction`` cw = M03, default), before cutting: no cut with the
    spindle stopped, no manual start the wrong way, no M03/M04 the wrong way in the programs run."""
    want = args.get("direction", "cw")
    wrong_code = 4 if want == "cw" else 3
    stopped = [c["seq"] for c in ctx.summary.get("crashes", []) if c.get("kind") == SPINDLE_STOPPED]
    manual = [seq for seq, command in ctx.facts.spindle_commands if command not in (want, "stop")]
    program = []
    for start in ctx.facts.starts:
        if any(_has_m(state.text, wrong_code) for state in ctx.walk(start).states.values()):
            program.append(start.seq)
    seqs = _seqs(stopped, manual, program)
    if seqs:
        parts = [f"{name} at seq {', '.join(map(str, group))}" for name, group in
                 (("cut with the spindle stopped", stopped), ("manual spindle the wrong way", manual),
                  (f"M0{wrong_code} in the program run", program)) if group]
        return Check(False, len(seqs), seqs, "主轴转向/启动错误", "; ".join(parts))
    return Check(True, 0, (), "正确", f"spindle {want.upper()} before every cut")


def _has_m(text: str, code: int) -> bool:
    return any(letter == "M" and float(value) == code for letter, value in words_of(text))


def _crashes(ctx: TraceContext, kinds: Callable[[str], bool]) -> list[Mapping]:
    return [c for c in ctx.summary.get("crashes", []) if kinds(c.get("kind", ""))]


def _crash_check(found: list[Mapping], ok_text: str, bad_text: str, ctx: TraceContext) -> Check:
    if not found:
        return Check(True, 0, (), ok_text, "no such event in the trace")
    parts = []
    for crash in found:
        state = ctx.line_state(crash.get("line", 0)) if crash.get("line") else None
        where = f" at {state.describe()}" if state is not None else ""
        parts.append(f"{crash.get('kind')} at seq {crash.get('seq')}{where}: {crash.get('detail', '')}")
    return Check(False, len(found), _seqs([c.get("seq") for c in found]), bad_text, "; ".join(parts))


def no_rapid_into_stock(ctx: TraceContext, args: Mapping) -> Check:
    """No rapid traverse (G00 or rapid jog) that removed material."""
    return _crash_check(_crashes(ctx, lambda k: k == RAPID), "无", "快速进给切入工件", ctx)


def no_collision(ctx: TraceContext, args: Mapping) -> Check:
    """No crash of any kind (撞刀; ``except``: kinds scored by other items). Usually a veto item."""
    skip = set(args.get("except", ()))
    return _crash_check(_crashes(ctx, lambda k: k not in skip), "无", "发生碰撞", ctx)


def program_complete(ctx: TraceContext, args: Mapping) -> Check:
    """The program run in MEM is stored under its O number, still in memory at the end, and ends with M30
    (or M02) in its main program."""
    start = ctx.last_mem_start()
    if start is None or start.program is None:
        return Check(False, 1, (), "未存储运行程序", "no program was run from memory")
    number = start.program
    final = ctx.facts.final_programs.get(number)
    seqs = _seqs([start.seq, ctx.facts.program_saved_at.get(number)])
    problems = []
    if final is None:
        problems.append(f"O{number:04d} is no longer in memory")
    elif not has_program_number(final):
        problems.append(f"O{number:04d} has no O number line")
    if not ctx.walk(start).ends_with_m30:
        problems.append(f"O{number:04d} does not end with M30/M02")
    if problems:
        return Check(False, len(problems), seqs, "程序不完整", "; ".join(problems))
    return Check(True, 0, seqs, f"O{number:04d}完整", f"O{number:04d} stored, ends with M30")


def trial_run(ctx: TraceContext, args: Mapping) -> Check:
    """Before the first automatic run of a program: single block, dry run or machine lock on (``switches``)."""
    switches = tuple(args.get("switches", ("single_block", "dry_run", "machine_lock")))
    starts = ctx.facts.mem_starts
    if not starts:
        return Check(False, 1, (), "未自动运行", "no program run in MEM")
    first = starts[0]
    on = [name for name in switches if first.switches.get(name)]
    if on:
        return Check(True, 0, (first.seq,), "已试运行", f"first cycle start (seq {first.seq}) with " + ", ".join(on))
    return Check(False, 1, (first.seq,), "未试运行", f"first cycle start (seq {first.seq}) with none of "
                 + ", ".join(switches))


def overtime(ctx: TraceContext, args: Mapping) -> Check:
    """Finished within the time limit (``limit_min``, default the sheet's)."""
    limit = args.get("limit_min", ctx.limit_min)
    if limit is None:
        return Check(True, 0, (), f"{ctx.elapsed_min:.1f} min", "no time limit")
    over = ctx.elapsed_min - float(limit)
    if over > 1e-9:
        return Check(False, 1, (), f"超时{over:.1f}分钟", f"{ctx.elapsed_min:.1f} min used, limit {limit:g}")
    return Check(True, 0, (), f"{ctx.elapsed_min:.1f}分钟", f"{ctx.elapsed_min:.1f} min used, limit {limit:g}")


PREDICATES: dict[str, Callable[[TraceContext, Mapping], Check]] = {
    "reference_return": reference_return, "work_coordinates": work_coordinates, "tool_offsets": tool_offsets,
    "compensation": compensation, "spindle_direction": spindle_direction,
    "no_rapid_into_stock": no_rapid_into_stock, "no_collision": no_collision,
    "program_complete": program_complete, "trial_run": trial_run, "overtime": overtime,
}


PREDICATE_ARGS: dict[str, tuple[str, ...]] = {
    "reference_return": (), "work_coordinates": ("tolerance",), "tool_offsets": ("tolerance", "check_nose"),
    "compensation": ("surfaces",), "spindle_direction": ("direction",), "no_rapid_into_stock": (),
    "no_collision": ("except",), "program_complete": (), "trial_run": ("switches",), "overtime": ("limit_min",),
}


def evaluate(name: str, ctx: TraceContext, args: Mapping) -> Check:
    if name not in PREDICATES:
        raise KeyError(f"unknown predicate {name!r} (one of {', '.join(PREDICATES)})")
    return PREDICATES[name](ctx, args)


__all__ = ["PREDICATES", "PREDICATE_ARGS", "Check", "TraceContext", "evaluate"]
