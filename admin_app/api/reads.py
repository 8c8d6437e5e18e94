"""One row as the API shows it, read by one Core statement: the columns its public model
names, and each shown relation's fields (a task's assignee) through a LEFT JOIN.

`GET /api/<table>/{id}` is what scripts send most; loading ORM objects (identity map,
eager-load machinery) for a row that is only turned into JSON was a sixth of its server CPU.
The values are the columns' own (their types convert them as for the ORM), validated by the
same public model, so the JSON is the one every other endpoint answers (a test compares).
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, bindparam, select

from admin_app.resources.spec import Resource


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """`UserRef` from `UserRef | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((a for a in typing.get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)), None)


class RowReader:
    """The public fields of one row by id; `None` from `build` when a field is neither a column
    nor a shown relation (that table's reads stay with the ORM)."""

    def __init__(self, statement: Any, nested: dict[str, dict[str, str]]) -> None:
        self.statement = statement
        self.nested = nested  # relation -> {its field: the column label in the row}

    @classmethod
    def build(cls, resource: Resource, public: type[BaseModel], shown: list[str]) -> RowReader | None:
        table = resource.model.__table__
        relations = {r.name: r for r in resource.relations if r.name in shown}
        columns: list[Any] = []
        source: Any = table
        nested: dict[str, dict[str, str]] = {}
        for name, field in public.model_fields.items():
            if name in table.c:
                columns.append(table.c[name])
                continue
            relation, model = relations.get(name), _model_of(field.annotation)
            if relation is None or model is None:
                return None
            target = relation.target.__table__.alias(f"{name}_row")
            if any(f not in target.c for f in model.model_fields):
                return None
            nested[name] = {f: f"{name}__{f}" for f in model.model_fields}
            columns += [target.c[f].label(label) for f, label in nested[name].items()]
            source = source.outerjoin(target, target.c.id == table.c[relation.key])
        return cls(select(*columns).select_from(source).where(table.c.id == bindparam("row_id")), nested)

    def read(self, connection: Connection, row_id: int) -> dict[str, Any] | None:
        row = connection.execute(self.statement, {"row_id": row_id}).mappings().first()
        if row is None:
            return None
        values = dict(row)
        for name, labels in self.nested.items():
            related = {f: values.pop(label) for f, label in labels.items()}
            values[name] = related if related.get("id") is not None else None
        return values
