"""The admin view of any declared table: `view_for(resource)` builds a SQLAdmin ModelView.

Its list is one query per page (relations joined) with a bounded count; search, filters and
sort come from the URL through the declaration's one filter model and sort table, the same
ones the API, the export and bulk edits on all matching rows use.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import urlencode

import anyio
from sqladmin import action, expose
from sqladmin.pagination import Pagination
from sqlalchemy import Select
from starlette import status
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from admin_app import audit
from admin_app.admin.bulk import BulkActions
from admin_app.admin.changes import offer_undo
from admin_app.admin.columns import columns_page
from admin_app.admin.compat import RoutedRowUrls
from admin_app.admin.details import DetailsPage, lookup_page
from admin_app.admin.display import formatters, type_formatters
from admin_app.admin.export import export_response
from admin_app.admin.export_format import export_columns
from admin_app.admin.forms import ResourceForms, form_options
from admin_app.admin.importer import import_page
from admin_app.admin.list_edit import list_edit_page
from admin_app.admin.messages import service_message, staff_errors
from admin_app.admin.principal import admin_actor, role_allows_request
from admin_app.admin.saved_views import (
    VIEW_PARAM,
    manage_view_page,
    may_manage,
    new_view_page,
    open_view,
    read_menu_views,
)
from admin_app.admin.sidebar import LookupFilter, changed_url, sidebar
from admin_app.errors import InvalidInput
from admin_app.i18n import gettext as _
from admin_app.i18n import lazy_gettext
from admin_app.resources import Registry
from admin_app.resources.spec import DeleteRows, Relation, Resource, RunAction
from admin_app.services import columns, saved_views
from admin_app.services.actor import Actor
from admin_app.services.facets import faceted, facets_of
from admin_app.services.filtering import ADMIN_SEARCH, PRESET, FilterBase, filters_of
from admin_app.services.listing import listing_of
from admin_app.services.unit import WriteContext, unit_of_work

PAGE_SIZES = [25, 50, 100, 500]
FACETS = "_facets"  # the list's "Show counts": Django's name for it


class ResourceView(RoutedRowUrls, BulkActions, ResourceForms, DetailsPage):
    """The generic part; `view_for` adds a table's declaration as class attributes."""

    resource: ClassVar[Resource]
    registry: ClassVar[Registry]
    # Its list page reads everything it shows in `_list_page` and calls no coroutine, so it
    # renders without async (compat/sync_templates.py).
    synchronous_templates: ClassVar[frozenset[str]] = frozenset({"sqladmin/list.html"})

    def has_permission(self, request: Request, action: str, obj: Any | None = None) -> bool:
        """Every check of SQLAdmin's and ours asks for the declared permission name, not the URL's."""
        return self._authorization_backend().has_permission(request, self.resource.permission, action, obj)

    @property
    def listing(self) -> Any:
        return listing_of(self.resource)

    @property
    def filters(self) -> Any:
        return filters_of(self.resource)

    # --- the URL: which rows, in which order ----------------------------------------------
    def admin_filter(self, request: Request) -> FilterBase:
        try:
            return self.filters.from_admin(request.query_params)
        except InvalidInput as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, service_message(exc)) from exc

    def admin_ordering(self, request: Request) -> Any:
        try:
            return self.listing.admin_ordering(request.query_params)
        except InvalidInput as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, service_message(exc)) from exc

    def list_state(self, request: Request) -> str:
        """The query string of the list view the request describes (what a bookmark keeps)."""
        names = {ADMIN_SEARCH, PRESET, FACETS, "sortBy", "sort", "page", "pageSize", VIEW_PARAM,
                 *self.filters.admin_names}
        return urlencode([(k, v) for k, v in request.query_params.items() if k in names and v != ""])

    def list_url(self, request: Request) -> str:
        base = str(request.url_for("admin:list", identity=self.identity))
        query = self.list_state(request)
        return f"{base}?{query}" if query else base

    def list_buttons(self, request: Request) -> list[tuple[str, str]]:
        """Extra (label, url) buttons on the list page."""
        query = self.list_state(request)
        buttons = [(_("Columns"), str(request.url_for(f"admin:view-{self.identity}-choose_columns")) + (f"?{query}" if query else ""))]
        if saved_views.may_keep(request.app.state.authenticator.principal(request), self.resource):
            url = str(request.url_for(f"admin:view-{self.identity}-new_saved_view"))
            buttons.append((_("Save view"), url + (f"?{query}" if query else "")))
        if self.resource.list_editable and self.has_permission(request, "edit"):
            url = str(request.url_for(f"admin:view-{self.identity}-list_edit"))
            buttons.append((_("Edit in list"), url + (f"?{query}" if query else "")))
        if self.resource.import_columns and self.has_permission(request, "import"):
            buttons.append((_("Import"), str(request.url_for(f"admin:view-{self.identity}-import_csv"))))
        return buttons

    def search_placeholder(self) -> str:
        """SQLAdmin's, with the labels in the request's language (it joins them as they are)."""
        return ", ".join(str(self._column_labels.get(field, field)) for field in self._search_fields)

    # --- the list: one query for the rows, one bounded count ------------------------------
    def shown_columns(self, request: Request) -> list[str]:
        """The columns this user's list shows (services/columns.py), read once by `list`."""
        return getattr(request.state, "list_columns", None) or list(self.resource.list_columns)

    # --- facet counts: the filter panel's "Show counts" (services/facets.py) ---------------
    def facets_shown(self, request: Request) -> bool:
        return bool(faceted(self.resource)) and request.query_params.get(FACETS, "") not in ("", "0")

    def facets_toggle_url(self, request: Request) -> str | None:
        """The list with its counts turned on or off; None for a table without choice filters."""
        if not faceted(self.resource):
            return None
        shown = self.facets_shown(request)
        return str(changed_url(request, (FACETS,)) if shown else changed_url(request, **{FACETS: "1"}))

    def shown_columns_for(self, request: Request) -> list[str]:
        """The columns the list of this request's URL shows: its open view's, else the user's."""
        principal = request.app.state.authenticator.principal(request)
        view = open_view(request, self)
        with self.session_maker() as db:
            return self._columns(db, principal.user_id if principal else None, view)

    def _columns(self, db: Any, user_id: int | None, view: Any) -> list[str]:
        chosen = saved_views.columns_of(self.resource, view) if view is not None else []
        return chosen or columns.shown(db, user_id, self.resource)

    def _list_page(self, request: Request, spec: FilterBase, ordering: Any, page: int, size: int) -> tuple:
        """The page's rows, count, shown columns, facet counts, and the menu's saved views: one
        worker thread, one session."""
        principal = request.app.state.authenticator.principal(request)
        facet_budget = request.app.state.settings.facet_time_budget_ms if self.facets_shown(request) else None
        view = open_view(request, self)
        with self.session_maker() as db:
            shown = self._columns(db, principal.user_id if principal else None, view)
            relations = [n for n in shown if isinstance(self.resource.field(n), Relation)]
            count, rows, page = self.listing.offset_rows(db, spec, ordering, relations, page=page, size=size)
            counts = None if facet_budget is None else facets_of(self.resource).counts(db, spec, budget_ms=facet_budget)
            for entry in self.get_filters():
                if isinstance(entry, LookupFilter):
                    entry.read_chosen(db, request)
            read_menu_views(db, request)  # last: its counts set their own timeouts
        return count, rows, page, shown, counts

    async def list(self, request: Request) -> Pagination:
        params = request.query_params
        page = self.validate_page_number(params.get("page"), 1)
        size = self.validate_page_number(params.get("pageSize"), self.page_size)
        if size < 1:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, _("Invalid page or pageSize parameter"))
        size = min(size, max(self.page_size_options))
        spec, ordering = self.admin_filter(request), self.admin_ordering(request)
        count, rows, page, request.state.list_columns, request.state.facets = await anyio.to_thread.run_sync(
            self._list_page, request, spec, ordering, page, size)
        return Pagination(rows=rows, page=page, page_size=size, count=count)

    async def count(self, request: Request, stmt: Select | None = None) -> int:
        spec = self.admin_filter(request)

        def work() -> int:
            with self.session_maker() as db:
                return self.listing.bounded_count(db, spec)

        return await anyio.to_thread.run_sync(work)

    # --- export: the list as the URL selects and sorts it, streamed -----------------------
    async def get_model_objects(self, request: Request, limit: int | None = 0) -> Any:
        """For SQLAdmin's export route: the statement to stream, not a list of every row."""
        relations = [n for n in self.resource.export_columns if isinstance(self.resource.field(n), Relation)]
        return self.listing.ordered(self.admin_filter(request), self.admin_ordering(request), relations)

    async def export_data(self, data: Any, export_type: str = "csv", request: Request | None = None) -> Response:
        assert request is not None
        settings = request.app.state.settings
        query, actor = dict(request.query_params), admin_actor(request)

        def record_export(rows: int) -> None:
            """Data leaving the system is traceable: who, which search and filters, how many."""
            with unit_of_work(self.session_maker, actor) as ctx:
                audit.record(ctx.db, "export", self.identity, details={
                    "format": export_type, "query": query, "rows": rows,
                })

        return export_response(
            self.resource.plural.lower(), export_type, export_columns(self.resource), self.session_maker, data,
            timeout_ms=settings.export_statement_timeout_ms, on_done=record_export,
        )

    # --- writes: one unit of work, errors worded for the page -----------------------------
    @contextmanager
    def writing(self, request: Request) -> Iterator[WriteContext]:
        principal = request.app.state.authenticator.principal(request)
        with staff_errors(self.resource.labels), unit_of_work(
            self.session_maker, Actor.from_principal(principal, via="admin"),
            passwords=request.app.state.passwords, session_id=principal.session_id,
        ) as ctx:
            yield ctx
            change_set = ctx.change_set_id  # read before the commit ends it
        offer_undo(request, change_set)  # the next page offers "Undo"

    # --- pages beyond SQLAdmin's ------------------------------------------------------------
    @expose("/lookup/{relation}", methods=["GET"])
    async def lookup(self, request: Request) -> Response:
        """Related rows matching `term`, for the search boxes of filters, forms and prompts."""
        return await lookup_page(self, request)

    @expose("/columns", methods=["GET", "POST"])
    async def choose_columns(self, request: Request) -> Response:
        return await columns_page(self, request)

    @expose("/views/new", methods=["GET", "POST"])
    async def new_saved_view(self, request: Request) -> Response:
        return await new_view_page(self, request)

    @expose("/views/{view_id:int}", methods=["GET", "POST"])
    async def manage_saved_view(self, request: Request) -> Response:
        return await manage_view_page(self, request)

    def open_saved_view(self, request: Request) -> Any:
        """The saved view the list's URL opens (for the list page's banner), or None."""
        return open_view(request, self)

    def may_manage_view(self, request: Request, view: Any) -> bool:
        return may_manage(request, view)

    @expose("/list-edit", methods=["GET", "POST"])
    async def list_edit(self, request: Request) -> Response:
        return await list_edit_page(self, request)

    @expose("/import-csv", methods=["GET", "POST"])
    async def import_csv(self, request: Request) -> Response:
        return await import_page(self, request)


