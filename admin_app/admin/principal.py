"""Who an admin request acts as: the role table's answer for it, and its actor for the audit."""

from __future__ import annotations

from starlette.requests import Request

from admin_app.services.actor import Actor
from auth.roles import role_allows


def role_allows_request(request: Request, permission: str, action: str) -> bool:
    """The role table, for the request's principal (cached per request)."""
    principal = request.app.state.authenticator.principal(request)
    return principal is not None and role_allows(principal.role, permission, action)


def admin_actor(request: Request) -> Actor:
    return Actor.from_principal(request.app.state.authenticator.principal(request), via="admin")
