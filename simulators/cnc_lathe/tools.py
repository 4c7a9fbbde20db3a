"""Lathe tools with exact cutting and non-cutting geometry.

Frames
------
A tool's geometry is given in its own frame as ``(z, r)`` offsets in millimetres from its imaginary tip
(the grooving tool's left, chuck-side corner; the drill's point; the threading tool's point), with the
tool mounted as on the default turret: +r away from the spindle axis (machine +X, up in the standard
FANUC view), +z toward the tailstock. ``tip_vector`` is ``(x, z)`` from the turret reference point to the
imaginary tip in machine coordinates (x as a radius), as in ``simulators/core/motion.py``.

Each tool is a few convex :class:`~simulators.cnc_lathe.stock.Shape` parts (insert, holder, bar, body):
every element and vertex is flagged cutting or not, and parts whose contact means "too deep" (the grooving
holder above the blade's reach, the drill shank behind the flutes) are marked ``beyond_reach``.

What cuts: a rhombic insert's nose, its major edge and the first 2/3 (:data:`END_EDGE_CUTTING_FRACTION`)
of its minor (end) edge; the rest of the end edge, the back faces, holders, shanks and bars rub. A grooving
blade cuts with its bottom edge and both corners, and (lateral turning) with its sides up to the blade
width; a threading insert with its two flanks; a drill with its lips and point. Non-cutting parts are
checked against the material in front of them on every move (``leading.py``, ``workpiece.py``).

Imaginary tip directions (FANUC, +X up, +Z right): 3 = tip below-left of the nose centre (external tools
cutting toward the chuck), 2 = above-left (boring bars), 4 = below-right, 1 = above-right, 8 = below,
7 = left, 6 = above, 5 = right, 0/9 = nose centre. Here only 3 (T01, T02) and 2 (T05) carry a nose radius.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from .stock import Element, Shape, finish_shape, mirror_shape, polygon_shape

KINDS = ("turning", "grooving", "threading", "boring", "drill", "centre_drill")
TOP = 300.0     # mm above the tip where a holder's drawing stops (the turret is beyond it)
# Share of a rhombic insert's minor (end) edge, from the sharp corner, that cuts: the usable cutting edge
# length (ISO 13399 LE), about 2/3 of the edge in catalogues (CNMG 1204: 8.6 of 12.9 mm), which is also
# the deepest facing cut (facing, the end edge leads). Beyond it the edge only rubs: descending a profile
# steeper than the end clearance allows drags it into the surface just cut, which is non-cutting contact.
# The major edge cuts over its whole length: deeper than that, the insert's top face and the holder
# behind it meet the material, which the geometry catches on its own.
END_EDGE_CUTTING_FRACTION = 2.0 / 3.0


@dataclass(frozen=True)
class Tool:
    """One turret station's tool. Lengths in mm, angles in degrees.

    ``internal`` tools (boring bars, drills) cut the inner (bore) profile; the others the outer one.
    """

    station: int
    kind: str
    tip_vector: tuple[float, float]          # (x radius, z) from the turret reference point to the tip
    shapes: tuple[Shape, ...]                # tool frame, true orientation
    internal: bool = False
    nose_radius: float = 0.0
    tip_direction: int = 0
    insert_angle: float = 0.0                # rhombic insert corner angle (80, 55, 35) or thread angle
    approach_angle: float = 0.0              # κr of the major cutting edge
    edge_length: float = 0.0
    width: float = 0.0                       # grooving width
    reach: float = 0.0                       # grooving reach
    bar_diameter: float = 0.0
    min_bore: float = 0.0
    diameter: float = 0.0                    # drill diameter
    point_angle: float = 0.0
    flute_length: float = 0.0
    name: str = ""
    sweep_shapes: tuple[Shape, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown tool kind {self.kind!r} (one of {', '.join(KINDS)})")
        if not self.sweep_shapes:
            object.__setattr__(self, "sweep_shapes", _sweep_shapes(self.shapes, self.internal))

    @property
    def thread_half_angle(self) -> float:
        """Flank half angle of a threading tool, radians."""
        return math.radians(self.insert_angle / 2.0)

    def to_dict(self) -> dict:
        return {"station": self.station, "kind": self.kind, "name": self.name,
                "tip_vector": {"x": 2.0 * self.tip_vector[0], "z": self.tip_vector[1]},
                "nose_radius": self.nose_radius, "tip_direction": self.tip_direction}


def _sweep_shapes(shapes, internal: bool) -> tuple[Shape, ...]:
    """Shapes as the stock sweeps them: outer tools as they are; inner tools mirrored (r -> -r), because
    the stock keeps -r_in and lowers it. The unmirrored inner shapes are added as well, marked by name
    suffix ':far', because a part reaching across the axis touches the bore's far side."""
    if not internal:
        return tuple(shapes)
    mirrored = tuple(mirror_shape(s) for s in shapes)
    far = tuple(Shape(s.name + ":far", s.elements, s.beyond_reach, s.lower_chain) for s in shapes)
    return mirrored + far


