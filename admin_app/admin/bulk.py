"""Bulk actions that never change data on GET.

SQLAdmin registers `@action` routes for GET only and confirms in a client-side modal, so
a cross-site link could run them. Here every action is one mechanism: GET renders a
confirmation page (what will happen, to how many rows, optionally to all rows matching
the list's search and filters) holding a POST form; POST does it in one transaction,
flashes what was done and goes back to the list with its filters. `build_admin` adds
POST to the `action-*` routes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import anyio
from sqladmin import Flash, ModelView
from sqlmodel import Session
from starlette import status
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin_app.admin.messages import StaffError, staff_errors
from admin_app.services.actor import Actor
from models.common import MAX_DB_ID

SELECTED, ALL_MATCHING = "selected", "all"
MAX_PKS = 10_000


@dataclass(frozen=True)
class BulkTarget:
    """The rows an action applies to: chosen ids, or every row matching a filter."""

    ids: list[int] | None = None
    spec: Any = None


@dataclass(frozen=True)
class BulkRun:
    """Who runs an action, and what of the request it may need."""

    actor: Actor
    passwords: Any = None
    session_id: str | None = None  # the current session (kept when ending a user's sessions)


# apply(db, run, target, value) -> how many rows it changed
Apply = Callable[[Session, BulkRun, BulkTarget, Any], int]


@dataclass(frozen=True)
class BulkAction:
    title: str  # "Mark as done": the menu entry and the page title
    done: str  # "marked done": "12 tasks marked done"; may use {value}
    apply: Apply
    ask: str | None = None  # a value the confirmation asks for: "priority" or "assignee"
    danger: bool = False


def parse_pks(raw: str | None) -> list[int]:
    if not raw:
        return []
    try:
        pks = sorted({int(part) for part in raw.split(",") if part.strip()})
        if pks and not 1 <= pks[0] <= pks[-1] <= MAX_DB_ID:  # no row has it; SQLite cannot bind it
            raise ValueError(pks)
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Invalid selection (pks).") from exc
    if len(pks) > MAX_PKS:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"At most {MAX_PKS:,} rows can be selected.")
    return pks


class BulkActionsMixin(ModelView):
    """A ModelView whose `@action` methods call `run_bulk`."""

    bulk_noun: ClassVar[tuple[str, str]] = ("row", "rows")
    bulk_all_matching: ClassVar[bool] = False  # may an action apply to all matching rows?
    bulk_template: ClassVar[str] = "sqladmin/bulk_confirm.html"

    # --- what a view provides ---------------------------------------------------------
    def bulk_filter(self, request: Request) -> Any:
        """The filter the list's query parameters describe (for all matching rows)."""
        raise NotImplementedError

    def bulk_count(self, db: Session, target: BulkTarget) -> int:
        raise NotImplementedError

    def bulk_value(self, db: Session, action: BulkAction, raw: str) -> tuple[Any, str]:
        """Check the asked value; returns it and how to name it in the message."""
        raise StaffError(f"{action.title}: nothing to ask")

    def bulk_list_url(self, request: Request) -> str:
        return str(request.url_for("admin:list", identity=self.identity))

    # --- the mechanism ------------------------------------------------------------------
    def _noun(self, count: int) -> str:
        return self.bulk_noun[0] if count == 1 else self.bulk_noun[1]

    def _counts(self, pks: list[int], spec: Any) -> tuple[int, int | None]:
        with self.session_maker() as db:
            selected = self.bulk_count(db, BulkTarget(ids=pks)) if pks else 0
            matching = self.bulk_count(db, BulkTarget(spec=spec)) if spec is not None else None
        return selected, matching

    async def _confirm_page(
        self, request: Request, action: BulkAction, pks: list[int], spec: Any, *,
        scope: str, value: str = "", error: str | None = None, status_code: int = 200,
    ) -> Response:
        selected, matching = await anyio.to_thread.run_sync(self._counts, pks, spec)
        context = {
            "model_view": self, "action": action, "pks": ",".join(map(str, pks)),
            "selected_count": selected, "matching_count": matching,
            "matching_everything": spec is not None and spec.is_empty(),
            "scope": scope, "value": value, "error": error,
            "noun": self._noun, "list_url": self.bulk_list_url(request),
            "title": action.title,
        }
        return await self.templates.TemplateResponse(
            request, self.bulk_template, context, status_code=status_code
        )

    def _apply(self, request: Request, action: BulkAction, target: BulkTarget, raw: str) -> str:
        principal = request.app.state.authenticator.principal(request)
        run = BulkRun(
            actor=Actor.from_principal(principal, via="admin"),
            passwords=request.app.state.passwords,
            session_id=principal.session_id,
        )
        with self.session_maker() as db, staff_errors():
            try:
                value, value_label = (
                    self.bulk_value(db, action, raw) if action.ask else (None, "")
                )
                count = action.apply(db, run, target, value)
                db.commit()
            except BaseException:
                db.rollback()
                raise
        return f"{count:,} {self._noun(count)} {action.done.format(value=value_label)}"

    async def run_bulk(self, request: Request, action: BulkAction) -> Response:
        """GET: the confirmation page. POST: do it, flash it, back to the list."""
        spec = self.bulk_filter(request) if self.bulk_all_matching else None
        if request.method == "GET":
            pks = parse_pks(request.query_params.get("pks"))
            scope = SELECTED if pks or spec is None else ALL_MATCHING
            return await self._confirm_page(request, action, pks, spec, scope=scope)

        form: FormData = await request.form()
        pks = parse_pks(str(form.get("pks") or ""))
        scope = str(form.get("scope") or SELECTED)
        raw = str(form.get("value") or "").strip()
        if scope == ALL_MATCHING and spec is not None:
            target = BulkTarget(spec=spec)
        elif scope == SELECTED and pks:
            target = BulkTarget(ids=pks)
        else:
            return await self._confirm_page(
                request, action, pks, spec, scope=scope, value=raw, status_code=400,
                error="Nothing chosen: select rows in the list first.",
            )
        try:
            message = await anyio.to_thread.run_sync(self._apply, request, action, target, raw)
        except StaffError as exc:
            return await self._confirm_page(
                request, action, pks, spec, scope=scope, value=raw, error=exc.message,
                status_code=exc.status_code if exc.status_code < 500 else 400,
            )
        Flash.success(request, message)
        return RedirectResponse(self.bulk_list_url(request), status_code=status.HTTP_303_SEE_OTHER)
