"""Exact stock model: bottom functions against hand calculations, crashes, and the model properties."""
import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.cnc_mill.stock import (
    CHORD_ERROR,
    Sweep,
    bottom,
    chord_count,
    make_sweeps,
)
from simulators.cnc_mill.workpiece import Workpiece
from simulators.core.motion import Motion
from tests.simulators.mill_motions import TOOLS, mv, run



FLAT5 = TOOLS[1].pieces
BALL4 = TOOLS[3].pieces


def _b(sweep, x, y):
    return float(bottom(sweep, np.array(x), np.array(y)))


# ------------------------------------------------------------------------------ bottom functions

def test_horizontal_line_flat_and_ball():
    flat = Sweep("line", (0.0, 0.0, -3.0), (20.0, 0.0, -3.0), FLAT5)
    assert _b(flat, 10.0, 4.999) == -3.0 and math.isinf(_b(flat, 10.0, 5.001))
    assert _b(flat, -4.0, 3.0) == -3.0                # end disc: 4² + 3² = 5²
    ball = Sweep("line", (0.0, 0.0, -3.0), (20.0, 0.0, -3.0), BALL4)
    # 2 mm beside the path: -3 + 4 - sqrt(16 - 4)
    assert _b(ball, 10.0, 2.0) == pytest.approx(-3.0 + 4.0 - math.sqrt(12.0), abs=1e-12)


def test_sloped_flat_ramp():
    ramp = Sweep("line", (0.0, 0.0, 0.0), (10.0, 0.0, -5.0), FLAT5)
    assert _b(ramp, 12.0, 0.0) == pytest.approx(-5.0, abs=1e-12)
    # (-3, 0) is covered while |-3 - 10 t| <= 5, i.e. t <= 0.2: lowest z = -5 * 0.2 = -1
    assert _b(ramp, -3.0, 0.0) == pytest.approx(-1.0, abs=1e-12)
    # (5, 4): covered for (5 - 10t)² <= 9, t in [0.2, 0.8] -> z = -4
    assert _b(ramp, 5.0, 4.0) == pytest.approx(-4.0, abs=1e-12)


def test_sloped_ball_is_a_capsule():
    ramp = Sweep("line", (0.0, 0.0, 0.0), (10.0, 0.0, -10.0), BALL4)
    # centre line z = 4 - x at 45°; the cylinder of radius 4 around it lies 4 / cos 45° below it
    assert _b(ramp, 5.0, 0.0) == pytest.approx(-1.0 - 4.0 * math.sqrt(2.0), abs=1e-12)
    # beyond the end: the end sphere, centre (10, 0, -6): at x = 12, -6 - sqrt(16 - 4)
    assert _b(ramp, 12.0, 0.0) == pytest.approx(-6.0 - math.sqrt(12.0), abs=1e-12)


def test_sloped_drill_by_golden_section():
    cone = TOOLS[5].pieces
    k = math.tan(math.radians(59.0))
    ramp = Sweep("line", (0.0, 0.0, 0.0), (10.0, 0.0, -1.0), cone)
    # on the path line (y = 0) the slope 0.1 is flatter than the cone's 1/k = 0.6, so the tip path itself
    # is the lowest: at x = 4, z = -0.4
    assert _b(ramp, 4.0, 0.0) == pytest.approx(-0.4, abs=1e-9)
    # 2 mm aside at x = 4: minimise -0.1 x' + sqrt((4 - x')² + 4) / k: stationary where
    # (x' - 4) / sqrt(...) = -0.1 k  ->  x' - 4 = 2 * 0.1k / sqrt(1 - 0.01 k²)
    u = 2.0 * 0.1 * k / math.sqrt(1.0 - 0.01 * k * k)
    x_star = 4.0 + u
    expected = -0.1 * x_star + math.hypot(u, 2.0) / k
    assert _b(ramp, 4.0, 2.0) == pytest.approx(expected, abs=1e-9)