def _unit(deg: float) -> tuple[float, float]:
    return (math.cos(math.radians(deg)), math.sin(math.radians(deg)))


def _add(p, q, k=1.0):
    return (p[0] + k * q[0], p[1] + k * q[1])


def rhombic_insert(insert_angle: float, edge: float, nose: float, approach: float) -> tuple[Shape, tuple]:
    """A rhombic insert for an external tool cutting toward the chuck (tip direction 3).

    The major edge leaves the nose at 180° - approach (85° for a 95° tool: up, leaning 5° toward the
    tailstock), the minor (end) edge at that minus the corner angle (5° for an 80° insert). The imaginary
    tip is the origin, the nose centre at (nose, nose). Returns the shape and the sharp corner point.

    The major edge and the nose cut; the minor edge only over its first ``END_EDGE_CUTTING_FRACTION`` of
    ``edge`` from the sharp corner (see there); the rest of it and the back faces rub.
    """
    major = 180.0 - approach
    minor = major - insert_angle
    half = math.radians(insert_angle / 2.0)
    bisector = _unit((major + minor) / 2.0)
    centre = (nose, nose)
    corner = _add(centre, bisector, -nose / math.sin(half)) if nose > 0.0 else (0.0, 0.0)
    along = nose / math.tan(half) if nose > 0.0 else 0.0
    t_major = _add(corner, _unit(major), along)
    t_minor = _add(corner, _unit(minor), along)
    minor_end = _add(corner, _unit(minor), END_EDGE_CUTTING_FRACTION * edge)
    a = _add(corner, _unit(minor), edge)
    b = _add(corner, _unit(major), edge)
    f = _add(a, _unit(major), edge)
    elements = [
        Element(False, b, t_major, cutting=True, start_cutting=False),              # major edge (down)
        Element(True, centre, radius=nose, t0=math.radians(major + 90.0), t1=math.radians(minor + 270.0),
                cutting=True, start_cutting=True),                                  # nose
        Element(False, t_minor, minor_end, cutting=True, start_cutting=True),       # minor edge, cutting
        Element(False, minor_end, a, cutting=False, start_cutting=True),            # minor edge, rubbing
        Element(False, a, f, cutting=False, start_cutting=False),                   # back faces
        Element(False, f, b, cutting=False, start_cutting=False),
    ]
    if nose <= 0.0:
        elements.pop(1)
    return finish_shape(Shape("insert", tuple(elements))), corner


def rhombic_holder(insert_angle: float, approach: float, corner, shank: float, tip_to_shank: float) -> Shape:
    """Holder and shank behind a rhombic insert: 3 mm behind both cutting edges, the shank ``shank`` mm
    wide ending ``tip_to_shank + shank`` mm behind the tip, up to the turret."""
    major = 180.0 - approach
    minor = major - insert_angle
    h0 = _add(_add(corner, _unit(minor), 3.0), _unit(major), 3.0)
    z_far = tip_to_shank + shank
    slope = math.tan(math.radians(minor))
    h2 = (z_far, h0[1] + (z_far - h0[0]) * slope)
    return polygon_shape("holder", [h0, h2, (z_far, TOP), (h0[0], TOP)])


def turning_tool(station: int, insert_angle: float, edge: float, nose: float, approach: float,
                 tip_vector: tuple[float, float], shank: float = 25.0, name: str = "") -> Tool:
    insert, corner = rhombic_insert(insert_angle, edge, nose, approach)
    holder = rhombic_holder(insert_angle, approach, corner, shank, 7.0)
    return Tool(station, "turning", tip_vector, (insert, holder), nose_radius=nose, tip_direction=3,
                insert_angle=insert_angle, approach_angle=approach, edge_length=edge, name=name)


def grooving_tool(station: int, width: float, reach: float, tip_vector, holder_width: float = 25.0,
                  name: str = "") -> Tool:
    """A square-cornered grooving/parting blade: the tip is its left (chuck-side) corner, the cutting
    edge is the bottom (both corners cut). Its sides cut up to ``width`` above the bottom (lateral
    turning takes at most about the blade width); above that they rub. The holder above ``reach`` is
    ``beyond_reach``."""
    side = min(width, reach)
    blade = polygon_shape("insert", [(0.0, 0.0), (width, 0.0), (width, side), (width, reach), (0.0, reach),
                                     (0.0, side)],
                          cutting_edges=[True, True, False, False, False, True],
                          cutting_vertices=[True, True, True, False, False, True])
    holder = polygon_shape("holder", [(0.0, reach), (holder_width, reach), (holder_width, TOP), (0.0, TOP)],
                           beyond_reach=True)
    return Tool(station, "grooving", tip_vector, (blade, holder), width=width, reach=reach, name=name)


