"""The answers every API route shares, for the OpenAPI schema: one error type per status,
and the response headers a client reads (ETag, Location, Retry-After)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict
from pydantic import Field as PydanticField
from sqlmodel import SQLModel

from models.common import Output


class ErrorMessage(Output):
    """Every error but 422: `{"detail": "<message>"}`."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"detail": "Task 42 not found."}]}
    )  # type: ignore[assignment]

    detail: str


class FieldError(SQLModel):
    """One field that failed request validation (FastAPI's shape)."""

    loc: list[str | int] = PydanticField(description='Where: `["body", "title"]`, `["query", "limit"]`')
    msg: str = PydanticField(description="What is wrong, for people")
    type: str = PydanticField(description="What is wrong, for programs: `string_too_short`, `missing`...")
    input: Any = PydanticField(default=None, description="The value that was refused, as sent")
    ctx: dict[str, Any] | None = PydanticField(
        default=None, description='The rule\'s parameters, when it has some: `{"min_length": 1}`'
    )


class FieldErrors(Output):
    """Invalid input (422): request validation lists every field that failed; a rule of the
    service checked after it (an unknown assignee, a weak password, a foreign cursor) is one
    message naming the field."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"detail": [{"loc": ["body", "title"], "msg": "String should have at least 1 character",
                             "type": "string_too_short", "input": "", "ctx": {"min_length": 1}}]},
                {"detail": "assignee_id: no user 99."},
            ]
        }
    )  # type: ignore[assignment]

    detail: list[FieldError] | str


DESCRIPTIONS = {
    400: "Malformed request: a body that is not UTF-8 JSON, or an If-Match that is not a quoted ETag",
    401: "Not authenticated: no valid session cookie or bearer token",
    403: "Authenticated, but the role may not do this (or a cross-site request)",
    404: "No such row",
    409: "Conflict: a duplicate, a stale version, the last active admin or your own account",
    412: "If-Match names a version that is no longer current: nothing changed",
    413: "Request body larger than the configured limit (MAX_BODY_BYTES)",
    422: "Invalid input: FastAPI's list of field errors, or one message naming the field "
    "when a rule of the service refused it after validation",
    428: "The version you read is required: If-Match or `version` in the body",
    429: "Too many attempts; wait as long as Retry-After says",
    503: "Not ready (the database is unreachable); try again after Retry-After",
}
MODELS: dict[int, Any] = {422: FieldErrors}
RETRY_AFTER = {"description": "Seconds to wait before trying again", "required": True,
               "schema": {"type": "integer", "minimum": 0}}
# The version of the row, as a strong entity tag: `"3"`. Send it back as If-Match.
ETAG_VALUE = r'^"[1-9][0-9]{0,9}"$'
ETAG = {"description": 'The row\'s version as a quoted entity tag (`"3"`): send it back as `If-Match`',
        "required": True, "schema": {"type": "string", "pattern": ETAG_VALUE}}
LOCATION = {"description": "The URL of the row just created", "required": True,
            "schema": {"type": "string", "format": "uri-reference"}}
HEADERS: dict[int, dict[str, Any]] = {429: {"Retry-After": RETRY_AFTER}, 503: {"Retry-After": RETRY_AFTER}}


def error_responses(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with its description and its one error model."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        description = descriptions.get(f"e{code}", DESCRIPTIONS[code])
        out[code] = {"model": MODELS.get(code, ErrorMessage), "description": description}
        if code in HEADERS:
            out[code]["headers"] = HEADERS[code]
    return out


def with_headers(status: int, **headers: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """`responses=` entry declaring the headers of a success answer (its model is the route's)."""
    return {status: {"headers": {name.replace("_", "-"): spec for name, spec in headers.items()}}}
