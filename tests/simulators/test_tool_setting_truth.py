"""Tool-setting truth: the exact offsets of a task and the candidate's errors against them."""
from dataclasses import replace

import pytest

from simulators.cnc_lathe import machine as lathe_machine
from simulators.cnc_lathe import setting as lathe_setting
from simulators.cnc_mill import machine as mill_machine
from simulators.cnc_mill import setting as mill_setting

# ----------------------------------------------------------------------------------------------- lathe


def with_line(setup, number, **changes):
    offsets = dict(setup.offsets)
    offsets[number] = replace(offsets[number], **changes)
    return replace(setup, offsets=offsets)


def test_lathe_truth_is_the_preset_of_the_default_setup():
    setup = lathe_machine.default_setup()
    exact = lathe_setting.exact_offsets(setup, 70.0)      # right end face at machine z 70 (stick-out)
    # docs/lathe.md: T01 tip vector (−40, −19.5) → X = 2 × 40 = Ø80, Z = 70 + 19.5 = 89.5, R0.8 T3
    assert exact["tools"][1] == {"offset": 1, "x": 80.0, "z": 89.5, "r": 0.8, "t": 3}
    # T05 boring bar (−60, −110) → Ø120, 180; T03 grooving (−45, −12.5) → Ø90, 82.5
    assert (exact["tools"][5]["x"], exact["tools"][5]["z"]) == (120.0, 180.0)
    assert (exact["tools"][3]["x"], exact["tools"][3]["z"]) == (90.0, 82.5)
    for station, truth in exact["tools"].items():
        line = setup.offsets[station]
        assert truth["x"] == pytest.approx(2.0 * line.geometry_x) and truth["z"] == pytest.approx(line.geometry_z)
    errors = lathe_setting.offset_errors(setup, exact)
    assert errors["max_abs"] == 0.0
    assert all(e["t_ok"] and e["r"] == 0.0 for e in errors["tools"].values())


def test_lathe_error_of_an_offset_off_by_0_05():
    setup = lathe_machine.default_setup()
    exact = lathe_setting.exact_offsets(setup, 70.0)
    # geometry X of line 1 entered as Ø80.05 (radius 40.025) and Z as 89.45
    wrong = with_line(setup, 1, geometry_x=40.025, geometry_z=89.45)
    errors = lathe_setting.offset_errors(wrong, exact)["tools"]
    assert errors[1]["x"] == pytest.approx(0.05) and errors[1]["z"] == pytest.approx(-0.05)
    assert errors[2]["x"] == 0.0 and errors[2]["z"] == 0.0
    # the same 0.05 put into the wear: the tip goes there too, the geometry page itself is right
    worn = with_line(setup, 2, wear_x=0.025)
    errors = lathe_setting.offset_errors(worn, exact)["tools"]
    assert errors[2]["x"] == pytest.approx(0.05) and errors[2]["geometry_x"] == 0.0


def test_lathe_face_in_g54_and_tools_measured_against_it_is_exact():
    setup = lathe_machine.default_setup()
    exact = lathe_setting.exact_offsets(setup, 70.0)
    # G54 Z = 70 (the face) and every geometry Z 70 less: the sums are unchanged
    moved = replace(setup, work_offsets={**setup.work_offsets, "G54": (0.0, 70.0)},
                    offsets={k: replace(v, geometry_z=v.geometry_z - 70.0) for k, v in setup.offsets.items()})
    assert lathe_setting.offset_errors(moved, exact)["max_abs"] == pytest.approx(0.0, abs=1e-9)
    # graded against G55 (still zero) the same table is 70 mm short
    assert lathe_setting.offset_errors(moved, exact, work_system="G55")["tools"][1]["z"] == pytest.approx(-70.0)


def test_lathe_faced_end_moves_the_truth():
    setup = lathe_machine.default_setup()
    exact = lathe_setting.exact_offsets(setup, {"z": 69.0})       # 1 mm faced off: Z = 69 + 19.5 = 88.5
    assert exact["tools"][1]["z"] == 88.5
    assert lathe_setting.offset_errors(setup, exact)["tools"][1]["z"] == pytest.approx(1.0)


def test_lathe_offset_table_in_json_form_and_pairing():
    setup = lathe_machine.default_setup()
    exact = lathe_setting.exact_offsets(setup, 70.0)
    # the candidate set station 1 on offset line 11, as the offset page shows it (X a diameter)
    table = {"11": {"x": 79.96, "z": 89.5, "r": 0.8, "t": 3}}
    errors = lathe_setting.offset_errors(table, exact, pairing={1: 11})["tools"]
    assert errors[1]["offset"] == 11 and errors[1]["x"] == pytest.approx(-0.04) and errors[1]["z"] == 0.0
    assert errors[2]["x"] == pytest.approx(-80.0) and not errors[2]["t_ok"]     # line 2 left empty


