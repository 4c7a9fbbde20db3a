"""Display heightmap: layout, resolution parameter, analytic cell values, touched window only."""
import math

import numpy as np
import pytest

from simulators.cnc_mill.workpiece import Workpiece
from tests.simulators.mill_motions import TOOLS, mv, run



def test_layout_and_dtype():
    wp = Workpiece()
    hm = wp.heightmap()
    assert hm.shape == (800, 1000) and hm.dtype == np.float32       # 80 / 0.1 rows, 100 / 0.1 columns
    assert np.all(hm == 0.0)
    coarse = Workpiece(cell=0.5).heightmap()
    assert coarse.shape == (160, 200)


def test_row_zero_is_smallest_y_and_column_zero_smallest_x():
    # T2 (Ø6) plunge at the corner region x -40, y -30 to Z-2
    wp, _ = run([mv("rapid", 1, 2, (-40, -30, 20), (-40, -30, 2)), mv("feed", 2, 2, (-40, -30, 2), (-40, -30, -2))])
    hm = wp.heightmap()
    # cell (row r, col c) has centre x = -50 + 0.1 (c + 0.5), y = -40 + 0.1 (r + 0.5): (-40.05, -30.05)
    # is row 99, column 99, 0.0707 mm from the axis
    assert hm[99, 99] == pytest.approx(-2.0)
    assert hm[800 - 100, 99] == 0.0 and hm[99, 1000 - 100] == 0.0


def test_cell_values_follow_the_ball_profile():
    # T3 (ball R4) slot along X at y 0, tip Z-3: a cell centre d from the path is at -3 + 4 - sqrt(16 - d²)
    wp, _ = run([mv("rapid", 1, 3, (-60, 0, 20), (-60, 0, -3)), mv("feed", 2, 3, (-60, 0, -3), (60, 0, -3))])
    hm = wp.heightmap()
    for row in range(380, 420):
        y = -40.0 + 0.1 * (row + 0.5)
        expected = -3.0 + 4.0 - math.sqrt(16.0 - y * y) if abs(y) < 4.0 else 0.0
        assert float(hm[row, 500]) == pytest.approx(min(expected, 0.0), abs=1e-6)


def test_only_the_window_under_the_tool_changes():
    wp, _ = run([mv("rapid", 1, 1, (0, 0, 20), (0, 0, 2)), mv("feed", 2, 1, (0, 0, 2), (0, 0, -1))])
    hm = wp.heightmap()
    changed = np.argwhere(hm < 0.0)
    # the Ø10 disc: cells with centres within 5 of the origin: rows 400 ± 50 (y), columns 500 ± 50 (x)
    assert changed[:, 0].min() == 350 and changed[:, 0].max() == 449
    assert changed[:, 1].min() == 450 and changed[:, 1].max() == 549
    assert len(changed) == pytest.approx(math.pi * 25.0 / 0.01, rel=0.01)     # disc area / cell area


def test_cut_through_shows_the_bottom():
    wp, crashes = run([mv("rapid", 1, 5, (0, 0, 20), (0, 0, 2)), mv("feed", 2, 5, (0, 0, 2), (0, 0, -29.9))])
    assert crashes == []
    # at the axis the 118° point is at -29.9: still 0.1 above the bottom
    point = -29.9 + 0.05 * math.sqrt(2.0) / math.tan(math.radians(59.0))
    assert float(wp.heightmap()[399, 499]) == pytest.approx(point, abs=1e-5)


def test_round_bar_top():
    from simulators.cnc_mill.workpiece import StockSpec
    wp = Workpiece(StockSpec(kind="bar", length=100.0, diameter=40.0))
    hm = wp.heightmap()
    assert hm.shape == (400, 1000)
    # row 0 centre y = -19.95: top = -20 + sqrt(400 - 19.95²)
    assert float(hm[0, 0]) == pytest.approx(-20.0 + math.sqrt(400.0 - 19.95 ** 2), abs=1e-5)
    hits = wp.ray_hits((0.0, -30.0, -20.0), (0.0, 1.0, 0.0))
    assert [round(h.point[1], 9) for h in hits] == [-20.0, 20.0]


