"""How a failed request is answered: database trouble is a 503, anything else a 500.

One pure ASGI middleware, installed on the app and inside SQLAdmin's mounted app (whose
own error middleware would otherwise answer first), logs each failure once with its
traceback and request id and answers without any internals: JSON under /api, a plain
page under /admin.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from admin_app.middleware import BodyTooLarge
from admin_app.request_id import request_id

logger = logging.getLogger("admin_app.errors")

RETRY_AFTER_SECONDS = 5
QUERY_CANCELED = "57014"  # SQLSTATE of statement_timeout and of a cancel request


@dataclass(frozen=True)
class Failure:
    status: int
    title: str
    detail: str
    retry_after: int | None = None


UNAVAILABLE = Failure(
    503, "Database unavailable",
    "The database is unavailable. Try again in a few seconds.", RETRY_AFTER_SECONDS,
)
BUSY = Failure(
    503, "Database busy",
    "The database is busy: no connection became free in time. Try again in a few seconds.",
    RETRY_AFTER_SECONDS,
)
TOO_SLOW = Failure(
    503, "Database too slow",
    "The database did not answer in time (statement timeout). Try again, or ask for less.",
    RETRY_AFTER_SECONDS,
)
SHUTTING_DOWN = Failure(
    503, "Shutting down",
    "The server is shutting down and stopped this request. Try again.", RETRY_AFTER_SECONDS,
)
INTERNAL = Failure(500, "Internal server error", "Internal server error")


class DatabaseUnavailable(Exception):
    """Database trouble in words fit for a user, for code that shows str() of an error (SQLAdmin)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.detail)
        self.failure = failure


def database_failure(exc: BaseException) -> Failure | None:
    """The 503 that a database problem deserves; None when `exc` is not one."""
    if isinstance(exc, DatabaseUnavailable):
        return exc.failure
    if isinstance(exc, PoolTimeout):
        return BUSY
    if isinstance(exc, DBAPIError):
        if getattr(exc.orig, "pgcode", None) == QUERY_CANCELED:
            return TOO_SLOW
        if exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError)):
            return UNAVAILABLE
    return None


def failure_for(exc: BaseException) -> Failure:
    if isinstance(exc, BodyTooLarge):
        return Failure(413, "Request too large", str(exc))
    return database_failure(exc) or INTERNAL


class ErrorResponseMiddleware:
    """Answer any exception below with a clean response; log 5xx once, with the request id."""

    def __init__(self, app: ASGIApp, *, html_prefix: str = "/admin") -> None:
        self.app = app
        self.html_prefix = html_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
            return
        except Exception as exc:  # noqa: BLE001  (this is the place that handles them all)
            error, failure = exc, failure_for(exc)
        except asyncio.CancelledError as exc:
            # The server gave up on this request: its graceful shutdown timeout is over.
            # The task ends here either way; a re-raise would only be logged a second time.
            error, failure = exc, SHUTTING_DOWN
        rid = request_id(scope)
        if failure.status >= 500:
            logger.log(
                logging.ERROR if failure.status == 500 else logging.WARNING,
                "%s %s answered %d (%s), request id %s",
                scope["method"], scope["path"], failure.status, failure.title, rid,
                exc_info=error,
            )
        # Not re-raised: that would log it again. Once a response has started there is
        # nothing more to say; the server closes the incomplete response.
        if not started:
            await self._respond(scope, send, failure, rid)

    async def _respond(self, scope: Scope, send: Send, failure: Failure, rid: str) -> None:
        if scope["path"].startswith(self.html_prefix):
            body, content_type = error_page(failure, rid), b"text/html; charset=utf-8"
        else:
            payload: dict[str, str] = {"detail": failure.detail}
            if failure.status == 503:  # the schema's `Unavailable`, on every route
                payload = {"status": "unavailable", **payload}
            if failure.status >= 500:
                payload["request_id"] = rid
            body, content_type = json.dumps(payload).encode(), b"application/json"
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        if failure.retry_after is not None:
            headers.append((b"retry-after", str(failure.retry_after).encode()))
        await send({"type": "http.response.start", "status": failure.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def error_page(failure: Failure, rid: str) -> bytes:
    """A page that needs nothing: no template, no database, no script, no stack."""
    title = html.escape(failure.title)
    reference = (
        f"<p>If this keeps happening, quote request id <code>{html.escape(rid)}</code>.</p>"
        if failure.status >= 500 else ""
    )
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{title}</title></head><body><h1>{title}</h1>"
        f"<p>{html.escape(failure.detail)}</p>{reference}"
        "<p><a href=\"\">Reload</a></p></body></html>"
    ).encode()
