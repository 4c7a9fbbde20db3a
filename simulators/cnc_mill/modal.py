"""Modal state of the machining centre and the program's own coordinate transforms.

Everything here is frozen: a block builds the next state, so a block that raises an alarm changes nothing.

Power-on modes (default setup): G00 G17 G21 G40 G49 G54 G80 G90 G94, and G15 G50 G50.1 G69 G98; spindle
stopped, coolant off, F0, S0, no tool offset, the setup's initial tool in the spindle.

Transforms (FANUC order): a programmed point (local coordinates of the active work system) is mirrored
(G51.1), then scaled (G51), then rotated (G68), then shifted by the G52 local offset: that is the segment frame
(path.py). Cutter compensation works in that frame; work offset, external shift and tool length turn it into
the machine gauge point.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .path import PLANE_AXES

XYZ = tuple[float, float, float]


@dataclass(frozen=True)
class Modal:
    motion: str = "G00"              # group 01: G00 G01 G02 G03
    plane: str = "G17"               # group 02
    absolute: bool = True            # G90 (True) / G91
    feed_per_rev: bool = False       # G95 (True) / G94
    inch: bool = False               # G20 (True) / G21
    comp: str = "G40"                # group 07: G40 G41 G42
    d_number: int = 0                # active D (radius offset number)
    length_comp: str = "G49"         # group 08: G43 G44 G49
    h_number: int = 0                # active H (length offset number)
    work: str = "G54"                # G54..G59 or "G54.1P<n>"
    cycle: str = "G80"               # group 09: G80 or the canned cycle in force
    cycle_return: str = "G98"        # group 10: G98 initial level / G99 R level
    polar: bool = False              # G16 (True) / G15
    feed: float = 0.0                # F: mm/min (G94) or mm/rev (G95)
    speed: float = 0.0               # S, rpm
    spindle_dir: int = 0             # +1 M03, -1 M04, 0 stopped
    coolant: bool = False
    tool: int = 0                    # tool in the spindle (0 = none)
    selected: int = 0                # tool called by T, waiting for M06
    rigid_tap: bool = False          # M29 read: the next G74/G84 is a rigid tap


@dataclass(frozen=True)
class Transforms:
    """Mirror (G51.1), scaling (G51), rotation (G68) and the local shift (G52), in that order."""

    mirror: tuple[float | None, float | None, float | None] = (None, None, None)  # mirror axis values
    scale_centre: XYZ = (0.0, 0.0, 0.0)
    scale: XYZ = (1.0, 1.0, 1.0)     # G51 factors (negative: scaling mirror); (1, 1, 1) in G50
    scaling: bool = False
    rotation_plane: str = "G17"
    rotation_centre: tuple[float, float] = (0.0, 0.0)   # in the rotation plane's (first, second) axes
    rotation_deg: float = 0.0
    rotating: bool = False
    local: XYZ = (0.0, 0.0, 0.0)     # G52

    def apply(self, p: XYZ) -> XYZ:
        """Programmed point → segment frame."""
        q = list(p)
        for axis, about in enumerate(self.mirror):
            if about is not None:
                q[axis] = 2.0 * about - q[axis]
        if self.scaling:
            q = [c + f * (v - c) for v, c, f in zip(q, self.scale_centre, self.scale)]
        if self.rotating:
            q = self._rotate(q, self.rotation_deg)
        return (q[0] + self.local[0], q[1] + self.local[1], q[2] + self.local[2])

    def inverse(self, p: XYZ) -> XYZ:
        """Segment frame → programmed point (the inverse of :meth:`apply`)."""
        q = [p[0] - self.local[0], p[1] - self.local[1], p[2] - self.local[2]]
        if self.rotating:
            q = self._rotate(q, -self.rotation_deg)
        if self.scaling:
            q = [c + (v - c) / f for v, c, f in zip(q, self.scale_centre, self.scale)]
        for axis, about in enumerate(self.mirror):
            if about is not None:
                q[axis] = 2.0 * about - q[axis]
        return (q[0], q[1], q[2])

    def _rotate(self, q: list, degrees: float) -> list:
        a, b, _ = PLANE_AXES[self.rotation_plane]
        ca, cb = self.rotation_centre
        t = math.radians(degrees)
        du, dv = q[a] - ca, q[b] - cb
        q = list(q)
        q[a] = ca + du * math.cos(t) - dv * math.sin(t)
        q[b] = cb + du * math.sin(t) + dv * math.cos(t)
        return q

    def reverses(self, plane: str) -> bool:
        """True when the transforms mirror the plane (an odd number of flipped plane axes): G02 ↔ G03 and
        G41 ↔ G42 swap."""
        a, b, _ = PLANE_AXES[plane]
        flips = 0
        for axis in (a, b):
            flipped = self.mirror[axis] is not None
            if self.scaling and self.scale[axis] < 0:
                flipped = not flipped
            flips += flipped
        return flips % 2 == 1

    def arc_scale(self, plane: str) -> float | None:
        """The factor an arc's radius is scaled by in ``plane``; None when the plane axes scale differently
        (the arc would become an ellipse)."""
        if not self.scaling:
            return 1.0
        a, b, _ = PLANE_AXES[plane]
        fa, fb = abs(self.scale[a]), abs(self.scale[b])
        return fa if abs(fa - fb) < 1e-12 else None

    @property
    def identity(self) -> bool:
        return (not self.scaling and not self.rotating and self.mirror == (None, None, None)
                and self.local == (0.0, 0.0, 0.0))
