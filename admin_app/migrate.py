"""Bring the schema to head with Alembic; the migrations are the schema's source of truth."""

from __future__ import annotations

import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any fixed 64-bit number; every process that migrates takes the same one.
MIGRATION_LOCK_KEY = 7_301_984_113


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Apply every pending migration; concurrent callers on PostgreSQL wait for each other."""
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    """Leave PostgreSQL-only objects (trigram indexes) out of comparisons on other dialects,
    and SQLite's FTS5 search tables (`task_search` and its shadow tables: no model has them)."""
    if type_ == "table" and reflected and compare_to is None and re.fullmatch(r"\w+_search(_\w+)?", name or ""):
        return False
    if type_ == "index" and getattr(obj, "info", {}).get("postgresql_only"):
        bind = obj.table.metadata.info.get("_compare_dialect")
        return bind == "postgresql"
    return True


def autogenerate_options(dialect_name: str) -> dict:
    """The comparison settings env.py uses, for tests that check models against migrations."""
    from sqlmodel import SQLModel

    SQLModel.metadata.info["_compare_dialect"] = dialect_name
    return {"compare_type": True, "include_object": include_object}
