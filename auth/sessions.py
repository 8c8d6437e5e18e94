"""Server-side sessions behind a signed cookie that carries only an opaque id."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache, lru_cache

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Connection, Select, bindparam, delete, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from auth.config import AuthConfig
from auth.principal import Principal
from models import AuthSession, Role, User
from models.common import utcnow

# How often a token's last use is written (informational: it ends nothing).
TOUCH_INTERVAL = timedelta(seconds=60)
# A session's last use decides when it ends, so it is written whenever it is a second or
# more old: the idle timeout holds to the second (a request every 20 s writes each time),
# and a burst of requests on one session writes at most once a second.
SESSION_TOUCH_INTERVAL = timedelta(seconds=1)


# What a principal is made of (the user's side), read by column on every request.
_PRINCIPAL_COLUMNS = ("id", "email", "full_name", "role", "is_active", "time_zone", "theme", "language")


@cache
def _lookup() -> Select:
    """A session and its user by the session's hashed id. Columns, not entities, on the
    connection, and built once: this runs on every request (building it per call was about a
    quarter of an in-process `GET /api/tasks/{id}`'s CPU: 1.74-1.96 ms, then 1.28-1.31 ms)."""
    return (
        select(
            AuthSession.expires_at, AuthSession.last_seen_at, AuthSession.second_factor,
            *[getattr(User, c) for c in _PRINCIPAL_COLUMNS],
        ).join_from(AuthSession, User, User.id == AuthSession.user_id)
        .where(AuthSession.id == bindparam("session_id"))
    )


def connection_of(db: Session | Connection) -> Connection:
    return db.connection() if isinstance(db, OrmSession) else db


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class SessionStore:
    """Creates, resolves and ends login sessions; the caller owns the transaction."""

    def __init__(self, config: AuthConfig, clock: Callable[[], datetime] = utcnow) -> None:
        self.config = config
        self.clock = clock  # what "now" is for lifetimes; tests set their own
        self._signer = URLSafeTimedSerializer(config.secret_key, salt="admin-session")
        # A cookie's signature is checked once per process, not on each of its requests
        # (key derivation and HMAC: ~4 % of a `GET /api/tasks/{id}`'s CPU in yappi): the cache
        # holds only cookies this key signed, by their whole text; their age is checked on
        # every request.
        self._signed = lru_cache(maxsize=4096)(self._signed_value)

    # cookie ---------------------------------------------------------------
    def sign(self, raw_id: str) -> str:
        return self._signer.dumps(raw_id)

    def unsign(self, cookie: str | None) -> str | None:
        """The raw session id from a cookie, or None if it is tampered with or too old."""
        if not cookie or len(cookie) > 512:
            return None
        signed = self._signed(cookie)
        if signed is None:
            return None
        value, signed_at = signed
        if not 0 <= time.time() - signed_at <= int(self.config.absolute_lifetime.total_seconds()):
            return None  # as itsdangerous' max_age refuses it: too old, or dated in the future
        return value

    def _signed_value(self, cookie: str) -> tuple[str, float] | None:
        try:
            value, signed_at = self._signer.loads(cookie, return_timestamp=True)
        except BadSignature:
            return None
        return (value, signed_at.timestamp()) if isinstance(value, str) else None

    def cookie_options(self) -> dict[str, object]:
        return {
            "key": self.config.session_cookie,
            "httponly": True,
            "samesite": "lax",
            "secure": self.config.production,
            "path": "/",
        }

    # rows -----------------------------------------------------------------
    def create(
        self, db: Session, user_id: int, *, ip_address: str, user_agent: str,
        second_factor: str | None = None,
    ) -> str:
        """Add a new session row and return the raw id for the cookie."""
        raw = secrets.token_urlsafe(32)
        now = self.clock()
        db.add(
            AuthSession(
                id=hash_secret(raw),
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + self.config.absolute_lifetime,
                ip_address=ip_address[:64],
                user_agent=user_agent[:300],
                second_factor=second_factor,
            )
        )
        return raw

    def resolve(self, db: Session | Connection, raw_id: str) -> Principal | None:
        """The principal of a live session of an active user; ends a dead one. `db`: a
        session, or a bare connection (`GET /api/<table>/{id}`, see admin_app.db.build_read_engine)."""
        session_id = hash_secret(raw_id)
        row = connection_of(db).execute(_lookup(), {"session_id": session_id}).first()
        if row is None:
            return None
        now = self.clock()
        expired = (
            row.expires_at <= now
            or row.last_seen_at + self.config.idle_timeout <= now
        )
        # A session that never passed a second factor does not count for a role that
        # requires one (it predates the policy): that user logs in again, and enrols.
        unverified = (
            row.second_factor is None and row.role in self.config.mfa_required_roles
        )
        if expired or not row.is_active or unverified:
            db.execute(delete(AuthSession).where(AuthSession.id == session_id))
            db.commit()
            return None
        if now - row.last_seen_at >= SESSION_TOUCH_INTERVAL:
            db.execute(
                update(AuthSession)
                # never backwards, when concurrent requests of one session race
                .where(AuthSession.id == session_id, AuthSession.last_seen_at < now)
                .values(last_seen_at=now)
            )
            db.commit()
        return Principal(
            user_id=row.id, email=row.email, full_name=row.full_name, role=Role(row.role),
            via="session", session_id=session_id, second_factor=row.second_factor,
            time_zone=row.time_zone, theme=row.theme, language=row.language,
        )

    @staticmethod
    def end(db: Session, raw_id: str) -> None:
        db.execute(delete(AuthSession).where(AuthSession.id == hash_secret(raw_id)))


def mark_second_factor(db: Session, session_id: str, method: str) -> None:
    """Record that this session has now proved a second factor (it just set one up)."""
    db.execute(update(AuthSession).where(AuthSession.id == session_id).values(second_factor=method))


def end_user_sessions(db: Session, user_id: int, *, keep_session_id: str | None = None) -> int:
    """End every session of a user (but the one given); returns how many ended."""
    statement = delete(AuthSession).where(AuthSession.user_id == user_id)
    if keep_session_id is not None:
        statement = statement.where(AuthSession.id != keep_session_id)
    return db.execute(statement).rowcount or 0


def end_session_of_user(db: Session, user_id: int, session_id: str) -> bool:
    """End one session by its (hashed) id, if it is that user's; False if there is none."""
    statement = delete(AuthSession).where(
        AuthSession.id == session_id, AuthSession.user_id == user_id
    )
    return bool(db.execute(statement).rowcount)


def list_user_sessions(db: Session, user_id: int) -> list[AuthSession]:
    now = utcnow()
    return list(
        db.execute(
            select(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.expires_at > now)
            .order_by(AuthSession.last_seen_at.desc())
        ).scalars()
    )


def purge_expired_sessions(db: Session, now: datetime | None = None) -> int:
    now = now or utcnow()
    return db.execute(delete(AuthSession).where(AuthSession.expires_at <= now)).rowcount or 0
