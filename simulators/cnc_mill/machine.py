"""The machining centre as set up for a run: stock in the vise, tools, offset tables and machine parameters.

Frames (shared with workpiece.py): a mill position is the spindle GAUGE POINT in MACHINE coordinates; the tool
tip is ``length`` below it. The default setup puts the G54 origin (centre of the block's top face) at machine
``part_origin = (-400, -250, -420)``: G54 holds exactly that, so the G54 Z value is the gauge line on the top
face and ``G43 H n`` with H n = tool n's gauge length puts the tip at the programmed Z.

    machine gauge point = transformed program point + G52 local shift + work offset + external shift
                          + (0, 0, ±H)   (G43 +, G44 −, G49 0)

The machine starts referenced at machine (0, 0, 0) with no tool in the spindle: the spindle nose is then
420 mm above the top face.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..core.setup_json import SetupError, mapping, typed
from .tools import KINDS, Tool, default_tools
from .workpiece import DEFAULT_PART_ORIGIN, StockSpec, ViseSpec

XYZ = tuple[float, float, float]

WORK_SYSTEMS = ("G54", "G55", "G56", "G57", "G58", "G59")
EXTENDED_SYSTEMS = 48          # G54.1 P1 … P48
OFFSET_LINES = 200             # H/D offset numbers 1..200 (0 = no offset)
POWER_ON_MODES = ("G00", "G17", "G21", "G40", "G49", "G54", "G80", "G90", "G94", "G15", "G50", "G50.1", "G69",
                  "G98")


@dataclass(frozen=True)
class OffsetLine:
    """One line of the tool offset page (memory C): length (H) and radius (D), geometry and wear, mm."""

    length: float = 0.0
    length_wear: float = 0.0
    radius: float = 0.0
    radius_wear: float = 0.0

    @property
    def h(self) -> float:
        return self.length + self.length_wear

    @property
    def d(self) -> float:
        return self.radius + self.radius_wear


@dataclass(frozen=True)
class SoftLimits:
    """Stored stroke limit 1 of the gauge point, machine coordinates, mm."""

    x_min: float = -800.0
    x_max: float = 0.0
    y_min: float = -500.0
    y_max: float = 0.0
    z_min: float = -510.0
    z_max: float = 0.0


def _zero_table(names) -> dict:
    return {name: (0.0, 0.0, 0.0) for name in names}


@dataclass(frozen=True)
class MillSetup:
    stock: StockSpec = field(default_factory=StockSpec)
    vise: ViseSpec = field(default_factory=ViseSpec)
    tools: Mapping[int, Tool] = field(default_factory=default_tools)
    offsets: Mapping[int, OffsetLine] = field(default_factory=dict)
    part_origin: XYZ = DEFAULT_PART_ORIGIN
    work_offsets: Mapping[str, XYZ] = field(default_factory=lambda: _zero_table(WORK_SYSTEMS))
    extended_offsets: Mapping[int, XYZ] = field(default_factory=lambda: _zero_table(range(1, EXTENDED_SYSTEMS + 1)))
    external_shift: XYZ = (0.0, 0.0, 0.0)
    soft_limits: SoftLimits = SoftLimits()
    rapid_xy_mm_min: float = 24000.0
    rapid_z_mm_min: float = 20000.0
    linear_rapid: bool = False           # parameter LRP: False = each axis at its own rate (dog-leg)
    max_spindle_rpm: float = 8000.0
    tool_change_s: float = 2.0
    magazine_pockets: int = 24
    decimal_point_input: bool = False
    arc_tolerance: float = 0.02          # mm, PS0020 limit (parameter 3410)
    initial_position: XYZ = (0.0, 0.0, 0.0)
    reference_position: XYZ = (0.0, 0.0, 0.0)
    initial_tool: int = 0                # tool in the spindle at start (0 = none)
    block_delete: bool = False
    optional_stop: bool = False          # the M01 switch (M01 stops only when on)
    g73_retract: float = 0.6             # parameter 5114, mm (cycles.CycleParameters default)
    g83_clearance: float = 0.25          # parameter 5115, mm

    def work_offset(self, system: str) -> XYZ:
        if system.startswith("G54.1P"):
            return self.extended_offsets.get(int(system[6:]), (0.0, 0.0, 0.0))
        return self.work_offsets.get(system, (0.0, 0.0, 0.0))

    def offset(self, number: int) -> OffsetLine:
        return self.offsets.get(number, OffsetLine())


def preset_offsets(tools: Mapping[int, Tool]) -> dict:
    """H n = tool n's gauge length, D n = its nominal radius; the other lines are zero."""
    table = {n: OffsetLine() for n in range(1, OFFSET_LINES + 1)}
    for number, tool in tools.items():
        if 1 <= number <= OFFSET_LINES:
            table[number] = OffsetLine(length=float(tool.length), radius=float(tool.diameter) / 2.0)
    return table


