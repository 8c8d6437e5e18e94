"""Bulk actions that never change data on GET, for every declared action of every table.

SQLAdmin registers `@action` routes for GET only and confirms in a client-side modal, so a
cross-site link could run them. Here GET renders a confirmation page (what will happen, to
how many rows, optionally to all rows matching the list's search and filters, and what else a
delete changes) holding a POST form; POST does it in one transaction, flashes what was done
and goes back to the list. `compat.accept_post_on_actions` adds POST to the `action-*` routes.
"""

from __future__ import annotations

from typing import Any

import anyio
from pydantic import ValidationError
from sqladmin import Flash
from sqlalchemy import Date, Integer, func, select
from starlette import status
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin_app.admin.jobs import done_message
from admin_app.admin.messages import StaffError
from admin_app.i18n import format_number, gettext, lowered
from admin_app.resources.spec import ASK, Action, DeleteRows, Relation, RunAction, SetField
from admin_app.services import bulk as bulk_service
from admin_app.services import jobs
from admin_app.services.filtering import FilterBase
from admin_app.services.schemas import bulk_set_model
from models.common import MAX_DB_ID, jsonable, parse_db_id

SELECTED, ALL_MATCHING = "selected", "all"
MAX_PKS = bulk_service.MAX_BULK_IDS


def parse_pks(raw: str | None) -> list[int]:
    if not raw:
        return []
    try:
        pks = sorted({int(part) for part in raw.split(",") if part.strip()})
        if pks and not 1 <= pks[0] <= pks[-1] <= MAX_DB_ID:  # no row has it; SQLite cannot bind it
            raise ValueError(pks)
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, gettext("Invalid selection (pks).")) from exc
    if len(pks) > MAX_PKS:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, gettext("At most {count} rows can be selected.").format(count=format_number(MAX_PKS)))
    return pks


def permission_of(action: Action) -> str:
    if isinstance(action, DeleteRows):
        return "delete"
    return action.permission if isinstance(action, RunAction) else "edit"


