"""Tool-path segments in *program* (work) coordinates, x as a radius.

The lathe interpreter resolves blocks into these, the canned cycles and nose-radius compensation
transform lists of them, and the interpreter finally turns them into machine-coordinate motions.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, Optional, Tuple

XZ = Tuple[float, float]  # (x radius, z), mm

SegmentKind = Literal["rapid", "feed", "arc", "thread"]


@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    start: XZ
    end: XZ
    line: int                      # 1-based program-file line of the block this comes from
    centre: Optional[XZ] = None    # arcs only
    clockwise: bool = False        # arcs: True for G02 (Z right, X up, seen from +Y)
    lead: float = 0.0              # threads only: mm per revolution along Z
    feed: Optional[float] = None   # F to use for this segment when it differs from the modal F (G70 ranges)

    def reversed(self) -> "Segment":
        return replace(self, start=self.end, end=self.start,
                       clockwise=(not self.clockwise) if self.kind == "arc" else self.clockwise)
