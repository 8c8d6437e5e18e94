"""Personal API tokens for scripts: shown once, stored only as a hash."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict
from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from models.common import NonBlankText, Output, UTCDateTime, require_text, strip_text, utcnow

# Stored as sent (stripped): PostgreSQL refuses a NUL, and a blank name recognises nothing.
TokenName = Annotated[
    str,
    Field(min_length=1, max_length=100),
    AfterValidator(strip_text),
    AfterValidator(require_text),
    NonBlankText,
]


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)  # shown in lists so a token can be recognised
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ApiTokenCreate(SQLModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "nightly export"}]})  # type: ignore[assignment]

    name: TokenName
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class ApiTokenPublic(Output):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(ApiTokenPublic):
    token: str  # the secret, in this response only
