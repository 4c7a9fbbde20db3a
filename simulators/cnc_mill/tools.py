"""Milling tools: the cutting envelope as exact revolved pieces, plus shank and holder for crash checks.

Frame
-----
Every tool turns about the spindle axis (vertical). Heights ``h`` are measured up the axis from the tool
tip (its lowest point), radii ``ρ`` from the axis, millimetres. ``length`` is the gauge length: from the
spindle gauge line down to the tip, so ``tip = gauge point - (0, 0, length)``.

Cutting envelope
----------------
The envelope is a union of :class:`Piece` s. Each piece is *upward closed* (it contains everything above
each of its points within its radius) and its radius profile ``r(h)`` is concave and non-decreasing, so
the inverse profile ``h_inv(d)`` (the lowest height at which the piece reaches radius ``d``) is convex.
Those two facts make a line sweep of a piece a convex solid whose lower surface is a convex function of
(x, y); :mod:`simulators.cnc_mill.stock` relies on them. Above the flute length the real tool is its
shank and holder: touching material there is a crash, so extending the envelope upward never changes
the part of a run that does not crash.

Piece kinds
-----------
``cone``  ``r(h) = min(a, r0 + k (h - h0))`` for ``h >= h0``: a flat end (``r0 = a``), a drill point
          (``r0 = 0``, ``k = tan(point angle / 2)``), a tap chamfer or a centre-drill countersink;
``ball``  a sphere of radius ``a`` centred at height ``h0`` with the cylinder above it;
``bull``  a flat end of radius ``a - rc`` rounded by a torus of tube radius ``rc``, bottom at ``h0``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

KINDS = ("flat", "ball", "bull", "face", "centre_drill", "drill", "reamer", "tap", "boring")
SPINDLE_NOSE_RADIUS = 35.0     # BT40 spindle nose, used when no tool is in the spindle


@dataclass(frozen=True)
class Piece:
    """One upward-closed, concave revolved piece of a cutting envelope (see the module docstring)."""

    kind: str           # cone | ball | bull
    a: float            # largest radius, mm
    h0: float = 0.0     # cone/bull: height of the bottom; ball: height of the sphere centre, mm
    r0: float = 0.0     # cone: radius at h0, mm
    k: float = 1.0      # cone: radius growth per mm of height (tan of the half angle)
    rc: float = 0.0     # bull: corner radius, mm

    @property
    def is_flat(self) -> bool:
        return self.kind == "cone" and self.r0 >= self.a

    @property
    def bottom(self) -> float:
        """Lowest height of the piece above the tool tip, mm."""
        return self.h0 - self.a if self.kind == "ball" else self.h0

    def shrunk(self, tol: float) -> Piece:
        """The piece moved inward by at least ``tol`` along every surface normal: contact closer than
        ``tol`` with the shrunk piece's sweep is no penetration."""
        if self.kind == "ball":
            return Piece("ball", self.a - tol, self.h0)
        r0 = self.a - tol if self.r0 >= self.a else max(self.r0 - tol, 0.0)
        return Piece(self.kind, self.a - tol, self.h0 + tol, r0=r0, k=self.k, rc=self.rc)

    def radius_at(self, h: float) -> float:
        """Radius of the piece at height ``h``; -1 below the piece."""
        if self.kind == "cone":
            return -1.0 if h < self.h0 else min(self.a, self.r0 + self.k * (h - self.h0))
        if self.kind == "ball":
            if h < self.h0 - self.a:
                return -1.0
            return self.a if h >= self.h0 else math.sqrt(max(self.a ** 2 - (self.h0 - h) ** 2, 0.0))
        if h < self.h0:
            return -1.0
        if h >= self.h0 + self.rc:
            return self.a
        u = self.rc - (h - self.h0)
        return self.a - self.rc + math.sqrt(max(self.rc ** 2 - u * u, 0.0))

    def radius_array(self, h: np.ndarray) -> np.ndarray:
        """:meth:`radius_at` over an array of heights."""
        h = np.asarray(h, dtype=float)
        if self.kind == "cone":
            return np.where(h >= self.h0, np.minimum(self.a, self.r0 + self.k * (h - self.h0)), -1.0)
        if self.kind == "ball":
            cap = np.sqrt(np.maximum(self.a ** 2 - (self.h0 - h) ** 2, 0.0))
            return np.where(h < self.h0 - self.a, -1.0, np.where(h >= self.h0, self.a, cap))
        u = self.rc - (h - self.h0)
        torus = self.a - self.rc + np.sqrt(np.maximum(self.rc ** 2 - u * u, 0.0))
        return np.where(h < self.h0, -1.0, np.where(h >= self.h0 + self.rc, self.a, torus))

    def h_inv(self, d: np.ndarray) -> np.ndarray:
        """Lowest height at which the piece reaches radius ``d`` (array, mm); +inf beyond ``a``."""
        d = np.asarray(d, dtype=float)
        if self.kind == "cone" and self.r0 >= self.a:
            return np.where(d <= self.a, self.h0, np.inf)
        if self.kind == "ball":
            return np.where(d <= self.a, self.h0 - np.sqrt(np.maximum(self.a * self.a - d * d, 0.0)), np.inf)
        out = np.full(d.shape, np.inf)
        inside = d <= self.a
        di = d[inside]
        if self.kind == "cone":
            if self.r0 >= self.a:
                out[inside] = self.h0
            else:
                out[inside] = self.h0 + np.maximum(di - self.r0, 0.0) / self.k
        elif self.kind == "ball":
            out[inside] = self.h0 - np.sqrt(np.maximum(self.a * self.a - di * di, 0.0))
        else:
            flat = self.a - self.rc
            u = np.maximum(di - flat, 0.0)
            out[inside] = self.h0 + self.rc - np.sqrt(np.maximum(self.rc * self.rc - u * u, 0.0))
        return out