def _action_method(resource_action: Any) -> Any:
    async def run(self: ResourceView, request: Request) -> Response:
        return await self.run_bulk(request, resource_action)

    in_detail = isinstance(resource_action, DeleteRows | RunAction) or resource_action.in_detail
    return action(resource_action.slug, lazy_gettext(resource_action.title), add_in_detail=in_detail)(run)


def view_for(resource: Resource, registry: Registry) -> type[ResourceView]:
    """The ModelView class of a declared table."""
    shown = formatters(resource, registry.of_model, role_allows_request)
    attrs: dict[str, Any] = {
        "resource": resource, "registry": registry,
        # The declared words, in the language of the request that shows them.
        "name": lazy_gettext(resource.label), "name_plural": lazy_gettext(resource.plural), "icon": resource.icon,
        "identity": resource.name,
        "column_list": list(resource.list_columns),
        "column_details_list": list(resource.detail_columns or [f.name for f in resource.fields if not getattr(f, "secret", False)]),
        "column_labels": {f.name: lazy_gettext(f.label) for f in resource.fields},
        "column_formatters": shown, "column_formatters_detail": shown,
        "column_type_formatters": type_formatters(), "column_type_formatters_detail": type_formatters(),
        "column_sortable_list": [n for n in resource.sortable if n in columns.choosable(resource)],
        "column_searchable_list": [getattr(resource.model, n) for n in resource.searchable],
        "column_filters": sidebar(resource),
        "non_link_related_fields": [r.name for r in resource.relations],
        "page_size": resource.page_size, "page_size_options": PAGE_SIZES,
        "can_export": bool(resource.export_columns), "can_import": False, "can_delete": False,
        **form_options(resource),
        **resource.admin_options,
    }
    for declared in resource.actions:
        attrs[f"action_{declared.slug.replace('-', '_')}"] = _action_method(declared)
    return types.new_class(
        f"{resource.model.__name__}Admin", (ResourceView,), {"model": resource.model},
        lambda namespace: namespace.update(attrs),
    )
