"""One authentication mechanism for the admin and the API: session cookie or bearer token."""

from __future__ import annotations

import enum
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import anyio
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.requests import HTTPConnection

from auth import throttle
from auth import webauthn as passkeys
from auth.client_address import client_address
from auth.config import AuthConfig
from auth.mfa import SecondFactors
from auth.passwords import Passwords
from auth.pending import ENROL, VERIFY, PendingLogins
from auth.principal import Principal
from auth.sessions import SessionStore, purge_expired_sessions
from auth.tokens import resolve_token
from models import Passkey, User
from models.common import reject_control_characters, utcnow
from models.user import normalize_email

_STATE_KEY = "principal"
_MISSING = object()


class LoginOutcome(enum.Enum):
    ok = "ok"
    invalid = "invalid"
    inactive = "inactive"
    throttled = "throttled"
    busy = "busy"  # too many logins already waiting for a password check
    second_factor = "second_factor"  # the password was right; the second factor is next
    enrol = "enrol"  # the password was right; the role requires a second factor it lacks
    bad_code = "bad_code"  # the second factor was wrong
    expired = "expired"  # no pending login (never started, used, or too old)


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    email: str
    user_id: int | None = None
    session_cookie: str | None = None  # signed value for the cookie, on success
    retry_after: int | None = None
    pending_cookie: str | None = None  # signed pending login, when the second factor is next
    recovery_codes: list[str] | None = None  # new ones, once, when enrolment completed a login


class _PendingGone(Exception):
    """The pending login was used up by another request meanwhile: undo this one."""


# The same words for an unknown email and a wrong password: nothing to enumerate.
INVALID_CREDENTIALS = "Invalid email or password."
INACTIVE_ACCOUNT = "This account is deactivated."
INVALID_CODE = "That code is not valid (or was already used)."
SECOND_FACTOR_NEEDED = (
    "This account has two-factor sign-in: send the authenticator app's current code "
    "(or a recovery code) as `code`."
)
ENROLMENT_NEEDED = (
    "Your role requires two-factor sign-in: log in at /admin to set it up first."
)
PENDING_EXPIRED = "The sign-in took too long or was already completed. Log in again."


BUSY_MESSAGE = "Too many logins are being checked right now. Try again in a moment."


