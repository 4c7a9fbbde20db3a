"""Competition use cases: set up a competition and its rounds, register entries by delegation, record scores,
reveal the frozen board step by step, award medals. Every change is audited in the caller's transaction; the
leaderboard (leaderboard/board.py) is told after the commit.

Use cases take `now` from the caller and never read the clock."""
from __future__ import annotations

import re
from datetime import datetime
from fractions import Fraction
from typing import Optional, Union

from sqlalchemy import event as sa_event, select
from sqlalchemy.orm import Session

from . import audit
from .errors import UserError
from .leaderboard import freeze, ranking
from .models import (Competition, CompetitionAward, CompetitionEntry, CompetitionRound, CompetitionScoreEvent,
                     Delegation, EntryMember, Organisation, RevealStepRecord, User)

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
PARTS = (ranking.THEORY, ranking.PRACTICAL)
SOURCES = ("grading", "regrade", "manual")


# ---- rules and events as the pure leaderboard reads them ---------------------------------------------------

def rules_for(competition: Competition) -> ranking.Rules:
    rounds = tuple(ranking.Round(r.key, r.part, r.weight_percent) for r in competition.rounds)
    return ranking.Rules(rounds, tuple(t for t in competition.tie_breaks.split(",") if t))


def pure_event(row: CompetitionScoreEvent, round_keys: dict[int, str]) -> freeze.ScoreEvent:
    return freeze.ScoreEvent(row.id, row.entry_id, round_keys[row.round_id], Fraction(row.score_milli, 1000),
                             row.at, Fraction(row.deductions_milli, 1000), row.time_used_s, row.source)


def revealed_entries(db: Session, competition: Competition) -> frozenset:
    return frozenset(db.execute(select(RevealStepRecord.entry_id)
                                .where(RevealStepRecord.competition_id == competition.id)).scalars())


def freeze_state(db: Session, competition: Competition) -> freeze.FreezeState:
    return freeze.FreezeState(competition.freeze_at, revealed_entries(db, competition),
                              competition.unfrozen_at is not None)


def score_events(db: Session, competition: Competition, after_id: int = 0) -> list[freeze.ScoreEvent]:
    keys = {r.id: r.key for r in competition.rounds}
    rows = db.execute(select(CompetitionScoreEvent).where(CompetitionScoreEvent.competition_id == competition.id,
                                                          CompetitionScoreEvent.id > after_id)
                      .order_by(CompetitionScoreEvent.id)).scalars()
    return [pure_event(row, keys) for row in rows]


def entry_names(competition: Competition) -> dict[int, str]:
    return {e.id: e.name for e in competition.entries}


# ---- setting up ------------------------------------------------------------------------------------------------

def _check_rounds(rounds: list[dict]) -> None:
    if not rounds or sum(int(r["weight_percent"]) for r in rounds) != 100:
        raise UserError("competition.error.weights")
    if any(r["part"] not in PARTS for r in rounds) or len({r["key"] for r in rounds}) != len(rounds):
        raise UserError("competition.error.rounds")


def create_competition(db: Session, organisation: Organisation, name: str, *, starts_at: datetime,
                       ends_at: datetime, freeze_minutes: int, rounds: list[dict], chief_examiner: User,
                       actor: User, now: datetime, team: bool = False,
                       tie_breaks: tuple = ranking.DEFAULT_TIE_BREAKS) -> Competition:
    """A competition with its rounds ({key, name, part, weight_percent[, time_limit_minutes,
    exam_session_id, paper_mode]}); the weights add up to 100 and the tie-breaks are names from
    ranking.CRITERIA."""
    minutes = (ends_at - starts_at).total_seconds() // 60
    if not name.strip() or ends_at <= starts_at or not 0 <= freeze_minutes <= minutes:
        raise UserError("competition.error.times")
    if any(t not in ranking.CRITERIA or t == "total" for t in tie_breaks):
        raise UserError("competition.error.tie_breaks")
    _check_rounds(rounds)
    competition = Competition(name=name.strip(), organisation=organisation, team=team, starts_at=starts_at,
                              ends_at=ends_at, freeze_minutes=freeze_minutes, tie_breaks=",".join(tie_breaks),
                              chief_examiner=chief_examiner, created_at=now, created_by_id=actor.id)
    for position, spec in enumerate(rounds):
        competition.rounds.append(CompetitionRound(
            key=spec["key"], name=spec.get("name", spec["key"]), part=spec["part"],
            weight_percent=int(spec["weight_percent"]), position=position,
            time_limit_minutes=spec.get("time_limit_minutes"), exam_session_id=spec.get("exam_session_id"),
            paper_mode=spec.get("paper_mode", "same")))
    db.add(competition)
    db.flush()
    audit.record(db, "competition.create", actor=actor, object_type="competition", object_id=competition.id,
                 data={"name": competition.name, "rounds": rounds, "freeze_minutes": freeze_minutes,
                       "tie_breaks": list(tie_breaks)}, now=now)
    return competition


