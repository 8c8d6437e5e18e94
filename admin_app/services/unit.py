"""One unit of work: a session bound to its actor, committed whole or rolled back whole."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from admin_app import change_sets
from admin_app.audit import bind_actor
from admin_app.services.actor import Actor
from models.common import utcnow


@dataclass
class WriteContext:
    """What a write needs besides its data: the session, who, and what of the request."""

    db: Session
    actor: Actor
    passwords: Any = None  # auth.passwords.Passwords, for tables that hash (users)
    session_id: str | None = None  # the session making the change: kept when others end
    now: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        bind_actor(self.db, self.actor)  # the flush hook's entries name the same actor, one change set

    def describe(self, title: str, *, reverts: int | None = None) -> None:
        """What this unit of work does, for its change set's summary ("Mark as done")."""
        change_sets.describe(self.db, title, reverts=reverts)

    @property
    def change_set_id(self) -> int | None:
        """The change set this unit of work has written so far (None before its first change)."""
        return self.db.info.get("change_set")


@contextmanager
def unit_of_work(factory: sessionmaker[Session], actor: Actor, **extra: Any) -> Iterator[WriteContext]:
    """A new session for `actor`: committed when the block ends, rolled back if it raises."""
    with factory() as db:
        ctx = WriteContext(db, actor, **extra)
        try:
            yield ctx
            db.commit()
        except BaseException:
            db.rollback()
            raise