@dataclass(frozen=True)
class Tool:
    """One tool in its holder. Lengths in mm, angles in degrees.

    ``length`` is the gauge length (gauge line to tip, what ``H n`` holds); ``holder_length`` is the
    distance from the gauge line down to the holder's nose face, so the tool sticks out
    ``length - holder_length`` below the holder. The holder is taken as a cylinder of
    ``holder_diameter`` from its nose face up (the spindle nose is above it and no narrower).
    """

    number: int
    kind: str
    diameter: float
    flute_length: float
    length: float
    shank_diameter: float
    holder_diameter: float
    holder_length: float
    flutes: int = 2
    centre_cutting: bool = True
    corner_radius: float = 0.0      # bull nose; also the end-edge radius used for floor Ra (0 = sharp)
    point_angle: float = 0.0        # drills, centre drills
    pitch: float = 0.0              # taps
    pilot_diameter: float = 0.0     # centre drills
    name: str = ""
    pieces: tuple[Piece, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown tool kind {self.kind!r} (one of {', '.join(KINDS)})")
        if min(self.diameter, self.flute_length, self.length, self.holder_diameter) <= 0.0:
            raise ValueError(f"tool {self.number}: sizes must be positive")
        if not 0.0 < self.holder_length < self.length:
            raise ValueError(f"tool {self.number}: the holder nose must be between gauge line and tip")
        if not self.pieces:
            object.__setattr__(self, "pieces", _cutting_pieces(self))

    @property
    def radius(self) -> float:
        """Largest radius of the cutting envelope, mm (what ``D n`` holds for end mills)."""
        return max(p.a for p in self.pieces)

    @property
    def holder_height(self) -> float:
        """Height of the holder's nose face above the tip, mm."""
        return self.length - self.holder_length

    def radius_at(self, h: float) -> float:
        """Radius of the cutting envelope at height ``h`` above the tip; -1 below the tip."""
        return max(p.radius_at(h) for p in self.pieces)

    def h_inv(self, d: np.ndarray) -> np.ndarray:
        """Lowest point of the envelope at distance ``d`` from the axis (array, mm above the tip)."""
        out = self.pieces[0].h_inv(d)
        for piece in self.pieces[1:]:
            out = np.minimum(out, piece.h_inv(d))
        return out

    def body_pieces(self) -> dict[str, tuple[Piece, ...]]:
        """Non-cutting parts as flat pieces: ``flute_top`` (the cutting radius above the flute length:
        material there means the cut is deeper than the flutes), ``shank`` (only where wider than the
        cutting radius) and ``holder``."""
        out = {"flute_top": (Piece("cone", self.radius, self.flute_length, r0=self.radius),),
               "holder": (Piece("cone", self.holder_diameter / 2.0, self.holder_height,
                                r0=self.holder_diameter / 2.0),)}
        if self.shank_diameter / 2.0 > self.radius:
            out["shank"] = (Piece("cone", self.shank_diameter / 2.0, self.flute_length,
                                  r0=self.shank_diameter / 2.0),)
        return out

    def to_dict(self) -> dict:
        return {"number": self.number, "kind": self.kind, "name": self.name, "diameter": self.diameter,
                "flute_length": self.flute_length, "length": self.length, "flutes": self.flutes,
                "centre_cutting": self.centre_cutting, "corner_radius": self.corner_radius,
                "point_angle": self.point_angle, "pitch": self.pitch,
                "shank_diameter": self.shank_diameter, "holder_diameter": self.holder_diameter,
                "holder_length": self.holder_length}


def _cutting_pieces(tool: Tool) -> tuple[Piece, ...]:
    r = tool.diameter / 2.0
    if tool.kind in ("flat", "face", "boring"):
        return (Piece("cone", r, 0.0, r0=r),)
    if tool.kind == "ball":
        return (Piece("ball", r, r),)
    if tool.kind == "bull":
        if not 0.0 < tool.corner_radius <= r:
            raise ValueError(f"tool {tool.number}: a bull nose needs 0 < corner radius <= radius")
        return (Piece("bull", r, 0.0, rc=tool.corner_radius),)
    if tool.kind == "drill":
        return (Piece("cone", r, 0.0, r0=0.0, k=math.tan(math.radians(tool.point_angle / 2.0))),)
    if tool.kind == "reamer":       # 45° entry chamfer of 0.2 mm
        return (Piece("cone", r, 0.0, r0=r - 0.2, k=1.0),)
    if tool.kind == "tap":
        return _tap_pieces(tool)
    return _centre_drill_pieces(tool)


def _tap_pieces(tool: Tool) -> tuple[Piece, ...]:
    """A tap removes its core: the internal thread's minor diameter D1 = D - 1.082532 P (ISO 68-1, the
    same as its nominal drill size within 0.13 mm), entered by a chamfer of 3.5 threads from 0.8 D1. The
    thread flanks between D1 and D are not modelled as removed material (see docs/mill-stock.md)."""
    core = (tool.diameter - 1.082532 * tool.pitch) / 2.0
    tip = 0.8 * core
    chamfer = 3.5 * tool.pitch
    return (Piece("cone", core, 0.0, r0=tip, k=(core - tip) / chamfer),)


def _centre_drill_pieces(tool: Tool) -> tuple[Piece, ...]:
    """A-type centre drill (ISO 866): pilot of ``pilot_diameter`` with a 118° point, pilot length
    1.3 × its diameter, then a 60° countersink up to the body diameter. The profile is not concave, so
    it is two pieces: the pilot (extended upward) and the countersink cone."""
    rp = tool.pilot_diameter / 2.0
    k_point = math.tan(math.radians(tool.point_angle / 2.0))
    pilot_top = rp / k_point + 1.3 * tool.pilot_diameter
    return (Piece("cone", rp, 0.0, r0=0.0, k=k_point),
            Piece("cone", tool.diameter / 2.0, pilot_top, r0=rp, k=math.tan(math.radians(30.0))))


def default_tools() -> dict[int, Tool]:
    """T1–T7 of the default mill setup (docs/mill-stock.md). Holders: BT40 side-lock or ER32 collet
    chucks, nose diameters 32–50 mm."""
    tools = [
        Tool(1, "flat", 10.0, 25.0, 95.0, 10.0, 32.0, 55.0, flutes=4, name="Ø10 flat end mill"),
        Tool(2, "flat", 6.0, 15.0, 85.0, 6.0, 32.0, 60.0, flutes=3, name="Ø6 flat end mill"),
        Tool(3, "ball", 8.0, 19.0, 90.0, 8.0, 32.0, 60.0, flutes=2, name="Ø8 ball end mill"),
        Tool(4, "centre_drill", 8.0, 10.0, 95.0, 8.0, 40.0, 70.0, flutes=2, point_angle=118.0,
             pilot_diameter=3.0, name="Ø3 centre drill (A3, body Ø8)"),
        Tool(5, "drill", 8.5, 60.0, 145.0, 8.5, 32.0, 75.0, flutes=2, point_angle=118.0,
             name="Ø8.5 twist drill 118°"),
        Tool(6, "tap", 10.0, 20.0, 120.0, 10.0, 42.0, 70.0, flutes=3, pitch=1.5, name="M10×1.5 tap"),
        Tool(7, "flat", 16.0, 32.0, 110.0, 16.0, 50.0, 60.0, flutes=4, centre_cutting=False,
             name="Ø16 flat end mill, not centre-cutting"),
    ]
    return {t.number: t for t in tools}


def spindle_nose() -> tuple[Piece, ...]:
    """The bare spindle nose (no tool): a cylinder from the gauge line up."""
    return (Piece("cone", SPINDLE_NOSE_RADIUS, 0.0, r0=SPINDLE_NOSE_RADIUS),)
