"""Substring search that means the same on SQLite and PostgreSQL.

The condition is always `lower(column) LIKE lower('%term%')` for some searchable column. A
table declared with `search_index` has a search table `<table>_search` holding its searchable
text, kept in step by triggers that fire on a new row, a deleted one, and a change of the
searchable text only (a bulk edit of status, priority, assignee or due date never writes it):
on SQLite an FTS5 table with the `trigram` tokenizer (migration 0015), on PostgreSQL a plain
table with a trigram GIN index per column (migration 0017). The search first takes the
candidate ids from it, `id IN (SELECT rowid ... MATCH)` on SQLite, `id IN (SELECT id FROM
task_search WHERE <the same ILIKE on its columns>)` on PostgreSQL, then checks the LIKE on
those rows of the table itself. The FTS5 tokenizer folds case over all of Unicode, SQLite's
lower() over ASCII only, so the index finds every row the LIKE accepts and maybe a few more,
which the LIKE then drops: the results are exactly the scan's. A term shorter than three
characters has no trigram, and is searched by the scan on both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, and_, bindparam, or_, select, sql, text, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.visitors import InternalTraversal

TRIGRAM = 3  # characters: the shortest term the FTS5 trigram tokenizer can find
# A compile keyword for PostgreSQL's row estimates (EXPLAIN, nothing run): a search is
# estimated as the scan's LIKE on the table, as before there was a search table (the
# candidates' ILIKE on task_search has its own, different statistics).
FOR_ESTIMATE = "search_estimate"


def escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class IndexedCandidates(ColumnElement[bool]):
    """The ids `index` holds for `term`: `row_id IN (SELECT rowid FROM <index> WHERE <index>
    MATCH '"term"')` on SQLite, `row_id IN (SELECT id FROM <index> WHERE <column> ILIKE
    '%term%' OR ...)` on PostgreSQL (its trigram GIN indexes serve the ILIKE), TRUE elsewhere."""

    type = Boolean()
    inherit_cache = True
    # A boolean expression in its own right: without this SQLite (no native booleans) gets
    # `... IN (...) = 1`, which its planner cannot use to look rows up by id.
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("row_id", InternalTraversal.dp_clauseelement),
        ("phrase", InternalTraversal.dp_clauseelement),
        ("pattern", InternalTraversal.dp_clauseelement),
        ("index", InternalTraversal.dp_string),
        ("columns", InternalTraversal.dp_string_list),
    ]

    def __init__(self, row_id: Any, index: str, term: str, columns: tuple[str, ...] = ()) -> None:
        self.row_id = row_id
        self.index = index
        self.columns = tuple(columns)
        # Made here, not when compiling: a cached statement takes its values from these.
        self.pattern = bindparam(None, f"%{escape_like(term)}%", unique=True)
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


@compiles(IndexedCandidates, "postgresql")
def _postgresql(element: IndexedCandidates, compiler: Any, **kw: Any) -> str:
    index = sql.table(element.index, sql.column("id"), *(sql.column(name) for name in element.columns))
    found = or_(*(index.c[name].ilike(element.pattern, escape="\\") for name in element.columns))
    return compiler.process(element.row_id.in_(select(index.c.id).where(found)), **kw)


class IndexedSearch(ColumnElement[bool]):
    """The candidates of the search table and the row's own LIKE: both on SQLite (the FTS5
    table finds a few rows too many), the candidates alone on PostgreSQL (the search table
    holds exact copies and the very same ILIKE: the row's would decide nothing, and the
    planner, taking the two for independent, would multiply their selectivities and pick a
    scan of task for a name matching 20,000 rows: 1.7 s instead of a join by id), and the
    LIKE alone for PostgreSQL's row estimates (FOR_ESTIMATE)."""

    type = Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("candidates", InternalTraversal.dp_clauseelement),
        ("matches", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, candidates: IndexedCandidates, matches: ColumnElement[bool]) -> None:
        self.candidates = candidates
        self.matches = matches


@compiles(IndexedSearch)
def _both(element: IndexedSearch, compiler: Any, **kw: Any) -> str:
    return compiler.process(and_(element.candidates, element.matches), **kw)


@compiles(IndexedSearch, "postgresql")
def _postgresql_search(element: IndexedSearch, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.matches if kw.get(FOR_ESTIMATE) else element.candidates, **kw)


def reads_search_table(conditions: list[ColumnElement[bool]]) -> bool:
    """Whether one of `conditions` takes its candidates from a search table (contains_text with
    an index and a term long enough for trigrams)."""
    return any(isinstance(condition, IndexedSearch) for condition in conditions)


def indexed_candidates(db: Session, conditions: list[ColumnElement[bool]]) -> int | None:
    """SQLite, a list whose one condition is a search through an FTS5 table: how many rows the
    table holds for the term, counted in the index alone (4.7 ms for 22,734 of 500,000 tasks,
    where counting the rows the LIKE then accepts reads every one of them: 40 ms). That is
    every row the search finds and the few more the wider case folding finds (above). None
    for anything else."""
    if db.get_bind().dialect.name != "sqlite" or len(conditions) != 1 or not isinstance(conditions[0], IndexedSearch):
        return None
    found = conditions[0].candidates
    index = db.get_bind().dialect.identifier_preparer.quote(found.index)
    return db.execute(text(f"SELECT count(*) FROM {index} WHERE {index} MATCH :phrase"),  # noqa: S608 - a quoted identifier
                      {"phrase": found.phrase.value}).scalar_one()


def contains_text(term: str, *columns: Any, index: str | None = None, row_id: Any = None) -> ColumnElement[bool]:
    """Any of `columns` contains `term`, case-insensitively; `%` and `_` are literal. With
    `index` (the search table over those columns) and `row_id`, the candidates come from it
    first."""
    pattern = f"%{escape_like(term)}%"
    matches = or_(*(column.ilike(pattern, escape="\\") for column in columns))
    if index is None or row_id is None or len(term) < TRIGRAM:
        return matches
    names = tuple(column.key for column in columns)
    return IndexedSearch(IndexedCandidates(row_id, index, term, names), matches)


# PostgreSQL: a GIN index (the trigram ones of <table>_search) takes new entries into a pending
# list first, up to gin_pending_list_limit (4 MB), and every search through the index reads that
# list whole. An import gives each row it adds new entries (a bulk edit or revert that changes
# text each row it changes), so it would leave the list nearly full until a vacuum: measured on
# 1,000,000 tasks, a rare term's count went from 13 ms to 55 ms. A write that changes no text
# leaves the list as it was, and the merge finds nothing to do. Merging the list into the index costs a few tens of milliseconds.
# gin_clean_pending_list needs the index's owner (as VACUUM does): a role that is not is
# skipped, and the list waits for vacuum.
_MERGE_PENDING = text(
    "SELECT gin_clean_pending_list(c.oid) FROM pg_index i"
    " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
    " WHERE i.indrelid = to_regclass(:search) AND am.amname = 'gin'"
    " AND pg_has_role(c.relowner, 'USAGE') ORDER BY c.oid"
)


def merge_pending_search_entries(db: Session, table: str) -> None:
    """Move the pending entries of the GIN indexes of `table`'s search table (if it has one)
    into the indexes (PostgreSQL only)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(_MERGE_PENDING, {"search": f"{table}_search"})
