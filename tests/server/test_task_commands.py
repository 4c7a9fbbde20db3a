"""`examctl task check` and `examctl replay` (exam_server/task_commands.py), called through their handlers."""
import argparse
import io
import json
import shutil
from pathlib import Path

import pytest

from exam_server import task_commands
from exam_server.task_commands import InputError, read_events

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "tasks"
LATHE = EXAMPLES / "lathe_zj01" / "task.json"
MILL = EXAMPLES / "mill_zj01" / "task.json"


def run(handler, **args):
    out, err = io.StringIO(), io.StringIO()
    code = handler(argparse.Namespace(**args), out, err)
    return code, out.getvalue(), err.getvalue()


def check(task_path, as_json=True):
    return run(task_commands.task_check, task=str(task_path), json=as_json)


def copied_example(tmp_path, example=LATHE) -> Path:
    target = tmp_path / example.parent.name
    shutil.copytree(example.parent, target)
    return target / "task.json"


def rewrite(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


# ------------------------------------------------------------------------------------------- task check

@pytest.mark.parametrize("task_path, count", [(LATHE, 14), (MILL, 12)])
def test_the_example_tasks_pass(task_path, count):
    code, out, err = check(task_path)
    report = json.loads(out)
    assert code == 0, out + err
    assert report["ok"] and report["run"]["completed"]
    assert report["run"]["alarms"] == report["run"]["crashes"] == report["run"]["stalls"] == []
    assert len(report["items"]) == count and all(item["ok"] for item in report["items"])


def test_example_values_match_the_reference_programs():
    """Spot checks worked out from the programs: the reference programs aim at the middle of the bands."""
    lathe = {i["id"]: i["measured"] for i in json.loads(check(LATHE)[1])["items"]}
    assert lathe["L03"] == pytest.approx(31.988)       # N160 X31.988
    assert lathe["L04"] == pytest.approx(25.99)        # N140 X25.99
    # N410 G76 X17.636 with a sharp 60° tool: d2 = 17.636 + 2 · (0.75 / 2) / tan 30° = 17.636 + 1.299038
    assert lathe["L07"] == pytest.approx(17.636 + 1.299038, abs=1e-5)
    mill = {i["id"]: i["measured"] for i in json.loads(check(MILL)[1])["items"]}
    assert mill["M04"] == pytest.approx(30.016)        # N370/N380: finishing circle radius 15.008
    assert mill["M05"] == pytest.approx(5.025)         # N350 Z-5.025
    # N550 Z-14.55 with a 118° point: full diameter to 14.55 − 4.25 / tan 59° = 14.55 − 2.553648
    assert mill["M09"] == pytest.approx(14.55 - 2.553648, abs=1e-5)


def test_text_output_has_one_line_per_item(tmp_path):
    code, out, _ = check(LATHE, as_json=False)
    lines = out.splitlines()
    assert code == 0 and lines[-1] == "result: OK"
    assert sum(1 for line in lines if line.lstrip().startswith("OK ")) == 14
    assert any("L01" in line and "47.961" in line and "48.000" in line and "47.98" in line for line in lines)


def test_a_too_tight_tolerance_fails_with_exit_1(tmp_path):
    path = copied_example(tmp_path)

    def tighten(data):     # Ø32 made to 31.988: a band 31.990 … 32.000 leaves it 0.002 under
        data["items"][2].update(nominal=32, upper=0, lower=-0.01)

    rewrite(path, tighten)
    code, out, _ = check(path, as_json=False)
    assert code == 1
    assert any(line.lstrip().startswith("OUT L03") for line in out.splitlines())
    assert out.splitlines()[-1].startswith("result: FAILED (1 item")


def test_a_reference_program_that_crashes_fails_with_exit_1(tmp_path):
    path = copied_example(tmp_path)
    (path.parent / "O1001.nc").write_text("O1001\nG99 T0101 M03 S800\nG00 X40. Z-10.\nM30\n")  # rapid into the bar
    code, out, _ = check(path)
    report = json.loads(out)
    assert code == 1 and report["run"]["crashes"][0]["kind"] == "rapid_into_stock"


@pytest.mark.parametrize("change, path_named", [
    (lambda d: d["items"][0]["args"].update(z="minus"), "items[0].args.z"),
    (lambda d: d["items"][3].update(operator="roundness"), "items[3].operator"),
    (lambda d: d.update(machine_type="grinder"), "machine_type"),
    (lambda d: d["machine"]["stock"].update(colour="red"), "machine"),
    (lambda d: d.pop("work_zero"), "work_zero"),
])
def test_a_malformed_task_exits_2_naming_the_path(tmp_path, change, path_named):
    path = copied_example(tmp_path)
    rewrite(path, change)
    code, out, err = check(path)
    assert code == 2 and out == ""
    assert f"{path}: {path_named}:" in err


def test_missing_files_exit_2(tmp_path):
    path = copied_example(tmp_path)
    (path.parent / "drawing.svg").unlink()
    code, _, err = check(path)
    assert code == 2 and "drawing" in err and "drawing.svg" in err
    path = copied_example(tmp_path / "again")
    (path.parent / "O1001.nc").unlink()
    code, _, err = check(path)
    assert code == 2 and "reference_program" in err
    code, _, err = check(tmp_path / "nothing.json")
    assert code == 2 and "nothing.json" in err


def test_a_task_that_is_not_json_exits_2(tmp_path):
    path = tmp_path / "task.json"
    path.write_text("{\"format\": 1,,}")
    code, _, err = check(path)
    assert code == 2 and "not JSON" in err


def test_register_adds_both_commands():
    parser = argparse.ArgumentParser()
    task_commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["task", "check", "t.json", "--json"])
    assert args.handler is task_commands.task_check and args.json and args.task == "t.json"
    args = parser.parse_args(["replay", "t.json", "trace.jsonl"])
    assert args.handler is task_commands.replay_trace and args.trace == "trace.jsonl" and not args.json


