"""Column types and validators shared by every entity."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema
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
        raise ValueError(N_("out of range once converted to UTC")) from None


_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def not_a_number(value: object) -> object:
    """Dates and times are ISO 8601 text, as the schema says: pydantic would also take a
    number of seconds (`0` is 1970-01-01), which no client means."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(N_("expected an ISO 8601 date or time, not a number"))
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        raise ValueError(N_("expected an ISO 8601 date or time, not a number"))
    return value


def not_a_number_for_bool(value: object) -> object:
    """A yes/no is `true` or `false`, as the schema says: pydantic would also take 0 and 1."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(N_("expected true or false, not a number"))
    return value


UTCTimestamp = Annotated[datetime, AfterValidator(to_utc), BeforeValidator(not_a_number)]
IsoDate = Annotated[date, BeforeValidator(not_a_number)]
YesNo = Annotated[bool, BeforeValidator(not_a_number_for_bool)]


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "extract, translate later"
    """Mark a message for the catalogs (admin_app/locale): it stays as it is where it is made
    (the API and the CLI send it in English) and the admin translates it when it shows it.
    Here, at the bottom of the imports, so that models and auth mark theirs with the same one."""
    return message


class Refusal(ValueError):
    """A validator's refusal with values: an `N_`-marked `%(name)s` template and its values.

    `str()` is the English text (pydantic's message, so the API's); the admin words it in its
    language (services/wording.py), a `field` value as the form labels that field. Both are kept
    in `args`: FastAPI's 422 writes the error as its `vars()`, empty as for a plain ValueError."""

    def __init__(self, template: str, /, **params: Any) -> None:
        super().__init__(template, params)

    @property
    def template(self) -> str:
        return self.args[0]

    @property
    def params(self) -> dict[str, Any]:
        return self.args[1]

    def __str__(self) -> str:
        return self.template % self.params if self.params else self.template


def jsonable(value: Any) -> Any:
    """A column value as JSON and CSV show it: enums by value, dates and times in ISO 8601."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def reject_control_characters(value: str | None) -> str | None:
    """PostgreSQL refuses NUL in text; refuse it (and other C0 controls but tab/newline) first.

    One regular-expression search (every text of every row an API page sends is checked)."""
    if value is not None and _CONTROL_CHARACTER.search(value) is not None:
        raise ValueError(N_("must not contain control characters"))
    return value


# The same rule as a JSON-schema pattern, so the API schema states it: C0 controls but tab,
# LF and CR are refused anywhere in the text; a non-blank text has a character that
# `str.strip` keeps. The white space is spelled out: `\s` differs between the engines that
# read these patterns (ECMAScript's leaves out U+0085 and has U+FEFF, which Python's and
# Rust's do the other way round), and the server decides blankness with `str.strip`.
_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f"
_CONTROL_CHARACTER = re.compile(f"[{_CONTROLS}]")
_SPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_SPACE = rf"[^{_SPACE}]"
TEXT_PATTERN = rf"^[^{_CONTROLS}]*$"
NON_BLANK_TEXT_PATTERN = rf"^[^{_CONTROLS}]*[^{_SPACE}{_CONTROLS}][^{_CONTROLS}]*$"


@dataclass(frozen=True)
class PlainText:
    """Annotation for text fields: control characters refused (before any stripping, so the
    check sees what was sent), and the rule stated as a `pattern` in the JSON schema."""

    non_blank: bool = False

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        def check(value: Any) -> Any:
            return reject_control_characters(value) if isinstance(value, str) else value

        return core_schema.no_info_before_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        pattern = NON_BLANK_TEXT_PATTERN if self.non_blank else TEXT_PATTERN
        for branch in json_schema.get("anyOf", [json_schema]):
            if branch.get("type") == "string":
                branch["pattern"] = pattern
        return json_schema


# Last in an `Annotated[...]`, so that it runs before the other validators.
NoControlCharacters = PlainText()
NonBlankText = PlainText(non_blank=True)


def strip_text(value: object) -> object:
    """Surrounding whitespace is never meant: drop it before length checks."""
    return value.strip() if isinstance(value, str) else value


def require_text(value: str) -> str:
    """Refuse a value that is blank."""
    if not value.strip():
        raise ValueError(N_("must not be blank"))
    return value


class Output(SQLModel):
    """A response model: a field with a default is still always sent, so the schema (the
    serialization one, which FastAPI uses for responses) marks it required."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)  # type: ignore[assignment]


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

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """The `not_null` fields may be left out but not sent as null: the schema says so."""
        json_schema = handler.resolve_ref_schema(handler(schema))
        for name in cls.not_null:
            field = json_schema.get("properties", {}).get(name, {})
            if "anyOf" in field:
                field["anyOf"] = [b for b in field["anyOf"] if b.get("type") != "null"]
                if len(field["anyOf"]) == 1:
                    field.update(field.pop("anyOf")[0])
        return json_schema

    @model_validator(mode="after")
    def _required_fields_not_null(self) -> Patch:
        for name in self.not_null:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise Refusal(N_("%(field)s may be changed but not removed"), field=name)
        return self
