"""FANUC 0i-MF machining-centre interpreter: blocks in, canonical motions of the spindle gauge point out.

The program-flow part (macro statements, M98/M99/G65, block delete, the endless-loop guard) is the shared
:class:`~simulators.core.runner.ProgramRunner`; this module executes NC blocks. A block is computed in full on
a copy of the state (:class:`BlockPlan`); only a block that raised no alarm replaces the state.

Order of execution inside a block (fanuc.md §2.6 with the FANUC deviations): G94/G95 → G20/G21 → G90/G91 →
G17–G19 → G98/G99 → G15/G16 → G54… → F → S → T → M06 → M03/M04/M05/M19 → M08/M09 → M29 → G04 → G10 → G52 →
G50.1/G51.1 → G50/G51 → G68/G69 → G40–G42 (D) → G43/G44/G49 (H) → G27/G28/G53 → motion or canned cycle →
M00/M01/M02/M30 → M98/M99.

Positions: ``programmed`` is the end point of the last command in the program frame (local coordinates of the
active work system, before mirror, scaling and rotation); the segment frame (path.py) is after them and the G52
shift; the machine gauge point adds the work offset, the external shift and ±H along Z.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..core.alarms import Alarm
from ..core.lexer import Block
from ..core.macro import Variables
from ..core.motion import Motion
from ..core.runner import ProgramRunner, Stall
from ..core.words import MILL_GCODES, BlockWords, InputRules, evaluate_words
from . import cycles
from .machine import EXTENDED_SYSTEMS, MillSetup, OffsetLine
from .modal import Modal, Transforms
from .motions import MotionContext, point_motion, segment_motions
from .path import PLANE_AXES, Action, Segment

XYZ = tuple[float, float, float]
MILL_ADDRESSES = set("GMFSTXYZIJKRPQLDH")
SUPPORTED_M = {0, 1, 2, 3, 4, 5, 6, 8, 9, 19, 29, 30, 98, 99}
AXIS_LETTERS = "XYZ"
ARC_LETTERS = "IJK"
EPS = 1e-9


@dataclass(frozen=True)
class Tables:
    """Offset data the program can change with G10 (copied from the setup at power-on)."""

    work: Mapping[str, XYZ]
    extended: Mapping[int, XYZ]
    external: XYZ
    tools: Mapping[int, OffsetLine]

    def work_offset(self, system: str) -> XYZ:
        if system.startswith("G54.1P"):
            return self.extended.get(int(system[6:]), (0.0, 0.0, 0.0))
        return self.work.get(system, (0.0, 0.0, 0.0))


@dataclass(frozen=True)
class CycleMemory:
    """Canned-cycle data kept from block to block (program frame, normal axis of the plane)."""

    initial: float                   # initial level (where the tool was when the cycle mode began)
    bottom: float | None = None   # Z point, absolute
    r_level: float | None = None  # point R, absolute
    q: float | None = None
    dwell: float = 0.0


@dataclass(frozen=True)
class MillState:
    modal: Modal
    transforms: Transforms
    position: XYZ                    # machine gauge point
    programmed: XYZ                  # program frame
    tables: Tables
    cycle: CycleMemory | None = None
    polar: tuple[float, float] = (0.0, 0.0)      # last polar radius and angle (G16)
    compensator: object | None = None        # compensation streaming object while G41/G42 is in force


def power_on_state(setup: MillSetup) -> MillState:
    modal = Modal(tool=setup.initial_tool)
    tables = Tables(dict(setup.work_offsets), dict(setup.extended_offsets), tuple(setup.external_shift),
                    dict(setup.offsets))
    position = tuple(float(v) for v in setup.initial_position)
    w = tables.work_offset(modal.work)
    programmed = tuple(p - o - e for p, o, e in zip(position, w, tables.external))
    return MillState(modal, Transforms(), position, programmed, tables)


class MillInterpreter(ProgramRunner):
    """Runs a program file: ``for motion in MillInterpreter(text, setup).motions(): …``.

    Raises :class:`Alarm` or :class:`~simulators.core.runner.Stall` from the generator where it happens.
    """

    def __init__(self, source: str, setup: MillSetup, variables: Variables | None = None):
        super().__init__(source, setup.block_delete, variables)
        self.setup = setup
        self.state = power_on_state(setup)

    def execute_nc(self, block: Block) -> list:
        w = evaluate_block(block, self.variables)
        if w.g_in_group(0) == "G65":
            self.macro_call(w)
            return []
        plan = BlockPlan(self.setup, self.state, w, self.cursor.program_number())
        motions = plan.run()
        self.state = plan.result_state()
        self.after_block(w, plan.end_program)
        return motions

    def finish_at_end(self) -> list:
        """End of the main program without M02/M30: a move held back by compensation is still owed."""
        if self.state.compensator is None:
            return []
        blocks = self.cursor.frame.program.blocks
        plan = BlockPlan(self.setup, self.state, BlockWords(blocks[-1].line if blocks else 0, (), (), {}),
                         self.cursor.program_number())
        plan.flush_compensation()
        self.state = plan.result_state()
        return plan.motions


def evaluate_block(block: Block, variables: Variables) -> BlockWords:
    w = evaluate_words(block, variables, MILL_GCODES)
    if w.g_in_group(0) != "G65":
        for letter, value in w.values.items():
            if letter not in MILL_ADDRESSES:
                raise Alarm("PS0009", block.line, f"address {letter} is not available on this machine",
                            value.column)
    for code in w.mcodes:
        if code not in SUPPORTED_M:
            raise Alarm("EX1002", block.line, f"M{code:02d} is not a function of this machine")
    return w


# ------------------------------------------------------------------------------------------------ block plan

class BlockPlan:
    """One NC block on a copy of the state: ``run()`` → motions, ``result_state()`` → the state after it."""

    def __init__(self, setup: MillSetup, state: MillState, w: BlockWords, program: int):
        self.setup, self.w, self.line, self.program = setup, w, w.line, program
        self.modal = state.modal
        self.transforms = state.transforms
        self.position = state.position
        self.programmed = state.programmed
        self.tables = state.tables
        self.cycle = state.cycle
        self.polar = state.polar
        self.compensator = state.compensator.copy() if state.compensator is not None else None
        self.motions: list = []
        self.end_program = False
        self.rules = InputRules(setup.decimal_point_input, state.modal.inch)
        self.one_shot = w.g_in_group(0)
        self.length_before = (state.modal.h_number, state.modal.length_comp)

    def result_state(self) -> MillState:
        return MillState(self.modal, self.transforms, self.position, self.programmed, self.tables, self.cycle,
                         self.polar, self.compensator)

    # -- small helpers
    def set_modal(self, **changes) -> None:
        modal = self.modal
        changes = {k: v for k, v in changes.items() if getattr(modal, k) != v}
        if changes:         # most blocks restate a mode already in force (G01 in every line)
            self.modal = replace(modal, **changes)

    def value(self, letter: str):
        return self.w.values.get(letter)

    def has(self, *letters: str) -> bool:
        return any(letter in self.w.values for letter in letters)

    def distance(self, letter: str) -> float | None:
        v = self.value(letter)
        return None if v is None else self.rules.distance(v)

    def integer(self, letter: str) -> int | None:
        v = self.value(letter)
        return None if v is None else InputRules.integer(letter, v, self.line)

    def offset_vector(self, modal: Modal | None = None, tables: Tables | None = None) -> XYZ:
        """machine = segment frame + this vector (work offset + external shift + tool length)."""
        modal, tables = modal or self.modal, tables or self.tables
        wx, wy, wz = tables.work_offset(modal.work)
        ex, ey, ez = tables.external
        h = 0.0
        if modal.length_comp != "G49" and modal.h_number:
            h = tables.tools.get(modal.h_number, OffsetLine()).h
            h = h if modal.length_comp == "G43" else -h
        return (wx + ex, wy + ey, wz + ez + h)

    def segment_position(self) -> XYZ:
        """Where the tool is, in the segment frame."""
        o = self.offset_vector()
        return tuple(p - v for p, v in zip(self.position, o))

    def context(self) -> MotionContext:
        return MotionContext(self.setup, self.modal, self.offset_vector(), self.line, self.program)

    def emit(self, motion: Motion) -> None:
        self.motions.append(motion)

    def add_motions(self, motions: list) -> None:
        for m in motions:
            self.emit(m)
            self.position = m.end

    def still(self, kind: str, seconds: float = 0.0, **changes) -> None:
        self.emit(point_motion(kind, self.position, self.context(), seconds, **changes))

    def rebase(self, old_transforms: Transforms, old_offset: XYZ) -> None:
        """A frame changed without a move: the programmed point becomes the same physical point's
        coordinates in the new frame."""
        seg = old_transforms.apply(self.programmed)
        new_offset = self.offset_vector()
        moved = tuple(s + o - n for s, o, n in zip(seg, old_offset, new_offset))
        self.programmed = self.transforms.inverse(moved)

    # -- the order of execution
    def run(self) -> list:
        w = self.w
        if w.gcodes:
            self.modes()
        if self.has("F"):
            self.feed()
        if self.has("S"):
            self.speed()
        if self.has("T"):
            self.select_tool()
        if w.mcodes:
            self.m_functions()
        if self.one_shot == "G04":
            self.dwell()
        elif self.one_shot == "G10":
            self.g10()
        elif self.one_shot == "G52":
            self.g52()
        if w.gcodes:
            self.transform_modes()
        if w.gcodes or self.has("D", "H"):
            self.compensation_mode()
            self.length_mode()
        if self.one_shot in ("G27", "G28"):
            self.reference(self.one_shot)
        elif self.one_shot == "G53":
            self.g53()
        elif self.one_shot is None and not self.axes_are_parameters():
            self.motion()
        if w.mcodes:
            self.stops()
        return self.motions

    def axes_are_parameters(self) -> bool:
        """G51, G68, G50.1 and G51.1 read X Y Z as a centre or axis position: the block does not move."""
        w = self.w
        return w.g_in_group(11) == "G51" or w.g_in_group(16) == "G68" or w.g_in_group(22) is not None

    def modes(self) -> None:
        w, changes = self.w, {}
        g = {group: w.g_in_group(group) for group in (1, 2, 3, 5, 6, 9, 10, 14, 17)}
        if g[5]:
            changes["feed_per_rev"] = g[5] == "G95"
        if g[6]:
            changes["inch"] = g[6] == "G20"
            self.rules = InputRules(self.setup.decimal_point_input, g[6] == "G20")
        if g[3]:
            changes["absolute"] = g[3] == "G90"
        if g[2] and g[2] != self.modal.plane:
            if self.modal.comp != "G40" or self.compensator is not None:
                raise Alarm("PS0037", self.line, f"{g[2]} while G41/G42 is in force: cancel with G40 first")
            changes["plane"] = g[2]
        if g[10]:
            changes["cycle_return"] = g[10]
        if g[17]:
            self.polar_mode(g[17] == "G16", changes)
        if g[1]:
            changes["motion"] = g[1]
            if g[9] is None and self.modal.cycle != "G80":
                changes["cycle"], changes["rigid_tap"] = "G80", False   # a group-01 code cancels the cycle
                self.cycle = None
        if g[9]:
            self.cycle_mode(g[9], changes)
        if changes:
            self.set_modal(**changes)
        if g[14]:
            self.work_system(g[14])

    def polar_mode(self, on: bool, changes: dict) -> None:
        if on and not self.modal.polar:
            a, b, _ = PLANE_AXES[changes.get("plane", self.modal.plane)]
            u, v = self.programmed[a], self.programmed[b]
            self.polar = (math.hypot(u, v), math.degrees(math.atan2(v, u)))
        changes["polar"] = on

    def cycle_mode(self, code: str, changes: dict) -> None:
        changes["cycle"] = code
        if code == "G80":
            changes["rigid_tap"] = False
            self.cycle = None
            return
        if self.one_shot in ("G27", "G28"):
            raise Alarm("PS0044", self.line, f"{self.one_shot} in a block with {code}")
        if self.cycle is None:
            _, _, n = PLANE_AXES[changes.get("plane", self.modal.plane)]
            self.cycle = CycleMemory(initial=self.programmed[n])

    def work_system(self, name: str) -> None:
        if name == "G54.1":
            p = self.integer("P")
            if p is None or not 1 <= p <= EXTENDED_SYSTEMS:
                raise Alarm("PS0030", self.line, f"G54.1 needs P1..P{EXTENDED_SYSTEMS}")
            name = f"G54.1P{p}"
        if name == self.modal.work:
            return
        old_offset = self.offset_vector()
        self.set_modal(work=name)
        self.rebase(self.transforms, old_offset)

    def feed(self) -> None:
        v = self.value("F")
        if v.number < 0:
            raise Alarm("PS0006", self.line, "F cannot be negative", v.column)
        self.set_modal(feed=self.rules.feed(v, self.modal.feed_per_rev))

    def speed(self) -> None:
        v = self.value("S")
        speed = InputRules.integer("S", v, self.line) if v.literal else v.number
        if speed < 0:
            raise Alarm("PS0006", self.line, "S cannot be negative", v.column)
        self.set_modal(speed=float(speed))
        if self.modal.spindle_dir and not any(m in (3, 4, 5, 19) for m in self.w.mcodes):
            self.still("spindle")

    def select_tool(self) -> None:
        v = self.value("T")
        number = InputRules.integer("T", v, self.line)
        if number and (number > self.setup.magazine_pockets or number not in self.setup.tools):
            raise Alarm("EX1003", self.line, f"T{number}: no such tool in the {self.setup.magazine_pockets}-pocket "
                                             "magazine", v.column)
        self.set_modal(selected=number)

    def m_functions(self) -> None:
        codes = self.w.mcodes
        if 6 in codes:
            self.tool_change()
        spindle = [m for m in codes if m in (3, 4, 5, 19)]
        if spindle:
            self.set_modal(spindle_dir={3: 1, 4: -1, 5: 0, 19: 0}[spindle[-1]])
            self.still("spindle")
        coolant = [m for m in codes if m in (8, 9)]
        if coolant:
            self.set_modal(coolant=coolant[-1] == 8)
            self.still("coolant")
        if 29 in codes:
            self.set_modal(rigid_tap=True)

    def tool_change(self) -> None:
        """M06: the spindle goes up to the tool-change level (reference Z) at rapid, then the arm swaps the
        tool in the spindle for the one T selected (2 s by default)."""
        if self.modal.comp != "G40" or self.compensator is not None:
            raise Alarm("PS0010", self.line, "M06 while G41/G42 is in force: cancel with G40 first")
        if self.modal.cycle != "G80":
            raise Alarm("PS0010", self.line, "M06 in canned-cycle mode: cancel with G80 first")
        z_ref = self.setup.reference_position[2]
        if self.position[2] < z_ref - EPS:
            old_offset = self.offset_vector()
            target = (self.position[0], self.position[1], z_ref)
            self.add_motions(segment_motions(Segment("rapid", self.segment_position(),
                                                     tuple(t - o for t, o in zip(target, old_offset)), self.line),
                                             self.context()))
        self.set_modal(tool=self.modal.selected)
        self.still("tool_change", self.setup.tool_change_s, tool=self.modal.tool)
        self.programmed = self.transforms.inverse(self.segment_position())

    def dwell(self) -> None:
        if self.has("P"):
            seconds = self.integer("P") / 1000.0
        elif self.has("X"):
            seconds = self.rules.seconds(self.value("X"))
        else:
            seconds = 0.0
        if seconds < 0:
            raise Alarm("PS0006", self.line, "negative dwell")
        self.still("dwell", seconds)

    # -- G10 and frames
    def g10(self) -> None:
        l_value = self.integer("L")
        p_value = self.integer("P")
        if l_value is None or p_value is None:
            raise Alarm("PS0010", self.line, "G10 needs L and P (L2/L20 work offsets, L10–L13 tool offsets)")
        old_offset = self.offset_vector()
        if l_value in (2, 20):
            self.g10_work(l_value, p_value)
        elif l_value in (10, 11, 12, 13):
            self.g10_tool(l_value, p_value)
        else:
            raise Alarm("PS0010", self.line, f"G10 L{l_value} is not supported (L2, L20, L10–L13)")
        if self.offset_vector() != old_offset:       # the tool does not move: its coordinates change
            self.rebase(self.transforms, old_offset)

    def g10_work(self, l_value: int, p_value: int) -> None:
        tables = self.tables
        if l_value == 2 and p_value == 0:
            current = tables.external
        elif l_value == 2 and 1 <= p_value <= 6:
            current = tables.work[f"G5{3 + p_value}"]
        elif l_value == 20 and 1 <= p_value <= EXTENDED_SYSTEMS:
            current = tables.extended.get(p_value, (0.0, 0.0, 0.0))
        else:
            raise Alarm("PS0030", self.line, f"G10 L{l_value} P{p_value}: no such work offset")
        new = list(current)
        for axis, letter in enumerate(AXIS_LETTERS):
            d = self.distance(letter)
            if d is not None:
                new[axis] = d if self.modal.absolute else new[axis] + d
        new = tuple(new)
        if l_value == 2 and p_value == 0:
            self.tables = replace(tables, external=new)
        elif l_value == 2:
            self.tables = replace(tables, work={**tables.work, f"G5{3 + p_value}": new})
        else:
            self.tables = replace(tables, extended={**tables.extended, p_value: new})

    def g10_tool(self, l_value: int, p_value: int) -> None:
        if p_value not in self.tables.tools:
            raise Alarm("PS0030", self.line, f"G10 L{l_value} P{p_value}: no such offset number")
        r = self.distance("R")
        if r is None:
            raise Alarm("PS0010", self.line, f"G10 L{l_value} needs R (the offset value)")
        field_name = {10: "length", 11: "length_wear", 12: "radius", 13: "radius_wear"}[l_value]
        line = self.tables.tools[p_value]
        value = r if self.modal.absolute else getattr(line, field_name) + r
        tools = {**self.tables.tools, p_value: replace(line, **{field_name: value})}
        self.tables = replace(self.tables, tools=tools)

    def g52(self) -> None:
        """G52 X Y Z: the local coordinate system's origin in the work system (G52 X0 Y0 Z0 cancels)."""
        old_t, old_offset = self.transforms, self.offset_vector()
        local = list(self.transforms.local)
        for axis, letter in enumerate(AXIS_LETTERS):
            d = self.distance(letter)
            if d is not None:
                local[axis] = d
        self.transforms = replace(self.transforms, local=tuple(local))
        self.rebase(old_t, old_offset)

    def transform_modes(self) -> None:
        w = self.w
        mirror, scaling, rotation = w.g_in_group(22), w.g_in_group(11), w.g_in_group(16)
        if not (mirror or scaling or rotation):
            return
        if self.compensator is not None:
            raise Alarm("PS0010", self.line, "changing mirror, scaling or rotation during G41/G42: cancel with "
                                             "G40 first")
        old_t, old_offset = self.transforms, self.offset_vector()
        if mirror:
            self.mirror(mirror)
        if scaling:
            self.scaling(scaling)
        if rotation:
            self.rotation(rotation)
        self.rebase(old_t, old_offset)

    def axis_words(self) -> dict:
        return {axis: self.distance(letter) for axis, letter in enumerate(AXIS_LETTERS) if self.has(letter)}

    def mirror(self, code: str) -> None:
        words = self.axis_words()
        mirror = list(self.transforms.mirror)
        if code == "G51.1":
            if not words:
                raise Alarm("PS0010", self.line, "G51.1 needs the mirror axis position(s) (X, Y or Z)")
            for axis, value in words.items():
                mirror[axis] = value
        else:
            for axis in (words or range(3)):
                mirror[axis] = None
        self.transforms = replace(self.transforms, mirror=tuple(mirror))

    def scaling(self, code: str) -> None:
        if code == "G50":
            self.transforms = replace(self.transforms, scaling=False, scale=(1.0, 1.0, 1.0))
            return
        words = self.axis_words()
        centre = tuple(words.get(axis, self.programmed[axis]) for axis in range(3))
        if self.has("P"):
            factor = self.magnification("P")
            factors = (factor, factor, factor)
        elif self.has("I", "J", "K"):
            factors = tuple(self.magnification(letter) if self.has(letter) else 1.0 for letter in ARC_LETTERS)
        else:
            raise Alarm("PS0010", self.line, "G51 needs the magnification P (or I, J, K per axis)")
        if any(abs(f) < 1e-9 for f in factors):
            raise Alarm("PS0010", self.line, "a scaling magnification of 0")
        self.transforms = replace(self.transforms, scaling=True, scale=factors, scale_centre=centre)

    def magnification(self, letter: str) -> float:
        """P/I/J/K of G51: with a decimal point the factor itself, without one in 0.001 units (P1500 = 1.5)."""
        v = self.value(letter)
        return v.number if v.has_point or self.setup.decimal_point_input else v.number * 0.001

    def rotation(self, code: str) -> None:
        if code == "G69":
            self.transforms = replace(self.transforms, rotating=False, rotation_deg=0.0)
            return
        plane = self.modal.plane
        a, b, _ = PLANE_AXES[plane]
        words = self.axis_words()
        centre = (words.get(a, self.programmed[a]), words.get(b, self.programmed[b]))
        r = self.value("R")
        angle = 0.0 if r is None else (r.number if r.has_point or self.setup.decimal_point_input
                                       else r.number * 0.001)
        if not self.modal.absolute and self.transforms.rotating:
            angle += self.transforms.rotation_deg
        self.transforms = replace(self.transforms, rotating=True, rotation_plane=plane, rotation_centre=centre,
                                  rotation_deg=angle)

    # -- compensation modes
    def compensation_mode(self) -> None:
        g7 = self.w.g_in_group(7)
        if self.has("D"):
            d = self.integer("D")
            if d and d not in self.tables.tools:
                raise Alarm("PS0030", self.line, f"D{d}: no such offset number", self.value("D").column)
            self.set_modal(d_number=d)
        if g7 is None or g7 == self.modal.comp:
            return
        moving = self.has(*AXIS_LETTERS) and self.one_shot is None and self.modal.cycle == "G80"
        if self.modal.motion in ("G02", "G03") and moving:
            raise Alarm("PS0034", self.line, f"{g7} cannot start or end on an arc (G02/G03)")
        if g7 != "G40":
            compensation_module(self.line)
        self.set_modal(comp=g7)
        if g7 == "G40" and not moving:
            self.flush_compensation()

    def length_mode(self) -> None:
        """G43/G44/G49 and H: the new length offset moves Z in this block (with or without a Z word)."""
        g8 = self.w.g_in_group(8)
        changes = {}
        if self.has("H"):
            h = self.integer("H")
            if h and h not in self.tables.tools:
                raise Alarm("PS0030", self.line, f"H{h}: no such offset number", self.value("H").column)
            changes["h_number"] = h
        if g8:
            changes["length_comp"] = g8
        if changes:
            self.set_modal(**changes)

    # -- reference and machine coordinates
    def reference(self, code: str) -> None:
        """G28: rapid through the intermediate point to the reference position on the axes given.
        G27: rapid to the point and check it is the reference position (PS0092)."""
        if not self.has(*AXIS_LETTERS):
            raise Alarm("PS0046", self.line, f"{code} needs the axes to return (e.g. G91 G28 Z0)")
        if self.modal.comp != "G40" or self.compensator is not None:
            raise Alarm("PS0046", self.line, f"{code} with cutter compensation in force: cancel with G40 first")
        if self.modal.cycle != "G80":
            raise Alarm("PS0044", self.line, f"{code} in canned-cycle mode")
        middle = self.target(self.programmed, AXIS_LETTERS)
        self.rapid_program(middle)
        ref = self.setup.reference_position
        if code == "G27":
            for axis, letter in enumerate(AXIS_LETTERS):
                if self.has(letter) and abs(self.position[axis] - ref[axis]) > 1e-3:
                    raise Alarm("PS0092", self.line, f"{letter} is not at the reference position")
            return
        goal = tuple(ref[axis] if self.has(letter) else self.position[axis]
                     for axis, letter in enumerate(AXIS_LETTERS))
        self.rapid_machine(goal)

    def g53(self) -> None:
        """G53: rapid to machine coordinates of the gauge point (offsets ignored); ignored under G91."""
        if not self.has(*AXIS_LETTERS) or not self.modal.absolute:
            return
        if self.modal.comp != "G40" or self.compensator is not None:
            raise Alarm("PS0010", self.line, "G53 with cutter compensation in force: cancel with G40 first")
        goal = tuple(self.distance(letter) if self.has(letter) else self.position[axis]
                     for axis, letter in enumerate(AXIS_LETTERS))
        self.rapid_machine(goal)

    def rapid_program(self, point: XYZ) -> None:
        seg = Segment("rapid", self.segment_position(), self.transforms.apply(point), self.line)
        self.add_motions(segment_motions(seg, self.context()))
        self.programmed = point

    def rapid_machine(self, goal: XYZ) -> None:
        offset = self.offset_vector()
        seg = Segment("rapid", self.segment_position(), tuple(g - o for g, o in zip(goal, offset)), self.line)
        self.add_motions(segment_motions(seg, self.context()))
        self.programmed = self.transforms.inverse(self.segment_position())

    # -- motion
    def target(self, start: XYZ, letters: str) -> XYZ:
        """Program-frame end point from the axis words among ``letters`` (G90/G91, polar input)."""
        point = list(start)
        a, b, _ = PLANE_AXES[self.modal.plane]
        for axis, letter in enumerate(AXIS_LETTERS):
            if letter in letters and self.has(letter) and not (self.modal.polar and axis in (a, b)):
                d = self.distance(letter)
                point[axis] = d if self.modal.absolute else start[axis] + d
        if self.modal.polar:
            self.polar_target(start, point, a, b, letters)
        return tuple(point)

    def polar_target(self, start: XYZ, point: list, a: int, b: int, letters: str) -> None:
        """G16: the plane's first axis word is the radius, the second the angle (degrees, CCW from the first
        axis). Radius in G90 or omitted: the work zero is the pole; radius in G91: the current position is."""
        radius_letter, angle_letter = AXIS_LETTERS[a], AXIS_LETTERS[b]
        radius, angle = self.polar
        pole = (0.0, 0.0)
        if angle_letter in letters and self.has(angle_letter):
            value = self.value(angle_letter)
            given = value.number if value.has_point or self.setup.decimal_point_input else value.number * 0.001
            angle = given if self.modal.absolute else angle + given
        if radius_letter in letters and self.has(radius_letter):
            radius = self.distance(radius_letter)
            if not self.modal.absolute:
                pole = (start[a], start[b])
        elif not (angle_letter in letters and self.has(angle_letter)):
            return
        self.polar = (radius, angle)
        point[a] = pole[0] + radius * math.cos(math.radians(angle))
        point[b] = pole[1] + radius * math.sin(math.radians(angle))

    def motion(self) -> None:
        if self.modal.cycle != "G80":
            self.canned_cycle()
            return
        motion = self.modal.motion
        arc_words = motion in ("G02", "G03") and self.has(*ARC_LETTERS)
        length_changed = (self.modal.h_number, self.modal.length_comp) != self.length_before
        if not self.has(*AXIS_LETTERS) and not arc_words:
            if length_changed:
                self.length_move()
            return
        start = self.programmed
        end = self.target(start, AXIS_LETTERS)
        if motion == "G00":
            segments = [Segment("rapid", self.transforms.apply(start), self.transforms.apply(end), self.line,
                                plane=self.modal.plane)]
        elif motion == "G01":
            self.require_feed()
            segments = [Segment("feed", self.transforms.apply(start), self.transforms.apply(end), self.line,
                                plane=self.modal.plane)]
        else:
            self.require_feed()
            segments = [self.arc(start, end, motion == "G02")]
        self.programmed = end
        self.path(segments)

    def length_move(self) -> None:
        """G43/G44/G49 or a new H without axis words: Z moves so that the programmed Z stays."""
        kind = "rapid" if self.modal.motion == "G00" else "feed"
        if kind == "feed":
            self.require_feed()
        self.path([Segment(kind, self.transforms.apply(self.programmed), self.transforms.apply(self.programmed),
                           self.line, plane=self.modal.plane)])

    def require_feed(self) -> None:
        if self.modal.feed <= 0.0:
            raise Alarm("PS0011", self.line, "no F has been given (F is 0 after power-on)")

    def arc(self, start: XYZ, end: XYZ, clockwise: bool) -> Segment:
        plane = self.modal.plane
        a, b, n = PLANE_AXES[plane]
        centre_uv = arc_centre((start[a], start[b]), (end[a], end[b]), clockwise, self.distance("R"),
                               self.distance(ARC_LETTERS[a]), self.distance(ARC_LETTERS[b]),
                               self.setup.arc_tolerance, self.line)
        centre = [0.0, 0.0, 0.0]
        centre[a], centre[b], centre[n] = centre_uv[0], centre_uv[1], start[n]
        t = self.transforms
        if t.arc_scale(plane) is None:
            raise Alarm("PS0010", self.line, "an arc under scaling with different X/Y magnifications (an ellipse) "
                                             "is not supported")
        if t.rotating and t.rotation_plane != plane and abs(t.rotation_deg) > EPS:
            raise Alarm("PS0010", self.line, f"an arc in {plane} under a {t.rotation_plane} rotation is not "
                                             "supported")
        cw = clockwise != t.reverses(plane)
        return Segment("arc", t.apply(start), t.apply(end), self.line, centre=t.apply(tuple(centre)),
                       clockwise=cw, plane=plane)

    # -- segments → motions (through cutter compensation when it is in force)
    def path(self, segments: list) -> None:
        for seg in segments:
            if self.modal.comp == "G40" and self.compensator is None:
                self.emit_segment(seg)
            else:
                self.compensate(seg)

    def emit_segment(self, seg: Segment) -> None:
        here = self.segment_position()
        if math.dist(here, seg.start) > 1e-7:        # e.g. the length offset changed in this block
            if seg.kind == "arc":                     # only along the normal axis: the arc becomes a helix
                n = PLANE_AXES[seg.plane][2]
                start = list(seg.start)
                start[n] = here[n]
                seg = replace(seg, start=tuple(start))
            else:
                seg = replace(seg, start=here)
        self.add_motions(segment_motions(seg, self.context()))

    def compensate(self, seg: Segment) -> None:
        """Feed a move to the cutter-compensation stream (G41/G42 in force, or its G40 cancel move)."""
        module = compensation_module(seg.line)
        if seg.kind != "rapid" and seg.feed is None:       # a held-back move keeps its own block's feed
            seg = replace(seg, feed=self.feed_now())
        out = []
        want = self.modal.comp
        if self.compensator is not None and want == "G40":
            out += self.compensator.cancel(seg)
            self.compensator = None
            self.emit_all(out)
            return
        side = self.effective_side()
        if self.compensator is not None and self.compensator.side != side:
            out += self.compensator.finish()             # G41 <-> G42 without G40: end, then start again
            self.compensator = None
        radius = self.tables.tools.get(self.modal.d_number, OffsetLine()).d if self.modal.d_number else 0.0
        if self.compensator is None:
            self.compensator = module.CutterCompensator(side, radius, self.modal.plane, seg.line)
        elif self.compensator.radius != radius:
            self.compensator.set_radius(radius)
        out += self.compensator.feed(seg)
        self.emit_all(out)

    def effective_side(self) -> int:
        side = 41 if self.modal.comp == "G41" else 42
        if self.transforms.reverses(self.modal.plane):    # mirror image swaps G41 and G42
            side = 83 - side
        return side

    def feed_now(self) -> float | None:
        """The block's feed in mm/min (None under G95 with the spindle stopped: the move will stall)."""
        modal = self.modal
        if modal.feed_per_rev:
            rpm = self.context().rpm
            return modal.feed * rpm if rpm > 0 and modal.feed > 0 else None
        return modal.feed if modal.feed > 0 else None

    def emit_all(self, segments: list) -> None:
        for out in segments:
            self.emit_segment(out)

    def flush_compensation(self) -> None:
        """Compensation ends without a move (G40 alone, M02/M30, end of program): the held move ends with the
        centre beside its end point."""
        if self.compensator is None:
            return
        out = self.compensator.finish()
        self.compensator = None
        self.emit_all(out)

    # -- canned cycles
    def canned_cycle(self) -> None:
        """A block in canned-cycle mode: update the cycle data, then drill at the position(s) it gives."""
        if self.modal.comp != "G40" or self.compensator is not None:
            raise Alarm("PS0010", self.line, "canned cycles with G41/G42 in force are not supported: cancel with "
                                             "G40 first")
        plane = self.modal.plane
        a, b, n = PLANE_AXES[plane]
        memory = self.cycle_words(n)
        positioning = self.has(AXIS_LETTERS[a], AXIS_LETTERS[b], AXIS_LETTERS[n], "R")
        repeats = self.integer("K") if self.has("K") else 1
        if not positioning or repeats == 0:
            return
        if memory.bottom is None:
            raise Alarm("PS0010", self.line, f"{self.modal.cycle} needs the hole bottom Z")
        self.require_feed()
        for _ in range(repeats):     # under G91 (and G16 incremental angles) each repeat steps on again
            hole = self.target(self.programmed, AXIS_LETTERS[a] + AXIS_LETTERS[b])
            self.drill(hole, memory, a, b, n)

    def cycle_words(self, n: int) -> CycleMemory:
        memory = self.cycle
        changes = {}
        if self.has("R"):
            r = self.distance("R")
            changes["r_level"] = r if self.modal.absolute else memory.initial + r
        r_level = changes.get("r_level", memory.r_level if memory.r_level is not None else memory.initial)
        z_letter = AXIS_LETTERS[n]
        if self.has(z_letter):
            z = self.distance(z_letter)
            changes["bottom"] = z if self.modal.absolute else r_level + z
        if self.has("Q"):
            changes["q"] = abs(self.distance("Q"))
        if self.has("P"):
            changes["dwell"] = self.integer("P") / 1000.0
        self.cycle = replace(memory, **changes)
        if self.cycle.r_level is None:
            self.cycle = replace(self.cycle, r_level=memory.initial)
        return self.cycle

    def drill(self, hole: XYZ, memory: CycleMemory, a: int, b: int, n: int) -> None:
        t = self.transforms

        def level(value: float) -> float:
            p = list(hole)
            p[n] = value
            return t.apply(tuple(p))[n]

        seg_hole = t.apply(hole)
        modal = self.modal
        rpm = self.context().rpm
        code = modal.cycle
        per_rev = modal.feed_per_rev
        if per_rev and rpm <= 0:
            raise Stall(self.line, f"{code} with feed per revolution (G95) and the spindle stopped")
        if code in cycles.TAPPING_CODES:
            feed = cycles.tapping_feed(modal.feed, rpm, per_rev)
        else:
            feed = modal.feed * rpm if per_rev else modal.feed
        data = cycles.CycleData(code, bottom=level(memory.bottom), r_level=level(memory.r_level), feed=feed,
                                return_initial=modal.cycle_return == "G98", q=memory.q, dwell=memory.dwell,
                                rpm=rpm, rigid=modal.rigid_tap, plane=modal.plane)
        params = cycles.CycleParameters(self.setup.g73_retract, self.setup.g83_clearance)
        steps = cycles.hole(data, self.segment_position(), (seg_hole[a], seg_hole[b]), level(memory.initial),
                            self.line, params)
        spindle = modal.spindle_dir
        for step in steps:
            if isinstance(step, Action):
                self.cycle_action(step)
            else:
                self.emit_segment(step)
        if self.modal.spindle_dir != spindle and spindle != 0:
            self.set_modal(spindle_dir=spindle)
        self.programmed = t.inverse(self.segment_position())

    def cycle_action(self, action: Action) -> None:
        if action.kind == "dwell":
            self.still("dwell", action.seconds)
        elif action.kind in ("spindle", "orient"):
            direction = action.direction if action.kind == "spindle" else 0
            self.set_modal(spindle_dir=direction)
            self.still("spindle")
        else:   # G88 manual feed hold: the simulator retracts by itself (the rapid that follows)
            self.still("stop")

    # -- end of block
    def stops(self) -> None:
        codes = self.w.mcodes
        if any(code in (2, 30) for code in codes):
            self.flush_compensation()
        for code in codes:
            if code == 0 or (code == 1 and self.setup.optional_stop) or code in (2, 30):
                self.still("stop")
            if code in (2, 30):
                self.end_program = True


