"""My account, for every role: my password, my second factors, my sessions, my API tokens."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import available_timezones

import anyio
from pydantic import ValidationError
from sqladmin import BaseView, Flash, Secret, expose
from starlette import status
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin_app.admin.compat import admin_of
from admin_app.admin.language import choose_language
from admin_app.admin.messages import StaffError, staff_errors
from admin_app.admin.mfa_account import AccountSecondFactors, account_context
from admin_app.i18n import N_, lazy_gettext, set_language
from admin_app.i18n import gettext as _
from admin_app.services import users as user_service
from admin_app.services.actor import Actor
from admin_app.services.unit import unit_of_work
from admin_app.services.wording import validation_message
from auth import sessions as session_store
from auth import tokens as token_store
from auth.principal import Principal
from models import ApiTokenCreate, UserUpdate
from models.common import parse_db_id
from models.user import LANGUAGES, THEMES

WRONG_PASSWORD = N_("Current password: not correct.")
# The zones My account offers (IANA names; "UTC" first), read once.
TIME_ZONES = ["UTC", *sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))]


class AccountView(BaseView):
    name = lazy_gettext("My account")
    icon = "fa-solid fa-user-gear"

    @expose("/account", methods=["GET", "POST"], identity="account")
    async def account(self, request: Request) -> Response:
        """GET shows the page; POST does one thing, named by the form's `do`."""
        principal: Principal = request.app.state.authenticator.principal(request)
        if request.method == "GET":
            return await self._page(request, principal)
        form = await request.form()
        do = str(form.get("do") or "")
        handler = {
            "password": self._change_password,
            "end-session": self._end_session,
            "create-token": self._create_token,
            "revoke-token": self._revoke_token,
            "time-zone": self._set_time_zone,
            "theme": self._set_theme,
            "language": self._set_language,
            **AccountSecondFactors(self).handlers(),
        }.get(do)
        if handler is None:
            return await self._page(request, principal, error=("", "Unknown request."), status_code=400)
        fields = {k: str(v) for k, v in form.items()}
        try:
            return await handler(request, principal, fields)
        except StaffError as exc:
            return await self._page(
                request, principal, error=(do, exc.message),
                status_code=exc.status_code if exc.status_code < 500 else 400,
            )

    # --- the page ---------------------------------------------------------------------------
    def _load(self, principal: Principal) -> dict[str, Any]:
        authenticator = admin_of(self).admin.state.authenticator
        with admin_of(self).session_maker() as db:
            user = user_service.get_user(db, principal.user_id)
            return {
                "user": user,
                "sessions": session_store.list_user_sessions(db, principal.user_id),
                "tokens": token_store.list_tokens(db, principal.user_id),
                "time_zones": TIME_ZONES,
                "themes": THEMES,
                "languages": LANGUAGES,
                **account_context(db, authenticator, user),
            }

    async def _page(
        self, request: Request, principal: Principal, *, error: tuple[str, str] | None = None,
        status_code: int = 200, **extra: Any,
    ) -> Response:
        context = await anyio.to_thread.run_sync(self._load, principal)
        context.update(
            principal=principal, error=error, title=_("My account"),
            account_url=str(request.url_for("admin:view-account")), **extra,
        )
        response = await self.templates.TemplateResponse(
            request, "sqladmin/account.html", context, status_code=status_code
        )
        if Secret.get(request) is not None:
            Secret.apply_no_store_headers(response)
        return response

    def _done(self, request: Request, message: str) -> Response:
        Flash.success(request, message)
        return RedirectResponse(request.url_for("admin:view-account"), status_code=status.HTTP_303_SEE_OTHER)

    def _write(self, principal: Principal, work) -> Any:  # noqa: ANN001
        """Run `work(db)` in one transaction by `principal`; errors become messages for the page."""
        actor = Actor.from_principal(principal, via="admin")
        with staff_errors(), unit_of_work(admin_of(self).session_maker, actor) as ctx:
            return work(ctx.db)

    # --- what the page does ---------------------------------------------------------------
    async def _change_password(self, request: Request, principal: Principal, form: dict) -> Response:
        current, new = form.get("current_password", ""), form.get("new_password", "")
        if new != form.get("new_password_confirm", ""):
            raise StaffError(_("New password: the two entries differ."))
        passwords = request.app.state.passwords

        def work(db):  # noqa: ANN001, ANN202
            user = user_service.get_user(db, principal.user_id)
            if not passwords.verify(user.hashed_password, current).ok:
                raise StaffError(_(WRONG_PASSWORD))
            user_service.update_user(
                db, passwords, user, UserUpdate(password=new),
                keep_session_id=principal.session_id,
            )

        await anyio.to_thread.run_sync(self._write, principal, work)
        return self._done(request, "Password changed. Your other sessions were ended and your API tokens revoked.")

    async def _set_time_zone(self, request: Request, principal: Principal, form: dict) -> Response:
        zone = form.get("time_zone", "")
        if zone not in TIME_ZONES:
            raise StaffError(_("Time zone: not a known time zone; choose one from the list (like Europe/Paris)."))

        def work(db):  # noqa: ANN001, ANN202
            user_service.get_user(db, principal.user_id).time_zone = zone

        await anyio.to_thread.run_sync(self._write, principal, work)
        return self._done(request, f"Times now show in {zone}.")

    async def _set_theme(self, request: Request, principal: Principal, form: dict) -> Response:
        theme = form.get("theme", "")
        if theme not in THEMES:
            raise StaffError(_("Theme: choose {themes}.").format(themes=", ".join(THEMES)))

        def work(db):  # noqa: ANN001, ANN202
            user_service.get_user(db, principal.user_id).theme = theme

        await anyio.to_thread.run_sync(self._write, principal, work)
        return self._done(request, f"Theme: {THEMES[theme].lower()}.")

    async def _set_language(self, request: Request, principal: Principal, form: dict) -> Response:
        language = form.get("language", "")
        if language and language not in LANGUAGES:
            raise StaffError(_("Language: choose one from the list."))

        def work(db):  # noqa: ANN001, ANN202
            user_service.get_user(db, principal.user_id).language = language or None

        await anyio.to_thread.run_sync(self._write, principal, work)
        set_language(language or choose_language(None, request.headers.get("accept-language")))
        return self._done(request, _("Pages now show in {language}.").format(
            language=LANGUAGES[language] if language else _("your browser's language")))

    async def _end_session(self, request: Request, principal: Principal, form: dict) -> Response:
        session_id = form.get("session_id", "")
        # A session's id is a SHA-256 hex digest; anything else (a NUL, which PostgreSQL
        # refuses in text, included) names no session and goes nowhere near the database.
        known = re.fullmatch(r"[0-9a-f]{64}", session_id) is not None

        def work(db):  # noqa: ANN001, ANN202
            if not known or not session_store.end_session_of_user(db, principal.user_id, session_id):
                raise StaffError(_("That session has already ended."), 404)

        await anyio.to_thread.run_sync(self._write, principal, work)
        if session_id == principal.session_id:  # this very session: logged out
            return RedirectResponse(request.url_for("admin:login"), status_code=status.HTTP_303_SEE_OTHER)
        return self._done(request, "Session ended.")

    async def _create_token(self, request: Request, principal: Principal, form: dict) -> Response:
        try:
            data = ApiTokenCreate.model_validate(
                {"name": form.get("name", "").strip(), "expires_in_days": form.get("expires_in_days") or None}
            )
        except ValidationError as exc:
            raise StaffError(validation_message(exc, gettext=_)) from exc

        mfa = request.app.state.authenticator.mfa

        def work(db):  # noqa: ANN001, ANN202
            refusal = mfa.token_refusal(db, principal)
            if refusal:
                raise StaffError(refusal, 403)
            _token, raw = token_store.create_token(
                db, principal.user_id, data.name, expires_in_days=data.expires_in_days
            )
            return raw

        raw = await anyio.to_thread.run_sync(self._write, principal, work)
        # Shown once, in SQLAdmin's one-time secret modal; only its hash is stored.
        Secret.reveal_once(
            request, raw, title=_("API token “{name}”").format(name=data.name),
            label=_("Copy it now: it will not be shown again."),
        )
        return await self._page(request, principal, secret_next_url=str(request.url_for("admin:view-account")))

    async def _revoke_token(self, request: Request, principal: Principal, form: dict) -> Response:
        token_id = parse_db_id(form.get("token_id", ""))

        def work(db):  # noqa: ANN001, ANN202
            token = (
                token_store.revoke_token(db, token_id, user_id=principal.user_id)
                if token_id is not None else None
            )
            if token is None:
                raise StaffError(_("No such token."), 404)
            return token.name

        name = await anyio.to_thread.run_sync(self._write, principal, work)
        return self._done(request, f"Token “{name}” revoked.")
