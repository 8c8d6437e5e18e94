"""Change sets over the API: list and open them (admin role), preview and revert one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, Strict
from sqlalchemy import select

from admin_app.api.audit import AuditQueryDep
from admin_app.api.deps import CurrentUser, SessionDep, WriteContextDep, require
from admin_app.api.responses import error_responses
from admin_app.services import revert
from admin_app.services.pagination import SortKey, paginate, parse_sort
from auth.principal import Principal
from models import AuditEntry, AuditEntryPublic, ChangeSet, ChangeSetPublic
from models.common import MAX_DB_ID

router = APIRouter(prefix="/api/changes", tags=["changes"])
ChangeReader = Annotated[Principal, Depends(require("audit-entry", "list"))]
ChangeSetId = Annotated[int, Path(ge=1, le=MAX_DB_ID, description="The change set's id")]
Id = Annotated[int, Strict(), Field(ge=1, le=MAX_DB_ID)]
NEWEST_FIRST = parse_sort("-id", {"id": SortKey(ChangeSet.id, Id)})
OLDEST_FIRST = parse_sort("id", {"id": SortKey(AuditEntry.id, Id)})


class ChangeSetPage(BaseModel):
    items: list[ChangeSetPublic]
    next_cursor: str | None


class ChangeSetDetail(ChangeSetPublic):
    entries: list[AuditEntryPublic]
    next_cursor: str | None = Field(description="The next page of this change set's entries")


class RevertConflict(BaseModel):
    entity: str
    id: int
    reason: str = Field(description="Previewed: changed since, deleted since, exists again or value taken; "
                        "after a revert: changed since, deleted since, or changed or deleted since")
    fields: list[str]


class NotRevertible(BaseModel):
    entity: str
    id: int
    fields: list[str]


class ClearedReference(BaseModel):
    entity: str
    id: int
    field: str


class RevertPreview(BaseModel):
    restorable: int = Field(description="Rows the revert restores")
    conflicts: list[RevertConflict] = Field(description="Rows it leaves as they are (the first 100 per kind)")
    conflict_count: int
    not_revertible: list[NotRevertible] = Field(description="Changes never reverted: passwords")
    references_cleared: list[ClearedReference] = Field(description="Re-created rows whose reference target is gone")
    refused: str | None = Field(description="Why a table's rule refuses the revert, if one does")


class RevertDone(RevertPreview):
    change_set: ChangeSetPublic = Field(description="The revert's own change set: revert it to redo")


class RevertRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dry_run: Annotated[bool, Strict()] = False


def _preview(found: revert.Preview) -> dict[str, Any]:
    return {
        "restorable": found.restorable, "conflicts": found.conflicts, "conflict_count": found.conflict_count,
        "not_revertible": found.not_revertible, "references_cleared": found.references_cleared,
        "refused": found.refused,
    }


@router.get("", response_model=ChangeSetPage, operation_id="list_change_sets", summary="Change sets, newest first",
            description="One per request or command that changed data. Filters as for /api/audit; "
            "`action`, `entity` and `entity_id` choose the change sets holding such an entry.",
            responses=error_responses(401, 403, 422, e403="Admin role required"))
def list_change_sets(_reader: ChangeReader, db: SessionDep, q: AuditQueryDep) -> ChangeSetPage:
    query = select(ChangeSet)
    if q.actor_id is not None:
        query = query.where(ChangeSet.actor_id == q.actor_id)
    if q.at_after is not None:
        query = query.where(ChangeSet.created_at > q.at_after)
    if q.at_before is not None:
        query = query.where(ChangeSet.created_at < q.at_before)
    holding = q.entry_conditions(actor=False)
    if holding:
        query = query.where(select(AuditEntry.id).where(AuditEntry.change_set_id == ChangeSet.id, *holding).exists())
    page = paginate(db, query, ordering=NEWEST_FIRST, id_column=ChangeSet.id, limit=q.limit, cursor=q.cursor)
    return ChangeSetPage(items=[ChangeSetPublic.model_validate(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{change_set_id}", response_model=ChangeSetDetail, operation_id="get_change_set", summary="A change set and a page of its entries",
            responses=error_responses(401, 403, 404, 422, e403="Admin role required"))
def get_change_set(
    change_set_id: ChangeSetId, _reader: ChangeReader, db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ChangeSetDetail:
    found = revert.load(db, change_set_id)
    page = paginate(db, select(AuditEntry).where(AuditEntry.change_set_id == change_set_id),
                    ordering=OLDEST_FIRST, id_column=AuditEntry.id, limit=limit, cursor=cursor)
    return ChangeSetDetail(**ChangeSetPublic.model_validate(found).model_dump(),
                           entries=[AuditEntryPublic.model_validate(e) for e in page.items],
                           next_cursor=page.next_cursor)


@router.post(
    "/{change_set_id}/revert", response_model=RevertDone | RevertPreview, operation_id="revert_change_set",
    summary="Revert a change set (or preview it with dry_run)",
    description="With `{\"dry_run\": true}`: what would be restored (`restorable`) and what cannot be "
    "(`conflicts`: rows changed or deleted since, with ids and fields), nothing written. Without: "
    "the revert, in one transaction, answering its own change set (revert that to redo). Needs the "
    "permissions of making each change; a table's rule (the last active admin) refuses with 409.",
    responses=error_responses(400, 401, 403, 404, 409, 413, 422),
)
def revert_change_set(
    change_set_id: ChangeSetId, request: Request, principal: CurrentUser, ctx: WriteContextDep,
    body: RevertRequest | None = None,
) -> Any:
    registry = request.app.state.resources
    if body is not None and body.dry_run:
        return RevertPreview(**_preview(revert.preview(ctx, registry, change_set_id, principal.can)))
    found, new_id = revert.apply(ctx, registry, change_set_id, principal.can)
    ctx.db.commit()
    done = ChangeSetPublic.model_validate(revert.load(ctx.db, new_id))
    return RevertDone(change_set=done, **_preview(found))