def throttled_message(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed logins. Try again in about {minutes} {unit}."


# (db, event, email, user_id, details) -> None, called inside the event's transaction.
EventRecorder = Callable[[Session, str, str, "int | None", dict], None]


class Authenticator:
    """Resolves who a request is and runs logins; every method is synchronous (thread pool)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        passwords: Passwords,
        config: AuthConfig,
        record_event: EventRecorder | None = None,
        login_queue_limit: int = 64,
    ) -> None:
        self.session_factory = session_factory
        self.passwords = passwords
        self.config = config
        self.sessions = SessionStore(config)
        self.record_event = record_event or (lambda *_args: None)
        # Logins wait for a password-check slot in the event loop, not in a worker thread:
        # a flood of logins neither starves the thread pool nor grows without bound.
        self._login_slots = anyio.CapacityLimiter(passwords.max_concurrency)
        self._login_queue_limit = login_queue_limit
        self._waiting = 0
        self.known_blocks = throttle.KnownBlocks()
        self.mfa = SecondFactors(config)
        self.pending = PendingLogins(config)

    async def attempt(
        self, request: HTTPConnection, email: str, password: str, *,
        code: str | None = None, pending: bool = False,
    ) -> LoginResult:
        """`login` off the event loop, at most `max_concurrency` at once, a bounded queue."""
        known = self.known_blocks.seconds_left(normalize_email(email)[:254], self.address(request))
        if known is not None:  # already refused here: no query, no thread, no hashing
            # ...and not at once: an attacker's connections would otherwise turn cheap 429s
            # into thousands of requests a second that crowd the event loop.
            await anyio.sleep(self.config.throttle_delay)
            return LoginResult(LoginOutcome.throttled, normalize_email(email)[:254], retry_after=known)
        if self._waiting >= self._login_queue_limit:
            return LoginResult(LoginOutcome.busy, normalize_email(email)[:254], retry_after=1)
        self._waiting += 1
        try:
            return await anyio.to_thread.run_sync(
                lambda: self.login(request, email, password, code=code, pending=pending),
                limiter=self._login_slots,
            )
        finally:
            self._waiting -= 1

    # who is this request ----------------------------------------------------
    def principal(self, request: HTTPConnection, db: Session | None = None) -> Principal | None:
        """The principal of a request's bearer token or session cookie (cached per request).

        `db`, when given, is the request's own session: one connection per request.
        """
        cached = getattr(request.state, _STATE_KEY, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        principal = self._resolve(request, db)
        setattr(request.state, _STATE_KEY, principal)
        return principal

    def _resolve(self, request: HTTPConnection, db: Session | None) -> Principal | None:
        authorization = request.headers.get("authorization")
        if authorization:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() != "bearer" or not credentials.strip():
                return None
            with self._session(db) as session:
                return resolve_token(session, credentials.strip())
        raw_id = self.sessions.unsign(request.cookies.get(self.config.session_cookie))
        if raw_id is None:
            return None
        with self._session(db) as session:
            return self.sessions.resolve(session, raw_id)

    def _session(self, db: Session | None) -> AbstractContextManager[Session]:
        return nullcontext(db) if db is not None else self.session_factory()

    def address(self, request: HTTPConnection) -> str:
        return client_address(request, self.config.trusted_proxies)

    # login and logout -----------------------------------------------------
    def login(
        self, request: HTTPConnection, email: str, password: str, *,
        code: str | None = None, pending: bool = False,
    ) -> LoginResult:
        """Check credentials under throttling; on success start a fresh session.

        An account with a second factor (or whose role requires one) gets no session from a
        password alone: `code` in the same request is checked (the API), or with `pending`
        a pending login is started and its cookie returned (the admin's next page asks).
        """
        email = normalize_email(email)[:254]
        try:
            reject_control_characters(email)
        except ValueError:
            # No account's email has one, and PostgreSQL refuses a NUL in the lookup.
            return LoginResult(LoginOutcome.invalid, email)
        address = self.address(request)
        via = "admin" if request.url.path.startswith("/admin") else "api"
        with self.session_factory() as db:
            block = throttle.find_block(db, self.config, email, address)
            if block is not None:  # refused before any hashing, even for a right password
                self.known_blocks.remember(block)
                self.record_event(db, "login_throttled", email, None, {
                    "address": address, "via": via, "blocked": block.scope, "seconds": block.seconds,
                })
                db.commit()
                return LoginResult(LoginOutcome.throttled, email, retry_after=block.seconds)
            user = db.execute(
                select(User.id, User.hashed_password, User.is_active, User.role)
                .where(User.email == email)
            ).first()
        # The connection is back in the pool while Argon2 runs.
        checked = self.passwords.verify(user.hashed_password if user else None, password)
        new_hash = self.passwords.hash(password) if checked.ok and checked.needs_rehash else None
        with self.session_factory() as db, db.begin():
            if not checked.ok or user is None:
                throttle.record_failure(db, self.config, email, address)
                self.record_event(db, "login_failure", email, user.id if user else None,
                                  {"address": address, "via": via})
                return LoginResult(LoginOutcome.invalid, email)
            if not user.is_active:
                self.record_event(db, "login_failure", email, user.id,
                                  {"address": address, "reason": "deactivated", "via": via})
                return LoginResult(LoginOutcome.inactive, email, user_id=user.id)
            if new_hash is not None:
                db.execute(update(User).where(User.id == user.id).values(
                    hashed_password=new_hash, updated_at=User.updated_at
                ))
            method = None
            factors = self.mfa.factors(db, user.id)
            if factors.any or self.mfa.required_for(user.role):
                # The account's failure count is not reset here: only a complete login does
                # that, or a known password would buy endless guesses at the code.
                if code is not None and factors.any:
                    method = self.mfa.check_code(db, user.id, code)
                    if method is None:
                        self._second_factor_failed(db, email, user.id, address, via, "code")
                        return LoginResult(LoginOutcome.bad_code, email, user_id=user.id)
                elif pending:
                    if not factors.any and self.mfa.unconfirmed_secret(db, user.id) is None:
                        self.mfa.start_totp(db, user.id)
                        self.record_event(db, "mfa_totp_enrolled", email, user.id, {"via": via})
                    raw = self.pending.create(db, user.id, VERIFY if factors.any else ENROL)
                    return LoginResult(
                        LoginOutcome.second_factor if factors.any else LoginOutcome.enrol,
                        email, user_id=user.id, pending_cookie=self.pending.sign(raw),
                    )
                else:
                    outcome = LoginOutcome.second_factor if factors.any else LoginOutcome.enrol
                    return LoginResult(outcome, email, user_id=user.id)
            cookie = self._start_session(db, request, user.id, email, address, via, method)
            if method == "recovery":
                self._recovery_used(db, email, user.id, via)
        return LoginResult(LoginOutcome.ok, email, user_id=user.id, session_cookie=cookie)

    def _start_session(
        self, db: Session, request: HTTPConnection, user_id: int, email: str, address: str,
        via: str, method: str | None,
    ) -> str:
        """The end of every successful login: a fresh session; returns its signed cookie."""
        throttle.clear_account(db, email)
        db.execute(update(User).where(User.id == user_id).values(
            last_login_at=utcnow(), updated_at=User.updated_at
        ))
        previous = self.sessions.unsign(request.cookies.get(self.config.session_cookie))
        if previous is not None:  # nothing from before login survives
            self.sessions.end(db, previous)
        # Sessions nobody came back to are otherwise only removed when presented.
        purge_expired_sessions(db)
        raw = self.sessions.create(
            db, user_id, ip_address=address,
            user_agent=request.headers.get("user-agent", ""), second_factor=method,
        )
        details: dict[str, object] = {"address": address, "via": via}
        if method is not None:
            details["second_factor"] = method
        self.record_event(db, "login_success", email, user_id, details)
        return self.sessions.sign(raw)

    def _second_factor_failed(
        self, db: Session, email: str, user_id: int, address: str, via: str, method: str
    ) -> None:
        """A wrong code counts as a failed login: the same throttle, per account and address."""
        throttle.record_failure(db, self.config, email, address)
        self.record_event(db, "mfa_failure", email, user_id,
                          {"address": address, "via": via, "method": method})

    def _recovery_used(self, db: Session, email: str, user_id: int, via: str) -> None:
        left = self.mfa.recovery_left(db, user_id)
        self.record_event(db, "mfa_recovery_used", email, user_id, {"via": via, "remaining": left})

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

    def logout(self, request: HTTPConnection) -> Principal | None:
        """End the request's session (if any); returns whose it was."""
        principal = self.principal(request)
        raw_id = self.sessions.unsign(request.cookies.get(self.config.session_cookie))
        if raw_id is not None:
            with self.session_factory() as db, db.begin():
                self.sessions.end(db, raw_id)
                if principal is not None:
                    via = "admin" if request.url.path.startswith("/admin") else "api"
                    self.record_event(db, "logout", principal.email, principal.user_id, {"via": via})
        setattr(request.state, _STATE_KEY, None)
        return principal
