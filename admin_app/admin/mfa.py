"""Two-factor sign-in in the admin: the login's second step, forced enrolment, and an admin's
reset of another user's (My account's part is mfa_account.py).

The login pages work on a pending login (auth/pending.py), never on a session: until the
second factor is right, there is no session to use anywhere.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import URLSafeTimedSerializer
from sqladmin import Flash
from starlette import status
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from admin_app import audit
from admin_app.i18n import gettext as _
from admin_app.i18n import ngettext
from admin_app.services import users as user_service
from admin_app.services.actor import Actor
from admin_app.services.unit import unit_of_work
from auth import webauthn as passkeys
from auth.authenticator import (
    INACTIVE_ACCOUNT,
    INVALID_CODE,
    PENDING_EXPIRED,
    Authenticator,
    LoginOutcome,
    throttled_message,
)
from auth.codes import grouped, provisioning_uri, qr_svg
from auth.pending import VERIFY
from auth.principal import Principal
from auth.redirects import safe_next
from auth.sessions import end_user_sessions
from models import User
from models.common import parse_db_id

MAX_FIELD = 16_000  # a passkey's JSON answer is a few KiB; nothing else comes near
REGISTRATION_MAX_AGE = 300  # seconds a passkey registration may take


def authenticator_of(request: Request) -> Authenticator:
    return request.app.state.authenticator


def form_field(form: Any, name: str) -> str:
    return str(form.get(name) or "")[:MAX_FIELD]


class SecondFactorPages:
    """The routes of the login's second step and the reset page, mounted into the admin."""

    def __init__(self, admin: Any) -> None:
        self.admin = admin

    def routes(self) -> list[Route]:
        return [
            Route("/login/second-factor", self.second_factor, methods=["GET", "POST"],
                  name="login_second_factor"),
            Route("/login/passkey-options", self.login_passkey_options, methods=["POST"],
                  name="login_passkey_options"),
            Route("/login/enrol", self.enrol, methods=["GET", "POST"], name="login_enrol"),
            Route("/account/passkey-options", self.account_passkey_options, methods=["POST"],
                  name="account_passkey_options"),
            Route("/user/second-factors/{pk:int}", self.user_second_factors, methods=["GET", "POST"],
                  name="user_second_factors"),
        ]

    # --- helpers ------------------------------------------------------------------------
    def _index(self, request: Request) -> str:
        return str(request.url_for("admin:index").path)

    def _next(self, request: Request, form: Any = None) -> str:
        value = form.get("next") if form is not None else request.query_params.get("next")
        return safe_next(value, self._index(request))

    def _pending_cookie(self, request: Request) -> str | None:
        return request.cookies.get(authenticator_of(request).config.pending_cookie)

    @staticmethod
    def _forget_pending(request: Request, response: Response) -> Response:
        options = authenticator_of(request).pending.cookie_options()
        response.delete_cookie(
            str(options["key"]), path="/", secure=bool(options["secure"]), httponly=True, samesite="lax"
        )
        return response

    def _back_to_login(self, request: Request, message: str = PENDING_EXPIRED) -> Response:
        Flash.error(request, message)
        response = RedirectResponse(request.url_for("admin:login").path, status_code=303)
        return self._forget_pending(request, response)

    async def _render(self, request: Request, template: str, context: dict, status_code: int = 200) -> Response:
        return await self.admin.templates.TemplateResponse(
            request, f"sqladmin/{template}", context, status_code=status_code
        )

    def _logged_in(self, request: Request, result: Any, response: Response) -> Response:
        request.session.clear()  # nothing from before login survives
        response.set_cookie(value=result.session_cookie, **authenticator_of(request).sessions.cookie_options())
        return self._forget_pending(request, response)

    # --- the login's second step --------------------------------------------------------
    async def second_factor(self, request: Request) -> Response:
        authenticator = authenticator_of(request)
        cookie = self._pending_cookie(request)
        found = await run_in_threadpool(authenticator.pending_user, cookie, VERIFY)
        if found is None:
            return self._back_to_login(request)
        email, _user_id, has_passkeys = found
        if request.method == "GET":
            return await self._second_factor_page(request, email, has_passkeys, self._next(request))
        form = await request.form()
        next_url = self._next(request, form)
        credential = form_field(form, "credential") or None
        result = await run_in_threadpool(
            lambda: authenticator.complete_login(
                request, cookie, code=form_field(form, "code"), credential=credential
            )
        )
        if result.outcome is LoginOutcome.ok:
            return self._logged_in(request, result, RedirectResponse(next_url, status_code=302))
        if result.outcome is LoginOutcome.throttled:
            response = await self._second_factor_page(
                request, email, has_passkeys, next_url,
                error=throttled_message(result.retry_after or 60, ngettext), status_code=429,
            )
            response.headers["Retry-After"] = str(result.retry_after)
            return response
        if result.outcome is LoginOutcome.bad_code:
            error = _("The passkey was not accepted.") if credential else INVALID_CODE
            return await self._second_factor_page(
                request, email, has_passkeys, next_url, error=error, status_code=400
            )
        return self._back_to_login(
            request, INACTIVE_ACCOUNT if result.outcome is LoginOutcome.inactive else PENDING_EXPIRED
        )

    async def _second_factor_page(
        self, request: Request, email: str, has_passkeys: bool, next_url: str, *,
        error: str | None = None, status_code: int = 200,
    ) -> Response:
        return await self._render(request, "login_second_factor.html", {
            "email": email, "has_passkeys": has_passkeys, "next": next_url, "error": error,
        }, status_code)

    async def login_passkey_options(self, request: Request) -> Response:
        authenticator = authenticator_of(request)
        options = await run_in_threadpool(
            authenticator.passkey_login_options, request, self._pending_cookie(request)
        )
        if options is None:
            return JSONResponse({"detail": _(PENDING_EXPIRED)}, status_code=400)
        return JSONResponse(options)

    async def enrol(self, request: Request) -> Response:
        """A role that requires a second factor, and none yet: set up the app, then in."""
        authenticator = authenticator_of(request)
        cookie = self._pending_cookie(request)
        found = await run_in_threadpool(authenticator.enrolment_secret, cookie)
        if found is None:
            return self._back_to_login(request)
        email, secret = found
        if request.method == "GET":
            return await self._enrol_page(request, email, secret, self._next(request))
        form = await request.form()
        next_url = self._next(request, form)
        result = await run_in_threadpool(
            lambda: authenticator.complete_login(request, cookie, code=form_field(form, "code"), enrol=True)
        )
        if result.outcome is LoginOutcome.ok:
            page = await self._render(request, "recovery_codes.html", {
                "codes": result.recovery_codes, "next": next_url, "title": _("Recovery codes"),
            })
            return self._logged_in(request, result, page)
        if result.outcome is LoginOutcome.throttled:
            response = await self._enrol_page(
                request, email, secret, next_url, error=throttled_message(result.retry_after or 60, ngettext),
                status_code=429,
            )
            response.headers["Retry-After"] = str(result.retry_after)
            return response
        if result.outcome is LoginOutcome.bad_code:
            return await self._enrol_page(request, email, secret, next_url, error=INVALID_CODE, status_code=400)
        return self._back_to_login(request)

    async def _enrol_page(
        self, request: Request, email: str, secret: str, next_url: str, *,
        error: str | None = None, status_code: int = 200,
    ) -> Response:
        config = authenticator_of(request).config
        return await self._render(request, "login_enrol.html", {
            "email": email, "totp": totp_setup(secret, email, config.totp_issuer),
            "next": next_url, "error": error,
        }, status_code)

    # --- My account: passkey registration options ---------------------------------------
    async def account_passkey_options(self, request: Request) -> Response:
        authenticator = authenticator_of(request)
        principal = await authenticator.principal_async(request)
        if principal is None or principal.via != "session":
            return JSONResponse({"detail": _("Not authenticated.")}, status_code=401)

        def work() -> dict:
            with authenticator.session_factory() as db:
                user = user_service.get_user(db, principal.user_id)
                handle = authenticator.mfa.user_handle(db, user.id)
                options, challenge = passkeys.registration_options(
                    passkeys.relying_party(request, authenticator.config),
                    email=user.email, display_name=user.full_name, user_handle=handle,
                    existing=authenticator.mfa.passkeys(db, user.id),
                )
            state = registration_signer(authenticator).dumps(
                {"u": principal.user_id, "s": principal.session_id, "c": challenge, "h": handle}
            )
            return {"options": options, "state": state}

        return JSONResponse(await run_in_threadpool(work))

    # --- an admin resets another user's second factors ----------------------------------
    async def user_second_factors(self, request: Request) -> Response:
        authenticator = authenticator_of(request)
        authenticated = await self.admin.authentication_backend.authenticate(request)
        if isinstance(authenticated, Response):
            return authenticated
        principal: Principal = authenticator.principal(request)
        if not principal.can("user", "edit"):
            return Response(_("Forbidden"), status_code=403)
        user_id = parse_db_id(request.path_params["pk"])
        if user_id is None:  # no row has it (SQLite cannot even bind it)
            return Response(_("User not found"), status_code=404)
        details_url = str(request.url_for("admin:details", identity="user", pk=user_id))

        def load() -> dict | None:
            with authenticator.session_factory() as db:
                user = db.get(User, user_id)
                if user is None:
                    return None
                return {"target": user, "status": authenticator.mfa.status(db, user.id, user.role)}

        context = await run_in_threadpool(load)
        if context is None:
            return Response(_("User not found"), status_code=404)
        context.update(details_url=details_url, title=_("Second factors"), error=None, self_reset=False)
        if user_id == principal.user_id:
            context["self_reset"] = True
            if request.method == "POST":
                context["error"] = _("Your own second factors are changed in My account.")
                return await self._render(request, "user_second_factors.html", context, 400)
        if request.method == "GET":
            return await self._render(request, "user_second_factors.html", context)

        def reset() -> None:
            with unit_of_work(authenticator.session_factory, Actor.from_principal(principal, via="admin")) as ctx:
                db = ctx.db
                had = authenticator.mfa.reset(db, user_id)
                ended = end_user_sessions(db, user_id)
                audit.record(db, "mfa_reset", "user", user_id, details={
                    "totp": had.totp, "passkeys": had.passkeys, "recovery_codes": had.recovery_left,
                    "sessions_ended": ended,
                })

        await run_in_threadpool(reset)
        Flash.success(request, _("Second factors of {email} reset; their sessions ended.").format(
            email=context["target"].email))
        return RedirectResponse(details_url, status_code=status.HTTP_303_SEE_OTHER)


def registration_signer(authenticator: Authenticator) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(authenticator.config.secret_key, salt="passkey-registration")


def totp_setup(secret: str, email: str, issuer: str) -> dict[str, str]:
    uri = provisioning_uri(secret, email, issuer)
    return {"secret": grouped(secret), "raw_secret": secret, "uri": uri, "qr": qr_svg(uri)}
