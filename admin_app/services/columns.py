"""Which columns a user's list shows, in which order: their choice, remembered per list.

The choice is among the declaration's list columns and its other declared fields; a secret
field (a password) is never one. A remembered column the declaration no longer has is left
out when read, so a changed declaration never breaks a list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.errors import InvalidInput
from admin_app.i18n import N_, lazy_noun
from admin_app.resources.spec import Resource
from models.common import utcnow
from models.list_preference import ListPreference


def choosable(resource: Resource) -> list[str]:
    """The columns a list may show: its declared list columns first, then every other field."""
    others = [f.name for f in resource.fields if not getattr(f, "secret", False) and f.name not in resource.list_columns]
    return [*resource.list_columns, *others]


def checked(resource: Resource, names: Sequence[str]) -> list[str]:
    """The chosen columns, validated: known, not repeated, at least one."""
    allowed = set(choosable(resource))
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise InvalidInput(N_("%(list)s have no column %(name)r to show."),
                           list=lazy_noun(resource.plural, leading=True), name=unknown[0][:64])
    if len(set(names)) != len(names):
        raise InvalidInput(N_("A column is chosen twice."))
    if not names:
        raise InvalidInput(N_("Choose at least one column to show."))
    return list(names)


def _mine(user_id: int, resource: Resource) -> tuple[Any, Any]:
    return ListPreference.user_id == user_id, ListPreference.list_name == resource.name


def _row(db: Session, user_id: int, resource: Resource) -> ListPreference | None:
    return db.execute(select(ListPreference).where(*_mine(user_id, resource))).scalar_one_or_none()


def shown(db: Session, user_id: int | None, resource: Resource) -> list[str]:
    """The columns this user's list shows: their choice, else the declaration's."""
    # The text alone: every list page reads it, no ORM object needed.
    chosen = None if user_id is None else db.execute(
        select(ListPreference.columns).where(*_mine(user_id, resource))).scalar_one_or_none()
    if chosen is None:
        return list(resource.list_columns)
    allowed = set(choosable(resource))
    kept = [n for n in chosen.split(",") if n in allowed]
    return kept or list(resource.list_columns)


def remember(db: Session, user_id: int, resource: Resource, names: Sequence[str]) -> list[str]:
    """Save the user's choice (validated); the declaration's own columns forget it."""
    names = checked(resource, names)
    row = _row(db, user_id, resource)
    if names == list(resource.list_columns):
        if row is not None:
            db.delete(row)
        return names
    if row is None:
        row = ListPreference(user_id=user_id, list_name=resource.name, columns="")
        db.add(row)
    row.columns, row.updated_at = ",".join(names), utcnow()
    return names
