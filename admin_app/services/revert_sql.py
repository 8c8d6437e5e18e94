"""Reading audit entries in SQL: a field's old or new value as the column stores it.

A revert is built from the entries (`changes` = {"field": [old, new]}) without loading them:
these expressions read one value of one entry, per dialect, so one statement serves every
row of a change set. Values were written as JSON by the flush hook (ISO 8601 times) or by a
set-based statement (the column's own text on SQLite); both read back as the column stores
them, so "still equal to what the change set wrote" is a plain comparison.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, DateTime, Integer, and_, case, cast, func, literal, or_, select, type_coerce
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from models import AuditEntry

ENTRY = AuditEntry.__table__
LISTED = 100  # conflicts listed per kind and table; their counts are exact
OLD, NEW = 0, 1


def is_postgres(db: Session) -> bool:
    return db.get_bind().dialect.name == "postgresql"


def has_field(db: Session, field: str) -> Any:
    """The entry names `field` with an [old, new] pair (a password's "changed" is no pair)."""
    if is_postgres(db):
        kind = func.json_typeof(type_coerce(ENTRY.c.changes, postgresql.JSON)[field])
    else:
        kind = func.json_type(ENTRY.c.changes, f'$."{field}"')
    return func.coalesce(kind, "") == "array"  # never NULL: `NOT has_field` must be true for a missing key


def names_key(db: Session, key: str) -> Any:
    """The entry names `key` at all (a password's "changed")."""
    if is_postgres(db):
        return type_coerce(ENTRY.c.changes, postgresql.JSON)[key].is_not(None)
    return func.json_type(ENTRY.c.changes, f'$."{key}"').is_not(None)


def _raw(db: Session, field: str, index: int) -> Any:
    if is_postgres(db):
        return type_coerce(ENTRY.c.changes, postgresql.JSON)[field][index].astext
    return func.json_extract(ENTRY.c.changes, f'$."{field}"[{index}]')


def value(db: Session, column: Any, field: str, index: int) -> Any:
    """The entry's old (index 0) or new (1) value of `field`, typed and formatted as `column`."""
    raw = _raw(db, field, index)
    if is_postgres(db):
        return cast(raw, column.type)
    if isinstance(column.type, DateTime) or isinstance(getattr(column.type, "impl", None), DateTime):
        # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff"; an entry may hold ISO 8601 (T, +00:00, no
        # fraction when it is zero). Every stored time is UTC.
        with_fraction = func.replace(func.substr(raw, 1, 26), "T", " ")
        whole = func.replace(func.substr(raw, 1, 19), "T", " ") + literal(".000000")
        return case((raw.is_(None), None), (func.substr(raw, 20, 1) == ".", with_fraction), else_=whole)
    if isinstance(column.type, Date):
        return func.substr(raw, 1, 10)
    return raw


def fields_written(db: Session, change_set: int, entity: str, action: str) -> set[str]:
    """The fields a change set's entries of one table and kind name (one pass over them): the
    statements then read only those, not every column of the table."""
    where = entries(change_set, entity, action)
    if is_postgres(db):
        query = select(func.json_object_keys(ENTRY.c.changes)).where(*where, ENTRY.c.changes.is_not(None))
    else:
        keys = func.json_each(ENTRY.c.changes).table_valued("key", joins_implicitly=True)
        query = select(keys.c.key).select_from(ENTRY).join(keys, literal(True)).where(*where)
    return set(db.execute(query.distinct()).scalars())


def entity_id(db: Session) -> Any:
    return cast(ENTRY.c.entity_id, Integer)


def entries(change_set: int, entity: str, action: str) -> list[Any]:
    """The conditions choosing a change set's entries of one table and kind."""
    return [ENTRY.c.change_set_id == change_set, ENTRY.c.entity == entity, ENTRY.c.action == action]


def still_written(db: Session, table: Any, fields: list[str], index: int = NEW) -> Any:
    """Every field the entry wrote still holds the value it wrote (`index` NEW), for one row."""
    return and_(*(
        or_(~has_field(db, f), table.c[f].is_not_distinct_from(value(db, table.c[f], f, index)))
        for f in fields
    ))


def entry_of(db: Session, table: Any, change_set: int, entity: str, action: str) -> Any:
    """A correlated EXISTS: the row has an entry of `action` in the change set."""
    return select(ENTRY.c.id).where(*entries(change_set, entity, action), entity_id(db) == table.c.id).exists()


# --- queries over a change set's entries and the rows they name ---------------------------------

def joined(db: Any, table: Any) -> Any:
    return ENTRY.join(table, table.c.id == entity_id(db))


def row_exists(db: Any, table: Any) -> Any:
    return select(table.c.id).where(table.c.id == entity_id(db)).exists()


def count_where(db: Any, source: Any, *where: Any) -> int:
    return db.execute(select(func.count()).select_from(source).where(*where)).scalar_one()


def first_listed(db: Any, query: Any) -> list[Any]:
    """The first LISTED rows of a query over entries, in entry order."""
    return db.execute(query.order_by(ENTRY.c.id).limit(LISTED)).all()
