"""The 0i-TF offset pages: tool geometry and wear (X, Z, R, T) and the work shift / G54–G59, with INPUT (set),
+INPUT (add) and the measurement input.

Screen values: X is a diameter on every page, as the control shows it; the tables hold radii.

Measurement input (MEASURE with ``X<measured diameter>`` or ``Z<value>`` keyed in): the control sets the
geometry offset so that the tool's current position reads the keyed value in the work frame. With
``machine = program + work offset + external shift + geometry + wear`` (docs/lathe.md) that is
``geometry = machine − value − work offset − external shift`` for the selected work system; the wear is not
part of the geometry page and is left out (on the machine it is kept at 0 while setting tools). On the work
page, MEASURE sets the work offset so that the current position reads the value with the active tool offset:
``work = machine − value − external shift − (geometry + wear of the active offset)``.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..core.panel import Rejected
from .machine import OFFSET_LINES, WORK_SYSTEMS, ToolOffset

WORK_NUMBERS = {0: "EXT", 1: "G54", 2: "G55", 3: "G56", 4: "G57", 5: "G58", 6: "G59"}
MAX_OFFSET = 999.999         # the page refuses larger values (8 digits with 3 decimals)


def tool_number(number: Any) -> int:
    try:
        value = int(number)
    except (TypeError, ValueError):
        raise Rejected(f"no offset number {number!r}") from None
    if not 1 <= value <= OFFSET_LINES:
        raise Rejected(f"offset numbers are 1–{OFFSET_LINES}")
    return value


def work_name(number: Any) -> str:
    if isinstance(number, int) and number in WORK_NUMBERS:
        return WORK_NUMBERS[number]
    name = str(number).upper()
    if name in WORK_SYSTEMS or name == "EXT":
        return name
    raise Rejected(f"no work coordinate system {number!r} (G54–G59, EXT)")


def tool_input(line: ToolOffset, page: str, axis: str, value: float, op: str, measured: float | None) -> ToolOffset:
    """The line after one input. ``measured``: the geometry value that MEASURE computes (given for X/Z)."""
    if abs(value) > MAX_OFFSET:
        raise Rejected("DATA IS OUT OF RANGE")
    if axis in ("R", "T") and page == "wear":
        raise Rejected("R and T are on the geometry page")
    if axis == "T":
        if op == "measure" or value != int(value) or not 0 <= value <= 9 or (op == "add" and
                                                                              not 0 <= line.tip_direction + value <= 9):
            raise Rejected("T is a tip direction 0–9")
        return replace(line, tip_direction=int(value) if op == "input" else line.tip_direction + int(value))
    if axis == "R":
        if op == "measure":
            raise Rejected("MEASURE works on X and Z")
        return replace(line, nose_radius=value if op == "input" else line.nose_radius + value)
    if axis not in ("X", "Z"):
        raise Rejected(f"no {axis} on the tool offset page")
    if op == "measure":
        if page != "geometry":
            raise Rejected("MEASURE works on the geometry page")
        return replace(line, **{"geometry_" + axis.lower(): measured})
    field = ("geometry_" if page == "geometry" else "wear_") + axis.lower()
    amount = value / 2.0 if axis == "X" else value
    return replace(line, **{field: amount if op == "input" else getattr(line, field) + amount})


def work_input(point: tuple, axis: str, value: float, op: str, measured: float | None) -> tuple:
    """A work offset (x radius, z) after one input."""
    if abs(value) > MAX_OFFSET:
        raise Rejected("DATA IS OUT OF RANGE")
    if axis not in ("X", "Z"):
        raise Rejected(f"no {axis} on the work coordinates page")
    index = 0 if axis == "X" else 1
    amount = value / 2.0 if axis == "X" else value
    new = measured if op == "measure" else (amount if op == "input" else point[index] + amount)
    return (new, point[1]) if index == 0 else (point[0], new)


def tool_line_view(line: ToolOffset) -> dict:
    return {"geometry": {"X": 2.0 * line.geometry_x, "Z": line.geometry_z, "R": line.nose_radius,
                         "T": line.tip_direction},
            "wear": {"X": 2.0 * line.wear_x, "Z": line.wear_z}}


def work_view(point: tuple) -> dict:
    return {"X": 2.0 * point[0], "Z": point[1]}


__all__ = ["tool_number", "work_name", "tool_input", "work_input", "tool_line_view", "work_view", "WORK_NUMBERS"]
