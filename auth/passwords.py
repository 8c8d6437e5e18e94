"""Argon2id password hashing with a policy, bounded concurrency and a dummy verify."""

from __future__ import annotations

import os
import sys
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from models.common import N_, Refusal

# How much nicer (Linux scheduler priority) the hashing threads are than the rest of the
# process: a flood of logins gets the CPU the requests being served leave over.
HASHING_NICENESS = 10


def _lower_thread_priority() -> None:
    """Give the calling thread a lower CPU priority (Linux applies `nice` per thread)."""
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + HASHING_NICENESS)
    except OSError:  # not allowed here: hash at the normal priority
        pass


class PasswordPolicyError(Refusal):
    """The password does not meet the policy; the message says why, in plain words: English as
    `str()`, and as an `N_`-marked `template` with its `params` for the admin to translate."""


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    needs_rehash: bool = False


class Passwords:
    """One configured hasher per app; at most `max_concurrency` hashes run at once, on
    threads of their own with a lower CPU priority than the threads serving requests."""

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
        self._hashing = ThreadPoolExecutor(
            max_workers=max_concurrency, thread_name_prefix="password-hashing",
            initializer=_lower_thread_priority,
        )
        weakref.finalize(self, self._hashing.shutdown, wait=False)  # its threads end with it
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
            raise PasswordPolicyError(N_("Password must be at least %(count)s characters long."), count=self.min_length)
        if len(password) > self.max_length:
            raise PasswordPolicyError(N_("Password must be at most %(count)s characters long."), count=self.max_length)
        if "\x00" in password:
            raise PasswordPolicyError(N_("Password must not contain NUL characters."))
        if email and password.strip().lower() == email.strip().lower():
            raise PasswordPolicyError(N_("Password must not be the email address."))

    def hash(self, password: str) -> str:
        return self._hashing.submit(self._hasher.hash, password).result()

    def verify(self, hashed: str | None, password: str) -> VerifyResult:
        """Check a password; with no hash (unknown user) burn the same time on a dummy."""
        if len(password) > self.max_length:
            return VerifyResult(ok=False)  # never hash an oversized input
        target = hashed or self.dummy_hash()
        if not self._hashing.submit(self._matches, target, password).result():
            return VerifyResult(ok=False)
        if hashed is None:
            return VerifyResult(ok=False)
        return VerifyResult(ok=True, needs_rehash=self._hasher.check_needs_rehash(hashed))

    def _matches(self, hashed: str, password: str) -> bool:
        try:
            return self._hasher.verify(hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def dummy_hash(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash("dummy password for unknown accounts")
        return self._dummy_hash
