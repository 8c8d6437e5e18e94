"""Logins between the password and the second factor: a signed cookie naming a short-lived row.

The cookie (HttpOnly, signed with itsdangerous, expiring with the row) carries a random id;
the row, keyed by its SHA-256, says whose login it is and what is left to do. It is not a
session: no page but the second-factor ones reads it. Completing the login deletes it, so
it works once, on whichever process.
"""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, update
from sqlmodel import Session

from auth.config import AuthConfig
from auth.sessions import hash_secret
from models import PendingLogin
from models.common import utcnow

VERIFY = "verify"  # the account has a second factor: ask for it
ENROL = "enrol"  # the account's role requires one and it has none: set one up first


class PendingLogins:
    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self._signer = URLSafeTimedSerializer(config.secret_key, salt="admin-pending-login")

    def sign(self, raw: str) -> str:
        return self._signer.dumps(raw)

    def unsign(self, cookie: str | None) -> str | None:
        if not cookie or len(cookie) > 512:
            return None
        try:
            value = self._signer.loads(cookie, max_age=int(self.config.pending_lifetime.total_seconds()))
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def cookie_options(self) -> dict[str, object]:
        return {
            "key": self.config.pending_cookie,
            "httponly": True,
            "samesite": "lax",
            "secure": self.config.production,
            "path": "/",
            "max_age": int(self.config.pending_lifetime.total_seconds()),
        }

    def create(self, db: Session, user_id: int, purpose: str) -> str:
        """A new pending login (the user's earlier ones end); returns the raw id."""
        now = utcnow()
        db.execute(delete(PendingLogin).where(
            (PendingLogin.user_id == user_id) | (PendingLogin.expires_at <= now)
        ))
        raw = secrets.token_urlsafe(32)
        db.add(PendingLogin(
            id=hash_secret(raw), user_id=user_id, purpose=purpose, created_at=now,
            expires_at=now + self.config.pending_lifetime,
        ))
        db.flush()
        return raw

    @staticmethod
    def get(db: Session, raw: str) -> PendingLogin | None:
        row = db.get(PendingLogin, hash_secret(raw))
        if row is None or row.expires_at <= utcnow():
            return None
        return row

    @staticmethod
    def consume(db: Session, raw: str) -> bool:
        """Delete it; False if it was already gone (used by another request, or expired)."""
        statement = delete(PendingLogin).where(
            PendingLogin.id == hash_secret(raw), PendingLogin.expires_at > utcnow()
        )
        return bool(db.execute(statement).rowcount)

    @staticmethod
    def set_challenge(db: Session, raw: str, challenge: str) -> None:
        db.execute(
            update(PendingLogin).where(PendingLogin.id == hash_secret(raw))
            .values(webauthn_challenge=challenge)
        )

    @staticmethod
    def take_challenge(db: Session, raw: str) -> str | None:
        """The WebAuthn challenge handed out for this login, cleared: it answers once."""
        row = db.get(PendingLogin, hash_secret(raw))
        if row is None or not row.webauthn_challenge:
            return None
        challenge = row.webauthn_challenge
        taken = db.execute(
            update(PendingLogin)
            .where(PendingLogin.id == row.id, PendingLogin.webauthn_challenge == challenge)
            .values(webauthn_challenge=None)
        ).rowcount
        return challenge if taken else None
