"""Edit in the list (Django's `list_editable`, which SQLAdmin lacks), for any declared table.

The page shows the list's current page as one form: the declared editable fields of each
row. Saving validates every row with the table's Update model (the API's) and applies them in
one transaction: a failing row says why beside it, and nothing is saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio
from pydantic import BaseModel, ValidationError
from sqladmin import Flash
from sqlalchemy import Boolean, Date, Integer, select
from starlette import status
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin_app.admin.messages import StaffError
from admin_app.admin.pages import ResourcePages, guard
from admin_app.errors import RowErrors
from admin_app.i18n import format_number, lowered, ngettext
from admin_app.i18n import gettext as _
from admin_app.resources.spec import Relation
from admin_app.services import records
from admin_app.services.wording import readable, validation_message
from models.common import jsonable, parse_db_id


@dataclass(frozen=True)
class Cell:
    """How one editable field is edited: a choice, a related row searched, or a typed input."""

    name: str
    label: str
    kind: str  # "choice", "relation", "date", "number", "checkbox" or "text"
    choices: list[tuple[str, str]] = field(default_factory=list)
    lookup_url: str = ""


@dataclass
class EditRow:
    """One row of the form: the row, the values shown, and why it failed (if it did)."""

    row: Any
    values: dict[str, str]
    labels: dict[str, str] = field(default_factory=dict)  # a related row's shown value
    error: str = ""
    changes: BaseModel | None = field(default=None, repr=False)


def cells(view: ResourcePages, request: Request) -> list[Cell]:
    out = []
    for name in view.resource.list_editable:
        found = view.resource.field(name)
        if isinstance(found, Relation):
            url = str(request.url_for(f"admin:view-{view.identity}-lookup", relation=name))
            out.append(Cell(name, found.label, "relation", lookup_url=url))
            continue
        kind = getattr(view.model, name).type
        if isinstance(kind, Boolean):
            out.append(Cell(name, found.label, "checkbox"))
        elif found.choices:
            out.append(Cell(name, found.label, "choice", [(str(jsonable(k)), v) for k, v in found.choices.items()]))
        else:
            out.append(Cell(name, found.label, "date" if isinstance(kind, Date) else "number" if isinstance(kind, Integer) else "text"))
    return out


def _shown(view: ResourcePages, row: Any) -> tuple[dict[str, str], dict[str, str]]:
    values, labels = {"version": str(row.version)}, {}
    for name in view.resource.list_editable:
        found = view.resource.field(name)
        if isinstance(found, Relation):
            related = getattr(row, name)
            values[name] = str(getattr(row, found.key) or "")
            labels[name] = str(getattr(related, found.shown)) if related is not None else ""
        else:
            value = jsonable(getattr(row, name))
            values[name] = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    return values, labels


def _submitted(columns: list[Cell], form: FormData, row_id: int) -> dict[str, Any]:
    values: dict[str, Any] = {"version": str(form.get(f"version-{row_id}", "")).strip()}
    for cell in columns:
        key = f"{cell.name}-{row_id}"
        if cell.kind == "checkbox":
            values[cell.name] = "true" if form.get(key) else "false"
        elif cell.kind == "relation" and key not in form:
            continue  # a search box that never loaded (no JS) sends nothing: leave it
        else:
            values[cell.name] = str(form.get(key, "")).strip()
    return values


def _changes(view: ResourcePages, values: dict[str, Any]) -> BaseModel:
    """The row as the Update model: the same validation as the API and the forms."""
    payload: dict[str, Any] = {}
    for name in view.resource.list_editable:
        if name not in values:
            continue
        found = view.resource.field(name)
        key = found.key if isinstance(found, Relation) else name
        payload[key] = values[name] or None
    if values.get("version"):
        payload["version"] = values["version"]
    return view.resource.schemas.update.model_validate(payload)


def _load(view: ResourcePages, ids: list[int]) -> dict[int, Any]:
    relations = [n for n in view.resource.list_editable if isinstance(view.resource.field(n), Relation)]
    with view.session_maker() as db:
        query = view.listing.statement([view.model.id.in_(ids)], relations)
        return {r.id: r for r in db.execute(query).scalars().unique()}


def _labels(view: ResourcePages, rows: list[EditRow]) -> None:
    """The shown value of each related row the form names (one query per relation)."""
    with view.session_maker() as db:
        for relation in view.resource.relations:
            if relation.name not in view.resource.list_editable:
                continue
            wanted = {i for r in rows if (i := parse_db_id(r.values.get(relation.name))) is not None}
            if not wanted:
                continue
            shown = getattr(relation.target, relation.shown)
            found = dict(db.execute(select(relation.target.id, shown).where(relation.target.id.in_(wanted))).all())
            for r in rows:
                value = str(r.values.get(relation.name, ""))
                r.labels[relation.name] = str(found.get(parse_db_id(value), ""))


def _save(view: ResourcePages, request: Request, rows: list[EditRow]) -> int:
    with view.writing(request) as ctx:
        changed = records.update_many(ctx, view.resource, {r.row.id: r.changes for r in rows})
    return len(changed)


async def list_edit_page(view: ResourcePages, request: Request) -> Response:
    guard(view, request, view.resource.list_editable, "edit")
    if request.method == "GET":
        pagination = await view.list(request)
        return await _render(view, request, [EditRow(r, *_shown(view, r)) for r in pagination.rows])

    # A few fields a row, up to the biggest page size (Starlette's default allows 1,000).
    size = max(view.page_size_options)
    form = await request.form(max_fields=(len(view.resource.list_editable) + 3) * size + 10)
    try:
        ids = [int(v) for v in form.getlist("row")]
        if any(parse_db_id(i) is None for i in ids):  # no row has it; SQLite cannot bind it
            raise ValueError(ids)
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, _("Invalid row id.")) from exc
    if not ids:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, _("No rows were sent."))
    if len(ids) > size:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, _("Too many rows at once."))
    found = await anyio.to_thread.run_sync(_load, view, ids)
    columns = cells(view, request)
    rows = [EditRow(found[i], _submitted(columns, form, i)) for i in ids if i in found]
    await anyio.to_thread.run_sync(_labels, view, rows)
    for row in rows:
        try:
            row.changes = _changes(view, row.values)
        except ValidationError as exc:
            row.error = validation_message(exc, view.resource.labels, _)
    missing = [i for i in ids if i not in found]
    if missing:
        error = _("{count} of these {rows} no longer exist: reload the list. Nothing was saved.").format(
            count=format_number(len(missing)), rows=view.noun(len(missing)))
        return await _render(view, request, rows, status_code=400, error=error)
    if any(r.error for r in rows):
        return await _render(view, request, rows, status_code=400, error=_failed(rows))
    try:
        count = await anyio.to_thread.run_sync(_save, view, request, rows)
    except StaffError as exc:
        cause = exc.__cause__
        if isinstance(cause, RowErrors):
            for row in rows:
                if row.row.id in cause.errors:
                    row.error = readable(cause.errors[row.row.id].worded(_), view.resource.labels, _)
            return await _render(view, request, rows, status_code=400, error=_failed(rows))
        return await _render(view, request, rows, status_code=400, error=exc.message)
    Flash.success(request, _("{count} {rows} saved.").format(count=format_number(count), rows=view.noun(count)))
    return RedirectResponse(view.list_url(request), status_code=status.HTTP_303_SEE_OTHER)


def _failed(rows: list[EditRow]) -> str:
    bad = sum(1 for r in rows if r.error)
    return ngettext("{count} row could not be saved (see beside each). Nothing was saved.",
                    "{count} rows could not be saved (see beside each). Nothing was saved.", bad).format(
        count=format_number(bad))


async def _render(
    view: ResourcePages, request: Request, rows: list[EditRow], *, status_code: int = 200, error: str | None = None,
) -> Response:
    first = next((n for n in view.resource.list_columns if n != "id" and n not in view.resource.list_editable), None)
    context = {
        "model_view": view, "rows": rows, "error": error, "cells": cells(view, request),
        "title": _("Edit {rows} in the list").format(rows=lowered(_(view.resource.plural))), "list_url": view.list_url(request),
        "shown_column": first, "shown_label": view.resource.label_of(first) if first else "",
        "noun": view.resource.label.lower(),
    }
    return await view.templates.TemplateResponse(
        request, "sqladmin/list_edit.html", context, status_code=status_code
    )
