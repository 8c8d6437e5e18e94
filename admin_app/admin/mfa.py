"""Two-factor sign-in in the admin: the login's second step, forced enrolment, My account's
authenticator app, recovery codes and passkeys, and an admin's reset of another user's.

The login pages work on a pending login (auth/pending.py), never on a session: until the
second factor is right, there is no session to use anywhere.
"""

from __future__ import annotations

from typing import Any

import anyio
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqladmin import Flash
from starlette import status
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from admin_app import audit
from admin_app.admin.messages import StaffError
from admin_app.services import users as user_service
from admin_app.services.actor import Actor
from admin_app.services.unit import unit_of_work
from auth import throttle
from auth import webauthn as passkeys
from auth.authenticator import (
    INACTIVE_ACCOUNT,
    INVALID_CODE,
    PENDING_EXPIRED,
    Authenticator,
    LoginOutcome,
    throttled_message,
)
from auth.mfa import grouped, provisioning_uri, qr_svg
from auth.pending import VERIFY
from auth.principal import Principal
from auth.redirects import safe_next
from auth.sessions import end_user_sessions, mark_second_factor
from models import Passkey, User
from models.common import parse_db_id

MAX_FIELD = 16_000  # a passkey's JSON answer is a few KiB; nothing else comes near
REGISTRATION_MAX_AGE = 300  # seconds a passkey registration may take


def _authenticator(request: Request) -> Authenticator:
    return request.app.state.authenticator


