"""A save refused because someone else saved first: what differs, field by field.

For every field the other saves changed and where my value is not theirs: the value I read
(the row at the version my form was opened with, rebuilt from the audit entries written
since), the value now stored with who changed it and when (the latest of those entries),
and my value. The edit form shows them (templates/sqladmin/edit.html) with "Reload theirs",
"Keep mine" (save over the new version on purpose) and a choice per field; `resolve` applies
the choice to the next save. Generic: any declared, versioned table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from admin_app.audit import recorded_columns
from admin_app.i18n import gettext as _
from admin_app.resources.spec import Relation, Resource
from models import AuditEntry
from models.common import jsonable

MINE, THEIRS = "mine", "theirs"
CHOICE = "conflict-"  # the form field of a field's choice: "conflict-title" = mine | theirs
RESOLVE = "conflict"  # the button: "mine" (keep all mine) or "choose" (per field)
CURRENT = "conflict_version"  # the version the conflict was shown at: the next save names it


@dataclass
class FieldConflict:
    name: str  # the form's field ("assignee")
    label: str
    read: str
    stored: str
    mine: str
    by: str
    at: Any
    default: str  # the choice offered first: mine where I changed the field, else theirs


@dataclass
class SaveConflict:
    version: int  # now stored
    fields: list[FieldConflict] = field(default_factory=list)


def _column(resource: Resource, name: str) -> str:
    found = resource.field(name)
    return found.key if isinstance(found, Relation) else name


def form_fields(resource: Resource, payload: Mapping[str, Any]) -> list[str]:
    """The form's fields whose column the payload sets and the audit trail records."""
    recorded = set(recorded_columns(resource.model))
    names = [f.name for f in (*resource.fields, *resource.relations)]
    return [n for n in dict.fromkeys(names) if _column(resource, n) in payload and _column(resource, n) in recorded]


def _shown(db: Any, resource: Resource, name: str, value: Any) -> str:
    if value is None or value == "":
        return _("(empty)")
    found = resource.field(name)
    if isinstance(found, Relation):
        target = found.target
        label = db.execute(select(getattr(target, found.shown)).where(target.id == value)).scalar_one_or_none()
        return str(label) if label is not None else _("#{id} (deleted)").format(id=value)
    choices = getattr(found, "choices", None) or {}
    for key, label in choices.items():
        if jsonable(key) == value:
            return _(label)
    return str(value)


def describe(db: Any, resource: Resource, row: Any, read_version: int, payload: Mapping[str, Any]) -> SaveConflict:
    """What differs between the version read, the one stored and the form (one query for the entries)."""
    since = max(row.version - read_version, 0)
    entries = list(db.execute(
        select(AuditEntry).where(
            AuditEntry.entity == resource.name, AuditEntry.entity_id == str(row.id), AuditEntry.action == "update",
        ).order_by(AuditEntry.id.desc()).limit(since)
    ).scalars()) if since else []
    out = SaveConflict(row.version)
    for name in form_fields(resource, payload):
        column = _column(resource, name)
        stored, mine = jsonable(getattr(row, column)), jsonable(payload[column])
        touched = [e for e in entries if column in (e.changes or {})]
        if not touched or mine == stored:
            continue
        read = touched[-1].changes[column][0]  # the oldest change since: its old value
        out.fields.append(FieldConflict(
            name, _(resource.label_of(name)), _shown(db, resource, name, read), _shown(db, resource, name, stored),
            _shown(db, resource, name, mine), touched[0].actor_label, touched[0].at,
            MINE if mine != read else THEIRS,
        ))
    return out


def resolve(resource: Resource, row: Any, form: Mapping[str, Any], payload: dict[str, Any]) -> int | None:
    """After the conflict screen: the version to save over, with the fields chosen "theirs" kept
    as stored. None when the form was not sent from that screen (an ordinary save)."""
    how, current = form.get(RESOLVE), str(form.get(CURRENT, ""))
    if how not in (MINE, "choose") or not current.isdigit():
        return None
    if how == "choose":
        for name in form_fields(resource, payload):
            if form.get(CHOICE + name) == THEIRS:
                column = _column(resource, name)
                payload[column] = jsonable(getattr(row, column))
    return int(current)
