"""Results and certificates: part scores as they arrive, the combined result per candidate × job type × level,
the centre's confirmation, signed certificates (issued by this platform or imported from older systems) and the
public halves of the signing keys.

Scores are kept in tenths of a point (integers), so that no database rounds them differently.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base
from .organisations import JobTypeLevel, Organisation


class ResultPart(str, enum.Enum):
    theory = "theory"          # 理论知识考试
    practical = "practical"    # 操作技能考核
    review = "review"          # 综合评审 (技师 and 高级技师 only)


class PartScore(Base):
    """One scored sitting of one part. Appended, never changed: the newest row of a part is the one that counts,
    and a pass counts only until ``valid_until`` (a passed part is kept for a configurable period)."""

    __tablename__ = "part_scores"
    __table_args__ = (Index("ix_part_scores_candidate_level", "candidate_id", "job_type_level_id", "part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    job_type_level_id: Mapped[int] = mapped_column(ForeignKey("job_type_levels.id"))
    part: Mapped[str] = mapped_column(String(16))
    score_tenths: Mapped[int]
    passed: Mapped[bool]
    source: Mapped[str] = mapped_column(String(100))     # e.g. "score_report:42" or "manual"
    recorded_at: Mapped[datetime]
    valid_until: Mapped[Optional[datetime]]              # passes only


class Result(Base):
    """The candidate's standing at one job type and level, recombined whenever a part score arrives.
    ``passed_at`` is set once every required part has a valid pass; confirmation freezes it."""

    __tablename__ = "results"
    __table_args__ = (UniqueConstraint("candidate_id", "job_type_level_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    job_type_level_id: Mapped[int] = mapped_column(ForeignKey("job_type_levels.id"))
    theory_score_id: Mapped[Optional[int]] = mapped_column(ForeignKey("part_scores.id"))
    practical_score_id: Mapped[Optional[int]] = mapped_column(ForeignKey("part_scores.id"))
    review_score_id: Mapped[Optional[int]] = mapped_column(ForeignKey("part_scores.id"))
    combined_at: Mapped[datetime]
    passed_at: Mapped[Optional[datetime]]
    confirmed_at: Mapped[Optional[datetime]]
    confirmed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    candidate: Mapped[User] = relationship(foreign_keys=[candidate_id])
    job_type_level: Mapped[JobTypeLevel] = relationship()
    theory: Mapped[Optional[PartScore]] = relationship(foreign_keys=[theory_score_id])
    practical: Mapped[Optional[PartScore]] = relationship(foreign_keys=[practical_score_id])
    review: Mapped[Optional[PartScore]] = relationship(foreign_keys=[review_score_id])


class Certificate(Base):
    """A 职业技能等级证书. Issued ones carry the canonical record and its Ed25519 signature; imported (legacy)
    ones carry what the old system exported and no signature. ``public_id`` (128 random bits) names the
    certificate in public URLs, so that numbers cannot be walked."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    holder_name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    occupation: Mapped[str] = mapped_column(String(100))          # as printed: 车工(数控车工)
    level: Mapped[int]
    issuer: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[str] = mapped_column(String(10))            # YYYY-MM-DD, as printed
    organisation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisations.id"), index=True)
    result_id: Mapped[Optional[int]] = mapped_column(ForeignKey("results.id"), unique=True)
    record_json: Mapped[Optional[str]] = mapped_column(Text)      # the JCS-canonical signed record
    signature: Mapped[Optional[str]] = mapped_column(String(100))  # base64url, 64 bytes
    key_id: Mapped[Optional[str]] = mapped_column(String(32))
    issued_at: Mapped[datetime]                                    # when this platform issued or imported it
    issued_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    legacy: Mapped[bool] = mapped_column(default=False)
    legacy_source: Mapped[Optional[str]] = mapped_column(String(200))
    revoked_at: Mapped[Optional[datetime]]
    revoked_reason: Mapped[Optional[str]] = mapped_column(String(500))
    revoked_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    organisation: Mapped[Optional[Organisation]] = relationship()
    result: Mapped[Optional[Result]] = relationship()


class CertificateSerial(Base):
    """The last serial used under one number prefix (everything but the serial), locked while issuing."""

    __tablename__ = "certificate_serials"

    prefix: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_serial: Mapped[int]


class SigningKey(Base):
    """The public half of a certificate signing key; the private half never enters the database."""

    __tablename__ = "signing_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(100))     # base64url of the raw 32 bytes
    created_at: Mapped[datetime]
    retired_at: Mapped[Optional[datetime]]


class CertificateImport(Base):
    """One legacy file imported (or refused), with its report."""

    __tablename__ = "certificate_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int]
    imported: Mapped[int]
    duplicates: Mapped[int]
    report_json: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime]
    imported_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
