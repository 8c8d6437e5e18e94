"""The API's request and response models for one table, derived from its declaration."""

from __future__ import annotations

import types
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import ConfigDict, create_model, field_validator, model_validator
from pydantic import Field as PydanticField
from sqlmodel import SQLModel

from admin_app.resources.spec import Resource
from admin_app.services.bulk import MAX_BULK_IDS
from admin_app.services.filtering import SEARCH, FilterBase, filters_of
from admin_app.services.listing import listing_of
from admin_app.services.pagination import CURSOR_PATTERN, MAX_CURSOR_LENGTH, sort_choices
from admin_app.services.schemas import bulk_set_model
from models.common import NON_BLANK_TEXT_PATTERN, NOT_SPACE, DbId, YesNo
from models.saved_view import NAME_MAX as VIEW_NAME_MAX


def _whole_numbers(annotation: Any) -> bool:
    """Whether a field holds a whole number (or a list of them): int, int | None, DbId, list[DbId]."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _whole_numbers(get_args(annotation)[0])
    if origin in (Union, types.UnionType, list):
        return any(_whole_numbers(a) for a in get_args(annotation))
    return annotation is int


def _not_text(value: Any) -> Any:
    """A JSON number, as the schema says: pydantic alone would also take "3" and true."""
    for item in value if isinstance(value, list) else (value,):
        if isinstance(item, str | bool):
            raise ValueError("expected a whole number, not text or true/false")  # the API only: English
    return value


@cache
def json_typed(model: type[Any] | None) -> type[Any] | None:
    """`model` for a JSON body: its whole-number fields refuse text and true/false.

    The same schemas validate the admin's forms and imports, whose values are all text, so
    they stay lenient; the API's bodies are JSON, whose numbers are numbers. Same name and
    schema as `model` (the OpenAPI document is unchanged)."""
    numbers = [n for n, f in model.model_fields.items() if _whole_numbers(f.annotation)] if model else []
    if not numbers:
        return model
    typed = create_model(  # type: ignore[call-overload]
        model.__name__, __base__=model, __module__=model.__module__,
        __validators__={"_json_numbers": field_validator(*numbers, mode="before")(_not_text)},
    )
    typed.__doc__ = model.__doc__
    return typed


class BulkResult(SQLModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"count": 186, "matched": 283}]})  # type: ignore[assignment]

    count: int = PydanticField(description="How many rows were changed or deleted")
    matched: int = PydanticField(description="How many rows the ids or the filter chose; "
                                 "those that already had the values were left as they were")


class BulkRequestBase(SQLModel):
    @model_validator(mode="after")
    def _one_target_one_change(self) -> Any:
        if (self.ids is None) == (self.filter is None):  # type: ignore[attr-defined]
            raise ValueError("give either ids or filter")
        if getattr(self, "background", False) and self.filter is None:  # type: ignore[attr-defined]
            raise ValueError("background: give a filter (ids are done at once)")
        if self.filter is not None and self.filter.is_empty():  # type: ignore[attr-defined]
            # An empty filter is every row: too easy to send by mistake.
            raise ValueError("filter: give at least one condition")
        if (self.set is None) == (not self.delete):  # type: ignore[attr-defined]
            raise ValueError('give either set or "delete": true')
        return self


class ListParamsBase(FilterBase):
    def filter_spec(self) -> FilterBase:
        """The filter part of the query parameters."""
        raise NotImplementedError


def _example_set(resource: Resource) -> dict[str, Any]:
    """The first bulk action with a fixed value, as a `set` body ({"status": "pending"})."""
    from admin_app.resources.spec import ASK, SetField

    for action in resource.actions:
        if isinstance(action, SetField) and action.value is not ASK:
            return {getattr(resource.field(action.field), "key", action.field): action.value}
    return {}


def bulk_rules(filter_model: type) -> list[dict[str, Any]]:
    """What BulkRequestBase checks, as JSON schema: `ids` or a non-empty `filter`, and `set`
    or `"delete": true` (a filter is empty when every condition is null, or its search blank)."""
    # A search of nothing but spaces is no search (the filter drops it): not a condition.
    searching = {"type": "string", "pattern": NOT_SPACE}
    some_condition = [{"required": [name], "properties": {name: searching if name == SEARCH else {"not": {"type": "null"}}}}
                      for name in filter_model.model_fields]
    return [
        {"oneOf": [
            {"required": ["ids"], "properties": {
                "ids": {"type": "array"}, "filter": {"type": "null"}, "background": {"const": False},
            }},
            {"required": ["filter"], "properties": {
                "filter": {"type": "object", "anyOf": some_condition}, "ids": {"type": "null"},
            }},
        ]},
        {"oneOf": [
            {"required": ["set"], "properties": {"set": {"type": "object"}, "delete": {"const": False}}},
            {"required": ["delete"], "properties": {"delete": {"const": True}, "set": {"type": "null"}}},
        ]},
    ]


def enum_name(sort: str) -> str:
    """What a generated client calls a sort value: `-priority` is PRIORITY_DESC, `due_date` DUE_DATE."""
    return sort.lstrip("-").upper() + ("_DESC" if sort.startswith("-") else "")


@dataclass(frozen=True)
class ApiModels:
    list_params: type[ListParamsBase]
    page: type[SQLModel]
    bulk_request: type[SQLModel] | None


def _page_example(public: type) -> dict[str, Any] | None:
    examples = (getattr(public, "model_config", {}).get("json_schema_extra") or {}).get("examples")
    if not examples:
        return None
    # FastAPI drops nulls from examples in the schema: show a cursor.
    return {"items": [examples[0]], "next_cursor": "eyJzIjoiaWQiLCJ2Ijo0MiwiaSI6NDJ9", "total": 1234}


@cache
def api_models(resource: Resource) -> ApiModels:
    name, plural = resource.model.__name__, resource.plural.lower()
    filters, public = filters_of(resource), resource.schemas.public
    filter_model = filters.model
    sorts = listing_of(resource).sorts
    nullable = [n for n, key in sorts.items() if key.nullable]
    null_note = (
        f" Rows without {', '.join(resource.label_of(n).lower() for n in nullable)} count as the "
        "largest: last ascending, first descending." if nullable else ""
    )
    filter_fields = frozenset(filter_model.model_fields)  # what a saved view may not be combined with
    choices = sort_choices(sorts)

    def filter_spec(self: Any) -> FilterBase:
        return filter_model.model_validate(self.model_dump(include=filter_fields, exclude_unset=True))

    list_params = create_model(  # type: ignore[call-overload]
        f"{name}ListParams", __base__=(filter_model, ListParamsBase), __module__=__name__,
        sort=(Literal[choices], PydanticField(  # type: ignore[valid-type]
            default="id", description="Column to sort by, `-` first for descending; ties are broken by id."
            + null_note, json_schema_extra={"x-enum-varnames": [enum_name(c) for c in choices]},
        )),
        limit=(int, PydanticField(default=50, ge=1, le=200, description="Rows per page (1-200)")),
        cursor=(str | None, PydanticField(
            default=None, max_length=MAX_CURSOR_LENGTH, pattern=CURSOR_PATTERN,
            description="`next_cursor` of the previous page, with the same sort (opaque, base64url; "
            "one this server did not hand out is refused)",
        )),
        count=(bool, PydanticField(default=False, description=f"Add `total`, the number of matching {plural}")),
        view=(str | None, PydanticField(
            default=None, min_length=1, max_length=VIEW_NAME_MAX, pattern=NON_BLANK_TEXT_PATTERN,
            description="Run a saved view by name (mine first, else the shared one; see /api/views): its "
            "filters and sort, with `limit`, `cursor` and `count`; not combined with other filters or `sort` (422)",
        )),
    )
    list_params.filter_spec = filter_spec
    example = _page_example(public)
    page = create_model(  # type: ignore[call-overload]
        f"{name}Page", __base__=SQLModel, __module__=__name__,
        __config__=ConfigDict(json_schema_extra={"examples": [example]}) if example else None,
        items=(list[public], ...),
        next_cursor=(str | None, PydanticField(description="Pass as `cursor` for the next page; null on the last")),
        total=(int | None, PydanticField(default=None, description=f"Matching {plural}; only with `count=true`")),
    )
    bulk_request = None
    if resource.api is not None and resource.api.bulk:
        bulk_set, filter_model = json_typed(bulk_set_model(resource)), json_typed(filter_model)
        bulk_request = create_model(  # type: ignore[call-overload]
            f"{name}BulkRequest", __base__=BulkRequestBase, __module__=__name__,
            __config__=None,
            ids=(list[DbId] | None, PydanticField(
                default=None, max_length=MAX_BULK_IDS, description=f"At most {MAX_BULK_IDS:,} ids"
            )),
            filter=(filter_model | None, PydanticField(
                default=None, description=f"Every {resource.name} matching it, in one statement (no limit)"
            )),
            set=(bulk_set | None, PydanticField(
                default=None, description="Fields to set: " + ", ".join(bulk_set.model_fields)
            )),
            delete=(YesNo, PydanticField(default=False, description=f"true to delete the chosen {plural}")),
            background=(YesNo, PydanticField(default=False, description=(
                "true (with a filter): run as a job, in chunks of one transaction each, answering 202 "
                "and the job at once; follow it at /api/jobs/{id}"))),
        )
        bulk_request.model_config = ConfigDict(extra="forbid", json_schema_extra={
            "examples": [{"ids": [3, 5, 8], "set": _example_set(resource)}, {"ids": [3, 5, 8], "delete": True}],
            "allOf": bulk_rules(filter_model),
        })
        bulk_request.model_rebuild(force=True)
        bulk_request.__doc__ = "Which rows (`ids` or `filter`) and what to do (`set` or `delete`)."
        bulk_request = json_typed(bulk_request)  # its ids; set and filter are typed above
    return ApiModels(list_params, page, bulk_request)