def test_horizontal_arc():
    # G02 from (10, 0) around the origin to (0, -10): a quarter circle, clockwise
    arc = make_sweeps("arc", (10.0, 0.0, -2.0), (0.0, -10.0, -2.0), BALL4, (0.0, 0.0), clockwise=True)
    assert len(arc) == 1 and arc[0].span == pytest.approx(-math.pi / 2.0)
    p = 12.0 / math.sqrt(2.0)                # 2 mm outside the arc at -45°
    assert _b(arc[0], p, -p) == pytest.approx(-2.0 + 4.0 - math.sqrt(12.0), abs=1e-12)
    assert math.isinf(_b(arc[0], p, p))      # +45° is on the other side of the circle, 8.5 mm away


def test_full_circle_and_end_off_the_circle():
    full = make_sweeps("arc", (10.0, 0.0, 0.0), (10.0, 0.0, 0.0), FLAT5, (0.0, 0.0))
    assert len(full) == 1 and full[0].span == pytest.approx(2.0 * math.pi)
    off = make_sweeps("arc", (10.0, 0.0, 0.0), (0.0, 10.01, 0.0), FLAT5, (0.0, 0.0))
    assert [s.kind for s in off] == ["arc", "line"]


def test_helical_flat_exact():
    helix = make_sweeps("arc", (10.0, 0.0, 0.0), (10.0, 0.0, -2.0), FLAT5, (0.0, 0.0))
    assert len(helix) == 1
    # at (0, 10) (90°) the disc covers p while 2·10·sin(|θ - 90°| / 2) <= 5: θ <= 90° + 2 asin(0.25);
    # z falls 2 mm per turn, so the lowest covering z is -2 (π/2 + 2 asin 0.25) / 2π
    theta = math.pi / 2.0 + 2.0 * math.asin(0.25)
    assert _b(helix[0], 0.0, 10.0) == pytest.approx(-2.0 * theta / (2.0 * math.pi), abs=1e-12)
    assert _b(helix[0], 10.0, 0.0) == pytest.approx(-2.0, abs=1e-12)      # the end point


def test_helical_ball_chords_within_bound():
    sweeps = make_sweeps("arc", (20.0, 0.0, 0.0), (0.0, 20.0, -3.0), BALL4, (0.0, 0.0))
    n = len(sweeps)
    assert n == chord_count(20.0, math.pi / 2.0)
    assert 20.0 * (1.0 - math.cos(math.pi / 4.0 / n)) <= CHORD_ERROR     # sagitta of each chord
    # brute force: min over 200,001 helix angles of z(θ) + h_inv(|p - c(θ)|)
    theta = np.linspace(0.0, math.pi / 2.0, 200_001)
    cx, cy, cz = 20.0 * np.cos(theta), 20.0 * np.sin(theta), -3.0 * theta / (math.pi / 2.0)
    for px, py in ((20.0 / math.sqrt(2.0) + 1.5, 20.0 / math.sqrt(2.0)), (17.0, 3.0)):
        brute = float(np.min(cz + TOOLS[3].h_inv(np.hypot(px - cx, py - cy))))
        exact = min(_b(s, px, py) for s in sweeps)
        assert exact == pytest.approx(brute, abs=0.5e-3)


def test_chord_count_bound():
    for radius in (0.5, 5.0, 50.0):
        n = chord_count(radius, 2.0 * math.pi)
        assert radius * (1.0 - math.cos(math.pi / n)) <= CHORD_ERROR


# ------------------------------------------------------------------------------------- crashes

def _kinds(crashes):
    return {c.kind for c in crashes}


def test_contract_slot_does_not_crash():
    _, crashes = run([mv("rapid", 1, 1, (0, 0, 100), (-60, 0, 100)), mv("rapid", 2, 1, (-60, 0, 100), (-60, 0, 2)),
                      mv("feed", 3, 1, (-60, 0, 2), (-60, 0, -4)), mv("feed", 4, 1, (-60, 0, -4), (0, 0, -4))])
    assert crashes == []


def test_rapid_into_stock():
    _, crashes = run([mv("rapid", 7, 1, (0, 0, 2), (0, 0, -1))])
    assert [(c.kind, c.line) for c in crashes] == [("rapid_into_stock", 7)]


def test_exact_contact_is_not_a_crash():
    moves = [mv("rapid", 1, 1, (0, 0, 10), (0, 0, 0)),              # tip onto the top face
             mv("rapid", 2, 1, (0, 0, 0), (40, 20, 0)),             # sliding on it
             mv("rapid", 3, 1, (-60, -35, -20), (-55, -35, -20)),   # beside the block: 5 mm from x = -50
             mv("rapid", 4, 1, (-60, 0, -18), (-60, 35, -18))]      # jaw face at y = 40, tool edge at 40
    _, crashes = run(moves)
    assert crashes == []


