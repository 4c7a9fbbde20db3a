"""Virtual measuring instruments on the exact turned part (docs/instruments.md).

``read(workpiece, instrument, **placement)`` answers what the instrument would show where the candidate
placed it: ``{"instrument", "value", "unit", "resolution", "message"}``. The value comes from the exact stock
(:mod:`simulators.cnc_lathe.measure`) and is rounded as the instrument is read; a placement the instrument
cannot measure gives ``value: None`` and a reason, never an exception.

Frame: the workpiece's work frame (``work = machine - part_origin``; Z0 at the stock's right end face of the
setup, X radial). Every x written by the candidate is a DIAMETER, as on the drawing.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import measure
from . import stock as st

TIE = 1e-9                      # mm: a value this close to half a division is read up (the next line)
CALIPER_JAW_DEPTH = 40.0        # mm: outside jaws of a 150 mm caliper reach this far past the part's edge
CALIPER_JAW_THICKNESS = 4.0     # mm: the outside jaws' measuring faces along the part's axis
CALIPER_INSIDE_DEPTH = 15.0     # mm: the inside (bore) jaws reach this deep from the open end
ANVIL_DIAMETER = 6.5            # mm: micrometer anvil and spindle faces
MICROMETER_STEP = 25.0          # mm: outside micrometers come in 0–25, 25–50, … ranges
RUNOUT_SAMPLES = 360            # angles a dial indicator is read at over one revolution


@dataclass(frozen=True)
class Instrument:
    """What the exam's tool cabinet holds: name, measuring range and the smallest division (mm)."""

    name: str
    low: float
    high: float
    resolution: float
    unit: str = "mm"


INSTRUMENTS: dict[str, Instrument] = {i.name: i for i in (
    Instrument("vernier_caliper", 0.0, 150.0, 0.02),
    Instrument("digital_caliper", 0.0, 150.0, 0.01),
    Instrument("micrometer", 0.0, 150.0, 0.01),
    Instrument("depth_gauge", 0.0, 150.0, 0.02),
    Instrument("dial_indicator", 0.0, 10.0, 0.01),
)}


# ------------------------------------------------------------------------------------------ readings

def round_to(value: float, resolution: float) -> float:
    """The nearest division, as a vernier or a thimble is read (half a division reads up)."""
    steps = math.floor(value / resolution + 0.5 + TIE)
    decimals = max(0, -math.floor(math.log10(resolution)) + 1)
    return round(steps * resolution, decimals)


def reading(spec: Instrument, value: float | None, message: str | None = None, **extra: Any) -> dict:
    """The reply of every instrument: the rounded value, or None and why not."""
    if value is not None and not spec.low - TIE <= value <= spec.high + TIE:
        value, message = None, f"cannot measure: {value:.3f} mm is outside the {spec.name}'s range " \
                               f"{spec.low:g}–{spec.high:g} mm"
    shown = None if value is None else round_to(value, spec.resolution)
    return {"instrument": spec.name, "value": shown, "unit": spec.unit, "resolution": spec.resolution,
            "message": message, **extra}


def cannot(spec: Instrument, reason: str, **extra: Any) -> dict:
    return reading(spec, None, f"cannot measure: {reason}", **extra)


def read(workpiece: Any, instrument: str, **placement: Any) -> dict:
    """Read ``instrument`` placed on the part as ``placement`` says (keywords per instrument: docs)."""
    spec = INSTRUMENTS.get(instrument)
    if spec is None:
        unknown = Instrument(str(instrument), 0.0, 0.0, 0.01)
        return cannot(unknown, f"no instrument {instrument!r} (one of {', '.join(INSTRUMENTS)})")
    try:
        return _READERS[instrument](workpiece, spec, **placement)
    except TypeError as error:      # a missing or unknown placement keyword
        return cannot(spec, f"bad placement ({error})")
    except ValueError as error:     # the exact model found nothing where the instrument was put
        return cannot(spec, str(error))


# ------------------------------------------------------------------------------------------ the part

def _stock(workpiece: Any) -> st.Stock:
    return workpiece.stock if isinstance(getattr(workpiece, "stock", None), st.Stock) else workpiece


def chuck_face_z(workpiece: Any) -> float | None:
    """Work z of the chuck jaw faces (the jaws cover the part left of it), None for a bare stock."""
    origin = getattr(workpiece, "part_origin", None)
    return None if origin is None else -float(origin[1])


def right_end(stock: st.Stock) -> float:
    """Work z of the part's right end (the rightmost z with material)."""
    for piece in reversed(stock.outer):
        mid = 0.5 * (piece.z0 + piece.z1)
        if piece.max_r() > 1e-9 and stock.has_material(mid):
            return piece.z1
    raise ValueError("no material left")


def _chuck_blocks(workpiece: Any, z_lo: float) -> bool:
    face = chuck_face_z(workpiece)
    return face is not None and z_lo < face


def outside_diameter(workpiece: Any, z: float, band: float) -> float:
    """What flat faces ``band`` mm wide along the axis read across the part at z: the largest outside
    diameter they straddle (a shoulder within the band holds them open)."""
    stock = _stock(workpiece)
    lo, hi = max(z - band / 2.0, stock.z_left), min(z + band / 2.0, right_end(stock))
    if hi <= lo or not stock.has_material(0.5 * (lo + hi)):
        raise ValueError(f"no material at Z{z:g}")
    return measure.diameter_over(stock, lo, hi, "max")


# ---------------------------------------------------------------------------------------- instruments

