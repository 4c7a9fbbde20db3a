"""The machining centre behind the shared operator panel: :class:`MillModel` implements
:class:`simulators.core.panel.MachineModel` for the FANUC 0i-MF mill (docs/operation.md, docs/trace-format.md).

What it holds: the spindle gauge point (machine coordinates), the interpreter's state between runs (modal codes,
transforms, the offset tables the pages edit, macro variables), the magazine and the spindle, and the vise with the
stock in it (vise.py: placement, clamping, the exact :class:`~.workpiece.Workpiece`, the heightmap tiles sent).
Manual moves are motions (manual.py) applied like program moves; offset keys go through offset_page.py.

Set-up from the task's machine block (``setup_from_dict``): the block's ``tools`` are the tool crib (what the
candidate may load), the stock and vise are on the bench, the magazine and the spindle are empty (except the
block's ``initial_tool``, which starts in its pocket and in the spindle), and the offset pages start at ZERO
except the lines and systems the block gives explicitly (``offsets``, ``work_offsets``, ``external_shift``):
setting them is the candidate's job.

Tools: the magazine is fixed-pocket, so T n / H n / D n name pocket n and its tool. Loading crib tool 3 into
pocket 5 makes it T5. The edge finder is not a cutting tool: mounted in the spindle (``spindle_tool`` with
``probe``), its moves cut nothing and only the spindle nose is checked for contact.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from ..core.automatic import RunOptions, split_straight
from ..core.macro import Variables
from ..core.motion import Motion
from ..core.panel import MachineModel, ManualResult, Rejected
from . import offset_page
from .interpreter import MillInterpreter, MillState, Tables, power_on_state
from .machine import OFFSET_LINES, MillSetup, OffsetLine, setup_from_dict
from .manual import SpindleState, manual_move
from .modal import Modal, Transforms
from .motions import arc_geometry, arc_point, spindle_rpm
from .tools import Tool
from .vise import ViseStation

AXES = ("X", "Y", "Z")
MOVE_KINDS = ("rapid", "feed", "arc")
PROBES = ("edge_finder",)
EDGE_FINDER_LENGTH = 100.0     # mm, gauge line to the bottom of the edge finder's tip
MILL_TYPES: dict[str, dict[str, Any]] = {
    "vise": {"closed": "bool"},
    "load_stock": {"protrusion": "?num"},
    "unload_stock": {},
    "load_tool": {"pocket": "int", "tool": "int"},
    "remove_tool": {"pocket": "int"},
    "spindle_tool": {"pocket": "?int", "probe": "?str"},
}


def session_setup(machine: Mapping[str, Any]) -> MillSetup:
    """The machine block's setup with the offset pages cleared except what the block gives explicitly."""
    given = setup_from_dict(machine)
    tables = power_on_state(given).tables
    work = {name: (tables.work[name] if name in machine.get("work_offsets", {}) else (0.0, 0.0, 0.0))
            for name in tables.work}
    extended = {n: p for n, p in tables.extended.items() if f"G54.1P{n}" in machine.get("work_offsets", {})}
    explicit = {int(n) for n in machine.get("offsets", {})}
    offsets = {n: (given.offsets[n] if n in explicit else OffsetLine()) for n in range(1, OFFSET_LINES + 1)}
    return dataclasses.replace(given, work_offsets=work, extended_offsets=extended, offsets=offsets)


