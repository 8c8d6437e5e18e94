"""The second step of an admin login: a pending login (no session yet) completed by a code,
a recovery code or a passkey. Mixed into the Authenticator, which owns the state it uses."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session
from starlette.requests import HTTPConnection

from auth import throttle
from auth import webauthn as passkeys
from auth.outcomes import (
    LoginOutcome,
    LoginResult,
    _PendingGone,
)
from auth.pending import ENROL, VERIFY
from models import Passkey, User
from models.common import utcnow


class SecondStep:
    """Authenticator's pending-login methods (self.pending, self.mfa, self.session_factory...)."""

    # the second step of an admin login ---------------------------------------------------
    def pending_user(self, cookie: str | None, purpose: str) -> tuple[str, int, bool] | None:
        """(email, user id, has passkeys) of a live pending login for `purpose`, else None."""
        raw = self.pending.unsign(cookie)
        if raw is None:
            return None
        with self.session_factory() as db:
            row = self.pending.get(db, raw)
            if row is None or row.purpose != purpose:
                return None
            user = db.get(User, row.user_id)
            if user is None or not user.is_active:
                return None
            return user.email, user.id, bool(self.mfa.passkeys(db, user.id))

    def enrolment_secret(self, cookie: str | None) -> tuple[str, str] | None:
        """(email, secret) of the authenticator app a forced enrolment is setting up."""
        found = self.pending_user(cookie, ENROL)
        if found is None:
            return None
        with self.session_factory() as db:
            secret = self.mfa.unconfirmed_secret(db, found[1])
        return (found[0], secret) if secret else None

    def passkey_login_options(self, request: HTTPConnection, cookie: str | None) -> dict | None:
        """WebAuthn options for the pending login's passkeys (its one challenge is stored)."""
        raw = self.pending.unsign(cookie)
        if raw is None:
            return None
        with self.session_factory() as db, db.begin():
            row = self.pending.get(db, raw)
            if row is None or row.purpose != VERIFY:
                return None
            keys = self.mfa.passkeys(db, row.user_id)
            if not keys:
                return None
            options, challenge = passkeys.authentication_options(
                passkeys.relying_party(request, self.config), keys
            )
            self.pending.set_challenge(db, raw, challenge)
        return options

    def complete_login(
        self, request: HTTPConnection, cookie: str | None, *,
        code: str | None = None, credential: object = None, enrol: bool = False,
    ) -> LoginResult:
        """Check the pending login's second factor (or its enrolment's first code); on
        success the pending login is spent and a session starts."""
        raw = self.pending.unsign(cookie)
        if raw is None:
            return LoginResult(LoginOutcome.expired, "")
        address = self.address(request)
        via = "admin"
        try:
            with self.session_factory() as db, db.begin():
                row = self.pending.get(db, raw)
                if row is None or row.purpose != (ENROL if enrol else VERIFY):
                    return LoginResult(LoginOutcome.expired, "")
                user = db.execute(
                    select(User.id, User.email, User.is_active).where(User.id == row.user_id)
                ).first()
                if user is None or not user.is_active:
                    self.pending.consume(db, raw)
                    return LoginResult(LoginOutcome.inactive, user.email if user else "")
                email = user.email
                block = throttle.find_block(db, self.config, email, address)
                if block is not None:
                    self.known_blocks.remember(block)
                    self.record_event(db, "login_throttled", email, user.id, {
                        "address": address, "via": via, "blocked": block.scope, "seconds": block.seconds,
                    })
                    return LoginResult(LoginOutcome.throttled, email, retry_after=block.seconds)
                codes = None
                if enrol:
                    method = "totp" if self.mfa.confirm_totp(db, user.id, code or "") else None
                elif credential is not None:
                    method = self._check_passkey(db, request, raw, user.id, credential)
                else:
                    method = self.mfa.check_code(db, user.id, code or "")
                if method is None:
                    self._second_factor_failed(
                        db, email, user.id, address, via, "passkey" if credential is not None else "code"
                    )
                    return LoginResult(LoginOutcome.bad_code, email, user_id=user.id)
                if not self.pending.consume(db, raw):
                    raise _PendingGone
                if enrol:
                    self.record_event(db, "mfa_totp_confirmed", email, user.id, {"via": via})
                    codes = self.mfa.new_recovery_codes(db, user.id)
                session_cookie = self._start_session(db, request, user.id, email, address, via, method)
                if method == "recovery":
                    self._recovery_used(db, email, user.id, via)
        except _PendingGone:  # rolled back: the code is not spent by this request
            return LoginResult(LoginOutcome.expired, "")
        return LoginResult(
            LoginOutcome.ok, email, user_id=user.id, session_cookie=session_cookie,
            recovery_codes=codes,
        )

    def _check_passkey(
        self, db: Session, request: HTTPConnection, raw: str, user_id: int, credential: object
    ) -> str | None:
        challenge = self.pending.take_challenge(db, raw)  # one answer per challenge
        if challenge is None:
            return None
        try:
            credential_id = passkeys.credential_id_of(credential)
        except passkeys.PasskeyError:
            return None
        passkey = db.execute(
            select(Passkey).where(Passkey.credential_id == credential_id, Passkey.user_id == user_id)
        ).scalar_one_or_none()
        if passkey is None:
            return None
        try:
            count = passkeys.verify_authentication(
                passkeys.relying_party(request, self.config), credential, challenge, passkey
            )
        except passkeys.PasskeyError:
            return None
        passkey.sign_count = count
        passkey.last_used_at = utcnow()
        db.flush()
        return "passkey"
