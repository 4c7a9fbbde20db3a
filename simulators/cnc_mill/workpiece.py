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

Contact within ``CONTACT_TOL`` (1e-6 mm) is not a crash. Material and contact checks are evaluated at
the heightmap's cell centres (0.1 mm by default), which the exact model shares; a penetration narrower
than a cell can be missed (docs/mill-stock.md). A crashing move still removes what it swept, and the
caller stops the run.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..core.motion import Motion
from .heightmap import Heightmap
from .stock import ExactModel, RawStock, Sweep, bottom, make_sweeps
from .tools import Piece, Tool, default_tools, spindle_nose

CONTACT_TOL = 1e-6      # mm
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
    def from_dict(cls, data: Mapping[str, Any]) -> "StockSpec":
        known = {f.name for f in dataclasses.fields(cls)}
        extra = set(data) - known
        if extra:
            raise KeyError(f"unknown stock key {sorted(extra)[0]!r}")
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
    def from_dict(cls, data: Mapping[str, Any]) -> "ViseSpec":
        known = {f.name for f in dataclasses.fields(cls)}
        extra = set(data) - known
        if extra:
            raise KeyError(f"unknown vise key {sorted(extra)[0]!r}")
        return cls(**{k: float(v) for k, v in data.items()})

    def boxes(self, raw: RawStock) -> List[Tuple[str, Tuple[float, float, float, float], float]]:
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


