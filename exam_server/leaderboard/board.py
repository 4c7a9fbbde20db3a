"""The leaderboard read model: per competition, two projections (live for examiners, public for everyone) kept
in memory and updated incrementally from score events — never recomputed per viewer.

A change moves one entry in a sorted list (bisect) and renumbers ranks once; the viewers get one broadcast of
the rows that changed, and the full board as JSON is serialised once per version and shared by every request.
The database stays the truth: a board catches up on events with a larger id (and on new reveal steps), so a
restarted process, another process or a grading worker that committed elsewhere is picked up on the next
catch-up (after a commit in this process, and by the poller in competition_events)."""
from __future__ import annotations

import bisect
import json
import threading
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Optional

from .freeze import FreezeState, ScoreEvent, fold
from .ranking import EntryScores, PartScore, Rules, explain, fmt, sort_key, values_of

PUBLIC, LIVE = "public", "live"


@dataclass
class EntryInfo:
    bib: str
    name: str
    delegation: str
    colour: str


def _integral(value):
    scaled = value * 100000
    return scaled.numerator if getattr(scaled, "denominator", 1) == 1 else value


def _unscaled(values: tuple) -> tuple:
    return tuple(Fraction(v, 100000) if isinstance(v, int) else v for v in values)


class Projection:
    """One ranked view of the entries: sort keys, the sorted order, ranks, a version and its cached JSON."""

    def __init__(self, rules: Rules, info: dict[int, EntryInfo], parts: dict[int, dict[str, PartScore]]):
        self.rules, self.info, self.parts = rules, info, parts
        self.keys = {eid: self._key(eid) for eid in info}
        self.order = sorted((key, eid) for eid, key in self.keys.items())
        self.ranks: dict[int, int] = {}
        self._renumber()
        self.version = 0
        self._json: Optional[tuple[int, str]] = None

    def _key(self, entry_id: int) -> tuple:
        """The ranking's sort key with exact integers in place of fractions where they are whole at 1/100000
        (percent weights × thousandths of a point): comparing them is ~20× cheaper than comparing Fractions."""
        key = sort_key(EntryScores(entry_id, self.info[entry_id].name, self.parts.get(entry_id, {})), self.rules)
        return tuple(_integral(v) for v in key[:-2]) + key[-2:]

    def _renumber(self, lo: int = 0, hi: Optional[int] = None) -> list[int]:
        """Ranks 1, 1, 3 over the sorted order, from the tie group holding position `lo` on, at least to `hi`
        and then until ranks stop changing (outside that range nothing moved); the entries whose rank changed."""
        width, order = len(self.rules.criteria), self.order
        hi = len(order) - 1 if hi is None else hi
        while lo > 0 and order[lo - 1][0][:width] == order[lo][0][:width]:
            lo -= 1
        changed, previous, rank = [], None, lo + 1
        for position in range(lo, len(order)):
            key, eid = order[position]
            if key[:width] != previous:
                rank, previous = position + 1, key[:width]
                if position > hi and self.ranks.get(eid) == rank:
                    break        # a tie group starting where it did before: the rest is unchanged
            if self.ranks.get(eid) != rank:
                self.ranks[eid] = rank
                changed.append(eid)
        return changed

    def set_parts(self, entry_id: int, parts: dict[str, PartScore]) -> list[int]:
        """Give one entry new scores; the entries whose row changed (itself and any whose rank moved)."""
        old_parts = self.parts.get(entry_id, {})
        if parts == old_parts:
            return []
        self.parts[entry_id] = parts
        old_key, new_key = self.keys[entry_id], self._key(entry_id)
        old_at = bisect.bisect_left(self.order, (old_key, entry_id))
        self.order.pop(old_at)
        new_at = bisect.bisect_left(self.order, (new_key, entry_id))
        self.order.insert(new_at, (new_key, entry_id))
        self.keys[entry_id] = new_key
        changed = set(self._renumber(min(old_at, new_at), max(old_at, new_at))) | {entry_id}
        return sorted(changed, key=lambda eid: self.ranks[eid])

    def row(self, entry_id: int) -> dict:
        info, parts = self.info[entry_id], self.parts.get(entry_id, {})
        values = values_of(_unscaled(self.keys[entry_id][:len(self.rules.criteria)]), self.rules)
        return {"id": entry_id, "bib": info.bib, "name": info.name, "delegation": info.delegation,
                "colour": info.colour, "rank": self.ranks[entry_id], "total": fmt(values[0]),
                "parts": {k: fmt(p.score) for k, p in parts.items()},
                "key": [v if isinstance(v, int) else float(v) for v in self.keys[entry_id][:len(self.rules.criteria)]]}

    def as_json(self, header: dict) -> str:
        """The whole board in rank order with each rank's reason, serialised once per version."""
        if self._json is None or self._json[0] != self.version:
            rows, above = [], None
            for key, eid in self.order:
                values = values_of(_unscaled(key[:len(self.rules.criteria)]), self.rules)
                rows.append({**self.row(eid), "reason": "" if above is None else explain(above, values, self.rules)})
                above = values
            body = {**header, "version": self.version, "rows": rows}
            self._json = (self.version, json.dumps(body, ensure_ascii=False, separators=(",", ":")))
        return self._json[1]


