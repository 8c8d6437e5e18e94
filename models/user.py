"""Staff accounts: the table and its API schemas."""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum
from typing import Annotated

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import AfterValidator, ConfigDict, EmailStr, field_validator
from sqlalchemy import String
from sqlmodel import Field, SQLModel

from models.common import (
    NoControlCharacters,
    Output,
    Patch,
    Stamped,
    UTCDateTime,
    Version,
    YesNo,
    strip_text,
    version_column,
)

# The admin's themes, as My account offers them; "system" follows the browser's setting.
THEMES = {"light": "Light", "dark": "Dark", "system": "Follow the system"}
# The admin's languages, each by its own name (My account); None on a user: the browser's.
LANGUAGES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español"}


class Role(str, Enum):
    admin = "admin"
    editor = "editor"
    viewer = "viewer"


def normalize_email(value: str) -> str:
    return value.strip().lower()


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


# email-validator refuses the special-use domains (RFC 6761 and kin: `.test`, `.local`,
# `localhost`...) whatever the case; the schema says so, as a pattern beside `format: email`.
RESERVED_DOMAINS_PATTERN = (
    r"^(?![\s\S]*[@.](?:" + "|".join(_any_case(d) for d in SPECIAL_USE_DOMAIN_NAMES) + r")\.?\s*$)"
)
EMAIL_SCHEMA = {"pattern": RESERVED_DOMAINS_PATTERN}
# A new password: the app's schema puts the configured length limits here (PASSWORD_MIN_LENGTH,
# PASSWORD_MAX_LENGTH; see admin_app/api/openapi.py), and a NUL is refused.
NEW_PASSWORD = "x-new-password"
PASSWORD_SCHEMA = {NEW_PASSWORD: True}

# The full name's length as sent, then stripped; control characters refused first.
FullName = Annotated[str, Field(max_length=200), AfterValidator(strip_text), NoControlCharacters]


class UserBase(SQLModel):
    email: EmailStr = Field(
        max_length=254, sa_type=String(254), unique=True, index=True, schema_extra={"json_schema_extra": EMAIL_SCHEMA}
    )
    full_name: FullName = Field(default="", max_length=200)
    role: Role = Field(default=Role.viewer, sa_type=String(16), index=True)
    is_active: YesNo = Field(default=True, index=True)

    @field_validator("email", mode="before")
    @classmethod
    def _normalize_email(cls, value: object) -> object:
        return normalize_email(value) if isinstance(value, str) else value


_VERSION = version_column()


class User(UserBase, Stamped, table=True):
    __mapper_args__ = {"version_id_col": _VERSION}
    __tablename__ = "user"

    id: int | None = Field(default=None, primary_key=True)
    hashed_password: str = Field(max_length=255, repr=False)
    # How the admin shows times to this user (an IANA name); set in My account.
    time_zone: str = Field(default="UTC", max_length=64, sa_column_kwargs={"server_default": "UTC"})
    # Light, dark, or the browser's (THEMES); set in My account.
    theme: str = Field(default="system", max_length=8, sa_column_kwargs={"server_default": "system"})
    # The admin's language (LANGUAGES); None: the browser's Accept-Language, else English.
    language: str | None = Field(default=None, max_length=8)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Optimistic concurrency: every ORM update checks and increases it (StaleDataError).
    version: int = Field(default=1, sa_column=_VERSION)

    def __str__(self) -> str:  # never the default, which would print the hash
        return self.email

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, email={self.email!r}, role={self.role!r})"


class UserCreate(UserBase):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "sam@example.com",
                    "full_name": "Sam Lee",
                    "role": "editor",
                    "is_active": True,
                    "password": "a long passphrase",
                }
            ]
        },
    )  # type: ignore[assignment]

    password: str = Field(
        description="Subject to the password rules (length, not the email)",
        schema_extra={"json_schema_extra": PASSWORD_SCHEMA},
    )


class UserUpdate(Patch):
    not_null = ("email", "role", "is_active")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"role": "viewer"}, {"is_active": False}, {"password": "a new long passphrase"}]
        },
    )  # type: ignore[assignment]

    email: EmailStr | None = Field(default=None, schema_extra={"json_schema_extra": EMAIL_SCHEMA})
    full_name: FullName | None = None
    role: Role | None = None
    is_active: YesNo | None = None
    password: str | None = Field(
        default=None, description="Subject to the password rules (length, not the email)",
        schema_extra={"json_schema_extra": PASSWORD_SCHEMA},
    )
    version: Version = None

    _normalize_email = field_validator("email", mode="before")(
        UserBase._normalize_email.__func__  # type: ignore[attr-defined]
    )


class UserPublic(UserBase, Output):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "email": "sam@example.com",
                    "full_name": "Sam Lee",
                    "role": "editor",
                    "is_active": True,
                    "created_at": "2026-11-20T09:30:00Z",
                    "updated_at": "2026-11-20T09:30:00Z",
                    "last_login_at": "2026-11-28T08:12:40Z",
                    "version": 1,
                }
            ]
        }
    )  # type: ignore[assignment]

    id: int
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None
    version: int


class UserRef(Output):
    """A user as other entities show it (a task's assignee)."""

    id: int
    email: str
    full_name: str
