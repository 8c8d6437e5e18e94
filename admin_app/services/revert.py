"""Revert a change set, for every declared table: preview what it restores, then do it.

From the change set's audit entries, row by row: an updated row gets its old values back if
every field the change set wrote still holds what it wrote; a deleted row is re-created with
its id and values (a reference whose target is gone is left empty and reported); a created
row is deleted if it is unchanged since. Rows that fail the test are conflicts: listed and
left as they are. Set-based (revert_steps): a 100,000-row bulk edit reverts in as many
statements as a 10-row one. The revert writes entries like any change, in a change set of
its own, so reverting it is a redo. A password is never put back (listed as not revertible).

Permissions are those of making each change undone (an edit needs `edit`, undoing a create
`delete`, undoing a delete `create`); the table's rules (the last active admin, unique values)
are asked as for a bulk edit or delete, and refuse with their reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from admin_app.errors import Conflict, NotFound, ServiceError
from admin_app.i18n import N_, lazy_noun
from admin_app.resources import Registry
from admin_app.resources.spec import Resource, Rules
from admin_app.services.revert_sql import ENTRY
from admin_app.services.revert_steps import Step
from admin_app.services.search import merge_pending_search_entries
from admin_app.services.unit import WriteContext
from models import ChangeSet, ChangeSetPublic

NEEDS = {"update": "edit", "create": "delete", "delete": "create"}  # what undoing each needs
NEEDED = {  # the refusal, per permission needed
    "edit": N_("Reverting this needs the permission to edit %(list)s."),
    "delete": N_("Reverting this needs the permission to delete %(list)s."),
    "create": N_("Reverting this needs the permission to create %(list)s."),
}
Allowed = Callable[[str, str], bool]  # (permission, action) -> may the user


class Forbidden(ServiceError):
    status_code = 403


@dataclass
class Preview:
    change_set: Any
    restorable: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    conflict_count: int = 0
    not_revertible: list[dict[str, Any]] = field(default_factory=list)
    references_cleared: list[dict[str, Any]] = field(default_factory=list)
    refused: str | None = None

    def add(self, conflicts: list[dict[str, Any]], count: int) -> None:
        self.conflicts += conflicts
        self.conflict_count += count


def load(db: Any, change_set_id: int) -> ChangeSet:
    found = db.get(ChangeSet, change_set_id)
    if found is None:
        raise NotFound(N_("Change set %(id)s not found."), id=change_set_id)
    return found


def steps_of(ctx: WriteContext, registry: Registry, change_set: int) -> list[Step]:
    """The change set's (table, action) steps in a safe order: re-create deleted rows, referenced
    tables first; then restore updates; then delete created rows, referencing tables first."""
    present = set(ctx.db.execute(
        select(ENTRY.c.entity, ENTRY.c.action).where(ENTRY.c.change_set_id == change_set)
        .group_by(ENTRY.c.entity, ENTRY.c.action)
    ).all())
    known = {r.name for r in registry}
    unknown = sorted({e for e, a in present if a in NEEDS and e not in known})
    if unknown:
        raise Conflict(N_("Change set %(id)s changed %(tables)s, which is not declared here."), id=change_set,
                       tables=", ".join(unknown))
    order = sorted(registry, key=lambda r: -len(registry.referencing(r.model)))

    def of(action: str, tables: list[Resource]) -> list[Step]:
        return [Step(ctx.db, r, change_set, action, registry.referencing(r.model))
                for r in tables if (r.name, action) in present]

    return of("delete", order) + of("update", order) + of("create", list(reversed(order)))


def check_permissions(steps: list[Step], allowed: Allowed) -> None:
    for step in steps:
        needed = NEEDS[step.action]
        if not allowed(step.resource.permission, needed):
            raise Forbidden(NEEDED[needed], list=lazy_noun(step.resource.plural))


def _survey(steps: list[Step], change_set: ChangeSet) -> Preview:
    out = Preview(ChangeSetPublic.model_validate(change_set))  # outlives the session
    for step in steps:
        if step.action == "delete":
            out.restorable += step.preview_deleted(out)
        else:
            out.restorable += step.preview_changed(out)
        if step.action == "update":
            step.not_revertible(out)
    return out


def _has_rules(steps: list[Step]) -> bool:
    hooks = ("check_bulk", "after_bulk", "check_delete")
    return any(getattr(type(s.resource.rules), h) is not getattr(Rules, h) for s in steps for h in hooks)


def _write(ctx: WriteContext, steps: list[Step]) -> list[int]:
    """Each step's rows restored, in order."""
    done = []
    for step in steps:
        undo = {"delete": step.undo_deletes, "update": step.undo_updates, "create": step.undo_creates}
        done.append(undo[step.action](ctx))
    for table in {s.resource.model.__tablename__ for s in steps}:
        merge_pending_search_entries(ctx.db, table)
    return done


def preview(ctx: WriteContext, registry: Registry, change_set_id: int, allowed: Allowed) -> Preview:
    """What reverting would restore and what it cannot; writes nothing.

    Where a table has rules, the revert is tried in a savepoint and rolled back, so a refusal
    shows here with its reason (only then: on tables without rules it would be wasted work).
    """
    change_set = load(ctx.db, change_set_id)
    steps = steps_of(ctx, registry, change_set_id)
    check_permissions(steps, allowed)
    out = _survey(steps, change_set)
    if out.restorable and _has_rules(steps):
        saved = dict(ctx.db.info)
        trial = ctx.db.begin_nested()
        try:
            ctx.describe("Trial", reverts=change_set_id)
            _write(ctx, steps)
        except ServiceError as exc:
            out.refused = exc.message
        finally:
            trial.rollback()
            ctx.db.info.clear()
            ctx.db.info.update(saved)
    return out


def apply(ctx: WriteContext, registry: Registry, change_set_id: int, allowed: Allowed) -> tuple[Preview, int]:
    """Revert in the caller's transaction (the caller commits); returns what was restored and
    what was not, and the new change set's id. Nothing to restore is a Conflict.

    No survey first: the writes decide row by row, and what they left out is read afterwards
    from the entries they did not answer (no values to compare: a quarter of the work)."""
    change_set = load(ctx.db, change_set_id)
    steps = steps_of(ctx, registry, change_set_id)
    check_permissions(steps, allowed)
    ctx.describe(f"Revert #{change_set_id} ({change_set.summary})"[:200], reverts=change_set_id)
    done = _write(ctx, steps)
    restored = sum(done)
    new_id = ctx.change_set_id
    if not restored or new_id is None:
        raise Conflict(N_("Nothing in change set %(id)s can be reverted: every row was changed "
                          "or deleted since (or the change cannot be reverted)."), id=change_set_id)
    out = Preview(ChangeSetPublic.model_validate(change_set), restorable=restored)
    for step, step_done in zip(steps, done, strict=True):
        step.left_out(out, new_id, step_done)
        if step.action == "update":
            step.not_revertible(out)
    return out, new_id
