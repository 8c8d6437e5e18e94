"""Argon2id password hashing with a policy, bounded concurrency and a dummy verify."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class PasswordPolicyError(ValueError):
    """The password does not meet the policy; the message says why, in plain words."""


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    needs_rehash: bool = False


class Passwords:
    """One configured hasher per app; at most `max_concurrency` hashes run at once."""

    def __init__(
        self,
        *,
        time_cost: int,
        memory_cost: int,
        parallelism: int,
        min_length: int,
        max_length: int,
        max_concurrency: int,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )
        self.min_length = min_length
        self.max_length = max_length
        self.max_concurrency = max_concurrency
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._dummy_hash: str | None = None

    @classmethod
    def from_settings(cls, settings) -> Passwords:  # noqa: ANN001
        return cls(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
            min_length=settings.password_min_length,
            max_length=settings.password_max_length,
            max_concurrency=settings.argon2_max_concurrency,
        )

    def check_policy(self, password: str, *, email: str | None = None) -> None:
        """Raise PasswordPolicyError unless the password may be set."""
        if len(password) < self.min_length:
            raise PasswordPolicyError(
                f"Password must be at least {self.min_length} characters long."
            )
        if len(password) > self.max_length:
            raise PasswordPolicyError(
                f"Password must be at most {self.max_length} characters long."
            )
        if "\x00" in password:
            raise PasswordPolicyError("Password must not contain NUL characters.")
        if email and password.strip().lower() == email.strip().lower():
            raise PasswordPolicyError("Password must not be the email address.")

    def hash(self, password: str) -> str:
        with self._slots:
            return self._hasher.hash(password)

    def verify(self, hashed: str | None, password: str) -> VerifyResult:
        """Check a password; with no hash (unknown user) burn the same time on a dummy."""
        if len(password) > self.max_length:
            return VerifyResult(ok=False)  # never hash an oversized input
        target = hashed or self.dummy_hash()
        with self._slots:
            try:
                self._hasher.verify(target, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return VerifyResult(ok=False)
        if hashed is None:
            return VerifyResult(ok=False)
        return VerifyResult(ok=True, needs_rehash=self._hasher.check_needs_rehash(hashed))

    def dummy_hash(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash("dummy password for unknown accounts")
        return self._dummy_hash
