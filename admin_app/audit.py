"""The audit trail: how entries are built and written, in the transaction of the change.

One mechanism, two inputs. ORM changes (a form, an API call, a list edit) are recorded by a
flush hook, one entry per changed row. Set-based statements (bulk edits, imports, demo data),
which the services run, get their entries from `insert_entries`: one `INSERT ... SELECT`
over the rows the statement wrote. Either way the actor is the one the caller bound to the
session with `bind_actor`; nothing is guessed from the request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    Select,
    String,
    case,
    cast,
    event,
    func,
    insert,
    inspect,
    literal,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from admin_app import change_sets
from admin_app.services.actor import SYSTEM_ACTOR, Actor
from models import ApiToken, AuditEntry, SavedView
from models.common import jsonable, utcnow

# Bookkeeping that every update touches: recording it would only add noise.
NOISE = frozenset({"updated_at", "version", "created_at", "last_login_at"})
# Secrets are never recorded, only that they changed.
SECRETS = {"hashed_password": "password", "token_hash": None}

# Table model -> the entity name its entries carry ("task"): every declared table, tokens and
# saved views (these two are records, not data a change set reverts: not in change_sets.NAMES).
_ENTITIES: dict[type, str] = {ApiToken: "token", SavedView: "saved_view"}


def track(model: type, entity: str) -> None:
    """Record ORM changes of `model` under `entity` (idempotent)."""
    _ENTITIES[model] = entity


def bind_actor(db: Session, actor: Actor) -> None:
    """Name who the session's changes are made by; every writer does this first. What the
    transaction then writes is one change set (admin_app/change_sets.py)."""
    db.info["actor"] = actor
    change_sets.bind(db)


def actor_of(db: Session) -> Actor:
    """The bound actor; `system` for a session nobody bound (a maintenance script)."""
    return db.info.get("actor") or SYSTEM_ACTOR


def _entry(
    db: Session, actor: Actor, action: str, entity: str, entity_id: Any, **fields: Any
) -> dict[str, Any]:
    return {
        "change_set_id": None if fields.get("event") else change_sets.for_entry(db, action, entity, actor),
        "at": utcnow(), "actor_id": actor.user_id, "actor_label": actor.label[:254],
        "via": actor.via, "action": action, "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "changes": fields.get("changes"), "details": fields.get("details"),
    }


def record(
    db: Session, action: str, entity: str, entity_id: Any = None, *,
    changes: dict[str, Any] | None = None, details: dict[str, Any] | None = None,
    actor: Actor | None = None, event: bool = False,
) -> None:
    """Write one explicit entry in the session's transaction (an `event` joins no change set)."""
    row = _entry(db, actor or actor_of(db), action, entity, entity_id, changes=changes, details=details, event=event)
    db.connection().execute(insert(AuditEntry), [row])


def record_auth_event(db: Session, action: str, email: str, user_id: int | None, details: dict) -> None:
    """Logins, failures (with the email tried, never the password) and logouts."""
    actor = Actor(user_id=user_id, label=email or "unknown", via=details.pop("via", "auth"))
    record(db, action, "user", user_id, details=details or None, actor=actor, event=True)


# --- ORM changes: the flush hook ---------------------------------------------------------------

def recorded_columns(model: type) -> list[str]:
    """The columns an entry shows for a created or deleted row: all but id, noise and secrets."""
    return [
        a.key for a in inspect(model).column_attrs
        if a.key != "id" and a.key not in NOISE and a.key not in SECRETS
    ]


def _snapshot(obj: Any, *, created: bool) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    for key in recorded_columns(type(obj)):
        value = jsonable(getattr(obj, key))
        changes[key] = [None, value] if created else [value, None]
    if created:
        changes.update({SECRETS[k]: [None, "set"] for k in SECRETS if SECRETS[k] and hasattr(obj, k)})
    return changes