def add_delegation(db: Session, competition: Competition, name: str, colour: str, actor: User, now: datetime,
                   organisation: Optional[Organisation] = None) -> Delegation:
    if not name.strip() or not COLOUR.match(colour):
        raise UserError("competition.error.delegation")
    if any(d.name == name.strip() for d in competition.delegations):
        raise UserError("competition.error.duplicate", status=409)
    delegation = Delegation(competition=competition, name=name.strip(), colour=colour.lower(),
                            organisation_id=organisation.id if organisation else None)
    db.add(delegation)
    db.flush()
    audit.record(db, "competition.delegation", actor=actor, object_type="competition", object_id=competition.id,
                 data={"delegation_id": delegation.id, "name": delegation.name, "colour": delegation.colour}, now=now)
    return delegation


def register_entry(db: Session, delegation: Delegation, bib: str, name: str, actor: User, now: datetime,
                   members: tuple = ()) -> CompetitionEntry:
    """A contestant (one member) or a team (several) registered by its delegation before the start."""
    competition = delegation.competition
    if now >= competition.starts_at:
        raise UserError("competition.error.started", status=409)
    if not bib.strip() or not name.strip() or (not competition.team and len(members) > 1):
        raise UserError("competition.error.entry")
    if any(e.bib == bib.strip() for e in competition.entries):
        raise UserError("competition.error.duplicate", status=409)
    entry = CompetitionEntry(competition=competition, delegation=delegation, bib=bib.strip(), name=name.strip(),
                             registered_at=now)
    entry.members = [EntryMember(user_id=m.id) for m in members]
    db.add(entry)
    db.flush()
    audit.record(db, "competition.register", actor=actor, object_type="competition", object_id=competition.id,
                 data={"entry_id": entry.id, "bib": entry.bib, "delegation_id": delegation.id,
                       "members": [m.id for m in members]}, now=now)
    return entry


# ---- scores --------------------------------------------------------------------------------------------------

def _milli(value) -> int:
    milli = Fraction(str(value)) * 1000
    if milli.denominator != 1:
        raise UserError("competition.error.score")
    return int(milli)


def record_score(db: Session, entry: CompetitionEntry, part: Union[str, CompetitionRound], score, deductions,
                 at: datetime, source: str, *, time_used_s: int = 0, actor: Optional[User] = None,
                 now: Optional[datetime] = None) -> CompetitionScoreEvent:
    """The leaderboard's one way in: a score (0–100, to 0.001) for an entry in a round, as graded at `at`.
    A later call for the same entry and round replaces it (a regrade). The board hears of it after the commit."""
    competition = entry.competition
    round_ = part if isinstance(part, CompetitionRound) else next(
        (r for r in competition.rounds if r.key == part), None)
    if round_ is None or round_.competition_id != competition.id:
        raise UserError("competition.error.round", status=404)
    score_milli, deductions_milli = _milli(score), _milli(deductions)
    if not 0 <= score_milli <= 100_000 or deductions_milli < 0 or source not in SOURCES or time_used_s < 0:
        raise UserError("competition.error.score")
    row = CompetitionScoreEvent(competition_id=competition.id, entry_id=entry.id, round_id=round_.id,
                                score_milli=score_milli, deductions_milli=deductions_milli, time_used_s=time_used_s,
                                at=at, source=source, recorded_at=now or at)
    db.add(row)
    db.flush()
    audit.record(db, "competition.score", actor=actor, actor_name="" if actor else source,
                 object_type="competition_entry", object_id=entry.id,
                 data={"event_id": row.id, "round": round_.key, "score_milli": score_milli,
                       "deductions_milli": deductions_milli, "at": at.isoformat(), "source": source}, now=now or at)
    publish_after_commit(db, competition.id)
    return row