@dataclass
class Board:
    competition_id: int
    rules: Rules
    info: dict[int, EntryInfo]
    state: FreezeState
    rounds: list[dict]
    events: dict[int, list[ScoreEvent]] = field(default_factory=dict)     # per entry, in seq order
    last_seq: int = 0
    bumped: set = field(default_factory=set)
    touched: set = field(default_factory=set)        # entries whose scores the last catch-up changed
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.live = Projection(self.rules, self.info, {})
        self.public = Projection(self.rules, self.info, {})

    def header(self, view: str) -> dict:
        frozen = self.state.freeze_at is not None and not self.state.unfrozen
        return {"competition_id": self.competition_id, "view": view, "rounds": self.rounds,
                "freeze_at": self.state.freeze_at.isoformat() if self.state.freeze_at else None,
                "unfrozen": self.state.unfrozen, "revealed": len(self.state.revealed), "frozen_possible": frozen}

    def apply(self, events: list[ScoreEvent], state: FreezeState) -> dict[str, list[int]]:
        """Fold new events (and a new freeze state) in; the changed entries per projection."""
        changed = {LIVE: set(), PUBLIC: set()}
        newly_revealed = (state.revealed - self.state.revealed) | (set(self.info) if state.unfrozen else set())
        self.state = state
        touched = self.touched = set(newly_revealed)
        for event in events:
            if event.seq <= self.last_seq or event.entry_id not in self.info:
                continue
            self.events.setdefault(event.entry_id, []).append(event)
            self.last_seq = event.seq
            touched.add(event.entry_id)
        for entry_id in touched:
            entry_events = self.events.get(entry_id, [])
            changed[LIVE].update(self.live.set_parts(entry_id, fold(entry_events).get(entry_id, {})))
            public = fold(entry_events, state.public_sees).get(entry_id, {})
            changed[PUBLIC].update(self.public.set_parts(entry_id, public))
        self.bumped = set()
        for view, projection in ((LIVE, self.live), (PUBLIC, self.public)):
            if changed[view] or (view == PUBLIC and newly_revealed):
                projection.version += 1    # one version, and one broadcast, per catch-up that changed it
                self.bumped.add(view)
        return {view: sorted(ids) for view, ids in changed.items()}

    def diff(self, view: str, entry_ids: list[int]) -> dict:
        """Only the rows whose scores changed, each with its sort key: the page re-ranks locally, so a change
        that moves 1,999 entries down one place still sends one row to every viewer."""
        projection = self.public if view == PUBLIC else self.live
        return {"competition_id": self.competition_id, "view": view, "version": projection.version,
                "unfrozen": self.state.unfrozen, "revealed": len(self.state.revealed),
                "rows": [projection.row(eid) for eid in sorted(self.touched) if eid in projection.ranks]}

    def as_json(self, view: str) -> str:
        return (self.public if view == PUBLIC else self.live).as_json(self.header(view))