class BulkActions:
    """The bulk part of a ResourceView (mixed in): confirm on GET, apply on POST."""

    bulk_template = "sqladmin/bulk_confirm.html"

    def noun(self, count: int) -> str:
        return lowered(gettext(self.resource.label if count == 1 else self.resource.plural))  # type: ignore[attr-defined]

    # --- what the confirmation shows --------------------------------------------------------
    def _counts(self, pks: list[int], spec: FilterBase | None, action: Action) -> dict[str, Any]:
        resource = self.resource  # type: ignore[attr-defined]
        with self.session_maker() as db:  # type: ignore[attr-defined]
            selected = db.execute(
                select(func.count()).select_from(resource.model).where(resource.model.id.in_(pks))
            ).scalar_one() if pks else 0
            matching = self.listing.count(db, spec) if spec is not None else None  # type: ignore[attr-defined]
            effects = {}
            if isinstance(action, DeleteRows):
                if pks:
                    effects[SELECTED] = self.delete_effects(db, [resource.model.id.in_(pks)])
                if spec is not None:
                    effects[ALL_MATCHING] = self.delete_effects(db, self.filters.conditions(spec))  # type: ignore[attr-defined]
        return {"selected_count": selected, "matching_count": matching, "effects": effects}

    def delete_effects(self, db: Any, conditions: list[Any]) -> list[str]:
        """What else deleting these rows changes: "12 tasks will be unassigned", all in one query."""
        model = self.resource.model  # type: ignore[attr-defined]
        referencing = self.registry.referencing(model)  # type: ignore[attr-defined]
        if not referencing:
            return []
        chosen = select(model.id).where(*conditions)
        counts = db.execute(select(*(
            select(func.count()).select_from(other.model).where(getattr(other.model, relation.key).in_(chosen))
            .scalar_subquery() for other, relation in referencing
        ))).one()
        out = []
        for (other, relation), n in zip(referencing, counts, strict=True):
            if n:
                what = gettext(relation.orphaned) if relation.orphaned else gettext("lose their {field}").format(
                    field=lowered(gettext(relation.label)))
                out.append(gettext("{count} {rows} will {what}.").format(
                    count=format_number(n), rows=lowered(gettext(other.label if n == 1 else other.plural)), what=what))
        return out

    async def _confirm_page(
        self, request: Request, action: Action, pks: list[int], spec: FilterBase | None, *,
        scope: str, value: str = "", error: str | None = None, status_code: int = 200,
    ) -> Response:
        counts = await anyio.to_thread.run_sync(self._counts, pks, spec, action)
        context = {
            "model_view": self, "action": action, "pks": ",".join(map(str, pks)), **counts,
            "matching_everything": spec is not None and spec.is_empty(),
            "scope": scope, "value": value, "error": error, "noun": self.noun,
            "list_url": self.list_url(request), "title": gettext(action.title),  # type: ignore[attr-defined]
            "prompt": self.prompt(request, action),
        }
        return await self.templates.TemplateResponse(  # type: ignore[attr-defined]
            request, self.bulk_template, context, status_code=status_code
        )

    def prompt(self, request: Request, action: Action) -> dict[str, Any] | None:
        """What the confirmation asks for: a choice, a related row (searched) or a typed value."""
        if not isinstance(action, SetField) or action.value is not ASK:
            return None
        found = self.resource.field(action.field)  # type: ignore[attr-defined]
        prompt: dict[str, Any] = {"label": gettext(found.label)}
        if isinstance(found, Relation):
            prompt["lookup_url"] = str(request.url_for(
                f"admin:view-{self.identity}-lookup", relation=found.name  # type: ignore[attr-defined]
            ))
        elif getattr(found, "choices", None):
            prompt["choices"] = [(str(jsonable(v)), gettext(label)) for v, label in found.choices.items()]
        else:
            kind = getattr(self.resource.model, found.name).type  # type: ignore[attr-defined]
            prompt["input_type"] = "date" if isinstance(kind, Date) else "number" if isinstance(kind, Integer) else "text"
        return prompt

    # --- doing it -----------------------------------------------------------------------
    def _value(self, db: Any, action: SetField, raw: str) -> tuple[Any, str]:
        """The value an action sets, checked as the API checks it, and how the message names it."""
        resource = self.resource  # type: ignore[attr-defined]
        found = resource.field(action.field)
        if isinstance(found, Relation):
            if action.value is not ASK:
                return action.value, ""
            row_id = parse_db_id(raw)
            row = db.get(found.target, row_id) if row_id is not None else None
            if row is None:
                target = self.registry.of_model(found.target)  # type: ignore[attr-defined]
                raise StaffError(gettext("{field}: choose a {row}.").format(
                    field=gettext(found.label), row=lowered(gettext(target.label if target else found.target.__name__))))
            return row.id, str(getattr(row, found.shown))
        value = action.value if action.value is not ASK else raw
        labels = {jsonable(k): v for k, v in (getattr(found, "choices", None) or {}).items()}
        try:
            checked = bulk_set_model(resource).model_validate({found.name: value})
        except ValidationError as exc:
            raise StaffError(self._choose(found, labels)) from exc
        stored = jsonable(getattr(checked, found.name))
        if labels and stored not in labels:
            raise StaffError(self._choose(found, labels))
        return stored, gettext(labels[stored]) if stored in labels else str(stored)

    @staticmethod
    def _choose(found: Any, labels: dict[Any, str]) -> str:
        if not labels:
            return gettext("{field}: choose a value.").format(field=gettext(found.label))
        return gettext("{field}: choose one of {choices}.").format(
            field=gettext(found.label), choices=", ".join(gettext(label) for label in labels.values()))

    def _job(self, request: Request, ctx: Any, action: Action, spec: FilterBase | None, raw: str) -> int | None:
        """All matching rows, more than BULK_JOB_MIN_ROWS of them: queued as a job (its page
        shows the progress) rather than done within this request."""
        if spec is None or spec.is_empty() or not isinstance(action, SetField | DeleteRows):
            return None
        if self.listing.count(ctx.db, spec) < request.app.state.settings.bulk_job_min_rows:  # type: ignore[attr-defined]
            return None
        resource = self.resource  # type: ignore[attr-defined]
        if isinstance(action, DeleteRows):
            job = jobs.start(ctx, resource, spec, title=action.title, action=action.slug)
        else:
            value, shown = self._value(ctx.db, action, raw)
            column = getattr(resource.field(action.field), "key", action.field)
            job = jobs.start(ctx, resource, spec, values={column: value}, title=action.title,
                             action=action.slug, shown=shown)
        return job.id

    def _apply(self, request: Request, action: Action, pks: list[int] | None, spec: FilterBase | None,
               raw: str) -> str | int:
        """Do it: the message to flash, or the id of the job that will."""
        with self.writing(request) as ctx:  # type: ignore[attr-defined]
            resource = self.resource  # type: ignore[attr-defined]
            if pks is None and (job_id := self._job(request, ctx, action, spec, raw)) is not None:
                return job_id
            ctx.describe(action.title)
            if isinstance(action, DeleteRows):
                referencing = self.registry.referencing(resource.model)  # type: ignore[attr-defined]
                count = bulk_service.delete_rows(ctx, resource, referencing, ids=pks, spec=spec)
                return self._done(count, action.done)
            if isinstance(action, RunAction):
                ids = pks if pks is not None else list(ctx.db.execute(
                    select(resource.model.id).where(*self.filters.conditions(spec))  # type: ignore[attr-defined]
                ).scalars())
                count = action.run(ctx, ids)
                return self._done(count, action.done)
            value, shown = self._value(ctx.db, action, raw)
            column = getattr(resource.field(action.field), "key", action.field)
            result = bulk_service.update_rows(ctx, resource, {column: value}, ids=pks, spec=spec)
        message = self._done(result.changed, action.done, value=shown)
        if not result.unchanged:
            return message
        return gettext("{done}, {count} {unchanged}").format(
            done=message, count=format_number(result.unchanged), unchanged=gettext(action.unchanged))

    def _done(self, count: int, done: str, **params: str) -> str:
        return done_message(self.resource, count, done, **params)  # type: ignore[attr-defined]

    async def run_bulk(self, request: Request, action: Action) -> Response:
        """GET: the confirmation page. POST: do it, flash it, back to the list."""
        if not self.has_permission(request, permission_of(action)):  # type: ignore[attr-defined]
            raise HTTPException(status.HTTP_403_FORBIDDEN)
        spec = self.admin_filter(request)  # type: ignore[attr-defined]
        if request.method == "GET":
            pks = parse_pks(request.query_params.get("pks"))
            return await self._confirm_page(request, action, pks, spec, scope=SELECTED if pks else ALL_MATCHING)

        form = await request.form()
        pks = parse_pks(str(form.get("pks") or ""))
        scope = str(form.get("scope") or SELECTED)
        raw = str(form.get("value") or "").strip()
        if scope == ALL_MATCHING:
            chosen_ids, chosen_spec = None, spec
        elif scope == SELECTED and pks:
            chosen_ids, chosen_spec = pks, None
        else:
            return await self._confirm_page(
                request, action, pks, spec, scope=scope, value=raw, status_code=400,
                error=gettext("Nothing chosen: select rows in the list first."),
            )
        try:
            message = await anyio.to_thread.run_sync(self._apply, request, action, chosen_ids, chosen_spec, raw)
        except StaffError as exc:
            return await self._confirm_page(
                request, action, pks, spec, scope=scope, value=raw, error=exc.message,
                status_code=exc.status_code if exc.status_code < 500 else 400,
            )
        if isinstance(message, int):  # a job: its page shows how far it is
            worker = request.app.state.job_worker
            if worker is not None:
                worker.wake()
            return RedirectResponse(str(request.url_for("admin:view-job", job_id=message)),
                                    status_code=status.HTTP_303_SEE_OTHER)
        Flash.success(request, message)
        return RedirectResponse(self.list_url(request), status_code=status.HTTP_303_SEE_OTHER)  # type: ignore[attr-defined]