class MillModel(MachineModel):
    axes = AXES
    event_types = MILL_TYPES

    def __init__(self, machine: Mapping[str, Any]):
        self.setup = session_setup(machine)
        self.crib: dict[int, Tool] = dict(self.setup.tools)
        self.magazine: dict[int, Tool] = {}
        if self.setup.initial_tool:
            self.magazine[self.setup.initial_tool] = self.crib[self.setup.initial_tool]
        self.probe: str | None = None
        start = power_on_state(dataclasses.replace(self.setup, tools=self.crib))
        self.modal: Modal = start.modal
        self.transforms: Transforms = start.transforms
        self.tables: Tables = start.tables
        self.position = tuple(float(v) for v in self.setup.initial_position)
        self.variables = Variables()
        self.vise = ViseStation(self.setup)

    @property
    def workpiece(self):
        return self.vise.workpiece

    @property
    def max_spindle_rpm(self) -> float:
        return self.setup.max_spindle_rpm

    @property
    def decimal_point_input(self) -> bool:
        return self.setup.decimal_point_input

    # ------------------------------------------------------------------------------------------ frames
    def offset_vector(self, modal: Modal | None = None, tables: Tables | None = None) -> tuple:
        """machine gauge point = segment-frame point + this (work offset + EXT + ±H), as the interpreter has it."""
        modal, tables = modal or self.modal, tables or self.tables
        work = tables.work_offset(modal.work)
        h = 0.0
        if modal.length_comp != "G49" and modal.h_number:
            h = tables.tools.get(modal.h_number, OffsetLine()).h
            h = h if modal.length_comp == "G43" else -h
        return (work[0] + tables.external[0], work[1] + tables.external[1], work[2] + tables.external[2] + h)

    def programmed(self, modal: Modal | None = None, tables: Tables | None = None,
                   transforms: Transforms | None = None) -> tuple:
        """The current position in the program frame (what the absolute position page shows)."""
        offset = self.offset_vector(modal, tables)
        segment = tuple(p - o for p, o in zip(self.position, offset))
        return (transforms or self.transforms).inverse(segment)

    def machine_position(self) -> dict[str, float]:
        return self.screen_point(self.position)

    def absolute_position(self) -> dict[str, float]:
        return self.screen_point(self.programmed())

    def screen_point(self, point: tuple) -> dict[str, float]:
        return {axis: round(float(v), 6) for axis, v in zip(AXES, point)}

    def screen_scale(self, axis: str) -> float:
        return 1.0

    def rapid_rate(self, axis: str) -> float:
        return self.setup.rapid_z_mm_min if axis == "Z" else self.setup.rapid_xy_mm_min

    # ------------------------------------------------------------------------------------------ manual
    def spindle_rpm(self) -> float:
        """The spindle speed now, with the spindle override (clamped at the machine's maximum)."""
        rpm = spindle_rpm(self.modal, self.setup)
        return min(rpm * self.spindle_override / 100.0, max(rpm, self.setup.max_spindle_rpm))

    def spindle_state(self) -> SpindleState:
        tool = 0 if self.probe else self.modal.tool
        return SpindleState(self.spindle_rpm(), self.modal.spindle_dir, tool, self.modal.h_number,
                            self.modal.coolant)

    def manual_move(self, axis: str, distance: float, feed_mm_min: float, rapid: bool,
                    referenced: bool) -> ManualResult:
        if not feed_mm_min > 0.0:
            raise Rejected("the jog feed is 0")
        move = manual_move(self.setup, self.position, axis, distance, feed_mm_min, rapid, self.spindle_state(),
                           referenced)
        result = ManualResult(alarm=move.alarm)
        if move.motion is not None:
            result.motions.append(move.motion)
            result.crashes = self.apply_motion(move.motion)
            result.seconds = move.motion.seconds
        return result

    def reference_return(self, axis: str) -> ManualResult:
        index = AXES.index(axis)
        distance = self.setup.reference_position[index] - self.position[index]
        if abs(distance) < 1e-9:
            return ManualResult()
        return self.manual_move(axis, distance, self.rapid_rate(axis), True, False)

    def spindle(self, direction: int, rpm: float | None) -> None:
        if rpm is not None and not 0 < rpm <= self.setup.max_spindle_rpm:
            raise Rejected(f"spindle speed 1–{self.setup.max_spindle_rpm:g} rpm")
        speed = float(rpm) if rpm is not None else self.modal.speed
        if direction and speed <= 0.0:
            raise Rejected("no spindle speed: command S in MDI first (or give rpm)")
        self.modal = dataclasses.replace(self.modal, spindle_dir=direction, speed=speed)

    def coolant(self, on: bool) -> None:
        self.modal = dataclasses.replace(self.modal, coolant=on)

    def reset(self) -> None:
        """Spindle and coolant stop; cutter compensation, tool length offset (parameter LVK = 0) and the canned
        cycle are cancelled; the other modal codes stay (parameter CLR = 0)."""
        self.modal = dataclasses.replace(self.modal, spindle_dir=0, coolant=False, comp="G40", length_comp="G49",
                                         cycle="G80", rigid_tap=False)

    def power_off(self) -> None:
        """Power-on modal codes again (the tool stays in the spindle); #100–#199 are cleared."""
        self.modal = Modal(tool=self.modal.tool, selected=self.modal.tool)
        self.transforms = Transforms()
        self.variables = Variables({n: v for n, v in self.variables.common.items() if n >= 500})

    def cycle_start_interlock(self) -> str | None:
        return None

    # ------------------------------------------------------------------------------------------ runs
    def run_setup(self, options: RunOptions) -> MillSetup:
        return dataclasses.replace(self.setup, tools=dict(self.magazine), block_delete=options.block_delete,
                                   optional_stop=options.optional_stop)

    def interpreter(self, text: str, options: RunOptions):
        modal = dataclasses.replace(self.modal, tool=0) if self.probe else self.modal
        interpreter = MillInterpreter(text, self.run_setup(options), self.variables)
        interpreter.state = MillState(modal, self.transforms, self.position, self.programmed(), self.tables)
        return interpreter

    def adopt(self, interpreter, played: MillState, final: bool, complete: bool) -> None:
        """The played blocks' modal codes, transforms and offset tables (G10); spindle, coolant and the tool in the
        spindle as the played motions left them (an M06 planned but not played changed nothing). When the run
        stops, cutter compensation is cancelled, and M02/M30 reset the control."""
        now = self.modal
        modal = dataclasses.replace(played.modal, spindle_dir=now.spindle_dir, coolant=now.coolant, tool=now.tool)
        if final and played.compensator is not None:
            modal = dataclasses.replace(modal, comp="G40")
        self.modal = modal
        self.transforms = played.transforms
        self.tables = played.tables
        if final and complete and interpreter.ended and interpreter.end_line:   # the ladder stops the spindle and
            self.reset()                                                         # coolant at M02/M30

    def spindle_override_rule(self, state: MillState) -> str:
        """Tapping cycles run with the overrides disabled (fanuc.md); G95 feeds follow the spindle."""
        if state.modal.cycle in ("G74", "G84"):
            return "fixed"
        return "per_rev" if state.modal.feed_per_rev else "per_min"

    def split(self, motion: Motion, fraction: float) -> tuple[Motion, Motion]:
        if motion.kind != "arc":
            return split_straight(motion, fraction)
        plane = motion.plane or "G17"
        geometry = arc_geometry(motion.start, motion.end, motion.centre, motion.clockwise, plane)
        point = arc_point(motion.start, motion.end, motion.centre, geometry, fraction)
        normal = geometry[5]
        centre = list(motion.centre)
        centre[normal] = point[normal]        # the centre lies in the arc plane through the start point
        done = dataclasses.replace(motion, end=point, seconds=motion.seconds * fraction)
        rest = dataclasses.replace(motion, start=point, centre=tuple(centre), seconds=motion.seconds * (1 - fraction))
        return done, rest

    def apply_motion(self, motion: Motion) -> list:
        """Follow the motion's spindle, coolant and tool; move and cut (a mounted edge finder cuts nothing)."""
        self.follow(motion)
        if motion.kind not in MOVE_KINDS:
            return []
        self.position = tuple(motion.end)
        if not self.probe:
            return self.vise.cut(motion)
        return self.vise.cut(dataclasses.replace(motion, tool=0)) + self.probe_contact(motion)

    def probe_contact(self, motion: Motion) -> list:
        """The edge finder's tip driven into the material (its axis inside the stock at the end of the move)."""
        wp = self.workpiece
        if wp is None:
            return []
        x, y, z = wp.to_work(motion.end, EDGE_FINDER_LENGTH)
        if any(wp.model.inside(x, y, z + h) for h in (1e-6, 5.0, 10.0 - 1e-6)):    # the Ø10 tip is 10 long
            return [{"kind": "instrument_crash", "line": motion.line,
                     "detail": "edge_finder: the tip is driven into the material"}]
        return []

    def follow(self, motion: Motion) -> None:
        changes = {"spindle_dir": motion.spindle_dir, "coolant": motion.coolant}
        if motion.kind == "tool_change":
            changes["tool"] = motion.tool
            self.probe = None                # the changer puts a mounted edge finder aside
        self.modal = dataclasses.replace(self.modal, **changes)

    # ------------------------------------------------------------------------------------------ stock
    def stock_change(self) -> dict | None:
        return self.vise.stock_change()

    def part_origin(self) -> tuple:
        return self.vise.part_origin()

    # ------------------------------------------------------------------------------------------ machine events
    def machine_event(self, type_: str, payload: Mapping[str, Any], panel) -> dict:
        handler = getattr(self, "_on_" + type_, None)
        if handler is None:
            raise Rejected(f"{type_} is not an event of this machine")
        return handler(payload, panel)

    def _require_idle(self, panel) -> None:
        if panel.run is not None:
            raise Rejected("automatic operation is not finished: reset first")

    def _on_vise(self, payload, panel) -> dict:
        self._require_idle(panel)
        if self.modal.spindle_dir:
            raise Rejected("stop the spindle before working on the vise")
        return self.vise.clamp(payload["closed"])

    def _on_load_stock(self, payload, panel) -> dict:
        self._require_idle(panel)
        return self.vise.load(payload.get("protrusion"), self.magazine)

    def _on_unload_stock(self, payload, panel) -> dict:
        self._require_idle(panel)
        return self.vise.unload()

    def _pocket(self, pocket: int) -> int:
        if not 1 <= pocket <= self.setup.magazine_pockets:
            raise Rejected(f"no pocket {pocket} in the {self.setup.magazine_pockets}-pocket magazine")
        return pocket

    def _on_load_tool(self, payload, panel) -> dict:
        self._require_idle(panel)
        pocket = self._pocket(payload["pocket"])
        if pocket in self.magazine:
            raise Rejected(f"pocket {pocket} is not empty")
        tool = self.crib.get(payload["tool"])
        if tool is None:
            raise Rejected(f"no tool {payload['tool']} among the available tools")
        self.magazine[pocket] = dataclasses.replace(tool, number=pocket)
        self.vise.set_tools(self.magazine)
        return {"pocket": pocket, "tool": self.magazine[pocket].to_dict()}

    def _on_remove_tool(self, payload, panel) -> dict:
        self._require_idle(panel)
        pocket = self._pocket(payload["pocket"])
        if pocket not in self.magazine:
            raise Rejected(f"pocket {pocket} is empty")
        if pocket == self.modal.tool and not self.probe:
            raise Rejected(f"T{pocket} is in the spindle")
        del self.magazine[pocket]
        self.vise.set_tools(self.magazine)
        return {"pocket": pocket}

    def _on_spindle_tool(self, payload, panel) -> dict:
        """By hand (tool release button, manual modes, spindle stopped): the tool of ``pocket`` into the spindle
        (0: the spindle tool back to its pocket), or ``probe`` "edge_finder" (or "" to take it out)."""
        self._require_idle(panel)
        if panel.mode not in ("JOG", "INC", "HANDLE", "REF"):
            raise Rejected(f"the tool release works in manual modes, not {panel.mode}")
        if self.modal.spindle_dir:
            raise Rejected("stop the spindle first")
        probe, pocket = payload.get("probe"), payload.get("pocket")
        if (probe is None) == (pocket is None):
            raise Rejected("give either pocket or probe")
        if probe is not None:
            if probe not in PROBES and probe != "":
                raise Rejected(f"no probe {probe!r} (edge_finder)")
            if probe and self.modal.tool:
                raise Rejected(f"T{self.modal.tool} is in the spindle: take it out first")
            self.probe = probe or None
            return {"probe": self.probe}
        if pocket and pocket not in self.magazine:
            raise Rejected(f"pocket {pocket} is empty")
        if pocket and self.probe:
            raise Rejected("the edge finder is in the spindle: take it out first")
        self.modal = dataclasses.replace(self.modal, tool=pocket, selected=pocket)
        return {"tool": pocket}

    # ------------------------------------------------------------------------------------------ pages
    def offset_input(self, page: str, number: Any, axis: str, value: float, op: str) -> dict:
        try:
            tables, line = offset_page.page_input(self.tables, page, number, axis, float(value), op, self.position,
                                                  self.modal.work)
        except offset_page.PageWarning as warning:
            raise Rejected(str(warning)) from None
        self.tables = tables
        return line

    def offset_amendment(self, page: str, number: Any, axis: str, value: float, op: str):
        """The running program reads the pages from its next block on, and a stop part-way keeps the input."""
        position, work = self.position, self.modal.work

        def change(state: MillState) -> MillState:
            try:
                tables, _ = offset_page.page_input(state.tables, page, number, axis, float(value), op, position, work)
            except offset_page.PageWarning:
                return state
            return dataclasses.replace(state, tables=tables)
        return change

    def measure(self, instrument: str, placement: Mapping[str, Any]) -> dict:
        """A virtual instrument (instruments.py). Hand instruments take their placement in the stock frame as
        given; the edge finder and the Z setter are read where the spindle has put them."""
        try:
            from . import instruments
        except ImportError:
            raise Rejected("the virtual instruments are not available") from None
        if self.workpiece is None:
            raise Rejected("no stock in the vise")
        placement = dict(placement)
        if instrument == "edge_finder":
            return self._edge_finder(instruments)
        if instrument == "z_setter":
            tool = self.magazine.get(self.modal.tool) if not self.probe else None
            if tool is None:
                raise Rejected("no tool in the spindle over the Z setter")
            placement["tip"] = self.workpiece.to_work(self.position, tool.length)
            placement.setdefault("tool_radius", tool.radius if tool.pieces[0].is_flat else 0.0)
        try:
            return instruments.read(self.workpiece, instrument, **placement)
        except (ArithmeticError, IndexError, KeyError, TypeError, ValueError) as error:   # a malformed placement
            raise Rejected(f"bad placement for {instrument}: {error}") from None

    def _edge_finder(self, instruments) -> dict:
        if self.probe != "edge_finder":
            raise Rejected("the edge finder is not in the spindle")
        x, y, z = self.workpiece.to_work(self.position, EDGE_FINDER_LENGTH)
        reading = instruments.read(self.workpiece, "edge_finder", x=x, y=y, z=z)
        if spindle_rpm(self.modal, self.setup) <= 0.0 and reading.get("state") in ("kick", "pushed", "clear"):
            reading["state"] = "not_turning"          # a mechanical edge finder only kicks while it turns
        return reading

    # ------------------------------------------------------------------------------------------ views
    def modal_view(self) -> dict:
        m = self.modal
        codes = [m.motion, m.plane, "G90" if m.absolute else "G91", "G95" if m.feed_per_rev else "G94",
                 "G20" if m.inch else "G21", m.comp, m.length_comp, m.cycle, m.cycle_return, m.work,
                 "G16" if m.polar else "G15"]
        return {"gcodes": codes, "T": m.tool, "next_T": m.selected, "H": m.h_number, "D": m.d_number, "F": m.feed,
                "S": m.speed, "spindle": {"direction": m.spindle_dir, "rpm": self.spindle_rpm()},
                "coolant": m.coolant, "vise_closed": self.vise.closed, "probe": self.probe}

    def view(self) -> dict:
        return {"machine": "mill", "stock": self.vise.view(),
                "magazine": {str(p): t.to_dict() for p, t in sorted(self.magazine.items())},
                "crib": {str(n): t.to_dict() for n, t in sorted(self.crib.items())},
                "spindle_tool": self.modal.tool, "probe": self.probe,
                "offsets": offset_page.tool_page(self.tables), "work_offsets": offset_page.work_page(self.tables)}

    def current_setup(self) -> MillSetup:
        """The setup as the candidate made it: magazine tools, where the stock is, the offset pages."""
        t = self.tables
        return dataclasses.replace(self.setup, tools=dict(self.magazine), part_origin=self.part_origin(),
                                   offsets=dict(t.tools), work_offsets=dict(t.work), extended_offsets=dict(t.extended),
                                   external_shift=tuple(t.external))

    def summary(self, items: Iterable[Any], work_zero: Any = None) -> dict:
        """Offsets and their errors against the exact ones for the task's ``work_zero`` (stock frame, from the
        centre of the raw top face: {"x", "y", "z"} or a triple; default that centre; G54 is graded) and the
        measurements of ``items`` on the final stock."""
        from . import setting
        from .items import measure_items, work_zero_point
        stock_zero = work_zero_point(work_zero)
        setup = self.current_setup()
        zero = tuple(o + w for o, w in zip(self.part_origin(), stock_zero))
        exact = setting.exact_offsets(setup, zero)
        out = {"machine": "mill", "offsets": offset_page.tool_page(self.tables),
               "work_offsets": offset_page.work_page(self.tables),
               "offset_errors": setting.offset_errors(setup, exact, "G54"),
               "stock_loaded": self.workpiece is not None, "measurements": []}
        items = list(items)
        if items and self.workpiece is not None:
            out["measurements"] = measure_items(self.workpiece, items, stock_zero)
        return out
