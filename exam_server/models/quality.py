"""Quality management (质量督导): the red/black list (红黑榜) of a period with the evidence behind each entry, and the
responsibility agreements (责任书) the stations sign.

A list is a draft until the centre publishes it; publishing freezes the entries and their hash."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Date, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .organisations import Organisation


class QualityList(Base):
    """The 红黑榜 of one organisation's subtree over one period, computed with the rules stored beside it."""

    __tablename__ = "quality_lists"
    __table_args__ = (UniqueConstraint("organisation_id", "period_start", "period_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)       # inclusive
    period_label: Mapped[str] = mapped_column(String(32))
    rules_json: Mapped[str] = mapped_column(Text)        # the RuleSet and anomaly rule used
    content_sha256: Mapped[str] = mapped_column(String(64), default="")
    computed_at: Mapped[datetime]
    computed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[Optional[datetime]]
    published_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    organisation: Mapped[Organisation] = relationship()
    entries: Mapped[list["QualityListEntry"]] = relationship(
        back_populates="quality_list", order_by="QualityListEntry.id", cascade="all, delete-orphan")

    @property
    def status(self) -> str:
        return "published" if self.published_at is not None else "draft"


class QualityListEntry(Base):
    """One station on the red or the black list, with the rules that put it there and the records behind them."""

    __tablename__ = "quality_list_entries"
    __table_args__ = (UniqueConstraint("quality_list_id", "station_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quality_list_id: Mapped[int] = mapped_column(ForeignKey("quality_lists.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    colour: Mapped[str] = mapped_column(String(8))        # red | black
    rules: Mapped[str] = mapped_column(Text)              # JSON list of rule codes
    indicators: Mapped[str] = mapped_column(Text)         # JSON: the station's indicators when computed
    evidence: Mapped[str] = mapped_column(Text)           # JSON: {metric: [{"type": ..., "id": ...}, …]}

    quality_list: Mapped[QualityList] = relationship(back_populates="entries")
    station: Mapped[Organisation] = relationship()


class ResponsibilityAgreement(Base):
    """A station's signed 责任书 for a period; the scanned file is optional. Never deleted: a mistaken record is
    withdrawn (``withdrawn_at``) and recorded again."""

    __tablename__ = "responsibility_agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    signer_name: Mapped[str] = mapped_column(String(100))
    signer_title: Mapped[str] = mapped_column(String(100), default="")
    signed_on: Mapped[date] = mapped_column(Date)
    file_name: Mapped[Optional[str]] = mapped_column(String(200))
    file_type: Mapped[Optional[str]] = mapped_column(String(64))
    file_data: Mapped[Optional[bytes]] = mapped_column(LargeBinary, deferred=True)
    file_sha256: Mapped[Optional[str]] = mapped_column(String(64))
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[Optional[datetime]]
    withdrawn_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    station: Mapped[Organisation] = relationship()
