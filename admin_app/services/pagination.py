"""Keyset pagination: order by one column plus id, and an opaque cursor naming the last row seen.

A page starts strictly after the cursor's (value, id), so deep pages cost what the first
does (no OFFSET) and rows inserted or deleted meanwhile neither repeat nor vanish. A NULL
counts as greater than any value (last ascending, first descending: PostgreSQL's own
order, so a (column, id) index serves both directions). The cursor records the sort it
was made for; using it with another sort is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Optional

from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy import ColumnElement, Select, and_, or_, tuple_
from sqlmodel import Session

from admin_app.errors import InvalidInput
from admin_app.i18n import N_
from models.common import MAX_DB_ID

MAX_CURSOR_LENGTH = 1000
# What encode_cursor writes: unpadded base64url.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*$"


@dataclass(frozen=True)
class SortKey:
    """A sortable column and the type a cursor value for it must have."""

    column: Any  # an ORM attribute, e.g. Task.priority, or a joined row's (the assignee's email)
    value_type: Any  # validated with pydantic: bounds and text rules keep bad cursors out of SQL
    nullable: bool = False
    value: Callable[[Any], Any] | None = None  # a row's value, when not its attribute of that name
    join: str | None = None  # the relation the query must join for `column`

    def value_of(self, row: Any, field: str) -> Any:
        return self.value(row) if self.value is not None else getattr(row, field)

    @cached_property
    def adapter(self) -> TypeAdapter[Any]:
        return TypeAdapter(Optional[self.value_type] if self.nullable else self.value_type)  # noqa: UP045


@dataclass(frozen=True)
class Ordering:
    name: str  # as the client wrote it: "priority" or "-priority"
    field: str
    key: SortKey
    descending: bool


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def sort_choices(keys: Mapping[str, SortKey]) -> tuple[str, ...]:
    """Every accepted `sort` value: each key, ascending and with `-` descending."""
    return tuple(name for key in keys for name in (key, f"-{key}"))


def parse_sort(sort: str, keys: Mapping[str, SortKey]) -> Ordering:
    field = sort.removeprefix("-")
    if field not in keys:
        raise InvalidInput(N_("sort: one of %(keys)s, with '-' for descending"), keys=", ".join(sorted(keys)))
    return Ordering(name=sort, field=field, key=keys[field], descending=sort.startswith("-"))


def encode_cursor(ordering: Ordering, value: Any, row_id: int) -> str:
    payload = {"s": ordering.name, "v": to_jsonable_python(value), "i": row_id}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, ordering: Ordering) -> tuple[Any, int]:
    """The (value, id) a cursor names; InvalidInput for anything we did not hand out."""
    invalid = InvalidInput(N_("cursor: not a cursor this list handed out; start again without one"))
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid
    try:
        padded = cursor.encode("ascii") + b"=" * (-len(cursor) % 4)
        payload = json.loads(base64.b64decode(padded, altchars=b"-_", validate=True))
    except (ValueError, binascii.Error) as exc:
        raise invalid from exc
    if not isinstance(payload, dict) or set(payload) != {"s", "v", "i"}:
        raise invalid
    if payload["s"] != ordering.name:
        raise InvalidInput(
            N_("cursor: it belongs to sort=%(used)s, not sort=%(sort)s; "
               "keep the sort while paging or start again without a cursor"),
            used=f"{payload['s']!s:.40}", sort=ordering.name,
        )
    row_id = payload["i"]
    if type(row_id) is not int or not 0 <= row_id <= MAX_DB_ID:
        raise invalid
    try:
        value = ordering.key.adapter.validate_python(payload["v"])
    except ValidationError as exc:
        raise invalid from exc
    return value, row_id


def order_by(ordering: Ordering, id_column: Any) -> list[Any]:
    column = ordering.key.column
    if ordering.field == "id":
        return [id_column.desc() if ordering.descending else id_column.asc()]
    if ordering.descending:
        primary = column.desc().nulls_first() if ordering.key.nullable else column.desc()
        return [primary, id_column.desc()]
    primary = column.asc().nulls_last() if ordering.key.nullable else column.asc()
    return [primary, id_column.asc()]


def after(ordering: Ordering, id_column: Any, value: Any, row_id: int) -> ColumnElement[bool]:
    """Rows that come strictly after (value, row_id) in this ordering."""
    column, descending = ordering.key.column, ordering.descending
    id_beyond = id_column < row_id if descending else id_column > row_id
    if ordering.field == "id":
        return id_beyond
    if value is None:  # among the NULLs: the last group ascending, the first descending
        among_nulls = and_(column.is_(None), id_beyond)
        return or_(among_nulls, column.is_not(None)) if descending else among_nulls
    position = tuple_(column, id_column)
    beyond = position < (value, row_id) if descending else position > (value, row_id)
    # Redundant with `beyond`, but lets a one-column index narrow the scan as well.
    reached = column <= value if descending else column >= value
    condition = and_(reached, beyond)
    if ordering.key.nullable and not descending:
        condition = or_(condition, column.is_(None))
    return condition


def paginate(
    db: Session,
    query: Select[Any],
    *,
    ordering: Ordering,
    id_column: Any,
    limit: int,
    cursor: str | None,
) -> Page:
    """One page of `query` (which selects one entity) in `ordering`, and the cursor for the next."""
    if cursor:
        value, row_id = decode_cursor(cursor, ordering)
        query = query.where(after(ordering, id_column, value, row_id))
    query = query.order_by(*order_by(ordering, id_column)).limit(limit + 1)
    rows: Sequence[Any] = db.execute(query).unique().scalars().all()
    items = list(rows[:limit])
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor(ordering, ordering.key.value_of(last, ordering.field), last.id)
    return Page(items=items, next_cursor=next_cursor)