def _field(form: Any, name: str) -> str:
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
        return request.cookies.get(_authenticator(request).config.pending_cookie)

    @staticmethod
    def _forget_pending(request: Request, response: Response) -> Response:
        options = _authenticator(request).pending.cookie_options()
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
        response.set_cookie(value=result.session_cookie, **_authenticator(request).sessions.cookie_options())
        return self._forget_pending(request, response)

    # --- the login's second step --------------------------------------------------------
    async def second_factor(self, request: Request) -> Response:
        authenticator = _authenticator(request)
        cookie = self._pending_cookie(request)
        found = await run_in_threadpool(authenticator.pending_user, cookie, VERIFY)
        if found is None:
            return self._back_to_login(request)
        email, _user_id, has_passkeys = found
        if request.method == "GET":
            return await self._second_factor_page(request, email, has_passkeys, self._next(request))
        form = await request.form()
        next_url = self._next(request, form)
        credential = _field(form, "credential") or None
        result = await run_in_threadpool(
            lambda: authenticator.complete_login(
                request, cookie, code=_field(form, "code"), credential=credential
            )
        )
        if result.outcome is LoginOutcome.ok:
            return self._logged_in(request, result, RedirectResponse(next_url, status_code=302))
        if result.outcome is LoginOutcome.throttled:
            response = await self._second_factor_page(
                request, email, has_passkeys, next_url,
                error=throttled_message(result.retry_after or 60), status_code=429,
            )
            response.headers["Retry-After"] = str(result.retry_after)
            return response
        if result.outcome is LoginOutcome.bad_code:
            error = "The passkey was not accepted." if credential else INVALID_CODE
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
        authenticator = _authenticator(request)
        options = await run_in_threadpool(
            authenticator.passkey_login_options, request, self._pending_cookie(request)
        )
        if options is None:
            return JSONResponse({"detail": PENDING_EXPIRED}, status_code=400)
        return JSONResponse(options)

    async def enrol(self, request: Request) -> Response:
        """A role that requires a second factor, and none yet: set up the app, then in."""
        authenticator = _authenticator(request)
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
            lambda: authenticator.complete_login(request, cookie, code=_field(form, "code"), enrol=True)
        )
        if result.outcome is LoginOutcome.ok:
            page = await self._render(request, "recovery_codes.html", {
                "codes": result.recovery_codes, "next": next_url, "title": "Recovery codes",
            })
            return self._logged_in(request, result, page)
        if result.outcome is LoginOutcome.throttled:
            response = await self._enrol_page(
                request, email, secret, next_url, error=throttled_message(result.retry_after or 60),
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
        config = _authenticator(request).config
        return await self._render(request, "login_enrol.html", {
            "email": email, "totp": totp_setup(secret, email, config.totp_issuer),
            "next": next_url, "error": error,
        }, status_code)

    # --- My account: passkey registration options ---------------------------------------
    async def account_passkey_options(self, request: Request) -> Response:
        authenticator = _authenticator(request)
        principal = await run_in_threadpool(authenticator.principal, request)
        if principal is None or principal.via != "session":
            return JSONResponse({"detail": "Not authenticated."}, status_code=401)

        def work() -> dict:
            with authenticator.session_factory() as db:
                user = user_service.get_user(db, principal.user_id)
                handle = authenticator.mfa.user_handle(db, user.id)
                options, challenge = passkeys.registration_options(
                    passkeys.relying_party(request, authenticator.config),
                    email=user.email, display_name=user.full_name, user_handle=handle,
                    existing=authenticator.mfa.passkeys(db, user.id),
                )
            state = _registration_signer(authenticator).dumps(
                {"u": principal.user_id, "s": principal.session_id, "c": challenge, "h": handle}
            )
            return {"options": options, "state": state}

        return JSONResponse(await run_in_threadpool(work))

    # --- an admin resets another user's second factors ----------------------------------
    async def user_second_factors(self, request: Request) -> Response:
        authenticator = _authenticator(request)
        authenticated = await self.admin.authentication_backend.authenticate(request)
        if isinstance(authenticated, Response):
            return authenticated
        principal: Principal = authenticator.principal(request)
        if not principal.can("user", "edit"):
            return Response("Forbidden", status_code=403)
        user_id = parse_db_id(request.path_params["pk"])
        if user_id is None:  # no row has it (SQLite cannot even bind it)
            return Response("User not found", status_code=404)
        details_url = str(request.url_for("admin:details", identity="user", pk=user_id))

        def load() -> dict | None:
            with authenticator.session_factory() as db:
                user = db.get(User, user_id)
                if user is None:
                    return None
                return {"target": user, "status": authenticator.mfa.status(db, user.id, user.role)}

        context = await run_in_threadpool(load)
        if context is None:
            return Response("User not found", status_code=404)
        context.update(details_url=details_url, title="Second factors", error=None, self_reset=False)
        if user_id == principal.user_id:
            context["self_reset"] = True
            if request.method == "POST":
                context["error"] = "Your own second factors are changed in My account."
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
        Flash.success(request, f"Second factors of {context['target'].email} reset; their sessions ended.")
        return RedirectResponse(details_url, status_code=status.HTTP_303_SEE_OTHER)


def _registration_signer(authenticator: Authenticator) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(authenticator.config.secret_key, salt="passkey-registration")


def totp_setup(secret: str, email: str, issuer: str) -> dict[str, str]:
    uri = provisioning_uri(secret, email, issuer)
    return {"secret": grouped(secret), "raw_secret": secret, "uri": uri, "qr": qr_svg(uri)}


# --- My account: what the page shows and does ------------------------------------------------

def account_context(db: Any, authenticator: Authenticator, user: Any) -> dict[str, Any]:
    """The second-factor part of My account."""
    mfa = authenticator.mfa
    status_ = mfa.status(db, user.id, user.role)
    secret = mfa.unconfirmed_secret(db, user.id)
    return {
        "mfa": status_,
        "totp_setup": totp_setup(secret, user.email, authenticator.config.totp_issuer) if secret else None,
    }


class AccountSecondFactors:
    """The `do=` handlers of My account for second factors; `view` is the AccountView."""

    def __init__(self, view: Any) -> None:
        self.view = view

    def handlers(self) -> dict[str, Any]:
        return {
            "totp-start": self.totp_start,
            "totp-cancel": self.totp_cancel,
            "totp-confirm": self.totp_confirm,
            "totp-disable": self.totp_disable,
            "recovery-regenerate": self.recovery_regenerate,
            "passkey-add": self.passkey_add,
            "passkey-remove": self.passkey_remove,
        }

    async def _write(self, principal: Principal, work: Any) -> Any:
        return await anyio.to_thread.run_sync(self.view._write, principal, work)  # noqa: SLF001

    def _guard(self, db: Any, request: Request, principal: Principal) -> str:
        """Refuse while the account or address is throttled; returns the client address."""
        authenticator = _authenticator(request)
        address = authenticator.address(request)
        block = throttle.find_block(db, authenticator.config, principal.email, address)
        if block is not None:
            raise StaffError(throttled_message(block.seconds), 429)
        return address

    def _failed(self, db: Any, request: Request, principal: Principal, address: str, what: str) -> None:
        """A wrong code (or password) here counts like a failed login, and is recorded."""
        authenticator = _authenticator(request)
        throttle.record_failure(db, authenticator.config, principal.email, address)
        audit.record(db, "mfa_failure", "user", principal.user_id, details={"address": address, "method": what})
        db.commit()  # kept although the request fails

    def _first_factor(self, db: Any, request: Request, principal: Principal, method: str) -> list[str]:
        """This session proved the account's first factor: mark it, end the others (they never
        did), and hand out recovery codes."""
        mark_second_factor(db, principal.session_id, method)
        end_user_sessions(db, principal.user_id, keep_session_id=principal.session_id)
        codes = _authenticator(request).mfa.new_recovery_codes(db, principal.user_id)
        audit.record(db, "mfa_recovery_regenerated", "user", principal.user_id)
        return codes

    async def totp_start(self, request: Request, principal: Principal, form: dict) -> Response:
        mfa = _authenticator(request).mfa

        def work(db):  # noqa: ANN001, ANN202
            try:
                mfa.start_totp(db, principal.user_id)
            except ValueError as exc:
                raise StaffError(str(exc)) from exc
            audit.record(db, "mfa_totp_enrolled", "user", principal.user_id)

        await self._write(principal, work)
        return self.view._done(request, "Scan the QR code with your authenticator app, then enter its code.")  # noqa: SLF001

    async def totp_cancel(self, request: Request, principal: Principal, form: dict) -> Response:
        mfa = _authenticator(request).mfa

        def work(db):  # noqa: ANN001, ANN202
            if mfa.unconfirmed_secret(db, principal.user_id) is None:
                raise StaffError("There is no set-up to cancel.", 404)
            mfa.disable_totp(db, principal.user_id)

        await self._write(principal, work)
        return self.view._done(request, "Set-up cancelled.")  # noqa: SLF001

    async def totp_confirm(self, request: Request, principal: Principal, form: dict) -> Response:
        mfa = _authenticator(request).mfa
        code = form.get("code", "")

        def work(db):  # noqa: ANN001, ANN202
            address = self._guard(db, request, principal)
            first = not mfa.factors(db, principal.user_id).any
            if mfa.unconfirmed_secret(db, principal.user_id) is None:
                raise StaffError("Set up the authenticator app first.", 409)
            if not mfa.confirm_totp(db, principal.user_id, code):
                db.rollback()
                self._failed(db, request, principal, address, "totp-confirm")
                raise StaffError(f"Code: {INVALID_CODE}")
            audit.record(db, "mfa_totp_confirmed", "user", principal.user_id)
            # With a passkey already, its recovery codes stay as they are.
            return self._first_factor(db, request, principal, "totp") if first else None

        codes = await self._write(principal, work)
        if not codes:
            return self.view._done(request, "Authenticator app added.")  # noqa: SLF001
        return await self.view._page(  # noqa: SLF001
            request, principal, recovery_codes=codes,
            notice="Two-factor sign-in is on. Save these recovery codes now: they are shown once.",
        )

    async def totp_disable(self, request: Request, principal: Principal, form: dict) -> Response:
        authenticator = _authenticator(request)
        mfa, passwords = authenticator.mfa, request.app.state.passwords
        password, code = form.get("current_password", ""), form.get("code", "")

        def work(db):  # noqa: ANN001, ANN202
            address = self._guard(db, request, principal)
            user = user_service.get_user(db, principal.user_id)
            if not mfa.factors(db, user.id).totp:
                raise StaffError("No authenticator app is set up.", 404)
            if not passwords.verify(user.hashed_password, password).ok:
                self._failed(db, request, principal, address, "password")
                raise StaffError("Current password: not correct.")
            if mfa.check_code(db, user.id, code) is None:
                db.rollback()
                self._failed(db, request, principal, address, "totp-disable")
                raise StaffError(f"Code: {INVALID_CODE}")
            mfa.disable_totp(db, user.id)
            audit.record(db, "mfa_totp_disabled", "user", user.id)
            return self._after_removal(db, request, principal, user.role)

        signed_out = await self._write(principal, work)
        return self._removed(request, signed_out, "Authenticator app removed.")

    def _after_removal(self, db: Any, request: Request, principal: Principal, role: str) -> bool:
        """With no factor left where the role requires one, every session ends (this one
        too): the next login sets a new one up. True when that happened."""
        mfa = _authenticator(request).mfa
        if mfa.required_for(role) and not mfa.factors(db, principal.user_id).any:
            end_user_sessions(db, principal.user_id)
            return True
        return False

    def _removed(self, request: Request, signed_out: bool, message: str) -> Response:
        if signed_out:
            Flash.info(request, f"{message} Your role requires a second factor: log in again to set one up.")
            return RedirectResponse(request.url_for("admin:login"), status_code=status.HTTP_303_SEE_OTHER)
        return self.view._done(request, message)  # noqa: SLF001

    async def recovery_regenerate(self, request: Request, principal: Principal, form: dict) -> Response:
        mfa = _authenticator(request).mfa

        def work(db):  # noqa: ANN001, ANN202
            if not mfa.factors(db, principal.user_id).any:
                raise StaffError("Recovery codes come with a second factor: set one up first.", 409)
            codes = mfa.new_recovery_codes(db, principal.user_id)
            audit.record(db, "mfa_recovery_regenerated", "user", principal.user_id)
            return codes

        codes = await self._write(principal, work)
        return await self.view._page(  # noqa: SLF001
            request, principal, recovery_codes=codes,
            notice="New recovery codes: the old ones no longer work. Save these now: they are shown once.",
        )

    async def passkey_add(self, request: Request, principal: Principal, form: dict) -> Response:
        authenticator = _authenticator(request)
        name = form.get("name", "").strip()
        if not form.get("credential"):
            raise StaffError("Adding a passkey needs JavaScript and a browser that supports passkeys.")
        if not name or len(name) > 100 or any(ord(ch) < 32 for ch in name):
            raise StaffError("Passkey name: 1 to 100 characters, no control characters.")
        try:
            state = _registration_signer(authenticator).loads(
                form.get("state", ""), max_age=REGISTRATION_MAX_AGE
            )
        except BadSignature as exc:
            raise StaffError("The passkey registration expired; try again.") from exc
        if not isinstance(state, dict) or state.get("u") != principal.user_id or state.get("s") != principal.session_id:
            raise StaffError("The passkey registration expired; try again.")
        rp = passkeys.relying_party(request, authenticator.config)
        try:
            new = passkeys.verify_registration(rp, form.get("credential", ""), str(state.get("c")))
        except passkeys.PasskeyError as exc:
            raise StaffError(str(exc)) from exc

        def work(db):  # noqa: ANN001, ANN202
            from sqlalchemy import select

            taken = db.execute(select(Passkey.id).where(Passkey.credential_id == new.credential_id)).first()
            if taken is not None:
                raise StaffError("This passkey is already registered.", 409)
            first = not authenticator.mfa.factors(db, principal.user_id).any
            db.add(Passkey(
                user_id=principal.user_id, name=name, credential_id=new.credential_id,
                public_key=new.public_key, user_handle=str(state.get("h")), sign_count=new.sign_count,
                transports=new.transports,
            ))
            db.flush()
            audit.record(db, "mfa_passkey_added", "user", principal.user_id, details={"name": name})
            return self._first_factor(db, request, principal, "passkey") if first else None

        codes = await self._write(principal, work)
        if codes:
            return await self.view._page(  # noqa: SLF001
                request, principal, recovery_codes=codes,
                notice=f"Passkey “{name}” added: two-factor sign-in is on. Save these recovery codes now: "
                "they are shown once.",
            )
        return self.view._done(request, f"Passkey “{name}” added.")  # noqa: SLF001

    async def passkey_remove(self, request: Request, principal: Principal, form: dict) -> Response:
        mfa = _authenticator(request).mfa
        raw_id = form.get("passkey_id", "")

        def work(db):  # noqa: ANN001, ANN202
            passkey = mfa.remove_passkey(db, principal.user_id, int(raw_id)) if raw_id.isdigit() and len(raw_id) < 10 else None
            if passkey is None:
                raise StaffError("No such passkey.", 404)
            audit.record(db, "mfa_passkey_removed", "user", principal.user_id, details={"name": passkey.name})
            user = user_service.get_user(db, principal.user_id)
            return passkey.name, self._after_removal(db, request, principal, user.role)

        name, signed_out = await self._write(principal, work)
        return self._removed(request, signed_out, f"Passkey “{name}” removed.")