def compensation_module(line: int):
    """Cutter-radius compensation (compensation.py): fails closed while it is not installed."""
    try:
        from . import compensation
    except ImportError:
        raise Alarm("PS0010", line, "G41/G42 cutter radius compensation is not available in this build")
    return compensation


# ------------------------------------------------------------------------------------------------ geometry

def arc_centre(start, end, clockwise: bool, r: float | None, i: float | None, j: float | None,
               tolerance: float, line: int) -> tuple:
    """Arc centre in a plane's (first, second) axes, where G03 is counter-clockwise. R (negative: more than
    180°) or I/J (incremental from the start). PS0022 without either; PS0020 when the end is off the circle by
    more than ``tolerance``; R with the end on the start makes no move (FANUC), reported as PS0022 here."""
    (u0, v0), (u1, v1) = start, end
    if r is not None:
        du, dv = u1 - u0, v1 - v0
        chord = math.hypot(du, dv)
        if abs(r) < EPS or chord < EPS:
            raise Alarm("PS0022", line, "an R arc needs R ≠ 0 and an end point different from its start")
        half = chord / 2.0
        if half - abs(r) > tolerance:
            raise Alarm("PS0020", line, f"R{abs(r):.3f} is shorter than half the chord {half:.3f}")
        depth = math.sqrt(max(r * r - half * half, 0.0))
        left = (-dv / chord, du / chord)
        side = -1.0 if clockwise else 1.0     # the minor CCW arc has its centre on the left of the chord
        if r < 0:
            side = -side
        return ((u0 + u1) / 2.0 + side * depth * left[0], (v0 + v1) / 2.0 + side * depth * left[1])
    if i is None and j is None:
        raise Alarm("PS0022", line, "G02/G03 without R or I, J, K")
    centre = (u0 + (i or 0.0), v0 + (j or 0.0))
    r0 = math.hypot(u0 - centre[0], v0 - centre[1])
    r1 = math.hypot(u1 - centre[0], v1 - centre[1])
    if abs(r1 - r0) > tolerance:
        raise Alarm("PS0020", line, f"start radius {r0:.4f} and end radius {r1:.4f} differ by more than {tolerance}")
    if r0 < EPS:
        raise Alarm("PS0022", line, "arc radius 0")
    return centre
