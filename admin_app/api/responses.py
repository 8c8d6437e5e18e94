"""The error shape every API route shares, for the OpenAPI schema."""

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


DESCRIPTIONS = {
    401: "Not authenticated: no valid session cookie or bearer token",
    403: "Authenticated, but the role may not do this (or a cross-site request)",
    404: "No such row",
    409: "Conflict: a duplicate, a stale version or the last active admin",
    412: "If-Match names a version that is no longer current: nothing changed",
    413: "Request body larger than the configured limit (MAX_BODY_BYTES)",
    428: "The version you read is required: If-Match or `version` in the body",
}
# 422 keeps FastAPI's own documentation (HTTPValidationError, one entry per field); a
# service rule refused after validation answers 422 with a `detail` string naming the field.


def error_responses(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with its description and the error model."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        description = descriptions.get(f"e{code}", DESCRIPTIONS[code])
        out[code] = {"model": ErrorMessage, "description": description}
    return out