def _diff(obj: Any) -> dict[str, Any]:
    state = inspect(obj)
    changes: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in NOISE:
            continue
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        if key in SECRETS:
            if SECRETS[key]:
                changes[SECRETS[key]] = "changed"
            continue
        old = jsonable(history.deleted[0] if history.deleted else None)
        new = jsonable(history.added[0] if history.added else None)
        if old != new:
            changes[key] = [old, new]
    return changes


def _action(obj: Any, kind: str, changes: dict[str, Any]) -> str:
    if isinstance(obj, ApiToken):
        if kind == "create":
            return "token_created"
        if kind == "update" and "revoked_at" in changes:
            return "token_revoked"
    return kind


def _after_flush(session: Session, _context: Any) -> None:
    rows: list[dict[str, Any]] = []
    for kind, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            entity = _ENTITIES.get(type(obj))
            if entity is None:
                continue
            if kind == "update":
                changes = _diff(obj)
                if not changes:
                    continue
            else:
                changes = _snapshot(obj, created=kind == "create")
            rows.append(_entry(session, actor_of(session), _action(obj, kind, changes), entity, obj.id, changes=changes))
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def install(resources: Iterable[Any] = ()) -> None:
    """Register the flush hook once per process (every Session class inherits it), and record
    the declared tables' ORM changes under their names."""
    for resource in resources:
        track(resource.model, resource.name)
        change_sets.NAMES[resource.name] = (resource.label, resource.plural)
    change_sets.install()
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


# --- set-based changes: one entry per row written, with one INSERT ... SELECT -----------------

def changes_json(db: Session, pairs: list[tuple[str, Any, Any]], *, only_changed: bool = False) -> Any:
    """SQL building {"field": [old, new], ...}; with `only_changed`, fields whose value stayed are left out."""
    postgres = db.get_bind().dialect.name == "postgresql"
    build_object = func.json_build_object if postgres else func.json_object
    build_array = func.json_build_array if postgres else func.json_array
    args: list[Any] = []
    for name, old, new in pairs:
        value = build_array(old, new)
        if only_changed:
            value = case((old.is_distinct_from(new), value), else_=None)
            value = value if postgres else func.json(value)
        args += [literal(name), value]
    built = build_object(*args)
    if only_changed:
        built = func.json_strip_nulls(built) if postgres else func.json_patch("{}", built)
    return built


def entry_select(db: Session, actor: Actor, action: str, entity: str, entity_id: Any, changes: Any) -> list[Any]:
    """The columns of entries for `INSERT ... SELECT`, one per row the select yields."""
    table = AuditEntry.__table__
    return [
        literal(change_sets.for_entry(db, action, entity, actor), table.c.change_set_id.type).label("change_set_id"),
        literal(utcnow(), table.c.at.type).label("at"),
        literal(actor.user_id, table.c.actor_id.type).label("actor_id"),
        literal(actor.label[:254]).label("actor_label"),
        literal(actor.via).label("via"),
        literal(action).label("action"),
        literal(entity).label("entity"),
        cast(entity_id, String).label("entity_id"),
        changes.label("changes"),
    ]


ENTRY_TARGETS = ["change_set_id", "at", "actor_id", "actor_label", "via", "action", "entity", "entity_id", "changes"]


def insert_entries(selected: Select) -> Any:
    """`INSERT INTO audit_entry ... SELECT`: `selected` selects `entry_select`'s columns."""
    return insert(AuditEntry).from_select(ENTRY_TARGETS, selected)


def created_entries(db: Session, model: type, entity: str, condition: Any, actor: Actor) -> None:
    """Record rows a set-based INSERT added (those matching `condition`), one entry each."""
    table = model.__table__
    fields = recorded_columns(model)
    changes = changes_json(db, [(f, literal_column("NULL"), table.c[f]) for f in fields])
    db.execute(insert_entries(
        select(*entry_select(db, actor, "create", entity, table.c.id, changes)).where(condition)
    ))

