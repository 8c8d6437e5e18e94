"""Reading a table: one query per page with its relations joined, one sort table, counts.

The sort table serves the admin's offset pages, the API's keyset pages and exports alike:
each sort orders by its column with the id as tie-breaker and NULLs last ascending (first
descending), so a (column, id) index serves every page in both directions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from functools import cache, lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from sqlalchemy import Select, bindparam, func, select, text
from sqlalchemy.orm import Session, aliased, contains_eager

from admin_app.db import local_setting
from admin_app.errors import InvalidInput
from admin_app.i18n import N_
from admin_app.resources.spec import Relation, Resource
from admin_app.services.filtering import FilterBase, column_type, filters_of
from admin_app.services.pagination import Ordering, Page, SortKey, order_by, paginate, parse_sort
from admin_app.services.search import FOR_ESTIMATE, indexed_candidates, reads_search_table
from models.common import MAX_DB_ID, reject_control_characters

SortText = Annotated[str, AfterValidator(reject_control_characters)]
SortInt = Annotated[int, Field(ge=-MAX_DB_ID, le=MAX_DB_ID)]


def _cursor_type(column: Any) -> Any:
    """What a cursor's value for this column must be: bounds and text rules keep junk out of SQL."""
    return column_type(column, integer=SortInt, text=SortText)


class ApproximateCount(int):
    """A planner estimate: the list's footer reads "of about 1,000,000 items"."""

    def __str__(self) -> str:
        return f"about {int(self):,}"


