"""The SQLAdmin site: views, auth backends, template overrides and extra routes."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

import anyio
from fastapi import FastAPI
from sqladmin import Admin
from sqladmin.authentication import login_required
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from auth.admin_backend import AdminAuthentication, RoleAuthorization
from auth.authenticator import Authenticator
from models.common import utcnow

HERE = Path(__file__).parent
# What the admin's own routes find on `request.app.state` (the admin is a mounted app).
SHARED_STATE = ("settings", "authenticator", "passwords", "session_factory")


class BackOfficeAdmin(Admin):
    """SQLAdmin with a dashboard for a home page."""

    @login_required
    async def index(self, request: Request) -> Response:
        from admin_app.admin.dashboard import dashboard

        context = await anyio.to_thread.run_sync(
            dashboard, self.session_maker, utcnow().date()
        )
        return await self.templates.TemplateResponse(request, "sqladmin/dashboard.html", context)


def build_admin(app: FastAPI, engine: Engine, authenticator: Authenticator) -> Admin:
    from admin_app.admin.account import AccountView
    from admin_app.admin.audit_view import AuditEntryAdmin
    from admin_app.admin.views import TaskAdmin, UserAdmin
    from admin_app.db import build_session_factory

    authentication = AdminAuthentication(authenticator)
    admin = BackOfficeAdmin(
        app,
        # Its own factory: SQLAdmin reconfigures the one it is given (autoflush off).
        session_maker=build_session_factory(engine),
        title="Task back-office",
        favicon_url="/admin/assets/favicon.svg",
        base_url="/admin",
        templates_dir=str(HERE / "templates"),
        authentication_backend=authentication,
        authorization_backend=RoleAuthorization(authenticator),
    )
    authentication.templates = admin.templates
    for name in SHARED_STATE:
        setattr(admin.admin.state, name, getattr(app.state, name, None))
    admin.add_view(TaskAdmin)
    admin.add_view(UserAdmin)
    admin.add_view(AuditEntryAdmin)
    admin.add_view(AccountView)

    for view in admin.views:
        # SQLAdmin registers a view's actions last-defined first: list them as defined.
        for attr in ("_custom_actions_in_list", "_custom_actions_in_detail"):
            actions = getattr(view, attr, None)
            if actions:
                setattr(view, attr, dict(reversed(list(actions.items()))))

    from admin_app.admin.routes import guard_routes

    guard_routes(admin)
    routes = admin.admin.router.routes
    # SQLAdmin registers @action routes for GET only: GET asks, POST does (admin/bulk.py).
    for route in routes:
        if isinstance(route, Route) and (route.name or "").startswith("action-"):
            route.methods = {*(route.methods or ()), "POST"}
    # Logout is a POST (GET shows a confirmation); our own scripts and styles.
    routes.insert(0, Route("/logout", endpoint=admin.logout, methods=["POST"], name="logout_post"))
    routes.insert(0, Mount("/assets", app=StaticFiles(directory=HERE / "static"), name="assets"))
    return admin


def inline_script_hashes() -> list[str]:
    """CSP hashes of SQLAdmin's inline scripts (flash.html), read from the installed package."""
    template = files("sqladmin").joinpath("templates/sqladmin/flash.html").read_text()
    hashes = []
    for body in re.findall(r"<script>(.*?)</script>", template, flags=re.S):
        digest = hashlib.sha256(body.encode()).digest()
        hashes.append("'sha256-" + base64.b64encode(digest).decode() + "'")
    return hashes
