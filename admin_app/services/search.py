"""Substring search that means the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, text
from sqlalchemy.orm import Session


def escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_text(term: str, *columns: Any) -> ColumnElement[bool]:
    """Any of `columns` contains `term`, case-insensitively; `%` and `_` are literal."""
    pattern = f"%{escape_like(term)}%"
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


# PostgreSQL: a GIN index (the trigram ones) takes new entries into a pending list first, up to
# gin_pending_list_limit (4 MB), and every search through the index reads that list whole. A
# bulk edit gives each row it changes new entries (an import each row it adds), so it leaves
# the list nearly full until a vacuum: measured on 1,000,000 tasks, a rare term's count went
# from 13 ms to 55 ms. Merging the list into the index costs a few tens of milliseconds.
# gin_clean_pending_list needs the index's owner (as VACUUM does): a role that is not is
# skipped, and the list waits for vacuum.
_MERGE_PENDING = text(
    "SELECT gin_clean_pending_list(c.oid) FROM pg_index i"
    " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
    " WHERE i.indrelid = CAST(:table AS regclass) AND am.amname = 'gin'"
    " AND pg_has_role(c.relowner, 'USAGE') ORDER BY c.oid"
)


def merge_pending_search_entries(db: Session, table: str) -> None:
    """Move the pending entries of `table`'s GIN indexes into the indexes (PostgreSQL only)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(_MERGE_PENDING, {"table": table})
