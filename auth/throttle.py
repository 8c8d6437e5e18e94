"""Login throttling per account and per client address, counted in the database."""

from __future__ import annotations

import math

from sqlalchemy import delete, func, select
from sqlmodel import Session

from auth.config import AuthConfig
from models import LoginFailure
from models.common import utcnow


def retry_after(db: Session, config: AuthConfig, email: str, address: str) -> int | None:
    """Seconds until another attempt is allowed, or None when it is allowed now."""
    now = utcnow()
    since = now - config.failure_window
    waits: list[float] = []
    for column, value, limit in (
        (LoginFailure.email, email, config.max_failures),
        (LoginFailure.address, address, config.max_failures_per_address),
    ):
        count = db.execute(
            select(func.count())
            .where(column == value, LoginFailure.at > since)
        ).scalar_one()
        if count >= limit:
            # Blocked until enough failures have aged out of the window.
            nth = db.execute(
                select(LoginFailure.at).where(column == value, LoginFailure.at > since)
                .order_by(LoginFailure.at.desc()).offset(limit - 1).limit(1)
            ).scalar_one()
            waits.append((nth + config.failure_window - now).total_seconds())
    if not waits:
        return None
    return max(1, math.ceil(max(waits)))


def record_failure(db: Session, config: AuthConfig, email: str, address: str) -> None:
    now = utcnow()
    db.add(LoginFailure(email=email[:254], address=address[:64], at=now))
    # Keep the table small: nothing older than the window matters.
    db.execute(delete(LoginFailure).where(LoginFailure.at <= now - config.failure_window))


def clear_account(db: Session, email: str) -> None:
    """A successful login resets the account's count (the address count stays)."""
    db.execute(delete(LoginFailure).where(LoginFailure.email == email))