def default_setup() -> MillSetup:
    """The default mill setup of the issue (docs/mill.md)."""
    tools = default_tools()
    work = _zero_table(WORK_SYSTEMS)
    work["G54"] = tuple(DEFAULT_PART_ORIGIN)
    return MillSetup(tools=tools, offsets=preset_offsets(tools), work_offsets=work)


# ------------------------------------------------------------------------------------------ JSON form

_SCALARS = {
    "rapid_xy_mm_min": float, "rapid_z_mm_min": float, "linear_rapid": bool, "max_spindle_rpm": float,
    "tool_change_s": float, "magazine_pockets": int, "decimal_point_input": bool, "arc_tolerance": float,
    "initial_tool": int, "block_delete": bool, "optional_stop": bool, "g73_retract": float,
    "g83_clearance": float,
}
_POINTS = ("external_shift", "initial_position", "reference_position", "part_origin")
_OFFSET_KEYS = {"h": "length", "h_wear": "length_wear", "d": "radius", "d_wear": "radius_wear"}
_TOOL_NUMBERS = {"diameter", "flute_length", "length", "shank_diameter", "holder_diameter", "holder_length",
                 "corner_radius", "point_angle", "pitch", "pilot_diameter"}


def setup_from_dict(data: Mapping[str, Any], base: MillSetup | None = None) -> MillSetup:
    """A setup from the JSON form of docs/mill.md, starting from ``base`` (default: the default setup).

    Keys not given keep their value. A new ``tools`` table presets H n and D n of the tools it names
    (before ``offsets`` is applied). Errors raise :class:`SetupError` (a ``ValueError``) naming the key.
    """
    if not isinstance(data, Mapping):
        raise SetupError("the setup must be a JSON object")
    setup = base if base is not None else default_setup()
    known = set(_SCALARS) | set(_POINTS) | {"stock", "vise", "tools", "offsets", "work_offsets", "soft_limits"}
    for key in data:
        if key not in known:
            raise SetupError(f"unknown setup key {key!r} (known: {', '.join(sorted(known))})")
    changes: dict[str, Any] = {}
    for key, kind in _SCALARS.items():
        if key in data:
            changes[key] = typed(key, data[key], kind)
    for key in _POINTS:
        if key in data:
            changes[key] = _point(key, data[key])
    if "stock" in data:
        changes["stock"] = _spec("stock", StockSpec, data["stock"], setup.stock)
    if "vise" in data:
        changes["vise"] = _spec("vise", ViseSpec, data["vise"], setup.vise)
    offsets = dict(setup.offsets)
    if "tools" in data:
        tools = _tools(data["tools"], setup.tools)
        changes["tools"] = tools
        new = {int(n) for n in mapping("tools", data["tools"])}
        offsets.update({n: line for n, line in preset_offsets(tools).items() if n in new})
    if "offsets" in data:
        offsets = _offsets(data["offsets"], offsets)
    changes["offsets"] = offsets
    if "work_offsets" in data:
        changes["work_offsets"], changes["extended_offsets"] = _work_offsets(data["work_offsets"], setup)
    if "soft_limits" in data:
        changes["soft_limits"] = _limits(data["soft_limits"], setup.soft_limits)
    result = replace(setup, **changes)
    if result.initial_tool and result.initial_tool not in result.tools:
        raise SetupError(f"initial_tool {result.initial_tool} is not in the tools table")
    return result


def _point(key: str, value: Any) -> XYZ:
    """{"x": …, "y": …, "z": …} (missing axes 0) → (x, y, z)."""
    point = mapping(key, value)
    extra = set(point) - {"x", "y", "z"}
    if extra:
        raise SetupError(f"unknown {key} key {min(extra)!r} (x, y, z)")
    return tuple(typed(f"{key}.{a}", point.get(a, 0.0), float) for a in "xyz")


