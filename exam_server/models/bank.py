"""The question bank in the database: items and their versions with the review workflow, blueprints (鉴定要素细目表)
and paper structures, per-session assemblies with one sealed paper per roster entry, and item statistics per
sitting. The pure `assessment` package works on plain data; `exam_server.bank` converts between the two.

Status is derived from timestamps (draft → reviewed → active → retired). Content columns of a version that was
ever active are never changed: an edit makes a new version. Statistics (p, r_it, exposure, last used) are not
content and are updated in place. Lists and trees are stored as canonical JSON text, as `responses.value` is.
"""
from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Optional

from sqlalchemy import Float, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base
from .exams import ExamSession, RosterEntry
from .organisations import JobType


class ItemStatus(str, enum.Enum):
    draft = "draft"          # 草稿
    reviewed = "reviewed"    # 已审核
    active = "active"        # 启用
    retired = "retired"      # 停用


class BankItem(Base):
    """A question across its versions; `code` is the bank's stable id (assessment `Item.id`)."""

    __tablename__ = "bank_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_types.id"), index=True)
    level: Mapped[int]
    created_at: Mapped[datetime]

    job_type: Mapped[JobType] = relationship()
    versions: Mapped[list["BankItemVersion"]] = relationship(back_populates="bank_item",
                                                             order_by="BankItemVersion.version")

    @property
    def newest(self) -> "BankItemVersion":
        return self.versions[-1]


class BankItemVersion(Base):
    """One version of a question, linked to one assessment point (鉴定点) of its blueprint by code."""

    __tablename__ = "bank_item_versions"
    __table_args__ = (UniqueConstraint("bank_item_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_item_id: Mapped[int] = mapped_column(ForeignKey("bank_items.id"))
    version: Mapped[int]
    # content
    point_code: Mapped[str] = mapped_column(String(64), index=True)
    type: Mapped[str] = mapped_column(String(16))
    stem: Mapped[str] = mapped_column(Text)
    options: Mapped[str] = mapped_column(Text, default="[]")        # JSON list of option texts, A first
    key: Mapped[str] = mapped_column(String(64))                    # JSON: "B", "AC", "T"/"F" or a number
    tolerance: Mapped[float] = mapped_column(Float, default=0.0)
    enemy_group: Mapped[Optional[str]] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="national")
    media: Mapped[str] = mapped_column(Text, default="[]")          # JSON list of media names
    # statistics: the author's prior p, then merged with observed p by sample size
    difficulty: Mapped[float] = mapped_column(Float)
    discrimination: Mapped[Optional[float]] = mapped_column(Float)
    observed_n: Mapped[float] = mapped_column(Float, default=0.0)   # candidates behind `difficulty`
    exposure: Mapped[int] = mapped_column(default=0)                # sittings' papers the version appeared in
    last_used: Mapped[Optional[str]] = mapped_column(String(10))    # ISO date
    # the review workflow
    created_at: Mapped[datetime]
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[Optional[datetime]]
    reviewed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    activated_at: Mapped[Optional[datetime]]
    activated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    retired_at: Mapped[Optional[datetime]]
    retired_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    bank_item: Mapped[BankItem] = relationship(back_populates="versions")
    created_by: Mapped[Optional[User]] = relationship(foreign_keys=[created_by_id])
    reviewed_by: Mapped[Optional[User]] = relationship(foreign_keys=[reviewed_by_id])

    @property
    def status(self) -> ItemStatus:
        if self.retired_at is not None:
            return ItemStatus.retired
        if self.activated_at is not None:
            return ItemStatus.active
        return ItemStatus.reviewed if self.reviewed_at is not None else ItemStatus.draft

    @property
    def locked(self) -> bool:
        """Ever active, so possibly in a paper: its content is frozen."""
        return self.activated_at is not None

    @property
    def option_list(self) -> list[str]:
        return json.loads(self.options)

    @property
    def key_value(self):
        return json.loads(self.key)


class BankBlueprint(Base):
    """鉴定要素细目表 of a job type at a level, versioned; the tree and the assembly policy as JSON."""

    __tablename__ = "bank_blueprints"
    __table_args__ = (UniqueConstraint("job_type_id", "level", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_types.id"))
    level: Mapped[int]
    version: Mapped[int]
    tree: Mapped[str] = mapped_column(Text)                 # JSON list of ranges {code, name, weight_pct, ...}
    policy: Mapped[str] = mapped_column(Text, default="{}")  # JSON of assessment.bank.Policy fields
    created_at: Mapped[datetime]
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    job_type: Mapped[JobType] = relationship()


class BankPaperSpec(Base):
    """试卷结构 of a job type at a level, versioned: sections (type, count, points each), duration, pass mark."""

    __tablename__ = "bank_paper_specs"
    __table_args__ = (UniqueConstraint("job_type_id", "level", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_types.id"))
    level: Mapped[int]
    version: Mapped[int]
    sections: Mapped[str] = mapped_column(Text)     # JSON list of {type, count, points_each, partial_credit}
    duration_min: Mapped[int]
    pass_mark: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime]
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))


class Assembly(Base):
    """The papers assembled for one session: how they were made (enough to reproduce them) and a summary."""

    __tablename__ = "assemblies"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), unique=True)
    blueprint_id: Mapped[Optional[int]] = mapped_column(ForeignKey("bank_blueprints.id"))   # None: from a hub package
    paper_spec_id: Mapped[Optional[int]] = mapped_column(ForeignKey("bank_paper_specs.id"))
    mode: Mapped[str] = mapped_column(String(16))              # "loft": one paper per candidate
    seed: Mapped[int]
    bank_hash: Mapped[str] = mapped_column(String(64))
    solver_version: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text, default="{}")   # JSON: exposure and overlap of the batch
    created_at: Mapped[datetime]
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    exam_session: Mapped[ExamSession] = relationship()
    blueprint: Mapped[Optional[BankBlueprint]] = relationship()
    paper_spec: Mapped[Optional[BankPaperSpec]] = relationship()
    papers: Mapped[list["AssembledPaper"]] = relationship(back_populates="assembly",
                                                          order_by="AssembledPaper.paper_index")


