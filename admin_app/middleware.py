"""Pure ASGI middleware: CSRF origin check, body size limit, security headers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def refuse(scope: Scope, send: Send, status: int, detail: str, extra: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class CSRFMiddleware:
    """Refuse unsafe methods that a browser sent from another site.

    A request passes when `Sec-Fetch-Site` is absent or `same-origin` and `Origin` (else
    `Referer`) names this host. A request carrying one of our cookies needs one of the two
    headers, and so does every write under `browser_prefixes` (the admin's pages, its login
    form included: without that, another site could log a visitor in to an account of its
    choosing); `Origin: null` never passes. Bearer-token requests carry no ambient authority
    and are exempt. GET never changes data, so it is never checked.
    """

    def __init__(
        self, app: ASGIApp, *, cookie_names: Iterable[str], browser_prefixes: Iterable[str] = ()
    ) -> None:
        self.app = app
        self.cookie_names = tuple(cookie_names)
        self.browser_prefixes = tuple(browser_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        reason = self.refusal(headers, scope["path"])
        if reason is not None:
            await refuse(scope, send, 403, reason)
            return
        await self.app(scope, receive, send)

    def refusal(self, headers: Headers, path: str = "") -> str | None:
        if headers.get("authorization", "").lower().startswith("bearer "):
            return None
        host = headers.get("host", "").lower()
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is not None and fetch_site != "same-origin":
            return "Cross-site request refused."
        origin = headers.get("origin")
        if origin is not None:
            return None if _same_host(origin, host) else "Cross-site request refused."
        referer = headers.get("referer")
        if referer:
            return None if _same_host(referer, host) else "Cross-site request refused."
        cookies = headers.get("cookie", "")
        if any(f"{name}=" in cookies for name in self.cookie_names):
            return "Request without Origin or Referer refused."
        if self.browser_prefixes and path.startswith(self.browser_prefixes):
            return "Request without Origin or Referer refused."
        return None


def _same_host(url: str, host: str) -> bool:
    if url == "null":
        return False
    parts = urlsplit(url)
    return bool(parts.scheme in ("http", "https") and parts.netloc and parts.netloc.lower() == host)


# What a refused body may still send, read and dropped, so that the client gets to read
# the 413: a server that closes a socket with unread data makes the kernel send a reset,
# which can destroy the answer before the client reads it (seen with Connection: close,
# i.e. urllib and other plain clients). Beyond this much, or this long, the connection
# is closed anyway.
DRAIN_MAX_BYTES = 64 * 1024 * 1024
DRAIN_MAX_SECONDS = 10.0


class BodySizeLimitMiddleware:
    """413 for request bodies over the limit, declared or streamed; bigger limits per path prefix.

    A declared Content-Length over the limit is answered before any of the body is read; a
    streamed body when it passes the limit. Either way the 413 is sent at once and the rest
    of the body is then read and dropped (bounded) before the response ends, so the client
    reads the 413 instead of a reset connection.
    """

    def __init__(self, app: ASGIApp, *, limit: int, overrides: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.overrides = overrides or {}

    def _limit_for(self, path: str) -> int:
        for prefix, limit in self.overrides.items():
            if path.startswith(prefix):
                return limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length")
        message = f"Request body larger than {limit:,} bytes."
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await refuse_body(scope, receive, send, message, body_complete=False)
            return
        received = 0
        started = False
        exceeded = False
        complete = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded, complete
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                complete = not msg.get("more_body", False)
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(message)
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if exceeded and not started:
                # FastAPI turns any error while reading a body into its own 400, SQLAdmin's
                # error middleware into its 413: whatever the app answers now, ours replaces it.
                return
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await refuse_body(scope, receive, send, message, body_complete=complete)


async def refuse_body(scope: Scope, receive: Receive, send: Send, detail: str, *, body_complete: bool) -> None:
    """Send the 413 now, then read and drop what the client still sends, then end the response."""
    payload = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    # A client waiting for "100 Continue" has not sent the body and will not: nothing to
    # drain, and the connection cannot be reused (the server expects the body next).
    waiting = "100-continue" in Headers(scope=scope).get("expect", "").lower()
    if waiting:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    if waiting or body_complete:
        await send({"type": "http.response.body", "body": payload})
        return
    await send({"type": "http.response.body", "body": payload, "more_body": True})
    drained = 0
    with anyio.move_on_after(DRAIN_MAX_SECONDS):
        while drained <= DRAIN_MAX_BYTES:
            msg = await receive()
            if msg["type"] != "http.request":
                break  # the client is gone
            drained += len(msg.get("body", b""))
            if not msg.get("more_body", False):
                break
    await send({"type": "http.response.body", "body": b""})


class BodyTooLarge(Exception):
    """Raised from `receive` once a streamed body passes the limit (an app may see it first)."""


class SecurityHeadersMiddleware:
    """Security headers on every response; `no-store` on everything but static assets."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        csp: str,
        docs_csp: str,
        production: bool,
        static_prefixes: tuple[str, ...],
        docs_prefix: str,
    ) -> None:
        self.app = app
        self.csp = csp
        self.docs_csp = docs_csp
        self.production = production
        self.static_prefixes = static_prefixes
        self.docs_prefix = docs_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = (
                    self.docs_csp if path.startswith(self.docs_prefix) else self.csp
                )
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                if self.production:
                    headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
                if not path.startswith(self.static_prefixes):
                    headers["Cache-Control"] = "no-store"
                if "server" in headers:
                    del headers["server"]
            await send(message)

        await self.app(scope, receive, send_with_headers)
