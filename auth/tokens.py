"""Personal API tokens: a random secret shown once, stored as its SHA-256."""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import cache

from sqlalchemy import Connection, Select, bindparam, select, update
from sqlmodel import Session

from auth.principal import Principal
from auth.sessions import TOUCH_INTERVAL, connection_of, hash_secret
from models import ApiToken, Role, User
from models.common import utcnow

TOKEN_PREFIX = "tbo_"


def create_token(
    db: Session, user_id: int, name: str, *, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """Add a token; returns the row and the secret (never stored, never shown again)."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=user_id,
        name=name.strip(),
        token_hash=hash_secret(raw),
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    db.add(token)
    db.flush()
    return token, raw


@cache
def _lookup() -> Select:
    """A token and its user by the token's hash: columns, built once (it runs on every request)."""
    return (
        select(
            ApiToken.id.label("token_id"), ApiToken.revoked_at, ApiToken.expires_at, ApiToken.last_used_at,
            User.id, User.email, User.full_name, User.role, User.is_active,
        ).join_from(ApiToken, User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == bindparam("token_hash"))
    )


def resolve_token(db: Session | Connection, raw: str) -> Principal | None:
    """The principal of a live token of an active user."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    row = connection_of(db).execute(_lookup(), {"token_hash": hash_secret(raw)}).first()
    if row is None:
        return None
    now = utcnow()
    if row.revoked_at is not None or not row.is_active:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_INTERVAL:
        db.execute(update(ApiToken).where(ApiToken.id == row.token_id).values(last_used_at=now))
        db.commit()
    return Principal(
        user_id=row.id, email=row.email, full_name=row.full_name, role=Role(row.role),
        via="token", token_id=row.token_id,
    )


def list_tokens(db: Session, user_id: int) -> list[ApiToken]:
    return list(
        db.execute(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
        ).scalars()
    )


def revoke_token(db: Session, token_id: int, *, user_id: int | None = None) -> ApiToken | None:
    """Revoke a token (of that user, when given); None when there is no such live token."""
    query = select(ApiToken).where(ApiToken.id == token_id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    token = db.execute(query).scalar_one_or_none()
    if token is None:
        return None
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def revoke_user_tokens(db: Session, user_id: int) -> int:
    """Revoke every live token of a user (through the ORM, so each one is audited); how many."""
    now = utcnow()
    live = db.execute(
        select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    ).scalars().all()
    for token in live:
        token.revoked_at = now
    return len(live)
