"""The 0i-MF offset pages as the MDI keys change them: tool offset memory C and the work coordinates.

Tool offset page (memory C): one line per offset number 1..200 with H geometry, H wear, D geometry, D wear.
Work coordinate page: EXT (the external shift, added to every system), G54..G59 and G54.1 P1..P48, each X Y Z.
Both live in the interpreter's :class:`~.interpreter.Tables`, so a program's G10 and the page edit the same data.

The keys (each returns new tables, the old ones stay untouched):

* INPUT sets the field to the keyed value; +INPUT adds it to the field.
* MEASURE on the work page (FANUC "direct input of the measured workpiece origin offset"): with the tool touching
  the part, key the coordinate the spindle centre has in the work system, then MEASURE: the system's offset on
  that axis becomes ``machine - EXT - value``, so the current position reads ``value`` in that system (without
  G52, tool length or other shifts). The edge finder's radius is the operator's business, as on the machine:
  touching the LEFT face (X−) of a part whose origin is that face, the spindle centre is one radius left of it,
  so the operator keys ``X-5.`` for a Ø10 edge finder; touching the FRONT face (Y−), ``Y-5.``; the right or back
  face, ``X5.``/``Y5.``. With the origin at the centre of a 100 mm block, the left face gives ``X-55.``.
* MEASURE on the tool page (tool length measurement, H geometry only): with the tool tip at a known height,
  e.g. on a 50.000 mm Z setter standing on the part's top face, key ``Z50.`` (the height of the tip in the
  active work system), then MEASURE: ``H = machine Z − (work Z + EXT Z) − value``, so that under G43 H the
  current tip reads ``value``. With G54 Z = 0 this gives H = machine Z of the gauge line − 50 (the convention
  "G54 Z0, H = the touch"); with G54 Z at the top face it gives the tool's gauge length.

Values here are mm. What the candidate typed (the ``offset`` event's ``text``) is read by the panel's one parser
for both machines, :func:`simulators.core.panel.parse_keyed` (a number without a decimal point is in least input
increments: ``50`` = 0.050 mm).
Errors (a value out of range, an unknown field) leave the tables as they were and give the warning the screen
shows (``DATA IS OUT OF RANGE``, ``FORMAT ERROR``).
"""
from __future__ import annotations

from dataclasses import replace

from .interpreter import Tables
from .machine import EXTENDED_SYSTEMS, OFFSET_LINES, WORK_SYSTEMS, OffsetLine

TOOL_FIELDS = {"h": "length", "h_wear": "length_wear", "d": "radius", "d_wear": "radius_wear"}
WORK_PAGE = ("EXT", *WORK_SYSTEMS, *(f"G54.1P{n}" for n in range(1, EXTENDED_SYSTEMS + 1)))
AXES = "xyz"
TOOL_LIMIT = 999.999            # mm, largest tool offset the page accepts
WORK_LIMIT = 99999.999          # mm, largest work offset


class PageWarning(ValueError):
    """A key the page refuses; ``str()`` is the warning the screen shows."""


# ------------------------------------------------------------------------------------------ tool offset page

def tool_line(tables: Tables, number: int) -> OffsetLine:
    return tables.tools.get(number, OffsetLine())


def _check_number(number) -> int:
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= OFFSET_LINES:
        raise PageWarning("DATA IS OUT OF RANGE")
    return number


def _checked(value: float, limit: float) -> float:
    if not abs(value) <= limit:
        raise PageWarning("DATA IS OUT OF RANGE")
    return round(value, 6)


def input_tool(tables: Tables, number: int, field: str, value: float, add: bool = False) -> Tables:
    """INPUT (set) or +INPUT (add) on field ``h``, ``h_wear``, ``d`` or ``d_wear`` of offset ``number``."""
    number = _check_number(number)
    if field not in TOOL_FIELDS:
        raise PageWarning("FORMAT ERROR")
    line = tool_line(tables, number)
    attribute = TOOL_FIELDS[field]
    new = _checked(getattr(line, attribute) + value if add else value, TOOL_LIMIT)
    tools = dict(tables.tools)
    tools[number] = replace(line, **{attribute: new})
    return replace(tables, tools=tools)


def measure_tool_length(tables: Tables, number: int, machine_z: float, work_system: str, value: float) -> Tables:
    """MEASURE with ``Z<value>`` on H geometry: H = machine Z − (work Z + EXT Z) − value (see module doc)."""
    work_z = work_offset(tables, work_system)[2] + tables.external[2]
    return input_tool(tables, number, "h", machine_z - work_z - value)


# ------------------------------------------------------------------------------------------ work page

