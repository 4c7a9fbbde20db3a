"""Task files (simulators/core/task.py): checks that name the JSON path, limits, the work zero, the exact
reference set-up and the reference check."""
import copy

import pytest

from simulators.core.task import TaskError, check_reference, load_task, reference_setup

# Ø46 to Z-30 then Ø40 to Z-15 with T0101 (straight passes: the diameters are exact), on the default stock.
PROGRAM = """O0001
G99 G97 G54 T0101 M03 S800
G00 X52. Z2.
G01 X46. F0.2
Z-30.
X52.
G00 Z2.
G01 X40.
Z-15.
X46.
G00 X100. Z100.
M30
"""


def lathe_task(**changes):
    task = {
        "format": 1, "id": "T-1", "title": "测试件", "machine_type": "lathe",
        "machine": {"offsets": {"1": {"x": 0, "z": 0}}},
        "available_tools": [{"number": 1, "name": "T01 外圆车刀"}],
        "work_zero": {"z": 0},
        "drawing": "part.svg",
        "time_limit_min": 90,
        "reference_program": PROGRAM,
        "items": [
            {"id": "A", "label": "外圆 Ø40 0/-0.025", "operator": "outer_diameter", "args": {"z": -10},
             "nominal": 40, "upper": 0, "lower": -0.025},
            {"id": "B", "label": "Ra3.2", "operator": "roughness_ra", "args": {"z": -10}, "limits": [None, 3.2]},
        ],
    }
    task.update(changes)
    return task


def mill_task(**changes):
    task = lathe_task(machine_type="mill", machine={"stock": {"x": 80, "y": 80, "z": 30}},
                      available_tools=[{"number": 1, "name": "T1 Ø10 立铣刀"}], work_zero={"x": 0, "y": 0, "z": -0.5},
                      items=[{"id": "A", "label": "深 5", "operator": "depth", "args": {"at": [0, 0]},
                              "nominal": 5, "upper": 0.05, "lower": 0}])
    task.update(changes)
    return task


def error_path(data) -> str:
    with pytest.raises(TaskError) as caught:
        load_task(data)
    return caught.value.path


def test_a_valid_task_loads_with_limits_from_the_deviations():
    task = load_task(lathe_task())
    first, second = task.items
    # Ø40 0/-0.025 → [39.975, 40.000]; Ra with no lower limit
    assert (first.nominal, first.low, first.high) == (40.0, 39.975, 40.0)
    assert (second.nominal, second.low, second.high) == (None, None, 3.2)
    assert task.work_zero == (0.0, 0.0, 0.0) and not task.reference_file


def test_rules_are_kept_but_not_checked():
    data = lathe_task(rules={"pass_mark": 60, "anything": [1, 2]})
    data["items"][0]["rules"] = {"points": 10, "rule": "step", "per": 0.01, "deduct": 3, "future_key": True}
    assert load_task(data).items[0].rules["future_key"] is True


def test_reference_program_can_name_a_file():
    assert load_task(lathe_task(reference_program={"file": "O0001.nc"})).reference_file
    task = load_task(lathe_task(reference_program="O0001.nc"))
    assert task.reference_file and task.reference_program == "O0001.nc"


def _without(data, key):
    data = copy.deepcopy(data)
    del data[key]
    return data


def _item(**fields):
    entry = {"id": "A", "label": "外圆", "operator": "outer_diameter", "args": {"z": -10},
             "nominal": 40, "upper": 0, "lower": -0.025}
    entry.update(fields)
    return [{k: v for k, v in entry.items() if v is not ...}]


