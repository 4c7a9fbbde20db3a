"""Freeze and reveal, as pure functions over score events (the exact rules are in docs/competitions.md).

- An event counts as *before the freeze* when its time `at` is strictly earlier than `freeze_at`; at or after
  `freeze_at` it is *frozen*: examiners see it at once, the public board does not.
- The public board is the fold of the events it may see: the latest event (by `seq`) per entry and round.
  A regrade is just a later event for the same entry and round, so a regrade recorded during the freeze stays
  hidden and the public keeps the score from before the freeze until the entry is revealed.
- After the end, the chief examiner reveals one entry at a time, always the lowest-placed entry on the public
  board that is not revealed yet; a revealed entry shows all its events (it is live from then on, so a regrade
  of a revealed entry shows at once). When every entry is revealed the board is unfrozen: public = live.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Iterable, Optional

from .ranking import EntryScores, PartScore, Rules, Standing, rank


@dataclass(frozen=True)
class ScoreEvent:
    seq: int
    entry_id: int
    round_key: str
    score: Fraction
    at: datetime
    deductions: Fraction = Fraction(0)
    time_used_s: int = 0
    source: str = "grading"      # grading | regrade | manual


@dataclass(frozen=True)
class FreezeState:
    freeze_at: Optional[datetime]          # None: the competition never freezes
    revealed: frozenset = frozenset()      # entry ids revealed so far
    unfrozen: bool = False                 # every entry revealed: public = live

    def is_frozen(self, event: ScoreEvent) -> bool:
        return self.freeze_at is not None and event.at >= self.freeze_at

    def public_sees(self, event: ScoreEvent) -> bool:
        return self.unfrozen or event.entry_id in self.revealed or not self.is_frozen(event)


def fold(events: Iterable[ScoreEvent], keep=lambda event: True) -> dict[int, dict[str, PartScore]]:
    """Each entry's latest score per round among the events kept (later seq wins: regrades replace)."""
    latest: dict[tuple[int, str], ScoreEvent] = {}
    for event in events:
        if not keep(event):
            continue
        key = (event.entry_id, event.round_key)
        if key not in latest or latest[key].seq < event.seq:
            latest[key] = event
    parts: dict[int, dict[str, PartScore]] = {}
    for (entry_id, round_key), e in latest.items():
        parts.setdefault(entry_id, {})[round_key] = PartScore(e.score, e.deductions, e.time_used_s)
    return parts


def entries_from(names: dict[int, str], parts: dict[int, dict[str, PartScore]]) -> list[EntryScores]:
    return [EntryScores(entry_id, name, parts.get(entry_id, {})) for entry_id, name in names.items()]


def live_standings(names: dict[int, str], events: list[ScoreEvent], rules: Rules) -> list[Standing]:
    return rank(entries_from(names, fold(events)), rules)


def public_standings(names: dict[int, str], events: list[ScoreEvent], rules: Rules,
                     state: FreezeState) -> list[Standing]:
    return rank(entries_from(names, fold(events, state.public_sees)), rules)


def next_to_reveal(public: list[Standing], state: FreezeState) -> Optional[int]:
    """The lowest-placed entry on the public board not revealed yet (None once all are)."""
    for standing in reversed(public):
        if standing.entry_id not in state.revealed:
            return standing.entry_id
    return None


@dataclass(frozen=True)
class RevealStep:
    entry_id: int
    from_rank: int
    to_rank: int
    changed: bool
    state: FreezeState


def reveal_one(names: dict[int, str], events: list[ScoreEvent], rules: Rules,
               state: FreezeState) -> Optional[RevealStep]:
    """Reveal the next entry: its hidden events become public and it takes its place; None when done."""
    before = public_standings(names, events, rules, state)
    entry_id = next_to_reveal(before, state)
    if entry_id is None:
        return None
    revealed = state.revealed | {entry_id}
    after_state = FreezeState(state.freeze_at, revealed, unfrozen=len(revealed) == len(names))
    after = public_standings(names, events, rules, after_state)
    old = next(s for s in before if s.entry_id == entry_id)
    new = next(s for s in after if s.entry_id == entry_id)
    return RevealStep(entry_id, old.rank, new.rank, old.values != new.values, after_state)
