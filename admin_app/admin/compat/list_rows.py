"""A list page's rows, formatted in one pass (the list template's body).

SQLAdmin's list template asks, for every cell, `await model_view.get_list_value(row, name)`
(a coroutine, a walk along the dotted name, the column's formatter) and, for every row, two
permission checks, two routed URLs and the row's identifier five times. On a 25-row page that
was half of the page's time (py-spy, README "Performance"). Here the permission checks and
the URL templates are worked out once per page, each cell goes through the same formatters
SQLAdmin would call (`_list_formatters`, else `_default_formatter`: private names, checked by
tests/admin/test_compat.py), and a row's cells are joined into one piece of markup.

Permissions are by role, not by row (auth/admin_backend.RoleAuthorization ignores the row),
so one check per page answers for every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from markupsafe import Markup, escape
from sqladmin.helpers import get_object_identifier
from starlette.requests import Request

from admin_app.admin.compat import row_url


@dataclass(frozen=True, slots=True)
class ListRow:
    pk: str
    details_url: str | None  # None where this user may not open it
    edit_url: str | None
    cells: Markup  # the row's <td> elements, in the shown columns' order


def _value(row: Any, name: str) -> Any:
    """SQLAdmin's `get_prop_value` without its coroutine: the list's query loaded every shown
    relation, so no attribute here needs a lazy load."""
    value = row
    for part in name.split("."):
        value = getattr(value, part, None)
    if value and isinstance(value, Enum) and not isinstance(value, str):
        value = value.name
    return value


def _cell_formatter(view: Any, name: str, request: Request) -> Any:
    """name -> a function of the row giving the cell's shown value."""
    formatter = view._list_formatters.get(name)
    if formatter is None:
        default = view._default_formatter
        return lambda row: default(_value(row, name))
    if view._list_formatter_accepts_request.get(name, False):
        return lambda row: formatter(row, name, request)
    return lambda row: formatter(row, name)


def list_rows(request: Request, view: Any, rows: list[Any], names: list[str]) -> list[ListRow]:
    """The page's rows as the list template shows them (pk, links, cells)."""
    details = view.can_view_details and view.has_permission(request, "details")
    edit = view.can_edit and view.has_permission(request, "edit")
    edit_query = f"?{request.url.query}" if request.url.query else ""
    cells = [(f'<td class="col-{escape(name)}">', _cell_formatter(view, name, request)) for name in names]
    out = []
    for row in rows:
        pk = str(get_object_identifier(row))
        identity = view._identity_for_object(row)
        html = "".join(f"{opening}{escape(shown(row))}</td>" for opening, shown in cells)
        out.append(ListRow(
            pk=pk,
            details_url=row_url(request, "admin:details", identity, pk) if details else None,
            edit_url=row_url(request, "admin:edit", identity, pk) + edit_query if edit else None,
            cells=Markup(html),  # noqa: S704 - every value above went through escape()
        ))
    return out
