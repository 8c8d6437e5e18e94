"""Application settings, read from the environment and an optional `.env` file."""

from __future__ import annotations

import os
import secrets
import tempfile
from enum import Enum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class AppEnv(str, Enum):
    development = "development"
    production = "production"


class Settings(BaseSettings):
    """Every knob the app has; `.env.example` documents each one."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    app_env: AppEnv = AppEnv.development
    secret_key: SecretStr | None = None

    database_url: str = "sqlite:///./admin_app.db"
    db_echo: bool = False
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout: float = Field(default=10.0, gt=0)
    db_pool_recycle: int = Field(default=1800, ge=-1)
    db_pool_pre_ping: bool = True
    db_connect_timeout: int = Field(default=5, ge=1)
    db_statement_timeout_ms: int = Field(default=15_000, ge=0)
    export_statement_timeout_ms: int = Field(default=120_000, ge=0)
    facet_time_budget_ms: int = Field(default=200, ge=0)
    view_count_budget_ms: int = Field(default=400, ge=0)

    bulk_job_min_rows: int = Field(default=50_000, ge=1)
    import_job_min_rows: int = Field(default=10_000, ge=1)
    job_chunk_rows: int = Field(default=10_000, ge=1, le=1_000_000)
    job_worker: bool = True
    job_poll_seconds: float = Field(default=1.0, gt=0, le=60)

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    import_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)

    initial_admin_email: str | None = None
    initial_admin_password: SecretStr | None = None

    password_min_length: int = Field(default=12, ge=8)
    password_max_length: int = Field(default=128, ge=8, le=1024)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    argon2_max_concurrency: int = Field(default=1, ge=1)
    login_queue_limit: int = Field(default=64, ge=1)

    session_cookie_name: str = "admin_session"
    session_idle_timeout_minutes: int = Field(default=60, ge=1)
    session_absolute_lifetime_hours: int = Field(default=12, ge=1)

    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    login_throttle_delay_seconds: float = Field(default=1.0, ge=0, le=30)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The host names clients reach the app by (admin_app/hosts.py). Empty: the local names
    # in development; production requires it.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Two-factor sign-in (auth/mfa.py): roles that must have a second factor, the keys that
    # encrypt TOTP secrets (empty: derived from SECRET_KEY), how long a login may sit
    # between password and code, the issuer an authenticator app shows, the passkey origin.
    mfa_required_roles: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["admin"])
    mfa_encryption_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    mfa_pending_minutes: int = Field(default=5, ge=1, le=30)
    totp_issuer: str = Field(default="Task back-office", min_length=1, max_length=100)
    webauthn_origin: str | None = None

    @field_validator("trusted_proxies", "allowed_hosts", "mfa_required_roles", "mfa_encryption_keys", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("mfa_required_roles")
    @classmethod
    def _known_roles(cls, value: list[str]) -> list[str]:
        from models import Role

        known = {role.value for role in Role}
        roles = [role.lower() for role in value]
        unknown = [role for role in roles if role not in known]
        if unknown:
            raise ValueError(f"unknown role {unknown[0]!r} (roles: {', '.join(sorted(known))})")
        return roles

    @field_validator("webauthn_origin")
    @classmethod
    def _origin(cls, value: str | None) -> str | None:
        from urllib.parse import urlsplit

        if not value:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError("WEBAUTHN_ORIGIN must look like https://admin.example.com (no path)")
        return f"{parts.scheme}://{parts.netloc}"

    @field_validator("allowed_hosts")
    @classmethod
    def _check_hosts(cls, value: list[str]) -> list[str]:
        from admin_app.hosts import normalize_entry

        return [normalize_entry(entry) for entry in value]

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if self.password_max_length < self.password_min_length:
            raise ValueError("PASSWORD_MAX_LENGTH must not be below PASSWORD_MIN_LENGTH")
        if self.session_idle_timeout_minutes > self.session_absolute_lifetime_hours * 60:
            raise ValueError(
                "SESSION_IDLE_TIMEOUT_MINUTES must not exceed SESSION_ABSOLUTE_LIFETIME_HOURS x 60"
            )
        if self.is_production:
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if len(key) < 32:
                raise ValueError(
                    "APP_ENV=production needs a SECRET_KEY of at least 32 characters"
                )
            if any(len(k.get_secret_value()) < 32 for k in self.mfa_encryption_keys):
                raise ValueError("APP_ENV=production needs MFA_ENCRYPTION_KEYS of at least 32 characters each")
            if not self.allowed_hosts:
                raise ValueError(
                    "APP_ENV=production needs ALLOWED_HOSTS: the host names clients use to "
                    "reach the app, comma-separated (e.g. admin.example.com)"
                )
        return self

    def mfa_key_values(self) -> list[str]:
        """The keys that encrypt TOTP secrets, the first for new ones; SECRET_KEY by default."""
        return [k.get_secret_value() for k in self.mfa_encryption_keys] or [self.secret_key_value()]

    @property
    def effective_allowed_hosts(self) -> list[str]:
        """ALLOWED_HOSTS, or in development when it is unset the local names (and TestClient's)."""
        from admin_app.hosts import DEVELOPMENT_HOSTS

        return self.allowed_hosts or list(DEVELOPMENT_HOSTS)

    def secret_key_value(self) -> str:
        """The signing key; in development, one generated once and kept beside the database."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.dev_secret_path()
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            pass
        key = secrets.token_urlsafe(48)
        # Written aside, then linked into place: a process starting at the same moment
        # sees either no file or the whole key, never an empty one.
        fd, draft = tempfile.mkstemp(dir=path.parent, prefix=".admin_app_secret_key.")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(key + "\n")
            os.link(draft, path)
        except FileExistsError:  # another process won the race: use its key
            return path.read_text().strip()
        finally:
            os.unlink(draft)
        return key

    def dev_secret_path(self) -> Path:
        sqlite_file = self.sqlite_path()
        folder = sqlite_file.parent if sqlite_file else Path.cwd()
        return folder / ".admin_app_secret_key"

    @property
    def is_production(self) -> bool:
        return self.app_env is AppEnv.production

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The SQLite file this configuration points at, if any."""
        from sqlalchemy.engine import make_url

        if not self.is_sqlite:
            return None
        database = make_url(self.database_url).database
        if not database or database == ":memory:":
            return None
        return Path(database)
