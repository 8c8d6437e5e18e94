"""The audit trail over the API: admin role, newest first, filtered, cursor-paginated."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, Strict
from sqlalchemy import ColumnElement, select

from admin_app.api.deps import SessionDep, require
from admin_app.api.responses import error_responses
from admin_app.services.pagination import CURSOR_PATTERN, SortKey, paginate, parse_sort
from auth.principal import Principal
from models import AuditEntry, AuditEntryPublic
from models.common import MAX_DB_ID, NoControlCharacters, UTCTimestamp

router = APIRouter(prefix="/api/audit", tags=["audit"])
AuditReader = Annotated[Principal, Depends(require("audit-entry", "list"))]


class AuditQuery:
    """The audit list's filters and page, as query parameters (also the change sets' list)."""

    def __init__(
        self,
        actor_id: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None,
        action: Annotated[str | None, Query(max_length=32), NoControlCharacters] = None,
        entity: Annotated[str | None, Query(max_length=32), NoControlCharacters] = None,
        entity_id: Annotated[str | None, Query(max_length=64), NoControlCharacters] = None,
        at_after: UTCTimestamp | None = None,
        at_before: UTCTimestamp | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=200, pattern=CURSOR_PATTERN)] = None,
    ) -> None:
        self.actor_id, self.action, self.entity, self.entity_id = actor_id, action, entity, entity_id
        self.at_after, self.at_before, self.limit, self.cursor = at_after, at_before, limit, cursor

    def entry_conditions(self, *, actor: bool = True) -> list[ColumnElement[bool]]:
        """Equality on the entries' actor, action, entity and entity id, for those given."""
        pairs = [(AuditEntry.action, self.action), (AuditEntry.entity, self.entity),
                 (AuditEntry.entity_id, self.entity_id)]
        if actor:
            pairs.insert(0, (AuditEntry.actor_id, self.actor_id))
        return [column == value for column, value in pairs if value is not None]


AuditQueryDep = Annotated[AuditQuery, Depends()]


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    next_cursor: str | None


# Newest first: the shared keyset pagination over id, descending.
NEWEST_FIRST = parse_sort(
    "-id", {"id": SortKey(AuditEntry.id, Annotated[int, Strict(), Field(ge=1, le=MAX_DB_ID)])}
)


@router.get(
    "",
    response_model=AuditPage,
    operation_id="list_audit_entries",
    summary="Audit entries, newest first",
    responses=error_responses(401, 403, 422, e403="Admin role required"),
)
def list_audit_entries(
    _reader: AuditReader,
    db: SessionDep,
    q: AuditQueryDep,
) -> AuditPage:
    query = select(AuditEntry).where(*q.entry_conditions())
    if q.at_after is not None:
        query = query.where(AuditEntry.at > q.at_after)
    if q.at_before is not None:
        query = query.where(AuditEntry.at < q.at_before)
    page = paginate(
        db, query, ordering=NEWEST_FIRST, id_column=AuditEntry.id, limit=q.limit, cursor=q.cursor
    )
    return AuditPage(
        items=[AuditEntryPublic.model_validate(row) for row in page.items],
        next_cursor=page.next_cursor,
    )