@pytest.mark.parametrize("data, path", [
    (_without(lathe_task(), "items"), "items"),
    (lathe_task(colour="red"), "colour"),
    (lathe_task(format=2), "format"),
    (lathe_task(machine_type="grinder"), "machine_type"),
    (lathe_task(machine={"spindel": 1}), "machine"),
    (lathe_task(work_zero={"x": 1, "z": 0}), "work_zero.x"),
    (lathe_task(work_zero={"z": "0"}), "work_zero.z"),
    (lathe_task(drawing="part.pdf"), "drawing"),
    (lathe_task(drawing="../part.svg"), "drawing"),
    (lathe_task(time_limit_min=-5), "time_limit_min"),
    (lathe_task(reference_program={"path": "a.nc"}), "reference_program"),
    (lathe_task(available_tools=[{"number": 9, "name": "T09"}]), "available_tools[0].number"),
    (lathe_task(available_tools=[{"number": 1}]), "available_tools[0].name"),
    (lathe_task(items=[]), "items"),
    (lathe_task(items=_item(operator="roundness")), "items[0].operator"),
    (lathe_task(items=_item(args={"z": "minus ten"})), "items[0].args.z"),
    (lathe_task(items=_item(args={"z": -10, "zz": 1})), "items[0].args.zz"),
    (lathe_task(items=_item(args={})), "items[0].args.z"),
    (lathe_task(items=_item(lower=...)), "items[0].lower"),
    (lathe_task(items=_item(upper=-0.03, lower=0)), "items[0].lower"),
    (lathe_task(items=_item(limits=[39, 40])), "items[0].limits"),
    (lathe_task(items=_item(upper=..., lower=..., limits=[41, 40])), "items[0].limits"),
    (lathe_task(items=_item(upper=..., lower=...)), "items[0].limits"),
    (lathe_task(items=_item(label=...)), "items[0].label"),
    (lathe_task(items=_item(colour=1)), "items[0].colour"),
    (lathe_task(items=_item() + _item()), "items[1].id"),
    (mill_task(items=_item(operator="depth", args={"at": [0]})), "items[0].args.at"),
    (mill_task(items=_item(operator="size", args={"point": [0, 0, 0], "direction": [0, 0]})),
     "items[0].args.direction"),
])
def test_malformed_tasks_name_the_json_path(data, path):
    assert error_path(data) == path


def test_the_machine_error_names_the_key_inside_the_block():
    with pytest.raises(TaskError) as caught:
        load_task(lathe_task(machine={"stock": {"diameter": 50, "colour": "red"}}))
    assert caught.value.path == "machine" and "colour" in str(caught.value)


def test_a_task_that_is_not_an_object():
    assert error_path([1, 2]) == ""


def test_lathe_reference_setup_has_exact_offsets_and_the_work_zero_in_g54():
    task = load_task(lathe_task(machine={"stock": {"stick_out": 75}, "offsets": {"1": {"x": 0, "z": 0}}},
                                work_zero={"z": -1}))
    setup = reference_setup(task)
    # part origin = machine (0, stick-out 75); T01 tip vector (-40, -19.5) → geometry (40, 75 + 19.5)
    assert (setup.offsets[1].geometry_x, setup.offsets[1].geometry_z) == (40.0, 94.5)
    assert setup.offsets[1].wear_x == 0.0 and setup.work_offsets["G54"] == (0.0, -1.0)


def test_mill_reference_setup_puts_g54_at_the_work_zero():
    task = load_task(mill_task(machine={"stock": {"x": 80, "y": 80, "z": 30}, "offsets": {"1": {"h": 0}},
                                        "work_offsets": {"G54": {"x": 0, "y": 0, "z": 0}}}))
    setup = reference_setup(task)
    # the block's top centre is the default part origin (-400, -250, -420); the work zero 0.5 below it
    assert setup.work_offsets["G54"] == (-400.0, -250.0, -420.5)
    # H1 = T1's gauge length 95, D1 = its radius 5
    assert (setup.offsets[1].length, setup.offsets[1].radius) == (95.0, 5.0)


