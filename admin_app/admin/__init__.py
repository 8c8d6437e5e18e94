"""The SQLAdmin site: views, auth backends, template overrides and extra routes."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine
from sqladmin import Admin
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from auth.admin_backend import AdminAuthentication, RoleAuthorization
from auth.authenticator import Authenticator

HERE = Path(__file__).parent


def build_admin(app: FastAPI, engine: Engine, authenticator: Authenticator) -> Admin:
    from admin_app.admin.audit_view import AuditEntryAdmin
    from admin_app.admin.views import TaskAdmin, UserAdmin
    from admin_app.db import build_session_factory

    authentication = AdminAuthentication(authenticator)
    admin = Admin(
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
    # Admin routes see the mounted Starlette app as request.app: share what views need.
    for name in ("settings", "session_factory", "passwords", "authenticator"):
        setattr(admin.admin.state, name, getattr(app.state, name))
    admin.add_view(TaskAdmin)
    admin.add_view(UserAdmin)
    admin.add_view(AuditEntryAdmin)

    routes = admin.admin.router.routes
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