# ---- the boards of a server process ------------------------------------------------------------------------

ROOM_PUBLIC, ROOM_LIVE, NAMESPACE = "board:{}", "board-live:{}", "/board"


def _load(db, competition_id: int) -> Optional[Board]:
    from .. import competitions
    from ..models import Competition

    competition = db.get(Competition, competition_id)
    if competition is None:
        return None
    info = {e.id: EntryInfo(e.bib, e.name, e.delegation.name, e.delegation.colour) for e in competition.entries}
    rounds = [{"key": r.key, "name": r.name, "part": r.part, "weight_percent": r.weight_percent}
              for r in competition.rounds]
    board = Board(competition_id, competitions.rules_for(competition), info,
                  FreezeState(competition.freeze_at), rounds)
    board.apply(competitions.score_events(db, competition), competitions.freeze_state(db, competition))
    return board


def _catch_up(db, board: Board) -> dict[str, list[int]]:
    from sqlalchemy import func, select

    from .. import competitions
    from ..models import Competition, CompetitionEntry

    competition = db.get(Competition, board.competition_id)
    count = db.execute(select(func.count(CompetitionEntry.id))
                       .where(CompetitionEntry.competition_id == competition.id)).scalar_one()
    if count != len(board.info) or competition.freeze_at != board.state.freeze_at:
        raise LookupError("entries or times changed")       # rebuild rather than patch
    return board.apply(competitions.score_events(db, competition, board.last_seq),
                       competitions.freeze_state(db, competition))


def board_for(app, competition_id: int, broadcast: bool = True) -> Optional[Board]:
    """This process's board for a competition, caught up with the database; broadcasts what changed."""
    boards = app.extensions.setdefault("leaderboards", {})
    with app.extensions["exam_db"].session(write=False) as db:
        board = boards.get(competition_id)
        if board is None:
            board = boards[competition_id] = _load(db, competition_id)
            return board
        if board is None:
            return None
        with board.lock:
            try:
                changed = _catch_up(db, board)
            except LookupError:
                board, diffs = _rebuild(db, board)
                boards[competition_id] = board
            else:
                diffs = {view: board.diff(view, ids) for view, ids in changed.items() if ids or view in board.bumped}
    if broadcast and diffs:
        _broadcast(app, diffs)
    return board


def _rebuild(db, old: Board) -> tuple[Optional[Board], dict]:
    """A fresh board whose versions continue the old ones; viewers are told to reload the feed."""
    board = _load(db, old.competition_id)
    if board is None:
        return None, {}
    diffs = {}
    for view, projection, previous in ((LIVE, board.live, old.live), (PUBLIC, board.public, old.public)):
        projection.version = previous.version + 1
        diffs[view] = {"competition_id": board.competition_id, "view": view, "version": projection.version,
                       "reload": True, "rows": []}
    return board, diffs


def _broadcast(app, diffs: dict[str, dict]) -> None:
    """One emit per view per change: the message queue fans it out to every viewer of every process."""
    socketio = app.extensions.get("socketio")
    if socketio is None:
        return
    for view, diff in diffs.items():
        room = (ROOM_PUBLIC if view == PUBLIC else ROOM_LIVE).format(diff["competition_id"])
        socketio.emit("board", diff, to=room, namespace=NAMESPACE)


def changed(competition_id: int) -> None:
    """Called after a commit that changed a competition's scores or reveal: catch up and broadcast now."""
    from flask import current_app, has_app_context

    if has_app_context():
        board_for(current_app._get_current_object(), competition_id)
