"""Tasks over JSON: filtered keyset-paged lists, one task, and set-based bulk edits."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import ConfigDict, Field, model_validator
from sqlmodel import Session, SQLModel

from admin_app.api.deps import (
    ActorDep,
    CurrentUser,
    SessionDep,
    ensure_allowed,
    require,
)
from admin_app.api.responses import error_responses
from admin_app.api.versions import IfMatch
from admin_app.services import tasks as task_service
from admin_app.services.pagination import MAX_CURSOR_LENGTH, sort_choices
from admin_app.services.tasks import MAX_BULK_IDS, TASK_SORTS, BulkSet
from auth.principal import Principal
from models import TaskCreate, TaskFilter, TaskPublic, TaskReplace, TaskUpdate
from models.common import MAX_DB_ID, DbId

router = APIRouter(prefix="/api/tasks", tags=["tasks"])

TaskId = Annotated[int, Path(ge=1, le=MAX_DB_ID, description="The task's id")]
TaskSort = Literal[sort_choices(TASK_SORTS)]  # type: ignore[valid-type]
FILTER_FIELDS = frozenset(TaskFilter.model_fields)


class TaskListParams(TaskFilter):
    """Query parameters of the task list: a TaskFilter plus sort and paging."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    sort: TaskSort = Field(  # type: ignore[valid-type]
        default="id",
        description="Column to sort by, `-` first for descending; ties are broken by id. "
        "Tasks without a due date count as due last: at the end of `due_date`, first in `-due_date`.",
    )
    limit: int = Field(default=50, ge=1, le=200, description="Rows per page (1-200)")
    cursor: str | None = Field(
        default=None,
        max_length=MAX_CURSOR_LENGTH,
        description="`next_cursor` of the previous page, with the same sort",
    )
    count: bool = Field(default=False, description="Add `total`, the number of matching tasks")

    def task_filter(self) -> TaskFilter:
        return TaskFilter.model_validate(self.model_dump(include=FILTER_FIELDS, exclude_unset=True))


class TaskPage(SQLModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [TaskPublic.model_config["json_schema_extra"]["examples"][0]],  # type: ignore[index]
                    "next_cursor": "eyJzIjoiaWQiLCJ2Ijo0MiwiaSI6NDJ9",
                    "total": 1234,
                }
            ]
        }
    )  # type: ignore[assignment]

    items: list[TaskPublic]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")
    total: int | None = Field(default=None, description="Matching tasks; only with `count=true`")


