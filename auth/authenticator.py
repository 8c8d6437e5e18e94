"""One authentication mechanism for the admin and the API: session cookie or bearer token."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import anyio
from sqlalchemy import Connection, select, update
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.requests import HTTPConnection

from auth import throttle
from auth.client_address import client_address
from auth.config import AuthConfig
from auth.mfa import SecondFactors
from auth.outcomes import (
    BUSY_MESSAGE,
    ENROLMENT_NEEDED,
    INACTIVE_ACCOUNT,
    INVALID_CODE,
    INVALID_CREDENTIALS,
    PENDING_EXPIRED,
    SECOND_FACTOR_NEEDED,
    LoginOutcome,
    LoginResult,
    throttled_message,
)
from auth.passwords import Passwords
from auth.pending import ENROL, VERIFY, PendingLogins
from auth.principal import Principal
from auth.second_step import SecondStep
from auth.sessions import SessionStore, purge_expired_sessions
from auth.tokens import resolve_token
from models import User
from models.common import reject_control_characters, utcnow
from models.user import normalize_email

__all__ = [  # the outcomes' words are read from here by the admin and the API
    "BUSY_MESSAGE", "ENROLMENT_NEEDED", "INACTIVE_ACCOUNT", "INVALID_CODE", "INVALID_CREDENTIALS",
    "PENDING_EXPIRED", "SECOND_FACTOR_NEEDED", "Authenticator", "LoginOutcome", "LoginResult",
    "throttled_message",
]

_STATE_KEY = "principal"
_MISSING = object()


def _cached_principal(request: HTTPConnection) -> Principal | None | object:
    """The principal this request already looked up (None: nobody), or _MISSING."""
    return getattr(request.state, _STATE_KEY, _MISSING)


# (db, event, email, user_id, details) -> None, called inside the event's transaction.
EventRecorder = Callable[[Session, str, str, "int | None", dict], None]


class Authenticator(SecondStep):
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
    def principal(self, request: HTTPConnection, db: Session | Connection | None = None) -> Principal | None:
        """The principal of a request's bearer token or session cookie (cached per request).

        `db`, when given, is the request's own session or connection: one connection per request.
        """
        cached = _cached_principal(request)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        principal = self._resolve(request, db)
        setattr(request.state, _STATE_KEY, principal)
        return principal

    async def principal_async(self, request: HTTPConnection) -> Principal | None:
        """`principal` for async code: once the request has it, no worker thread is asked again
        (the language middleware, authentication and SQLAdmin's grants each want it)."""
        cached = _cached_principal(request)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        return await anyio.to_thread.run_sync(self.principal, request)

    def _resolve(self, request: HTTPConnection, db: Session | Connection | None) -> Principal | None:
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

    def _session(self, db: Session | Connection | None) -> AbstractContextManager[Session | Connection]:
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