def threading_tool(station: int, angle: float, tip_vector, flank_height: float = 3.0, name: str = "") -> Tool:
    """A sharp ``angle``° threading insert (nose radius 0) centred on its tip, flanks cutting over
    ``flank_height`` mm; the insert body above and the holder are non-cutting."""
    half = flank_height * math.tan(math.radians(angle / 2.0))
    v = polygon_shape("insert", [(0.0, 0.0), (half, flank_height), (-half, flank_height)],
                      cutting_edges=[True, False, True], cutting_vertices=[True, False, False])
    body = polygon_shape("insert_body", [(-4.5, flank_height), (5.0, flank_height), (5.0, 8.0), (-4.5, 8.0)])
    holder = polygon_shape("holder", [(-4.5, 8.0), (20.5, 8.0), (20.5, TOP), (-4.5, TOP)])
    return Tool(station, "threading", tip_vector, (v, body, holder), insert_angle=angle, name=name)


def boring_bar(station: int, bar_diameter: float, insert_angle: float, edge: float, nose: float,
               approach: float, tip_vector, tip_height: float, min_bore: float, length: float = 150.0,
               name: str = "") -> Tool:
    """A boring bar along +Z behind its insert (tip direction 2). The insert is the external rhombic
    insert reflected in the tip's horizontal line; the bar's axis lies ``tip_height`` mm below the tip and
    starts 2 mm behind it."""
    insert_up, _corner = rhombic_insert(insert_angle, edge, nose, approach)
    insert = mirror_shape(insert_up)
    r = bar_diameter / 2.0
    bar = polygon_shape("bar", [(2.0, -tip_height - r), (length, -tip_height - r), (length, -tip_height + r),
                                (2.0, -tip_height + r)])
    return Tool(station, "boring", tip_vector, (insert, bar), internal=True, nose_radius=nose,
                tip_direction=2, insert_angle=insert_angle, approach_angle=approach, edge_length=edge,
                bar_diameter=bar_diameter, min_bore=min_bore, name=name)


def drill(station: int, diameter: float, point_angle: float, flute_length: float, tip_vector,
          kind: str = "drill", shank_length: float = 80.0, name: str = "") -> Tool:
    """A drill on the spindle axis: cone point (cutting lips and outer corners), margins (non-cutting,
    exact contact with its own hole), the shank behind the flutes ``beyond_reach``."""
    r = diameter / 2.0
    h = r / math.tan(math.radians(point_angle / 2.0))
    body = polygon_shape("flutes", [(0.0, 0.0), (h, -r), (flute_length, -r), (flute_length, r), (h, r)],
                         cutting_edges=[True, False, False, False, True],
                         cutting_vertices=[True, True, False, False, True])
    shank = polygon_shape("shank", [(flute_length, -r), (flute_length + shank_length, -r),
                                    (flute_length + shank_length, r), (flute_length, r)], beyond_reach=True)
    return Tool(station, kind, tip_vector, (body, shank), internal=True, diameter=diameter,
                point_angle=point_angle, flute_length=flute_length, name=name)


def centre_drill(station: int, pilot_diameter: float, pilot_length: float, body_diameter: float,
                 tip_vector, countersink_angle: float = 60.0, body_length: float = 40.0, name: str = "") -> Tool:
    """A centre drill (type A): a 118° pilot of ``pilot_diameter`` over ``pilot_length``, then the
    ``countersink_angle`` cone up to the body. Two convex parts, both cutting at their points/cone; the body
    beyond the countersink is ``beyond_reach`` (touching it means the centre hole went too deep)."""
    r, big = pilot_diameter / 2.0, body_diameter / 2.0
    h = r / math.tan(math.radians(59.0))
    pilot = polygon_shape("pilot", [(0.0, 0.0), (h, -r), (pilot_length, -r), (pilot_length, r), (h, r)],
                          cutting_edges=[True, False, False, False, True],
                          cutting_vertices=[True, True, False, False, True])
    cone_end = pilot_length + (big - r) / math.tan(math.radians(countersink_angle / 2.0))
    countersink = polygon_shape("countersink", [(pilot_length, -r), (cone_end, -big), (cone_end, big),
                                                (pilot_length, r)],
                                cutting_edges=[True, False, True, False],
                                cutting_vertices=[True, True, False, True])
    body = polygon_shape("body", [(cone_end, -big), (cone_end + body_length, -big), (cone_end + body_length, big),
                                  (cone_end, big)], beyond_reach=True)
    return Tool(station, "centre_drill", tip_vector, (pilot, countersink, body), internal=True,
                diameter=pilot_diameter, point_angle=118.0, flute_length=pilot_length, name=name)


