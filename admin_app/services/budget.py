"""Queries in a time budget: what a page can show if the database answers quickly, and
nothing (never an error, never a slow page) if it does not.

The facet counts of a list (services/facets.py) and the row counts of the saved views in the
menu (services/saved_views.py) both run here. PostgreSQL: the work runs in a savepoint with a
statement timeout of what is left of the budget, so a cancelled statement leaves the page's
transaction usable and its own timeout as it was. SQLite: a progress handler interrupts the
statement when the budget is spent (an interrupted SELECT ends that statement only).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from admin_app.db import statement_timeout
from admin_app.failures import QUERY_CANCELED

T = TypeVar("T")

# SQLite's progress handler runs every this many virtual machine instructions.
SQLITE_CHECK_EVERY = 10_000


class Budget:
    """Milliseconds left for some work of a page, shared by its queries."""

    def __init__(self, milliseconds: int) -> None:
        self.deadline = time.monotonic() + milliseconds / 1000

    def left_ms(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)

    def at_most(self, milliseconds: int) -> Budget:
        """A part of this budget: what is left of it, but no more than `milliseconds`."""
        return Budget(max(min(self.left_ms(), milliseconds), 0))


def cancelled(exc: OperationalError) -> bool:
    """A statement stopped by a budget: PostgreSQL's timeout, SQLite's interrupt."""
    return getattr(exc.orig, "pgcode", None) == QUERY_CANCELED or "interrupted" in str(exc.orig)


@contextmanager
def _sqlite_deadline(db: Session, budget: Budget) -> Iterator[None]:
    raw = db.connection().connection.driver_connection
    raw.set_progress_handler(lambda: int(budget.left_ms() <= 0), SQLITE_CHECK_EVERY)
    try:
        yield
    finally:
        raw.set_progress_handler(None, SQLITE_CHECK_EVERY)


def bounded(db: Session, budget: Budget, work: Callable[[], T]) -> T | None:
    """`work()` (queries on `db`) if it finishes within the budget; None if it was stopped or
    the budget was already spent. Other database errors are raised."""
    left = budget.left_ms()
    if left <= 0:
        return None
    try:
        if db.get_bind().dialect.name == "postgresql":
            with db.begin_nested(), statement_timeout(db, left):
                return work()
        with _sqlite_deadline(db, budget):
            return work()
    except OperationalError as exc:
        if not cancelled(exc):
            raise
        return None
