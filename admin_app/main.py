"""The app factory: settings, engine, middleware, routers and the admin, built on call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URLPath
from starlette.routing import Mount

from admin_app.config import load_settings
from admin_app.db import InFlight, build_engine, build_read_engine, build_session_factory
from admin_app.errors import ServiceError
from admin_app.resources import Registry, default_resources
from admin_app.resources.spec import Resource
from admin_app.settings import Settings
from auth.authenticator import Authenticator
from auth.config import AuthConfig
from auth.passwords import Passwords


def content_security_policy(script_hashes: list[str]) -> str:
    scripts = " ".join(["'self'", *script_hashes])
    return (
        "default-src 'self'; "
        f"script-src {scripts}; "
        # SQLAdmin's widgets (select2, flatpickr, the import modal) use inline styles.
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


# Swagger UI loads its script and styles from a CDN; only /api/docs gets that allowance.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "frame-ancestors 'none'"
)


def create_app(settings: Settings | None = None, resources: Registry | None = None) -> FastAPI:
    """Build the ASGI app over the declared tables; nothing is created at import time."""
    settings = settings or load_settings()
    registry = resources or default_resources()
    engine = build_engine(settings)
    read_engine = build_read_engine(engine)  # GET /api/<table>/{id}: see build_read_engine
    in_flight = InFlight(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = app.state.job_worker
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await run_in_threadpool(worker.stop)  # the chunk in progress ends first
            # The server runs this once in-flight requests are done or the graceful timeout
            # is over: whatever still runs is cancelled, so its transaction rolls back whole.
            in_flight.cancel()
            engine.dispose()

    from fastapi import Depends

    from admin_app.api.query import one_value_each

    app = FastAPI(
        title="Task back-office API",
        version="0.1.0",
        description="Tasks and staff accounts, with the same rules as the admin at /admin. "
        "Authenticate with the session cookie from `POST /api/auth/login` or with "
        "`Authorization: Bearer <token>` (create tokens at `POST /api/auth/tokens`).",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(one_value_each)],
    )
    session_factory = build_session_factory(engine)
    passwords = Passwords.from_settings(settings)
    auth_config = AuthConfig.from_settings(settings)
    from admin_app import audit

    audit.install(registry)
    authenticator = Authenticator(
        session_factory, passwords, auth_config, record_event=audit.record_auth_event,
        login_queue_limit=settings.login_queue_limit,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.read_engine = read_engine
    app.state.session_factory = session_factory
    app.state.passwords = passwords
    app.state.authenticator = authenticator
    app.state.resources = registry
    from admin_app.job_worker import JobWorker

    app.state.job_worker = JobWorker(
        session_factory, registry, chunk_rows=settings.job_chunk_rows, poll_seconds=settings.job_poll_seconds,
        passwords=passwords,
    ) if settings.job_worker else None

    from fastapi.exceptions import RequestValidationError

    from admin_app.validation import request_validation_error

    app.add_exception_handler(RequestValidationError, request_validation_error)

    @app.exception_handler(ServiceError)
    async def service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)

    from admin_app.api import audit as audit_api
    from admin_app.api import auth as auth_api
    from admin_app.api import changes as changes_api
    from admin_app.api import jobs as jobs_api
    from admin_app.api import mfa as mfa_api
    from admin_app.api.methods import answer_undeclared_methods
    from admin_app.health import router as health_router

    # The tables' routers first: FastAPI tries the routers in order, and their requests are
    # most of the traffic (the prefixes do not overlap, so the order changes no answer).
    for resource in registry:
        if resource.api is not None:
            app.include_router(table_router(resource, tuple(registry.referencing(resource.model))))
    for router in (health_router, auth_api.router, mfa_api.router, audit_api.router, changes_api.router,
                   jobs_api.router, views_router(tuple(registry))):
        app.include_router(answer_undeclared_methods(router))

    from admin_app.admin import build_admin
    from admin_app.admin.compat import inline_script_hashes
    from admin_app.failures import ErrorResponseMiddleware
    from admin_app.hosts import AllowedHosts, AllowedHostsMiddleware
    from admin_app.middleware import (
        BodySizeLimitMiddleware,
        CSRFMiddleware,
        SecurityHeadersMiddleware,
    )
    from admin_app.request_id import RequestIdMiddleware

    admin = build_admin(app, engine, authenticator, registry)
    app.state.admin_site = admin
    # The admin's mount first: its one prefix test costs an API request nothing measurable,
    # and an admin request walks no API route (FastAPI builds an included router's routes on
    # the first request that tries them: about 120 ms an app, the tests build one per test).
    admin_mount = next(r for r in app.router.routes if isinstance(r, Mount) and r.path == admin.base_url)
    app.router.routes.remove(admin_mount)
    app.router.routes.insert(0, admin_mount)
    # SQLAdmin is a mounted Starlette app whose own error middleware would answer a bare
    # 500 before ours saw the exception: the same middleware goes inside it as well.
    admin.admin.add_middleware(ErrorResponseMiddleware)

    # Added last = outermost: the request id and headers wrap everything, failures are
    # answered inside them, CSRF runs before any body is read.
    app.add_middleware(
        BodySizeLimitMiddleware,
        limit=settings.max_body_bytes,
        overrides={f"/admin/{r.name}/import-csv": settings.import_max_bytes for r in registry if r.import_columns},
    )
    app.add_middleware(
        CSRFMiddleware,
        cookie_names=[auth_config.session_cookie, auth_config.pending_cookie, "admin_flash", "__Host-admin_flash"],
        # The admin is for browsers, which send Origin with every POST: its login form is
        # refused without one (login CSRF). Scripts log in at /api/auth/login with JSON.
        browser_prefixes=("/admin",),
    )
    app.add_middleware(ErrorResponseMiddleware)
    # Before anything reads the Host (links, redirects, the CSRF check); probes are exempt.
    app.add_middleware(
        AllowedHostsMiddleware,
        allowed=AllowedHosts(settings.effective_allowed_hosts),
        exempt_paths=("/healthz", "/readyz"),
    )
    app.add_middleware(
        SecurityHeadersMiddleware,
        csp=content_security_policy(inline_script_hashes()),
        docs_csp=DOCS_CSP,
        production=settings.is_production,
        static_prefixes=("/admin/statics/", "/admin/assets/"),
        docs_prefix="/api/docs",
    )
    app.add_middleware(RequestIdMiddleware)
    cache_url_paths(app)
    from admin_app.api import openapi

    openapi.install(app, settings)
    return app


# A declared table's API router, built once per process and included by every app over it:
# FastAPI builds a pydantic schema for each parameter of each route, which was most of
# create_app's time (about 100 ms of 150; the tests build an app each). The routes keep no
# app state: their dependencies read the request's app.
@lru_cache(maxsize=64)
def table_router(resource: Resource, referencing: tuple[Any, ...]) -> APIRouter:
    from admin_app.api.methods import answer_undeclared_methods
    from admin_app.api.resource_router import build_router

    return answer_undeclared_methods(build_router(resource, referencing))


@lru_cache(maxsize=16)
def views_router(resources: tuple[Resource, ...]) -> APIRouter:
    """/api/views over these tables, built once per process like table_router."""
    from admin_app.api.views import build_views_router

    return build_views_router(Registry(resources))


def cache_url_paths(app: FastAPI, size: int = 4096) -> None:
    """Remember `url_for` answers: Starlette finds a route's path by trying every route in
    turn (the admin's included), and a list page asks for dozens of them. The routes are
    fixed once the app is built, so the same name and parameters always give the same path.
    """
    find = app.router.url_path_for

    @lru_cache(maxsize=size)
    def cached(name: str, params: tuple[tuple[str, Any], ...]) -> URLPath:
        return find(name, **dict(params))

    def url_path_for(name: str, /, **path_params: Any) -> URLPath:
        try:
            key = tuple(sorted(path_params.items()))
            hash(key)
        except TypeError:  # an unhashable parameter: ask the routes
            return find(name, **path_params)
        return cached(name, key)

    app.router.url_path_for = url_path_for  # type: ignore[method-assign]
