"""Tasks: the one write path the admin forms, the API and the CLI share, and the API's reads."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field
from sqlalchemy import ColumnElement, Select, func, insert, select
from sqlalchemy.orm import joinedload
from sqlmodel import Session, SQLModel

from admin_app.audit import (
    audited_bulk_create,
    audited_bulk_delete,
    audited_bulk_update,
    record,
)
from admin_app.errors import InvalidInput, NotFound, RowErrors
from admin_app.services.actor import Actor
from admin_app.services.pagination import Page, SortKey, paginate, parse_sort
from admin_app.services.search import contains_text, merge_pending_search_entries
from admin_app.services.versions import check_version, flush_checking_version
from models import Task, TaskCreate, TaskReplace, TaskStatus, TaskUpdate, User
from models.common import MAX_DB_ID, DbId, UTCTimestamp, reject_control_characters, utcnow
from models.task_filter import TaskFilter


def _check_assignee(db: Session, assignee_id: int | None) -> None:
    if assignee_id is None:
        return
    if db.execute(select(User.id).where(User.id == assignee_id)).first() is None:
        raise InvalidInput(f"assignee_id: no user with id {assignee_id}")


def get_task(db: Session, task_id: int) -> Task:
    task = db.get(Task, task_id)
    if task is None:
        raise NotFound(f"Task {task_id} not found.")
    return task


def create_task(db: Session, data: TaskCreate, *, actor: Actor) -> Task:
    """Add a validated task; the caller commits."""
    _check_assignee(db, data.assignee_id)
    task = Task(**data.model_dump(), created_by_id=actor.user_id)
    task.apply_status_rules()
    db.add(task)
    db.flush()
    return task


def update_task(db: Session, task: Task, changes: TaskUpdate, *, actor: Actor) -> Task:
    """Apply only the fields that were sent; the caller commits.

    `changes.version`, when given, is the version the editor saw: a newer one in the database
    means someone else saved in between, and nothing is overwritten.
    """
    values = changes.model_dump(exclude_unset=True)
    expected = values.pop("version", None)
    check_version(task, expected)
    if "assignee_id" in values:
        _check_assignee(db, values["assignee_id"])
    for field, value in values.items():
        setattr(task, field, value)
    task.apply_status_rules()
    flush_checking_version(db, task)
    return task


def replace_task(db: Session, task: Task, data: TaskReplace, *, actor: Actor) -> Task:
    """Replace every field (PUT): what the body leaves out takes its default."""
    changes = TaskUpdate.model_validate(data.model_dump())
    return update_task(db, task, changes, actor=actor)


def delete_task(db: Session, task: Task, *, actor: Actor, version: int | None = None) -> None:
    check_version(task, version)
    db.delete(task)
    flush_checking_version(db, task)


# --- reading: one query per page, the assignee joined in --------------------------------

SortText = Annotated[str, AfterValidator(reject_control_characters)]
SortInt = Annotated[int, Field(ge=-MAX_DB_ID, le=MAX_DB_ID)]

# Every sortable column is indexed, so a deep page stays an index range scan.
TASK_SORTS: dict[str, SortKey] = {
    "id": SortKey(Task.id, SortInt),
    "title": SortKey(Task.title, SortText),
    "status": SortKey(Task.status, SortText),
    "priority": SortKey(Task.priority, SortInt),
    "due_date": SortKey(Task.due_date, date, nullable=True),
    "created_at": SortKey(Task.created_at, UTCTimestamp),
    "updated_at": SortKey(Task.updated_at, UTCTimestamp),
}


def with_assignee(query: Select) -> Select:
    """Load each task's assignee in the same query (the relationship refuses lazy loads)."""
    return query.options(
        joinedload(Task.assignee).load_only(User.id, User.email, User.full_name)
    )


def load_task(db: Session, task_id: int) -> Task:
    """A task with its assignee loaded, fresh from the database."""
    query = with_assignee(select(Task).where(Task.id == task_id))
    task = db.execute(query.execution_options(populate_existing=True)).unique().scalar_one_or_none()
    if task is None:
        raise NotFound(f"Task {task_id} not found.")
    return task


def list_tasks(
    db: Session, spec: TaskFilter, *, sort: str = "id", limit: int = 50, cursor: str | None = None
) -> Page:
    """One page of the tasks `spec` selects, assignees included, in one query."""
    query = with_assignee(select(Task).where(*filter_conditions(spec)))
    ordering = parse_sort(sort, TASK_SORTS)
    return paginate(db, query, ordering=ordering, id_column=Task.id, limit=limit, cursor=cursor)


# --- which tasks, and set-based changes to many of them ----------------------------------

MAX_BULK_IDS = 10_000


def filter_conditions(spec: TaskFilter) -> list[ColumnElement[bool]]:
    """SQL conditions for a TaskFilter (ANDed)."""
    conditions: list[ColumnElement[bool]] = []
    if spec.status:
        conditions.append(Task.status.in_([s.value for s in spec.status]))
    if spec.priority is not None:
        conditions.append(Task.priority == spec.priority)
    if spec.assignee_id is not None:
        conditions.append(Task.assignee_id == spec.assignee_id)
    if spec.q:
        conditions.append(contains_text(spec.q, Task.title, Task.description))
    if spec.due_before is not None:
        conditions.append(Task.due_date < spec.due_before)
    if spec.due_after is not None:
        conditions.append(Task.due_date > spec.due_after)
    if spec.created_before is not None:
        conditions.append(Task.created_at < spec.created_before)
    if spec.created_after is not None:
        conditions.append(Task.created_at > spec.created_after)
    return conditions