def test_spindle_stopped_cut():
    _, crashes = run([mv("feed", 5, 1, (0, 0, 2), (0, 0, -1), rpm=0.0)])
    assert _kinds(crashes) == {"spindle_stopped_cut"}


def test_non_centre_plunge():
    _, crashes = run([mv("feed", 3, 7, (0, 0, 2), (0, 0, -1))])
    assert [(c.kind, c.line) for c in crashes] == [("non_centre_plunge", 3)]
    # entering from the side at depth is what a non-centre-cutting end mill is for
    _, crashes = run([mv("feed", 3, 7, (-70, 0, -2), (0, 0, -2))])
    assert crashes == []


def test_too_deep_beyond_the_flute_length():
    # Ø6, 15 mm flutes: plunging 15 deep is the limit, 16 is too deep
    _, crashes = run([mv("feed", 1, 2, (0, 0, 2), (0, 0, -15))])
    assert crashes == []
    _, crashes = run([mv("feed", 1, 2, (0, 0, 2), (0, 0, -16))])
    assert _kinds(crashes) == {"too_deep"}


def test_holder_contact():
    # T2 beside the block (x = -60, its edge at -57): holder Ø32 is 25 above the tip; at tip z -26 the
    # holder's bottom (z -1) overlaps the block from x -50 to -44 under the top face z 0
    _, crashes = run([mv("rapid", 1, 2, (-60, 0, 10), (-60, 0, -24.0))])
    assert crashes == []                          # holder bottom at z +1: clear
    _, crashes = run([mv("feed", 2, 2, (-60, 0, 10), (-60, 0, -26.0))])
    assert _kinds(crashes) == {"holder_contact"}


def test_vise_contact():
    # jaw at y 40..60 up to z -12: T1 beside the block at y 35.5 reaches y 40.5
    _, crashes = run([mv("rapid", 9, 1, (-60, 0, -18), (-60, 35.5, -18))])
    assert [(c.kind, c.line) for c in crashes] == [("vise_contact", 9)]
    # the bed under the block: a drill through the bottom face
    _, crashes = run([mv("feed", 4, 5, (20, 0, 2), (20, 0, -31))])
    assert _kinds(crashes) == {"vise_contact"}


def test_spindle_nose_without_tool():
    _, crashes = run([mv("rapid", 2, 0, (0, 0, 50), (0, 0, -1))])
    assert _kinds(crashes) == {"holder_contact"}


def test_non_motion_kinds_are_ignored():
    wp = Workpiece()
    assert wp.apply(Motion("dwell", 1, (0, 0, 0), (0, 0, 0), seconds=1.0)) == []


# ------------------------------------------------------------------------------------- properties

def _program(moves, tool):
    """Random moves inside the block from a safe start: straight (horizontal, vertical or sloped) and,
    every third move, a G17 arc (helical when z changes, flat end mills only) with its centre 4 mm
    beside the chord; drills plunge at each point."""
    out, line = [], 1
    x, y, z = moves[0][0], moves[0][1], 5.0
    out.append(mv("rapid", line, tool, (x, y, 50), (x, y, z)))
    if TOOLS[tool].kind in ("drill", "centre_drill"):     # drills drill: plunges at each point
        for nx, ny, nz in moves:
            out.append(mv("rapid", line + 1, tool, (x, y, z), (x, y, 2.0)))
            out.append(mv("rapid", line + 2, tool, (x, y, 2.0), (nx, ny, 2.0)))
            out.append(mv("feed", line + 3, tool, (nx, ny, 2.0), (nx, ny, nz)))
            line, (x, y, z) = line + 3, (nx, ny, nz)
        return out
    for nx, ny, nz in moves:
        line += 1
        chord = math.hypot(nx - x, ny - y)
        flat = all(p.is_flat for p in TOOLS[tool].pieces)    # other helices are chords: slow, tested apart
        if line % 3 == 0 and chord > 1.0 and (flat or abs(nz - z) < 1e-12):
            mx, my = (x + nx) / 2.0, (y + ny) / 2.0
            centre = (mx - 4.0 * (ny - y) / chord, my + 4.0 * (nx - x) / chord, z)
            out.append(mv("arc", line, tool, (x, y, z), (nx, ny, nz), centre=centre, cw=line % 2 == 0))
        else:
            out.append(mv("feed", line, tool, (x, y, z), (nx, ny, nz)))
        x, y, z = nx, ny, nz
    return out


