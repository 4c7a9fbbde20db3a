"""Task files (docs/task-format.md): load and check a task dict, and measure its score-sheet items.

A task is the practical exam's part: the machine block (the `examctl sim --setup` form), the intended work
zero, the drawing, the items to measure with their tolerances, the time limit and a reference program. The
checks here are written by hand (no jsonschema at run time); every error names the JSON path of the value
at fault, e.g. ``items[2].args.z``. Pure: no file is read here — the command resolves file names.

Measurement items: each machine's ``items`` module lists its operators (:class:`Operator`); an item's
arguments are points and ranges in the WORK frame of the task (the drawing's frame, origin at the work
zero); :func:`measure_items` moves them into the stock frame the exact measurement uses, runs the operator
and compares the value with the item's limits. A measurement never raises: a failure is the item's result.
"""
from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

FORMAT = 1
MACHINE_TYPES = ("lathe", "mill")
ROUND_DIGITS = 6            # measured values are rounded to 1 nm before the (inclusive) limit check
TOP_KEYS = {"format", "id", "title", "machine_type", "machine", "available_tools", "work_zero", "drawing",
            "items", "time_limit_min", "reference_program", "level", "job_type", "description", "rules"}
REQUIRED_TOP = ("format", "id", "title", "machine_type", "machine", "work_zero", "drawing", "items",
                "time_limit_min", "reference_program")
ITEM_KEYS = {"id", "label", "operator", "args", "nominal", "upper", "lower", "limits", "rules", "note"}
WORK_ZERO_AXES = {"lathe": ("z",), "mill": ("x", "y", "z")}
PROGRAM_SUFFIXES = (".nc", ".txt", ".cnc", ".ngc")


class TaskError(ValueError):
    """A malformed task: ``path`` is the JSON path of the value at fault ('' for the whole document)."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path or '(task)'}: {message}")
        self.path = path
        self.message = message


# ------------------------------------------------------------------------------------------ operators

@dataclass(frozen=True)
class Arg:
    """One operator argument. Kinds: ``z`` (a work Z), ``xy``/``xyz`` (a work point), ``vector`` (a direction,
    2 or 3 numbers), ``number``, ``bool``, ``surface`` ('outer' or 'inner')."""

    kind: str
    default: Any = None
    required: bool = True


@dataclass(frozen=True)
class Operator:
    """A measurement on the finished workpiece. ``function(workpiece, **stock_frame_args)`` returns the value
    (float) or ``(value, detail dict)``; it may raise ValueError when the feature is not there."""

    name: str
    function: Callable[..., Any]
    args: Mapping[str, Arg]
    unit: str = "mm"           # mm, deg, um (Ra) or '' (a pass/fail gauge: 1 or 0)
    description: str = ""      # zh-CN, what the score sheet calls it


def optional(kind: str, default: Any = None) -> Arg:
    return Arg(kind, default, required=False)


def to_stock_frame(operator: Operator, args: Mapping[str, Any], work_zero: Sequence[float]) -> dict[str, Any]:
    """The operator's arguments with work-frame coordinates moved by the work zero (stock-frame x, y, z)."""
    wx, wy, wz = work_zero
    out = {}
    for name, spec in operator.args.items():
        value = args.get(name, spec.default)
        if value is None:
            continue
        if spec.kind == "z":
            value = float(value) + wz
        elif spec.kind == "xy":
            value = (float(value[0]) + wx, float(value[1]) + wy)
        elif spec.kind == "xyz":
            value = (float(value[0]) + wx, float(value[1]) + wy, float(value[2]) + wz)
        out[name] = value
    return out


def check_args(path: str, operator: Operator, args: Any) -> dict[str, Any]:
    if not isinstance(args, Mapping):
        raise TaskError(path, "must be an object")
    for name in args:
        if name not in operator.args:
            raise TaskError(f"{path}.{name}", f"unknown argument of {operator.name} "
                            f"(known: {', '.join(operator.args)})")
    for name, spec in operator.args.items():
        if name not in args:
            if spec.required:
                raise TaskError(f"{path}.{name}", f"missing (required by {operator.name})")
            continue
        _check_kind(f"{path}.{name}", spec.kind, args[name])
    return dict(args)


