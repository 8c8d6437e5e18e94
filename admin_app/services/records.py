"""The write path for single rows, for every table: validate, check, write, audit.

Input arrives validated by the table's Create/Update models (the same for the admin, the
API and the CLI). Here, generically: references must exist, unique columns stay unique, the
version the editor read must be current; the table's own rules (`Resource.rules`) prepare
the values and add the fields that follow others. The flush hook writes the audit entries in
the same transaction; the caller commits (services.unit).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_app.errors import Conflict, InvalidInput, NotFound, RowErrors, Words
from admin_app.i18n import N_, lazy_gettext, lazy_noun
from admin_app.resources.spec import Resource
from admin_app.services.listing import listing_of
from admin_app.services.unit import WriteContext
from admin_app.services.versions import StaleVersion, check_version, flush_checking_version


def stored(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values as the columns store them: enums by value."""
    return {k: v.value if isinstance(v, Enum) else v for k, v in values.items()}


def not_found(resource: Resource, row_id: int) -> NotFound:
    return NotFound(N_("%(label)s %(id)s not found."), label=lazy_gettext(resource.label), id=row_id)


def get(db: Session, resource: Resource, row_id: int) -> Any:
    row = db.get(resource.model, row_id)
    if row is None:
        raise not_found(resource, row_id)
    return row


def load(db: Session, resource: Resource, row_id: int, relations: Iterable[str] = ()) -> Any:
    """A row with `relations` loaded, fresh from the database."""
    query = listing_of(resource).by_id(relations)
    row = db.execute(query, {"row_id": row_id}).unique().scalar_one_or_none()
    if row is None:
        raise not_found(resource, row_id)
    return row


# --- generic checks -----------------------------------------------------------------------------

def missing_references(db: Session, resource: Resource, rows: Iterable[Mapping[str, Any]]) -> dict[str, set[int]]:
    """Per foreign key, the ids the rows name that do not exist (one query per key)."""
    missing: dict[str, set[int]] = {}
    rows = list(rows)
    for relation in resource.relations:
        wanted = {r[relation.key] for r in rows if r.get(relation.key) is not None}
        if not wanted:
            continue
        found = set(db.execute(select(relation.target.id).where(relation.target.id.in_(wanted))).scalars())
        if wanted - found:
            missing[relation.key] = wanted - found
    return missing


def reference_error(resource: Resource, key: str, ids: set[int]) -> Words:
    target = next(r.target for r in resource.relations if r.key == key).__name__.lower()
    return Words(N_("%(key)s: no %(target)s with id %(id)s"), {"key": key, "target": target, "id": min(ids)})


def check_references(db: Session, resource: Resource, values: Mapping[str, Any]) -> None:
    for key, ids in missing_references(db, resource, [values]).items():
        raise InvalidInput(reference_error(resource, key, ids))


def unique_columns(resource: Resource) -> list[str]:
    return [c.key for c in resource.model.__table__.columns if c.unique and not c.primary_key]


def duplicate_message(resource: Resource, column: str) -> Words:
    return Words(N_("A %(noun)s with this %(field)s exists."),
                 {"noun": lazy_noun(resource.label), "field": lazy_noun(resource.label_of(column))})


def check_unique(db: Session, resource: Resource, values: Mapping[str, Any], row_id: int | None = None) -> None:
    for column in unique_columns(resource):
        if values.get(column) is None:
            continue
        query = select(resource.model.id).where(getattr(resource.model, column) == values[column])
        if row_id is not None:
            query = query.where(resource.model.id != row_id)
        if db.execute(query).first() is not None:
            raise Conflict(duplicate_message(resource, column))


def _flush(ctx: WriteContext, resource: Resource, row: Any) -> None:
    try:
        flush_checking_version(ctx.db, row)
    except IntegrityError as exc:  # a concurrent insert won the race; the caller rolls back
        columns = unique_columns(resource)
        raise Conflict(duplicate_message(resource, columns[0]) if columns else N_("Conflicts with existing data.")) from exc


def _apply(resource: Resource, row: Any, values: Mapping[str, Any], now: Any) -> None:
    for name, value in values.items():
        setattr(row, name, value)
    for name, value in resource.rules.derived(values, row, now).items():
        setattr(row, name, value)


# --- writes -------------------------------------------------------------------------------------

def create(ctx: WriteContext, resource: Resource, data: BaseModel) -> Any:
    """Add a validated row; the caller commits."""
    values = stored(data.model_dump())
    check_references(ctx.db, resource, values)
    values = resource.rules.prepare_create(ctx, values)
    check_unique(ctx.db, resource, values)
    row = resource.model(**values)
    for name, value in resource.rules.derived(values, row, ctx.now).items():
        setattr(row, name, value)
    ctx.db.add(row)
    _flush(ctx, resource, row)
    return row


def update(ctx: WriteContext, resource: Resource, row: Any, changes: BaseModel) -> Any:
    """Apply only the fields that were sent; the caller commits.

    `version`, when sent, is the version the editor saw: a newer one in the database means
    someone else saved in between, and nothing is overwritten.
    """
    values = stored(changes.model_dump(exclude_unset=True))
    check_version(row, values.pop("version", None))
    check_references(ctx.db, resource, values)
    values = resource.rules.prepare_update(ctx, row, values)
    check_unique(ctx.db, resource, values, row.id)
    _apply(resource, row, values, ctx.now)
    _flush(ctx, resource, row)
    return row


def replace(ctx: WriteContext, resource: Resource, row: Any, data: BaseModel) -> Any:
    """Replace every field (PUT): what the body leaves out takes its default."""
    return update(ctx, resource, row, resource.schemas.update.model_validate(data.model_dump()))


def delete(ctx: WriteContext, resource: Resource, row: Any, version: int | None = None) -> None:
    check_version(row, version)
    resource.rules.check_delete(ctx, resource.model.id == row.id)
    ctx.db.delete(row)
    flush_checking_version(ctx.db, row)


def update_many(ctx: WriteContext, resource: Resource, changes: dict[int, BaseModel]) -> list[Any]:
    """Apply validated changes to several rows, all or none; returns the rows that changed.

    One query loads the rows, one per foreign key checks the references. A row that is gone,
    was changed since `version` was read, or names an unknown reference makes RowErrors
    (keyed by row id) and nothing is written.
    """
    model = resource.model
    rows = {r.id: r for r in ctx.db.execute(select(model).where(model.id.in_(list(changes)))).scalars()}
    sent = {row_id: stored(c.model_dump(exclude_unset=True)) for row_id, c in changes.items()}
    missing = missing_references(ctx.db, resource, sent.values())
    errors: dict[int, Words] = {}
    for row_id, values in sent.items():
        row = rows.get(row_id)
        if row is None:
            errors[row_id] = Words(N_("%(label)s %(id)s no longer exists."),
                                   {"label": lazy_gettext(resource.label), "id": row_id})
            continue
        try:
            check_version(row, values.pop("version", None))
        except StaleVersion:
            errors[row_id] = Words(N_("Changed by someone else since this page was loaded; reload it."))
            continue
        bad = [k for k, ids in missing.items() if values.get(k) in ids]
        if bad:
            errors[row_id] = reference_error(resource, bad[0], {values[bad[0]]})
    if errors:
        raise RowErrors(errors)
    for row_id, values in sent.items():
        _apply(resource, rows[row_id], resource.rules.prepare_update(ctx, rows[row_id], values), ctx.now)
    changed = [rows[row_id] for row_id in changes if ctx.db.is_modified(rows[row_id])]
    ctx.db.flush()  # only the changed rows are written
    return changed
