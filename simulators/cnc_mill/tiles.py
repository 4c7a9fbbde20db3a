"""Heightmap tiles for the browser: only the tiles whose cells changed since the last update are sent.

The display heightmap (heightmap.py: float32 rounded down, (ny, nx), row 0 at the smallest Y, column 0 at the
smallest X, values the top Z of each cell centre in the work frame) is cut into TILE × TILE cell tiles (the last row and
column of tiles may be smaller). A tile goes out as

    {"row": r, "col": c, "rows": h, "cols": w, "encoding": "f4le+zlib",
     "z": base64 of the zlib stream of h × w little-endian float32, row-major}

where (r, c) is the tile's index (its first cell is (r × TILE, c × TILE)). The browser decodes ``z`` with
``new DecompressionStream("deflate")`` (the zlib format) and ``new Float32Array(buffer)``. Machined surfaces are
mostly flat, so a tile of 4 KiB usually deflates to a few hundred bytes (a faced 80 × 80 block: 2.5 MB → 72 KB).

Moves mark the tiles under their box dirty; :meth:`TileTracker.changed` looks only at those. What the browser has
is remembered as a 16-byte BLAKE2b digest of each tile's float32 bytes, not as a copy of the array (issue #9: a
copy was 2.6 MB for a 100 × 80 block, the digests are 13 KB); a changed tile has another digest except with
probability 2^-128.
"""
from __future__ import annotations

import base64
import hashlib
import math
import zlib

import numpy as np

from .heightmap import Heightmap

TILE = 32
ENCODING = "f4le+zlib"


def encode(values: np.ndarray) -> str:
    raw = np.ascontiguousarray(values, dtype="<f4").tobytes()
    return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")


class TileTracker:
    """Remembers which float32 tiles the browser has (their digests) and which tiles moves may have changed since."""

    def __init__(self, grid: Heightmap, tile: int = TILE):
        self.grid = grid
        self.tile = tile
        self.rows = math.ceil(grid.ny / tile)
        self.cols = math.ceil(grid.nx / tile)
        self.sent = self._digests()
        self.dirty: set[tuple[int, int]] = set()

    def describe(self) -> dict:
        """The grid geometry the browser needs to place tiles (work frame, mm)."""
        g = self.grid
        return {"shape": [g.ny, g.nx], "origin": [g.origin[0], g.origin[1]], "cell": [g.dx, g.dy],
                "tile": self.tile, "tiles": [self.rows, self.cols]}

    def touch(self, box: tuple[float, float, float, float]) -> None:
        """Mark the tiles under the xy box (x0, x1, y0, y1) of the work frame."""
        g = self.grid
        x0, x1, y0, y1 = box
        c0 = max(0, math.floor((x0 - g.origin[0]) / g.dx))
        c1 = min(g.nx - 1, math.floor((x1 - g.origin[0]) / g.dx))
        r0 = max(0, math.floor((y0 - g.origin[1]) / g.dy))
        r1 = min(g.ny - 1, math.floor((y1 - g.origin[1]) / g.dy))
        if c0 > c1 or r0 > r1:
            return
        for r in range(r0 // self.tile, r1 // self.tile + 1):
            for c in range(c0 // self.tile, c1 // self.tile + 1):
                self.dirty.add((r, c))

    def _window(self, r: int, c: int) -> tuple[slice, slice]:
        t = self.tile
        return slice(r * t, min((r + 1) * t, self.grid.ny)), slice(c * t, min((c + 1) * t, self.grid.nx))

    def _digests(self) -> dict[tuple[int, int], bytes]:
        now = self.grid.export()
        return {(r, c): digest(now[self._window(r, c)]) for r in range(self.rows) for c in range(self.cols)}

    def changed(self) -> list[dict]:
        """The dirty tiles whose values differ from what was sent; they become the sent state. The display
        values of the box of the dirty tiles are rounded in one numpy pass, then each tile is hashed."""
        if not self.dirty:
            return []
        t = self.tile
        r0, c0 = min(r for r, _ in self.dirty), min(c for _, c in self.dirty)
        r1, c1 = max(r for r, _ in self.dirty) + 1, max(c for _, c in self.dirty) + 1
        now = self.grid.display((slice(r0 * t, min(r1 * t, self.grid.ny)), slice(c0 * t, min(c1 * t, self.grid.nx))))
        out = []
        for r, c in sorted(self.dirty):
            values = now[(r - r0) * t:(r - r0 + 1) * t, (c - c0) * t:(c - c0 + 1) * t]
            key = digest(values)
            if key != self.sent[r, c]:
                self.sent[r, c] = key
                out.append(self._tile(r, c, values))
        self.dirty.clear()
        return out

    def sync(self) -> None:
        """Take the current heightmap as sent (after a replay that sent nothing)."""
        self.sent = self._digests()
        self.dirty.clear()

    def all_cut(self) -> list[dict]:
        """Every tile of the CURRENT heightmap that differs from the flat raw top (a reconnecting browser starts
        from the raw stock); independent of what updates were sent."""
        now = self.grid.export()
        t = self.tile
        differs = np.zeros((self.rows * t, self.cols * t), dtype=bool)
        differs[:now.shape[0], :now.shape[1]] = now != np.float32(self.grid.raw.z_range[1])
        cut = differs.reshape(self.rows, t, self.cols, t).any(axis=(1, 3))
        return [self._tile(int(r), int(c), now[self._window(r, c)]) for r, c in zip(*np.nonzero(cut))]

    @staticmethod
    def _tile(r: int, c: int, values: np.ndarray) -> dict:
        return {"row": r, "col": c, "rows": int(values.shape[0]), "cols": int(values.shape[1]), "encoding": ENCODING,
                "z": encode(values)}


def digest(values: np.ndarray) -> bytes:
    """What identifies a tile's values: BLAKE2b-128 of their little-endian float32 bytes, −0.0 made +0.0 first
    (adding +0.0 does it) so that equal digests mean equal values, as the float comparison they replace."""
    values = np.asarray(values, dtype="<f4") + np.float32(0.0)
    return hashlib.blake2b(values.tobytes(), digest_size=16).digest()


def decode(tile: dict) -> np.ndarray:
    """The tile's values as a (rows, cols) float32 array (the browser's decoding, for tests)."""
    raw = zlib.decompress(base64.b64decode(tile["z"]))
    return np.frombuffer(raw, dtype="<f4").reshape(tile["rows"], tile["cols"])


def motion_box(start, end, centre, radius: float, arc: bool) -> tuple[float, float, float, float]:
    """xy box (work frame) that a move of a tool of cutting ``radius`` can touch; an arc's whole circle."""
    xs, ys = [start[0], end[0]], [start[1], end[1]]
    if arc and centre is not None:
        r = math.dist(start, centre)        # the centre lies in the arc plane through the start point
        xs += [centre[0] - r, centre[0] + r]
        ys += [centre[1] - r, centre[1] + r]
    return min(xs) - radius, max(xs) + radius, min(ys) - radius, max(ys) + radius