def work_offset(tables: Tables, system: str) -> tuple[float, float, float]:
    if system == "EXT":
        return tuple(tables.external)
    return tables.work_offset(system)


def _with_work(tables: Tables, system: str, point: tuple[float, float, float]) -> Tables:
    if system == "EXT":
        return replace(tables, external=point)
    if system.startswith("G54.1P"):
        extended = dict(tables.extended)
        extended[int(system[6:])] = point
        return replace(tables, extended=extended)
    work = dict(tables.work)
    work[system] = point
    return replace(tables, work=work)


def _check_work(system: str, axis: str | None) -> int:
    if system not in WORK_PAGE:
        raise PageWarning("DATA IS OUT OF RANGE")
    if axis is None or axis not in AXES:
        raise PageWarning("FORMAT ERROR")
    return AXES.index(axis)


def input_work(tables: Tables, system: str, axis: str, value: float, add: bool = False) -> Tables:
    """INPUT (set) or +INPUT (add) on one axis of EXT, G54..G59 or G54.1P1..P48."""
    index = _check_work(system, axis)
    point = list(work_offset(tables, system))
    point[index] = _checked(point[index] + value if add else value, WORK_LIMIT)
    return _with_work(tables, system, tuple(point))


def measure_work(tables: Tables, system: str, axis: str, value: float, machine: tuple[float, float, float]) -> Tables:
    """MEASURE: the offset on ``axis`` becomes machine − EXT − value (EXT itself: machine − value)."""
    index = _check_work(system, axis)
    external = 0.0 if system == "EXT" else tables.external[index]
    point = list(work_offset(tables, system))
    point[index] = _checked(machine[index] - external - value, WORK_LIMIT)
    return _with_work(tables, system, tuple(point))


# ------------------------------------------------------------------------------------------ one key press

WORK_NUMBERS = {"00": "EXT", "01": "G54", "02": "G55", "03": "G56", "04": "G57", "05": "G58", "06": "G59"}


def page_input(tables: Tables, page: str, number, axis: str, value: float, op: str,
               machine: tuple[float, float, float], work_system: str) -> tuple[Tables, dict]:
    """One offset event: ``page`` geometry/wear (``number`` 1..200, ``axis`` H or D; MEASURE: geometry H or Z)
    or work (``number`` EXT, G54…, G54.1P1… or the screen's 00…06; ``axis`` X Y Z), ``op`` input/add/measure,
    at the gauge point ``machine`` with ``work_system`` active. Returns the new tables and the changed line."""
    if page == "work":
        system = WORK_NUMBERS.get(str(number), str(number).upper().replace(" ", ""))
        if op == "measure":
            tables = measure_work(tables, system, axis.lower(), value, machine)
        else:
            tables = input_work(tables, system, axis.lower(), value, add=op == "add")
        return tables, {"system": system, **dict(zip(AXES, work_offset(tables, system)))}
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise PageWarning("FORMAT ERROR") from None
    column = axis.upper()
    if op == "measure":
        if page != "geometry" or column not in ("H", "Z"):
            raise PageWarning("EDIT REJECTED")
        tables = measure_tool_length(tables, number, machine[2], work_system, value)
    elif column in ("H", "D"):
        tables = input_tool(tables, number, column.lower() + ("_wear" if page == "wear" else ""), value,
                            add=op == "add")
    else:
        raise PageWarning("FORMAT ERROR")
    line = tool_line(tables, number)
    return tables, {"number": number, "h": line.length, "h_wear": line.length_wear, "d": line.radius,
                    "d_wear": line.radius_wear}


# ------------------------------------------------------------------------------------------ screen

def tool_page(tables: Tables) -> dict:
    """Every offset line that is not all zero: {"n": {"h", "h_wear", "d", "d_wear"}}."""
    return {str(number): {"h": line.length, "h_wear": line.length_wear, "d": line.radius,
                          "d_wear": line.radius_wear}
            for number, line in sorted(tables.tools.items()) if line != OffsetLine()}


def work_page(tables: Tables) -> dict:
    """EXT, G54..G59 and the G54.1 P systems that are not zero, each {"x", "y", "z"}."""
    page = {}
    for system in WORK_PAGE:
        point = work_offset(tables, system)
        if system.startswith("G54.1P") and point == (0.0, 0.0, 0.0):
            continue
        page[system] = dict(zip(AXES, point))
    return page


__all__ = [
    "TOOL_FIELDS",
    "WORK_PAGE",
    "PageWarning",
    "input_tool",
    "input_work",
    "measure_tool_length",
    "measure_work",
    "page_input",
    "tool_page",
    "work_page",
    "work_offset",
]
