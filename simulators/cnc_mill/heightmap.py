"""The display heightmap: the exact model sampled at cell centres.

Array layout (what ``examctl sim mill --heightmap`` writes and the browser renders): shape ``(ny, nx)``,
row 0 at the smallest Y, column 0 at the smallest X, value the absolute top Z of the material column at
the cell centre in work coordinates, mm. Columns the tool went through keep the stock's bottom value.

Each move touches only the window of cells under its swept box, and the values come from the same
analytic bottom functions as the exact model (:func:`simulators.cnc_mill.stock.bottom`), evaluated in
float64, then stored as float32 rounded down (below).

Memory (issue #9: 8 MB per mill session). The grid ``z`` is stored once, as float32, and drawn as it is: 4 bytes
a cell (a 100 × 80 block at 0.1 mm: 3.2 MB). Values are rounded *down* (toward −∞), so a stored top is never above
the float64 one and never more than one float32 step below it (< 1.9e-6 mm for |z| < 32, < 3.8e-6 below 64).
That keeps the crash checks (workpiece.py: material above the envelope shrunk by 1e-6 mm) conservative: a contact
the float64 grid would have passed is never reported; only a penetration of a few µm at a cell centre can be
missed, below what the edge checks on the exact model already leave (docs/mill-stock.md). Measurements never read
this grid: they use the exact model (stock.py, measure.py). ``floor``, the raw stock's bottom, depends on Y only
for both stock kinds (a block, a bar lying along X), so it is one float64 column ``(ny, 1)`` that broadcasts
(:meth:`floor_at`), not a second ``(ny, nx)`` array.
"""
from __future__ import annotations

import math

import numpy as np

from .stock import RawStock, Sweep, bottom, segment_distance2

DOWN = np.float32(-np.inf)


class Heightmap:
    """float32 grid (rounded down) over the raw stock's footprint; ``cell`` in mm; ``floor`` broadcasts (see above)."""

    def __init__(self, raw: RawStock, cell: float = 0.1):
        if cell <= 0.0:
            raise ValueError("heightmap cell size must be positive")
        self.raw = raw
        self.cell = float(cell)
        x0, x1, y0, y1 = raw.footprint
        self.origin = (x0, y0)
        self.nx = max(1, round((x1 - x0) / cell))
        self.ny = max(1, round((y1 - y0) / cell))
        self.dx, self.dy = (x1 - x0) / self.nx, (y1 - y0) / self.ny     # = cell when it divides the stock
        self.xs = x0 + (np.arange(self.nx) + 0.5) * self.dx
        self.ys = y0 + (np.arange(self.ny) + 0.5) * self.dy
        self.floor = _floor(raw, self.xs, self.ys)
        self.z = round_down(raw.top0(self.xs[None, :], self.ys[:, None]))

    def window(self, box: tuple[float, float, float, float, float]) -> tuple[slice, slice] | None:
        """Row and column slices of the cells whose centres lie in the xy box, or None."""
        x0, x1, y0, y1 = box[:4]
        xs, ys = self.xs, self.ys           # the array methods: np.searchsorted's wrapper costs 2 µs a call
        c0 = int(xs.searchsorted(x0, "left"))
        c1 = int(xs.searchsorted(x1, "right"))
        r0 = int(ys.searchsorted(y0, "left"))
        r1 = int(ys.searchsorted(y1, "right"))
        if c0 >= c1 or r0 >= r1:
            return None
        return slice(r0, r1), slice(c0, c1)

    def coords(self, win: tuple[slice, slice]) -> tuple[np.ndarray, np.ndarray]:
        """Open-grid (x, y) cell centres of a window: shapes (1, nc) and (nr, 1)."""
        rows, cols = win
        return self.xs[cols][None, :], self.ys[rows][:, None]

    def sweep_bottom(self, sweep: Sweep, win: tuple[slice, slice], pieces=None) -> np.ndarray:
        x, y = self.coords(win)
        return bottom(sweep, x, y, pieces)

    def lower_sweep(self, sweep: Sweep, win: tuple[slice, slice]) -> None:
        """Lower the window under ``sweep`` to its bottom function: ``lower(win, sweep_bottom(sweep, win))``.
        For the commonest sweep (a flat end along a horizontal or vertical line) the bottom is one height
        over the cells within reach, so those cells are lowered in place without building the +inf array."""
        pieces = sweep.pieces
        if (len(pieces) == 1 and pieces[0].is_flat and sweep.kind == "line"
                and (sweep.horizontal or sweep.vertical)):       # as stock.bottom's first case
            x, y = self.coords(win)
            d2 = segment_distance2(sweep.start, sweep.end, x, y)
            cells = self.z[win]       # a strided view: copyto's mask is faster here than minimum(where=)
            level = round_down(np.float64(sweep.z_low + pieces[0].h0))
            np.copyto(cells, np.minimum(cells, level), where=d2 <= pieces[0].a ** 2)
            return
        self.lower(win, self.sweep_bottom(sweep, win))

    def floor_at(self, win: tuple[slice, slice]) -> np.ndarray:
        """The raw bottom under a window, broadcastable against ``z[win]`` (shape (nr, 1) or (nr, nc))."""
        rows, cols = win
        return self.floor[rows] if self.floor.shape[1] == 1 else self.floor[rows, cols]

    def display(self, win: tuple[slice, slice]) -> np.ndarray:
        """The float32 display values of a window: the top, or the bottom where cut through."""
        return np.maximum(self.z[win], self.floor_at(win).astype(np.float32))

    def lower(self, win: tuple[slice, slice], values: np.ndarray) -> None:
        """Lower the window to ``values`` (float64) where they are below the current top."""
        cells = self.z[win]
        np.minimum(cells, round_down(values), out=cells)

    def export(self) -> np.ndarray:
        """The float32 display array, shape (ny, nx)."""
        return self.display((slice(None), slice(None)))

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        """(row, column) of the cell containing (x, y)."""
        c = min(self.nx - 1, max(0, math.floor((x - self.origin[0]) / self.dx)))
        r = min(self.ny - 1, max(0, math.floor((y - self.origin[1]) / self.dy)))
        return r, c


def round_down(values):
    """float64 → float32 toward −∞: the largest float32 not above each value (+inf stays +inf)."""
    out = np.asarray(values, dtype=np.float32)
    if out.ndim == 0:
        return np.nextafter(out, DOWN) if out > values else out
    return np.nextafter(out, DOWN, out=out, where=out > values)


def _floor(raw: RawStock, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The raw bottom at the cell centres: one column when it is the same in the first and the last column
    (a block or a bar along X: it depends on Y only), else the full (ny, nx) array."""
    first = raw.bottom0(xs[:1][None, :], ys[:, None])
    if np.array_equal(first, raw.bottom0(xs[-1:][None, :], ys[:, None])):
        return first
    return raw.bottom0(xs[None, :], ys[:, None])
