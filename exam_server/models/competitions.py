"""Skills competitions: competitions with weighted rounds, delegations (with their colours), individual or team
entries, the score events the leaderboard is folded from, reveal steps, board snapshots and awards.

Scores are stored in thousandths of a point (`score_milli`), so that ranking stays exact on every database.
Freeze and reveal state is derived: frozen from `freeze_at`; revealed entries are the reveal steps; unfrozen
from `unfrozen_at`."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base
from .organisations import Organisation


class Competition(Base):
    __tablename__ = "competitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    team: Mapped[bool] = mapped_column(default=False)          # team entries instead of individual ones
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    freeze_minutes: Mapped[int] = mapped_column(default=0)    # 0: never frozen
    tie_breaks: Mapped[str] = mapped_column(String(200))       # comma-separated criteria (ranking.CRITERIA)
    chief_examiner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    unfrozen_at: Mapped[Optional[datetime]]                    # the reveal finished

    organisation: Mapped[Organisation] = relationship()
    chief_examiner: Mapped[User] = relationship(foreign_keys=[chief_examiner_id])
    rounds: Mapped[list["CompetitionRound"]] = relationship(back_populates="competition",
                                                            order_by="CompetitionRound.position")
    delegations: Mapped[list["Delegation"]] = relationship(back_populates="competition", order_by="Delegation.id")
    entries: Mapped[list["CompetitionEntry"]] = relationship(back_populates="competition",
                                                             order_by="CompetitionEntry.id")

    @property
    def freeze_at(self) -> Optional[datetime]:
        return self.ends_at - timedelta(minutes=self.freeze_minutes) if self.freeze_minutes else None


class CompetitionRound(Base):
    """A theory part or a practical task, with its weight; it may reuse an exam session (same paper for all, or
    the session's parallel forms) and its time limit. Retries are never allowed."""

    __tablename__ = "competition_rounds"
    __table_args__ = (UniqueConstraint("competition_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    part: Mapped[str] = mapped_column(String(16))              # theory | practical
    weight_percent: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    time_limit_minutes: Mapped[Optional[int]]
    exam_session_id: Mapped[Optional[int]] = mapped_column(ForeignKey("exam_sessions.id"))
    paper_mode: Mapped[str] = mapped_column(String(16), default="same")    # same | parallel

    competition: Mapped[Competition] = relationship(back_populates="rounds")


class Delegation(Base):
    """A city delegation (代表队) and the colour its rows wear on the projection page."""

    __tablename__ = "delegations"
    __table_args__ = (UniqueConstraint("competition_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    colour: Mapped[str] = mapped_column(String(7))             # #rrggbb
    organisation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisations.id"))

    competition: Mapped[Competition] = relationship(back_populates="delegations")


class CompetitionEntry(Base):
    """One contestant, or one team, registered by a delegation; `bib` is the competition number (参赛号)."""

    __tablename__ = "competition_entries"
    __table_args__ = (UniqueConstraint("competition_id", "bib"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegations.id"), index=True)
    bib: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[datetime]

    competition: Mapped[Competition] = relationship(back_populates="entries")
    delegation: Mapped[Delegation] = relationship()
    members: Mapped[list["EntryMember"]] = relationship(order_by="EntryMember.id")


class EntryMember(Base):
    __tablename__ = "entry_members"
    __table_args__ = (UniqueConstraint("entry_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("competition_entries.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship()


class CompetitionScoreEvent(Base):
    """One score change for an entry in a round (append-only; a regrade is a later event). The id is the seq."""

    __tablename__ = "competition_score_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("competition_entries.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("competition_rounds.id"))
    score_milli: Mapped[int]
    deductions_milli: Mapped[int] = mapped_column(default=0)
    time_used_s: Mapped[int] = mapped_column(default=0)
    at: Mapped[datetime]                                       # decides before/after the freeze
    source: Mapped[str] = mapped_column(String(20))            # grading | regrade | manual
    recorded_at: Mapped[datetime]


class RevealStepRecord(Base):
    """One step of the reveal: which entry, from which public rank to which."""

    __tablename__ = "competition_reveal_steps"
    __table_args__ = (UniqueConstraint("competition_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("competition_entries.id"))
    from_rank: Mapped[int]
    to_rank: Mapped[int]
    revealed_at: Mapped[datetime]
    revealed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class BoardSnapshot(Base):
    """The public board as shown at a moment worth keeping (the freeze, the end of the reveal)."""

    __tablename__ = "board_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))              # freeze | final
    content: Mapped[str] = mapped_column(Text)                 # canonical JSON of the standings
    taken_at: Mapped[datetime]


class CompetitionAward(Base):
    """A medal for an entry at the final ranking, with its award record signed by the platform's Ed25519 key
    (the same signing as skill certificates) once issued."""

    __tablename__ = "competition_awards"
    __table_args__ = (UniqueConstraint("competition_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("competition_entries.id"))
    medal: Mapped[str] = mapped_column(String(10))             # gold | silver | bronze
    rank: Mapped[int]
    total: Mapped[str] = mapped_column(String(20))
    awarded_at: Mapped[datetime]
    awarded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    certificate_ref: Mapped[Optional[str]] = mapped_column(String(100), unique=True, index=True)  # public id
    record_json: Mapped[Optional[str]] = mapped_column(Text)                 # the signed award record (JCS)
    key_id: Mapped[Optional[str]] = mapped_column(String(64))
    signature: Mapped[Optional[str]] = mapped_column(String(200))
    # the award certificate (award_certificates.py): its number, who issued it, and its revocation
    number: Mapped[Optional[str]] = mapped_column(String(32), unique=True, index=True)
    issued_at: Mapped[Optional[datetime]]
    issued_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[Optional[datetime]]
    revoked_reason: Mapped[Optional[str]] = mapped_column(String(500))
    revoked_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    competition: Mapped[Competition] = relationship()
    entry: Mapped[CompetitionEntry] = relationship()
