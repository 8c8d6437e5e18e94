"""The audit trail over the API: admin role, newest first, filtered, cursor-paginated."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import select

from admin_app.api.deps import SessionDep, require
from admin_app.api.responses import error_responses
from auth.principal import Principal
from models import AuditEntry, AuditEntryPublic
from models.common import MAX_DB_ID, NoControlCharacters, UTCTimestamp

router = APIRouter(prefix="/api/audit", tags=["audit"])
AuditReader = Annotated[Principal, Depends(require("audit-entry", "list"))]


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"id": last_id}).encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        last_id = value["id"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise HTTPException(status_code=422, detail="cursor: not a cursor this API returned") from None
    if type(last_id) is not int or not 1 <= last_id <= MAX_DB_ID:
        raise HTTPException(status_code=422, detail="cursor: not a cursor this API returned")
    return last_id


@router.get(
    "",
    response_model=AuditPage,
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
    cursor: Annotated[str | None, Query(max_length=200)] = None,
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
    if cursor is not None:
        query = query.where(AuditEntry.id < decode_cursor(cursor))
    rows = list(db.execute(query.order_by(AuditEntry.id.desc()).limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(
        items=[AuditEntryPublic.model_validate(row) for row in rows],
        next_cursor=encode_cursor(rows[-1].id) if more and rows else None,
    )
