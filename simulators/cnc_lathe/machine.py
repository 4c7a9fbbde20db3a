"""The lathe as set up for a run: stock, chuck, tools, offset tables and machine parameters.

Frames (all helpers rely on these): machine x is the radial distance of the turret reference point from the
spindle axis, machine z the axial distance from the chuck jaw face (+ toward the tailstock). Work (program)
zero of the default setup is machine (x=0, z=stick-out). Internally every x here is a RADIUS; the JSON form of
:func:`setup_from_dict` writes X values as diameters, as the offset screen shows them.

Tool geometry offsets follow direct tool setting: the offset is the machine position of the turret reference
point when the tool's imaginary tip stands at work zero, so ``machine = program + G5x + shift + geometry +
wear``. The default setup presets G_k = part_origin − tip_vector_k, so ``G01 X30.`` turns Ø30.000.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping, Optional, Tuple

from ..core.setup_json import SetupError, mapping, typed

XZ = Tuple[float, float]

WORK_SYSTEMS = ("G54", "G55", "G56", "G57", "G58", "G59")
OFFSET_LINES = 64      # tool offset pairs on the control (T0165 and up raise PS0030)


@dataclass(frozen=True)
class ToolOffset:
    """One line of the tool offset page (x values as radii, mm)."""

    geometry_x: float = 0.0
    geometry_z: float = 0.0
    wear_x: float = 0.0
    wear_z: float = 0.0
    nose_radius: float = 0.0
    tip_direction: int = 0        # imaginary tool-nose tip direction 0–9

    @property
    def total(self) -> XZ:
        return (self.geometry_x + self.wear_x, self.geometry_z + self.wear_z)


@dataclass(frozen=True)
class SoftLimits:
    """Stored stroke limit 1 of the turret reference point, machine coordinates (x radius), mm."""

    x_min: float
    x_max: float
    z_min: float
    z_max: float


@dataclass(frozen=True)
class LatheSetup:
    stock: Any                                  # workpiece.StockSpec
    chuck: Any                                  # workpiece.ChuckSpec
    tools: Mapping[int, Any]                    # turret station → tools.Tool (with tip_vector)
    offsets: Mapping[int, ToolOffset]           # offset number (1..) → offsets
    part_origin: XZ = (0.0, 70.0)               # machine position of the default work zero
    work_offsets: Mapping[str, XZ] = field(default_factory=lambda: {name: (0.0, 0.0) for name in WORK_SYSTEMS})
    external_shift: XZ = (0.0, 0.0)
    soft_limits: SoftLimits = SoftLimits(-200.0, 400.0, -200.0, 600.0)
    rapid_x_mm_min: float = 12000.0
    rapid_z_mm_min: float = 15000.0
    linear_rapid: bool = False                  # parameter LRP: False = each axis at its own rate (dog-leg)
    max_spindle_rpm: float = 3000.0
    turret_stations: int = 8
    turret_index_s: float = 0.5                 # seconds per station indexed
    decimal_point_input: bool = False
    arc_tolerance: float = 0.02                 # mm, PS0020 limit (parameter 3410)
    initial_position: XZ = (100.0, 220.0)       # machine position of the turret reference point at start
    reference_position: Optional[XZ] = None     # G28 target; None = the initial position
    initial_station: int = 1
    block_delete: bool = False                  # the block delete switch ("/" blocks skipped when on)

    @property
    def home(self) -> XZ:
        return self.reference_position if self.reference_position is not None else self.initial_position

    def work_offset(self, system: str) -> XZ:
        return self.work_offsets.get(system, (0.0, 0.0))


def tip_vector(tool: Any) -> XZ:
    return (float(tool.tip_vector[0]), float(tool.tip_vector[1]))


def default_setup() -> LatheSetup:
    """The default lathe setup of the issue (documented in docs/lathe.md)."""
    from . import tools as tools_module
    from . import workpiece

    return preset_setup(workpiece.StockSpec(), workpiece.ChuckSpec(), tools_module.default_tools())


def preset_setup(stock: Any, chuck: Any, tools: Mapping[int, Any]) -> LatheSetup:
    """A setup whose offsets are preset as in the default setup: work zero on the axis at the stock's right
    end face (machine z = stick-out), geometry offset k = part origin − tip vector of station k (wear 0,
    R and T from the tool), turret where tool 1's tip is at work Ø200 Z150, limits from the tools."""
    part_origin = (0.0, float(stock.stick_out))
    tools = dict(tools)
    offsets = {number: ToolOffset() for number in range(1, OFFSET_LINES + 1)}   # unused lines are zero
    for station, tool in tools.items():   # offset k belongs to station k; R and T from the tool
        tx, tz = tip_vector(tool)
        offsets[station] = ToolOffset(part_origin[0] - tx, part_origin[1] - tz, 0.0, 0.0,
                                      float(tool.nose_radius), int(tool.tip_direction))
    first = tip_vector(tools[1]) if 1 in tools else (0.0, 0.0)
    # At start tool 1's imaginary tip stands at work X200 (Ø) Z150: radius 100, z 150.
    initial = (part_origin[0] + 100.0 - first[0], part_origin[1] + 150.0 - first[1])
    return LatheSetup(stock=stock, chuck=chuck, tools=tools, offsets=offsets, part_origin=part_origin,
                      soft_limits=_default_limits(tools, part_origin, initial), initial_position=initial)


