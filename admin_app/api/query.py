"""A query parameter the schema declares as one value must come once.

FastAPI reads a scalar query parameter from the last occurrence, so `?limit=abc&limit=5`
was a valid request with limit 5, the junk silently dropped. The operation's own schema
says which parameters are arrays (`status=pending&status=done`); any other that is
repeated is refused with the usual 422, naming it.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError


def _is_array(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "array" or any(_is_array(s) for s in schema.get("anyOf", ()))


def scalar_query_parameters(request: Request) -> frozenset[str]:
    """The query parameters of the request's operation that take one value."""
    route = request.scope.get("route")
    path = getattr(route, "path_format", None)
    operation = request.app.openapi().get("paths", {}).get(path, {}).get(request.method.lower(), {})
    return frozenset(
        p["name"] for p in operation.get("parameters", ())
        if p.get("in") == "query" and not _is_array(p.get("schema", {}))
    )


async def one_value_each(request: Request) -> None:
    """An app-wide dependency: 422 for a repeated parameter that takes one value."""
    if len(request.query_params) == len(request.query_params.multi_items()):
        return  # nothing repeated: the common case costs one comparison
    scalars = scalar_query_parameters(request)
    errors = [
        {"type": "repeated_parameter", "loc": ("query", name), "msg": f"Give {name} once, not repeated",
         "input": request.query_params.getlist(name)}
        for name in dict.fromkeys(request.query_params)  # each name once, in order
        if name in scalars and len(request.query_params.getlist(name)) > 1
    ]
    if errors:
        raise RequestValidationError(errors)
