"""The one description of "which tasks": used by the API list, bulk edits and the admin."""

from datetime import date

from pydantic import ConfigDict, Field, field_validator
from sqlmodel import SQLModel

from models.common import MAX_DB_ID, UTCTimestamp, reject_control_characters
from models.task import TaskStatus


class TaskFilter(SQLModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status": ["pending", "in_progress"], "q": "invoice"}]},
    )  # type: ignore[assignment]

    # An empty list would select nothing by its words but everything by `if spec.status`.
    status: list[TaskStatus] | None = Field(
        default=None, min_length=1, description="Any of these statuses"
    )
    priority: int | None = Field(default=None, ge=1, le=5)
    assignee_id: int | None = Field(default=None, ge=1, le=MAX_DB_ID)
    q: str | None = Field(default=None, max_length=200, description="Substring of title or description")
    due_before: date | None = None
    due_after: date | None = None
    created_before: UTCTimestamp | None = None
    created_after: UTCTimestamp | None = None

    @field_validator("q")
    @classmethod
    def _clean_q(cls, value: str | None) -> str | None:
        value = reject_control_characters(value)
        return value.strip() or None if value is not None else None

    def is_empty(self) -> bool:
        return not self.model_dump(exclude_none=True)
