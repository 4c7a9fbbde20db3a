"""The workpiece in the vise: applies canonical motions to both stock models and detects crashes.

Frames
------
A mill :class:`~simulators.core.motion.Motion` holds the spindle GAUGE POINT in MACHINE coordinates.
The default setup puts the G54 origin (centre of the block's top face) at machine
``DEFAULT_PART_ORIGIN = (-400, -250, -420)``: X and Y near the middle of an 800 × 500 mm travel, and Z
such that the gauge line is at machine Z -420 when it lies on the top face (so ``G54 Z`` = -420 and
``G43 H n`` with ``H n`` = the gauge length puts the tip at the programmed Z). Then

    ``work = machine - part_origin`` and ``tip = work - (0, 0, tool.length)``.

At machine Z0 (reference) the gauge line is 420 mm above the top face.

Crashes (``Crash.kind``), evaluated before the move's material is removed:

* ``rapid_into_stock``: a rapid removes material;
* ``spindle_stopped_cut``: a feed or arc removes material at 0 rpm;
* ``non_centre_plunge``: a tool that is not centre cutting removes material while descending;
* ``too_deep``: material above the flute length within the cutting radius (the flutes are buried);
* ``holder_contact``: the shank (where wider than the cutter), the holder or, with no tool, the spindle
  nose touches material;
* ``vise_contact``: any part of the tool or holder touches a jaw or the vise bed under the stock.

Contact within ``CONTACT_TOL`` (1e-6 mm) is not a crash: the checks sweep the envelope moved inward by
that much (``Piece.shrunk``). They look at the heightmap's cell centres and, with the exact model, at
points every ``EDGE_SPACING`` mm along the edge of the sweep's footprint, where a sliver narrower than a
cell lies (docs/mill-stock.md gives the residual limit). A crashing move still removes what it swept,
and the caller stops the run.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.motion import Motion
from .heightmap import Heightmap
from .measure import Hit, ray_hits
from .stock import ExactModel, RawStock, Sweep, bottom, footprint_edge, make_sweeps
from .tools import Piece, Tool, default_tools, spindle_nose

CONTACT_TOL = 1e-6      # mm
EDGE_SPACING = 0.02     # mm between crash-check points along a sweep's footprint edge
EDGE_INSET = 1e-9       # mm: edge points sit just inside the (shrunk) footprint
DEFAULT_PART_ORIGIN = (-400.0, -250.0, -420.0)
MOVE_KINDS = ("rapid", "feed", "arc")


@dataclass(frozen=True)
class StockSpec:
    """A block (``kind='block'``: ``x`` × ``y`` × ``z`` mm) or a round bar lying along X in the vise
    (``kind='bar'``: ``length`` and ``diameter``). Work zero is the centre of the top face (line)."""

    kind: str = "block"
    x: float = 100.0
    y: float = 80.0
    z: float = 30.0
    length: float = 100.0
    diameter: float = 40.0
    material: str = "45 steel"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StockSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        extra = set(data) - known
        if extra:
            raise KeyError(f"unknown stock key {min(extra)!r}")
        values = {k: (str(v) if k in ("kind", "material") else float(v)) for k, v in data.items()}
        spec = cls(**values)
        if spec.kind not in ("block", "bar"):
            raise ValueError("stock: kind must be 'block' or 'bar'")
        if min(spec.x, spec.y, spec.z, spec.length, spec.diameter) <= 0.0:
            raise ValueError("stock: sizes must be positive")
        return spec

    def raw(self) -> RawStock:
        if self.kind == "bar":
            return RawStock("bar", (self.length, self.diameter, self.diameter))
        return RawStock("block", (self.x, self.y, self.z))


@dataclass(frozen=True)
class ViseSpec:
    """Machine vise: two jaws ``jaw_width`` long along X and ``jaw_thickness`` thick along Y, clamping
    the stock's Y faces from the bed up to ``jaw_top_below_top`` mm below the stock's top; the stock
    rests on the bed (with parallels) at its bottom face."""

    jaw_width: float = 150.0
    jaw_thickness: float = 20.0
    jaw_top_below_top: float = 12.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ViseSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        extra = set(data) - known
        if extra:
            raise KeyError(f"unknown vise key {min(extra)!r}")
        return cls(**{k: float(v) for k, v in data.items()})

    def boxes(self, raw: RawStock) -> list[tuple[str, tuple[float, float, float, float], float]]:
        """(name, (x0, x1, y0, y1), top z) of the jaws and the bed, work frame."""
        _, _, y0, y1 = raw.footprint
        half = self.jaw_width / 2.0
        top = raw.z_range[1] - self.jaw_top_below_top
        bed = raw.z_range[0]
        t = self.jaw_thickness
        return [("fixed jaw", (-half, half, y1, y1 + t), top),
                ("moving jaw", (-half, half, y0 - t, y0), top),
                ("vise bed", (-half, half, y0 - t, y1 + t), bed)]


@dataclass(frozen=True)
class Crash:
    kind: str        # rapid_into_stock | holder_contact | too_deep | non_centre_plunge | spindle_stopped_cut | vise_contact
    line: int
    detail: str = ""

    def to_dict(self) -> dict:
        return {"kind": self.kind, "line": self.line, "detail": self.detail}


@dataclass(frozen=True)
class TappedThread:
    """A thread a tap cut: axis (x, y) and heights in the work frame, mm.

    ``entry`` is where the tap's major diameter met material, ``bottom`` the tap tip's lowest point;
    the thread is full from ``entry`` down to ``bottom + 3.5 × pitch`` (the chamfer). ``synchronised``:
    feed = rpm × pitch (rigid or floating tapping as programmed); ``right_hand``: the spindle turned
    M03 on the way down; ``cut_core``: the tap removed its core, i.e. the pilot hole was missing or
    smaller than the thread's minor diameter (a real tap would break)."""

    x: float
    y: float
    entry: float
    bottom: float
    nominal: float
    pitch: float
    synchronised: bool
    right_hand: bool
    cut_core: bool
    line: int

    @property
    def full_depth(self) -> float:
        return max(0.0, self.entry - (self.bottom + 3.5 * self.pitch))

    def to_dict(self) -> dict:
        return {"x": self.x, "y": self.y, "entry": self.entry, "bottom": self.bottom,
                "nominal": self.nominal, "pitch": self.pitch, "full_depth": self.full_depth,
                "synchronised": self.synchronised, "right_hand": self.right_hand,
                "cut_core": self.cut_core, "line": self.line}


