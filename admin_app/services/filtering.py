"""Which rows: a table's declared filters as one pydantic model and as SQL.

The same model is the API list's query parameters, the `filter` of a bulk request, and what
the admin list's URL describes; its conditions serve the list, the count, the export and
bulk edits on all matching rows. So a filter is defined once and means the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BeforeValidator, ConfigDict, ValidationError, create_model, field_validator
from pydantic import Field as PydanticField
from pydantic.fields import FieldInfo
from sqlalchemy import Boolean as SABoolean
from sqlalchemy import ColumnElement, Date, DateTime, Integer
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from admin_app.errors import InvalidInput
from admin_app.i18n import N_
from admin_app.resources.spec import Boolean, Choice, DateRange, Lookup, Range, Resource
from admin_app.services.search import contains_text
from admin_app.services.wording import Invalid
from models.common import (
    TEXT_PATTERN,
    DbId,
    IsoDate,
    UTCTimestamp,
    jsonable,
    reject_control_characters,
    utcnow,
)

SEARCH = "q"  # the API's name; the admin's search box is `search`
ADMIN_SEARCH = "search"
PRESET = "preset"
ALL = "__all"  # the filter sidebar's "All" choice


class FilterBase(SQLModel):
    """A table's filter model derives from this: unknown names are refused."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    def is_empty(self) -> bool:
        return not self.model_dump(exclude_none=True)


def _as_list(value: Any) -> Any:
    """A single value where several are allowed (`"priority": 4` in a JSON body)."""
    return value if value is None or isinstance(value, list) else [value]


def _clean_search(value: str | None) -> str | None:
    value = reject_control_characters(value)
    return value.strip() or None if value is not None else None


@dataclass(frozen=True)
class Param:
    """One field of the filter model: its API name, admin URL name, type and SQL."""

    name: str  # "assignee_id"
    admin: str  # "assignee"
    label: str  # how messages name it: "Assignee"
    annotation: Any
    info: FieldInfo
    condition: Callable[[Any], ColumnElement[bool]]
    multi: bool = False  # several values: repeated in the API, comma-separated in the admin


def value_type(resource: Resource, column_name: str) -> Any:
    """The type a value of this column must have: the create schema's, else the column's."""
    info = resource.schemas.create.model_fields.get(column_name)
    if info is not None:
        annotation = info.annotation
        if get_origin(annotation) in (Union, type(int | None)):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        # The validation constraints (Ge, Le, validators); not SQLModel's column settings.
        metadata = [m for m in info.metadata if type(m).__name__ != "FieldInfoMetadata"]
        return Annotated[annotation, *metadata] if metadata else annotation
    return column_type(getattr(resource.model, column_name), text=Annotated[str, PydanticField(max_length=200)])


def column_type(column: Any, *, integer: Any = int, text: Any = str) -> Any:
    """The Python type of a column's values, by its SQL type (`integer` and `text` for those kinds)."""
    kind = column.type
    kind = kind.impl if isinstance(kind, TypeDecorator) else kind
    if isinstance(kind, DateTime):
        return UTCTimestamp
    if isinstance(kind, Date):
        return IsoDate
    if isinstance(kind, SABoolean):
        return bool
    if isinstance(kind, Integer):
        return integer
    return text


def _params(resource: Resource) -> list[Param]:
    params: list[Param] = []
    for spec in resource.filters:
        if isinstance(spec, Lookup):
            relation = resource.relation(spec.relation)
            column = getattr(resource.model, relation.key)
            params.append(Param(
                relation.key, relation.param, relation.label, DbId | None,
                PydanticField(default=None, description=f"Only rows with this {relation.label.lower()} (id)"),
                lambda v, c=column: c == v,
            ))
            continue
        name, label, column = spec.field, resource.label_of(spec.field), resource.column(spec.field)
        kind = value_type(resource, getattr(resource.field(name), "key", name))
        if isinstance(spec, Choice):
            params.append(Param(
                name, name, label, Annotated[list[kind] | None, BeforeValidator(_as_list)],
                PydanticField(default=None, min_length=1, description=f"Any of these {label.lower()} values"),
                lambda v, c=column: c.in_([jsonable(x) for x in v]), multi=True,
            ))
        elif isinstance(spec, Range):
            for end, compare in (("min", column.__ge__), ("max", column.__le__)):
                params.append(Param(
                    f"{name}_{end}", f"{name}_{end}", f"{label} {'from' if end == 'min' else 'to'}",
                    kind | None, PydanticField(default=None, description=f"{label}, {end}imum (included)"),
                    compare,
                ))
        elif isinstance(spec, DateRange):
            for end, compare in (("after", column.__gt__), ("before", column.__lt__)):
                params.append(Param(
                    f"{spec.prefix}_{end}", f"{spec.prefix}_{end}", f"{label} {end}", kind | None,
                    PydanticField(default=None, description=f"{label} strictly {end} this"), compare,
                ))
        elif isinstance(spec, Boolean):
            params.append(Param(
                name, name, label, bool | None, PydanticField(default=None, description=label),
                lambda v, c=column: c.is_(v),
            ))
    return params


