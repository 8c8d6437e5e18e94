"""The steps of a revert, one table and one kind of entry each: what a step would restore and
what it cannot (`preview_*`), and the set-based statements that do it (`undo_*`).

Each statement reads the change set's entries in SQL (revert_sql), so the number of
statements depends on the tables and their columns, never on the number of rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    and_,
    case,
    false,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
    update,
)

from admin_app.audit import SECRETS, changes_json, entry_select, insert_entries, recorded_columns
from admin_app.resources.spec import Resource, Rules
from admin_app.services import bulk
from admin_app.services.records import unique_columns
from admin_app.services.revert_sql import (
    ENTRY,
    NEW,
    OLD,
    count_where,
    entity_id,
    entries,
    fields_written,
    first_listed,
    has_field,
    is_postgres,
    joined,
    names_key,
    row_exists,
    still_written,
    value,
)
from admin_app.services.unit import WriteContext

UNUSABLE_SECRET = "!"  # a re-created account's password hash: matches nothing; set a new one
MANY_VALUES = 20  # a rule is asked per restored value up to this many, then once for all


def _conflicts(rows: list[Any], entity: str, reason: str, fields: list[str] | None = None) -> list[dict[str, Any]]:
    return [
        {"entity": entity, "id": int(r.entity_id), "reason": reason,
         "fields": fields if fields is not None else [f for f in r._fields[1:] if getattr(r, f)]}
        for r in rows
    ]


class Step:
    """One table's entries of one action in a change set."""

    def __init__(self, db: Any, resource: Resource, change_set: int, action: str, referencing: Any = ()) -> None:
        self.db, self.resource, self.action, self.change_set = db, resource, action, change_set
        self.referencing = referencing  # Registry.referencing: emptied when created rows are deleted
        self.table = resource.model.__table__
        written = fields_written(db, change_set, resource.name, action)
        self.fields = [f for f in recorded_columns(resource.model) if f in written]
        self.chosen = [*entries(change_set, resource.name, action), or_(false(), *(has_field(db, f) for f in self.fields))]

    def written(self, table: Any | None = None) -> Any:
        return still_written(self.db, self.table if table is None else table, self.fields)

    def differing(self) -> list[Any]:
        """Per field, a flag: the row no longer holds what the change set wrote there."""
        db, table = self.db, self.table
        return [(has_field(db, f) & table.c[f].is_distinct_from(value(db, table.c[f], f, NEW))).label(f)
                for f in self.fields]

    def preview_changed(self, out: Any) -> int:
        """Rows still as written (the count), and those changed or deleted since (listed)."""
        db, table, ok = self.db, self.table, self.written()
        restorable = count_where(db, joined(db, table), *self.chosen, ok)
        changed = select(ENTRY.c.entity_id, *self.differing()).select_from(joined(db, table)).where(*self.chosen, ~ok)
        out.add(_conflicts(first_listed(db, changed), self.resource.name, "changed since"),
                count_where(db, joined(db, table), *self.chosen, ~ok))
        gone = [*self.chosen, ~row_exists(db, table)]
        out.add(_conflicts(first_listed(db, select(ENTRY.c.entity_id).where(*gone)), self.resource.name, "deleted since", []),
                count_where(db, ENTRY, *gone))
        return restorable

    def left_out(self, out: Any, revert: int, done: int) -> None:
        """After the revert: the rows it left out (no entry of its own names them): deleted, or
        changed since, with the fields. None when it restored as many rows as the step has
        entries (one count, not 100,000 entries matched to the revert's)."""
        db, table, name = self.db, self.table, self.resource.name
        if done == count_where(db, ENTRY, *entries(self.change_set, name, self.action)):
            return
        mine = ENTRY.alias("mine")  # uncorrelated: one hashed set, not a lookup per entry
        answered = ENTRY.c.entity_id.in_(select(mine.c.entity_id).where(
            mine.c.change_set_id == revert, mine.c.entity == name, mine.c.entity_id.is_not(None)
        ))
        where = [*self.chosen, ~answered]
        if self.action == "delete":  # re-creations left out: the id or a unique value is taken
            out.add(_conflicts(first_listed(db, select(ENTRY.c.entity_id).where(*where)), name, "changed or deleted since", []),
                    count_where(db, ENTRY, *where))
            return
        rows = first_listed(db, select(ENTRY.c.entity_id, *self.differing()).select_from(joined(db, table)).where(*where))
        out.add([{**c, "reason": "changed since" if c["fields"] else "changed or deleted since"}  # a gone reference
                 for c in _conflicts(rows, name, "")], count_where(db, joined(db, table), *where))
        gone = [*where, ~row_exists(db, table)]
        out.add(_conflicts(first_listed(db, select(ENTRY.c.entity_id).where(*gone)), name, "deleted since", []),
                count_where(db, ENTRY, *gone))

    def not_revertible(self, out: Any) -> None:
        """Secrets changed by this change set (a password): never put back."""
        for column, shown in SECRETS.items():
            if not shown or column not in self.table.c:
                continue
            rows = first_listed(self.db, select(ENTRY.c.entity_id).where(
                *entries(self.change_set, self.resource.name, self.action), names_key(self.db, shown),
            ))
            out.not_revertible += [{"entity": self.resource.name, "id": int(r.entity_id), "fields": [shown]} for r in rows]

    # --- updates ------------------------------------------------------------------------------

    def _source(self) -> tuple[Any, Any, dict[str, tuple[Any, Any, Any]], list[Any]]:
        """Where the entries' values come from: (from, row id, field -> (has, old, new), where).

        PostgreSQL re-parses `json` at every access, and reading the values inside the UPDATE
        cost twice the bulk edit's time: there they are read once, into a materialized CTE.
        SQLite's JSON functions are cheap, and pysqlite reports no row count for a statement
        starting with WITH: there the statements read the entries directly.
        """
        db, table = self.db, self.table
        values = {f: (has_field(db, f), value(db, table.c[f], f, OLD), value(db, table.c[f], f, NEW))
                  for f in self.fields}
        if not is_postgres(db):
            return ENTRY, entity_id(db), values, list(self.chosen)
        columns = [entity_id(db).label("row_id")]
        for f, (has, old, new) in values.items():
            columns += [has.label(f"has_{f}"), old.label(f"old_{f}"), new.label(f"new_{f}")]
        source = select(*columns).where(*self.chosen).cte("source").prefix_with("MATERIALIZED")
        read = {f: (source.c[f"has_{f}"], source.c[f"old_{f}"], source.c[f"new_{f}"]) for f in self.fields}
        return source, source.c.row_id, read, []

    def _restorable(self, table: Any, read: dict[str, tuple[Any, Any, Any]]) -> Any:
        """The row still holds what the change set wrote, and what it points back to exists."""
        ok = and_(true(), *(or_(~has, table.c[f].is_not_distinct_from(new)) for f, (has, _old, new) in read.items()))
        for relation in self.resource.relations:  # a reference to a row that did not come back
            if relation.key in read:
                has, old, _new = read[relation.key]
                target = relation.target.__table__
                ok = and_(ok, or_(~has, old.is_(None), select(target.c.id).where(target.c.id == old).exists()))
        return ok

    def _stamps(self, ctx: WriteContext) -> dict[str, Any]:
        stamps: dict[str, Any] = {}
        if "updated_at" in self.table.c:
            stamps["updated_at"] = ctx.now
        if self.resource.versioned:
            stamps["version"] = self.table.c.version + 1
        return stamps

    def undo_updates(self, ctx: WriteContext) -> int:
        if is_postgres(self.db) and type(self.resource.rules).check_bulk is Rules.check_bulk:
            return self._undo_updates_at_once(ctx)
        db, table = self.db, self.table
        if is_postgres(db):  # the rows stay as checked until the transaction ends
            ids = select(entity_id(db)).where(*entries(self.change_set, self.resource.name, self.action))
            db.execute(select(table.c.id).where(table.c.id.in_(ids)).order_by(table.c.id).with_for_update())
        source, row_id, read, where = self._source()
        ok = self._restorable(table, read)
        restored = {f: case((has, old), else_=table.c[f]) for f, (has, old, _new) in read.items()}
        changes = changes_json(db, [(f, table.c[f], restored[f]) for f in self.fields], only_changed=True)
        db.execute(insert_entries(
            select(*entry_select(db, ctx.actor, "update", self.resource.name, table.c.id, changes))
            .select_from(source.join(table, table.c.id == row_id)).where(*where, ok)
        ))
        self.ask_rules(ctx, "check_bulk")  # from the entries just written: the values being restored
        done = db.execute(
            update(table).where(table.c.id == row_id, *where, ok).values(**restored, **self._stamps(ctx))
        ).rowcount or 0
        self.ask_rules(ctx, "after_bulk")
        return done

    def _undo_updates_at_once(self, ctx: WriteContext) -> int:
        """PostgreSQL, on a table with no bulk rule to ask before writing: one statement, as a bulk
        edit is (lock the rows still as written, in id order; update them; record each from
        RETURNING). Three statements (lock, entries, update) read the entries twice and walked
        the rows three times: a revert took a fifth longer than the bulk edit it undid."""
        db, table = self.db, self.table
        source, row_id, read, _where = self._source()
        current = [table.c[f].label(f"cur_{f}") for f in self.fields]
        carried = [c for f in self.fields for c in (source.c[f"has_{f}"], source.c[f"old_{f}"])]
        locked = (
            select(table.c.id, *current, *carried).select_from(source.join(table, table.c.id == row_id))
            .where(self._restorable(table, read)).order_by(table.c.id).with_for_update(of=table).cte("locked")
        )
        restored = {f: case((locked.c[f"has_{f}"], locked.c[f"old_{f}"]), else_=locked.c[f"cur_{f}"])
                    for f in self.fields}
        # RETURNING carries the values read when locking: no join back to `locked` (estimated
        # at one row, that join was a nested loop over 100,000 x 100,000 rows).
        changed = (
            update(table).where(table.c.id == locked.c.id).values(**restored, **self._stamps(ctx))
            .returning(table.c.id, *[locked.c[f"cur_{f}"] for f in self.fields],
                       *[restored[f].label(f"restored_{f}") for f in self.fields])
            .cte("changed")
        )
        changes = changes_json(db, [(f, changed.c[f"cur_{f}"], changed.c[f"restored_{f}"]) for f in self.fields],
                               only_changed=True)
        done = db.execute(insert_entries(
            select(*entry_select(db, ctx.actor, "update", self.resource.name, changed.c.id, changes))
        )).rowcount or 0
        self.ask_rules(ctx, "after_bulk")
        return done

    def ask_rules(self, ctx: WriteContext, hook: str) -> None:
        """Call the table's bulk rule as a bulk edit would: per field and restored value, on the
        rows getting it back (read from the revert's own entries, the change set `ctx` writes)."""
        rules = self.resource.rules
        if getattr(type(rules), hook) is getattr(Rules, hook) or ctx.change_set_id is None:
            return
        db, table = self.db, self.table
        mine = entries(ctx.change_set_id, self.resource.name, "update")
        for f in self.fields:
            new = value(db, table.c[f], f, NEW)
            values = db.execute(
                select(type_coerce(new, table.c[f].type)).where(*mine, has_field(db, f)).distinct().limit(MANY_VALUES + 1)
            ).scalars().all()
            if len(values) > MANY_VALUES:
                rows = table.c.id.in_(select(entity_id(db)).where(*mine, has_field(db, f)))
                getattr(rules, hook)(ctx, rows, {f: None})
                continue
            for v in values:
                same = new.is_not_distinct_from(literal(v, table.c[f].type))
                getattr(rules, hook)(ctx, table.c.id.in_(select(entity_id(db)).where(*mine, has_field(db, f), same)), {f: v})

    # --- deletes: re-create -------------------------------------------------------------------

    def _recreated(self) -> dict[str, Any]:
        """The values a deleted row comes back with; a reference whose target is gone is empty."""
        db, table = self.db, self.table
        values = {f: value(db, table.c[f], f, OLD) for f in self.fields}
        for relation in self.resource.relations:
            target, old = relation.target.__table__, values[relation.key]
            values[relation.key] = case((select(target.c.id).where(target.c.id == old).exists(), old), else_=None)
        return values

    def _free(self) -> list[Any]:
        """No row has the id or a unique value of the deleted one now."""
        db, table = self.db, self.table
        other = table.alias("present")
        free = [~row_exists(db, other)]
        for column in unique_columns(self.resource):
            free.append(~select(other.c.id).where(other.c[column] == value(db, table.c[column], column, OLD)).exists())
        return free

    def preview_deleted(self, out: Any) -> int:
        db, table, name = self.db, self.table, self.resource.name
        free = self._free()
        other = table.alias("present")
        back = first_listed(db, select(ENTRY.c.entity_id).where(*self.chosen, row_exists(db, other)))
        out.add(_conflicts(back, name, "exists again", []), count_where(db, ENTRY, *self.chosen, row_exists(db, other)))
        for column in unique_columns(self.resource):
            taken = select(other.c.id).where(other.c[column] == value(db, table.c[column], column, OLD)).exists()
            where = [*self.chosen, ~row_exists(db, other), taken]
            out.add(_conflicts(first_listed(db, select(ENTRY.c.entity_id).where(*where)), name, "value taken", [column]),
                    count_where(db, ENTRY, *where))
        for relation in self.resource.relations:
            target, old = relation.target.__table__, value(db, table.c[relation.key], relation.key, OLD)
            lost = [*self.chosen, *free, old.is_not(None), ~select(target.c.id).where(target.c.id == old).exists()]
            out.references_cleared += [
                {"entity": name, "id": int(r.entity_id), "field": relation.key}
                for r in first_listed(db, select(ENTRY.c.entity_id).where(*lost))
            ]
        return count_where(db, ENTRY, *self.chosen, *free)

    def undo_deletes(self, ctx: WriteContext) -> int:
        db, table, name = self.db, self.table, self.resource.name
        values, free = self._recreated(), self._free()
        changes = changes_json(db, [(f, literal_column("NULL"), values[f]) for f in self.fields])
        db.execute(insert_entries(
            select(*entry_select(db, ctx.actor, "create", name, entity_id(db), changes)).where(*self.chosen, *free)
        ))
        stamps = {c: literal(ctx.now, table.c[c].type) for c in ("created_at", "updated_at") if c in table.c}
        if self.resource.versioned:
            stamps["version"] = literal(1)
        stamps.update({c: literal(UNUSABLE_SECRET) for c in SECRETS if c in table.c and not table.c[c].nullable})
        columns = {"id": entity_id(db), **values, **stamps}
        return db.execute(insert(table).from_select(
            list(columns), select(*columns.values()).where(*self.chosen, *free)
        )).rowcount or 0

    # --- creates: delete where unchanged --------------------------------------------------------

    def undo_creates(self, ctx: WriteContext) -> int:
        other = self.table.alias("created")
        ids = select(entity_id(self.db)).select_from(joined(self.db, other)).where(*self.chosen, self.written(other))
        return bulk.delete_where(ctx, self.resource, [self.table.c.id.in_(ids)], self.referencing)
