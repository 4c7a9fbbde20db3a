"""Accounts, role assignments scoped to an organisation subtree, server-side sessions, login throttles."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import Enum, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .organisations import Organisation


class Role(str, enum.Enum):
    provincial_admin = "provincial_admin"   # 省级管理员
    centre_admin = "centre_admin"           # 鉴定中心管理员
    station_manager = "station_manager"     # 鉴定站负责人
    question_author = "question_author"     # 命题人员
    examiner = "examiner"                   # 考评员
    supervisor = "supervisor"               # 督导员
    candidate = "candidate"                 # 考生


STAFF_ROLES = frozenset(Role) - {Role.candidate}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[Optional[str]] = mapped_column(String(18), unique=True)  # 居民身份证号, candidates
    password_hash: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    locale: Mapped[Optional[str]] = mapped_column(String(8))
    photo: Mapped[Optional[bytes]] = mapped_column(LargeBinary, deferred=True)   # registration photo, candidates
    photo_type: Mapped[Optional[str]] = mapped_column(String(32))               # its media type
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deactivated_at: Mapped[Optional[datetime]]

    organisation: Mapped[Organisation] = relationship()
    role_assignments: Mapped[list["RoleAssignment"]] = relationship(
        back_populates="user", foreign_keys="RoleAssignment.user_id")

    def active_roles(self) -> list["RoleAssignment"]:
        return [r for r in self.role_assignments if r.revoked_at is None]

    @property
    def is_staff(self) -> bool:
        return any(r.role in STAFF_ROLES for r in self.active_roles())


class RoleAssignment(Base):
    """A role held over an organisation and everything below it."""

    __tablename__ = "role_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=32))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    granted_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[Optional[datetime]]

    user: Mapped[User] = relationship(back_populates="role_assignments", foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship()


class UserSession(Base):
    """A login. The cookie carries a random token; only its SHA-256 is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[Optional[datetime]]
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    user: Mapped[User] = relationship()


class LoginThrottle(Base):
    """Failed-login state for one key (an account at a centre, or an unknown name from one address)."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[Optional[datetime]]
    locked_until: Mapped[Optional[datetime]]
