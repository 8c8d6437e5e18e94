"""Login throttling per account and per client address, counted in the database."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlmodel import Session

from auth.config import AuthConfig
from models import LoginFailure
from models.common import utcnow


@dataclass(frozen=True)
class Block:
    seconds: int
    scope: str  # "account" or "address": what the block applies to
    key: str  # the email or the address


def find_block(db: Session, config: AuthConfig, email: str, address: str) -> Block | None:
    """The longest block on this account or this address, if any."""
    now = utcnow()
    since = now - config.failure_window
    blocks: list[Block] = []
    for scope, column, value, limit in (
        ("account", LoginFailure.email, email, config.max_failures),
        ("address", LoginFailure.address, address, config.max_failures_per_address),
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
            seconds = max(1, math.ceil((nth + config.failure_window - now).total_seconds()))
            blocks.append(Block(seconds, scope, value))
    return max(blocks, key=lambda block: block.seconds, default=None)


class KnownBlocks:
    """Blocks this process has already read from the database, until they expire.

    The database stays the authority (every process counts there); remembering a block
    only refuses a blocked client sooner, without a query, a thread or an audit row per
    attempt while a brute force hammers the login. Bounded in size.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._until: dict[tuple[str, str], float] = {}
        self._limit = limit

    def remember(self, block: Block) -> None:
        now = time.monotonic()
        if len(self._until) >= self._limit:
            self._until = {k: t for k, t in self._until.items() if t > now}
            if len(self._until) >= self._limit:
                self._until.pop(next(iter(self._until)))
        self._until[(block.scope, block.key)] = now + block.seconds

    def seconds_left(self, email: str, address: str) -> int | None:
        now = time.monotonic()
        left = [
            until - now
            for key in (("account", email), ("address", address))
            if (until := self._until.get(key)) is not None and until > now
        ]
        return max(1, math.ceil(max(left))) if left else None


def record_failure(db: Session, config: AuthConfig, email: str, address: str) -> None:
    now = utcnow()
    db.add(LoginFailure(email=email[:254], address=address[:64], at=now))
    # Keep the table small: nothing older than the window matters.
    db.execute(delete(LoginFailure).where(LoginFailure.at <= now - config.failure_window))


def clear_account(db: Session, email: str) -> None:
    """A successful login resets the account's count (the address count stays)."""
    db.execute(delete(LoginFailure).where(LoginFailure.email == email))

