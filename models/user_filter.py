"""The one description of "which users": used by the API list."""

from pydantic import ConfigDict, Field, field_validator
from sqlmodel import SQLModel

from models.common import reject_control_characters
from models.user import Role


class UserFilter(SQLModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"q": "lee", "role": "editor", "is_active": True}]},
    )  # type: ignore[assignment]

    q: str | None = Field(default=None, max_length=200, description="Substring of email or full name")
    role: Role | None = None
    is_active: bool | None = None

    @field_validator("q")
    @classmethod
    def _clean_q(cls, value: str | None) -> str | None:
        value = reject_control_characters(value)
        return value.strip() or None if value is not None else None