def test_lathe_truth_follows_a_task_stock():
    setup = lathe_machine.setup_from_dict({"stock": {"stick_out": 60}})
    exact = lathe_setting.exact_offsets(setup, (0.0, 60.0))
    assert exact["tools"][1]["z"] == 60.0 + 19.5
    assert lathe_setting.offset_errors(setup, exact)["max_abs"] == 0.0


# ------------------------------------------------------------------------------------------------ mill

MILL_LENGTHS = {1: 95.0, 2: 85.0, 3: 90.0, 4: 95.0, 5: 145.0, 6: 120.0, 7: 110.0}   # docs/mill.md


def test_mill_truth_is_the_preset_of_the_default_setup():
    setup = mill_machine.default_setup()
    exact = mill_setting.exact_offsets(setup, "top_centre")
    assert exact["work_zero"] == {"x": -400.0, "y": -250.0, "z": -420.0}       # part origin
    assert exact["conventions"]["tool_length"]["h"] == MILL_LENGTHS
    assert exact["conventions"]["touch"]["h"][1] == -420.0 + 95.0
    assert exact["tools"][1]["radius"] == 5.0
    errors = mill_setting.offset_errors(setup, exact)
    assert errors["convention"] == "tool_length" and errors["max_abs"] == 0.0 and errors["g54_z"] == 0.0
    assert all(e["h"] == 0.0 and e["d"] == 0.0 for e in errors["tools"].values())


def test_mill_touch_convention_is_exact_too():
    setup = mill_machine.default_setup()
    exact = mill_setting.exact_offsets(setup, (-400.0, -250.0, -420.0))
    # G54 Z 0; H n = the machine z of the gauge point with tool n's tip on the top: −420 + L n
    offsets = {n: mill_machine.OffsetLine(length=-420.0 + length, radius=setup.tools[n].diameter / 2.0)
               for n, length in MILL_LENGTHS.items()}
    touched = replace(setup, offsets=offsets, work_offsets={**setup.work_offsets, "G54": (-400.0, -250.0, 0.0)})
    errors = mill_setting.offset_errors(touched, exact)
    assert errors["convention"] == "touch" and errors["max_abs"] == pytest.approx(0.0, abs=1e-9)


def test_mill_errors_of_offsets_off_by_0_05():
    setup = mill_machine.default_setup()
    exact = mill_setting.exact_offsets(setup, "top_centre")
    offsets = dict(setup.offsets)
    offsets[1] = replace(offsets[1], length=95.05)
    offsets[2] = replace(offsets[2], length_wear=-0.05)
    wrong = replace(setup, offsets=offsets, work_offsets={**setup.work_offsets, "G54": (-400.05, -249.95, -420.0)})
    errors = mill_setting.offset_errors(wrong, exact)
    assert errors["x"] == pytest.approx(-0.05) and errors["y"] == pytest.approx(0.05)
    assert errors["tools"][1]["z"] == pytest.approx(0.05) and errors["tools"][1]["h"] == pytest.approx(0.05)
    assert errors["tools"][2]["z"] == pytest.approx(-0.05)
    assert errors["tools"][3]["z"] == 0.0


def test_mill_corner_work_zero_and_dict_form():
    setup = mill_machine.default_setup()
    # front-left corner of the 100 × 80 block centred at (−400, −250): (−450, −290), top at −420
    exact = mill_setting.exact_offsets(setup, "top_front_left")
    assert exact["work_zero"] == {"x": -450.0, "y": -290.0, "z": -420.0}
    candidate = {"work_offset": {"x": -450.0, "y": -290.02, "z": 0.0},
                 "offsets": {"1": {"h": -325.0, "d": 5.0}, "2": {"h": -335.0, "d": 3.0, "d_wear": 0.01}}}
    errors = mill_setting.offset_errors(candidate, exact)
    assert errors["convention"] == "touch" and errors["y"] == pytest.approx(-0.02)
    assert errors["tools"][1]["z"] == 0.0 and errors["tools"][2]["z"] == 0.0
    assert errors["tools"][2]["d"] == pytest.approx(0.01)
    with pytest.raises(ValueError):
        mill_setting.exact_offsets(setup, "somewhere")


def test_lathe_offset_error_is_what_the_micrometer_finds_on_the_part():
    from simulators.cnc_lathe import instruments, run

    setup = with_line(lathe_machine.default_setup(), 1, geometry_x=40.025)    # Ø80.05: 0.05 too large
    program = "O1\nT0101\nG99 M03 S800\nG00 X52. Z2.\nG01 X40. F0.2\nZ-20.\nX52.\nG00 Z2.\nX200. Z150.\nM30\n"
    simulation = run.simulate(program, setup)
    assert simulation.completed and not simulation.crashes
    # the tip stands 0.025 mm further out (radius): "X40." turns Ø40.05
    assert instruments.read(simulation.workpiece, "micrometer", z=-10.0)["value"] == 40.05
    exact = lathe_setting.exact_offsets(setup, 70.0)
    assert lathe_setting.offset_errors(setup, exact)["tools"][1]["x"] == pytest.approx(0.05)
