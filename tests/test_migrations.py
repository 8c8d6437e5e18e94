"""Alembic is the schema's source of truth: models and migrations agree on both databases."""

import os
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import models  # noqa: F401
from admin_app.db import build_engine
from admin_app.migrate import (
    autogenerate_options,
    current_revision,
    head_revision,
    upgrade_to_head,
)
from tests.conftest import make_settings


def test_models_and_migrations_agree(engine) -> None:  # noqa: ANN001
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts=autogenerate_options(connection.dialect.name)
        )
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_database_is_at_head(engine) -> None:  # noqa: ANN001
    assert current_revision(engine) == head_revision()


def test_upgrade_is_idempotent(engine) -> None:  # noqa: ANN001
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()


def test_filter_and_sort_columns_are_indexed(engine) -> None:  # noqa: ANN001
    inspector = inspect(engine)
    indexed = {tuple(ix["column_names"]) for ix in inspector.get_indexes("task")}
    for column in ("status", "priority", "assignee_id", "due_date", "created_at", "updated_at", "title"):
        assert any(cols[0] == column for cols in indexed), column
    user_indexes = {ix["name"]: ix for ix in inspector.get_indexes("user")}
    assert user_indexes["ix_user_email"]["unique"]


def test_no_secret_column_besides_the_hash(engine) -> None:  # noqa: ANN001
    columns = {c["name"] for c in inspect(engine).get_columns("user")}
    assert "password" not in columns
    assert "hashed_password" in columns


@pytest.mark.xdist_group("serial")  # four real processes at once
def test_concurrent_migrations_on_postgres_migrate_once(pg_databases, tmp_path) -> None:  # noqa: ANN001
    """Four processes migrating one fresh database at once: all succeed, schema at head."""
    url = pg_databases.create("admin_race")
    env = {**os.environ, "DATABASE_URL": url}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "admin_app", "migrate"], cwd=tmp_path, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=60)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], outputs
    engine = build_engine(make_settings(url))
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=autogenerate_options("postgresql"))
            assert compare_metadata(context, SQLModel.metadata) == []
    finally:
        engine.dispose()


def _postgres_search_objects(connection) -> dict[str, object]:  # noqa: ANN001
    from sqlalchemy import text

    def rows(sql: str) -> set:
        return {tuple(r) for r in connection.execute(text(sql))}

    return {
        "task_trgm": rows("SELECT indexname FROM pg_indexes WHERE tablename = 'task' AND indexdef LIKE '%gin_trgm_ops%'"),
        "search_indexes": rows("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'task_search'"),
        "columns": rows("SELECT column_name FROM information_schema.columns WHERE table_name = 'task_search'"),
        "triggers": rows("SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'task'::regclass"
                         " AND NOT tgisinternal"),
        "cascade": rows("SELECT confdeltype FROM pg_constraint WHERE conrelid = to_regclass('task_search')"
                        " AND contype = 'f' AND confrelid = 'task'::regclass"),
    }


def test_substring_search_has_trigram_indexes_on_postgres(engine, db_kind: str) -> None:  # noqa: ANN001
    """PostgreSQL: the trigram GIN indexes are on `task_search` (0017), none on task, and the two
    triggers that keep it in step fire on INSERT and on UPDATE OF title, description only."""
    with engine.connect() as connection:
        if db_kind != "postgresql":  # SQLite keeps working without them
            names = {ix["name"] for ix in inspect(engine).get_indexes("task")}
            assert not any(name.endswith("_trgm") for name in names)
            return
        found = _postgres_search_objects(connection)
    assert found["task_trgm"] == set()  # a bulk edit of task writes no text index
    trigram = {name: d for name, d in found["search_indexes"] if "gin_trgm_ops" in d}
    assert set(trigram) == {"ix_task_search_title_trgm", "ix_task_search_description_trgm"}
    assert all("USING gin" in d for d in trigram.values())
    assert found["columns"] == {("id",), ("title",), ("description",)}
    assert found["cascade"] == {("c",)}  # ON DELETE CASCADE
    triggers = dict(found["triggers"])
    assert set(triggers) == {"task_search_insert", "task_search_update"}
    assert "AFTER INSERT ON public.task REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT" in triggers["task_search_insert"]
    assert "AFTER UPDATE OF title, description ON public.task FOR EACH ROW WHEN" in triggers["task_search_update"]


