"""What every `admin-app` command shares: one-line errors, the settings, a database that answers."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from admin_app.config import load_settings
from admin_app.db import build_engine, normalize_database_url


class CommandError(Exception):
    """A failure explained in one line; exits with status 1."""


def database_label(settings) -> str:  # noqa: ANN001
    return normalize_database_url(settings.database_url).render_as_string(hide_password=True)


def unreachable(exc: SQLAlchemyError, label: str) -> CommandError:
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else "no answer"
    return CommandError(f"database unreachable ({label}): {reason}")


def engine_for(settings):  # noqa: ANN001, ANN202
    """An engine whose database answers, or a one-line CommandError."""
    from sqlalchemy import text

    # Commands are not requests: no request-sized statement timeout (migrations, demo data).
    engine = build_engine(settings.model_copy(update={"db_statement_timeout_ms": 0}))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        raise unreachable(exc, database_label(settings)) from None
    return engine


def command_settings():  # noqa: ANN202
    settings = load_settings()
    normalize_database_url(settings.database_url)  # validate early, one line on error
    return settings


def migrate_to_head(engine) -> str | None:  # noqa: ANN001
    from admin_app.migrate import current_revision, upgrade_to_head

    upgrade_to_head(engine)
    return current_revision(engine)