def _spec(key: str, cls, value: Any, current) -> Any:
    merged = {f.name: getattr(current, f.name) for f in dataclasses.fields(current)}
    merged.update(mapping(key, value))
    try:
        return cls.from_dict(merged)
    except (KeyError, TypeError, ValueError) as error:
        raise SetupError(f"{key}: {error}") from error


def _tools(value: Any, current: Mapping[int, Tool]) -> dict:
    """{"8": {"kind": "flat", "diameter": 12, …}}: a given number replaces that tool (fields not given keep the
    current tool's values when it exists); null removes it."""
    tools = dict(current)
    for number_text, entry in mapping("tools", value).items():
        number = _number("tools", number_text, 1, 99)
        if entry is None:
            tools.pop(number, None)
            continue
        entry = mapping(f"tools.{number}", entry)
        fields = ({f.name: getattr(tools[number], f.name) for f in dataclasses.fields(Tool)
                   if f.name not in ("number", "pieces")} if number in tools else {})
        for key, raw in entry.items():
            if key in _TOOL_NUMBERS:
                fields[key] = typed(f"tools.{number}.{key}", raw, float)
            elif key == "flutes":
                fields[key] = typed(f"tools.{number}.{key}", raw, int)
            elif key == "centre_cutting":
                fields[key] = typed(f"tools.{number}.{key}", raw, bool)
            elif key in ("kind", "name"):
                fields[key] = typed(f"tools.{number}.{key}", raw, str)
            else:
                raise SetupError(f"unknown tools.{number} key {key!r}")
        if fields.get("kind") not in KINDS:
            raise SetupError(f"tools.{number}.kind must be one of {', '.join(KINDS)}")
        try:
            tools[number] = Tool(number=number, **fields)
        except (TypeError, ValueError) as error:
            raise SetupError(f"tools.{number}: {error}") from error
    return tools


def _number(key: str, text: str, low: int, high: int) -> int:
    try:
        number = int(text)
    except (TypeError, ValueError):
        raise SetupError(f"{key}: {text!r} is not a number") from None
    if not low <= number <= high:
        raise SetupError(f"{key}: number {number} outside {low}..{high}")
    return number


def _offsets(value: Any, current: Mapping[int, OffsetLine]) -> dict:
    """{"1": {"h": 95.0, "h_wear": -0.02, "d": 5.0, "d_wear": 0.01}}."""
    table = dict(current)
    for number_text, entry in mapping("offsets", value).items():
        number = _number("offsets", number_text, 1, OFFSET_LINES)
        entry = mapping(f"offsets.{number}", entry)
        updates = {}
        for key, raw in entry.items():
            if key not in _OFFSET_KEYS:
                raise SetupError(f"unknown offsets.{number} key {key!r} (known: {', '.join(_OFFSET_KEYS)})")
            updates[_OFFSET_KEYS[key]] = typed(f"offsets.{number}.{key}", raw, float)
        table[number] = replace(table.get(number, OffsetLine()), **updates)
    return table


def _work_offsets(value: Any, setup: MillSetup) -> tuple:
    """{"G55": {"x": …, "y": …, "z": …}, "G54.1P3": {…}}."""
    work, extended = dict(setup.work_offsets), dict(setup.extended_offsets)
    for name, point in mapping("work_offsets", value).items():
        if name in WORK_SYSTEMS:
            work[name] = _point(f"work_offsets.{name}", point)
        elif name.startswith("G54.1P"):
            extended[_number("work_offsets", name[6:], 1, EXTENDED_SYSTEMS)] = _point(f"work_offsets.{name}", point)
        else:
            raise SetupError(f"unknown work offset {name!r} (G54..G59, G54.1P1..G54.1P{EXTENDED_SYSTEMS})")
    return work, extended


def _limits(value: Any, current: SoftLimits) -> SoftLimits:
    limits = mapping("soft_limits", value)
    names = [f.name for f in dataclasses.fields(SoftLimits)]
    extra = set(limits) - set(names)
    if extra:
        raise SetupError(f"unknown soft_limits key {min(extra)!r}")
    values = {n: typed(f"soft_limits.{n}", limits[n], float) if n in limits else getattr(current, n) for n in names}
    return SoftLimits(**values)


__all__ = [
    "OFFSET_LINES",
    "POWER_ON_MODES",
    "WORK_SYSTEMS",
    "MillSetup",
    "OffsetLine",
    "SetupError",
    "SoftLimits",
    "default_setup",
    "preset_offsets",
    "setup_from_dict",
]
