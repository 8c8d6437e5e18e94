"""finer statistics for the searched text (PostgreSQL only)

A substring search ('%Vandermeer%') is estimated from the column's statistics: how many of
the histogram's and the most-common list's entries match. At the default target (100 entries,
a sample of 30,000 rows) a name in 2 % of 1,000,000 tasks matched 0 to 3 of them from one
ANALYZE to the next, so the estimate swung between 164 and 25,787 rows, and the plans with it:
the list page's query went from 1.5 ms (walking the ids backward) to 169 ms (all 21,000
candidates sorted), its count from estimated to counted. At 300 entries four ANALYZEs in a row
gave 14,500-30,000 for it (21,349 match) and 41,000-48,000 for 'invoice' (45,366); planning a
search costs about 0.5 ms more (1,000 entries: estimates within 10 %, but 1.3 ms more for each
of the page's two or three plans, which made the search pages 1.2 times slower).

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
TARGET = 300  # entries in a column's histogram and most-common list (PostgreSQL's default: 100)


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