class Workpiece:
    """Stock in the vise + tools; :meth:`apply` one motion at a time."""

    def __init__(self, stock: Optional[StockSpec] = None, vise: Optional[ViseSpec] = None,
                 tools: Optional[Mapping[int, Tool]] = None,
                 part_origin: Sequence[float] = DEFAULT_PART_ORIGIN, cell: float = 0.1):
        self.spec = stock or StockSpec()
        self.vise = vise or ViseSpec()
        self.tools: Dict[int, Tool] = dict(tools if tools is not None else default_tools())
        self.part_origin = tuple(float(v) for v in part_origin)
        self.raw = self.spec.raw()
        self.model = ExactModel(self.raw)
        self.grid = Heightmap(self.raw, cell)
        self.fixtures = self.vise.boxes(self.raw)

    # ------------------------------------------------------------------------------------- frames
    def to_work(self, point: Sequence[float], drop: float = 0.0) -> Tuple[float, float, float]:
        """Machine gauge point -> work-frame point ``drop`` mm below it (the tip: drop = tool length)."""
        return (point[0] - self.part_origin[0], point[1] - self.part_origin[1],
                point[2] - self.part_origin[2] - drop)

    # ------------------------------------------------------------------------------------- apply
    def apply(self, motion: Motion) -> List[Crash]:
        """Apply one motion; returns the crashes it causes (empty when none)."""
        if motion.kind not in MOVE_KINDS:
            return []
        tool = self.tools.get(motion.tool) if motion.tool else None
        length = tool.length if tool else 0.0
        pieces = tool.pieces if tool else spindle_nose()
        start, end = self.to_work(motion.start, length), self.to_work(motion.end, length)
        centre = self.to_work(motion.centre, length) if motion.centre is not None else None
        kind = "arc" if motion.kind == "arc" else "line"
        tags = {"line": motion.line, "tool": motion.tool, "feed": motion.feed_mm_min, "rpm": motion.spindle_rpm}
        crashes: List[Crash] = []
        for sweep in make_sweeps(kind, start, end, pieces, centre, motion.clockwise, **tags):
            self._check_fixtures(sweep, tool, motion, crashes)
            if tool is None:
                self._check_body(sweep, "holder_contact", "spindle nose", sweep.pieces, motion, crashes)
                continue
            self._cut(sweep, tool, motion, crashes)
        return _first_of_each_kind(crashes)

    def _cut(self, sweep: Sweep, tool: Tool, motion: Motion, crashes: List[Crash]) -> None:
        body = tool.body_pieces()
        self._check_body(sweep, "too_deep", "the cutter above its flute length", body["flute_top"], motion, crashes)
        if "shank" in body:
            self._check_body(sweep, "holder_contact", "the shank", body["shank"], motion, crashes)
        self._check_body(sweep, "holder_contact", "the holder", body["holder"], motion, crashes)
        if not self._may_reach(sweep.box):
            return
        self.model.add(sweep)
        win = self.grid.window(sweep.box)
        if win is None:
            return
        b = self.grid.sweep_bottom(sweep, win)
        depth = self.grid.z[win] - np.maximum(b, self.grid.floor[win])
        deepest = float(depth.max())
        if deepest > CONTACT_TOL:
            self._classify(sweep, tool, motion, deepest, crashes)
        self.grid.lower(win, b)

    def _may_reach(self, box) -> bool:
        x0, x1, y0, y1 = self.raw.footprint
        return box[0] < x1 and box[1] > x0 and box[2] < y1 and box[3] > y0 and box[4] < self.raw.z_range[1]

    def _classify(self, sweep: Sweep, tool: Tool, motion: Motion, deepest: float, crashes: List[Crash]) -> None:
        where = f"{deepest:.4f} mm of material with T{tool.number}"
        if motion.kind == "rapid":
            crashes.append(Crash("rapid_into_stock", motion.line, f"rapid move removes {where}"))
            return
        if motion.spindle_rpm <= 0.0:
            crashes.append(Crash("spindle_stopped_cut", motion.line, f"cutting with the spindle stopped: {where}"))
        if not tool.centre_cutting and sweep.end[2] < sweep.start[2] - 1e-9:
            crashes.append(Crash("non_centre_plunge", motion.line,
                                 f"T{tool.number} is not centre cutting and moves down into material ({where})"))

    def _check_body(self, sweep: Sweep, kind: str, part: str, pieces: Tuple[Piece, ...], motion: Motion,
                    crashes: List[Crash]) -> None:
        if sweep.z_low + min(p.bottom for p in pieces) >= self.raw.z_range[1] - CONTACT_TOL:
            return          # entirely above the raw stock's top
        body = dataclasses.replace(sweep, pieces=pieces)
        if not self._may_reach(body.box):
            return
        win = self.grid.window(body.box)
        if win is None:
            return
        top = self.grid.z[win]
        if float(top.max()) <= body.box[4] + CONTACT_TOL:
            return
        depth = top - np.maximum(self.grid.sweep_bottom(body, win, pieces), self.grid.floor[win])
        deepest = float(depth.max())
        if deepest > CONTACT_TOL:
            crashes.append(Crash(kind, motion.line, f"{part} of T{motion.tool} reaches {deepest:.4f} mm into material"))

    def _check_fixtures(self, sweep: Sweep, tool: Optional[Tool], motion: Motion, crashes: List[Crash]) -> None:
        highest = max(top for _, _, top in self.fixtures)
        if sweep.z_low + min(p.bottom for p in sweep.pieces) >= highest - CONTACT_TOL:
            return          # the tip is above every fixture; the rest of the tool is higher still
        pieces = sweep.pieces
        if tool is not None:
            body = tool.body_pieces()
            pieces = pieces + body["holder"] + body.get("shank", ())
        whole = dataclasses.replace(sweep, pieces=pieces)
        for name, (x0, x1, y0, y1), top in self.fixtures:
            bx0, bx1, by0, by1, low = whole.box
            if low >= top - CONTACT_TOL or bx0 >= x1 or bx1 <= x0 or by0 >= y1 or by1 <= y0:
                continue
            xs = _cell_centres(max(x0, bx0), min(x1, bx1), x0, self.grid.cell)
            ys = _cell_centres(max(y0, by0), min(y1, by1), y0, self.grid.cell)
            if xs.size == 0 or ys.size == 0:
                continue
            lowest = float(bottom(whole, xs[None, :], ys[:, None]).min())
            if lowest < top - CONTACT_TOL:
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

    def ray_hits(self, origin: Sequence[float], direction: Sequence[float]):
        from .measure import ray_hits
        return ray_hits(self, origin, direction)


def _cell_centres(lo: float, hi: float, anchor: float, cell: float) -> np.ndarray:
    """Centres of the cells of a grid anchored at ``anchor`` that lie in [lo, hi]."""
    first = math.ceil((lo - anchor) / cell - 0.5)
    last = math.floor((hi - anchor) / cell - 0.5)
    return anchor + (np.arange(first, last + 1) + 0.5) * cell


def _first_of_each_kind(crashes: List[Crash]) -> List[Crash]:
    seen, out = set(), []
    for crash in crashes:
        if crash.kind not in seen:
            seen.add(crash.kind)
            out.append(crash)
    return out