class Workpiece:
    """Stock in the vise + tools; :meth:`apply` one motion at a time."""

    def __init__(self, stock: StockSpec | None = None, vise: ViseSpec | None = None,
                 tools: Mapping[int, Tool] | None = None,
                 part_origin: Sequence[float] = DEFAULT_PART_ORIGIN, cell: float = 0.1):
        self.spec = stock or StockSpec()
        self.vise = vise or ViseSpec()
        self.tools: dict[int, Tool] = dict(tools if tools is not None else default_tools())
        self.part_origin = tuple(float(v) for v in part_origin)
        self.raw = self.spec.raw()
        self.model = ExactModel(self.raw)
        self.grid = Heightmap(self.raw, cell)
        self.fixtures = self.vise.boxes(self.raw)
        self.threads: list[TappedThread] = []
        self._bodies: dict[int, tuple[Tool, dict]] = {}     # tool number -> (tool, tool.body_pieces())

    # ------------------------------------------------------------------------------------- frames
    def to_work(self, point: Sequence[float], drop: float = 0.0) -> tuple[float, float, float]:
        """Machine gauge point -> work-frame point ``drop`` mm below it (the tip: drop = tool length)."""
        return (point[0] - self.part_origin[0], point[1] - self.part_origin[1],
                point[2] - self.part_origin[2] - drop)

    # ------------------------------------------------------------------------------------- apply
    def apply(self, motion: Motion) -> list[Crash]:
        """Apply one motion; returns the crashes it causes (empty when none)."""
        if motion.kind not in MOVE_KINDS:
            return []
        if motion.tool and motion.tool not in self.tools:
            raise ValueError(f"line {motion.line}: no tool {motion.tool} in the setup")
        tool = self.tools.get(motion.tool) if motion.tool else None
        length = tool.length if tool else 0.0
        pieces = tool.pieces if tool else spindle_nose()
        start, end = self.to_work(motion.start, length), self.to_work(motion.end, length)
        centre = self.to_work(motion.centre, length) if motion.centre is not None else None
        kind = "arc" if motion.kind == "arc" else "line"
        tags = {"line": motion.line, "tool": motion.tool, "feed": motion.feed_mm_min, "rpm": motion.spindle_rpm}
        crashes: list[Crash] = []
        plane = arc_plane(motion) if kind == "arc" else "xy"
        for sweep in make_sweeps(kind, start, end, pieces, centre, motion.clockwise, plane, **tags):
            self._check_fixtures(sweep, tool, motion, crashes)
            if tool is None:
                self._check_body(sweep, "holder_contact", "spindle nose", sweep.pieces, motion, crashes)
                continue
            self._cut(sweep, tool, motion, crashes)
        return _first_of_each_kind(crashes)

    def _cut(self, sweep: Sweep, tool: Tool, motion: Motion, crashes: list[Crash]) -> None:
        cached = self._bodies.get(tool.number)
        if cached is None or cached[0] is not tool:
            cached = self._bodies[tool.number] = (tool, tool.body_pieces())
        body = cached[1]
        self._check_body(sweep, "too_deep", "the cutter above its flute length", body["flute_top"], motion, crashes)
        if "shank" in body:
            self._check_body(sweep, "holder_contact", "the shank", body["shank"], motion, crashes)
        self._check_body(sweep, "holder_contact", "the holder", body["holder"], motion, crashes)
        if not self._may_reach(sweep.box):
            return
        kinds = self._crash_kinds(sweep, tool, motion)
        if kinds:
            deepest = self._penetration(dataclasses.replace(sweep, pieces=_shrunk(sweep.pieces)))
            if deepest > 0.0:
                where = f"{deepest:.4f} mm into material with T{tool.number}"
                crashes.extend(Crash(kind, motion.line, f"{text}: {where}") for kind, text in kinds)
        tapping = tool.kind == "tap" and sweep.vertical and sweep.end[2] < sweep.start[2] - 1e-9
        entry = self._tap_entry(sweep, tool) if tapping else None
        self.model.add(sweep)
        win = self.grid.window(sweep.box)
        removed = 0.0
        if win is not None and tapping:
            b = self.grid.sweep_bottom(sweep, win)
            removed = float((self.grid.z[win] - np.maximum(b, self.grid.floor_at(win))).max())
            self.grid.lower(win, b)
        elif win is not None:
            self.grid.lower_sweep(sweep, win)
        if entry is not None and entry > sweep.end[2]:
            synced = motion.spindle_rpm > 0 and abs(motion.feed_mm_min / motion.spindle_rpm - tool.pitch) <= 1e-6
            self.threads.append(TappedThread(sweep.end[0], sweep.end[1], entry, sweep.end[2], tool.diameter,
                                             tool.pitch, synced, motion.spindle_dir > 0,
                                             removed > CONTACT_TOL, motion.line))

    def _tap_entry(self, sweep: Sweep, tool: Tool) -> float | None:
        """Highest material top on the tap's major-diameter circle around its axis (None off the stock)."""
        r = tool.diameter / 2.0 - 1e-6
        angles = np.linspace(0.0, 2.0 * np.pi, 24, endpoint=False)
        xs, ys = sweep.end[0] + r * np.cos(angles), sweep.end[1] + r * np.sin(angles)
        x0, x1, y0, y1 = self.raw.footprint
        on = (xs > x0) & (xs < x1) & (ys > y0) & (ys < y1)
        if not on.any():
            return None
        top = np.maximum(self.model.tops(xs[on], ys[on]), self.raw.bottom0(xs[on], ys[on]))
        return float(top.max())

    def _penetration(self, sweep: Sweep) -> float:
        """Deepest cut of the sweep into the current material (mm, > 0 when it removes any): at the cell
        centres under it and at points every ``EDGE_SPACING`` mm along its footprint's edge, where a
        sliver narrower than a cell lies (exact material top there, from the exact model)."""
        deepest = -np.inf
        win = self.grid.window(sweep.box)
        if win is not None:
            b = self.grid.sweep_bottom(sweep, win)
            deepest = float((self.grid.z[win] - np.maximum(b, self.grid.floor_at(win))).max())
        if deepest > 0.0:
            return deepest
        xs, ys = _edges(sweep)
        x0, x1, y0, y1 = self.raw.footprint
        keep = (xs > x0) & (xs < x1) & (ys > y0) & (ys < y1)
        xs, ys = xs[keep], ys[keep]
        if len(xs) == 0:
            return deepest
        below = np.maximum(bottom(sweep, xs, ys), self.raw.bottom0(xs, ys))
        edge = float((self.model.tops(xs, ys, limit=below) - below).max())
        return max(deepest, edge)

    def _may_reach(self, box) -> bool:
        x0, x1, y0, y1 = self.raw.footprint
        return box[0] < x1 and box[1] > x0 and box[2] < y1 and box[3] > y0 and box[4] < self.raw.z_range[1]

    @staticmethod
    def _crash_kinds(sweep: Sweep, tool: Tool, motion: Motion) -> list[tuple[str, str]]:
        """The crashes this move is if it removes material."""
        if motion.kind == "rapid":
            return [("rapid_into_stock", "rapid move")]
        kinds = []
        if motion.spindle_rpm <= 0.0:
            kinds.append(("spindle_stopped_cut", "cutting with the spindle stopped"))
        if not tool.centre_cutting and sweep.end[2] < sweep.start[2] - 1e-9:
            kinds.append(("non_centre_plunge", f"T{tool.number} is not centre cutting and moves down"))
        return kinds

    def _check_body(self, sweep: Sweep, kind: str, part: str, pieces: tuple[Piece, ...], motion: Motion,
                    crashes: list[Crash]) -> None:
        if sweep.z_low + min(p.bottom for p in pieces) >= self.raw.z_range[1] - CONTACT_TOL:
            return          # entirely above the raw stock's top
        body = dataclasses.replace(sweep, pieces=pieces)
        if not self._may_reach(body.box):
            return
        deepest = self._penetration(dataclasses.replace(sweep, pieces=_shrunk(pieces)))
        if deepest > 0.0:
            crashes.append(Crash(kind, motion.line, f"{part} of T{motion.tool} reaches {deepest:.4f} mm into material"))

    def _check_fixtures(self, sweep: Sweep, tool: Tool | None, motion: Motion, crashes: list[Crash]) -> None:
        highest = max(top for _, _, top in self.fixtures)
        if sweep.z_low + min(p.bottom for p in sweep.pieces) >= highest - CONTACT_TOL:
            return          # the tip is above every fixture; the rest of the tool is higher still
        pieces = sweep.pieces
        if tool is not None:
            body = tool.body_pieces()
            pieces = pieces + body["holder"] + body.get("shank", ())
        whole = dataclasses.replace(sweep, pieces=pieces)
        inner = _shrunk(pieces)
        for name, (x0, x1, y0, y1), top in self.fixtures:
            bx0, bx1, by0, by1, low = whole.box
            if low >= top - CONTACT_TOL or bx0 >= x1 or bx1 <= x0 or by0 >= y1 or by1 <= y0:
                continue
            xs = _cell_centres(max(x0, bx0), min(x1, bx1), x0, self.grid.cell)
            ys = _cell_centres(max(y0, by0), min(y1, by1), y0, self.grid.cell)
            if xs.size == 0 or ys.size == 0:
                continue
            lowest = float(bottom(whole, xs[None, :], ys[:, None], inner).min())
            ex, ey = _edges(dataclasses.replace(whole, pieces=inner))
            on = (ex > x0) & (ex < x1) & (ey > y0) & (ey < y1)
            if on.any():
                lowest = min(lowest, float(bottom(whole, ex[on], ey[on], inner).min()))
            if lowest < top:
                crashes.append(Crash("vise_contact", motion.line,
                                     f"T{motion.tool} reaches {top - lowest:.4f} mm into the {name}"))

    # ------------------------------------------------------------------------------------- results
    def heightmap(self) -> np.ndarray:
        """Display array, float32, shape (ny, nx); see :mod:`simulators.cnc_mill.heightmap`."""
        return self.grid.export()

    def top(self, x: float, y: float) -> float:
        """Exact top of the material at (x, y), work frame (the raw bottom where cut through)."""
        z, _ = self.model.top(x, y)
        return max(z, float(self.raw.bottom0(x, y)))

    def ray_hits(self, origin: Sequence[float], direction: Sequence[float]) -> list[Hit]:
        """Every entry and exit of the ray (work frame) at distance > 0; see :mod:`.measure`."""
        return ray_hits(self, origin, direction)


