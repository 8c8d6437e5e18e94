"""Staff accounts: the table and its API schemas."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import ConfigDict, EmailStr, field_validator
from sqlalchemy import String
from sqlmodel import Field, SQLModel

from models.common import Patch, Stamped, UTCDateTime, Version, reject_control_characters, version_column


class Role(str, Enum):
    admin = "admin"
    editor = "editor"
    viewer = "viewer"


def normalize_email(value: str) -> str:
    return value.strip().lower()


class UserBase(SQLModel):
    email: EmailStr = Field(max_length=254, sa_type=String(254), unique=True, index=True)
    full_name: str = Field(default="", max_length=200)
    role: Role = Field(default=Role.viewer, sa_type=String(16), index=True)
    is_active: bool = Field(default=True, index=True)

    @field_validator("email", mode="before")
    @classmethod
    def _normalize_email(cls, value: object) -> object:
        return normalize_email(value) if isinstance(value, str) else value

    @field_validator("full_name")
    @classmethod
    def _clean_name(cls, value: str) -> str:
        return reject_control_characters(value.strip()) or ""


_VERSION = version_column()


class User(UserBase, Stamped, table=True):
    __mapper_args__ = {"version_id_col": _VERSION}
    __tablename__ = "user"

    id: int | None = Field(default=None, primary_key=True)
    hashed_password: str = Field(max_length=255, repr=False)
    # How the admin shows times to this user (an IANA name); set in My account.
    time_zone: str = Field(default="UTC", max_length=64, sa_column_kwargs={"server_default": "UTC"})
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

    password: str = Field(description="Subject to the password rules (length, not the email)")


class UserUpdate(Patch):
    not_null = ("email", "role", "is_active")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"role": "viewer"}, {"is_active": False}, {"password": "a new long passphrase"}]
        },
    )  # type: ignore[assignment]

    email: EmailStr | None = None
    full_name: str | None = Field(default=None, max_length=200)
    role: Role | None = None
    is_active: bool | None = None
    password: str | None = None
    version: Version = None

    _normalize_email = field_validator("email", mode="before")(
        UserBase._normalize_email.__func__  # type: ignore[attr-defined]
    )

    @field_validator("full_name")
    @classmethod
    def _clean_name(cls, value: str | None) -> str | None:
        return None if value is None else UserBase._clean_name(value)


class UserPublic(UserBase):
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


class UserRef(SQLModel):
    """A user as other entities show it (a task's assignee)."""

    id: int
    email: str
    full_name: str
