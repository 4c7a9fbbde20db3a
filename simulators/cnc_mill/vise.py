"""The vise on the table and the stock in it: placement, clamping, cutting, and the stock the browser has.

The jaws are fixed on the table where the setup puts them: their tops are ``jaw_top_below_top`` below the setup's
part origin Z. The stock goes in against the fixed jaw (Y as in the setup) standing ``protrusion`` mm out of the
jaws, so its top centre (the stock frame's origin) is at machine ``part origin + (0, 0, protrusion − jaw depth)``.
Cutting while the vise is open is the session crash ``stock_not_clamped`` (the part would be thrown).

Updates for the browser: the whole stock when it is loaded, unloaded or clamped; otherwise the changed heightmap
tiles (tiles.py). While a replay folds events (``quiet``) no update is built; :meth:`ViseStation.end_quiet` takes
the heightmap as sent.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from ..core.motion import Motion
from ..core.panel import Rejected
from .machine import MillSetup
from .tiles import TileTracker, motion_box
from .tools import Tool
from .workpiece import Workpiece

UNCLAMPED = "stock_not_clamped"


@dataclasses.dataclass(frozen=True)
class UnclampedCut:
    """A crash of the session (not of the stock model): material removed while the vise is open."""

    line: int
    kind: str = UNCLAMPED

    def to_dict(self) -> dict:
        return {"kind": self.kind, "line": self.line, "detail": "the vise is open: the stock is not clamped"}


class ViseStation:
    def __init__(self, setup: MillSetup):
        self.setup = setup
        self.closed = False
        self.protrusion = setup.vise.jaw_top_below_top
        self.workpiece: Workpiece | None = None
        self.tiles: TileTracker | None = None
        self.changed = False            # loaded, unloaded or clamped since the last update
        self.quiet = False

    # ------------------------------------------------------------------------------------------ placement
    def part_origin(self) -> tuple[float, float, float]:
        """Machine position of the stock frame's origin (the raw top face's centre)."""
        ox, oy, oz = self.setup.part_origin
        return (ox, oy, oz - self.setup.vise.jaw_top_below_top + self.protrusion)

    def load(self, protrusion: float | None, tools: Mapping[int, Tool]) -> dict:
        if self.workpiece is not None:
            raise Rejected("a stock is already in the vise")
        if self.closed:
            raise Rejected("open the vise first")
        stock = self.setup.stock
        height = stock.z if stock.kind == "block" else stock.diameter
        protrusion = self.setup.vise.jaw_top_below_top if protrusion is None else float(protrusion)
        if not 0.0 < protrusion < height:
            raise Rejected(f"the stock must stand out of the jaws by more than 0 and less than its height {height:g}")
        self.protrusion = protrusion
        vise = dataclasses.replace(self.setup.vise, jaw_top_below_top=protrusion)
        self.workpiece = Workpiece(stock, vise, dict(tools), self.part_origin())
        self.tiles = TileTracker(self.workpiece.grid)
        self.changed = True
        return {"part_origin": list(self.part_origin())}

    def unload(self) -> dict:
        if self.workpiece is None:
            raise Rejected("no stock in the vise")
        if self.closed:
            raise Rejected("open the vise first")
        self.workpiece, self.tiles = None, None
        self.changed = True
        return {}

    def clamp(self, closed: bool) -> dict:
        if closed == self.closed:
            raise Rejected("the vise is already " + ("closed" if closed else "open"))
        self.closed = closed
        self.changed = True
        return {"vise_closed": closed}

    def set_tools(self, tools: Mapping[int, Tool]) -> None:
        if self.workpiece is not None:
            self.workpiece.tools = dict(tools)

    # ------------------------------------------------------------------------------------------ cutting
    def cut(self, motion: Motion) -> list:
        """Apply a move to the stock (``motion.tool`` 0: only the spindle nose, which never cuts)."""
        if self.workpiece is None:
            return []
        box = self._box(motion) if motion.tool else None
        before = self._window(box) if box is not None and not self.closed else None
        crashes = list(self.workpiece.apply(motion))
        if box is not None:
            self.tiles.touch(box)
        if before is not None and bool(np.any(self.workpiece.grid.z[before[0]] < before[1] - 1e-9)):
            crashes.append(UnclampedCut(motion.line))
        return crashes

    def _box(self, motion: Motion) -> tuple:
        wp = self.workpiece
        tool = wp.tools.get(motion.tool)
        start, end = wp.to_work(motion.start), wp.to_work(motion.end)
        centre = wp.to_work(motion.centre) if motion.centre is not None else None
        return motion_box(start, end, centre, tool.radius if tool else 0.0, motion.kind == "arc")

    def _window(self, box: tuple):
        win = self.workpiece.grid.window((*box, 0.0))
        return None if win is None else (win, self.workpiece.grid.z[win].copy())

    # ------------------------------------------------------------------------------------------ the browser
    def stock_change(self) -> dict | None:
        if self.quiet:
            return None
        tiles = self.tiles.changed() if self.tiles is not None else []
        if self.changed:
            self.changed = False
            return self.view()
        return {"tiles": tiles} if tiles else None

    def end_quiet(self) -> None:
        """After a replay: the heightmap as it is now counts as sent; updates go on from there."""
        self.quiet = False
        self.changed = False
        if self.tiles is not None:
            self.tiles.sync()

    def view(self) -> dict:
        out = {"loaded": self.workpiece is not None, "vise_closed": self.closed, "protrusion": self.protrusion,
               "spec": dataclasses.asdict(self.setup.stock), "part_origin": list(self.part_origin())}
        if self.tiles is not None:
            out["heightmap"] = self.tiles.describe()
            out["tiles"] = self.tiles.all_cut()
        return out


__all__ = ["UNCLAMPED", "UnclampedCut", "ViseStation"]
