"""Lost-update protection: a write names the version it started from, or it is refused."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from admin_app.errors import Conflict
from admin_app.i18n import N_


class StaleVersion(Conflict):
    """Someone else saved the row after the editor loaded it."""

    def __init__(self, entity: str, current: int | None) -> None:
        super().__init__(
            N_("This %(entity)s was changed by someone else since you opened it "
               "(now at version %(current)s). Reload it and apply your change again.")
            if current is not None
            else N_("This %(entity)s was changed or deleted by someone else. Reload it."),
            entity=entity, current=current,
        )
        self.current = current


def _entity(obj: Any) -> str:
    return type(obj).__name__.lower()


def check_version(obj: Any, expected: int | None) -> None:
    if expected is not None and obj.version != expected:
        raise StaleVersion(_entity(obj), obj.version)


def flush_checking_version(db: Session, obj: Any) -> None:
    """Flush; a concurrent save between our read and this write (version_id_col) is a 409."""
    try:
        db.flush()
    except StaleDataError as exc:
        raise StaleVersion(_entity(obj), None) from exc