def default_tools() -> dict[int, Tool]:
    """T01–T06 of the default setup. Tip vectors (x radius, z) from the turret reference point, mm:

    ========  ====================================================================  =================
    station   tool                                                                   tip_vector (x, z)
    ========  ====================================================================  =================
    T01       external turning, 80° rhombic 12.9 mm edges (CNMG 1204), R0.8, 95°,     (-40.0, -19.5)
              25 mm square shank whose side is 7 mm behind the tip
    T02       external finishing, 35° rhombic 16.6 mm edges (VNMG 1604), R0.4, 93°    (-40.0, -19.5)
    T03       external grooving 3.0 mm wide, 12 mm reach, left corner, 25 mm holder  (-45.0, -12.5)
    T04       external threading 60°, sharp tip, 3 mm flanks, 25 mm holder           (-40.0, -8.0)
    T05       boring bar Ø12, 55° rhombic 7.75 mm edges (DCMT 0702), R0.4, 93°,      (-60.0, -110.0)
              tip 9 mm above the bar axis, minimum bore Ø16, 150 mm bar
    T06       Ø20 drill, 118° point, 60 mm flutes, on the spindle axis                (-60.0, -140.0)
    ========  ====================================================================  =================

    External tools stand 40–45 mm below the turret reference point (radial tools); the boring bar and
    the drill are axial tools reaching 110/140 mm toward the chuck.
    """
    return {
        1: turning_tool(1, 80.0, 12.9, 0.8, 95.0, (-40.0, -19.5), name="T01 external turning 80° R0.8"),
        2: turning_tool(2, 35.0, 16.6, 0.4, 93.0, (-40.0, -19.5), name="T02 external finishing 35° R0.4"),
        3: grooving_tool(3, 3.0, 12.0, (-45.0, -12.5), name="T03 external grooving 3 mm"),
        4: threading_tool(4, 60.0, (-40.0, -8.0), name="T04 external threading 60°"),
        5: boring_bar(5, 12.0, 55.0, 7.75, 0.4, 93.0, (-60.0, -110.0), tip_height=9.0, min_bore=16.0,
                      name="T05 boring bar Ø12 55° R0.4"),
        6: drill(6, 20.0, 118.0, 60.0, (-60.0, -140.0), name="T06 drill Ø20 118°"),
    }


def tools_from_dict(data: Mapping, current: Mapping[int, Tool] | None = None) -> dict[int, Tool]:
    """Tools of a setup file: ``{"7": {"kind": "turning", "insert_angle": 55, "edge": 15.5, "nose": 0.4,
    "approach": 93, "tip_vector": {"x": -80, "z": -20}}, ...}`` (tip_vector x as a diameter). Stations not
    given keep the current tool."""
    tools = dict(current or default_tools())
    for key, spec in data.items():
        station = int(key)
        if not isinstance(spec, Mapping):
            raise TypeError(f"tool {station} must be an object")
        kind = spec.get("kind")
        tv = spec.get("tip_vector", {})
        tip = (float(tv.get("x", -80.0)) / 2.0, float(tv.get("z", -20.0)))
        if kind == "turning":
            tools[station] = turning_tool(station, float(spec["insert_angle"]), float(spec["edge"]),
                                          float(spec["nose"]), float(spec["approach"]), tip)
        elif kind == "grooving":
            tools[station] = grooving_tool(station, float(spec["width"]), float(spec["reach"]), tip)
        elif kind == "threading":
            tools[station] = threading_tool(station, float(spec.get("angle", 60.0)), tip)
        elif kind == "boring":
            tools[station] = boring_bar(station, float(spec["bar_diameter"]), float(spec["insert_angle"]),
                                        float(spec["edge"]), float(spec["nose"]), float(spec["approach"]),
                                        tip, float(spec.get("tip_height", 0.75 * float(spec["bar_diameter"]))),
                                        float(spec["min_bore"]))
        elif kind == "drill":
            tools[station] = drill(station, float(spec["diameter"]), float(spec.get("point_angle", 118.0)),
                                   float(spec["flute_length"]), tip)
        elif kind == "centre_drill":
            tools[station] = centre_drill(station, float(spec.get("pilot_diameter", 2.5)),
                                          float(spec.get("pilot_length", 3.0)), float(spec.get("body_diameter", 8.0)),
                                          tip)
        else:
            raise ValueError(f"tool {station}: unknown kind {kind!r}")
    return tools
