"""Facet counts: how many rows each choice of a filter would leave (Django 5.0's `show_facets`).

The count for a choice of filter F is taken with the current search and every other current
filter applied, F's own selection left out, so each number is what clicking that choice would
show. One GROUP BY query per choice filter (the declaration's Choice and Boolean filters).

A million rows must not make the page slow. On PostgreSQL a facet is not counted when the
list's own count would not be (services/listing.py: the planner expects `exact_count_below`
rows or more, or `estimate_only_from` for a search, whose matches are scattered): at a
million rows grouping the whole table takes 140-200 ms. The facets that are counted share a
time budget (FACET_TIME_BUDGET_MS): each query runs with a statement timeout of what is left,
inside a savepoint, as the list's transaction-local timeouts do. A facet not counted, or
stopped by the budget, shows the planner's estimate for each choice ("about 210,000"), but
a search stopped so shows none (the planner had expected it cheap: its guess was wrong). On
SQLite the budget interrupts the query (a progress handler) and that facet shows no counts:
SQLite has no estimates. A facet never fails the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from admin_app.resources.spec import Boolean, Choice, Resource
from admin_app.services.budget import Budget, bounded
from admin_app.services.filtering import SEARCH, FilterBase, filters_of
from admin_app.services.listing import ApproximateCount, listing_of, planner_rows, table_rows
from models.common import jsonable

Counts = dict[str, int]  # a choice's value as the URL writes it -> rows; an estimate is an ApproximateCount


def choice_key(value: Any) -> str:
    """A stored choice as the admin URL writes it: `in_progress`, `4`, `true`."""
    value = jsonable(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def faceted(resource: Resource) -> list[str]:
    """The filters that get counts: each Choice and Boolean, in declared order."""
    return [f.field for f in resource.filters if isinstance(f, Choice | Boolean)]


def rounded(estimate: int) -> ApproximateCount:
    """An estimate to two significant digits ("about 210,000"): its last digits mean nothing."""
    if estimate < 100:
        return ApproximateCount(max(estimate, 0))
    scale = 10 ** (len(str(estimate)) - 2)
    return ApproximateCount(round(estimate / scale) * scale)


def within(db: Session, statement: Select, budget: Budget) -> list[Any] | None:
    """The statement's rows if it finishes within the budget; None if it was stopped
    (services/budget.py)."""
    return bounded(db, budget, lambda: list(db.execute(statement).all()))


def _equals(column: Any, value: Any) -> ColumnElement[bool]:
    return column.is_(value) if isinstance(value, bool) else column == jsonable(value)


class Facets:
    """A resource's facet counts, in a time budget."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        self.filters = filters_of(resource)
        self.listing = listing_of(resource)

    def counts(
        self, db: Session, spec: FilterBase, *, budget_ms: int, names: Iterable[str] | None = None,
    ) -> dict[str, Counts | None]:
        """Each faceted filter's counts for the rows `spec` selects, its own selection left out.

        Every declared choice has a count (0 included); a filter whose counts could not be had
        in the budget maps to None (no numbers shown)."""
        budget = Budget(budget_ms)
        postgres = db.get_bind().dialect.name == "postgresql"
        rows = table_rows(db, self.resource.model.__tablename__) if postgres else 0
        out: dict[str, Counts | None] = {}
        for name in names if names is not None else faceted(self.resource):
            without = spec.model_copy(update={name: None})
            others = self.filters.conditions(without)
            exact = not postgres or rows < self.listing.exact_count_below or self._cheap(db, without, others, rows)
            # A search the planner thought cheap and that outran the budget proves its estimate
            # wrong (trigram selectivity: 164 expected, 21,349 found at 1M rows): no numbers then.
            trusted = postgres and not (exact and getattr(without, SEARCH, None))
            out[name] = self._one(db, name, others, budget, exact=exact, estimate=trusted)
        return out

    def _cheap(self, db: Session, spec: FilterBase, conditions: list[Any], rows: int) -> bool:
        """Whether counting is worth trying, by the list's own rule (services/listing.py): the
        planner expects fewer rows than `exact_count_below`, or than `estimate_only_from` for a
        search (whose matches are scattered: grouping 45,000 of them took 200 ms at 1M rows)."""
        expected = planner_rows(db, select(self.resource.model.id).where(*conditions)) if conditions else rows
        searched = bool(getattr(spec, SEARCH, None))
        return expected < (self.listing.estimate_only_from if searched else self.listing.exact_count_below)

    def _one(self, db: Session, name: str, conditions: list[Any], budget: Budget, *,
             exact: bool, estimate: bool) -> Counts | None:
        column = self.resource.column(name)
        choices = self._choices(name)
        if exact:
            rows = within(db, select(column, func.count()).where(*conditions).group_by(column), budget)
            if rows is not None:
                found = {choice_key(value): n for value, n in rows if value is not None}
                return {choice_key(value): found.get(choice_key(value), 0) for value in choices}
        if not estimate:
            return None
        model_id = self.resource.model.id
        return {choice_key(value): rounded(planner_rows(db, select(model_id).where(*conditions, _equals(column, value))))
                for value in choices}

    def _choices(self, name: str) -> list[Any]:
        declared: Mapping[Any, str] | None = getattr(self.resource.field(name), "choices", None)
        return list(declared) if declared else [True, False]


@cache
def facets_of(resource: Resource) -> Facets:
    return Facets(resource)
