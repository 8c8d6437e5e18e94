"""Who is making a change and through which channel; every service call carries one."""

from __future__ import annotations

from dataclasses import dataclass

from auth.principal import Principal


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    label: str
    via: str  # "admin", "api" or "cli"

    @classmethod
    def from_principal(cls, principal: Principal, via: str) -> Actor:
        return cls(user_id=principal.user_id, label=principal.email, via=via)


CLI_ACTOR = Actor(user_id=None, label="cli", via="cli")
SYSTEM_ACTOR = Actor(user_id=None, label="system", via="cli")
