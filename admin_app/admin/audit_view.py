"""The audit log in the admin: read-only for everyone, newest first, filterable."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from markupsafe import Markup, escape
from sqladmin import ModelView
from sqladmin.filters import OperationColumnFilter, StaticValuesFilter
from sqlalchemy import Select, select
from starlette import status
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from admin_app import audit
from admin_app.admin.compat import RoutedRowUrls
from admin_app.admin.display import timestamp_formatters, type_formatters
from admin_app.admin.export import export_response
from admin_app.admin.export_format import ExportColumn
from admin_app.admin.principal import admin_actor
from admin_app.admin.sidebar import date_range
from admin_app.i18n import gettext as _
from admin_app.i18n import lazy_gettext
from admin_app.services.unit import unit_of_work
from models import AuditEntry

ACTIONS = [
    "create", "update", "delete", "login_success", "login_failure", "login_throttled", "logout",
    "token_created", "token_revoked", "export", "import",
]


def _changes(model: Any, _name: str) -> Markup:
    """Field: old → new, one per line, escaped."""
    if not model.changes:
        return Markup("")
    lines = []
    for field, change in model.changes.items():
        if isinstance(change, list) and len(change) == 2:
            old, new = (json.dumps(v, default=str) for v in change)
            lines.append(f"{escape(field)}: {escape(old)} → {escape(new)}")
        else:
            lines.append(f"{escape(field)}: {escape(json.dumps(change, default=str))}")
    return Markup('<div class="audit-changes">' + "<br>".join(lines) + "</div>")


AUDIT_EXPORT = [
    ExportColumn("ID", "id", AuditEntry.id),
    ExportColumn("When", "at", AuditEntry.at),
    ExportColumn("Actor id", "actor_id", AuditEntry.actor_id),
    ExportColumn("Actor", "actor", AuditEntry.actor_label),
    ExportColumn("Via", "via", AuditEntry.via),
    ExportColumn("Action", "action", AuditEntry.action),
    ExportColumn("Entity", "entity", AuditEntry.entity),
    ExportColumn("Entity id", "entity_id", AuditEntry.entity_id),
    ExportColumn("Changes", "changes", AuditEntry.changes),
    ExportColumn("Details", "details", AuditEntry.details),
]


class AuditEntryAdmin(RoutedRowUrls, ModelView, model=AuditEntry):
    name = lazy_gettext("Audit entry")
    name_plural = lazy_gettext("Audit log")
    icon = "fa-solid fa-clock-rotate-left"
    identity = "audit-entry"

    can_create = False
    can_edit = False
    can_delete = False
    can_import = False
    can_export = True

    column_list = [
        AuditEntry.id, AuditEntry.at, AuditEntry.actor_label, AuditEntry.via, AuditEntry.action,
        AuditEntry.entity, AuditEntry.entity_id, AuditEntry.changes,
    ]
    column_details_list = [
        AuditEntry.id, AuditEntry.at, AuditEntry.actor_id, AuditEntry.actor_label, AuditEntry.via,
        AuditEntry.action, AuditEntry.entity, AuditEntry.entity_id, AuditEntry.changes,
        AuditEntry.details,
    ]
    column_labels = {
        AuditEntry.id: lazy_gettext("ID"), AuditEntry.at: lazy_gettext("When"), AuditEntry.actor_id: lazy_gettext("Actor id"),
        AuditEntry.actor_label: lazy_gettext("Actor"), AuditEntry.via: lazy_gettext("Via"), AuditEntry.action: lazy_gettext("Action"),
        AuditEntry.entity: lazy_gettext("Entity"), AuditEntry.entity_id: lazy_gettext("Entity id"),
        AuditEntry.changes: lazy_gettext("Changes"), AuditEntry.details: lazy_gettext("Details"),
    }
    column_formatters = {AuditEntry.changes: _changes, **timestamp_formatters("at")}
    column_formatters_detail = {AuditEntry.changes: _changes, **timestamp_formatters("at")}
    column_type_formatters = type_formatters()
    column_type_formatters_detail = type_formatters()
    column_sortable_list = [AuditEntry.at, AuditEntry.id]
    column_default_sort = [(AuditEntry.id, True)]
    column_searchable_list = [AuditEntry.actor_label]
    column_filters = [
        OperationColumnFilter(AuditEntry.actor_label, title=lazy_gettext("Actor")),
        StaticValuesFilter(AuditEntry.action, values=[(a, a) for a in ACTIONS], title=lazy_gettext("Action")),
        # The entities: every declared table's name and "token" (set by build_admin).
        OperationColumnFilter(AuditEntry.entity_id, title=lazy_gettext("Entity id")),
        date_range("at", lazy_gettext("When")),
    ]
    page_size = 50
    page_size_options = [25, 50, 100, 500]

    @classmethod
    def with_entities(cls, entities: list[str]) -> type[AuditEntryAdmin]:
        """This view with an entity filter listing `entities`."""
        filters = list(cls.column_filters)
        filters.insert(2, StaticValuesFilter(AuditEntry.entity, values=[(e, e) for e in entities], title=lazy_gettext("Entity")))
        return type(cls.__name__, (cls,), {"column_filters": filters})

    async def export_statement(self, request: Request) -> Select:
        """The list's rows as the current search, filters and sort select them."""
        stmt = self.list_query(request)
        for filter_ in self.get_filters():
            value = request.query_params.get(filter_.parameter_name)
            if value:
                stmt = await filter_.get_filtered_query(stmt, value, self.model)
        stmt = self.sort_query(stmt, request)
        search = request.query_params.get("search")
        return self.search_query(stmt=stmt, term=search) if search else stmt

    async def get_model_objects(self, request: Request, limit: int | None = 0) -> Any:
        """For SQLAdmin's export route: the statement to stream, not a list of every row."""
        return await self.export_statement(request)

    async def export_data(self, data: Any, export_type: str = "csv", request: Request | None = None) -> Response:
        assert request is not None
        query, actor = dict(request.query_params), admin_actor(request)

        def record_export(rows: int) -> None:
            with unit_of_work(self.session_maker, actor) as ctx:
                audit.record(ctx.db, "export", self.identity, details={"format": export_type, "query": query, "rows": rows})

        return export_response(
            "audit log", export_type, AUDIT_EXPORT, self.session_maker, data,
            timeout_ms=request.app.state.settings.export_statement_timeout_ms, on_done=record_export,
        )

    def list_query(self, request: Request) -> Select:
        """The date range (`at_after` / `at_before`, days, inclusive) applies to list and export."""
        query = select(AuditEntry)
        for param, compare in (("at_after", lambda day: AuditEntry.at >= _start_of(day)),
                               ("at_before", lambda day: AuditEntry.at < _start_of(day + timedelta(days=1)))):
            raw = request.query_params.get(param)
            if raw:
                try:
                    day = date.fromisoformat(raw)
                except ValueError:
                    raise HTTPException(status.HTTP_400_BAD_REQUEST, _("{name}: expected a date like 2026-11-25").format(name=param)) from None
                query = query.where(compare(day))
        return query


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