def arc_plane(motion: Motion) -> str:
    """The arc's plane: ``motion.plane`` when the interpreter provides one ('xy', 'zx', 'yz' or G17/G18/
    G19), else inferred from the centre, which lies in the arc plane through the start point: G17 when
    its z is the start's (also when that is ambiguous), G18 when its y is, G19 when its x is."""
    given = getattr(motion, "plane", None)
    if given:
        return {"G17": "xy", "G18": "zx", "G19": "yz", 17: "xy", 18: "zx", 19: "yz"}.get(given, given)
    if motion.centre is None or abs(motion.centre[2] - motion.start[2]) <= 1e-9:
        return "xy"
    if abs(motion.centre[1] - motion.start[1]) <= 1e-9:
        return "zx"
    if abs(motion.centre[0] - motion.start[0]) <= 1e-9:
        return "yz"
    raise ValueError(f"line {motion.line}: arc centre {motion.centre} is in no plane through the start point")


def _edges(sweep: Sweep) -> tuple[np.ndarray, np.ndarray]:
    """Edge points of the footprint of each piece radius of the sweep, just inside it."""
    parts = [footprint_edge(sweep, a - EDGE_INSET, EDGE_SPACING) for a in sorted({p.a for p in sweep.pieces})]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _shrunk(pieces: tuple[Piece, ...]) -> tuple[Piece, ...]:
    return tuple(p.shrunk(CONTACT_TOL) for p in pieces)


def _cell_centres(lo: float, hi: float, anchor: float, cell: float) -> np.ndarray:
    """Centres of the cells of a grid anchored at ``anchor`` that lie in [lo, hi]."""
    first = math.ceil((lo - anchor) / cell - 0.5)
    last = math.floor((hi - anchor) / cell - 0.5)
    return anchor + (np.arange(first, last + 1) + 0.5) * cell


def _first_of_each_kind(crashes: list[Crash]) -> list[Crash]:
    seen, out = set(), []
    for crash in crashes:
        if crash.kind not in seen:
            seen.add(crash.kind)
            out.append(crash)
    return out
