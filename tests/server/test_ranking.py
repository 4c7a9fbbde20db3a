"""Ranking, tie-breaks, freeze and reveal, with every expected value worked out by hand in the comments."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from fractions import Fraction as F

import pytest

from exam_server.leaderboard.freeze import (FreezeState, ScoreEvent, live_standings, next_to_reveal,
                                            public_standings, reveal_one)
from exam_server.leaderboard.ranking import EntryScores, PartScore, Round, Rules, rank

ROUNDS = (Round("theory", "theory", 30), Round("practical", "practical", 70))
RULES = Rules(ROUNDS)
T0 = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)
FREEZE = T0 + timedelta(minutes=60)


def entry(entry_id, name, theory, practical, time_used_s=0, deductions=0):
    return EntryScores(entry_id, name, {"theory": PartScore(F(theory), F(0), 0),
                                        "practical": PartScore(F(practical), F(deductions), time_used_s)})


def test_weighted_total_orders_entries():
    # A: 0.3*90 + 0.7*80 = 27 + 56 = 83;  B: 0.3*70 + 0.7*95 = 21 + 66.5 = 87.5;  C: 0.3*100 + 0.7*60 = 72
    standings = rank([entry(1, "A", 90, 80), entry(2, "B", 70, 95), entry(3, "C", 100, 60)], RULES)
    assert [(s.entry_id, s.rank, s.values[0]) for s in standings] == [(2, 1, F(875, 10)), (1, 2, 83), (3, 3, 72)]
    assert standings[1].reason == "total 87.5 > 83"


def test_equal_totals_are_exactly_equal_and_practical_breaks_the_tie():
    # A: 0.3*80 + 0.7*90 = 24 + 63 = 87;  B: 0.3*100 + 0.7*(570/7) = 30 + 57 = 87 (floats would disagree)
    # weighted practical: A 63 > B 57, so A first.
    standings = rank([entry(1, "B-team", 100, F(570, 7)), entry(2, "A-team", 80, 90)], RULES)
    assert [s.entry_id for s in standings] == [2, 1]
    assert [s.rank for s in standings] == [1, 2]
    assert standings[1].reason == "practical 63 > 57 (total 87 tied)"


def test_time_used_then_theory_then_deductions_break_ties_in_order():
    # All four: theory 80, practical 90 → total 87, practical 63.  Time: W 3600 s < X = Y = Z 4000 s.
    # X, Y, Z equal theory; deductions X 0 < Y 2; Z = Y on everything → shares rank 3 with Y.
    standings = rank([entry(1, "X", 80, 90, 4000, 0), entry(2, "Y", 80, 90, 4000, 2),
                      entry(3, "W", 80, 90, 3600, 0), entry(4, "Z", 80, 90, 4000, 2)], RULES)
    assert [(s.name, s.rank) for s in standings] == [("W", 1), ("X", 2), ("Y", 3), ("Z", 3)]
    assert standings[1].reason == "time_used 3600 < 4000 (total 87, practical 63 tied)"
    assert standings[2].reason.startswith("deductions 0 < 2")
    assert standings[3].reason.startswith("tied on total 87")


def test_tie_breaks_are_configurable():
    # Theory first: A theory weighted 0.3*80 = 24, B 0.3*100 = 30 → B first although its practical is lower.
    rules = Rules(ROUNDS, ("theory", "practical"))
    standings = rank([entry(1, "A", 80, 90), entry(2, "B", 100, F(570, 7))], rules)
    assert [s.entry_id for s in standings] == [2, 1]
    with pytest.raises(ValueError):
        Rules(ROUNDS, ("luck",))
    with pytest.raises(ValueError):
        Rules((Round("theory", "theory", 30),))   # weights add up to 30, not 100


def test_missing_round_counts_as_nothing_yet():
    # A has only theory 100 → 30;  B only practical 50 → 35.
    standings = rank([EntryScores(1, "A", {"theory": PartScore(F(100))}),
                      EntryScores(2, "B", {"practical": PartScore(F(50))})], RULES)
    assert [(s.entry_id, s.values[0]) for s in standings] == [(2, 35), (1, 30)]


# ---- freeze and reveal -------------------------------------------------------------------------------------
NAMES = {1: "A", 2: "B", 3: "C"}


def ev(seq, entry_id, key, score, minutes, source="grading"):
    return ScoreEvent(seq, entry_id, key, F(score), T0 + timedelta(minutes=minutes), source=source)


def events_before_and_during_freeze():
    # Before the freeze: A 80/80 = 80, B 70/70 = 70, C 60/60 = 60.
    # During the freeze: C practical 100 → 0.3*60 + 70 = 88;  B practical 90 → 21 + 63 = 84.
    return [ev(1, 1, "theory", 80, 10), ev(2, 1, "practical", 80, 50), ev(3, 2, "theory", 70, 10),
            ev(4, 2, "practical", 70, 55), ev(5, 3, "theory", 60, 10), ev(6, 3, "practical", 60, 59),
            ev(7, 3, "practical", 100, 61), ev(8, 2, "practical", 90, 75)]


def test_public_board_hides_events_at_or_after_the_freeze_while_examiners_see_them():
    events = events_before_and_during_freeze() + [ev(9, 1, "theory", 81, 60)]   # exactly at freeze_at: frozen
    state = FreezeState(FREEZE)
    public = public_standings(NAMES, events, RULES, state)
    assert [(s.entry_id, s.values[0]) for s in public] == [(1, 80), (2, 70), (3, 60)]
    live = live_standings(NAMES, events, RULES)
    # live A: 0.3*81 + 0.7*80 = 24.3 + 56 = 80.3
    assert [(s.entry_id, s.values[0]) for s in live] == [(3, 88), (2, 84), (1, F(803, 10))]


def test_regrade_during_the_freeze_stays_hidden_and_regrade_before_it_shows():
    # A's practical regraded 80 → 40 before the freeze (minute 58): public A = 24 + 28 = 52, below B 70.
    # C's theory regraded 60 → 20 during the freeze (minute 70): public C keeps 60; live C = 6 + 70 = 76.
    events = events_before_and_during_freeze() + [ev(9, 1, "practical", 40, 58, "regrade"),
                                                  ev(10, 3, "theory", 20, 70, "regrade")]
    public = public_standings(NAMES, events, RULES, FreezeState(FREEZE))
    assert [(s.entry_id, s.values[0]) for s in public] == [(2, 70), (3, 60), (1, 52)]
    live = live_standings(NAMES, events, RULES)
    assert [(s.entry_id, s.values[0]) for s in live] == [(2, 84), (3, 76), (1, 52)]


def test_reveal_goes_bottom_up_one_entry_at_a_time_until_unfrozen():
    events = events_before_and_during_freeze()
    state = FreezeState(FREEZE)
    # Public: A 80, B 70, C 60 → C is the lowest: revealed first, jumps to 88 = rank 1.
    step = reveal_one(NAMES, events, RULES, state)
    assert (step.entry_id, step.from_rank, step.to_rank, step.changed) == (3, 3, 1, True)
    # Public now: C 88, A 80, B 70 → B next: 84 → rank 2.
    step = reveal_one(NAMES, events, RULES, step.state)
    assert (step.entry_id, step.from_rank, step.to_rank, step.changed) == (2, 3, 2, True)
    # A last, nothing hidden: stays rank 3, and the board is unfrozen.
    step = reveal_one(NAMES, events, RULES, step.state)
    assert (step.entry_id, step.from_rank, step.to_rank, step.changed) == (1, 3, 3, False)
    assert step.state.unfrozen
    assert reveal_one(NAMES, events, RULES, step.state) is None
    assert [s.entry_id for s in public_standings(NAMES, events, RULES, step.state)] == [3, 2, 1]


def test_regrade_after_an_entry_is_revealed_shows_at_once_but_not_for_the_others():
    events = events_before_and_during_freeze()
    state = FreezeState(FREEZE, revealed=frozenset({3}))
    # After the end: C (revealed) practical regraded to 50 → 18 + 35 = 53; B (not revealed) theory to 0.
    events += [ev(9, 3, "practical", 50, 130, "regrade"), ev(10, 2, "theory", 0, 130, "regrade")]
    public = public_standings(NAMES, events, RULES, state)
    assert [(s.entry_id, s.values[0]) for s in public] == [(1, 80), (2, 70), (3, 53)]
    assert next_to_reveal(public, state) == 2     # C is revealed already, B is the lowest left


def test_the_incremental_board_always_agrees_with_ranking_from_scratch():
    """The read model moves one entry and renumbers a range; a full ranking of the same events is the oracle.
    Scores come from a small set so that ties (shared ranks) are frequent."""
    import random

    from exam_server.leaderboard.board import Board, EntryInfo

    rng = random.Random(3)
    names = {i: f"E{i:02d}" for i in range(1, 41)}
    board = Board(1, RULES, {i: EntryInfo(n, n, "D", "#000000") for i, n in names.items()}, FreezeState(None), [])
    events = []
    for seq in range(1, 401):
        events.append(ScoreEvent(seq, rng.randint(1, 40), rng.choice(("theory", "practical")),
                                 F(rng.choice((0, 50, 60, 100))), T0))
        board.apply(events[-1:], board.state)
        expected = {s.entry_id: s.rank for s in live_standings(names, events, RULES)}
        assert board.live.ranks == expected, f"after event {seq}"
    assert [row["id"] for row in __import__("json").loads(board.as_json("live"))["rows"]] == \
        [s.entry_id for s in live_standings(names, events, RULES)]
