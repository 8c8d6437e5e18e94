"""The column chooser of any list: show, hide and order its columns, remembered per user.

A plain form, usable without a mouse and without script: a checkbox per column, Up and Down
buttons that move one (the page comes back with that button focused), Save and Reset. The
list's search, filters and sort ride along in the page's query string and come back on save.
Opened from a saved view its user may change (`view=<id>`), it chooses that view's columns.
"""

from __future__ import annotations

from typing import Any

import anyio
from sqladmin import Flash
from starlette import status
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin_app.admin.messages import service_message
from admin_app.admin.saved_views import may_manage, open_view, writing
from admin_app.errors import InvalidInput, ServiceError
from admin_app.i18n import gettext as _
from admin_app.i18n import lowered
from admin_app.services import columns, saved_views


def _user_id(request: Request) -> int:
    principal = request.app.state.authenticator.principal(request)
    if principal is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN)
    return principal.user_id


def _moved(order: list[str], move: str) -> tuple[list[str], str]:
    """`name:up` or `name:down` applied to the order; the button to focus afterwards."""
    name, _sep, direction = move.rpartition(":")
    if name not in order or direction not in ("up", "down"):
        raise InvalidInput(_("Nothing to move."))
    at = order.index(name)
    to = at - 1 if direction == "up" else at + 1
    if 0 <= to < len(order):
        order[at], order[to] = order[to], order[at]
        at = to
    if at in (0, len(order) - 1) and direction == ("up" if at == 0 else "down"):
        move = f"{name}:{'down' if direction == 'up' else 'up'}"  # that button is disabled now
    return order, move


async def columns_page(view: Any, request: Request) -> Response:
    if not view.has_permission(request, "list"):
        raise HTTPException(status.HTTP_403_FORBIDDEN)
    resource, user_id = view.resource, _user_id(request)
    everything = columns.choosable(resource)
    # Opened from a saved view I may change: the choice is that view's columns.
    saved = await anyio.to_thread.run_sync(open_view, request, view)
    kept = saved if saved is not None and saved.columns and not may_manage(request, saved) else None
    if saved is not None and not may_manage(request, saved):
        saved = None

    def read() -> list[str]:
        with view.session_maker() as db:
            return (saved_views.columns_of(resource, saved) if saved is not None else []) or columns.shown(
                db, user_id, resource)

    shown = await anyio.to_thread.run_sync(read)
    order = [*shown, *(n for n in everything if n not in shown)]
    error, focus, status_code = "", "", 200
    if request.method == "POST":
        form = await request.form()
        sent_order = [str(v) for v in form.getlist("order")]
        picked = [str(v) for v in form.getlist("show")]
        try:
            if sorted(sent_order) != sorted(everything):
                raise InvalidInput(_("The form's columns are not this list's: reload the page."))
            order = sent_order
            if form.get("move"):
                order, focus = _moved(order, str(form["move"]))
                shown = [n for n in order if n in picked]
            else:
                chosen = list(resource.list_columns) if form.get("reset") else [n for n in order if n in picked]

                def save() -> None:
                    if saved is not None:
                        with writing(view, request) as ctx:
                            row = saved_views.get(ctx.db, ctx_principal, view.registry, saved.id)
                            saved_views.change(ctx.db, ctx_principal, row, resource,
                                               columns=[] if form.get("reset") else chosen)
                        return
                    with view.session_maker.begin() as db:
                        columns.remember(db, user_id, resource, chosen)

                ctx_principal = request.app.state.authenticator.principal(request)
                if saved is not None:
                    columns.checked(resource, chosen)  # the same message as for a list's own columns
                await anyio.to_thread.run_sync(save)
                Flash.success(request, _("Columns of the view “{name}” saved.").format(name=saved.name)
                              if saved is not None else _("Columns of the {rows} list saved.").format(
                                  rows=lowered(_(resource.plural))))
                return RedirectResponse(view.list_url(request), status.HTTP_303_SEE_OTHER)
        except ServiceError as exc:
            error, status_code = service_message(exc), 400
            shown = [n for n in order if n in picked]
    context = {
        "title": _("Columns of the {rows} list").format(rows=lowered(_(resource.plural))),
        "rows": [(n, resource.label_of(n), n in shown) for n in order],
        "error": error, "focus": focus, "list_url": view.list_url(request), "saved_view": saved, "kept_view": kept,
        "model_view": view,
    }
    return await view.templates.TemplateResponse(request, "sqladmin/columns.html", context, status_code=status_code)
