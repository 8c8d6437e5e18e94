"""The audit trail: one append-only row per change or login event, written in its transaction."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field as PydanticField
from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from models.common import Output, UTCDateTime, utcnow


class ChangeSet(SQLModel, table=True):
    """What one request or command wrote: its audit entries share its id (see admin_app/change_sets.py)."""

    __tablename__ = "change_set"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    actor_id: int | None = Field(default=None, index=True)  # no foreign key, as for entries
    actor_label: str = Field(max_length=254)
    via: str = Field(max_length=16)
    summary: str = Field(default="", max_length=300)
    size: int = Field(default=0)  # rows written (entries but the import's summary entry)
    reverts_id: int | None = Field(default=None)  # the change set this one reverted


class ChangeSetPublic(Output):
    id: int
    created_at: datetime
    actor_id: int | None
    actor_label: str
    via: str
    summary: str
    size: int
    reverts_id: int | None


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    # No foreign key: the entry outlives the actor; the label keeps who it was.
    actor_id: int | None = Field(default=None, index=True)
    actor_label: str = Field(max_length=254)
    via: str = Field(max_length=16)  # admin, api or cli
    action: str = Field(max_length=32, index=True)
    entity: str = Field(max_length=32)
    entity_id: str | None = Field(default=None, max_length=64)
    changes: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    details: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    change_set_id: int | None = Field(default=None, index=True)

    def __str__(self) -> str:
        return f"{self.action} {self.entity} {self.entity_id or ''}".strip()


class AuditEntryPublic(Output):
    id: int
    at: datetime
    actor_id: int | None
    actor_label: str
    via: str
    action: str
    entity: str
    entity_id: str | None
    changes: dict[str, Annotated[list[Any], PydanticField(min_length=2, max_length=2)] | Literal["changed"]] | None = Field(
        description="Per field, `[old, new]` (JSON values: dates and times as ISO 8601 text; "
        "`[null, value]` on create, `[value, null]` on delete); a secret shows only `\"changed\"` "
        "(the password), never a value. Null for events that change no row (logins).",
        schema_extra={"json_schema_extra": {"examples": [{"status": ["pending", "done"], "priority": [1, 3]}]}},
    )
    details: dict[str, str | int | float | bool | None | list[Any] | dict[str, Any]] | None = Field(
        description="What an event that is no row change records, by action: logins the `address` "
        "and `reason`; `export` the `format`, `query` and `rows`; `import` the rows created and "
        "updated; `mfa_reset` what was removed (`totp`, `passkeys`, `recovery_codes`, "
        "`sessions_ended`); `mfa_passkey_added`/`_removed` the `name`. Null for row changes.",
    )
    change_set_id: int | None = Field(default=None, description="The change set this entry belongs to (see /api/changes); null for events that change no row.")
