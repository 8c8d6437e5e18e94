"""The client's address: the socket peer, unless that peer is a proxy the operator trusts."""

from __future__ import annotations

from starlette.requests import HTTPConnection


def client_address(request: HTTPConnection, trusted_proxies: frozenset[str]) -> str:
    peer = request.client.host if request.client else ""
    if not trusted_proxies or peer not in trusted_proxies:
        return peer  # a spoofed X-Forwarded-For from anyone else changes nothing
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    # Walk from the right: the first hop not itself a trusted proxy is the client.
    for hop in reversed(hops):
        if hop not in trusted_proxies:
            return hop[:64]
    return peer
