"""Filter sidebar entries SQLAdmin lacks: an assignee searched (not listed) and date ranges.

They follow the interface of `sqladmin.filters` (title, parameter_name, template,
lookups, get_filtered_query). The task list turns the parameters into SQL through
`task_query.task_filter`, so `get_filtered_query` only serves other views.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from sqladmin.filters import StaticValuesFilter
from sqlalchemy import select
from sqlalchemy.sql.expression import Select
from starlette.requests import Request

from models import Task, TaskStatus, User

STATUS_LABELS = {
    TaskStatus.pending.value: "Pending",
    TaskStatus.in_progress.value: "In progress",
    TaskStatus.done.value: "Done",
    TaskStatus.cancelled.value: "Cancelled",
}
OPEN_STATUSES = f"{TaskStatus.pending.value},{TaskStatus.in_progress.value}"


def status_filter() -> StaticValuesFilter:
    values = [*STATUS_LABELS.items(), (OPEN_STATUSES, "Open (pending or in progress)")]
    return StaticValuesFilter(Task.status, values=values, title="Status")


def priority_filter() -> StaticValuesFilter:
    values = [(str(p), str(p)) for p in range(1, 6)]
    return StaticValuesFilter(Task.priority, values=values, title="Priority")


class AssigneeFilter:
    """Filter by assignee, chosen with a search box: thousands of users are never listed."""

    has_operator = False
    template = "sqladmin/filters/assignee_filter.html"

    def __init__(self, parameter_name: str = "assignee", title: str = "Assignee") -> None:
        self.parameter_name = parameter_name
        self.title = title

    async def lookups(
        self, request: Request, model: Any, run_query: Callable[[Select], Any]
    ) -> list[tuple[str, str]]:
        return []  # nothing is listed: the template searches

    async def chosen(self, request: Request, model_view: Any) -> tuple[str, str] | None:
        """The chosen assignee's (id, email), one primary-key lookup, off the event loop."""
        value = request.query_params.get(self.parameter_name, "")
        if not value.isdigit():
            return None
        return await anyio.to_thread.run_sync(_user_label, model_view.session_maker, int(value))

    async def get_filtered_query(self, query: Select, value: Any, model: Any) -> Select:
        if value is None or not str(value).isdigit():
            return query
        return query.filter(model.assignee_id == int(value))


def _user_label(factory, user_id: int) -> tuple[str, str] | None:  # noqa: ANN001
    with factory() as db:
        row = db.execute(select(User.id, User.email).where(User.id == user_id)).first()
    return (str(row.id), row.email) if row else None


class DateRangeFilter:
    """Two dates, `<name>_after` and `<name>_before`, in one small form."""

    has_operator = False
    template = "sqladmin/filters/date_range_filter.html"

    def __init__(self, name: str, title: str) -> None:
        self.after_param = f"{name}_after"
        self.before_param = f"{name}_before"
        self.parameter_name = self.after_param
        self.title = title

    async def lookups(
        self, request: Request, model: Any, run_query: Callable[[Select], Any]
    ) -> list[tuple[str, str]]:
        return []

    async def get_filtered_query(self, query: Select, value: Any, model: Any) -> Select:
        return query

