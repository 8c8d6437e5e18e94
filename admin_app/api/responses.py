"""The error shapes every API route shares, for the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict
from sqlmodel import SQLModel


class ErrorMessage(SQLModel):
    """Every error but request validation: `{"detail": "<message>"}`."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"detail": "Task 42 not found."}]}
    )  # type: ignore[assignment]

    detail: str


class FieldError(SQLModel):
    """One field that failed request validation (FastAPI's shape)."""

    loc: list[str | int]
    msg: str
    type: str


class FieldErrors(SQLModel):
    """Request validation: one entry per field that failed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"detail": [{"loc": ["body", "title"], "msg": "String should have at least 1 character",
                             "type": "string_too_short"}]}
            ]
        }
    )  # type: ignore[assignment]

    detail: list[FieldError]


DESCRIPTIONS = {
    400: "Malformed request: a body that is not UTF-8 JSON, or an If-Match that is not an ETag",
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
}
# 422 has two shapes: request validation lists every field (FieldErrors); a service rule
# checked after it (an unknown assignee, a weak password, a foreign cursor) names one.
MODELS: dict[int, Any] = {422: FieldErrors | ErrorMessage}
HEADERS = {
    429: {"Retry-After": {"description": "Seconds to wait", "required": True, "schema": {"type": "integer"}}},
}


def error_responses(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with its description and the error model."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        description = descriptions.get(f"e{code}", DESCRIPTIONS[code])
        out[code] = {"model": MODELS.get(code, ErrorMessage), "description": description}
        if code in HEADERS:
            out[code]["headers"] = HEADERS[code]
    return out
