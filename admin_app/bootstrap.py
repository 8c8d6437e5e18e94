"""The first admin account, created once when the database has no users."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, text

from admin_app.audit import bind_actor, install
from admin_app.migrate import MIGRATION_LOCK_KEY
from admin_app.resources import default_resources
from admin_app.services.actor import CLI_ACTOR
from admin_app.services.users import count_users, create_user
from admin_app.settings import Settings
from auth.passwords import Passwords
from models import Role

DEFAULT_ADMIN_EMAIL = "admin@example.com"


@dataclass(frozen=True)
class FirstAdmin:
    email: str
    generated_password: str | None  # set only when we made one up: print it once


def ensure_first_admin(engine: Engine, settings: Settings, passwords: Passwords) -> FirstAdmin | None:
    """Create the first admin unless any user exists; safe when processes start together."""
    from admin_app.db import build_session_factory

    factory = build_session_factory(engine)
    install(default_resources())
    with factory() as session, session.begin():
        bind_actor(session, CLI_ACTOR)
        if engine.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        if count_users(session) > 0:
            return None
        email = settings.initial_admin_email or DEFAULT_ADMIN_EMAIL
        if settings.initial_admin_password is not None:
            password = settings.initial_admin_password.get_secret_value()
            generated = None
        else:
            password = secrets.token_urlsafe(18)
            generated = password
        create_user(
            session, passwords, email=email, password=password, role=Role.admin,
            full_name="Administrator",
        )
    return FirstAdmin(email=email.strip().lower(), generated_password=generated)