class Filters:
    """A resource's filters, compiled once: the model, the parameters and their SQL."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        self.params = {p.name: p for p in _params(resource)}
        fields: dict[str, Any] = {}
        validators: dict[str, Any] = {}
        if resource.searchable:
            searched = ", ".join(resource.label_of(n).lower() for n in resource.searchable)
            fields[SEARCH] = (str | None, PydanticField(
                default=None, max_length=200, description=f"Substring of {searched}",
                json_schema_extra={"pattern": TEXT_PATTERN},
            ))
            validators["_clean_q"] = field_validator(SEARCH)(_clean_search)
        if resource.presets:
            names = tuple(p.name for p in resource.presets)
            fields[PRESET] = (Literal[names] | None, PydanticField(  # type: ignore[valid-type]
                default=None, description="A named filter: " + ", ".join(
                    f"`{p.name}` ({p.label.lower()})" for p in resource.presets
                ),
            ))
        for param in self.params.values():
            fields[param.name] = (param.annotation, param.info)
        self.model: type[FilterBase] = create_model(  # type: ignore[call-overload]
            f"{resource.model.__name__}Filter", __base__=FilterBase, __validators__=validators,
            __module__=__name__, **fields,
        )
        self.labels = {p.name: p.label for p in self.params.values()} | {SEARCH: "Search", PRESET: "Show"}
        self.admin_names = {p.admin: p for p in self.params.values()}

    def conditions(self, spec: FilterBase, today: date | None = None) -> list[ColumnElement[bool]]:
        """SQL for a filter (ANDed); a preset adds the conditions of its own values."""
        values = spec.model_dump(exclude_none=True)
        conditions: list[ColumnElement[bool]] = []
        query = values.pop(SEARCH, None)
        if query:
            columns = [getattr(self.resource.model, n) for n in self.resource.searchable]
            index = f"{self.resource.model.__tablename__}_search" if self.resource.search_index else None
            conditions.append(contains_text(query, *columns, index=index, row_id=self.resource.model.id))
        preset = values.pop(PRESET, None)
        if preset is not None:
            chosen = next(p for p in self.resource.presets if p.name == preset)
            resolved = self.model.model_validate(chosen.resolve(today or utcnow().date()))
            conditions += self.conditions(resolved, today)
        for name, value in values.items():
            conditions.append(self.params[name].condition(value))
        return conditions

    def from_admin(self, params: Mapping[str, str]) -> FilterBase:
        """The filter an admin list URL describes; InvalidInput (worded for staff) when invalid."""
        data: dict[str, Any] = {}
        search = params.get(ADMIN_SEARCH)
        if SEARCH in self.model.model_fields and _given(search):
            data[SEARCH] = search
        preset = params.get(PRESET)
        if PRESET in self.model.model_fields and _given(preset):
            data[PRESET] = preset.strip()  # type: ignore[union-attr]
        for admin_name, param in self.admin_names.items():
            value = params.get(admin_name)
            if not _given(value):
                continue
            value = value.strip()  # type: ignore[union-attr]
            data[param.name] = [v for v in value.split(",") if v] if param.multi else value
        try:
            return self.model.model_validate(data)
        except ValidationError as exc:
            raise InvalidInput(N_("Invalid filter: %(why)s"), why=Invalid(exc, self.labels)) from exc

    def admin_query(self, spec: FilterBase) -> dict[str, str]:
        """The admin URL parameters for a filter (the inverse of from_admin)."""
        out: dict[str, str] = {}
        for name, value in spec.model_dump(exclude_none=True).items():
            if name == SEARCH:
                out[ADMIN_SEARCH] = value
            elif name == PRESET:
                out[PRESET] = value
            else:
                param = self.params[name]
                shown = [jsonable(v) for v in value] if param.multi else [jsonable(value)]
                out[param.admin] = ",".join(str(v) for v in shown)
        return out


def _given(value: str | None) -> bool:
    return value is not None and value.strip() not in ("", ALL)


@cache
def filters_of(resource: Resource) -> Filters:
    return Filters(resource)
