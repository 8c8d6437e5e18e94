"""What the auth package needs to know, handed in by the app (auth does not read settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class AuthConfig:
    secret_key: str
    production: bool = False
    cookie_name: str = "admin_session"
    idle_timeout: timedelta = timedelta(minutes=60)
    absolute_lifetime: timedelta = timedelta(hours=12)
    max_failures: int = 5
    max_failures_per_address: int = 50
    failure_window: timedelta = timedelta(minutes=15)
    throttle_delay: float = 1.0  # seconds a refused (throttled) login waits before its 429
    trusted_proxies: frozenset[str] = field(default_factory=frozenset)
    mfa_required_roles: frozenset[str] = frozenset({"admin"})
    mfa_keys: tuple[str, ...] = ()  # encrypt TOTP secrets; empty: secret_key
    pending_lifetime: timedelta = timedelta(minutes=5)
    totp_issuer: str = "Task back-office"
    webauthn_origin: str | None = None  # None: the origin the request came to

    @property
    def session_cookie(self) -> str:
        """`__Host-` in production: Secure, path /, no Domain: no subdomain can plant it."""
        return f"__Host-{self.cookie_name}" if self.production else self.cookie_name

    @property
    def pending_cookie(self) -> str:
        """The cookie of a login waiting for its second factor (never a session)."""
        name = f"{self.cookie_name}_pending"
        return f"__Host-{name}" if self.production else name

    @classmethod
    def from_settings(cls, settings) -> AuthConfig:  # noqa: ANN001
        return cls(
            secret_key=settings.secret_key_value(),
            production=settings.is_production,
            cookie_name=settings.session_cookie_name,
            idle_timeout=timedelta(minutes=settings.session_idle_timeout_minutes),
            absolute_lifetime=timedelta(hours=settings.session_absolute_lifetime_hours),
            max_failures=settings.login_max_failures,
            max_failures_per_address=settings.login_max_failures_per_address,
            failure_window=timedelta(minutes=settings.login_window_minutes),
            throttle_delay=settings.login_throttle_delay_seconds,
            trusted_proxies=frozenset(settings.trusted_proxies),
            mfa_required_roles=frozenset(settings.mfa_required_roles),
            mfa_keys=tuple(settings.mfa_key_values()),
            pending_lifetime=timedelta(minutes=settings.mfa_pending_minutes),
            totp_issuer=settings.totp_issuer,
            webauthn_origin=settings.webauthn_origin,
        )
