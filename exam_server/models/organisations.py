"""Organisations (a tree: province centre → city centre → county centre, with stations and college bases)
and the occupations and job types that are certified."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class OrganisationKind(str, enum.Enum):
    province_centre = "province_centre"   # 省职业技能鉴定指导中心
    city_centre = "city_centre"           # 市鉴定中心
    county_centre = "county_centre"       # 县鉴定中心
    station = "station"                   # 鉴定所/站
    college_base = "college_base"         # 院校鉴定基地


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(Enum(OrganisationKind, native_enum=False, length=32))
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisations.id"), index=True)
    # Materialised path of ids ("/1/4/9/") so that "this subtree" is one indexed LIKE query.
    path: Mapped[str] = mapped_column(String(400), index=True, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deactivated_at: Mapped[Optional[datetime]]

    parent: Mapped[Optional["Organisation"]] = relationship(remote_side=[id])

    def contains(self, other: "Organisation") -> bool:
        """True when ``other`` is this organisation or lies below it."""
        return other.path.startswith(self.path)


class Occupation(Base):
    """职业, e.g. 车工 (turner), with its code in the national occupational classification."""

    __tablename__ = "occupations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))


class JobType(Base):
    """工种, e.g. 数控车工 under 车工; certificates print "车工(数控车工)"."""

    __tablename__ = "job_types"
    __table_args__ = (UniqueConstraint("occupation_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occupation_id: Mapped[int] = mapped_column(ForeignKey("occupations.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))

    occupation: Mapped[Occupation] = relationship()
    levels: Mapped[list["JobTypeLevel"]] = relationship(back_populates="job_type", order_by="JobTypeLevel.level.desc()")

    @property
    def certificate_name(self) -> str:
        return f"{self.occupation.name}({self.name})"


class Level(int, enum.Enum):
    """职业技能等级: 5 初级 (lowest) … 1 高级技师 (highest), as the national standard numbers them."""

    senior_technician = 1   # 高级技师
    technician = 2          # 技师
    senior = 3              # 高级工
    intermediate = 4        # 中级工
    junior = 5              # 初级工


LEVEL_NAMES_ZH = {1: "一级/高级技师", 2: "二级/技师", 3: "三级/高级工", 4: "四级/中级工", 5: "五级/初级工"}


class JobTypeLevel(Base):
    """A level at which a job type is assessed (e.g. 数控车工 四级/中级工)."""

    __tablename__ = "job_type_levels"
    __table_args__ = (UniqueConstraint("job_type_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_types.id"))
    level: Mapped[int]

    job_type: Mapped[JobType] = relationship(back_populates="levels")
