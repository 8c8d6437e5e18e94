"""SQLAdmin's authentication and authorisation, backed by the one Authenticator and role table."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqladmin.authentication import AuthenticationBackend
from sqladmin.authorization import GrantsAuthorizationBackend
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from auth.authenticator import (
    BUSY_MESSAGE,
    INACTIVE_ACCOUNT,
    INVALID_CREDENTIALS,
    Authenticator,
    LoginOutcome,
    throttled_message,
)
from auth.outcomes import english_ngettext
from auth.redirects import safe_next
from auth.roles import grants_for


class AdminAuthentication(AuthenticationBackend):
    """Login, logout and per-request identity for /admin, through the shared Authenticator."""

    def __init__(self, authenticator: Authenticator) -> None:
        config = authenticator.config
        # Starlette's session cookie carries flash messages only, never identity.
        self.middlewares = [
            Middleware(
                SessionMiddleware,
                secret_key=config.secret_key,
                session_cookie="__Host-admin_flash" if config.production else "admin_flash",
                max_age=None,
                same_site="lax",
                https_only=config.production,
            )
        ]
        self.authenticator = authenticator
        self.templates: Any = None  # set by the admin once it exists
        self.ngettext = english_ngettext  # the admin's, for the words of its language

    def _index(self, request: Request) -> str:
        return str(request.url_for("admin:index").path)

    async def _login_page(
        self, request: Request, *, error: str, status_code: int, next_url: str, email: str
    ) -> Response:
        response = await self.templates.TemplateResponse(
            request, "sqladmin/login.html",
            {"error": error, "next": next_url, "email": email}, status_code=status_code,
        )
        return response

    async def login(self, request: Request) -> Response | bool:
        form = await request.form()
        email = str(form.get("username") or "")
        password = str(form.get("password") or "")
        next_url = safe_next(form.get("next"), self._index(request))
        result = await self.authenticator.attempt(request, email, password, pending=True)
        if result.outcome in (LoginOutcome.second_factor, LoginOutcome.enrol):
            # No session yet: a pending login, good for the second-factor page only.
            name = "admin:login_enrol" if result.outcome is LoginOutcome.enrol else "admin:login_second_factor"
            target = f"{request.url_for(name).path}?{urlencode({'next': next_url})}"
            response = RedirectResponse(target, status_code=302)
            response.set_cookie(value=result.pending_cookie, **self.authenticator.pending.cookie_options())
            return response
        if result.outcome is LoginOutcome.busy:
            response = await self._login_page(
                request, error=BUSY_MESSAGE, status_code=429, next_url=next_url, email=email
            )
            response.headers["Retry-After"] = str(result.retry_after)
            return response
        if result.outcome is LoginOutcome.throttled:
            response = await self._login_page(
                request, error=throttled_message(result.retry_after or 60, self.ngettext), status_code=429,
                next_url=next_url, email=email,
            )
            response.headers["Retry-After"] = str(result.retry_after)
            return response
        if result.outcome is not LoginOutcome.ok:
            message = (
                INACTIVE_ACCOUNT if result.outcome is LoginOutcome.inactive else INVALID_CREDENTIALS
            )
            return await self._login_page(
                request, error=message, status_code=400, next_url=next_url, email=email
            )
        request.session.clear()  # nothing from before login survives
        response = RedirectResponse(next_url, status_code=302)
        response.set_cookie(
            value=result.session_cookie, **self.authenticator.sessions.cookie_options()
        )
        return response

    async def logout(self, request: Request) -> Response | bool:
        if request.method != "POST":  # GET never changes data: ask first
            return await self.templates.TemplateResponse(request, "sqladmin/logout.html")
        await run_in_threadpool(self.authenticator.logout, request)
        request.session.clear()
        response = RedirectResponse(request.url_for("admin:login").path, status_code=302)
        options = self.authenticator.sessions.cookie_options()
        response.delete_cookie(
            options["key"], path="/", secure=options["secure"], httponly=True, samesite="lax"
        )
        return response

    async def authenticate(self, request: Request) -> Response | bool:
        principal = await self.authenticator.principal_async(request)
        if principal is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            login = request.url_for("admin:login").path
            return RedirectResponse(f"{login}?{urlencode({'next': target})}", status_code=302)
        return True

    async def get_user_id(self, request: Request) -> Any:
        principal = self.authenticator.principal(request)  # cached by authenticate()
        return principal.user_id if principal else None


class RoleAuthorization(GrantsAuthorizationBackend):
    """SQLAdmin grants straight from the role table in auth.roles."""

    def __init__(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator

    async def get_grants(self, request: Request) -> set[tuple[str, str]]:
        principal = await self.authenticator.principal_async(request)
        return set(grants_for(principal.role)) if principal else set()
