"""Change sets: everything one request or command wrote, as one row with a one-line summary.

Bound where the actor is bound (`audit.bind_actor`, which every WriteContext calls): the first
data-change entry a transaction writes creates the change set, every later entry of the same
transaction carries its id, and the commit writes its size and summary ("Mark as done: 186
tasks", "Import: 42 created, 3 updated", "Edit task 17"). A transaction that changes no data
(a login, an export) makes none. Reverting one (services/revert.py) makes another.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, insert, select, update
from sqlalchemy.orm import Session

from admin_app.services.actor import SYSTEM_ACTOR, Actor
from models import AuditEntry, ChangeSet
from models.common import utcnow

# The entries that make up a change set: data written. Logins, exports, second-factor events
# and token events are records of what happened, not changes a revert could undo.
DATA_ACTIONS = frozenset({"create", "update", "delete", "import"})
ROW_ACTIONS = ("create", "update", "delete")
VERBS = {"create": "Create", "update": "Edit", "delete": "Delete"}

# entity -> (label, plural), from the declarations (audit.install): "Edit 186 tasks".
NAMES: dict[str, tuple[str, str]] = {}


def name(entity: str, count: int) -> str:
    label, plural = NAMES.get(entity, (entity, f"{entity}s"))
    return (label if count == 1 else plural).lower()


def bind(db: Session) -> None:
    """A new unit of work: its changes make a new change set (called by bind_actor)."""
    for key in ("change_set", "change_title", "change_reverts", "change_summary"):
        db.info.pop(key, None)


def describe(db: Session, title: str, *, reverts: int | None = None) -> None:
    """Name what this unit of work does ("Mark as done"): the summary says it with the row count."""
    db.info["change_title"] = title
    if reverts is not None:
        db.info["change_reverts"] = reverts


def current(db: Session, actor: Actor | None = None) -> int:
    """The id of this transaction's change set, created on first use."""
    found = db.info.get("change_set")
    if found is None:
        actor = actor or db.info.get("actor") or SYSTEM_ACTOR
        found = db.connection().execute(insert(ChangeSet).values(
            created_at=utcnow(), actor_id=actor.user_id, actor_label=actor.label[:254], via=actor.via,
            summary="", size=0, reverts_id=db.info.get("change_reverts"),
        ).returning(ChangeSet.id)).scalar_one()
        db.info["change_set"] = found
    return found


def for_entry(db: Session, action: str, entity: str, actor: Actor | None = None) -> int | None:
    """The change set an entry belongs to: None for events that change no data, and for
    tables nobody declared (tokens)."""
    return current(db, actor) if action in DATA_ACTIONS and entity in NAMES else None


def summary_of(groups: list[Any], imported: dict[str, Any] | None, title: str | None) -> tuple[str, int]:
    """(summary, size) from the entries' (action, entity, count, entity_id) groups."""
    size = sum(g.count for g in groups if g.action in ROW_ACTIONS)
    rows = [g for g in groups if g.action in ROW_ACTIONS]
    entities = {g.entity for g in rows}
    if title:
        if len(entities) == 1:
            return f"{title}: {size:,} {name(next(iter(entities)), size)}", size
        # "Delete: 1 user deleted, 3 tasks edited" (a delete empties references to the rows)
        done = {"create": "created", "update": "edited", "delete": "deleted"}
        parts = [f"{g.count:,} {name(g.entity, g.count)} {done[g.action]}"
                 for g in sorted(rows, key=lambda g: -ROW_ACTIONS.index(g.action))]
        return f"{title}: {', '.join(parts)}"[:300], size
    if imported is not None:
        created, updated = imported.get("created", 0), imported.get("updated", 0)
        return f"Import: {created:,} created, {updated:,} updated", size
    parts = []
    for g in sorted(rows, key=lambda g: ROW_ACTIONS.index(g.action)):
        if g.count == 1:
            parts.append(f"{VERBS[g.action]} {name(g.entity, 1)} {g.entity_id}")
        else:
            parts.append(f"{VERBS[g.action]} {g.count:,} {name(g.entity, g.count)}")
    return ("; ".join(parts) or "No change")[:300], size


def _before_commit(session: Session) -> None:
    change_set = session.info.get("change_set")
    if change_set is None:
        return
    session.flush()  # entries the last flush writes belong to it too
    if (given := session.info.get("change_summary")) is not None:
        # A job's chunk: the job counts its rows, the last chunk sums up the whole (services/jobs.py).
        session.connection().execute(
            update(ChangeSet).where(ChangeSet.id == change_set).values(summary=given[0][:300], size=given[1]))
        return
    e = AuditEntry.__table__.c
    groups = session.connection().execute(
        select(e.action, e.entity, func.count().label("count"), func.min(e.entity_id).label("entity_id"))
        .where(e.change_set_id == change_set).group_by(e.action, e.entity)
    ).all()
    imported = None
    if any(g.action == "import" for g in groups):
        imported = session.connection().execute(
            select(e.details).where(e.change_set_id == change_set, e.action == "import").limit(1)
        ).scalar_one() or {}
    summary, size = summary_of(groups, imported, session.info.get("change_title"))
    session.connection().execute(
        update(ChangeSet).where(ChangeSet.id == change_set).values(summary=summary, size=size)
    )


def _committed(session: Session) -> None:
    bind(session)  # the next transaction is a new change set


def _rolled_back(session: Session, previous: Any) -> None:
    if not previous.nested:
        bind(session)


def install() -> None:
    """Finish each change set at commit (once per process; every Session inherits it)."""
    for name_, hook in (("before_commit", _before_commit), ("after_commit", _committed),
                        ("after_soft_rollback", _rolled_back)):
        if not event.contains(Session, name_, hook):
            event.listen(Session, name_, hook)