coords = st.tuples(st.floats(-45, 45), st.floats(-35, 35), st.floats(-6, -0.5))
programs = st.tuples(st.lists(coords, min_size=1, max_size=5), st.sampled_from([1, 2, 3, 4, 5]))


@given(programs)
def test_heightmap_equals_the_exact_top_at_cell_centres(program):
    moves, tool = program
    wp, _ = run(_program(moves, tool), Workpiece(cell=2.0))
    hm = wp.heightmap()
    xs, ys = np.meshgrid(wp.grid.xs, wp.grid.ys)
    # every cell against the exact model's point evaluation (per sweep, no windows) ...
    exact = np.maximum(wp.model.tops(xs.ravel(), ys.ravel()), wp.raw.bottom0(xs.ravel(), ys.ravel()))
    assert np.max(np.abs(hm.ravel().astype(float) - exact)) <= 1e-3
    # ... and a spread of cells against the column query the probes use
    for r in range(0, len(wp.grid.ys), 7):
        for c in range(0, len(wp.grid.xs), 11):
            assert abs(float(hm[r, c]) - wp.top(wp.grid.xs[c], wp.grid.ys[r])) <= 1e-3


@given(programs, st.integers(0, 4))
def test_more_cutting_never_adds_material(program, cut):
    moves, tool = program
    motions = _program(moves, tool)
    cut = min(cut, len(motions) - 1)
    before, _ = run(motions[:cut + 1], Workpiece(cell=1.0))
    after, _ = run(motions, Workpiece(cell=1.0))
    assert np.all(after.heightmap() <= before.heightmap())
    for z in (-0.3, -2.5, -5.0):
        ray = ((-60.0, 1.3, z), (1.0, 0.0, 0.0))
        assert _material_length(after, ray) <= _material_length(before, ray) + 1e-9


def _material_length(wp, ray):
    hits = wp.ray_hits(*ray)
    return sum(b.distance - a.distance for a, b in zip(hits[::2], hits[1::2]))


@given(programs)
def test_replay_is_deterministic(program):
    moves, tool = program
    a, ca = run(_program(moves, tool), Workpiece(cell=1.0))
    b, cb = run(_program(moves, tool), Workpiece(cell=1.0))
    assert ca == cb
    assert np.array_equal(a.heightmap(), b.heightmap())
    assert a.ray_hits((0.0, -50.0, -1.0), (0.0, 1.0, 0.0)) == b.ray_hits((0.0, -50.0, -1.0), (0.0, 1.0, 0.0))


def test_g18_arc_with_a_ball_end_mill():
    from simulators.cnc_mill.workpiece import arc_plane
    # a centre at the start's z reads as G17 (the ambiguous case included)
    assert arc_plane(mv("arc", 8, 3, (-5, 0, 0), (5, 0, 0), centre=(0, 0, 0))) == "xy"
    # G18 G02 from tip (-5, 0, -1) to (5, 0, -1) about (0, 0, 3): in the ZX plane (u, v) = (z - 3, x) the
    # start is at atan2(-5, -4) = -128.66°; clockwise (negative about +Y) it passes -180°, i.e. x 0 at
    # z = 3 - ρ with ρ = hypot(4, 5), before ending at -231.34°. The ball's lowest point is its tip, so
    # the top at (0, 0) is 3 - ρ, within the chord error
    m = mv("arc", 8, 3, (-5, 0, -1), (5, 0, -1), centre=(0, 0, 3), cw=True)
    assert arc_plane(m) == "zx"
    assert arc_plane(dataclasses.replace(m, plane="G18")) == "zx"          # stated by the interpreter
    assert arc_plane(dataclasses.replace(m, plane="G17")) == "xy"
    wp, crashes = run([mv("feed", 7, 3, (-5, 0, 50), (-5, 0, -1)), m])
    assert crashes == []
    assert wp.top(0.0, 0.0) == pytest.approx(3.0 - math.hypot(4.0, 5.0), abs=0.5e-3)
    # and a G19 arc the same way in the YZ plane ((u, v) = (y, z - 3))
    m = mv("arc", 9, 3, (0, -5, -1), (0, 5, -1), centre=(0, 0, 3), cw=False)
    assert arc_plane(m) == "yz"
    wp, crashes = run([mv("feed", 7, 3, (0, -5, 50), (0, -5, -1)), m])
    assert crashes == []
    # G19 G03 (positive about +X turns Y into Z): from (u, v) = (-5, -4), angle -141.3°, increasing
    # through -90° = (0, -ρ), the bottom at z 3 - ρ, to (5, -4) at -38.7°
    assert wp.top(0.0, 0.0) == pytest.approx(3.0 - math.hypot(4.0, 5.0), abs=0.5e-3)


