"""The mill's tool-path pieces, in *program* (work) coordinates after the program's own transforms.

The mill interpreter resolves blocks into :class:`Segment` (after G52/G68/G51/G51.1 and polar input,
before G43 length offsets and work offsets turn them into machine motions), cutter-radius compensation
(compensation.py) transforms streams of them, and the canned cycles (cycles.py) produce lists of
segments and :class:`Action` (dwell, spindle changes) for one hole.

Planes. Each plane names its two axes (first, second) and the axis normal to it, as indices into
(x, y, z): G17 = (X, Y | Z), G18 = (Z, X | Y), G19 = (Y, Z | X). ``clockwise`` (G02) is seen from
the + end of the normal axis, i.e. in the (first right, second up) view; G18 is therefore seen from +Y
with Z to the right and X up, as FANUC defines it. Drilling cycles drill along the normal axis.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

XYZ = tuple[float, float, float]   # mm
UV = tuple[float, float]           # a point in the (first, second) axes of a plane, mm

SegmentKind = Literal["rapid", "feed", "arc"]
Plane = Literal["G17", "G18", "G19"]

# plane -> (first axis, second axis, normal axis) as indices into (x, y, z)
PLANE_AXES: dict[str, tuple[int, int, int]] = {"G17": (0, 1, 2), "G18": (2, 0, 1), "G19": (1, 2, 0)}


@dataclass(frozen=True)
class Segment:
    """One straight or circular move of the programmed point (the tool centre once compensated).

    kind: ``rapid`` (G00), ``feed`` (G01 and cycle feeds), ``arc`` (G02/G03, helical when the
    normal-axis coordinate of start and end differ). centre: arcs only, a full (x, y, z) point whose
    plane coordinates are the arc centre (its normal coordinate is not used). feed: mm/min for this
    move when it differs from the modal F (tapping), else None. lead: mm per spindle revolution for
    spindle-synchronised tapping feeds (G74/G84), else 0.
    """

    kind: SegmentKind
    start: XYZ
    end: XYZ
    line: int                       # 1-based program-file line of the block this comes from
    centre: XYZ | None = None
    clockwise: bool = False         # arcs: True for G02, seen from + normal axis
    plane: Plane = "G17"
    feed: float | None = None
    lead: float = 0.0

    def reversed(self) -> Segment:
        return replace(self, start=self.end, end=self.start,
                       clockwise=(not self.clockwise) if self.kind == "arc" else self.clockwise)


ActionKind = Literal["dwell", "spindle", "orient", "manual"]


@dataclass(frozen=True)
class Action:
    """A non-moving step of a canned cycle, in the order it happens between segments.

    * ``dwell``: wait ``seconds`` (G82/G88/G89 P, G74/G84/G76 P at the bottom).
    * ``spindle``: set the spindle direction: ``direction`` +1 = CW (M03), -1 = CCW (M04), 0 = stop (M05).
      The speed stays the modal S.
    * ``orient``: oriented spindle stop (M19) before the G76/G87 shift; the spindle stays stopped.
    * ``manual``: G88 stops for a manual retract; the simulator then retracts automatically (the
      rapid that follows is that retract), see docs/mill-cycles.md.
    """

    kind: ActionKind
    line: int
    seconds: float = 0.0
    direction: int = 0


Step = Segment | Action


def plane_point(p: XYZ, plane: str) -> UV:
    """The (first, second) coordinates of ``p`` in ``plane``."""
    a, b, _ = PLANE_AXES[plane]
    return (p[a], p[b])


def normal_coordinate(p: XYZ, plane: str) -> float:
    return p[PLANE_AXES[plane][2]]


def from_plane(uv: UV, normal: float, plane: str) -> XYZ:
    """The (x, y, z) point with plane coordinates ``uv`` and normal-axis coordinate ``normal``."""
    a, b, n = PLANE_AXES[plane]
    out = [0.0, 0.0, 0.0]
    out[a], out[b], out[n] = uv[0], uv[1], normal
    return (out[0], out[1], out[2])
