"""SQLAdmin's routes, trimmed and guarded: identifiers are checked before SQLAdmin parses them.

SQLAdmin turns the `{pk}` of a URL into the primary key's Python type itself, and lets the
error out as a 500 (`/admin/task/details/abc`, or an id past the column's range, which
SQLite's driver cannot bind). The `pks` of a delete is read the same way. So a route that
takes a row identifier first asks who is there (an anonymous visitor still goes to the
login page), then answers 404 for a `{pk}` that can name no row and 400 for a `pks` that
is not a list of ids; only then does SQLAdmin see the request.

A query string holding a control character (a NUL, which PostgreSQL refuses in text) is
answered 400 before any page reads it.

The file download and preview routes are removed: no table here stores files, and they
answered 500 for a row that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from sqladmin import Admin, ModelView
from sqladmin.helpers import get_column_python_type, get_primary_keys
from starlette import status
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from admin_app.failures import Failure, error_page
from admin_app.i18n import gettext
from admin_app.request_id import request_id
from models.common import MAX_DB_ID

FILE_ROUTES = frozenset({"file_download", "file_preview"})
PK_ROUTES = frozenset({"details", "edit"})  # routes with a {pk} in their path
PKS_ROUTES = frozenset({"delete"})  # routes with ?pks=1,2,3
MAX_TEXT_KEY = 512
_DIGITS = re.compile(r"[0-9]{1,10}")


def key_is_valid(view: ModelView, identifier: str) -> bool:
    """Whether `identifier` could be a primary key of the view's table (not whether it is)."""
    columns = get_primary_keys(view.model)
    if len(columns) != 1:  # composite keys: SQLAdmin's own parsing decides
        return True
    if get_column_python_type(columns[0]) is int:
        return bool(_DIGITS.fullmatch(identifier)) and 1 <= int(identifier) <= MAX_DB_ID
    return len(identifier) <= MAX_TEXT_KEY and not any(ord(ch) < 32 for ch in identifier)


def keys_are_valid(view: ModelView, raw: str | None) -> bool:
    """`pks` as SQLAdmin's delete reads it: comma-separated keys, at least one."""
    parts = (raw or "").split(",")
    return bool(raw) and all(key_is_valid(view, part) for part in parts)


Check = Callable[[Admin, ModelView, Request], None]


def check_pk(_admin: Admin, view: ModelView, request: Request) -> None:
    if not key_is_valid(view, request.path_params.get("pk", "")):
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND)


def check_pks(_admin: Admin, view: ModelView, request: Request) -> None:
    if not keys_are_valid(view, request.query_params.get("pks")):
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=gettext("Invalid selection (pks)."))


class GuardedRoute:
    """The ASGI app of one route: authenticate, run the check, then SQLAdmin's endpoint."""

    def __init__(self, admin: Admin, app: ASGIApp, check: Check) -> None:
        self.admin = admin
        self.app = app
        self.check = check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self._refusal(request)
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _refusal(self, request: Request) -> Response | None:
        backend: Any = self.admin.authentication_backend
        if backend is not None:
            answer = await backend.authenticate(request)  # cached for the endpoint's own check
            if isinstance(answer, Response):
                return answer
        # An unknown identity is SQLAdmin's 404 (raised here as it would be there).
        view = self.admin._find_model_view(request.path_params.get("identity", ""))
        self.check(self.admin, view, request)
        return None


# C0 controls but tab, LF and CR: what the models' reject_control_characters refuses.
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
BAD_QUERY = Failure(400, "Bad request", "A query parameter holds a control character.")


class QueryTextGuard:
    """400 for a query string with a control character in it, before any page reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query: bytes = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if query and _CONTROL.search(unquote_to_bytes(query.replace(b"+", b" "))):
            body = error_page(BAD_QUERY, request_id(scope))
            response = Response(body, status_code=400, media_type="text/html")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def guard_routes(admin: Admin) -> None:
    """Drop the file routes, check query strings, and put the identifier checks in front."""
    admin.admin.add_middleware(QueryTextGuard)
    routes: list[BaseRoute] = admin.admin.router.routes
    routes[:] = [r for r in routes if getattr(r, "name", None) not in FILE_ROUTES]
    for route in routes:
        if not isinstance(route, Route):
            continue
        if route.name in PK_ROUTES:
            route.app = GuardedRoute(admin, route.app, check_pk)
        elif route.name in PKS_ROUTES:
            route.app = GuardedRoute(admin, route.app, check_pks)
