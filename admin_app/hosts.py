"""Only the host names the operator allows: a request for any other `Host` is refused.

Pages and redirects build absolute links from the request's `Host` header, and the CSRF
check compares `Origin` with it; a forged `Host` would otherwise be reflected into them
(password-reset-style link poisoning, cache poisoning behind a shared proxy). Starlette's
TrustedHostMiddleware does this job but misreads a bracketed IPv6 host (`[::1]:8000`),
so this is the same idea with a parser that knows the `Host` grammar.

Entries are host names or addresses without a port: `admin.example.com`, `10.0.0.5`,
`::1`; `*.example.com` allows every subdomain (not example.com itself); `*` allows any
host, for a proxy in front that checks it. The liveness and readiness probes are exempt:
orchestrators call them by the pod's address, and they build no links.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from admin_app.middleware import refuse

logger = logging.getLogger("admin_app.hosts")

DEVELOPMENT_HOSTS = ("localhost", "127.0.0.1", "::1", "testserver")
REFUSED = "Invalid Host header: this server answers only for the names in ALLOWED_HOSTS."

_NAME = re.compile(r"(\*\.)?[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*")
_IPV6 = re.compile(r"[0-9a-f:.]{2,45}")
_PORT = re.compile(r"[0-9]{1,5}")


def _ipv6(value: str) -> str | None:
    """The canonical form of an IPv6 address (so ::1 and 0:0:0:0:0:0:0:1 compare equal)."""
    if ":" not in value or not _IPV6.fullmatch(value):
        return None
    try:
        return ipaddress.IPv6Address(value).compressed
    except ValueError:
        return None


def normalize_entry(entry: str) -> str:
    """An ALLOWED_HOSTS entry in the form requests are compared in; ValueError if it is none."""
    value = entry.strip().lower().rstrip(".")
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    if value == "*" or _NAME.fullmatch(value):
        return value
    if (v6 := _ipv6(value)) is not None:
        return v6
    if re.fullmatch(r".+:[0-9]+", value):
        raise ValueError(f"{entry!r} has a port: ALLOWED_HOSTS lists host names only")
    raise ValueError(f"{entry!r} is not a host name or address")


def host_of(header: str) -> str | None:
    """The host part of a `Host` header, lower-case, without port or trailing dot; None if malformed."""
    value = header.strip().lower()
    if value.startswith("["):  # [v6]:port
        end = value.find("]")
        if end < 0:
            return None
        host, rest = _ipv6(value[1:end]), value[end + 1:]
        if rest and not (rest[0] == ":" and _PORT.fullmatch(rest[1:])):
            return None
        return host
    host, sep, port = value.rpartition(":")
    if not sep:
        host = value
    elif not _PORT.fullmatch(port):
        return None
    host = host.rstrip(".")
    return host if host and _NAME.fullmatch(host) and not host.startswith("*") else None


class AllowedHosts:
    """Whether a host name is one of the allowed entries."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.entries = tuple(normalize_entry(e) for e in entries)
        self.any = "*" in self.entries
        self.exact = frozenset(e for e in self.entries if not e.startswith("*"))
        self.suffixes = tuple(e[1:] for e in self.entries if e.startswith("*."))  # ".example.com"

    def allows(self, host: str | None) -> bool:
        if host is None:
            return False
        return self.any or host in self.exact or (bool(self.suffixes) and host.endswith(self.suffixes))


class AllowedHostsMiddleware:
    """400 for a request whose `Host` is missing, malformed or not allowed."""

    def __init__(self, app: ASGIApp, *, allowed: AllowedHosts, exempt_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.allowed = allowed
        self.exempt_paths = frozenset(exempt_paths)
        self._logged: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope.get("path") in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("host", "")
        if self.allowed.allows(host_of(header)):
            await self.app(scope, receive, send)
            return
        if len(self._logged) < 100 and header not in self._logged:  # once per name, bounded
            self._logged.add(header)
            logger.warning("refused Host %r: not in ALLOWED_HOSTS %s", header[:200], ",".join(self.allowed.entries))
        await refuse(scope, send, 400, REFUSED)
