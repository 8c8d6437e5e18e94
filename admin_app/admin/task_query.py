"""The task list's URL, read in one place: the list page, bulk actions on all matching
rows, list edit and export all turn the same query parameters into the same TaskFilter
and sort order.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from pydantic import ValidationError
from sqlalchemy import ColumnElement
from starlette import status
from starlette.exceptions import HTTPException

from admin_app.admin.messages import validation_message
from models import Task, User
from models.task_filter import TaskFilter

SEARCH = "search"
# URL parameter -> TaskFilter field. The filter sidebar uses the same names.
FILTER_FIELDS = {
    "status": "status",
    "priority": "priority",
    "assignee": "assignee_id",
    "due_after": "due_after",
    "due_before": "due_before",
    "created_after": "created_after",
    "created_before": "created_before",
}
SORT_BY, SORT = "sortBy", "sort"
PAGE, PAGE_SIZE = "page", "pageSize"
# Everything that describes a view of the list (what a bookmark keeps).
LIST_STATE = (SEARCH, *FILTER_FIELDS, SORT_BY, SORT, PAGE, PAGE_SIZE)
ALL = "__all"  # the filter sidebar's "All" choice

SORT_COLUMNS: dict[str, ColumnElement] = {
    "id": Task.id,
    "title": Task.title,
    "status": Task.status,
    "priority": Task.priority,
    "assignee": User.email,  # the list and export join the assignee
    "due_date": Task.due_date,
    "updated_at": Task.updated_at,
}
NULLABLE = {"assignee", "due_date"}
DEFAULT_SORT = ("id", "desc")


def _given(value: str | None) -> bool:
    return value is not None and value.strip() not in ("", ALL)


def task_filter(params: Mapping[str, str]) -> TaskFilter:
    """The TaskFilter the search and filter parameters describe; 400 when one is invalid."""
    data: dict[str, object] = {}
    search = params.get(SEARCH)
    if _given(search):
        data["q"] = search
    for param, field in FILTER_FIELDS.items():
        value = params.get(param)
        if not _given(value):
            continue
        value = value.strip()  # type: ignore[union-attr]
        # Several statuses as one comma-separated value ("pending,in_progress").
        data[field] = [v for v in value.split(",") if v] if field == "status" else value
    try:
        return TaskFilter.model_validate(data)
    except ValidationError as exc:
        raise HTTPException(
            status_code=status.HTTP_400_BAD_REQUEST,
            detail="Invalid filter: " + validation_message(exc, labels=PARAM_LABELS),
        ) from exc


# Messages name the parameter as the page shows it.
PARAM_LABELS = {
    "q": "Search",
    "status": "Status",
    "priority": "Priority",
    "assignee_id": "Assignee",
    "due_after": "Due after",
    "due_before": "Due before",
    "created_after": "Created after",
    "created_before": "Created before",
}


def task_order(params: Mapping[str, str]) -> list[ColumnElement]:
    """ORDER BY for the sortBy/sort parameters; the id breaks ties so pages are stable."""
    sort_by = params.get(SORT_BY) or DEFAULT_SORT[0]
    direction = params.get(SORT) or (DEFAULT_SORT[1] if SORT_BY not in params else "asc")
    column = SORT_COLUMNS.get(sort_by)
    if column is None or direction not in ("asc", "desc"):
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail="Invalid sort parameter")
    clause = column.desc() if direction == "desc" else column.asc()
    if sort_by in NULLABLE:
        # Empty values sort as the largest, as PostgreSQL's indexes do (SQLite's opposite):
        # the same order on both, and an index scan either way.
        clause = clause.nulls_first() if direction == "desc" else clause.nulls_last()
    order = [clause]
    if sort_by != "id":
        order.append(Task.id.desc() if direction == "desc" else Task.id.asc())
    return order


def list_state(params: Mapping[str, str], *, drop: tuple[str, ...] = ()) -> str:
    """The query string of the list view these parameters describe (without `drop`)."""
    items = [(k, v) for k, v in params.items() if k in LIST_STATE and k not in drop and v != ""]
    return urlencode(items)
