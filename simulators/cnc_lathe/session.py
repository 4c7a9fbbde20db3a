"""The lathe machine session: a FANUC 0i-TF lathe operated through trace events (docs/operation.md).

``LatheSession(machine)`` is the core :class:`~simulators.core.panel.Panel` around :class:`LatheModel`, the
lathe half: turret reference point position (machine x radius, z), spindle, coolant, chuck and stock, turret
stations, offset pages, manual moves that cut the same exact :class:`Workpiece` as program runs, instruments.

Start state (``machine`` = the task's machine block, the ``examctl sim --setup`` form): power off, not
referenced, turret at the setup's initial position, the setup's tools on the turret, chuck open and empty (the
stock described by the setup is on the bench: ``load_stock`` puts it in), every tool offset line zero unless the
machine block gives ``offsets`` (the candidate sets the tools), work offsets as the setup gives them.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from ..core.alarms import Alarm
from ..core.automatic import RunOptions, split_straight
from ..core.macro import Variables
from ..core.motion import Motion
from ..core.panel import MachineModel, ManualResult, Panel, Rejected
from ..core.trace import LATHE_TYPES
from . import offset_page as page
from .interpreter import LatheInterpreter
from .machine import OFFSET_LINES, LatheSetup, ToolOffset, setup_from_dict
from .modal import evolve, power_on_state, tool_offset
from .moves import spindle_rpm
from .tools import tools_from_dict
from .workpiece import StockSpec, Workpiece

AXES = ("X", "Z")
MOVES = ("rapid", "feed", "arc", "thread")


class LatheModel(MachineModel):
    axes = AXES
    event_types = LATHE_TYPES
    integer_fields = frozenset({"T"})          # the tip direction is keyed as an integer

    def __init__(self, machine: Mapping[str, Any] | None = None):
        machine = dict(machine or {})
        setup = setup_from_dict({k: v for k, v in machine.items() if k != "offsets"})
        setup = replace(setup, offsets={n: ToolOffset() for n in range(1, OFFSET_LINES + 1)})
        if "offsets" in machine:
            setup = setup_from_dict({"offsets": machine["offsets"]}, base=setup)
        self.base = setup
        self.offsets: dict[int, ToolOffset] = dict(setup.offsets)
        self.work_offsets: dict[str, tuple] = dict(setup.work_offsets)
        self.external_shift: tuple = tuple(setup.external_shift)
        self.tools = dict(setup.tools)
        self.state = power_on_state(setup)
        self.position: tuple = tuple(setup.initial_position)
        self.chuck_closed = False
        self.stock_spec: StockSpec | None = None
        self.workpiece: Workpiece | None = None
        self._stock_dirty = False
        self._setup_cache: tuple | None = None
        self.common_variables: dict[int, float] = {}     # macro #100–#199 (lost at power off) and #500–#999
        self.stations_used: set[int] = set()              # turret stations that moved (manual or program)
        self._tables_version = 0                           # bumped whenever an offset table changes
        self._vector_cache: tuple = (None, (0.0, 0.0))

    # ------------------------------------------------------------------------------------------ setup
    def setup(self, block_delete: bool = False) -> LatheSetup:
        """The base setup with the current tables (what a run sees)."""
        key = (block_delete, self._tables_version)
        if self._setup_cache is None or self._setup_cache[0] != key:
            setup = replace(self.base, offsets=self.offsets, work_offsets=self.work_offsets,
                            external_shift=self.external_shift, tools=self.tools, block_delete=block_delete)
            self._setup_cache = (key, setup)
        return self._setup_cache[1]

    @property
    def modal(self):
        return self.state.modal

    @property
    def max_spindle_rpm(self) -> float:
        return self.base.max_spindle_rpm

    @property
    def decimal_point_input(self) -> bool:
        return self.base.decimal_point_input

    def _offset_vector(self) -> tuple:
        """machine = program + this (work offset, external shift, G50 shift, active tool offset)."""
        modal = self.state.modal
        key = (modal.work, modal.offset, self.state.shift, self._tables_version)
        if self._vector_cache[0] != key:
            self._vector_cache = (key, self.state.offset_vector(self.setup()))
        return self._vector_cache[1]

    # ------------------------------------------------------------------------------------------ positions
    def machine_position(self) -> dict[str, float]:
        return self.screen_point(self.position)

    def absolute_position(self) -> dict[str, float]:
        ox, oz = self._offset_vector()
        return {"X": 2.0 * (self.position[0] - ox), "Z": self.position[1] - oz}

    def screen_point(self, point: tuple) -> dict[str, float]:
        return {"X": 2.0 * point[0], "Z": point[1]}

    def screen_scale(self, axis: str) -> float:
        return 0.5 if axis == "X" else 1.0

    def rapid_rate(self, axis: str) -> float:
        return self.base.rapid_x_mm_min if axis == "X" else self.base.rapid_z_mm_min

    # ------------------------------------------------------------------------------------------ manual moves
    def manual_move(self, axis: str, distance: float, feed_mm_min: float, rapid: bool,
                    referenced: bool) -> ManualResult:
        index = AXES.index(axis)
        end = list(self.position)
        end[index] += distance
        alarm = None
        if referenced:
            end[index], alarm = self._clamp(index, end[index])
        return self._move(tuple(end), feed_mm_min, rapid, alarm)

    def _clamp(self, index: int, value: float) -> tuple[float, Alarm | None]:
        limits = self.base.soft_limits
        low, high = (limits.x_min, limits.x_max) if index == 0 else (limits.z_min, limits.z_max)
        axis = AXES[index]
        if value > high:
            return high, Alarm("OT0500", 0, f"{axis} stopped at its + stroke limit")
        if value < low:
            return low, Alarm("OT0501", 0, f"{axis} stopped at its - stroke limit")
        return value, None

    def reference_return(self, axis: str) -> ManualResult:
        index = AXES.index(axis)
        end = list(self.position)
        end[index] = self.base.home[index]
        return self._move(tuple(end), self.rapid_rate(axis), True, None)

    def _move(self, end: tuple, rate: float, rapid: bool, alarm: Alarm | None) -> ManualResult:
        length = math.dist(self.position, end)
        if length < 1e-12:
            return ManualResult(alarm=alarm)
        seconds = 60.0 * length / rate if rate > 0 else 0.0
        modal = self.modal
        rpm = self._rpm()
        motion = Motion("rapid" if rapid else "feed", 0, self.position, end, feed_mm_min=0.0 if rapid else rate,
                        spindle_rpm=rpm, spindle_dir=modal.spindle_dir, tool=modal.station, offset=modal.offset,
                        seconds=seconds, coolant=modal.coolant)
        crashes = self.apply_motion(motion)
        return ManualResult([motion], crashes, seconds, alarm)

    def _rpm(self) -> float:
        """The spindle speed now, with the spindle override (clamped at the machine's maximum)."""
        ox = self._offset_vector()[0]
        rpm = spindle_rpm(self.modal, self.position[0] - ox, self.base)
        return min(rpm * self.spindle_override / 100.0, max(rpm, self.base.max_spindle_rpm))

    # ------------------------------------------------------------------------------------------ spindle etc.
    def spindle(self, direction: int, rpm: float | None) -> None:
        if direction != 0:
            if not self.chuck_closed:
                raise Rejected("the chuck is not clamped")
            speed = self.modal.speed if rpm is None else float(rpm)
            if rpm is not None and not 0 < speed <= self.base.max_spindle_rpm:
                raise Rejected(f"spindle speed 1–{self.base.max_spindle_rpm:g} rpm")
            if speed <= 0:
                raise Rejected("no spindle speed: command S in MDI first")
            changes = {"speed": speed} if rpm is None else {"speed": speed, "css": False}
            self._set_modal(spindle_dir=direction, **changes)
        else:
            self._set_modal(spindle_dir=0)

    def coolant(self, on: bool) -> None:
        self._set_modal(coolant=on)

    def reset(self) -> None:
        self._set_modal(spindle_dir=0, coolant=False)

    def power_off(self) -> None:
        self.reset()
        self.common_variables = {n: v for n, v in self.common_variables.items() if n >= 500}

    def _set_modal(self, **changes) -> None:
        self.state = evolve(self.state, modal=evolve(self.modal, **changes))

    def cycle_start_interlock(self) -> str | None:
        return None if self.chuck_closed else "the chuck is not clamped"

    # ------------------------------------------------------------------------------------------ automatic
    def interpreter(self, text: str, options: RunOptions):
        interpreter = LatheInterpreter(text, self.setup(options.block_delete), Variables(self.common_variables))
        interpreter.state = evolve(self.state, position=self.position)
        return interpreter

    def apply_motion(self, motion: Motion) -> list:
        crashes = []
        if motion.kind in MOVES:
            if self.workpiece is not None:
                before = self._stock_signature()
                crashes = self.workpiece.apply(motion)
                self._stock_dirty = self._stock_dirty or self._stock_signature() != before
            self.position = tuple(motion.end)
            self.stations_used.add(motion.tool)
        elif motion.kind in ("spindle", "coolant", "tool_change"):
            self._set_modal(spindle_dir=motion.spindle_dir, coolant=motion.coolant, station=motion.tool,
                            offset=motion.offset)
        return crashes

    def _stock_signature(self) -> tuple:
        """Changes when the stock model replaced a profile (a cut, or a tool that only came near it)."""
        stock = self.workpiece.stock
        return (id(stock.outer), id(stock.inner_neg), len(stock.threads))

    def adopt(self, interpreter, played, final: bool, complete: bool) -> None:
        """The played blocks' state (G codes, S, F, G50 shift); spindle, coolant, station and offset as the played
        motions left them (a T code planned but not played has not indexed the turret)."""
        now = self.modal
        modal = evolve(played.modal, spindle_dir=now.spindle_dir, coolant=now.coolant, station=now.station,
                       offset=now.offset)
        self.state = evolve(played, modal=modal, position=self.position, compensator=None, programmed=None,
                            contexts=())
        if final:
            self.common_variables = dict(interpreter.variables.common)

    def run_state(self, interpreter):
        """The state without the fast path's pending position: reading ``interpreter.state`` after every block
        would merge it and make the interpreter rebuild its plain-move kit each block (7 × slower planning);
        :meth:`adopt` keeps the machine's position anyway."""
        return interpreter._state

    def spindle_override_rule(self, state) -> str:
        return "per_rev" if state.modal.feed_per_rev else "per_min"

    def split(self, motion: Motion, fraction: float) -> tuple[Motion, Motion]:
        if motion.kind != "arc" or motion.centre is None:
            return split_straight(motion, fraction)
        (cx, cz), (x0, z0), (x1, z1) = motion.centre, motion.start, motion.end
        a0, a1 = math.atan2(x0 - cx, z0 - cz), math.atan2(x1 - cx, z1 - cz)
        sweep = -((a0 - a1) % (2 * math.pi)) if motion.clockwise else (a1 - a0) % (2 * math.pi)
        radius = math.hypot(x0 - cx, z0 - cz)
        a = a0 + sweep * fraction
        point = (cx + radius * math.sin(a), cz + radius * math.cos(a))
        done = Motion(**{**motion.__dict__, "end": point, "seconds": motion.seconds * fraction})
        rest = Motion(**{**motion.__dict__, "start": point, "seconds": motion.seconds * (1.0 - fraction)})
        return done, rest

    # ------------------------------------------------------------------------------------------ offset pages
    def offset_input(self, page_name: str, number: Any, axis: str, value: float, op: str) -> dict:
        axis = axis.upper()
        if page_name == "work":
            return self._work_input(page.work_name(number), axis, value, op)
        line_number = page.tool_number(number)
        measured = None
        if op == "measure" and axis in ("X", "Z"):
            wx, wz = self.work_offsets.get(self.modal.work, (0.0, 0.0))
            ex, ez = self.external_shift
            measured = (self.position[0] - value / 2.0 - wx - ex if axis == "X"
                        else self.position[1] - value - wz - ez)
        line = page.tool_input(self.offsets.get(line_number, ToolOffset()), page_name, axis, value, op, measured)
        self.offsets = {**self.offsets, line_number: line}
        self._tables_version += 1
        return {"number": line_number, **page.tool_line_view(line)}

    def _work_input(self, name: str, axis: str, value: float, op: str) -> dict:
        current = self.external_shift if name == "EXT" else self.work_offsets.get(name, (0.0, 0.0))
        measured = None
        if op == "measure":
            tx, tz = tool_offset(self.setup(), self.modal.offset)
            ex, ez = (0.0, 0.0) if name == "EXT" else self.external_shift
            measured = (self.position[0] - value / 2.0 - ex - tx if axis == "X"
                        else self.position[1] - value - ez - tz)
        point = page.work_input(current, axis, value, op, measured)
        if name == "EXT":
            self.external_shift = point
        else:
            self.work_offsets = {**self.work_offsets, name: point}
        self._tables_version += 1
        return {"number": name, **page.work_view(point)}

    # ------------------------------------------------------------------------------------------ instruments
    def measure(self, instrument: str, placement: Mapping[str, Any]) -> dict:
        if self.workpiece is None:
            raise Rejected("no workpiece in the chuck")
        try:
            from . import instruments
        except ImportError:
            raise Rejected("the measuring instruments are not available in this build") from None
        try:
            return instruments.read(self.workpiece, instrument, **dict(placement))
        except TypeError as error:
            raise Rejected(f"bad placement for {instrument}: {error}") from None

    # ------------------------------------------------------------------------------------------ machine events
    def machine_event(self, type_: str, payload: Mapping[str, Any], panel: Panel) -> dict:
        if panel.estop:
            raise Rejected("emergency stop")
        if panel.run is not None:
            raise Rejected("automatic operation is not finished: reset first")
        if type_ == "turret":
            return self._turret(payload["station"], panel)
        if self.modal.spindle_dir != 0:
            raise Rejected("stop the spindle first")
        return getattr(self, "_" + type_)(payload)

    def _turret(self, station: int, panel: Panel) -> dict:
        if panel.mode not in ("JOG", "INC", "HANDLE"):
            raise Rejected(f"turret index works in manual modes, not {panel.mode}")
        if not 1 <= station <= self.base.turret_stations:
            raise Rejected(f"the turret has stations 1–{self.base.turret_stations}")
        steps = abs(station - self.modal.station)
        steps = min(steps, self.base.turret_stations - steps)
        panel.time_s += steps * self.base.turret_index_s
        self._set_modal(station=station)
        return {"station": station}

    def _chuck(self, payload) -> dict:
        self.chuck_closed = payload["closed"]
        return {"closed": self.chuck_closed}

    def _load_stock(self, payload) -> dict:
        if self.chuck_closed:
            raise Rejected("open the chuck first")
        if self.workpiece is not None:
            raise Rejected("the chuck holds a workpiece: unload it first")
        base = self.base.stock
        try:
            spec = StockSpec.from_dict({"diameter": payload.get("diameter", base.diameter),
                                        "length": payload.get("length", base.length), "material": base.material,
                                        "stick_out": payload["stick_out"], "bore_diameter": base.bore_diameter})
        except (KeyError, TypeError, ValueError) as error:
            raise Rejected(str(error)) from None
        if spec.diameter > self.base.chuck.through_bore + 2 * self.base.chuck.jaw_height:
            raise Rejected("the stock does not fit the chuck")
        self.stock_spec = spec
        self.workpiece = Workpiece(spec, self.base.chuck, self.tools, self.base.part_origin)
        self._stock_dirty = True
        return {"stock": {"diameter": spec.diameter, "length": spec.length, "stick_out": spec.stick_out}}

    def _unload_stock(self, payload) -> dict:
        if self.workpiece is None:
            raise Rejected("the chuck is empty")
        if self.chuck_closed:
            raise Rejected("open the chuck first")
        self.workpiece, self.stock_spec = None, None
        self._stock_dirty = True
        return {}

    def _load_tool(self, payload) -> dict:
        station = payload["station"]
        self._station(station)
        try:
            tools = tools_from_dict({str(station): dict(payload["tool"])}, self.tools)
        except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as error:
            raise Rejected(f"bad tool: {error}") from None
        self._set_tools(tools)
        return {"station": station, "tool": tools[station].to_dict()}

    def _remove_tool(self, payload) -> dict:
        station = payload["station"]
        self._station(station)
        if station not in self.tools:
            raise Rejected(f"station {station} is empty")
        tools = dict(self.tools)
        del tools[station]
        self._set_tools(tools)
        return {"station": station}

    def _station(self, station: int) -> None:
        if not 1 <= station <= self.base.turret_stations:
            raise Rejected(f"the turret has stations 1–{self.base.turret_stations}")

    def _set_tools(self, tools: dict) -> None:
        self.tools = tools
        self._tables_version += 1
        if self.workpiece is not None:      # a new Workpiece for the new tools, keeping the cut stock
            old = self.workpiece
            self.workpiece = Workpiece(old.spec, old.chuck, tools, old.part_origin)
            self.workpiece.stock = old.stock

    # ------------------------------------------------------------------------------------------ views
    def modal_view(self) -> dict:
        m = self.modal
        return {"gcodes": [m.motion, "G99" if m.feed_per_rev else "G98", "G96" if m.css else "G97",
                           "G20" if m.inch else "G21", m.comp, m.work],
                "T": f"{m.station:02d}{m.offset:02d}", "F": m.feed, "S": m.speed,
                "spindle": {"direction": m.spindle_dir, "rpm": round(self._rpm(), 3)}, "coolant": m.coolant,
                "chuck_closed": self.chuck_closed}

    def view(self) -> dict:
        spec = self.stock_spec
        return {"stock": self._stock_view(),
                "stock_spec": None if spec is None else {"diameter": spec.diameter, "length": spec.length,
                                                         "stick_out": spec.stick_out},
                "chuck_closed": self.chuck_closed,
                "tools": {str(s): t.to_dict() for s, t in sorted(self.tools.items())},
                "offsets": self.offsets_view(), "work_offsets": self.work_view(),
                "macro_common": {str(n): v for n, v in sorted(self.common_variables.items())}}

    def offsets_view(self) -> dict:
        return {str(n): page.tool_line_view(line) for n, line in sorted(self.offsets.items())
                if line != ToolOffset()}

    def work_view(self) -> dict:
        out = {name: page.work_view(point) for name, point in sorted(self.work_offsets.items())}
        out["EXT"] = page.work_view(self.external_shift)
        return out

    def _stock_view(self) -> dict | None:
        return None if self.workpiece is None else self.workpiece.display_profile()

    def stock_change(self) -> dict | None:
        if not self._stock_dirty:
            return None
        self._stock_dirty = False
        return {"profile": self._stock_view()}

    def summary(self, items: Iterable[Any], work_zero: Any = None) -> dict:
        """Offsets and their errors, the measurements of ``items``. ``work_zero``: the task's finished right end
        face in the raw stock's frame (``{"z": …}``, None: the stock's right end face as it is now)."""
        face = self.right_face_z(work_zero)
        return {"machine": "lathe", "stations_used": sorted(self.stations_used),
                "offsets": self.offsets_view(), "work_offsets": self.work_view(),
                "offset_errors": self._offset_errors(face), "measurements": self._measurements(list(items), face),
                "stock": None if self.workpiece is None else self.workpiece.profile()}

    def right_face_z(self, work_zero: Any = None) -> float | None:
        """Machine z of the part's work zero: the task's finished face (raw-stock frame, moved with the stick-out
        the candidate chose) or else the stock's right end face now."""
        if self.workpiece is None:
            return None
        origin_z = self.workpiece.part_origin[1]
        if work_zero is not None:
            z = float(work_zero["z"]) if isinstance(work_zero, Mapping) else float(work_zero)
            return origin_z + (self.stock_spec.stick_out - self.base.stock.stick_out) + z
        outer = self.workpiece.stock.outer
        solid = [p for p in outer if max(p.r(p.z0), p.r(p.z1)) > 1e-9]
        return (solid[-1].z1 if solid else outer[-1].z1) + origin_z

    def _offset_errors(self, face: float | None) -> dict | None:
        if face is None:
            return None
        from . import setting
        exact = setting.exact_offsets(self.setup(), (0.0, face))
        return {"exact": exact, "errors": setting.offset_errors(self.setup(), exact)}

    def _measurements(self, items: list, face: float | None) -> list | None:
        if not items or face is None:
            return [] if not items else None
        from . import items as items_module
        return items_module.measure_items(self.workpiece, items, {"z": face - self.workpiece.part_origin[1]})


class LatheSession(Panel):
    """The lathe's operator panel over :class:`LatheModel`: ``apply(event)``, ``view()``, ``summary(items)``."""

    def __init__(self, machine: Mapping[str, Any] | None = None):
        super().__init__(LatheModel(machine))


def replay(machine: Mapping[str, Any] | None, events: Iterable[Any]) -> LatheSession:
    """The session after folding ``events`` (deterministic: the same events give the same state)."""
    session = LatheSession(machine)
    session.quiet = True             # nobody reads the replies; the next live reply carries the stock change
    for event in events:
        session.apply(event)
    session.quiet = False
    return session


__all__ = ["LatheModel", "LatheSession", "replay"]
