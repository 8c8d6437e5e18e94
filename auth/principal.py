"""Who a request is acting as, once its cookie or token has been checked."""

from __future__ import annotations

from dataclasses import dataclass

from auth.roles import role_allows
from models import Role


@dataclass(frozen=True)
class Principal:
    user_id: int
    email: str
    full_name: str
    role: Role
    via: str  # "session" or "token"
    session_id: str | None = None  # hashed id of the current session, for "end my others"
    token_id: int | None = None
    second_factor: str | None = None  # how the session's login passed it (totp, recovery, passkey)
    time_zone: str = "UTC"  # how the admin shows this user times
    theme: str = "system"  # light, dark, or the browser's (models.user.THEMES)
    language: str | None = None  # the admin's language (models.user.LANGUAGES); None: the browser's

    @property
    def label(self) -> str:
        return self.email

    def can(self, resource: str, action: str) -> bool:
        return role_allows(self.role, resource, action)
