"""Request validation errors as JSON that any client can parse, whatever the input was.

Python's JSON reader takes `NaN`, `Infinity`, `-Infinity` and numbers too large for a
float (`1e400` reads as infinity), none of which standard JSON can write back. FastAPI's
422 echoes each offending input, so building it failed and the request answered 500.
Here every such number in the error body is written as a string ("NaN", "Infinity",
"-Infinity"): the client gets its 422, and the body is standard JSON.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.requests import Request


def json_safe(value: Any) -> Any:
    """`value` with every non-finite float replaced by its name, at any depth."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


async def request_validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's own 422 (`{"detail": [field errors]}`), made JSON-safe."""
    return JSONResponse({"detail": json_safe(jsonable_encoder(exc.errors()))}, status_code=422)