def test_cells_exactly_on_a_wall_agree_with_the_exact_model():
    # T1 slot along X at y -0.05 and a diagonal one: walls pass through cell centres (y 4.95 is row 449)
    # or near them; whichever side a tie falls on, the display and the exact model must agree
    wp, _ = run([mv("rapid", 1, 1, (-60, -0.05, 20), (-60, -0.05, -2)),
                 mv("feed", 2, 1, (-60, -0.05, -2), (10, -0.05, -2)),
                 mv("feed", 3, 1, (10, -0.05, -2), (30.05, 20.05, -3))])
    hm = wp.heightmap()
    xs, ys = wp.grid.xs, wp.grid.ys
    for r in (349, 350, 448, 449, 450):
        for c in range(0, 1000, 37):
            assert float(hm[r, c]) == pytest.approx(wp.top(xs[c], ys[r]), abs=1e-6)
    rows, cols = np.meshgrid(np.arange(400, 700), np.arange(550, 850), indexing="ij")
    exact = wp.model.tops(xs[cols].ravel(), ys[rows].ravel())
    assert np.max(np.abs(hm[rows, cols].ravel() - np.maximum(exact, -30.0))) <= 1e-6


@pytest.mark.parametrize("a, b", [((-20.0, 3.0, -2.0), (20.0, 3.0, -2.0)),       # along X
                                  ((4.0, -15.0, -1.0), (4.0, 12.0, -1.0)),       # along Y
                                  ((-7.3, -2.1, -3.0), (6.9, 5.55, -3.0)),       # oblique, horizontal
                                  ((1.05, 2.05, 0.0), (1.05, 2.05, -4.0)),       # plunge (vertical)
                                  ((0.0, 0.0, -1.5), (0.0, 0.0, -1.5))])         # zero length
