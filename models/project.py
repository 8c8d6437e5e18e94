"""Projects: a named group of tasks with a short unique code, owned by a user."""

from datetime import datetime
from typing import Annotated, Optional

from pydantic import AfterValidator, ConfigDict, StringConstraints
from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, Relationship, SQLModel

from models.common import (
    DbId,
    NoControlCharacters,
    NonBlankText,
    Output,
    Patch,
    Stamped,
    Version,
    YesNo,
    require_text,
    strip_text,
    version_column,
)
from models.user import User, UserRef

NAME_MAX = 120
CODE_MAX = 12
DESCRIPTION_MAX = 1000


def _upper(value: str) -> str:
    """Codes are upper case: `ops` is taken as `OPS`."""
    return value.strip().upper()


# The length as sent, then stripped; the controls checked first (NonBlankText runs first).
Name = Annotated[
    str,
    Field(min_length=1, max_length=NAME_MAX),
    AfterValidator(strip_text),
    AfterValidator(require_text),
    NonBlankText,
]
# The pattern is what is accepted as sent (any case, surrounding blanks); stored upper case.
Code = Annotated[
    str,
    StringConstraints(pattern=rf"^[ \t\n\r]*[A-Za-z0-9]{{2,{CODE_MAX}}}[ \t\n\r]*$"),
    AfterValidator(_upper),
    Field(description=f"2 to {CODE_MAX} letters and digits, unique; stored upper case"),
]
Description = Annotated[str | None, Field(max_length=DESCRIPTION_MAX), NoControlCharacters]


class ProjectBase(SQLModel):
    name: Name = Field(max_length=NAME_MAX)
    code: Code = Field(max_length=CODE_MAX, unique=True, index=True)
    description: Description = Field(default=None, max_length=DESCRIPTION_MAX)
    archived: YesNo = Field(default=False)


_VERSION = version_column()


class Project(ProjectBase, Stamped, table=True):
    __mapper_args__ = {"version_id_col": _VERSION}
    __tablename__ = "project"
    # Each sort and filter column indexed with id, the tie-breaker, as for tasks.
    __table_args__ = (
        Index("ix_project_name_id", "name", "id"),
        Index("ix_project_archived_id", "archived", "id"),
        Index("ix_project_owner_id_id", "owner_id", "id"),
        Index("ix_project_created_at_id", "created_at", "id"),
        Index("ix_project_updated_at_id", "updated_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="SET NULL"), nullable=True),
    )
    version: int = Field(default=1, sa_column=_VERSION)

    owner: Optional[User] = Relationship(  # noqa: UP045 (SQLAlchemy resolves this)
        sa_relationship_kwargs={"foreign_keys": "Project.owner_id", "lazy": "raise_on_sql"}
    )

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ProjectCreate(ProjectBase):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "Office move", "code": "MOVE", "description": "Q1 relocation", "owner_id": 1}]
        },
    )  # type: ignore[assignment]

    owner_id: DbId | None = None


class ProjectReplace(ProjectCreate):
    """A full replacement (PUT): fields left out take their defaults."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    version: Version = None


class ProjectUpdate(Patch):
    """A partial update: only the fields sent change."""

    not_null = ("name", "code", "archived")

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"archived": True, "version": 2}]}
    )  # type: ignore[assignment]

    name: Name | None = None
    code: Code | None = None
    description: Description = None
    archived: YesNo | None = None
    owner_id: DbId | None = None
    version: Version = None


class ProjectPublic(ProjectBase, Output):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3, "name": "Office move", "code": "MOVE", "description": "Q1 relocation",
                    "archived": False,
                    "owner": {"id": 7, "email": "sam@example.com", "full_name": "Sam Lee"},
                    "created_at": "2026-11-20T09:30:00Z", "updated_at": "2026-11-28T16:02:11Z",
                    "version": 2,
                }
            ]
        }
    )  # type: ignore[assignment]

    id: int
    owner: UserRef | None
    created_at: datetime
    updated_at: datetime
    version: int


class ProjectRef(Output):
    """A project as other entities show it."""

    id: int
    code: str
    name: str