class AssembledPaper(Base):
    """One candidate's paper, sealed under the session's data key until the session starts. The compliance
    report (counts, shares, expected score; no item references) stays readable for the examiner."""

    __tablename__ = "assembled_papers"

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id"), index=True)
    roster_entry_id: Mapped[int] = mapped_column(ForeignKey("roster_entries.id"), unique=True)
    paper_index: Mapped[int]
    solver: Mapped[str] = mapped_column(String(40))
    objective: Mapped[float] = mapped_column(Float)
    expected_score: Mapped[float] = mapped_column(Float)
    report: Mapped[str] = mapped_column(Text)
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime]

    assembly: Mapped[Assembly] = relationship(back_populates="papers")
    roster_entry: Mapped[RosterEntry] = relationship()


class ItemAnalysis(Base):
    """Classical item analysis of one sitting (session), made once after it ended; p fed back into the bank."""

    __tablename__ = "item_analyses"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), unique=True)
    n_candidates: Mapped[int]
    n_items: Mapped[int]
    forms_differ: Mapped[bool]
    mean_total: Mapped[float] = mapped_column(Float)
    sd_total: Mapped[float] = mapped_column(Float)
    kr20: Mapped[Optional[float]] = mapped_column(Float)
    sem: Mapped[Optional[float]] = mapped_column(Float)
    pass_rate: Mapped[Optional[float]] = mapped_column(Float)
    totals: Mapped[str] = mapped_column(Text)       # JSON list of the candidates' totals (the score histogram)
    review_flags: Mapped[str] = mapped_column(Text, default="[]")   # JSON: similarity / rapid-guess flags
    created_at: Mapped[datetime]
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    exam_session: Mapped[ExamSession] = relationship()
    statistics: Mapped[list["ItemStatistic"]] = relationship(back_populates="item_analysis",
                                                             order_by="ItemStatistic.id")


class ItemStatistic(Base):
    """One item version's statistics in one sitting."""

    __tablename__ = "item_statistics"
    __table_args__ = (UniqueConstraint("item_analysis_id", "bank_item_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_analysis_id: Mapped[int] = mapped_column(ForeignKey("item_analyses.id"))
    bank_item_version_id: Mapped[int] = mapped_column(ForeignKey("bank_item_versions.id"), index=True)
    n_taken: Mapped[int]
    p: Mapped[float] = mapped_column(Float)
    r_it: Mapped[Optional[float]] = mapped_column(Float)
    d27: Mapped[Optional[float]] = mapped_column(Float)
    alpha_if_deleted: Mapped[Optional[float]] = mapped_column(Float)
    flags: Mapped[str] = mapped_column(Text, default="[]")          # JSON list of flag codes
    distractors: Mapped[str] = mapped_column(Text, default="[]")    # JSON list per option

    item_analysis: Mapped[ItemAnalysis] = relationship(back_populates="statistics")
    bank_item_version: Mapped[BankItemVersion] = relationship()
