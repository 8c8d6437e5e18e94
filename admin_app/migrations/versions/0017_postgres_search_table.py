"""substring search on PostgreSQL: the searchable text in a table of its own (PostgreSQL only)

Until now the trigram GIN indexes of 0004 sat on `task` itself, so a bulk edit of status,
priority, assignee, project or due date gave both of them new entries for every row it changed
although no text changed (an UPDATE writes a new row version, and each index of a table that
is not HOT-updated gets an entry for it). Now `task_search` (task id, copies of title and
description) carries the GIN indexes, as SQLite's FTS5 `task_search` (0015) carries its
trigrams: an INSERT into task copies the new rows (one statement-level trigger, so an import
or a seed of 100,000 rows is one INSERT ... SELECT), an UPDATE OF title, description that
changes them copies the new text (a row trigger: transition tables cannot go with a column
list), a delete cascades. Nothing else writes it. The trigger functions are SECURITY DEFINER:
a role that may write `task` needs no grant on `task_search`. admin_app/services/search.py
searches it (`task.id IN (SELECT id FROM task_search WHERE ...)`).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED = {"task": ("title", "description")}  # the declarations with search_index=True


def statements(table: str, columns: tuple[str, ...]) -> list[str]:
    index = f"{table}_search"
    names = ", ".join(columns)
    changed = " OR ".join(f"old.{c} IS DISTINCT FROM new.{c}" for c in columns)
    assign = ", ".join(f"{c} = new.{c}" for c in columns)
    definer = "LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT"
    return [
        f"CREATE TABLE {index} (id integer PRIMARY KEY, {', '.join(f'{c} text' for c in columns)})",
        f"INSERT INTO {index} (id, {names}) SELECT id, {names} FROM {table}",
        f"ALTER TABLE {index} ADD CONSTRAINT fk_{index}_id FOREIGN KEY (id) REFERENCES {table} (id) ON DELETE CASCADE",
        *(f"CREATE INDEX ix_{index}_{c}_trgm ON {index} USING gin ({c} gin_trgm_ops)" for c in columns),
        f"CREATE FUNCTION {index}_insert() RETURNS trigger {definer} AS $$ BEGIN "
        f"INSERT INTO {index} (id, {names}) SELECT id, {names} FROM new_rows; RETURN NULL; END $$",
        f"CREATE TRIGGER {index}_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {index}_insert()",
        f"CREATE FUNCTION {index}_update() RETURNS trigger {definer} AS $$ BEGIN "
        f"UPDATE {index} SET {assign} WHERE id = new.id; RETURN NULL; END $$",
        f"CREATE TRIGGER {index}_update AFTER UPDATE OF {names} ON {table} FOR EACH ROW "
        f"WHEN ({changed}) EXECUTE FUNCTION {index}_update()",
        *(f"DROP INDEX IF EXISTS ix_{table}_{c}_trgm" for c in columns),
        f"ANALYZE {index}",
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: the FTS5 table of 0015
    for table, columns in INDEXED.items():
        for statement in statements(table, columns):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in INDEXED.items():
        index = f"{table}_search"
        for column in columns:
            op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_{column}_trgm ON {table} USING gin ({column} gin_trgm_ops)")
        for trigger in ("insert", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {index}_{trigger} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {index}_{trigger}()")
        op.execute(f"DROP TABLE IF EXISTS {index}")
