"""The SQLAdmin site: views, auth backends, template overrides and extra routes."""

from __future__ import annotations

from pathlib import Path

import anyio
from fastapi import FastAPI
from sqladmin import Admin
from sqladmin.authentication import login_required
from sqlalchemy import Engine
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from admin_app.admin.account import AccountView
from admin_app.admin.audit_view import AuditEntryAdmin
from admin_app.admin.changes import ChangeSetsView, undo_offer
from admin_app.admin.compat import (
    accept_post_on_actions,
    cache_template_urls,
    log_expected_errors_at_info,
    order_actions,
    prepend_routes,
    use_error_handler,
)
from admin_app.admin.compat.list_rows import list_rows
from admin_app.admin.compat.routes import guard_routes
from admin_app.admin.compat.sync_templates import render_synchronously
from admin_app.admin.compiled import share_compiled_templates
from admin_app.admin.dashboard import dashboard
from admin_app.admin.display import count_text, show_time, theme_of
from admin_app.admin.error_pages import error_handler
from admin_app.admin.jobs import JobsView
from admin_app.admin.language import LanguageMiddleware
from admin_app.admin.mfa import SecondFactorPages
from admin_app.admin.saved_views import menu_views
from admin_app.admin.sidebar import active_filters, changed_url, clear_all_url
from admin_app.admin.views import ResourceView, view_for
from admin_app.db import build_session_factory
from admin_app.errors import ServiceError
from admin_app.i18n import current_language, format_number, gettext, lowered, ngettext
from admin_app.resources import Registry
from auth.admin_backend import AdminAuthentication, RoleAuthorization
from auth.authenticator import Authenticator
from models.common import utcnow

HERE = Path(__file__).parent
# What the admin's own routes find on `request.app.state` (the admin is a mounted app).
SHARED_STATE = ("settings", "authenticator", "passwords", "session_factory", "resources", "job_worker")


class BackOfficeAdmin(Admin):
    """SQLAdmin with a dashboard for a home page."""

    @login_required
    async def index(self, request: Request) -> Response:
        context = await anyio.to_thread.run_sync(
            dashboard, self.session_maker, self.registry, utcnow().date()
        )
        return await self.templates.TemplateResponse(request, "sqladmin/dashboard.html", context)


def build_admin(app: FastAPI, engine: Engine, authenticator: Authenticator, registry: Registry) -> Admin:
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
        middlewares=[Middleware(LanguageMiddleware, authenticator=authenticator)],
    )
    admin.registry = registry
    share_compiled_templates(admin.templates.env)  # before its overlay (render_synchronously)
    admin.templates.env.globals.update(
        filter_chips=active_filters, clear_filters_url=clear_all_url, count_text=count_text,
        show_time=show_time, saved_views_menu=menu_views, list_rows=list_rows, changed_url=changed_url,
    )
    # Our catalogs (then SQLAdmin's) in the request's language, for our templates and SQLAdmin's.
    admin.templates.env.install_gettext_callables(gettext, ngettext, newstyle=True)
    # say(text): a message held in a variable (a label, a login answer), translated as plain
    # text and escaped like any value (`_()` would mark it safe HTML).
    admin.templates.env.globals.update(current_language=current_language, number=format_number, say=gettext)
    admin.templates.env.filters["lowered"] = lowered  # a noun inside a sentence (German keeps capitals)
    authentication.templates = admin.templates
    authentication.ngettext = ngettext
    for name in SHARED_STATE:
        setattr(admin.admin.state, name, getattr(app.state, name, None))
    for resource in registry:
        admin.add_view(view_for(resource, registry))
    admin.add_view(AuditEntryAdmin.with_entities([r.name for r in registry] + ["token", "saved_view"]))
    admin.add_view(ChangeSetsView)
    admin.add_view(JobsView)
    admin.add_view(AccountView)
    admin.templates.env.globals["undo_offer"] = undo_offer
    admin.templates.env.globals["theme_of"] = theme_of
    cache_template_urls(admin.templates.env, reload_templates=not app.state.settings.is_production)
    render_synchronously(admin.templates)
    for view in admin.views:
        if isinstance(view, ResourceView):
            order_actions(view, [a.slug for a in view.resource.actions])
    guard_routes(admin)
    log_expected_errors_at_info(ServiceError)
    use_error_handler(admin, error_handler(admin))
    accept_post_on_actions(admin)
    # Logout is a POST (GET shows a confirmation); our own scripts and styles.
    # The login's second step, forced enrolment, passkey options, an admin's reset.
    prepend_routes(admin, [
        Mount("/assets", app=StaticFiles(directory=HERE / "static"), name="assets"),
        Route("/logout", endpoint=admin.logout, methods=["POST"], name="logout_post"),
        *SecondFactorPages(admin).routes(),
    ])
    return admin
