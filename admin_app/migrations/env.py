"""Alembic environment: upgrades run in one transaction, under a PostgreSQL advisory lock."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from admin_app.db import set_statement_timeout
from admin_app.migrate import MIGRATION_LOCK_KEY, autogenerate_options

config = context.config


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Render the project's column types as plain SQLAlchemy ones in new migrations."""
    from sqlmodel.sql.sqltypes import AutoString

    from models.common import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or _settings_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _settings_url() -> str:
    from admin_app.config import load_settings
    from admin_app.db import normalize_database_url

    return normalize_database_url(load_settings().database_url).render_as_string(hide_password=False)


def _run(connection) -> None:  # noqa: ANN001
    with connection.begin():
        if connection.dialect.name == "postgresql":
            # Transaction-level: released at commit, safe behind PgBouncer in transaction mode.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            # A migration may rewrite a big table: no request-sized statement timeout here.
            set_statement_timeout(connection, 0)
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            render_item=render_item,
            transaction_per_migration=False,
            **autogenerate_options(connection.dialect.name),
        )
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # The `alembic` command line (developers): DATABASE_URL from the environment or .env.
    from admin_app.config import load_settings
    from admin_app.db import build_engine

    url = config.get_main_option("sqlalchemy.url")
    settings = load_settings(database_url=url) if url else load_settings()
    engine = build_engine(settings.model_copy(update={"db_statement_timeout_ms": 0}))
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
