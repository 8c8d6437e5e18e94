"""Where a login may send the browser next: only a path on this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(value: object, default: str) -> str:
    """`value` if it is a local path (no scheme, no host, no `//` or `\\` tricks), else default."""
    if not isinstance(value, str) or not value or len(value) > 2000:
        return default
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(ch) < 32 for ch in value) or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value