def _statistics_targets(connection) -> dict[tuple[str, str], int]:  # noqa: ANN001
    from sqlalchemy import text

    rows = connection.execute(text(
        "SELECT c.relname, a.attname, coalesce(a.attstattarget, -1) FROM pg_attribute a"
        " JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname IN ('task', 'task_search')"
        " AND a.attname IN ('title', 'description')"
    ))
    return {(table, column): target for table, column, target in rows}


def test_postgres_searched_text_has_finer_statistics(engine, db_kind: str) -> None:  # noqa: ANN001
    """0018: a substring search's row estimate comes from 300 histogram entries, not 100, on
    the searched columns of task and of task_search (the README's Performance section: at 100
    a name in 2 % of the rows was estimated at 164 or 25,787 rows from one ANALYZE to the next)."""
    if db_kind != "postgresql":
        pytest.skip("SQLite has no column statistics targets (its FTS5 table needs no estimates)")
    with engine.connect() as connection:
        targets = _statistics_targets(connection)
    assert targets == {(t, c): 300 for t in ("task", "task_search") for c in ("title", "description")}


def test_postgres_search_table_downgrades_and_upgrades_again(pg_databases) -> None:  # noqa: ANN001
    from alembic import command
    from sqlalchemy import text

    from admin_app.migrate import alembic_config

    engine = build_engine(make_settings(pg_databases.create("admin_search_down")))
    try:
        upgrade_to_head(engine)
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO task (title, description, status, priority, version, created_at,"
                                    " updated_at) VALUES ('Café invoice', 'REF-1', 'pending', 1, 1, now(), now())"))
        config = alembic_config()
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0017")
        with engine.connect() as connection:
            assert set(_statistics_targets(connection).values()) == {-1}  # 0018 undone: the default
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0016")
        with engine.connect() as connection:
            down = _postgres_search_objects(connection)
        assert down["task_trgm"] == {("ix_task_title_trgm",), ("ix_task_description_trgm",)}
        assert down["columns"] == set() and down["triggers"] == set()
        upgrade_to_head(engine)
        with engine.connect() as connection:
            up = _postgres_search_objects(connection)
            copied = connection.execute(text("SELECT title, description FROM task_search")).all()
        assert up["task_trgm"] == set() and len(up["triggers"]) == 2
        assert [tuple(r) for r in copied] == [("Café invoice", "REF-1")]  # filled from the rows
    finally:
        engine.dispose()


def test_alembic_command_line_uses_database_url(db_url: str, project_root) -> None:  # noqa: ANN001
    """The README's `uv run alembic ...` for developers reads DATABASE_URL like the app."""
    env = {**os.environ, "DATABASE_URL": db_url}
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "check"], cwd=project_root, env=env,
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "No new upgrade operations detected" in result.stdout + result.stderr


def test_sqlite_search_tables_match_the_declarations_and_have_their_triggers(engine, db_kind: str) -> None:  # noqa: ANN001
    """Every table declared with search_index has its FTS5 trigram table over exactly its
    searchable columns, and the three triggers that keep it in step (a later migration that
    recreates the table on SQLite drops its triggers: this catches it)."""
    from sqlalchemy import text

    from admin_app.resources import default_resources

    indexed = [r for r in default_resources() if r.search_index]
    assert indexed, "no table declares search_index"
    with engine.connect() as connection:
        objects = {(kind, name): sql for kind, name, sql in connection.execute(
            text("SELECT type, name, sql FROM sqlite_master" if db_kind == "sqlite" else "SELECT '', '', '' WHERE false")
        )}
    for resource in indexed:
        table = resource.model.__tablename__
        if db_kind != "sqlite":
            continue  # PostgreSQL: test_substring_search_has_trigram_indexes_on_postgres
        create = objects[("table", f"{table}_search")]
        assert f"fts5({', '.join(resource.searchable)}," in create and "tokenize='trigram'" in create
        for trigger in ("insert", "delete", "update"):
            assert ("trigger", f"{table}_search_{trigger}") in objects, trigger
        assert f"AFTER UPDATE OF {', '.join(resource.searchable)} ON {table}" in objects[("trigger", f"{table}_search_update")]
