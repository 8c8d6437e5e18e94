"""A request id on every request and response, for matching a user's report to the log."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
# A load balancer's id is kept if it is plainly an id; anything else could forge log lines.
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id(scope: Scope) -> str:
    """The id RequestIdMiddleware gave this request (`-` outside it)."""
    return scope.get("state", {}).get("request_id", "-")


class RequestIdMiddleware:
    """Take a sane incoming X-Request-ID or make one; keep it in request.state; echo it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(HEADER)
        value = incoming if incoming and _SANE.fullmatch(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = value

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = value
            await send(message)

        await self.app(scope, receive, send_with_id)
