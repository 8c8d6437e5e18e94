"""finer statistics for the searched text (PostgreSQL only)

A substring search ('%Vandermeer%') is estimated from the column's statistics: how many of
the histogram's and the most-common list's entries match. At the default target (100 entries,
a sample of 30,000 rows) a name in 2 % of 1,000,000 tasks matched 0 to 3 of them from one
ANALYZE to the next, so the estimate swung between 164 and 25,787 rows, and the plans with it:
the list page's query went from 1.5 ms (walking the ids backward) to 169 ms (all 21,000
candidates sorted), its count from estimated to counted by a scan. At 1,000 entries (a sample
of 300,000 rows) three ANALYZEs in a row gave 19,000-23,000 for it (21,349 match), 44,000-
46,500 for 'invoice' (45,366). ANALYZE reads ten times the rows: 2.8 s for task and task_search
at 1,000,000 tasks, against 0.8 s.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED = {"task": ("title", "description")}  # the declarations with search_index=True
TARGET = 1000  # entries in a column's histogram and most-common list (PostgreSQL's default: 100)


def _set(target: int) -> None:
    for table, columns in INDEXED.items():
        for name in (table, f"{table}_search"):
            op.execute(f"ALTER TABLE {name} " + ", ".join(f"ALTER COLUMN {c} SET STATISTICS {target}" for c in columns))
        op.execute(f"ANALYZE {table}, {table}_search")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # SQLite's FTS5 table needs no estimates
        _set(TARGET)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _set(-1)  # the default again