def test_check_reference_passes_and_a_too_tight_tolerance_fails():
    report = check_reference(load_task(lathe_task()), PROGRAM)
    assert report["ok"] and report["run"]["completed"] and report["run"]["alarms"] == []
    assert report["items"][0]["measured"] == pytest.approx(40.0)
    # Ra = 0.2² / (32 · 0.8) mm = 1.5625 µm
    assert report["items"][1]["measured"] == pytest.approx(1.5625)
    tight = lathe_task()
    tight["items"][0].update(nominal=39.98, upper=0.01, lower=-0.01)     # 39.97 … 39.99: Ø40 is out
    report = check_reference(load_task(tight), PROGRAM)
    assert not report["ok"] and not report["items"][0]["ok"] and report["items"][1]["ok"]


def test_check_reference_fails_on_an_alarm():
    report = check_reference(load_task(lathe_task()), "O0001\nG01 X40. Z-10.\nM30\n")   # F0 at power-on: PS0011
    assert not report["ok"] and report["run"]["alarms"][0]["code"] == "PS0011"


def test_the_json_schema_lists_every_operator_with_its_arguments():
    """docs/task.schema.json describes each operator's arguments: it must not drift from the operator tables."""
    import json
    from pathlib import Path

    from simulators.core.task import operators_for

    schema = json.loads((Path(__file__).resolve().parents[2] / "docs" / "task.schema.json").read_text("utf-8"))
    for machine in ("lathe", "mill"):
        operators = operators_for(machine)
        described = schema["$defs"][f"{machine}_args"]
        assert set(described) == set(operators)
        for name, operator in operators.items():
            assert set(described[name]["properties"]) == set(operator.args)
            assert set(described[name]["required"]) == {k for k, a in operator.args.items() if a.required}


def test_reference_setup_agrees_with_the_tool_setting_truth():
    """The exact offsets of `task check` and those grading compares a candidate with (setting.py) are the same:
    lathe face at machine z = stick-out 75 + work zero −1 = 74; mill zero at part origin + (0, 0, −0.5)."""
    lathe_setting = pytest.importorskip("simulators.cnc_lathe.setting")
    mill_setting = pytest.importorskip("simulators.cnc_mill.setting")
    lathe = load_task(lathe_task(machine={"stock": {"stick_out": 75}}, work_zero={"z": -1}))
    exact = lathe_setting.exact_offsets(lathe.setup(), (0.0, 74.0))
    assert lathe_setting.offset_errors(reference_setup(lathe), exact)["max_abs"] == 0.0
    mill = load_task(mill_task())
    exact = mill_setting.exact_offsets(mill.setup(), (-400.0, -250.0, -420.5))
    assert mill_setting.offset_errors(reference_setup(mill), exact)["max_abs"] == 0.0


@pytest.mark.parametrize("example", ["lathe_zj01", "mill_zj01"])
def test_any_mutation_of_a_task_raises_only_task_error(example):
    """Seeded random damage (a value replaced by junk, or a key removed) anywhere in an example task: the
    loader either accepts it or raises TaskError, never anything else."""
    import json
    import random
    from pathlib import Path

    base = json.loads((Path(__file__).resolve().parents[2] / "examples" / "tasks" / example / "task.json")
                      .read_text("utf-8"))
    junk = [None, True, -1, 0, 0.5, 1e9, "x", "", [], [1], [1, 2, 3], {}, {"a": 1}]
    rng = random.Random(20261126)
    rejected = 0
    for _ in range(300):
        data = copy.deepcopy(base)
        node, parent, key = data, None, None
        for _ in range(rng.randint(1, 5)):
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            parent, key = node, rng.choice(keys)
            if not isinstance(parent[key], (dict, list)) or rng.random() < 0.3:
                break
            node = parent[key]
        if parent is None:
            continue
        if isinstance(parent, dict) and rng.random() < 0.3:
            del parent[key]
        else:
            parent[key] = rng.choice(junk)
        try:
            load_task(data)
        except TaskError:
            rejected += 1
    assert rejected > 100      # the damage is mostly caught, and nothing but TaskError escaped