def _default_limits(tools: Mapping[int, Any], part_origin: XZ, initial: XZ) -> SoftLimits:
    """Stroke limits wide enough for every tool tip to reach 5 mm past the spindle axis and 30 mm into the
    chuck side of the jaw face, and 100 mm beyond the start position; anything further is overtravel."""
    vectors = [tip_vector(t) for t in tools.values()] or [(0.0, 0.0)]
    x_min = min(-5.0 - vx for vx, _ in vectors)
    z_min = min(-30.0 - vz for _, vz in vectors)
    return SoftLimits(x_min, initial[0] + 100.0, z_min, initial[1] + 100.0)


# ------------------------------------------------------------------------------------------ JSON form

_SCALARS = {
    "rapid_x_mm_min": float, "rapid_z_mm_min": float, "linear_rapid": bool, "max_spindle_rpm": float,
    "turret_stations": int, "turret_index_s": float, "decimal_point_input": bool, "arc_tolerance": float,
    "initial_station": int, "block_delete": bool,
}
_OFFSET_KEYS = {"x": "geometry_x", "z": "geometry_z", "wear_x": "wear_x", "wear_z": "wear_z",
                "r": "nose_radius", "t": "tip_direction"}


def setup_from_dict(data: Mapping[str, Any], base: Optional[LatheSetup] = None) -> LatheSetup:
    """A setup from the JSON form of docs/lathe.md, starting from ``base`` (default: the default setup).

    Keys not given keep their default. Unknown keys raise :class:`SetupError` naming the key.
    """
    if not isinstance(data, Mapping):
        raise SetupError("the setup must be a JSON object")
    setup = base if base is not None else default_setup()
    if any(key in data for key in ("stock", "chuck", "tools")):
        # a different stock or tool set moves work zero and the preset offsets with it
        stock = _component("stock", data["stock"], setup.stock) if "stock" in data else setup.stock
        chuck = _component("chuck", data["chuck"], setup.chuck) if "chuck" in data else setup.chuck
        tools = _component("tools", data["tools"], setup.tools) if "tools" in data else setup.tools
        setup = preset_setup(stock, chuck, tools)
    changes: dict[str, Any] = {}
    known = set(_SCALARS) | {"offsets", "work_offsets", "external_shift", "soft_limits", "initial_position",
                             "reference_position", "stock", "chuck", "tools"}
    for key, value in data.items():
        if key not in known:
            raise SetupError(f"unknown setup key {key!r} (known: {', '.join(sorted(known))})")
        if key in _SCALARS:
            changes[key] = typed(key, value, _SCALARS[key])
        elif key == "offsets":
            changes["offsets"] = _offsets(value, setup.offsets)
        elif key == "work_offsets":
            table = dict(setup.work_offsets)
            for name, point in mapping(key, value).items():
                if name not in WORK_SYSTEMS:
                    raise SetupError(f"unknown work offset {name!r} (G54..G59)")
                table[name] = _point(f"work_offsets.{name}", point)
            changes["work_offsets"] = table
        elif key in ("external_shift", "initial_position", "reference_position"):
            changes[key] = _point(key, value)
        elif key in ("stock", "chuck", "tools"):
            continue   # applied above
        elif key == "soft_limits":
            limits = mapping(key, value)
            current = setup.soft_limits
            values = {}
            for name, scale in (("x_min", 0.5), ("x_max", 0.5), ("z_min", 1.0), ("z_max", 1.0)):
                values[name] = (typed(f"soft_limits.{name}", limits[name], float) * scale
                                if name in limits else getattr(current, name))
            extra = set(limits) - {"x_min", "x_max", "z_min", "z_max"}
            if extra:
                raise SetupError(f"unknown soft_limits key {sorted(extra)[0]!r}")
            changes["soft_limits"] = SoftLimits(**values)
    return replace(setup, **changes)