class BulkSet(SQLModel):
    """Fields a bulk edit may set; absent fields are left alone, assignee_id null unassigns."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    status: TaskStatus | None = None
    priority: int | None = Field(default=None, ge=1, le=5)
    assignee_id: DbId | None = None


def _target(ids: list[int] | None, spec: TaskFilter | None) -> list[ColumnElement[bool]]:
    if ids is not None:
        if len(ids) > MAX_BULK_IDS:
            raise InvalidInput(f"ids: at most {MAX_BULK_IDS:,} per call; use a filter for more")
        return [Task.id.in_(ids)]
    if spec is None:
        raise InvalidInput("give either ids or a filter")
    return filter_conditions(spec)


def bulk_update_tasks(
    db: Session,
    changes: BulkSet,
    *,
    actor: Actor,
    ids: list[int] | None = None,
    spec: TaskFilter | None = None,
) -> int:
    """One UPDATE over the chosen tasks; returns how many changed. The caller commits."""
    values = changes.model_dump(exclude_unset=True)
    if not values:
        raise InvalidInput("set: nothing to change")
    for required in ("status", "priority"):
        if required in values and values[required] is None:
            raise InvalidInput(f"set.{required}: may be changed but not removed")
    if "assignee_id" in values:
        _check_assignee(db, values["assignee_id"])
    now = utcnow()
    sql_values: dict[str, Any] = {"updated_at": now, "version": Task.version + 1}
    if "status" in values:
        status = TaskStatus(values["status"])
        sql_values["status"] = status.value
        sql_values["completed_at"] = (
            func.coalesce(Task.completed_at, now) if status == TaskStatus.done else None
        )
    if "priority" in values:
        sql_values["priority"] = values["priority"]
    if "assignee_id" in values:
        sql_values["assignee_id"] = values["assignee_id"]
    recorded = {k: (v.value if isinstance(v, TaskStatus) else v) for k, v in values.items()}
    count = audited_bulk_update(db, _target(ids, spec), sql_values, recorded, actor)
    if count:
        merge_pending_search_entries(db, Task.__tablename__)  # searches stay fast right after
    return count


def bulk_delete_tasks(
    db: Session, *, actor: Actor, ids: list[int] | None = None, spec: TaskFilter | None = None
) -> int:
    return audited_bulk_delete(db, _target(ids, spec), actor)


def count_tasks(db: Session, spec: TaskFilter) -> int:
    return db.execute(
        select(func.count()).select_from(Task).where(*filter_conditions(spec))
    ).scalar_one()


# --- many tasks at once, each with its own values ----------------------------------------

def existing_user_ids(db: Session, ids: set[int]) -> set[int]:
    """Which of these user ids exist (one query)."""
    if not ids:
        return set()
    return set(db.execute(select(User.id).where(User.id.in_(ids))).scalars())


def update_many_tasks(
    db: Session, changes: dict[int, TaskUpdate], *, actor: Actor
) -> list[Task]:
    """Apply validated changes to several tasks, all or none; returns the changed ones.

    One query loads the tasks, one checks the assignees. A task that is gone, was changed
    since `version` was read, or names an unknown assignee makes RowErrors (keyed by task
    id) and nothing is flushed.
    """
    if len(changes) > MAX_BULK_IDS:
        raise InvalidInput(f"ids: at most {MAX_BULK_IDS:,} per call")
    tasks = {
        t.id: t for t in db.execute(select(Task).where(Task.id.in_(list(changes)))).scalars()
    }
    wanted = {
        c.assignee_id for c in changes.values()
        if "assignee_id" in c.model_fields_set and c.assignee_id is not None
    }
    known = existing_user_ids(db, wanted)
    errors: dict[int, str] = {}
    for task_id, change in changes.items():
        task = tasks.get(task_id)
        if task is None:
            errors[task_id] = f"Task {task_id} no longer exists."
        elif change.version is not None and change.version != task.version:
            errors[task_id] = "Changed by someone else since this page was loaded; reload it."
        elif "assignee_id" in change.model_fields_set and change.assignee_id not in known | {None}:
            errors[task_id] = f"assignee_id: no user with id {change.assignee_id}"
    if errors:
        raise RowErrors(errors)
    for task_id, change in changes.items():
        task = tasks[task_id]
        values = change.model_dump(exclude_unset=True)
        values.pop("version", None)
        for field, value in values.items():
            setattr(task, field, value)
        task.apply_status_rules()
    changed = [tasks[task_id] for task_id in changes if db.is_modified(tasks[task_id])]
    db.flush()  # only the changed rows are written
    return changed


IMPORT_BATCH = 1000
IMPORT_RECORDED = ("title", "description", "status", "priority", "assignee_id", "due_date")


def import_tasks(db: Session, rows: list[TaskCreate], *, actor: Actor) -> int:
    """Insert validated tasks set-wise (multi-row INSERTs, no per-row flush); the caller commits."""
    wanted = {r.assignee_id for r in rows if r.assignee_id is not None}
    missing = wanted - existing_user_ids(db, wanted)
    if missing:
        raise InvalidInput(f"assignee_id: no user with id {min(missing)}")
    now = utcnow()
    values = []
    for row in rows:
        data = row.model_dump()
        data["status"] = TaskStatus(data["status"]).value
        data.update(
            created_by_id=actor.user_id, created_at=now, updated_at=now, version=1,
            completed_at=now if data["status"] == TaskStatus.done.value else None,
        )
        values.append(data)
    for start in range(0, len(values), IMPORT_BATCH):
        ids = db.execute(insert(Task).returning(Task.id), values[start : start + IMPORT_BATCH]).scalars().all()
        audited_bulk_create(db, Task, Task.id.in_(ids), IMPORT_RECORDED, actor)
    if values:
        merge_pending_search_entries(db, Task.__tablename__)  # as after a bulk edit
    record(db, "import", "task", details={"rows": len(values)}, actor=actor)
    return len(values)
