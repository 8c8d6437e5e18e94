"""Saved views in the admin: save the list's state under a name, open, rename, update, delete,
and list them under each list's menu entry with their row count.

Plain forms posted to the view's own pages (the CSRF origin check covers them, as every admin
POST); the rules (who may see, share, manage; valid names and states) are services.saved_views'.
A view opens as the list's URL with its state and `view=<id>`, which makes the list show the
view's columns and offer *Update view*.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlencode

import anyio
from sqladmin import Flash
from starlette import status
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin_app.admin.messages import service_message
from admin_app.admin.principal import admin_actor
from admin_app.errors import NotFound, ServiceError
from admin_app.i18n import gettext as _
from admin_app.i18n import lowered
from admin_app.services import saved_views
from admin_app.services.unit import unit_of_work
from auth.principal import Principal
from models import SavedView
from models.common import parse_db_id

VIEW_PARAM = "view"  # the list URL's open view


def _principal(request: Request) -> Principal:
    principal = request.app.state.authenticator.principal(request)
    if principal is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN)
    return principal


def open_url(request: Request, view: SavedView) -> str:
    """The list as the view shows it."""
    base = str(request.url_for("admin:list", identity=view.resource))
    query = "&".join(q for q in (view.query, urlencode({VIEW_PARAM: view.id})) if q)
    return f"{base}?{query}"


def open_view(request: Request, model_view: Any) -> SavedView | None:
    """The view the list URL names (`view=<id>`), if it is one of this list I may see; cached."""
    cached = getattr(request.state, "saved_view", False)
    if cached is not False:
        return cached
    found = None
    view_id = parse_db_id(request.query_params.get(VIEW_PARAM))
    principal = request.app.state.authenticator.principal(request)
    if view_id is not None and principal is not None:
        with model_view.session_maker() as db:
            try:
                found = saved_views.get(db, principal, model_view.registry, view_id)
            except NotFound:
                found = None
            if found is not None and found.resource != model_view.resource.name:
                found = None
            if found is not None:
                db.expunge(found)
    request.state.saved_view = found
    return found


def may_manage(request: Request, view: SavedView) -> bool:
    return saved_views.may_manage(_principal(request), view)


def writing(model_view: Any, request: Request) -> Any:
    return unit_of_work(model_view.session_maker, admin_actor(request))


def _page_status(exc: ServiceError) -> int:
    """A refused save answers the form again: 403 when not allowed, else 400 (as forms do)."""
    return 403 if exc.status_code == 403 else 400


def _guard(model_view: Any, request: Request) -> Principal:
    principal = _principal(request)
    if not saved_views.may_keep(principal, model_view.resource):
        raise HTTPException(status.HTTP_403_FORBIDDEN)
    return principal


async def new_view_page(model_view: Any, request: Request) -> Response:
    """GET: the form (name, shared for admins) for the list state in the query string; POST saves."""
    principal = _guard(model_view, request)
    resource = model_view.resource
    state = dict(request.query_params)
    error, status_code, name, shared = "", 200, "", False
    if request.method == "POST":
        form = await request.form()
        name, shared = str(form.get("name", "")), form.get("shared") == "1"
        def save() -> SavedView:
            columns = model_view.shown_columns_for(request)  # a query: here, off the event loop
            with writing(model_view, request) as ctx:
                view = saved_views.create(ctx.db, principal, resource, name=name, shared=shared,
                                          query=state, columns=columns)
                ctx.db.flush()
                ctx.db.expunge(view)
                return view

        try:
            view = await anyio.to_thread.run_sync(save)
        except ServiceError as exc:
            error, status_code = service_message(exc), _page_status(exc)
        else:
            Flash.success(request, _("View “{name}” saved.").format(name=view.name))
            return RedirectResponse(open_url(request, view), status.HTTP_303_SEE_OTHER)
    try:
        summary = saved_views.normalised_query(resource, state)
    except ServiceError as exc:
        error, summary, status_code = error or service_message(exc), "", 400
    context = {
        "title": _("Save this {rows} list as a view").format(rows=lowered(_(resource.plural))), "model_view": model_view,
        "error": error, "name": name, "shared": shared, "can_share": saved_views.can_share(principal),
        "state": summary, "list_url": model_view.list_url(request), "view": None,
        "action": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    return await model_view.templates.TemplateResponse(request, "sqladmin/saved_view.html", context,
                                                      status_code=status_code)


async def manage_view_page(model_view: Any, request: Request) -> Response:
    """GET: rename, share, delete one view. POST `do=rename|update|delete` (update: to the list
    state in the query string, with the columns the list shows)."""
    principal = _guard(model_view, request)
    resource, registry = model_view.resource, model_view.registry
    view_id = parse_db_id(request.path_params.get("view_id"))

    def load() -> SavedView:
        with model_view.session_maker() as db:
            try:
                view = saved_views.get(db, principal, registry, view_id or 0)
            except NotFound as exc:
                raise HTTPException(status.HTTP_404_NOT_FOUND, service_message(exc)) from exc
            if view.resource != resource.name:
                raise HTTPException(status.HTTP_404_NOT_FOUND, _("Saved view {id} not found.").format(id=view_id))
            db.expunge(view)
            return view

    view = await anyio.to_thread.run_sync(load)
    error, status_code, name = "", 200, view.name
    if request.method == "POST":
        form = await request.form()
        do, name = str(form.get("do", "")), str(form.get("name", view.name))
        if do not in ("rename", "update", "delete"):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, _("Choose rename, update or delete."))
        state = dict(request.query_params)
        shared = (form.get("shared") == "1") if do == "rename" and saved_views.can_share(principal) else None

        def write() -> SavedView | None:
            columns = model_view.shown_columns_for(request) if do == "update" else None  # off the event loop
            with writing(model_view, request) as ctx:
                row = saved_views.get(ctx.db, principal, registry, view.id)
                if do == "delete":
                    saved_views.delete(ctx.db, principal, row)
                    return None
                if do == "update":
                    saved_views.change(ctx.db, principal, row, resource, query=state, columns=columns)
                else:
                    saved_views.change(ctx.db, principal, row, resource, name=name, shared=shared)
                ctx.db.flush()
                ctx.db.expunge(row)
                return row

        try:
            done = await anyio.to_thread.run_sync(write)
        except ServiceError as exc:
            error, status_code = service_message(exc), _page_status(exc)
        else:
            if done is None:
                Flash.success(request, _("View “{name}” deleted.").format(name=view.name))
                list_url = str(request.url_for("admin:list", identity=resource.name))
                return RedirectResponse(f"{list_url}?{view.query}" if view.query else list_url,
                                        status.HTTP_303_SEE_OTHER)
            Flash.success(request, (_("View “{name}” updated.") if do == "update" else _("View “{name}” saved.")).format(
                name=done.name))
            return RedirectResponse(open_url(request, done), status.HTTP_303_SEE_OTHER)
    context = {
        "title": _("View “{name}” of {rows}").format(name=view.name, rows=lowered(_(resource.plural))), "model_view": model_view,
        "error": error, "name": name, "shared": view.shared, "can_share": saved_views.can_share(principal),
        "may_manage": saved_views.may_manage(principal, view), "state": view.query, "view": view,
        "list_url": open_url(request, view), "action": request.url.path,
    }
    return await model_view.templates.TemplateResponse(request, "sqladmin/saved_view.html", context,
                                                      status_code=status_code)


# --- the menu: each list's views with their counts ----------------------------------------------

def read_menu_views(db: Any, request: Request) -> dict[str, list[dict[str, Any]]]:
    """identity -> the views listed under that menu entry (name, url, count, shared, active),
    read in the caller's session (the list page's own, so a list costs no extra session), and
    kept for the page's menu. Last in a session: the counts set their own timeouts."""
    cached = getattr(request.state, "menu_views", None)
    if cached is not None:
        return cached
    principal = request.app.state.authenticator.principal(request)
    registry = request.app.state.resources
    if principal is None or registry is None:
        request.state.menu_views = {}
        return {}
    open_id = parse_db_id(request.query_params.get(VIEW_PARAM))
    out: dict[str, list[Any]] = {}
    listed = []
    for v in saved_views.visible(db, principal, registry):
        rows = out.setdefault(v.resource, [])
        if len(rows) < saved_views.MAX_LISTED:
            rows.append(v)
            listed.append(v)
    found = saved_views.counts(db, registry, listed, budget_ms=request.app.state.settings.view_count_budget_ms) if listed else {}
    request.state.menu_views = {
        identity: [{
            "id": v.id, "name": v.name, "url": open_url(request, v), "shared": v.shared,
            "count": saved_views.count_label(found.get(v.id)),
            "active": v.id == open_id and request.path_params.get("identity") == v.resource,
        } for v in rows]
        for identity, rows in out.items()
    }
    return request.state.menu_views


def menu_views(request: Request) -> dict[str, list[dict[str, Any]]] | Awaitable[dict[str, list[dict[str, Any]]]]:
    """The menu's views (read_menu_views): those a page read already (a list page reads them
    with its rows, and renders without async: compat/sync_templates.py), else a coroutine that
    reads them in a session of their own, once per page (the async templates await it)."""
    cached = getattr(request.state, "menu_views", None)
    if cached is not None:
        return cached

    def read() -> dict[str, list[dict[str, Any]]]:
        with request.app.state.session_factory() as db:
            return read_menu_views(db, request)  # the session's end rolls back the counts' timeouts

    return anyio.to_thread.run_sync(read)
