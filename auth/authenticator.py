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
from auth.client_address import client_address
from auth.config import AuthConfig
from auth.passwords import Passwords
from auth.principal import Principal
from auth.sessions import SessionStore, purge_expired_sessions
from auth.tokens import resolve_token
from models import User
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


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    email: str
    user_id: int | None = None
    session_cookie: str | None = None  # signed value for the cookie, on success
    retry_after: int | None = None


# The same words for an unknown email and a wrong password: nothing to enumerate.
INVALID_CREDENTIALS = "Invalid email or password."
INACTIVE_ACCOUNT = "This account is deactivated."


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

    async def attempt(self, request: HTTPConnection, email: str, password: str) -> LoginResult:
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
                self.login, request, email, password, limiter=self._login_slots
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
        self, request: HTTPConnection, email: str, password: str
    ) -> LoginResult:
        """Check credentials under throttling; on success start a fresh session."""
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
                select(User.id, User.hashed_password, User.is_active).where(User.email == email)
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
            throttle.clear_account(db, email)
            values: dict[str, object] = {"last_login_at": utcnow(), "updated_at": User.updated_at}
            if new_hash is not None:
                values["hashed_password"] = new_hash
            db.execute(update(User).where(User.id == user.id).values(**values))
            previous = self.sessions.unsign(request.cookies.get(self.config.session_cookie))
            if previous is not None:  # nothing from before login survives
                self.sessions.end(db, previous)
            # Sessions nobody came back to are otherwise only removed when presented.
            purge_expired_sessions(db)
            raw = self.sessions.create(
                db, user.id, ip_address=address,
                user_agent=request.headers.get("user-agent", ""),
            )
            self.record_event(db, "login_success", email, user.id, {"address": address, "via": via})
        return LoginResult(
            LoginOutcome.ok, email, user_id=user.id, session_cookie=self.sessions.sign(raw)
        )

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