def record_graded_attempt(db: Session, attempt, score, deductions, at: datetime, source: str = "grading",
                          time_used_s: int = 0) -> list[CompetitionScoreEvent]:
    """The grading pipeline's hook: an attempt's score goes to every competition round that runs on the
    attempt's exam session, for the entry the candidate belongs to (none when the sitting is no contest)."""
    roster = attempt.roster_entry
    rounds = db.execute(select(CompetitionRound).where(CompetitionRound.exam_session_id == roster.exam_session_id)
                        ).scalars().all()
    events = []
    for round_ in rounds:
        entry = db.execute(select(CompetitionEntry).join(EntryMember)
                           .where(CompetitionEntry.competition_id == round_.competition_id,
                                  EntryMember.user_id == roster.candidate_id)).scalar_one_or_none()
        if entry is not None:
            events.append(record_score(db, entry, round_, score, deductions, at, source, time_used_s=time_used_s))
    return events


def publish_after_commit(db: Session, competition_id: int) -> None:
    """After the transaction commits, let the board catch up and broadcast (a rollback publishes nothing)."""
    pending = db.info.setdefault("board_changes", set())
    if not pending:
        sa_event.listen(db, "after_commit", _publish, once=True)
    pending.add(competition_id)


def _publish(db: Session) -> None:
    from .leaderboard import board   # the board needs Flask only when it broadcasts

    for competition_id in sorted(db.info.pop("board_changes", set())):
        board.changed(competition_id)


# ---- freeze and reveal -------------------------------------------------------------------------------------

def reveal_next(db: Session, competition: Competition, actor: User, now: datetime) -> Optional[freeze.RevealStep]:
    """The chief examiner reveals the next entry, bottom-up, once the competition ended. None when all are."""
    if actor.id != competition.chief_examiner_id:
        raise UserError("competition.error.not_chief", status=403)
    if now < competition.ends_at or competition.freeze_at is None:
        raise UserError("competition.error.not_ended", status=409)
    if competition.unfrozen_at is not None:
        return None
    step = freeze.reveal_one(entry_names(competition), score_events(db, competition), rules_for(competition),
                             freeze_state(db, competition))
    if step is None:
        return None
    db.add(RevealStepRecord(competition_id=competition.id, entry_id=step.entry_id, from_rank=step.from_rank,
                            to_rank=step.to_rank, revealed_at=now, revealed_by_id=actor.id))
    if step.state.unfrozen:
        competition.unfrozen_at = now
    audit.record(db, "competition.reveal", actor=actor, object_type="competition", object_id=competition.id,
                 data={"entry_id": step.entry_id, "from_rank": step.from_rank, "to_rank": step.to_rank}, now=now)
    publish_after_commit(db, competition.id)
    return step


def is_final(competition: Competition, now: datetime) -> bool:
    return now >= competition.ends_at and (competition.freeze_at is None or competition.unfrozen_at is not None)


def award(db: Session, competition: Competition, actor: User, now: datetime, *, shares: Optional[tuple] = None,
          counts: Optional[tuple] = None) -> list[CompetitionAward]:
    """Gold, silver and bronze on the final ranking, by share of the entries or by count; ties share a medal.
    Award certificates are issued from these records by award_certificates.issue."""
    if not is_final(competition, now):
        raise UserError("competition.error.not_final", status=409)
    if (shares is None) == (counts is None) or len(shares or counts) != 3:
        raise UserError("competition.error.awards")
    if db.execute(select(CompetitionAward.id).where(CompetitionAward.competition_id == competition.id)).first():
        raise UserError("competition.error.duplicate", status=409)
    standings = freeze.live_standings(entry_names(competition), score_events(db, competition), rules_for(competition))
    places = ranking.medal_counts(len(standings), shares=shares, counts=counts)
    medals = ranking.medals(standings, places)
    awards = [CompetitionAward(competition_id=competition.id, entry_id=s.entry_id, medal=medals[s.entry_id],
                               rank=s.rank, total=ranking.fmt(s.values[0]), awarded_at=now, awarded_by_id=actor.id)
              for s in standings if s.entry_id in medals]
    db.add_all(awards)
    audit.record(db, "competition.award", actor=actor, object_type="competition", object_id=competition.id,
                 data={"places": list(places), "awards": {a.entry_id: a.medal for a in awards}}, now=now)
    return awards


def sign_awards(db: Session, competition: Competition, key, actor: User, now: datetime) -> list[CompetitionAward]:
    """Number and sign the award certificates (award_certificates.issue: the same Ed25519 signing as skill
    certificates); the signed record is what an award certificate's QR code carries."""
    from . import award_certificates

    return award_certificates.issue(db, competition, key, actor, now)
