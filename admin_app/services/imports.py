"""Imports for every table: many rows, each with its own values, in one transaction.

A row is created, or updates an existing row: the one its `id` names (the file was exported
and edited), else the one its `import_key` matches (a project's code). An update by id checks
the version the file was exported at: a row changed since is a conflict, not overwritten.
Only rows whose values differ are written. `dry_run` says what would happen without writing
(the import's preview); the write checks again, in its own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import insert, select

from admin_app.audit import created_entries, record
from admin_app.errors import Conflict, InvalidInput, Words
from admin_app.i18n import N_, lazy_noun
from admin_app.resources.spec import Resource
from admin_app.services.records import missing_references, reference_error, stored
from admin_app.services.search import merge_pending_search_entries
from admin_app.services.unit import WriteContext

IMPORT_BATCH = 1000


@dataclass(frozen=True)
class ImportRow:
    """One validated row of a file; `row_id` and `version` when the file has those columns."""

    values: BaseModel
    row_id: int | None = None
    version: int | None = None


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    # (index in the rows given, message): ids that name no row, rows changed since the export
    problems: tuple[tuple[int, Words], ...] = field(default=())


class _Blank:
    """A row that does not exist yet: every field is empty (for `Rules.derived`)."""

    def __getattr__(self, name: str) -> None:
        return None


def import_rows(
    ctx: WriteContext, resource: Resource, rows: Sequence[BaseModel | ImportRow], columns: set[str] | None = None,
    *, dry_run: bool = False, numbers: Sequence[int] | None = None,
) -> ImportResult:
    """Create the rows, or update those an id or the `import_key` names (only `columns`, the file's).

    `numbers`: each row's number in the file, for the refusal's message (else 1, 2, ...).

    New rows go in set-wise (multi-row INSERTs, their entries by INSERT ... SELECT); rows
    matched are updated through the ORM, so only those whose values differ are written.
    Written (not `dry_run`), any problem refuses the whole import (Conflict).
    """
    given = [r if isinstance(r, ImportRow) else ImportRow(r) for r in rows]
    values = [stored(r.values.model_dump()) for r in given]
    for key, ids in missing_references(ctx.db, resource, values).items():
        raise InvalidInput(reference_error(resource, key, ids))
    by_id = _by_id(ctx, resource, [r.row_id for r in given if r.row_id is not None])
    by_key = _existing(ctx, resource, [v for r, v in zip(given, values, strict=True) if r.row_id is None])
    key, noun = resource.import_key, lazy_noun(resource.label)
    creates, problems, updated, unchanged = [], [], 0, 0
    for index, (row_in, value) in enumerate(zip(given, values, strict=True)):
        if row_in.row_id is not None:
            row = by_id.get(row_in.row_id)
            if row is None:
                problems.append((index, Words(N_("No %(noun)s with id %(id)s (deleted since the export?); "
                                                 "clear the id to create it again."),
                                              {"noun": noun, "id": row_in.row_id})))
                continue
            if resource.versioned and row_in.version is not None and row.version != row_in.version:
                problems.append((index, Words(N_("Changed by someone else since the export (version %(stored)s, "
                                                 "the file has %(sent)s): export again and redo the change."),
                                              {"stored": row.version, "sent": row_in.version})))
                continue
        else:
            row = by_key.get(value[key]) if key is not None else None
        if row is None:
            creates.append(value)
            continue
        changes = {k: v for k, v in value.items() if columns is None or k in columns}
        if dry_run:
            differs = any(getattr(row, k) != v for k, v in changes.items())
            updated, unchanged = updated + differs, unchanged + (not differs)
            continue
        changes = resource.rules.prepare_update(ctx, row, changes)
        for name, new in {**changes, **resource.rules.derived(changes, row, ctx.now)}.items():
            setattr(row, name, new)
        modified = ctx.db.is_modified(row)
        updated, unchanged = updated + modified, unchanged + (not modified)
    if dry_run:
        return ImportResult(len(creates), updated, unchanged, tuple(problems))
    if problems:
        first = problems[0][0]
        raise Conflict(N_("row %(row)s of the file: %(problem)s"),
                       row=numbers[first] if numbers is not None else first + 1, problem=problems[0][1])
    ctx.db.flush()
    _insert(ctx, resource, creates)
    if creates or updated:
        merge_pending_search_entries(ctx.db, resource.model.__tablename__)  # as after a bulk edit
    result = ImportResult(len(creates), updated, unchanged)
    record(ctx.db, "import", resource.name, details={
        "rows": len(values), "created": result.created, "updated": result.updated,
    }, actor=ctx.actor)
    return result


def _by_id(ctx: WriteContext, resource: Resource, ids: list[int]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for start in range(0, len(ids), IMPORT_BATCH):
        batch = ids[start : start + IMPORT_BATCH]
        found.update({r.id: r for r in ctx.db.execute(select(resource.model).where(resource.model.id.in_(batch))).scalars()})
    return found


def _existing(ctx: WriteContext, resource: Resource, values: list[dict[str, Any]]) -> dict[Any, Any]:
    key = resource.import_key
    if key is None:
        return {}
    column, keys = getattr(resource.model, key), [v[key] for v in values]
    found: dict[Any, Any] = {}
    for start in range(0, len(keys), IMPORT_BATCH):
        batch = keys[start : start + IMPORT_BATCH]
        found.update({getattr(r, key): r for r in ctx.db.execute(select(resource.model).where(column.in_(batch))).scalars()})
    return found


def _insert(ctx: WriteContext, resource: Resource, creates: list[dict[str, Any]]) -> None:
    table = resource.model.__table__
    stamps = {c: ctx.now for c in ("created_at", "updated_at") if c in table.c}
    if resource.versioned:
        stamps["version"] = 1
    blank = _Blank()
    rows = []
    for value in creates:
        value = resource.rules.prepare_create(ctx, dict(value))
        rows.append({**stamps, **value, **resource.rules.derived(value, blank, ctx.now)})
    for start in range(0, len(rows), IMPORT_BATCH):
        inserted = ctx.db.execute(
            insert(table).returning(table.c.id), rows[start : start + IMPORT_BATCH]
        ).scalars().all()
        created_entries(ctx.db, resource.model, resource.name, table.c.id.in_(inserted), ctx.actor)