def _caliper(workpiece: Any, spec: Instrument, z: float, mode: str = "outside", angle: float = 0.0) -> dict:
    """Outside jaws across the part at z (``angle``: the jaws' direction, recorded; a turned surface
    reads the same at any angle), or inside jaws in the bore at z."""
    place = {"z": z, "mode": mode, "angle": angle}
    if mode == "inside":
        return _caliper_inside(workpiece, spec, z, place)
    if mode != "outside":
        return cannot(spec, f"mode {mode!r} is 'outside' or 'inside'", placement=place)
    if _chuck_blocks(workpiece, z - CALIPER_JAW_THICKNESS / 2.0):
        return cannot(spec, "the chuck jaws are in the way", placement=place)
    diameter = outside_diameter(workpiece, z, CALIPER_JAW_THICKNESS)
    if diameter / 2.0 > CALIPER_JAW_DEPTH:
        return cannot(spec, f"the jaws ({CALIPER_JAW_DEPTH:g} mm) do not reach past the centre of "
                            f"Ø{diameter:.1f}", placement=place)
    return reading(spec, diameter, placement=place)


def _caliper_inside(workpiece: Any, spec: Instrument, z: float, place: dict) -> dict:
    stock = _stock(workpiece)
    bore = measure.bore_diameter_at(stock, z)
    if bore <= 0.0:
        return cannot(spec, f"no bore at Z{z:g}", placement=place)
    if right_end(stock) - z > CALIPER_INSIDE_DEPTH:
        return cannot(spec, f"the inside jaws reach {CALIPER_INSIDE_DEPTH:g} mm into the bore", placement=place)
    return reading(spec, bore, placement=place)


def micrometer_range(size: float) -> tuple[float, float]:
    """The outside micrometer whose range holds ``size`` (0–25, 25–50, …; a size on a boundary takes the
    upper one, as 25.00 is read on the 25–50 micrometer's setting standard)."""
    low = math.floor(size / MICROMETER_STEP + TIE) * MICROMETER_STEP
    return (low, low + MICROMETER_STEP)


def _micrometer(workpiece: Any, spec: Instrument, z: float, range_low: float | None = None,
                angle: float = 0.0) -> dict:
    """Outside micrometer across the part at z. ``range_low``: which micrometer (0, 25, 50 …); by default
    the one that fits the part."""
    place = {"z": z, "range_low": range_low, "angle": angle}
    if _chuck_blocks(workpiece, z - ANVIL_DIAMETER / 2.0):
        return cannot(spec, "the chuck jaws are in the way", placement=place)
    diameter = outside_diameter(workpiece, z, ANVIL_DIAMETER)
    low, high = micrometer_range(diameter) if range_low is None else (float(range_low),
                                                                       float(range_low) + MICROMETER_STEP)
    place["range_low"] = low
    if diameter > high + TIE:
        return cannot(spec, f"the part does not fit the {low:g}–{high:g} mm micrometer", placement=place)
    if diameter < low - TIE:
        return cannot(spec, f"the part is smaller than the {low:g}–{high:g} mm micrometer's range",
                      placement=place)
    return reading(spec, diameter, placement=place)


def _face_z_along(stock: st.Stock, radius: float, from_z: float) -> float | None:
    """Work z where a line parallel to the axis at ``radius``, going from ``from_z`` toward the chuck,
    first meets material (``from_z`` itself when it starts in material)."""
    if measure.inside(stock, radius, 0.0, from_z - 1e-9):
        return from_z
    hits = [h for h in measure.ray_hits(stock, (radius, 0.0, from_z), (0.0, 0.0, -1.0)) if h.entering]
    return hits[0].point[2] if hits else None


def _depth_gauge(workpiece: Any, spec: Instrument, x: float, base_x: float = 0.0) -> dict:
    """Depth gauge with its base on the face met at diameter ``base_x`` (default: the end face at the
    axis) and its rod going toward the chuck at diameter ``x``: the axial depth of the step there."""
    place = {"x": x, "base_x": base_x}
    stock = _stock(workpiece)
    base = _face_z_along(stock, base_x / 2.0, right_end(stock) + 10.0)
    if base is None:
        return cannot(spec, f"no face for the base at Ø{base_x:g}", placement=place)
    bottom = _face_z_along(stock, x / 2.0, base)
    if bottom is None:
        return cannot(spec, f"the rod meets no face at Ø{x:g}", placement=place)
    return reading(spec, base - bottom, placement=place)


def _dial_indicator(workpiece: Any, spec: Instrument, z: float) -> dict:
    """Dial indicator on the outside surface at z while the spindle turns by hand: total indicated
    runout (largest minus smallest radius over one revolution); a turned surface reads 0."""
    stock = _stock(workpiece)
    place = {"z": z}
    radii = [measure.outer_radius(stock, z, 2.0 * math.pi * k / RUNOUT_SAMPLES) for k in range(RUNOUT_SAMPLES)]
    if any(r is None for r in radii) or not stock.has_material(z):
        return cannot(spec, f"no surface at Z{z:g}", placement=place)
    return reading(spec, max(radii) - min(radii), placement=place)


_READERS: Mapping[str, Any] = {
    "vernier_caliper": _caliper,
    "digital_caliper": _caliper,
    "micrometer": _micrometer,
    "depth_gauge": _depth_gauge,
    "dial_indicator": _dial_indicator,
}

__all__ = ["INSTRUMENTS", "Instrument", "read", "round_to", "reading", "cannot", "micrometer_range"]
