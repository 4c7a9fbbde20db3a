"""Hub and station nodes (统一鉴定试卷传输). One codebase, two roles, each with its own database:

- on the hub: the registered station nodes, the session packages built for them (with the release code kept
  sealed under the paper key until the start) and the result bundles received back;
- on a node: the hub it trusts and the packages it received (by download or USB stick).

Status is derived from timestamps (released, unlocked, imported)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .organisations import Organisation


class StationNode(Base):
    """Hub side: a station's server, known by its Ed25519 public key."""

    __tablename__ = "station_nodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    public_key: Mapped[str] = mapped_column(String(64))          # raw key in hex
    registered_at: Mapped[datetime]
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[Optional[datetime]]

    organisation: Mapped[Organisation] = relationship()


class SessionPackage(Base):
    """Hub side: one built version of a session's package for its station's node."""

    __tablename__ = "session_packages"
    __table_args__ = (UniqueConstraint("exam_session_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("station_nodes.id"), index=True)
    version: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    code_nonce: Mapped[bytes] = mapped_column(LargeBinary)        # the release code, sealed under the paper key
    code_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    built_at: Mapped[datetime]
    built_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[Optional[datetime]]
    released_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    release_channel: Mapped[str] = mapped_column(String(16), default="")   # "online" | "phone"

    node: Mapped[StationNode] = relationship()


class ResultBundle(Base):
    """Hub side: a results bundle a node sent back, stored once per content (a second upload changes nothing)."""

    __tablename__ = "result_bundles"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("station_nodes.id"), index=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    received_at: Mapped[datetime]
    imported_at: Mapped[Optional[datetime]]
    conflicts: Mapped[str] = mapped_column(Text, default="[]")   # JSON: what was not merged, and why
    regrade: Mapped[str] = mapped_column(Text, default="{}")     # JSON: the hub's re-grade against the node's

    node: Mapped[StationNode] = relationship()


class TrustedHub(Base):
    """Node side: the hub whose packages this node accepts, and this node's station."""

    __tablename__ = "trusted_hubs"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    public_key: Mapped[str] = mapped_column(String(64))
    station_code: Mapped[str] = mapped_column(String(32))
    hub_url: Mapped[str] = mapped_column(String(300), default="")
    registered_at: Mapped[datetime]


class ReceivedPackage(Base):
    """Node side: a package as it arrived; imported into the node's own tables once unlocked at the start."""

    __tablename__ = "received_packages"
    __table_args__ = (UniqueConstraint("session_ref", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_ref: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    not_before: Mapped[datetime]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    source: Mapped[str] = mapped_column(String(16))               # "download" | "file"
    received_at: Mapped[datetime]
    unlocked_at: Mapped[Optional[datetime]]
    unlocked_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    exam_session_id: Mapped[Optional[int]] = mapped_column(ForeignKey("exam_sessions.id"))
