"""A table the app does not have, declared here only: the proof that a declaration is enough.

Its own registry (and so its own MetaData): the app's migrations and table list never see it;
the tests create it in their database.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated, Optional

from pydantic import ConfigDict
from sqlalchemy import Column, ForeignKey, Index, Integer, String
from sqlalchemy.orm import registry, relationship
from sqlmodel import Field, Relationship, SQLModel

from models import User
from models.common import DbId, Patch, UTCDateTime, Version, utcnow, version_column


class GadgetsBase(SQLModel, registry=registry()):
    pass


class Kind(str, Enum):
    tool = "tool"
    toy = "toy"
    spare = "spare"


Weight = Annotated[int, Field(ge=0, le=10_000)]


class GadgetFields(SQLModel):
    name: str = Field(min_length=1, max_length=80)
    kind: Kind = Field(default=Kind.tool, sa_type=String(8))
    weight: Weight = 0
    in_stock: bool = True
    delivered_on: date | None = None


_VERSION = version_column()


class Gadget(GadgetFields, GadgetsBase, table=True):
    __tablename__ = "gadget"
    __mapper_args__ = {"version_id_col": _VERSION}
    __table_args__ = (Index("ix_gadget_weight_id", "weight", "id"), Index("ix_gadget_name_id", "name", "id"))

    id: int | None = Field(default=None, primary_key=True)
    keeper_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey(User.__table__.c.id, ondelete="SET NULL"))
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False,
                                 sa_column_kwargs={"onupdate": utcnow})
    version: int = Field(default=1, sa_column=_VERSION)
    keeper: Optional[User] = Relationship(  # noqa: UP045
        sa_relationship=relationship(User, foreign_keys="Gadget.keeper_id", lazy="raise_on_sql")
    )


class GadgetCreate(GadgetFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Drill", "weight": 3}]})  # type: ignore[assignment]

    keeper_id: DbId | None = None


class GadgetUpdate(Patch):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    not_null = ("name", "kind", "weight", "in_stock")
    name: str | None = Field(default=None, min_length=1, max_length=80)
    kind: Kind | None = None
    weight: Weight | None = None
    in_stock: bool | None = None
    delivered_on: date | None = None
    keeper_id: DbId | None = None
    version: Version = None


class GadgetPublic(GadgetFields):
    id: int
    keeper_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int

