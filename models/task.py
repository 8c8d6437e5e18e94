"""Tasks: the table and its API schemas, with the seed tutorial's validation grown up."""

from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Optional

from pydantic import AfterValidator, ConfigDict
from sqlalchemy import Column, ColumnElement, ForeignKey, Index, Integer, String, func
from sqlmodel import Field, Relationship, SQLModel

from models.common import (
    DbId,
    IsoDate,
    NoControlCharacters,
    NonBlankText,
    Output,
    Patch,
    Stamped,
    UTCDateTime,
    Version,
    require_text,
    strip_text,
    utcnow,
    version_column,
)
from models.project import Project
from models.user import User, UserRef


class TaskStatus(str, Enum):
    pending = "pending"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


STATUS_LABELS = {
    TaskStatus.pending: "Pending",
    TaskStatus.in_progress: "In progress",
    TaskStatus.done: "Done",
    TaskStatus.cancelled: "Cancelled",
}
# 1 is the least urgent: the scale every list, filter, form and bulk prompt shows.
PRIORITY_LABELS = {1: "Low", 2: "Normal", 3: "High", 4: "Very high", 5: "Urgent"}

TITLE_MAX = 200
DESCRIPTION_MAX = 1000

# The length as sent, then stripped; the controls checked first (NonBlankText runs first),
# so that the schema's minLength, maxLength and pattern say exactly what is accepted.
Title = Annotated[
    str,
    Field(min_length=1, max_length=TITLE_MAX),
    AfterValidator(strip_text),
    AfterValidator(require_text),
    NonBlankText,
]
Description = Annotated[str | None, Field(max_length=DESCRIPTION_MAX), NoControlCharacters]
Priority = Annotated[int, Field(ge=min(PRIORITY_LABELS), le=max(PRIORITY_LABELS))]


def completed_at_for(status: TaskStatus | str, completed_at: Any, now: datetime) -> Any:
    """`completed_at` follows status: kept or set on done, cleared otherwise.

    The one statement of the rule, for a task in memory (values) and for a set-based
    UPDATE (`completed_at` is then the column, and the answer an SQL expression).
    """
    if TaskStatus(status) is not TaskStatus.done:
        return None
    if isinstance(completed_at, ColumnElement):
        return func.coalesce(completed_at, now)
    return completed_at or now


class TaskBase(SQLModel):
    title: Title = Field(max_length=TITLE_MAX)
    description: Description = Field(default=None, max_length=DESCRIPTION_MAX)
    # status, priority and due_date are indexed together with id: see Task.__table_args__.
    status: TaskStatus = Field(default=TaskStatus.pending, sa_type=String(16))
    priority: Priority = Field(default=1)
    due_date: IsoDate | None = Field(default=None)


_VERSION = version_column()


class Task(TaskBase, Stamped, table=True):
    __mapper_args__ = {"version_id_col": _VERSION}
    __tablename__ = "task"
    # Columns with many ties are indexed with id, the tiebreaker of every list order: a
    # keyset page sorted by one of them is then an index range scan, however deep.
    __table_args__ = (
        Index("ix_task_status_id", "status", "id"),
        Index("ix_task_priority_id", "priority", "id"),
        Index("ix_task_due_date_id", "due_date", "id"),
        Index("ix_task_assignee_id_id", "assignee_id", "id"),
        Index("ix_task_project_id_id", "project_id", "id"),
        Index("ix_task_title_id", "title", "id"),
        Index("ix_task_created_at_id", "created_at", "id"),
        Index("ix_task_updated_at_id", "updated_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    assignee_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("user.id", ondelete="SET NULL"), nullable=True
        ),
    )
    project_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("project.id", ondelete="SET NULL"), nullable=True),
    )
    created_by_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="SET NULL"), nullable=True),
    )
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Optimistic concurrency: every ORM update checks and increases it (StaleDataError).
    version: int = Field(default=1, sa_column=_VERSION)

    assignee: Optional[User] = Relationship(  # noqa: UP045 (SQLAlchemy resolves this)
        sa_relationship_kwargs={"foreign_keys": "Task.assignee_id", "lazy": "raise_on_sql"}
    )
    project: Optional[Project] = Relationship(  # noqa: UP045
        sa_relationship_kwargs={"foreign_keys": "Task.project_id", "lazy": "raise_on_sql"}
    )
    created_by: Optional[User] = Relationship(  # noqa: UP045
        sa_relationship_kwargs={"foreign_keys": "Task.created_by_id", "lazy": "raise_on_sql"}
    )

    def __str__(self) -> str:
        return f"#{self.id} {self.title}"

    def apply_status_rules(self) -> None:
        """`completed_at` follows status: set on entering done, cleared on leaving it."""
        self.completed_at = completed_at_for(self.status, self.completed_at, utcnow())


class TaskCreate(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Renew the office lease",
                    "description": "Call the landlord before the 30th",
                    "status": "pending",
                    "priority": 2,
                    "due_date": "2026-12-01",
                    "assignee_id": None,
                }
            ]
        },
    )  # type: ignore[assignment]

    assignee_id: DbId | None = None
    project_id: DbId | None = None


class TaskReplace(TaskCreate):
    """A full replacement (PUT): fields left out take their defaults."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"title": "Renew the office lease", "status": "in_progress", "priority": 3, "version": 2}
            ]
        },
    )  # type: ignore[assignment]

    version: Version = None


class TaskUpdate(Patch):
    """A partial update: only the fields sent change."""

    not_null = ("title", "status", "priority")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status": "done"}, {"assignee_id": None, "version": 3}]},
    )  # type: ignore[assignment]

    title: Title | None = None
    description: Description = None
    status: TaskStatus | None = None
    priority: Priority | None = None
    due_date: IsoDate | None = None
    assignee_id: DbId | None = None
    project_id: DbId | None = None
    version: Version = None


class TaskPublic(TaskBase, Output):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "title": "Renew the office lease",
                    "description": "Call the landlord before the 30th",
                    "status": "done",
                    "priority": 2,
                    "due_date": "2026-12-01",
                    "assignee": {"id": 7, "email": "sam@example.com", "full_name": "Sam Lee"},
                    "project_id": 3,
                    "created_by_id": 1,
                    "created_at": "2026-11-20T09:30:00Z",
                    "updated_at": "2026-11-28T16:02:11Z",
                    "completed_at": "2026-11-28T16:02:11Z",
                    "version": 3,
                }
            ]
        }
    )  # type: ignore[assignment]

    id: int
    assignee: UserRef | None
    project_id: int | None
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    version: int
