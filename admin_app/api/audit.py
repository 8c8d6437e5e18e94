"""The audit trail over the API: admin role, newest first, filtered, cursor-paginated."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, Strict
from sqlalchemy import select

from admin_app.api.deps import SessionDep, require
from admin_app.api.responses import error_responses
from admin_app.services.pagination import CURSOR_PATTERN, SortKey, paginate, parse_sort
from auth.principal import Principal
from models import AuditEntry, AuditEntryPublic
from models.common import MAX_DB_ID, NoControlCharacters, UTCTimestamp

router = APIRouter(prefix="/api/audit", tags=["audit"])
AuditReader = Annotated[Principal, Depends(require("audit-entry", "list"))]


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
    actor_id: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None,
    action: Annotated[str | None, Query(max_length=32), NoControlCharacters] = None,
    entity: Annotated[str | None, Query(max_length=32), NoControlCharacters] = None,
    entity_id: Annotated[str | None, Query(max_length=64), NoControlCharacters] = None,
    at_after: UTCTimestamp | None = None,
    at_before: UTCTimestamp | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200, pattern=CURSOR_PATTERN)] = None,
) -> AuditPage:
    query = select(AuditEntry)
    for column, value in (
        (AuditEntry.actor_id, actor_id), (AuditEntry.action, action),
        (AuditEntry.entity, entity), (AuditEntry.entity_id, entity_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if at_after is not None:
        query = query.where(AuditEntry.at > at_after)
    if at_before is not None:
        query = query.where(AuditEntry.at < at_before)
    page = paginate(
        db, query, ordering=NEWEST_FIRST, id_column=AuditEntry.id, limit=limit, cursor=cursor
    )
    return AuditPage(
        items=[AuditEntryPublic.model_validate(row) for row in page.items],
        next_cursor=page.next_cursor,
    )
