"""Models derived from a table's declaration and its Update schema, shared by every channel."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import ConfigDict, create_model

from admin_app.resources.spec import Relation, Resource, SetField
from models.common import Patch


def bulk_columns(resource: Resource) -> list[str]:
    """The columns bulk actions set (a relation's foreign key for a relation)."""
    names = dict.fromkeys(a.field for a in resource.actions if isinstance(a, SetField))
    columns = []
    for name in names:
        found = resource.field(name)
        columns.append(found.key if isinstance(found, Relation) else found.name)
    return columns


@cache
def bulk_set_model(resource: Resource) -> type[Patch]:
    """What a bulk edit may set: the bulk actions' fields, validated as the Update schema does."""
    update = resource.schemas.update
    fields: dict[str, Any] = {}
    for column in bulk_columns(resource):
        info = update.model_fields[column]
        fields[column] = (info.annotation, info)
    model = create_model(  # type: ignore[call-overload]
        f"{resource.model.__name__}BulkSet", __base__=Patch, __module__=__name__,
        __config__=None, **fields,
    )
    model.model_config = ConfigDict(extra="forbid")
    model.model_rebuild(force=True)
    table = resource.model.__table__
    model.not_null = tuple(n for n in fields if not table.c[n].nullable)  # what the table cannot hold
    model.__doc__ = "Fields a bulk edit may set; absent fields are left alone, a null foreign key clears it."
    return model