class TaskBulkRequest(SQLModel):
    """Which tasks (`ids` or `filter`) and what to do (`set` or `delete`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"ids": [3, 5, 8], "set": {"status": "done"}},
                {"filter": {"status": ["pending"], "assignee_id": 7}, "set": {"assignee_id": None}},
                {"filter": {"status": ["cancelled"]}, "delete": True},
            ]
        },
    )  # type: ignore[assignment]

    ids: list[DbId] | None = Field(
        default=None, max_length=MAX_BULK_IDS, description=f"At most {MAX_BULK_IDS:,} ids"
    )
    filter: TaskFilter | None = Field(
        default=None, description="Every task matching it, in one statement (no limit)"
    )
    set: BulkSet | None = Field(default=None, description="Fields to set: status, priority, assignee_id")
    delete: bool = Field(default=False, description="true to delete the chosen tasks")

    @model_validator(mode="after")
    def _one_target_one_change(self) -> TaskBulkRequest:
        if (self.ids is None) == (self.filter is None):
            raise ValueError("give either ids or filter")
        if self.filter is not None and self.filter.is_empty():
            # An empty filter is every task: too easy to send by mistake.
            raise ValueError("filter: give at least one condition")
        if (self.set is None) == (not self.delete):
            raise ValueError('give either set or "delete": true')
        return self


class TaskBulkResult(SQLModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"count": 3}]})  # type: ignore[assignment]

    count: int = Field(description="How many tasks were changed or deleted")


def may_bulk_edit(principal: CurrentUser) -> Principal:
    """Refuse early a role that may neither edit nor delete; the body decides which is needed."""
    if not (principal.can("task", "edit") or principal.can("task", "delete")):
        raise HTTPException(
            status_code=403, detail=f"The {principal.role.value} role may not edit or delete task."
        )
    return principal


def _public(db: Session, task_id: int, response: Response) -> TaskPublic:
    """The task as the API shows it, assignee included; its version is the ETag."""
    task = task_service.load_task(db, task_id)
    response.headers["ETag"] = f'"{task.version}"'
    return TaskPublic.model_validate(task)


@router.get(
    "",
    response_model=TaskPage,
    response_model_exclude_unset=True,
    summary="List tasks: filter, sort, page",
    description="Keyset pagination: follow `next_cursor` until it is null; pages stay fast "
    "however deep. `total` only with `count=true`.",
    dependencies=[Depends(require("task", "list"))],
    responses=error_responses(401, 403, 422),
)
def list_tasks(params: Annotated[TaskListParams, Query()], db: SessionDep) -> TaskPage:
    spec = params.task_filter()
    page = task_service.list_tasks(
        db, spec, sort=params.sort, limit=params.limit, cursor=params.cursor
    )
    extra = {"total": task_service.count_tasks(db, spec)} if params.count else {}
    return TaskPage(
        items=[TaskPublic.model_validate(task) for task in page.items],
        next_cursor=page.next_cursor,
        **extra,
    )


@router.post(
    "",
    status_code=201,
    response_model=TaskPublic,
    summary="Create a task",
    description="Answers 201 with the task and its URL in `Location`.",
    dependencies=[Depends(require("task", "create"))],
    responses=error_responses(400, 401, 403, 413, 422),
)
def create_task(
    body: TaskCreate, request: Request, response: Response, db: SessionDep, actor: ActorDep
) -> TaskPublic:
    task = task_service.create_task(db, body, actor=actor)
    db.commit()
    response.headers["Location"] = str(request.url_for("get_task", task_id=task.id))
    return _public(db, task.id, response)


@router.post(
    "/bulk",
    response_model=TaskBulkResult,
    summary="Change or delete many tasks at once",
    description=f"By `ids` (at most {MAX_BULK_IDS:,}) or by `filter` (one statement, no limit); "
    "`set` needs the edit permission, `delete` the delete permission. All or nothing.",
    responses=error_responses(400, 401, 403, 413, 422),
)
def bulk(
    body: TaskBulkRequest,
    db: SessionDep,
    principal: Annotated[Principal, Depends(may_bulk_edit)],
    actor: ActorDep,
) -> TaskBulkResult:
    if body.delete:
        ensure_allowed(principal, "task", "delete")
        count = task_service.bulk_delete_tasks(db, actor=actor, ids=body.ids, spec=body.filter)
    else:
        ensure_allowed(principal, "task", "edit")
        assert body.set is not None  # the model's validator guarantees one of the two
        count = task_service.bulk_update_tasks(
            db, body.set, actor=actor, ids=body.ids, spec=body.filter
        )
    db.commit()
    return TaskBulkResult(count=count)


@router.get(
    "/{task_id}",
    response_model=TaskPublic,
    summary="One task",
    description='The `ETag` header carries the version (`"3"`).',
    dependencies=[Depends(require("task", "details"))],
    responses=error_responses(401, 403, 404, 422),
)
def get_task(task_id: TaskId, response: Response, db: SessionDep) -> TaskPublic:
    return _public(db, task_id, response)


@router.put(
    "/{task_id}",
    response_model=TaskPublic,
    summary="Replace a task",
    description="Every field is set: those left out take their defaults. The version you "
    "read is required, as `If-Match` (the ETag from GET) or `version` in the body: a task "
    "changed since is refused (412 for If-Match, 409 for the body) and left as it is.",
    dependencies=[Depends(require("task", "edit"))],
    responses=error_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
)
def replace_task(
    task_id: TaskId, body: TaskReplace, response: Response, db: SessionDep, actor: ActorDep,
    precondition: IfMatch,
) -> TaskPublic:
    task = task_service.get_task(db, task_id)
    body = body.model_copy(update={"version": precondition.expected(body.version)})
    with precondition.checked():
        task_service.replace_task(db, task, body, actor=actor)
    db.commit()
    return _public(db, task_id, response)


@router.patch(
    "/{task_id}",
    response_model=TaskPublic,
    summary="Change some fields of a task",
    description="Only the fields sent change. The version you read is required, as "
    "`If-Match` (the ETag from GET) or `version` in the body: a task changed since is "
    "refused (412 for If-Match, 409 for the body) and left as it is.",
    dependencies=[Depends(require("task", "edit"))],
    responses=error_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
)
def update_task(
    task_id: TaskId, body: TaskUpdate, response: Response, db: SessionDep, actor: ActorDep,
    precondition: IfMatch,
) -> TaskPublic:
    task = task_service.get_task(db, task_id)
    body = body.model_copy(update={"version": precondition.expected(body.version)})
    with precondition.checked():
        task_service.update_task(db, task, body, actor=actor)
    db.commit()
    return _public(db, task_id, response)


@router.delete(
    "/{task_id}",
    status_code=204,
    summary="Delete a task",
    description="With `If-Match`, a task changed since is refused (412) and kept.",
    dependencies=[Depends(require("task", "delete"))],
    responses=error_responses(400, 401, 403, 404, 409, 412, 422),
)
def delete_task(task_id: TaskId, db: SessionDep, actor: ActorDep, precondition: IfMatch) -> Response:
    task = task_service.get_task(db, task_id)
    with precondition.checked():
        task_service.delete_task(db, task, actor=actor, version=precondition.expected(None, required=False))
    db.commit()
    return Response(status_code=204)
