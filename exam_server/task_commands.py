"""`examctl task check TASK.json` and `examctl replay TASK.json TRACE.jsonl`: task files on the command line.

Neither needs the database: they read files, call the pure simulators and print. Exit status: 0 done (task
check: every item in tolerance), 1 task check failed (an item out of tolerance or not measurable, or the
reference program alarmed, crashed, stalled or did not end), 2 unusable input (malformed task — the message
names the JSON path —, unreadable file, bad trace line), 3 the machine sessions are not available.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any, Iterator, TextIO

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_UNAVAILABLE = 0, 1, 2, 3
BULKY_KEYS = ("stock", "heightmap", "tiles")     # summary keys too big for the text output


class InputError(Exception):
    """A file that cannot be used; the message says which and where."""


def register(subparsers) -> None:
    """Add `task check` and `replay` to examctl's subcommands; each parser's ``handler`` runs it."""
    task = subparsers.add_parser("task", help="task files (practical exam parts)")
    actions = task.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="run the reference program with exact offsets and measure every item")
    check.add_argument("task", help="task file (JSON, docs/task-format.md)")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(handler=task_check)

    replay = subparsers.add_parser("replay", help="replay an operation trace on a task's machine (no database)")
    replay.add_argument("task", help="task file (JSON)")
    replay.add_argument("trace", help="trace file: JSON Lines, one event per line (docs/trace-format.md)")
    replay.add_argument("--json", action="store_true", help="print one JSON object")
    replay.set_defaults(handler=replay_trace)


# ------------------------------------------------------------------------------------------- reading

def read_task(path: str | Path):
    """The checked :class:`~simulators.core.task.Task` of a task file (TaskError or InputError)."""
    from simulators.core.task import load_task

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"{path}: {error.strerror or error}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InputError(f"{path}: not JSON: {error}") from None
    return load_task(data)


def task_file(task_path: str | Path, name: str, json_path: str) -> Path:
    """A file named by the task, beside it; InputError naming the JSON path when it is missing."""
    path = Path(task_path).resolve().parent / name
    if not path.is_file():
        raise InputError(f"{task_path}: {json_path}: no file {name!r} beside the task file")
    return path


def reference_program(task_path: str | Path, task) -> str:
    if not task.reference_file:
        return task.reference_program
    path = task_file(task_path, task.reference_program, "reference_program")
    return path.read_text(encoding="utf-8", errors="replace")


def read_events(lines: TextIO | list[str], name: str = "trace") -> Iterator[dict[str, Any]]:
    """Events of a JSON Lines trace, one object per line (blank lines skipped); InputError names the line."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError as error:
            raise InputError(f"{name}: line {number}: not JSON: {error}") from None
        if not isinstance(event, dict):
            raise InputError(f"{name}: line {number}: an event must be a JSON object")
        if not isinstance(event.get("type"), str):
            raise InputError(f"{name}: line {number}: the event has no type")
        yield event


def load_events(path: str | Path) -> list[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as handle:
            return list(read_events(handle, str(path)))
    except OSError as error:
        raise InputError(f"{path}: {error.strerror or error}") from None


# ------------------------------------------------------------------------------------------ commands

def task_check(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from simulators.core.task import TaskError, check_reference

    out, err = out or sys.stdout, err or sys.stderr
    try:
        task = read_task(args.task)
        task_file(args.task, task.drawing, "drawing")
        program = reference_program(args.task, task)
    except (TaskError, InputError) as error:
        print(f"examctl task check: {_where(args.task, error)}", file=err)
        return EXIT_BAD_INPUT
    report = check_reference(task, program)
    if args.json:
        json.dump(report, out, ensure_ascii=False)
        out.write("\n")
    else:
        _print_check(report, out)
    return EXIT_OK if report["ok"] else EXIT_FAILED


def replay_trace(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from simulators.core.task import TaskError

    out, err = out or sys.stdout, err or sys.stderr
    try:
        task = read_task(args.task)
        events = load_events(args.trace)
    except (TaskError, InputError) as error:
        print(f"examctl replay: {_where(args.task, error)}", file=err)
        return EXIT_BAD_INPUT
    replay = session_replay(task.machine_type)
    if replay is None:
        print(f"examctl replay: machine sessions not available (simulators.cnc_{task.machine_type}.session "
              "has no replay yet)", file=err)
        return EXIT_UNAVAILABLE
    session = replay(task.machine, events)
    summary = session.summary(items=task.data["items"], work_zero=task.data["work_zero"])
    if args.json:
        json.dump(summary, out, ensure_ascii=False, default=_plain)
        out.write("\n")
    else:
        _print_summary(task, summary, out)
    return EXIT_OK


def session_replay(machine_type: str):
    """``simulators.cnc_<machine>.session.replay``, or None while the sessions are not written."""
    try:
        module = importlib.import_module(f"simulators.cnc_{machine_type}.session")
    except ImportError:
        return None
    return getattr(module, "replay", None)


def _plain(value: Any) -> Any:
    """numpy scalars and arrays in a summary, as JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _where(task_path: str, error: Exception) -> str:
    from simulators.core.task import TaskError

    return f"{task_path}: {error}" if isinstance(error, TaskError) else str(error)


# -------------------------------------------------------------------------------------------- output

def _limits_text(item: dict[str, Any]) -> str:
    low = "-" if item.get("low") is None else f"{item['low']:.3f}"
    high = "-" if item.get("high") is None else f"{item['high']:.3f}"
    return f"[{low}, {high}]"


def _print_check(report: dict[str, Any], out: TextIO) -> None:
    run = report["run"]
    state = "completed" if run["completed"] else "did NOT complete"
    print(f"{report['task']} {report['title']}: reference program {state}, {run['blocks']} blocks, "
          f"cycle {run['cycle_time_s']:.1f} s", file=out)
    for kind in ("alarms", "crashes", "stalls"):
        for entry in run[kind]:
            print(f"  {kind[:-1].upper()}: {json.dumps(entry, ensure_ascii=False)}", file=out)
    for item in report["items"]:
        print(_item_line(item), file=out)
    failed = [i for i in report["items"] if not i["ok"]]
    verdict = "OK" if report["ok"] else f"FAILED ({len(failed)} item(s) out of tolerance or not measured)"
    print(f"result: {verdict}", file=out)


def _item_line(item: dict[str, Any]) -> str:
    nominal = "-" if item.get("nominal") is None else f"{item['nominal']:.3f}"
    if item.get("measured") is None:
        measured = f"not measured: {item.get('error', '')}"
    else:
        measured = f"{item['measured']:.4f} {item.get('unit', '')}".rstrip()
    mark = "OK " if item.get("ok") else "OUT"
    return f"  {mark} {item.get('id')} {item.get('label', '')}  nominal {nominal}  limits {_limits_text(item)}  " \
           f"measured {measured}"


def _print_summary(task, summary: dict[str, Any], out: TextIO) -> None:
    print(f"{task.id} {task.title}: replayed", file=out)
    for key, value in summary.items():
        if key in ("measurements", "items") and isinstance(value, list):
            print(f"  {key}:", file=out)
            for item in value:
                print(_item_line(item), file=out)
        elif key in BULKY_KEYS:
            print(f"  {key}: (omitted here; see --json)", file=out)
        else:
            print(f"  {key}: {json.dumps(value, ensure_ascii=False, default=_plain)}", file=out)