def _component(key: str, value: Any, current: Any) -> Any:
    """stock, chuck, tools: delegated to the spec classes' own ``from_dict`` (workpiece/tools modules); keys
    not given keep the current values."""
    if key == "tools":
        from . import tools as tools_module
        maker = getattr(tools_module, "tools_from_dict", None)
        if maker is None:
            raise SetupError("the 'tools' key needs tools.tools_from_dict")
        try:
            return maker(value, current)
        except (KeyError, TypeError, ValueError) as error:
            raise SetupError(f"tools: {error}") from error
    maker = getattr(type(current), "from_dict", None)
    if maker is None:
        raise SetupError(f"the {key!r} key needs {type(current).__name__}.from_dict")
    if not isinstance(value, Mapping):
        raise SetupError(f"{key} must be an object")
    try:
        merged = {f.name: getattr(current, f.name) for f in fields(current)}
        merged.update(value)
        return maker(merged)
    except (KeyError, TypeError, ValueError) as error:
        raise SetupError(f"{key}: {error}") from error


def _point(key: str, value: Any) -> XZ:
    """{"x": diameter, "z": z} → (radius, z)."""
    point = mapping(key, value)
    extra = set(point) - {"x", "z"}
    if extra:
        raise SetupError(f"unknown {key} key {sorted(extra)[0]!r} (x, z)")
    return (typed(f"{key}.x", point.get("x", 0.0), float) / 2.0, typed(f"{key}.z", point.get("z", 0.0), float))


def _offsets(value: Any, current: Mapping[int, ToolOffset]) -> dict[int, ToolOffset]:
    table = dict(current)
    for number_text, entry in mapping("offsets", value).items():
        try:
            number = int(number_text)
        except ValueError:
            raise SetupError(f"offset number {number_text!r} is not a number") from None
        if not 1 <= number <= OFFSET_LINES:
            raise SetupError(f"offset number {number} outside 1..{OFFSET_LINES}")
        entry = mapping(f"offsets.{number}", entry)
        base = table.get(number, ToolOffset())
        updates = {}
        for key, raw in entry.items():
            if key not in _OFFSET_KEYS:
                raise SetupError(f"unknown offsets.{number} key {key!r} (known: {', '.join(_OFFSET_KEYS)})")
            attr = _OFFSET_KEYS[key]
            if attr == "tip_direction":
                direction = typed(f"offsets.{number}.t", raw, int)
                if not 0 <= direction <= 9:
                    raise SetupError(f"offsets.{number}.t must be 0..9")
                updates[attr] = direction
            else:
                number_value = typed(f"offsets.{number}.{key}", raw, float)
                updates[attr] = number_value / 2.0 if key in ("x", "wear_x") else number_value
        table[number] = replace(base, **updates)
    return table


__all__ = ["ToolOffset", "SoftLimits", "LatheSetup", "default_setup", "preset_setup", "setup_from_dict", "SetupError",
           "WORK_SYSTEMS", "tip_vector"]
