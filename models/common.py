"""Column types and validators shared by every entity."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import Enum
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, model_validator
from sqlalchemy import Column, DateTime, Integer
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# Ids are 32-bit INTEGER columns: a bigger number can name no row, and SQLite's driver
# raises OverflowError past 64 bits, so refuse it at validation instead.
MAX_DB_ID = 2_147_483_647
DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]


def parse_db_id(value: object) -> int | None:
    """`value` (digits, or an int) as an id if it could name a row, else None."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if type(value) is int and 1 <= value <= MAX_DB_ID:
        return value
    return None


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A time-zone aware timestamp stored as UTC; SQLite gets its zone back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001, ANN201
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):  # noqa: ANN001, ANN201
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def to_utc(value: datetime) -> datetime:
    """A naive time is taken as UTC; an aware one is converted, refused if UTC cannot hold it.

    `0001-01-01T00:00+01:00` is year 0 in UTC and `9999-12-31T23:59-01:00` year 10000: Python
    raises OverflowError converting them, so refuse them as input rather than fail in SQL.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range once converted to UTC") from None


UTCTimestamp = Annotated[datetime, AfterValidator(to_utc)]


def jsonable(value: Any) -> Any:
    """A column value as JSON and CSV show it: enums by value, dates and times in ISO 8601."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def reject_control_characters(value: str | None) -> str | None:
    """PostgreSQL refuses NUL in text; refuse it (and other C0 controls but tab/newline) first."""
    if value is None:
        return None
    for char in value:
        if ord(char) < 32 and char not in "\t\n\r":
            raise ValueError("must not contain control characters")
    return value


NoControlCharacters = AfterValidator(reject_control_characters)


def strip_text(value: object) -> object:
    """Surrounding whitespace is never meant: drop it before length checks."""
    return value.strip() if isinstance(value, str) else value


def require_text(value: str) -> str:
    """Refuse a value that is blank."""
    if not value.strip():
        raise ValueError("must not be blank")
    return value


class Stamped(SQLModel):
    """When a row was created and last changed (a table's mixin)."""

    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs={"onupdate": utcnow}
    )


def version_column() -> Column:
    """The optimistic-concurrency counter: every ORM update checks and increases it."""
    return Column("version", Integer, nullable=False, default=1)


# Sent in a PUT or PATCH body: the version the client last saw; a stale one is a 409.
Version = Annotated[
    int | None,
    Field(ge=1, description="The version you last read; refused (409) if the row changed since"),
]


class Patch(SQLModel):
    """A partial update: only the fields sent change, and `not_null` fields cannot be emptied."""

    not_null: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _required_fields_not_null(self) -> Patch:
        for name in self.not_null:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may be changed but not removed")
        return self
