"""Set-based writes for every table: bulk edits and deletes by ids or by filter (imports: imports.py).

A bulk edit writes only the rows whose value changes: "mark as done" over 283 tasks of which
97 are done already changes 186 rows, and the 97 keep their version, their `updated_at` and
their history. Each statement records its audit entries itself (audit.insert_entries), so a
100,000-row edit is a handful of statements, not one per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    any_,
    delete,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    update,
)

from admin_app.audit import (
    changes_json,
    entry_select,
    insert_entries,
    recorded_columns,
)
from admin_app.errors import InvalidInput
from admin_app.i18n import N_
from admin_app.resources.spec import Relation, Resource
from admin_app.services import records
from admin_app.services.filtering import FilterBase, filters_of
from admin_app.services.records import check_references, stored
from admin_app.services.search import merge_pending_search_entries
from admin_app.services.unit import WriteContext
from admin_app.services.versions import check_version

MAX_BULK_IDS = 10_000
IMPORT_BATCH = 1000


@dataclass(frozen=True)
class BulkResult:
    matched: int  # rows the ids or the filter chose
    changed: int  # rows written (the others already had the values)

    @property
    def unchanged(self) -> int:
        return self.matched - self.changed


def target(resource: Resource, ids: Sequence[int] | None, spec: FilterBase | None) -> list[ColumnElement[bool]]:
    """The rows a bulk change applies to: chosen ids, or every row a filter matches."""
    if ids is not None:
        if len(ids) > MAX_BULK_IDS:
            raise InvalidInput(N_("ids: at most %(limit)s per call; use a filter for more"), limit=f"{MAX_BULK_IDS:,}")
        return [resource.model.id.in_(list(ids))]
    if spec is None:
        raise InvalidInput(N_("give either ids or a filter"))
    return filters_of(resource).conditions(spec)


def count(ctx: WriteContext, resource: Resource, conditions: list[ColumnElement[bool]]) -> int:
    return ctx.db.execute(select(func.count()).select_from(resource.model).where(*conditions)).scalar_one()


def _is_postgres(ctx: WriteContext) -> bool:
    return ctx.db.get_bind().dialect.name == "postgresql"


def update_rows(
    ctx: WriteContext, resource: Resource, values: Mapping[str, Any], *,
    ids: Sequence[int] | None = None, spec: FilterBase | None = None,
    conditions: list[ColumnElement[bool]] | None = None,
) -> BulkResult:
    """Set `values` on the chosen rows (`ids`, `spec` or, for a job's chunk, `conditions`) that
    do not have them yet, recording each row's change."""
    values = stored(values)
    if not values:
        raise InvalidInput(N_("set: nothing to change"))
    check_references(ctx.db, resource, values)
    conditions = target(resource, ids, spec) if conditions is None else conditions
    resource.rules.check_bulk(ctx, and_(true(), *conditions), values)
    table = resource.model.__table__
    sql_values: dict[str, Any] = {**values, **resource.rules.derived(values, table.c, ctx.now)}
    recorded = list(sql_values)
    if "updated_at" in table.c:
        sql_values["updated_at"] = ctx.now
    if resource.versioned:
        sql_values["version"] = table.c.version + 1
    differs = or_(*(table.c[name].is_distinct_from(value) for name, value in values.items()))
    matched = count(ctx, resource, conditions)
    changed = _update(ctx, resource, [*conditions, differs], sql_values, recorded) if matched else 0
    if changed:
        merge_pending_search_entries(ctx.db, table.name)  # searches stay fast right after
        resource.rules.after_bulk(ctx, and_(true(), *conditions), values)
    return BulkResult(matched, changed)


def _update(
    ctx: WriteContext, resource: Resource, conditions: list[Any], sql_values: dict[str, Any],
    recorded: list[str],
) -> int:
    """UPDATE the rows matching `conditions`, one audit entry each with old and new values.

    PostgreSQL: one statement (lock the rows in id order, so two bulk edits never deadlock;
    update; insert entries from RETURNING). The UPDATE finds the locked rows through the
    primary key (`id = ANY(ARRAY(...))`) rather than by joining them: a join of 100,000 locked
    rows spilled to a multi-batch hash join, which hands the rows over in hash order, and every
    index then received its new entries in random order (a quarter more time on 1,000,000
    tasks). Old values come from the locked rows, read after locking. SQLite serialises
    writers, so the entries and the UPDATE as two statements are consistent.
    """
    db, table = ctx.db, resource.model.__table__
    entity, several = resource.name, len(recorded) > 1
    if _is_postgres(ctx):
        locked = (
            select(table.c.id, *[table.c[f] for f in recorded]).where(*conditions)
            .order_by(table.c.id).with_for_update().cte("locked")
        )
        locked_ids = func.array(select(locked.c.id).scalar_subquery())
        changed = (
            update(table).where(table.c.id == any_(locked_ids)).values(**sql_values)
            .returning(table.c.id, *[table.c[f].label(f"new_{f}") for f in recorded])
            .cte("changed")
        )
        changes = changes_json(
            db, [(f, locked.c[f], changed.c[f"new_{f}"]) for f in recorded], only_changed=several
        )
        statement = insert_entries(
            select(*entry_select(db, ctx.actor, "update", entity, changed.c.id, changes))
            .select_from(changed.join(locked, locked.c.id == changed.c.id))
        )
        return db.execute(statement).rowcount or 0
    news = {
        f: literal(v, type_=table.c[f].type) if not isinstance(v, ColumnElement) else v
        for f, v in sql_values.items() if f in recorded
    }
    changes = changes_json(db, [(f, table.c[f], news[f]) for f in recorded], only_changed=several)
    db.execute(insert_entries(
        select(*entry_select(db, ctx.actor, "update", entity, table.c.id, changes)).where(*conditions)
    ))
    return db.execute(update(table).where(*conditions).values(**sql_values)).rowcount or 0


Referencing = Sequence[tuple[Resource, Relation]]  # Registry.referencing(model): who points here


def delete_rows(
    ctx: WriteContext, resource: Resource, referencing: Referencing, *, ids: Sequence[int] | None = None,
    spec: FilterBase | None = None,
) -> int:
    """DELETE the chosen rows, recording each row's values (one statement on PostgreSQL)."""
    return delete_where(ctx, resource, target(resource, ids, spec), referencing)


def sets_null(resource: Resource, relation: Relation) -> bool:
    """Deleting the target empties this reference (the foreign key says ON DELETE SET NULL)."""
    column = resource.model.__table__.c[relation.key]
    return any((fk.ondelete or "").upper() == "SET NULL" for fk in column.foreign_keys)


def clear_references(ctx: WriteContext, conditions: list[Any], model: type, referencing: Referencing) -> int:
    """Empty the references to the rows about to be deleted, as a bulk edit would (entries in the
    same change set), rather than leave it to the database unrecorded: undoing the delete then
    assigns the tasks again. One statement per reference on PostgreSQL, whatever the row count."""
    chosen = select(model.id).where(*conditions)
    cleared = 0
    for other, relation in referencing:
        if not sets_null(other, relation):
            continue
        table = other.model.__table__
        values: dict[str, Any] = {relation.key: None, **other.rules.derived({relation.key: None}, table.c, ctx.now)}
        recorded = list(values)
        if "updated_at" in table.c:
            values["updated_at"] = ctx.now
        if other.versioned:
            values["version"] = table.c.version + 1
        changed = _update(ctx, other, [table.c[relation.key].in_(chosen)], values, recorded)
        if changed:
            merge_pending_search_entries(ctx.db, table.name)
        cleared += changed
    return cleared


def delete_row(ctx: WriteContext, resource: Resource, row: Any, referencing: Referencing, version: int | None = None) -> None:
    """Delete one row (the API's DELETE): its references emptied, recorded, then the row."""
    check_version(row, version)
    clear_references(ctx, [resource.model.id == row.id], resource.model, referencing)
    records.delete(ctx, resource, row, version)


def delete_where(ctx: WriteContext, resource: Resource, conditions: list[Any], referencing: Referencing) -> int:
    """DELETE the rows matching `conditions` after the table's rules allow it, with entries;
    the references to them are emptied first, recorded (clear_references)."""
    resource.rules.check_delete(ctx, and_(true(), *conditions))
    clear_references(ctx, conditions, resource.model, referencing)
    db, table, entity = ctx.db, resource.model.__table__, resource.name
    snapshot = recorded_columns(resource.model)
    if _is_postgres(ctx):
        locked = select(table.c.id).where(*conditions).order_by(table.c.id).with_for_update().cte("locked")
        gone = (
            delete(table).where(table.c.id.in_(select(locked.c.id)))
            .returning(table.c.id, *[table.c[f] for f in snapshot]).cte("gone")
        )
        changes = changes_json(db, [(f, gone.c[f], literal_column("NULL")) for f in snapshot])
        statement = insert_entries(select(*entry_select(db, ctx.actor, "delete", entity, gone.c.id, changes)))
        return db.execute(statement).rowcount or 0
    changes = changes_json(db, [(f, table.c[f], literal_column("NULL")) for f in snapshot])
    db.execute(insert_entries(
        select(*entry_select(db, ctx.actor, "delete", entity, table.c.id, changes)).where(*conditions)
    ))
    return db.execute(delete(table).where(*conditions)).rowcount or 0