def _check_kind(path: str, kind: str, value: Any) -> None:
    if kind in ("z", "number"):
        _number(path, value)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise TaskError(path, "must be true or false")
    elif kind == "surface":
        if value not in ("outer", "inner"):
            raise TaskError(path, "must be 'outer' or 'inner'")
    elif kind in ("xy", "xyz", "vector"):
        sizes = {"xy": (2,), "xyz": (3,), "vector": (2, 3)}[kind]
        if not isinstance(value, list) or len(value) not in sizes:
            raise TaskError(path, f"must be a list of {' or '.join(map(str, sizes))} numbers")
        for k, v in enumerate(value):
            _number(f"{path}[{k}]", v)
        if kind == "vector" and not any(value):
            raise TaskError(path, "a direction cannot be zero")
    else:  # pragma: no cover - a programming error in an operator table
        raise ValueError(f"unknown argument kind {kind!r}")


def operators_for(machine_type: str) -> Mapping[str, Operator]:
    """The operator table of a machine (its ``items`` module), imported on demand."""
    return importlib.import_module(f"simulators.cnc_{machine_type}.items").OPERATORS


# ------------------------------------------------------------------------------------------- the task

@dataclass(frozen=True)
class Item:
    id: str
    label: str
    operator: str
    args: Mapping[str, Any]
    nominal: float | None
    low: float | None          # lowest value in tolerance (None = no lower limit)
    high: float | None         # highest value in tolerance (None = no upper limit)
    rules: Mapping[str, Any] = field(default_factory=dict)   # score-sheet rules: kept, not used here

    def within(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "operator": self.operator, "args": dict(self.args),
                "nominal": self.nominal, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    machine_type: str
    machine: Mapping[str, Any]              # the sim setup form, as given
    work_zero: tuple[float, float, float]   # stock frame (lathe: x = y = 0)
    drawing: str
    items: tuple[Item, ...]
    time_limit_min: float
    reference_program: str                  # program text, or a file name when reference_file is True
    reference_file: bool
    available_tools: tuple[Mapping[str, Any], ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)   # the whole document, as given

    def setup(self):
        """The machine setup of the machine block (LatheSetup or MillSetup)."""
        return _machine_module(self.machine_type).setup_from_dict(self.machine)


def load_task(data: Any) -> Task:
    """Check a task document (parsed JSON) and return it as a :class:`Task`; :class:`TaskError` names the
    JSON path of the first problem."""
    if not isinstance(data, Mapping):
        raise TaskError("", "a task must be a JSON object")
    for key in data:
        if key not in TOP_KEYS:
            raise TaskError(key, f"unknown key (known: {', '.join(sorted(TOP_KEYS))})")
    for key in REQUIRED_TOP:
        if key not in data:
            raise TaskError(key, "missing")
    if data["format"] != FORMAT or isinstance(data["format"], bool):
        raise TaskError("format", f"must be {FORMAT}")
    for key in ("id", "title", "drawing"):
        _text(key, data[key])
    for key in ("level", "job_type", "description"):
        if key in data:
            _text(key, data[key])
    if data["machine_type"] not in MACHINE_TYPES:
        raise TaskError("machine_type", "must be 'lathe' or 'mill'")
    machine_type = data["machine_type"]
    setup = _check_machine(machine_type, data["machine"])
    _check_drawing(data["drawing"])
    limit = _number("time_limit_min", data["time_limit_min"])
    if limit <= 0:
        raise TaskError("time_limit_min", "must be positive")
    text, is_file = _reference_program(data["reference_program"])
    return Task(
        id=data["id"], title=data["title"], machine_type=machine_type, machine=data["machine"],
        work_zero=_work_zero(machine_type, data["work_zero"]), drawing=data["drawing"],
        items=_items(data["items"], operators_for(machine_type)), time_limit_min=limit,
        reference_program=text, reference_file=is_file,
        available_tools=_available_tools(machine_type, data.get("available_tools", []), setup),
        data=data)


def _machine_module(machine_type: str):
    return importlib.import_module(f"simulators.cnc_{machine_type}.machine")


def _check_machine(machine_type: str, machine: Any):
    if not isinstance(machine, Mapping):
        raise TaskError("machine", "must be an object (the sim --setup form)")
    try:
        return _machine_module(machine_type).setup_from_dict(machine)
    except ValueError as error:      # SetupError names the key inside the block
        raise TaskError("machine", str(error)) from None


def _text(path: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TaskError(path, "must be a non-empty string")
    return value


def _number(path: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TaskError(path, "must be a number")
    return float(value)


def _file_name(path: str, value: str) -> None:
    if "/" in value or "\\" in value or value.startswith("."):
        raise TaskError(path, "must be a file name beside the task file (no directories)")


def _check_drawing(value: str) -> None:
    _file_name("drawing", value)
    if not value.lower().endswith(".svg"):
        raise TaskError("drawing", "must name an .svg file")


def _reference_program(value: Any) -> tuple[str, bool]:
    """Program text, or a file name: ``{"file": "O1001.nc"}`` or a one-line string ending in .nc/.txt."""
    if isinstance(value, Mapping):
        if set(value) != {"file"}:
            raise TaskError("reference_program", "an object must be {\"file\": NAME}")
        name = _text("reference_program.file", value["file"])
        _file_name("reference_program.file", name)
        return name, True
    text = _text("reference_program", value)
    if "\n" not in text and text.strip().lower().endswith(PROGRAM_SUFFIXES):
        _file_name("reference_program", text.strip())
        return text.strip(), True
    return text, False


def _work_zero(machine_type: str, value: Any) -> tuple[float, float, float]:
    """Stock frame position of the work zero: lathe ``{"z"}`` (on the axis, from the raw stock's right end
    face), mill ``{"x", "y", "z"}`` (from the centre of the raw stock's top face)."""
    axes = WORK_ZERO_AXES[machine_type]
    if not isinstance(value, Mapping):
        raise TaskError("work_zero", f"must be an object with {', '.join(axes)}")
    for key in value:
        if key not in axes:
            raise TaskError(f"work_zero.{key}", f"unknown axis (the {machine_type} work zero has {', '.join(axes)})")
    point = {axis: _number(f"work_zero.{axis}", value.get(axis, 0.0)) for axis in ("x", "y", "z") if axis in axes}
    return (point.get("x", 0.0), point.get("y", 0.0), point.get("z", 0.0))


def _items(value: Any, operators: Mapping[str, Operator]) -> tuple[Item, ...]:
    if not isinstance(value, list) or not value:
        raise TaskError("items", "must be a non-empty list")
    items, seen = [], set()
    for k, entry in enumerate(value):
        item = parse_item(f"items[{k}]", entry, operators)
        if item.id in seen:
            raise TaskError(f"items[{k}].id", f"duplicate item id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    return tuple(items)


def parse_item(path: str, entry: Any, operators: Mapping[str, Operator]) -> Item:
    """One item of ``items``: id, label, operator with its args, and nominal + upper/lower deviations or
    ``limits`` [low, high] (either may be null: no limit on that side)."""
    if not isinstance(entry, Mapping):
        raise TaskError(path, "must be an object")
    for key in entry:
        if key not in ITEM_KEYS:
            raise TaskError(f"{path}.{key}", f"unknown key (known: {', '.join(sorted(ITEM_KEYS))})")
    for key in ("id", "label", "operator"):
        if key not in entry:
            raise TaskError(f"{path}.{key}", "missing")
        _text(f"{path}.{key}", entry[key])
    operator = operators.get(entry["operator"])
    if operator is None:
        raise TaskError(f"{path}.operator", f"unknown operator {entry['operator']!r} "
                        f"(known: {', '.join(sorted(operators))})")
    args = check_args(f"{path}.args", operator, entry.get("args", {}))
    nominal, low, high = _limits(path, entry)
    rules = entry.get("rules", {})
    if not isinstance(rules, Mapping):
        raise TaskError(f"{path}.rules", "must be an object")
    return Item(entry["id"], entry["label"], operator.name, args, nominal, low, high, rules)


def _limits(path: str, entry: Mapping[str, Any]) -> tuple[float | None, float | None, float | None]:
    nominal = _number(f"{path}.nominal", entry["nominal"]) if entry.get("nominal") is not None else None
    deviations = "upper" in entry or "lower" in entry
    if deviations and "limits" in entry:
        raise TaskError(f"{path}.limits", "give either upper/lower deviations or limits, not both")
    if deviations:
        if nominal is None:
            raise TaskError(f"{path}.nominal", "missing (upper/lower are deviations from it)")
        for key in ("upper", "lower"):
            if key not in entry:
                raise TaskError(f"{path}.{key}", "missing (give both deviations)")
        upper, lower = _number(f"{path}.upper", entry["upper"]), _number(f"{path}.lower", entry["lower"])
        if lower > upper:
            raise TaskError(f"{path}.lower", "must not be above upper")
        return nominal, _round(nominal + lower), _round(nominal + upper)
    if "limits" not in entry:
        raise TaskError(f"{path}.limits", "missing (give nominal with upper and lower, or limits)")
    limits = entry["limits"]
    if not isinstance(limits, list) or len(limits) != 2 or limits == [None, None]:
        raise TaskError(f"{path}.limits", "must be [low, high] (one of them may be null)")
    low, high = (None if v is None else _number(f"{path}.limits[{k}]", v) for k, v in enumerate(limits))
    if low is not None and high is not None and low > high:
        raise TaskError(f"{path}.limits", "low must not be above high")
    return nominal, low, high


def _available_tools(machine_type: str, value: Any, setup) -> tuple[Mapping[str, Any], ...]:
    """``[{"number": 1, "name": "93°外圆车刀", "spec": {…a machine tools entry…}}]``: the tools the candidate
    may load; without ``spec`` the number must be in the machine's tool table."""
    if not isinstance(value, list):
        raise TaskError("available_tools", "must be a list")
    out = []
    for k, entry in enumerate(value):
        path = f"available_tools[{k}]"
        if not isinstance(entry, Mapping):
            raise TaskError(path, "must be an object")
        extra = set(entry) - {"number", "name", "spec"}
        if extra:
            raise TaskError(f"{path}.{min(extra)}", "unknown key (number, name, spec)")
        number = entry.get("number")
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise TaskError(f"{path}.number", "must be a whole number from 1")
        _text(f"{path}.name", entry.get("name"))
        if "spec" in entry:
            try:
                _machine_module(machine_type).setup_from_dict({"tools": {str(number): entry["spec"]}})
            except ValueError as error:
                raise TaskError(f"{path}.spec", str(error)) from None
        elif number not in setup.tools:
            raise TaskError(f"{path}.number", f"tool {number} is not in the machine's tool table; give its spec")
        out.append(entry)
    return tuple(out)


# ---------------------------------------------------------------------------------------- measuring

def _round(value: float) -> float:
    return round(value, ROUND_DIGITS)


def measure_items(workpiece: Any, items: Sequence[Any], operators: Mapping[str, Operator],
                  work_zero: Sequence[float] = (0.0, 0.0, 0.0)) -> list[dict[str, Any]]:
    """Measure each item (an :class:`Item` or a task-format item dict) on the workpiece. Never raises: an
    item that cannot be measured (malformed, or the feature is not there) has ``measured`` None, ``ok``
    False and an ``error``."""
    results = []
    for k, entry in enumerate(items):
        try:
            item = entry if isinstance(entry, Item) else parse_item(f"items[{k}]", entry, operators)
        except TaskError as error:
            ident = entry.get("id") if isinstance(entry, Mapping) else None
            results.append({"id": ident, "measured": None, "ok": False, "error": str(error)})
            continue
        results.append(measure_item(workpiece, item, operators[item.operator], work_zero))
    return results


def measure_item(workpiece: Any, item: Item, operator: Operator, work_zero: Sequence[float]) -> dict[str, Any]:
    result = item.to_dict()
    result["unit"] = operator.unit
    try:
        answer = operator.function(workpiece, **to_stock_frame(operator, item.args, work_zero))
    except (ValueError, ArithmeticError, LookupError) as error:     # the feature is not there (or not whole)
        return {**result, "measured": None, "ok": False, "error": str(error) or type(error).__name__}
    value, detail = answer if isinstance(answer, tuple) else (answer, {})
    if value is None or not math.isfinite(value):
        return {**result, "measured": None, "ok": False, "error": detail.get("error", "nothing to measure there")}
    value = _round(float(value))
    deviation = _round(value - item.nominal) if item.nominal is not None else None
    return {**result, "measured": value, "deviation": deviation, "ok": item.within(value), "detail": detail}


# ------------------------------------------------------------------------------ the reference program

def reference_setup(task_: Task):
    """The task's machine with EXACT offsets: every tool's preset offsets (exact by construction: lathe
    geometry = part origin − tip vector, mill H = gauge length and D = radius), wear 0, no external shift,
    and G54 at the work zero (lathe: a Z shift from the raw end face; mill: the part origin + work zero).
    The other work systems are zero, so the reference program works in G54."""
    setup = task_.setup()
    wx, wy, wz = task_.work_zero
    if task_.machine_type == "lathe":
        from simulators.cnc_lathe.machine import WORK_SYSTEMS, preset_setup

        preset = preset_setup(setup.stock, setup.chuck, setup.tools)
        work = {name: (0.0, 0.0) for name in WORK_SYSTEMS}
        work["G54"] = (0.0, wz)
        return replace(setup, offsets=preset.offsets, work_offsets=work, external_shift=(0.0, 0.0))
    from simulators.cnc_mill.machine import WORK_SYSTEMS, preset_offsets

    px, py, pz = setup.part_origin
    work = {name: (0.0, 0.0, 0.0) for name in WORK_SYSTEMS}
    work["G54"] = (px + wx, py + wy, pz + wz)
    return replace(setup, offsets=preset_offsets(setup.tools), work_offsets=work, external_shift=(0.0, 0.0, 0.0))


def check_reference(task_: Task, program_text: str) -> dict[str, Any]:
    """Run the reference program on :func:`reference_setup` and measure every item: the report of
    `examctl task check`. ``ok`` is False when the run alarms, crashes, stalls or does not end, or when any
    item is out of tolerance or cannot be measured."""
    machine = importlib.import_module(f"simulators.cnc_{task_.machine_type}.run")
    items = importlib.import_module(f"simulators.cnc_{task_.machine_type}.items")
    simulation = machine.simulate(program_text, reference_setup(task_))
    run = {
        "completed": simulation.completed,
        "alarms": [{"code": a.code, "message": a.message, "line": a.line} for a in simulation.alarms],
        "crashes": [c.to_dict() for c in simulation.crashes],
        "stalls": [s.to_dict() for s in simulation.stalls],
        "cycle_time_s": round(simulation.cycle_time_s, 3),
        "blocks": simulation.blocks,
    }
    results = measure_items(simulation.workpiece, task_.items, items.OPERATORS, task_.work_zero)
    run_ok = simulation.completed and not (simulation.alarms or simulation.crashes or simulation.stalls)
    return {"task": task_.id, "title": task_.title, "machine_type": task_.machine_type, "run": run,
            "items": results, "ok": run_ok and all(r["ok"] for r in results)}