def _slot_then(rapid_y):
    slot = [mv("rapid", 1, 1, (-60, 0, 50), (-60, 0, -4)), mv("feed", 2, 1, (-60, 0, -4), (0, 0, -4)),
            mv("rapid", 3, 1, (0, 0, -4), (-60, 0, -4))]
    return run(slot + [mv("rapid", 4, 1, (-60, rapid_y, -2), (-10, rapid_y, -2))])[1]


def test_rapid_gouging_a_wall_by_less_than_a_cell():
    # the slot's walls are at y ±5; a rapid 0.02 mm off the centre line cuts 0.02 mm into the y +5
    # wall, between the cell centres at y 4.95 and 5.05: found along the sweep's edge
    assert [(c.kind, c.line) for c in _slot_then(0.02)] == [("rapid_into_stock", 4)]
    assert _slot_then(0.0) == []          # the same path: contact only
    assert _slot_then(5e-7) == []         # 0.5 µm: within the 1 µm contact tolerance


def test_footprint_edge_points():
    from simulators.cnc_mill.stock import footprint_edge
    sweep = Sweep("line", (0.0, 0.0, 0.0), (10.0, 0.0, 0.0), FLAT5)
    xs, ys = footprint_edge(sweep, 5.0, 0.02)
    d = np.hypot(xs - np.clip(xs, 0.0, 10.0), ys)       # distance to the segment
    assert np.all(d <= 5.0 + 1e-12)                      # the end circles' inner halves lie inside
    sides = np.abs(np.abs(ys) - 5.0) < 1e-12
    assert sides.sum() >= 2 * (10.0 / 0.02)              # both side lines, at most 0.02 apart
    outside = (xs < 0.0) | (xs > 10.0)
    assert np.allclose(d[outside], 5.0, atol=1e-12)      # the round ends are on the edge


def test_vise_jaw_grazed_by_less_than_a_cell():
    # jaw face at y 40; T1 beside the block at y 35.03 reaches 40.03: between cell centres (40.05)
    _, crashes = run([mv("rapid", 9, 1, (-60, 0, -18), (-60, 35.03, -18))])
    assert [(c.kind, c.line) for c in crashes] == [("vise_contact", 9)]


def test_setup_specs_from_dicts():
    from simulators.cnc_mill.workpiece import StockSpec, ViseSpec
    spec = StockSpec.from_dict({"x": 120, "y": 60, "z": 25, "material": "2A12"})
    assert spec.raw().footprint == (-60.0, 60.0, -30.0, 30.0) and spec.raw().z_range == (-25.0, 0.0)
    with pytest.raises(KeyError):
        StockSpec.from_dict({"width": 100})
    with pytest.raises(ValueError):
        StockSpec.from_dict({"kind": "sphere"})
    vise = ViseSpec.from_dict({"jaw_top_below_top": 8})
    boxes = {name: (rect, top) for name, rect, top in vise.boxes(spec.raw())}
    assert boxes["fixed jaw"] == ((-75.0, 75.0, 30.0, 50.0), -8.0)      # jaws on the Y faces, 8 below top
    assert boxes["vise bed"][1] == -25.0


def test_unknown_tool_is_refused():
    with pytest.raises(ValueError):
        Workpiece().apply(dataclasses.replace(mv("feed", 3, 1, (0, 0, 5), (0, 0, 1)), tool=12))
