"""Golden files of canonical motions: compare a run with its stored expected.json, or record it.

Record only after the case's hand checks pass: GOLDEN_RECORD=1 pytest tests/simulators/test_<machine>_golden.py
"""
from __future__ import annotations

import json
import os
from pathlib import Path

RECORD = os.environ.get("GOLDEN_RECORD") == "1"
TOLERANCE = 2e-6      # stored values are rounded to 1e-6


def same(a, b, path="$"):
    """Deep equality with float tolerance; the assertion names the first differing path."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= TOLERANCE, \
            f"{path}: {a} != {b}"
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), \
            f"{path}: length {len(a)} != {len(b) if isinstance(b, list) else b}"
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{path}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def compare_or_record(folder: Path, got: dict) -> None:
    expected_file = folder / "expected.json"
    if RECORD:
        expected_file.write_text(json.dumps(got, indent=1) + "\n")
    same(got, json.loads(expected_file.read_text()))
