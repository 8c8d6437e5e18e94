"""Edit in the list (Django's `list_editable`, which SQLAdmin lacks).

The page shows the list's current page of rows as one form: status, priority, assignee
and due date of each row. Saving validates every row with TaskUpdate (the API's model)
and applies them in one transaction: one failing row says why beside it and nothing is
saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import ValidationError
from sqladmin import Flash
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from starlette import status
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin_app.admin.filters import STATUS_LABELS
from admin_app.admin.messages import (
    StaffError,
    readable,
    staff_errors,
    validation_message,
)
from admin_app.errors import RowErrors
from admin_app.services import tasks as task_service
from admin_app.services.actor import Actor
from models import Task, TaskUpdate, User
from models.common import parse_db_id

if TYPE_CHECKING:
    from admin_app.admin.views import TaskAdmin

EDITABLE = ("status", "priority", "assignee", "due_date")


@dataclass
class EditRow:
    """One row of the form: the task, the values shown, and why it failed (if it did)."""

    task: Task
    values: dict[str, Any]
    assignee_label: str = ""
    error: str = ""
    changes: TaskUpdate | None = field(default=None, repr=False)


def _shown(task: Task) -> dict[str, Any]:
    return {
        "status": str(task.status),
        "priority": str(task.priority),
        "assignee": str(task.assignee_id or ""),
        "due_date": task.due_date.isoformat() if task.due_date else "",
        "version": str(task.version),
    }


def _submitted(form: FormData, task_id: int) -> dict[str, str]:
    values = {name: str(form.get(f"{name}-{task_id}", "")).strip() for name in EDITABLE}
    values["version"] = str(form.get(f"version-{task_id}", "")).strip()
    values["assignee_sent"] = f"assignee-{task_id}" in form
    return values


def _changes(values: dict[str, Any]) -> TaskUpdate:
    """The row as a TaskUpdate: the same validation as the API and the forms."""
    payload: dict[str, Any] = {
        "status": values["status"] or None,
        "priority": values["priority"] or None,
        "due_date": values["due_date"] or None,
    }
    # A select2 box that was cleared sends ""; one that never loaded (no JS) sends nothing.
    if values.get("assignee_sent", True):
        payload["assignee_id"] = values["assignee"] or None
    if values.get("version"):
        payload["version"] = values["version"]
    return TaskUpdate.model_validate(payload)


def _tasks(factory, ids: list[int]) -> dict[int, Task]:  # noqa: ANN001
    with factory() as db:
        query = (
            select(Task).outerjoin(Task.assignee).options(contains_eager(Task.assignee))
            .where(Task.id.in_(ids))
        )
        return {t.id: t for t in db.execute(query).scalars().unique()}


def _emails(factory, ids: set[int]) -> dict[int, str]:  # noqa: ANN001
    if not ids:
        return {}
    with factory() as db:
        return dict(db.execute(select(User.id, User.email).where(User.id.in_(ids))).all())


def _save(factory, actor: Actor, rows: list[EditRow]) -> int:  # noqa: ANN001
    with factory() as db, staff_errors():
        try:
            changed = task_service.update_many_tasks(
                db, {row.task.id: row.changes for row in rows}, actor=actor
            )
            db.commit()
        except BaseException:
            db.rollback()
            raise
    return len(changed)


async def list_edit_page(view: TaskAdmin, request: Request) -> Response:
    if not view.has_permission(request, "edit"):
        raise HTTPException(status.HTTP_403_FORBIDDEN)
    if request.method == "GET":
        pagination = await view.list(request)
        rows = [
            EditRow(t, _shown(t), t.assignee.email if t.assignee else "") for t in pagination.rows
        ]
        return await _render(view, request, rows)

    # Six fields a row, up to the biggest page size (Starlette's default allows 1,000).
    form = await request.form(max_fields=8 * max(view.page_size_options) + 10)
    try:
        ids = [int(v) for v in form.getlist("row")]
        if any(parse_db_id(i) is None for i in ids):  # no row has it; SQLite cannot bind it
            raise ValueError(ids)
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Invalid row id.") from exc
    if not ids:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "No rows were sent.")
    if len(ids) > max(view.page_size_options):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Too many rows at once.")
    factory = view.session_maker
    tasks = await anyio.to_thread.run_sync(_tasks, factory, ids)
    submitted = {task_id: _submitted(form, task_id) for task_id in ids}
    wanted = {i for v in submitted.values() if (i := parse_db_id(v["assignee"])) is not None}
    emails = await anyio.to_thread.run_sync(_emails, factory, wanted)

    rows: list[EditRow] = []
    failed = False
    for task_id in ids:
        values = submitted[task_id]
        task = tasks.get(task_id)
        label = emails.get(int(values["assignee"]), "") if values["assignee"].isdigit() else ""
        if task is None:
            failed = True
            continue  # gone meanwhile: nothing to show it by (reported below)
        row = EditRow(task, values, label)
        try:
            row.changes = _changes(values)
        except ValidationError as exc:
            row.error, failed = validation_message(exc), True
        rows.append(row)
    missing = [i for i in ids if i not in tasks]
    if missing:
        return await _render(
            view, request, rows, status_code=400,
            error=f"{len(missing)} of these tasks no longer exist: reload the list. Nothing was saved.",
        )
    if failed:
        return await _render(view, request, rows, status_code=400, error=_failed(rows))

    actor = Actor.from_principal(request.app.state.authenticator.principal(request), via="admin")
    try:
        count = await anyio.to_thread.run_sync(_save, factory, actor, rows)
    except StaffError as exc:
        cause = exc.__cause__
        if isinstance(cause, RowErrors):
            for row in rows:
                if row.task.id in cause.errors:
                    row.error = readable(cause.errors[row.task.id])
            return await _render(view, request, rows, status_code=400, error=_failed(rows))
        return await _render(view, request, rows, status_code=400, error=exc.message)
    Flash.success(request, f"{count:,} task{'s' if count != 1 else ''} saved.")
    return RedirectResponse(view.list_url(request), status_code=status.HTTP_303_SEE_OTHER)


def _failed(rows: list[EditRow]) -> str:
    bad = sum(1 for r in rows if r.error)
    return f"{bad} row{'s' if bad != 1 else ''} could not be saved (see beside each). Nothing was saved."


async def _render(
    view: TaskAdmin, request: Request, rows: list[EditRow], *, status_code: int = 200,
    error: str | None = None,
) -> Response:
    context = {
        "model_view": view, "rows": rows, "error": error, "title": "Edit tasks in the list",
        "statuses": list(STATUS_LABELS.items()), "priorities": [str(p) for p in range(1, 6)],
        "list_url": view.list_url(request),
        "lookup_url": str(request.url_for("admin:view-task-assignees")),
    }
    return await view.templates.TemplateResponse(
        request, "sqladmin/task_list_edit.html", context, status_code=status_code
    )