class Listing:
    """A resource's reads, compiled once: joined relations, sort keys, counts."""

    # Below this many rows (by the planner's estimate) an exact count is cheap enough.
    exact_count_below = 100_000
    # Filtered lists are counted exactly up to this many rows, estimated beyond.
    exact_count_limit = 1_000
    # ...but a search the planner expects to match this many rows is estimated at once: its
    # matches are scattered, and finding 1,001 of a 2% match reads some 50,000 rows.
    estimate_only_from = 10_000

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        self.model = resource.model
        self.filters = filters_of(resource)
        self.aliases = {r.name: aliased(r.target, name=f"{r.name}_row") for r in resource.relations}
        self.sorts: dict[str, SortKey] = {name: self._sort_key(name) for name in resource.sortable}

    def _sort_key(self, name: str) -> SortKey:
        found = self.resource.field(name)
        if isinstance(found, Relation):
            column = getattr(self.aliases[name], found.shown)

            def value(row: Any, name: str = name, shown: str = found.shown) -> Any:
                related = getattr(row, name)
                return getattr(related, shown) if related is not None else None

            return SortKey(column, _cursor_type(column), nullable=True, value=value, join=name)
        column = getattr(self.model, name)
        return SortKey(column, _cursor_type(column), nullable=bool(column.nullable))

    # --- statements ------------------------------------------------------------------------
    def statement(self, conditions: Iterable[Any] = (), relations: Iterable[str] = ()) -> Select:
        """The rows matching `conditions`, with `relations` loaded in the same query."""
        query = select(self.model)
        for name in dict.fromkeys(relations):
            path = getattr(self.model, name).of_type(self.aliases[name])
            # The related row whole: `load_only` would give every loaded instance a loader of
            # its own per column left out, which cost more than reading those few columns
            # (a 50-row API page: ~0.7 ms of 8 ms of server CPU; bench/ab.py).
            query = query.outerjoin(path).options(contains_eager(path))
        return query.where(*conditions)

    def by_id(self, relations: Iterable[str] = ()) -> Select:
        """`statement` for one row, its id bound at execution as `row_id`: built once per set of
        relations (building it per request was a few % of a served `GET /api/tasks/{id}`)."""
        return self._by_id(tuple(dict.fromkeys(relations)))

    @lru_cache(maxsize=64)  # noqa: B019 - a Listing lives as long as its resource
    def _by_id(self, relations: tuple[str, ...]) -> Select:
        query = self.statement([self.model.id == bindparam("row_id")], relations)
        return query.execution_options(populate_existing=True)

    def ordered(
        self, spec: FilterBase, ordering: Ordering, relations: Iterable[str] = ()
    ) -> Select:
        """`statement` for a filter, sorted (joining what the sort needs)."""
        joins = [*relations, *([ordering.key.join] if ordering.key.join else [])]
        query = self.statement(self.filters.conditions(spec), joins)
        return query.order_by(*order_by(ordering, self.model.id))

    def offset_page(
        self, spec: FilterBase, ordering: Ordering, relations: Iterable[str], *, limit: int, offset: int,
    ) -> Select:
        """One offset page (the admin's), `relations` loaded. Past the first page, the page's ids
        are found first (joining only what the sort needs), then those rows loaded: joining
        first would join every row the offset skips (page 1,000 of a status filter at 1M rows:
        62 ms joined first, 14 ms this way, PostgreSQL 15)."""
        if not offset:
            return self.ordered(spec, ordering, relations).limit(limit)
        ids = select(self.model.id)
        if ordering.key.join:
            ids = ids.outerjoin(getattr(self.model, ordering.key.join).of_type(self.aliases[ordering.key.join]))
        ids = ids.where(*self.filters.conditions(spec)).order_by(*order_by(ordering, self.model.id))
        joins = [*relations, *([ordering.key.join] if ordering.key.join else [])]
        query = self.statement([self.model.id.in_(ids.limit(limit).offset(offset).correlate(None))], joins)
        return query.order_by(*order_by(ordering, self.model.id))

    def offset_rows(
        self, db: Session, spec: FilterBase, ordering: Ordering, relations: Iterable[str], *, page: int, size: int,
    ) -> tuple[int, list[Any], int]:
        """An offset page's rows, how many rows the list has, and the page (past the last one:
        the last). A first page that is not full is its own exact count, with no count
        statement: a search for one reference is one query, not an EXPLAIN, a bounded count
        and two settings. Other pages are counted first (`bounded_count`), so that a page far
        past the end never makes the database skip a million rows to find none."""
        if page <= 1:
            rows = self._rows(db, spec, ordering, relations, size, 1)
            if len(rows) < size:
                return len(rows), rows, 1
            return self.bounded_count(db, spec), rows, 1
        count = self.bounded_count(db, spec)
        page = min(page, max(1, (int(count) + size - 1) // size))  # the last page with a row
        return count, self._rows(db, spec, ordering, relations, size, page), page

    def _rows(self, db: Session, spec: FilterBase, ordering: Ordering, relations: Iterable[str], size: int,
              page: int) -> list[Any]:
        statement = self.offset_page(spec, ordering, relations, limit=size, offset=(page - 1) * size)
        return list(db.execute(statement).scalars().unique())

    def ordering(self, sort: str) -> Ordering:
        return parse_sort(sort, self.sorts)

    def admin_ordering(self, params: Mapping[str, str]) -> Ordering:
        """The admin list's sortBy/sort parameters; its default sort without them."""
        sort_by, direction = params.get("sortBy"), params.get("sort")
        if not sort_by:
            return self.ordering(self.resource.default_sort)
        if sort_by not in self.sorts or (direction or "asc") not in ("asc", "desc"):
            raise InvalidInput(N_("Invalid sort parameter"))
        return self.ordering(f"-{sort_by}" if direction == "desc" else sort_by)

    # --- reads -----------------------------------------------------------------------------
    def page(
        self, db: Session, spec: FilterBase, *, sort: str, limit: int, cursor: str | None,
        relations: Iterable[str] = (),
    ) -> Page:
        """A keyset page (the API's): follow `next_cursor` until it is None."""
        ordering = self.ordering(sort)
        joins = [*relations, *([ordering.key.join] if ordering.key.join else [])]
        query = self.statement(self.filters.conditions(spec), joins)
        return paginate(db, query, ordering=ordering, id_column=self.model.id, limit=limit, cursor=cursor)

    def count(self, db: Session, spec: FilterBase) -> int:
        """The exact number of matching rows."""
        query = select(func.count()).select_from(self.model).where(*self.filters.conditions(spec))
        return db.execute(query).scalar_one()

    def bounded_count(self, db: Session, spec: FilterBase) -> int:
        """How many rows a list has, without counting a million on every page (PostgreSQL).

        Unfiltered: the planner's row estimate for a big table. Filtered: an exact count up to
        `exact_count_limit` rows (an index range, cheap); past that, the planner's estimate for
        the filtered query. A search the planner expects to match `estimate_only_from` rows or
        more gets its estimate without counting. Either estimate shows as "about N". SQLite
        counts exactly, but for a search alone whose FTS5 table holds `estimate_only_from`
        candidates or more: their number, from the index alone (`indexed_candidates`).
        """
        if db.get_bind().dialect.name != "postgresql":
            candidates = indexed_candidates(db, self.filters.conditions(spec)) if getattr(spec, "q", None) else None
            if candidates is not None and candidates >= self.estimate_only_from:
                return ApproximateCount(candidates)
            return self.count(db, spec)
        if spec.is_empty():
            estimate = table_rows(db, self.model.__tablename__)
            if estimate >= self.exact_count_below:
                return ApproximateCount(estimate)
            return self.count(db, spec)
        conditions = self.filters.conditions(spec)
        matching = select(self.model.id).where(*conditions)
        if getattr(spec, "q", None):  # how many rows a bounded count reads depends on density
            estimate = planner_rows(db, matching)
            if estimate >= self.estimate_only_from:
                return ApproximateCount(estimate)
        # PostgreSQL, a search through the search table: no sequential scan of it for the count.
        # Under `LIMIT 1001` the planner takes one to find the first rows soon, counting each
        # row's ILIKE as cheap as a comparison of integers; for a name in 2 % of 1,000,000 tasks
        # it reads 48,000 rows to find 1,001 (55 ms), where the trigram indexes take 14 ms.
        index_first = reads_search_table(conditions)
        with local_setting(db, "enable_seqscan", "off") if index_first else nullcontext():
            bounded = db.execute(
                select(func.count()).select_from(matching.limit(self.exact_count_limit + 1).subquery())
            ).scalar_one()
        if bounded <= self.exact_count_limit:
            return bounded
        return ApproximateCount(max(planner_rows(db, matching), self.exact_count_limit + 1))


def table_rows(db: Session, table: str) -> int:
    """PostgreSQL's row count estimate of a whole table (never analysed: -1, read as 0)."""
    estimate = db.execute(
        text("SELECT reltuples::bigint FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": table}
    ).scalar()
    return max(int(estimate or 0), 0)


def planner_rows(db: Session, statement: Select) -> int:
    """PostgreSQL's estimate of how many rows `statement` returns (EXPLAIN, nothing run)."""
    compiled = statement.compile(
        dialect=db.get_bind().dialect, compile_kwargs={"render_postcompile": True, FOR_ESTIMATE: True}
    )
    plan = db.connection().exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params
    ).scalar_one()
    return int(plan[0]["Plan"]["Plan Rows"])


@cache
def listing_of(resource: Resource) -> Listing:
    return Listing(resource)