def test_flat_line_fast_path_equals_the_general_bottom(a, b):
    # Heightmap.lower_sweep lowers the cells within reach of a flat end in place; it must give exactly what
    # lowering the window to stock.bottom() gives, cell for cell, on a surface that is already stepped
    from simulators.cnc_mill.stock import make_sweeps
    fast, slow = Workpiece().grid, Workpiece().grid
    for grid in (fast, slow):
        grid.z[:, : grid.nx // 2] = -2.5                  # a step: half the cells already below some cuts
    sweep = make_sweeps("line", a, b, TOOLS[1].pieces)[0]
    before = fast.z.copy()
    win = fast.window(sweep.box)
    fast.lower_sweep(sweep, win)
    slow.lower(win, slow.sweep_bottom(sweep, win))
    assert np.array_equal(fast.z, slow.z)
    assert np.count_nonzero(fast.z != before) > 0         # the move did cut something in this test


# ------------------------------------------------------------------------------------------ memory (issue #9)

@pytest.mark.parametrize("spec, bottom_of_row_0", [
    (dict(kind="block"), -30.0),                                             # the 30 mm block's bottom face
    (dict(kind="bar", length=100.0, diameter=40.0), -20.0 - math.sqrt(400.0 - 19.95 ** 2))])  # row 0: y −19.95
def test_floor_is_one_column_equal_to_the_raw_bottom_everywhere(spec, bottom_of_row_0):
    from simulators.cnc_mill.workpiece import StockSpec
    grid = Workpiece(StockSpec(**spec)).grid
    assert grid.floor.shape == (grid.ny, 1)                                  # not a second (ny, nx) array
    full = grid.raw.bottom0(grid.xs[None, :], grid.ys[:, None])
    assert np.array_equal(np.broadcast_to(grid.floor, full.shape), full)
    assert float(grid.floor[0, 0]) == pytest.approx(bottom_of_row_0, abs=1e-12)
    win = (slice(10, 30), slice(100, 140))
    assert np.array_equal(np.broadcast_to(grid.floor_at(win), (20, 40)), full[win])


def test_cut_through_cells_show_the_stock_bottom():
    # T5 (Ø8.5 drill, 118°) to tip z −31 at the centre: through the 30 mm block (and into the vise bed: a crash,
    # but the move still removes what it swept). Cell (399, 499), centre (−0.05, −0.05), 0.05√2 from the axis,
    # is cut to −31 + 0.05√2 / tan 59° = −30.958 and shows the bottom −30.
    wp, crashes = run([mv("rapid", 1, 5, (0, 0, 20), (0, 0, 2)), mv("feed", 2, 5, (0, 0, 2), (0, 0, -31))])
    assert [c.kind for c in crashes] == ["vise_contact"]
    assert float(wp.grid.z[399, 499]) == pytest.approx(-31.0 + 0.05 * math.sqrt(2.0) / math.tan(math.radians(59.0)))
    assert float(wp.heightmap()[399, 499]) == -30.0
    assert float(wp.heightmap()[399, 560]) == 0.0                            # x 6.05: outside the Ø8.5 hole


def test_display_equals_the_float64_maximum_rounded():
    # the display is float32(max(z, floor)) computed in float64; rounding first must give the same bits
    wp, _ = run([mv("rapid", 1, 3, (-60, 0.013, 20), (-60, 0.013, -3.3)),
                 mv("feed", 2, 3, (-60, 0.013, -3.3), (60, 7.1, -2.7)),              # sloped ball: arbitrary values
                 mv("rapid", 3, 3, (60, 7.1, -2.7), (60, 7.1, 20)),
                 mv("rapid", 4, 5, (20, 20, 20), (20, 20, 2)), mv("feed", 5, 5, (20, 20, 2), (20, 20, -29.99))])
    grid = wp.grid
    expected = np.maximum(grid.z, np.broadcast_to(grid.floor, grid.z.shape)).astype(np.float32)
    assert np.array_equal(wp.heightmap(), expected)
    assert np.count_nonzero(expected < 0.0) > 1000                            # the moves did cut


def test_tile_tracker_keeps_a_digest_per_tile_not_a_copy():
    from simulators.cnc_mill.tiles import TileTracker
    tracker = TileTracker(Workpiece().grid)
    # 800 × 1000 cells in 32 × 32 tiles: 25 × 32 = 800 tiles of 16 bytes (the float32 copy was 3.2 MB)
    assert len(tracker.sent) == 25 * 32
    assert {len(d) for d in tracker.sent.values()} == {16}


def test_a_change_of_one_float32_step_is_sent_and_a_signed_zero_is_not():
    from simulators.cnc_mill.tiles import TileTracker, decode
    grid = Workpiece().grid
    tracker = TileTracker(grid)
    below_zero = float(np.nextafter(np.float32(0.0), np.float32(-1.0)))     # the float32 just under 0: −1.4e-45
    grid.z[5, 40] = below_zero                                                # tile (0, 1): columns 32..63
    grid.z[5, 70] = -0.0                                                      # tile (0, 2): equal to 0.0
    tracker.touch((-50.0, -42.0, -40.0, -39.0))                               # columns 0..80, rows 0..10
    tiles = tracker.changed()
    assert [(t["row"], t["col"]) for t in tiles] == [(0, 1)]
    assert float(decode(tiles[0])[5, 8]) == below_zero
    assert tracker.changed() == []


def test_the_grid_is_float32_rounded_down_from_the_exact_top():
    # a sloped ball pass (arbitrary float64 tops) and a drill 20 deep: every stored top is the exact one or
    # the float32 just below it, never above (the crash checks stay conservative); 4 bytes a cell
    wp, _ = run([mv("rapid", 1, 3, (-60, 0.013, 20), (-60, 0.013, -3.3)),
                 mv("feed", 2, 3, (-60, 0.013, -3.3), (60, 7.1, -2.7)),
                 mv("rapid", 3, 3, (60, 7.1, -2.7), (60, 7.1, 20)),
                 mv("rapid", 4, 5, (20, 20, 20), (20, 20, 2)), mv("feed", 5, 5, (20, 20, 2), (20, 20, -20.0))])
    grid = wp.grid
    assert grid.z.dtype == np.float32 and grid.z.nbytes == 800 * 1000 * 4
    rows, cols = np.meshgrid(np.arange(380, 480), np.arange(0, 1000, 7), indexing="ij")
    rows = np.concatenate([rows.ravel(), 600 + np.arange(0, 20)])
    cols = np.concatenate([cols.ravel(), np.full(20, 700)])
    exact = np.maximum(wp.model.tops(grid.xs[cols], grid.ys[rows]), -30.0)
    stored = grid.z[rows, cols].astype(np.float64)
    assert np.all(stored <= exact)
    assert np.all(np.nextafter(grid.z[rows, cols], np.float32(np.inf)).astype(np.float64) > exact)
    assert np.count_nonzero(stored < -0.1) > 1000 and stored.min() < -16.0     # deep cells: float32 steps of 1.9e-6
