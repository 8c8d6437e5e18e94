"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from admin_app.api.responses import RETRY_AFTER

router = APIRouter(tags=["health"])


class Alive(BaseModel):
    """The process answers."""

    status: Literal["ok"]


class Ready(BaseModel):
    """The database answers."""

    status: Literal["ready"]


class Unavailable(BaseModel):
    """The database does not answer (or is too slow or busy, or the server is shutting down);
    try again after Retry-After. Every /api route may answer it; /readyz says it too."""

    status: Literal["unavailable"]
    detail: str
    request_id: str | None = Field(default=None, description="The request's X-Request-ID (API routes): quote it when reporting")


@router.get("/healthz", response_model=Alive, operation_id="healthz", summary="The process is up")
def healthz() -> Alive:
    return Alive(status="ok")


@router.get(
    "/readyz",
    response_model=Ready,
    operation_id="readyz",
    summary="The database is reachable",
    responses={503: {"model": Unavailable, "description": "Database unreachable", "headers": {"Retry-After": RETRY_AFTER}}},
)
def readyz(request: Request) -> JSONResponse:
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse(
            {"status": "unavailable", "detail": "database unreachable"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ready"})
