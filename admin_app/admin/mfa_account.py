"""Two-factor sign-in in My account: the authenticator app, recovery codes and passkeys."""

from __future__ import annotations

from typing import Any

import anyio
from itsdangerous import BadSignature
from sqladmin import Flash
from starlette import status
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin_app import audit
from admin_app.admin.messages import StaffError
from admin_app.admin.mfa import REGISTRATION_MAX_AGE, authenticator_of, registration_signer, totp_setup
from admin_app.i18n import gettext as _
from admin_app.i18n import ngettext
from admin_app.services import users as user_service
from auth import throttle
from auth import webauthn as passkeys
from auth.authenticator import (
    INVALID_CODE,
    Authenticator,
    throttled_message,
)
from auth.principal import Principal
from auth.sessions import end_user_sessions, mark_second_factor
from models import Passkey

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
        authenticator = authenticator_of(request)
        address = authenticator.address(request)
        block = throttle.find_block(db, authenticator.config, principal.email, address)
        if block is not None:
            raise StaffError(throttled_message(block.seconds, ngettext), 429)
        return address

    def _failed(self, db: Any, request: Request, principal: Principal, address: str, what: str) -> None:
        """A wrong code (or password) here counts like a failed login, and is recorded."""
        authenticator = authenticator_of(request)
        throttle.record_failure(db, authenticator.config, principal.email, address)
        audit.record(db, "mfa_failure", "user", principal.user_id, details={"address": address, "method": what})
        db.commit()  # kept although the request fails

    def _first_factor(self, db: Any, request: Request, principal: Principal, method: str) -> list[str]:
        """This session proved the account's first factor: mark it, end the others (they never
        did), and hand out recovery codes."""
        mark_second_factor(db, principal.session_id, method)
        end_user_sessions(db, principal.user_id, keep_session_id=principal.session_id)
        codes = authenticator_of(request).mfa.new_recovery_codes(db, principal.user_id)
        audit.record(db, "mfa_recovery_regenerated", "user", principal.user_id)
        return codes

    async def totp_start(self, request: Request, principal: Principal, form: dict) -> Response:
        mfa = authenticator_of(request).mfa

        def work(db):  # noqa: ANN001, ANN202
            try:
                mfa.start_totp(db, principal.user_id)
            except ValueError as exc:
                raise StaffError(str(exc)) from exc
            audit.record(db, "mfa_totp_enrolled", "user", principal.user_id)

        await self._write(principal, work)
        return self.view._done(request, _("Scan the QR code with your authenticator app, then enter its code."))  # noqa: SLF001

    async def totp_cancel(self, request: Request, principal: Principal, form: dict) -> Response:
        mfa = authenticator_of(request).mfa

        def work(db):  # noqa: ANN001, ANN202
            if mfa.unconfirmed_secret(db, principal.user_id) is None:
                raise StaffError(_("There is no set-up to cancel."), 404)
            mfa.disable_totp(db, principal.user_id)

        await self._write(principal, work)
        return self.view._done(request, _("Set-up cancelled."))  # noqa: SLF001

    async def totp_confirm(self, request: Request, principal: Principal, form: dict) -> Response:
        mfa = authenticator_of(request).mfa
        code = form.get("code", "")

        def work(db):  # noqa: ANN001, ANN202
            address = self._guard(db, request, principal)
            first = not mfa.factors(db, principal.user_id).any
            if mfa.unconfirmed_secret(db, principal.user_id) is None:
                raise StaffError(_("Set up the authenticator app first."), 409)
            if not mfa.confirm_totp(db, principal.user_id, code):
                db.rollback()
                self._failed(db, request, principal, address, "totp-confirm")
                raise StaffError(_("Code: {message}").format(message=_(INVALID_CODE)))
            audit.record(db, "mfa_totp_confirmed", "user", principal.user_id)
            # With a passkey already, its recovery codes stay as they are.
            return self._first_factor(db, request, principal, "totp") if first else None

        codes = await self._write(principal, work)
        if not codes:
            return self.view._done(request, _("Authenticator app added."))  # noqa: SLF001
        return await self.view._page(  # noqa: SLF001
            request, principal, recovery_codes=codes,
            notice=_("Two-factor sign-in is on. Save these recovery codes now: they are shown once."),
        )

    async def totp_disable(self, request: Request, principal: Principal, form: dict) -> Response:
        authenticator = authenticator_of(request)
        mfa, passwords = authenticator.mfa, request.app.state.passwords
        password, code = form.get("current_password", ""), form.get("code", "")

        def work(db):  # noqa: ANN001, ANN202
            address = self._guard(db, request, principal)
            user = user_service.get_user(db, principal.user_id)
            if not mfa.factors(db, user.id).totp:
                raise StaffError(_("No authenticator app is set up."), 404)
            if not passwords.verify(user.hashed_password, password).ok:
                self._failed(db, request, principal, address, "password")
                raise StaffError(_("Current password: not correct."))
            if mfa.check_code(db, user.id, code) is None:
                db.rollback()
                self._failed(db, request, principal, address, "totp-disable")
                raise StaffError(_("Code: {message}").format(message=_(INVALID_CODE)))
            mfa.disable_totp(db, user.id)
            audit.record(db, "mfa_totp_disabled", "user", user.id)
            return self._after_removal(db, request, principal, user.role)

        signed_out = await self._write(principal, work)
        return self._removed(request, signed_out, _("Authenticator app removed."))

    def _after_removal(self, db: Any, request: Request, principal: Principal, role: str) -> bool:
        """With no factor left where the role requires one, every session ends (this one
        too): the next login sets a new one up. True when that happened."""
        mfa = authenticator_of(request).mfa
        if mfa.required_for(role) and not mfa.factors(db, principal.user_id).any:
            end_user_sessions(db, principal.user_id)
            return True
        return False

    def _removed(self, request: Request, signed_out: bool, message: str) -> Response:
        if signed_out:
            Flash.info(request, _("{message} Your role requires a second factor: log in again to set one up.").format(
                message=message))
            return RedirectResponse(request.url_for("admin:login"), status_code=status.HTTP_303_SEE_OTHER)
        return self.view._done(request, message)  # noqa: SLF001

    async def recovery_regenerate(self, request: Request, principal: Principal, form: dict) -> Response:
        mfa = authenticator_of(request).mfa

        def work(db):  # noqa: ANN001, ANN202
            if not mfa.factors(db, principal.user_id).any:
                raise StaffError(_("Recovery codes come with a second factor: set one up first."), 409)
            codes = mfa.new_recovery_codes(db, principal.user_id)
            audit.record(db, "mfa_recovery_regenerated", "user", principal.user_id)
            return codes

        codes = await self._write(principal, work)
        return await self.view._page(  # noqa: SLF001
            request, principal, recovery_codes=codes,
            notice=_("New recovery codes: the old ones no longer work. Save these now: they are shown once."),
        )

    async def passkey_add(self, request: Request, principal: Principal, form: dict) -> Response:
        authenticator = authenticator_of(request)
        name = form.get("name", "").strip()
        if not form.get("credential"):
            raise StaffError(_("Adding a passkey needs JavaScript and a browser that supports passkeys."))
        if not name or len(name) > 100 or any(ord(ch) < 32 for ch in name):
            raise StaffError(_("Passkey name: 1 to 100 characters, no control characters."))
        try:
            state = registration_signer(authenticator).loads(
                form.get("state", ""), max_age=REGISTRATION_MAX_AGE
            )
        except BadSignature as exc:
            raise StaffError(_("The passkey registration expired; try again.")) from exc
        if not isinstance(state, dict) or state.get("u") != principal.user_id or state.get("s") != principal.session_id:
            raise StaffError(_("The passkey registration expired; try again."))
        rp = passkeys.relying_party(request, authenticator.config)
        try:
            new = passkeys.verify_registration(rp, form.get("credential", ""), str(state.get("c")))
        except passkeys.PasskeyError as exc:
            raise StaffError(str(exc)) from exc

        def work(db):  # noqa: ANN001, ANN202
            from sqlalchemy import select

            taken = db.execute(select(Passkey.id).where(Passkey.credential_id == new.credential_id)).first()
            if taken is not None:
                raise StaffError(_("This passkey is already registered."), 409)
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
                notice=_("Passkey “{name}” added: two-factor sign-in is on. Save these recovery codes now: "
                         "they are shown once.").format(name=name),
            )
        return self.view._done(request, _("Passkey “{name}” added.").format(name=name))  # noqa: SLF001

    async def passkey_remove(self, request: Request, principal: Principal, form: dict) -> Response:
        mfa = authenticator_of(request).mfa
        raw_id = form.get("passkey_id", "")

        def work(db):  # noqa: ANN001, ANN202
            passkey = mfa.remove_passkey(db, principal.user_id, int(raw_id)) if raw_id.isdigit() and len(raw_id) < 10 else None
            if passkey is None:
                raise StaffError(_("No such passkey."), 404)
            audit.record(db, "mfa_passkey_removed", "user", principal.user_id, details={"name": passkey.name})
            user = user_service.get_user(db, principal.user_id)
            return passkey.name, self._after_removal(db, request, principal, user.role)

        name, signed_out = await self._write(principal, work)
        return self._removed(request, signed_out, _("Passkey “{name}” removed.").format(name=name))

