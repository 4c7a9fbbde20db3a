"""Papers as delivery reads them. Until per-candidate assembly exists, every attempt gets the fixed demo
paper; `paper_for` is the one place that will change when assembled papers arrive.

The candidate's view never carries keys. Item order and option order are shuffled per attempt, from a seed
derived from the attempt, so a reload shows the same order; answers are stored against canonical option ids.
"""
from __future__ import annotations

import hashlib
import json
import random
from functools import lru_cache
from pathlib import Path

DEMO_PAPER = Path(__file__).with_name("demo_cnc_turning_4.json")
CHOICE_TYPES = ("single", "multiple")


@lru_cache(maxsize=None)
def _load(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def paper_for(attempt) -> dict:
    """The full paper (with keys) of an attempt."""
    return json.loads(_load(DEMO_PAPER))


def seed_of(attempt, paper: dict) -> int:
    return int.from_bytes(hashlib.sha256(f"{paper['id']}:{attempt.id}".encode()).digest()[:8], "big")


def candidate_view(paper: dict, seed: int) -> dict:
    """What the candidate's browser receives: no keys, items and options in this attempt's order."""
    rng = random.Random(seed)
    items = []
    for item in paper["items"]:
        shown = {k: item[k] for k in ("id", "type", "points", "stem", "unit") if k in item}
        if item["type"] in CHOICE_TYPES:
            options = list(item["options"])
            rng.shuffle(options)
            shown["options"] = options
        items.append(shown)
    rng.shuffle(items)
    return {"id": paper["id"], "title": paper["title"], "items": items}
