"""Substring search that means the same on SQLite and PostgreSQL.

The condition is always `lower(column) LIKE lower('%term%')` for some searchable column. What
makes it fast differs: PostgreSQL answers it from the trigram GIN indexes (migration 0004).
SQLite has no such index; a table declared with `search_index` has an FTS5 table with the
`trigram` tokenizer (migration 0015), kept in step by triggers, and the search first takes
the rows whose searchable text holds the term's trigrams from it (`id IN (SELECT rowid ...
MATCH)`), then checks the same LIKE on those rows only. The FTS5 tokenizer folds case over
all of Unicode, SQLite's lower() over ASCII only, so the index finds every row the LIKE
accepts and maybe a few more, which the LIKE then drops: the results are exactly the scan's.
A term shorter than three characters has no trigram, and is searched by the scan.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, and_, bindparam, or_, text, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.visitors import InternalTraversal

TRIGRAM = 3  # characters: the shortest term the FTS5 trigram tokenizer can find


def escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class IndexedCandidates(ColumnElement[bool]):
    """`row_id IN (SELECT rowid FROM <index> WHERE <index> MATCH '"term"')` on SQLite; TRUE
    elsewhere (PostgreSQL's trigram indexes serve the LIKE itself)."""

    type = Boolean()
    inherit_cache = True
    # A boolean expression in its own right: without this SQLite (no native booleans) gets
    # `... IN (...) = 1`, which its planner cannot use to look rows up by id.
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("row_id", InternalTraversal.dp_clauseelement),
        ("phrase", InternalTraversal.dp_clauseelement),
        ("index", InternalTraversal.dp_string),
    ]

    def __init__(self, row_id: Any, index: str, term: str) -> None:
        self.row_id = row_id
        self.index = index
        # One FTS5 phrase: every character literal, a double quote doubled.
        self.phrase = bindparam(None, '"' + term.replace('"', '""') + '"', unique=True)


@compiles(IndexedCandidates)
def _anywhere(element: IndexedCandidates, compiler: Any, **kw: Any) -> str:
    return compiler.process(true(), **kw)


@compiles(IndexedCandidates, "sqlite")
def _sqlite(element: IndexedCandidates, compiler: Any, **kw: Any) -> str:
    index = compiler.preparer.quote(element.index)
    return (f"{compiler.process(element.row_id, **kw)} IN (SELECT rowid FROM {index} "
            f"WHERE {index} MATCH {compiler.process(element.phrase, **kw)})")


def contains_text(term: str, *columns: Any, index: str | None = None, row_id: Any = None) -> ColumnElement[bool]:
    """Any of `columns` contains `term`, case-insensitively; `%` and `_` are literal. With
    `index` (an FTS5 trigram table over those columns) and `row_id`, SQLite takes the
    candidates from it first."""
    pattern = f"%{escape_like(term)}%"
    matches = or_(*(column.ilike(pattern, escape="\\") for column in columns))
    if index is None or row_id is None or len(term) < TRIGRAM:
        return matches
    return and_(IndexedCandidates(row_id, index, term), matches)


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