# ------------------------------------------------------------------------------------------------ replay

def test_trace_lines_are_read_one_event_each():
    lines = ['{"v": 1, "seq": 1, "t_client": 0, "t_server": null, "type": "power_on", "payload": {}}\n', "\n",
             '{"v": 1, "seq": 2, "t_client": 5, "t_server": null, "type": "reset", "payload": {}}\n']
    assert [e["seq"] for e in read_events(lines)] == [1, 2]


@pytest.mark.parametrize("bad, message", [
    ('{"type": "reset", ', "line 3: not JSON"),
    ('[1, 2]', "line 3: an event must be a JSON object"),
    ('{"seq": 3}', "line 3: the event has no type"),
])
def test_a_bad_trace_line_is_named(bad, message):
    lines = ['{"seq": 1, "type": "power_on"}', "", bad]
    with pytest.raises(InputError) as caught:
        list(read_events(lines, "trace.jsonl"))
    assert str(caught.value).startswith(f"trace.jsonl: {message}")


def test_replay_exits_2_on_a_bad_trace_or_task(tmp_path):
    trace = tmp_path / "trace.jsonl"
    trace.write_text('{"seq": 1, "type": "power_on"}\nnot json\n')
    code, _, err = run(task_commands.replay_trace, task=str(LATHE), trace=str(trace), json=True)
    assert code == 2 and "line 2" in err
    code, _, err = run(task_commands.replay_trace, task=str(LATHE), trace=str(tmp_path / "none.jsonl"), json=True)
    assert code == 2 and "none.jsonl" in err
    bad_task = copied_example(tmp_path)
    rewrite(bad_task, lambda d: d.update(format=7))
    trace.write_text("")
    code, _, err = run(task_commands.replay_trace, task=str(bad_task), trace=str(trace), json=True)
    assert code == 2 and "format" in err


def test_replay_without_machine_sessions_says_so(tmp_path, monkeypatch):
    assert task_commands.session_replay("no_such_machine") is None
    monkeypatch.setattr(task_commands, "session_replay", lambda machine_type: None)
    trace = tmp_path / "trace.jsonl"
    trace.write_text('{"seq": 1, "type": "power_on"}\n')
    code, out, err = run(task_commands.replay_trace, task=str(LATHE), trace=str(trace), json=True)
    assert code == 3 and out == "" and "machine sessions not available" in err


class FakeSession:
    def __init__(self, machine, events):
        self.machine, self.events = machine, list(events)

    def summary(self, items=(), work_zero=None):
        return {"events": len(self.events), "stick_out": self.machine["stock"]["stick_out"], "items": list(items),
                "work_zero": work_zero}


def test_replay_prints_the_session_summary(tmp_path, monkeypatch):
    monkeypatch.setattr(task_commands, "session_replay", lambda machine_type: FakeSession)
    trace = tmp_path / "trace.jsonl"
    trace.write_text('{"seq": 1, "type": "power_on"}\n{"seq": 2, "type": "reset"}\n')
    code, out, _ = run(task_commands.replay_trace, task=str(LATHE), trace=str(trace), json=True)
    summary = json.loads(out)
    assert code == 0 and summary["events"] == 2 and summary["stick_out"] == 75
    # the session gets the task's items and work zero as the task file gives them
    assert summary["items"][0]["id"] == "L01" and summary["items"][0]["args"] == {"z": -62}
    assert summary["work_zero"] == {"z": -1.0}
    code, out, _ = run(task_commands.replay_trace, task=str(LATHE), trace=str(trace), json=False)
    assert code == 0 and out.splitlines()[0].startswith("LX-ZJ01")


@pytest.mark.parametrize("task_path", [LATHE, MILL])
def test_replaying_the_reference_trace_makes_the_part(task_path):
    """trace_reference.jsonl: power on, reference return, stock and tools loaded, the exact offsets typed in
    (lathe geometry X = −2 · tip x, Z = face z − tip z; mill G54 = part origin + work zero, H = gauge
    length), the reference program entered and run: the replayed part passes every item."""
    machine = "lathe" if task_path is LATHE else "mill"
    module = pytest.importorskip(f"simulators.cnc_{machine}.session")
    if not hasattr(module, "replay"):
        pytest.skip(f"the {machine} session has no replay yet")
    trace = task_path.parent / "trace_reference.jsonl"
    code, out, err = run(task_commands.replay_trace, task=str(task_path), trace=str(trace), json=True)
    summary = json.loads(out)
    assert code == 0, err
    assert summary["alarms"] == [] and summary["crashes"] == [] and summary["invalid_events"] == []
    measurements = summary["measurements"]
    assert len(measurements) == (14 if machine == "lathe" else 12)
    assert all(m["ok"] for m in measurements), [m for m in measurements if not m["ok"]]
    assert summary["offset_errors"] is not None


# ------------------------------------------------------------------------------------------------ schema

@pytest.mark.parametrize("task_path", [LATHE, MILL])
def test_the_examples_validate_against_the_json_schema(task_path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "docs" / "task.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(json.loads(task_path.read_text(encoding="utf-8")))


def test_the_schema_rejects_what_the_loader_rejects():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "docs" / "task.schema.json").read_text(encoding="utf-8"))
    data = json.loads(LATHE.read_text(encoding="utf-8"))
    data["items"][0].pop("lower")
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(data))
