"""Change sets in the admin: the list (admins), one change set's rows (paged), and the revert
confirmation every role with the permissions may reach: GET previews, only POST reverts.

After any admin write, `offer_undo` keeps the new change set's id in the session; the next page
shows "Undo" beside the success message (templates/sqladmin/flash.html), leading here.
"""

from __future__ import annotations

from typing import Any

import anyio
from sqladmin import BaseView, Flash, expose
from sqlalchemy import select
from starlette import status
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin_app.admin.audit_view import _changes
from admin_app.admin.messages import StaffError, staff_errors
from admin_app.i18n import format_number, lazy_gettext, ngettext
from admin_app.i18n import gettext as _
from admin_app.services import revert
from admin_app.services.actor import Actor
from admin_app.services.unit import unit_of_work
from auth.principal import Principal
from models import AuditEntry, ChangeSet
from models.common import parse_db_id

PAGE = 50
ROWS_PAGE = 100
UNDO_KEY = "undo_change_set"


def offer_undo(request: Request, change_set_id: int | None) -> None:
    """The next page offers to undo this change set."""
    if change_set_id is not None:
        request.session[UNDO_KEY] = change_set_id


def undo_offer(request: Request) -> int | None:
    """The change set to offer undoing, once (a Jinja global for flash.html)."""
    return request.session.pop(UNDO_KEY, None) if "session" in request.scope else None


def _cursor(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    value = parse_db_id(raw)
    if value is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, _("{name}: expected a row id").format(name=name))
    return value


class ChangeSetsView(BaseView):
    name = lazy_gettext("Change sets")
    icon = "fa-solid fa-rotate-left"
    identity = "changes"

    def _principal(self, request: Request) -> Principal:
        return request.app.state.authenticator.principal(request)

    def is_accessible(self, request: Request) -> bool:
        return True  # every route checks its own permission: the revert is per change

    def is_visible(self, request: Request) -> bool:
        principal = self._principal(request)
        return principal is not None and principal.can("audit-entry", "list")

    def _require_reader(self, request: Request) -> None:
        if not self.is_visible(request):
            raise HTTPException(status.HTTP_403_FORBIDDEN)

    def _id(self, request: Request) -> int:
        found = parse_db_id(str(request.path_params.get("change_set_id", "")))
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND)
        return found

    # SQLAdmin takes a page's menu link from the exposed method last in name order: this one.
    @expose("/changes", identity="changes")
    async def change_sets(self, request: Request) -> Response:
        self._require_reader(request)
        before = _cursor(request, "before")

        def read() -> list[Any]:
            query = select(ChangeSet).order_by(ChangeSet.id.desc()).limit(PAGE + 1)
            with request.app.state.session_factory() as db:
                return list(db.execute(query if before is None else query.where(ChangeSet.id < before)).scalars())

        rows = await anyio.to_thread.run_sync(read)
        more = rows[PAGE].id + 1 if len(rows) > PAGE else None
        return await self.templates.TemplateResponse(request, "sqladmin/change_sets.html", {
            "change_sets": rows[:PAGE], "next_before": more,
        })

    @expose("/changes/{change_set_id}", identity="change-set")
    async def change_set_page(self, request: Request) -> Response:
        self._require_reader(request)
        change_set_id, after = self._id(request), _cursor(request, "after") or 0

        def read() -> tuple[Any, list[Any]]:
            with request.app.state.session_factory() as db:
                found = db.get(ChangeSet, change_set_id)
                entries = list(db.execute(
                    select(AuditEntry).where(AuditEntry.change_set_id == change_set_id, AuditEntry.id > after)
                    .order_by(AuditEntry.id).limit(ROWS_PAGE + 1)
                ).scalars())
                return found, entries

        found, entries = await anyio.to_thread.run_sync(read)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND)
        more = entries[ROWS_PAGE - 1].id if len(entries) > ROWS_PAGE else None
        return await self.templates.TemplateResponse(request, "sqladmin/change_set.html", {
            "change_set": found, "entries": entries[:ROWS_PAGE], "next_after": more, "changes_of": _changes,
        })

    @expose("/changes/{change_set_id}/revert", methods=["GET", "POST"], identity="change-set-revert")
    async def change_set_revert(self, request: Request) -> Response:
        """GET: the preview and a form to confirm. POST: revert, say so, offer to undo the revert."""
        change_set_id, principal = self._id(request), self._principal(request)
        actor = Actor.from_principal(principal, via="admin")
        registry = request.app.state.resources

        def work(dry_run: bool) -> tuple[revert.Preview, int | None]:
            with staff_errors(), unit_of_work(
                request.app.state.session_factory, actor, passwords=request.app.state.passwords,
                session_id=principal.session_id,
            ) as ctx:
                if dry_run:
                    found = revert.preview(ctx, registry, change_set_id, principal.can)
                    ctx.db.rollback()
                    return found, None
                found, new_id = revert.apply(ctx, registry, change_set_id, principal.can)
                return found, new_id

        if request.method == "GET":
            preview, _new_id = await self._run(work, True)
            return await self._confirm(request, preview)
        try:
            done, new_id = await anyio.to_thread.run_sync(work, False)
        except StaffError as exc:
            if exc.status_code in (403, 404):
                raise HTTPException(exc.status_code, exc.message) from exc
            preview, _new_id = await self._run(work, True)  # the reason, above the preview as it is now
            return await self._confirm(request, preview, error=exc.message,
                                       status_code=exc.status_code if exc.status_code < 500 else 400)
        restored = ngettext("Reverted: {count} row restored", "Reverted: {count} rows restored", done.restorable)
        Flash.success(request, restored.format(count=format_number(done.restorable)) + (
            _(", {count} left as they were.").format(count=format_number(done.conflict_count))
            if done.conflict_count else "."))
        offer_undo(request, new_id)
        target = (request.url_for("admin:view-change-set", change_set_id=new_id) if self.is_visible(request)
                  else request.url_for("admin:index"))
        return RedirectResponse(str(target), status_code=status.HTTP_303_SEE_OTHER)

    @staticmethod
    async def _run(work: Any, dry_run: bool) -> Any:
        try:
            return await anyio.to_thread.run_sync(work, dry_run)
        except StaffError as exc:  # not allowed, no such change set, an unknown table
            raise HTTPException(exc.status_code if exc.status_code < 500 else 400, exc.message) from exc

    async def _confirm(self, request: Request, preview: revert.Preview, error: str | None = None,
                       status_code: int = 200) -> Response:
        return await self.templates.TemplateResponse(request, "sqladmin/revert_confirm.html", {
            "preview": preview, "error": error, "can_read": self.is_visible(request),
        }, status_code=status_code)
