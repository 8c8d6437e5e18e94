"""The app factory: settings, engine, middleware, routers and the admin, built on call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from admin_app.config import load_settings
from admin_app.db import build_engine, build_session_factory
from admin_app.settings import Settings
from auth.passwords import Passwords


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app; nothing is created at import time."""
    settings = settings or load_settings()
    engine = build_engine(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Task back-office",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = build_session_factory(engine)
    app.state.passwords = Passwords.from_settings(settings)

    from admin_app.health import router as health_router

    app.include_router(health_router)
    return app
