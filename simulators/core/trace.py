"""The operation trace: the versioned event schema that every machine session folds (docs/trace-format.md).

An event is ``{"v": 1, "seq": int, "t_client": int ms, "t_server": int ms | None, "type": str, "payload": {}}``.
This module only describes and checks events; it never reads a clock or a file. A session calls
:func:`problem` on every event and records a bad one with no effect instead of raising.

Payload specs map a key to its kind: ``"int"``, ``"num"`` (int or float), ``"bool"``, ``"str"``, ``"dict"``,
``"list"``, ``"key"`` (int or str), a tuple of allowed values, or a kind prefixed with ``"?"`` when the key is optional.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

VERSION = 1
AXIS_LETTERS = ("X", "Y", "Z")
MODES = ("EDIT", "MEM", "MDI", "JOG", "INC", "HANDLE", "REF")
SWITCHES = ("single_block", "optional_stop", "block_delete", "dry_run", "machine_lock")
OVERRIDES = ("feed", "rapid", "spindle", "jog_feed")

# Every machine: the panel (simulators/core/panel.py). ``at_ms`` (optional on every event) is the playback
# position of a running automatic operation that the event interrupts or re-times.
PANEL_TYPES: dict[str, dict[str, Any]] = {
    "power": {"on": "bool"},
    "estop": {"pressed": "bool"},
    "reset": {},
    "mode": {"mode": MODES},
    "ref_return": {"axis": "str"},
    "jog": {"axis": "str", "direction": (1, -1), "ms": "int", "rapid": "?bool"},
    "step": {"axis": "str", "direction": (1, -1)},
    "increment": {"mm": (0.001, 0.01, 0.1, 1.0, 1)},
    "handle_axis": {"axis": "str"},
    "handle": {"pulses": "int"},
    "origin": {"axis": "str"},
    "spindle": {"command": ("cw", "ccw", "stop"), "rpm": "?num"},
    "coolant": {"on": "bool"},
    "override": {"which": OVERRIDES, "value": "num"},
    "switch": {"name": SWITCHES, "on": "bool"},
    "cycle_start": {},
    "feed_hold": {},
    "mdi": {"text": "str"},
    "program_text": {"number": "int", "text": "str"},
    "program_select": {"number": "int"},
    "program_delete": {"number": "int"},
    "program_check": {"number": "?int"},
    "edit_key": {"key": "str", "text": "?str"},
    # ``text``: what the candidate typed (decimal-point rule, panel.parse_keyed); it wins over ``value``
    "offset": {"page": ("geometry", "wear", "work"), "number": "key", "axis": "str", "value": "?num",
               "op": ("input", "add", "measure"), "text": "?str"},
    "measure": {"instrument": "str", "placement": "?dict"},
}

# The lathe's own events (simulators/cnc_lathe/session.py).
LATHE_TYPES: dict[str, dict[str, Any]] = {
    "chuck": {"closed": "bool"},
    "load_stock": {"stick_out": "num", "diameter": "?num", "length": "?num"},
    "unload_stock": {},
    "load_tool": {"station": "int", "tool": "dict"},
    "remove_tool": {"station": "int"},
    "turret": {"station": "int"},
}

_KINDS = {"key": (int, str), "int": (int,), "num": (int, float), "bool": (bool,), "str": (str,), "dict": (dict,),
          "list": (list,)}


def event(seq: int, type_: str, payload: Mapping[str, Any] | None = None, t_client: int = 0,
          t_server: int | None = None) -> dict:
    """A well-formed event (for tests, tools and benchmarks)."""
    return {"v": VERSION, "seq": seq, "t_client": t_client, "t_server": t_server, "type": type_,
            "payload": dict(payload or {})}


def problem(ev: Any, types: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Why ``ev`` is not a valid event of ``types`` (None when it is). Never raises."""
    if not isinstance(ev, Mapping):
        return "an event must be a JSON object"
    if ev.get("v") != VERSION:
        return f"unsupported trace version {ev.get('v')!r}"
    for key in ("seq", "t_client"):
        if not _is(ev.get(key), "int"):
            return f"{key} must be an integer"
    if ev.get("t_server") is not None and not _is(ev.get("t_server"), "int"):
        return "t_server must be an integer or null"
    spec = types.get(ev.get("type")) if isinstance(ev.get("type"), str) else None
    if spec is None:
        return f"unknown event type {ev.get('type')!r}"
    payload = ev.get("payload")
    if not isinstance(payload, Mapping):
        return "payload must be an object"
    return payload_problem(payload, spec)


def payload_problem(payload: Mapping[str, Any], spec: Mapping[str, Any]) -> str | None:
    for key, kind in spec.items():
        optional = isinstance(kind, str) and kind.startswith("?")
        if key not in payload or payload[key] is None:
            if optional:
                continue
            return f"payload.{key} is missing"
        if not _is(payload[key], kind.lstrip("?") if isinstance(kind, str) else kind):
            return f"payload.{key}={payload[key]!r} is not {_describe(kind)}"
    at_ms = payload.get("at_ms")
    if at_ms is not None and (not _is(at_ms, "int") or at_ms < 0):
        return "payload.at_ms must be a non-negative integer"
    return None


def _is(value: Any, kind: Any) -> bool:
    if isinstance(kind, tuple):
        return any(value == allowed and type(value) is not bool for allowed in kind)
    if kind in ("int", "num", "key") and isinstance(value, bool):
        return False
    if kind == "num" and isinstance(value, float) and value != value:   # NaN
        return False
    return isinstance(value, _KINDS[kind])


def _describe(kind: Any) -> str:
    if isinstance(kind, tuple):
        return "one of " + ", ".join(repr(k) for k in kind)
    return {"int": "an integer", "num": "a number", "bool": "true or false", "str": "a string",
            "dict": "an object", "list": "a list", "key": "a number or a name"}[kind.lstrip("?")]


def parse_jsonl(text: str) -> list:
    """Events of a JSON-lines text (blank lines skipped); a bad line becomes a string, which replay records as an
    invalid event rather than failing the whole trace."""
    out: list = []
    for line in text.splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append(line)
    return out


def dump_jsonl(events: Iterable[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(e, separators=(",", ":"), sort_keys=True) + "\n" for e in events)


__all__ = ["VERSION", "MODES", "SWITCHES", "OVERRIDES", "PANEL_TYPES", "LATHE_TYPES", "event", "problem",
           "payload_problem", "parse_jsonl", "dump_jsonl"]
