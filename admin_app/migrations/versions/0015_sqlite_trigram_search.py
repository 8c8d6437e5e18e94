"""substring search on SQLite: an FTS5 trigram table per searchable table (SQLite only)

`task_search` indexes the trigrams of task.title and task.description (external content: the
text stays in `task`, the index holds only trigrams) and triggers keep it in step: a new
task, a deleted one, and a change of title or description. Nothing else: a bulk edit of
status, priority, assignee or due date never writes into it. admin_app/services/search.py
reads it. A later migration that recreates `task` (batch_alter_table on SQLite copies the
table and drops the old one, and its triggers with it) must create the triggers again:
tests/test_migrations.py checks they exist at head.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED = {"task": ("title", "description")}  # the declarations with search_index=True


def statements(table: str, columns: tuple[str, ...]) -> list[str]:
    index = f"{table}_search"
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    delete_old = f"INSERT INTO {index}({index}, rowid, {names}) VALUES ('delete', old.id, {old});"
    insert_new = f"INSERT INTO {index}(rowid, {names}) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE {index} USING fts5({names}, content='{table}', content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER {index}_insert AFTER INSERT ON {table} BEGIN {insert_new} END",
        f"CREATE TRIGGER {index}_delete AFTER DELETE ON {table} BEGIN {delete_old} END",
        f"CREATE TRIGGER {index}_update AFTER UPDATE OF {names} ON {table} BEGIN {delete_old} {insert_new} END",
        f"INSERT INTO {index}({index}) VALUES ('rebuild')",
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL: the trigram GIN indexes of 0004
    for table, columns in INDEXED.items():
        for statement in statements(table, columns):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in INDEXED:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_search_{trigger}")
        op.execute(f"DROP TABLE IF EXISTS {table}_search")
