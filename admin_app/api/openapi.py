"""The app's OpenAPI schema: FastAPI's, with the limits that come from settings filled in.

A model cannot know the configured password length; the fields that take a new password
carry a marker (`x-new-password`), replaced here by `minLength`, `maxLength` and a pattern
refusing NUL, so that the schema states what this server accepts.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from admin_app.api.responses import DESCRIPTIONS, RETRY_AFTER
from admin_app.settings import Settings
from models.user import NEW_PASSWORD

NO_NUL = r"^[^\x00]*$"


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def password_limits(schema: dict[str, Any], settings: Settings) -> None:
    for node in _walk(schema.get("components", {})):
        if node.pop(NEW_PASSWORD, False):
            branches = [b for b in node.get("anyOf", [node]) if b.get("type") == "string"]
            for branch in branches:
                branch.update(
                    minLength=settings.password_min_length,
                    maxLength=min(settings.password_max_length, branch.get("maxLength", 1 << 30)),
                    pattern=NO_NUL,
                )


def unavailable_everywhere(schema: dict[str, Any]) -> None:
    """Every /api operation may answer 503 with Retry-After (the database down, busy or too
    slow, the server shutting down: admin_app/failures.py answers them all, the same way)."""
    answer = {
        "description": DESCRIPTIONS[503],
        "headers": {"Retry-After": RETRY_AFTER},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Unavailable"}}},
    }
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("503", answer)


# Completed schemas by what they are made of, for every app a process builds over the same
# routers (main.table_router keeps those per process): FastAPI takes 300-450 ms to generate
# one, the tests build an app each, and many read its schema. Each app gets its own copy.
# Each schema's JSON with the routers its key names by id: kept alive with it, so that no new
# router can take a collected one's id.
_BUILT: dict[tuple[Any, ...], tuple[str, list[Any]]] = {}


def _made_of(app: FastAPI, settings: Settings) -> tuple[Any, ...]:
    """The routes (the routers an app includes by identity: they are shared; its own routes by
    path, methods and name: its schema and docs routes are its own closures) and the settings
    the schema shows."""
    routes = tuple(
        id(r.original_router) if hasattr(r, "original_router")
        else (getattr(r, "path", None), tuple(sorted(getattr(r, "methods", None) or ())), getattr(r, "name", None))
        for r in app.router.routes
    )
    return (routes, settings.password_min_length, settings.password_max_length)


def install(app: FastAPI, settings: Settings) -> None:
    """Make `app.openapi()` (and /api/openapi.json) answer the completed schema."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            key = _made_of(app, settings)
            if key not in _BUILT:
                schema = build()
                password_limits(schema, settings)
                unavailable_everywhere(schema)
                routers = [r.original_router for r in app.router.routes if hasattr(r, "original_router")]
                _BUILT[key] = (json.dumps(schema), routers)
            app.openapi_schema = json.loads(_BUILT[key][0])
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
