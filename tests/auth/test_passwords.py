"""Argon2id hashing, the password policy, rehash on login, and verify off the event loop."""

import asyncio
import os
import sys
import threading

import argon2
import pytest
from sqlalchemy import select

from admin_app.db import build_session_factory
from admin_app.settings import Settings
from auth.passwords import HASHING_NICENESS, PasswordPolicyError, Passwords
from models import User
from tests.factories import PASSWORD, api_login, make_user


class SpyHasher:
    """Wraps argon2's PasswordHasher (which has slots) to record or slow down calls."""

    def __init__(self, real: argon2.PasswordHasher, on_verify=None, on_hash=None) -> None:  # noqa: ANN001
        self.real = real
        self.on_verify = on_verify
        self.on_hash = on_hash

    def verify(self, hashed: str, password: str) -> bool:
        if self.on_verify:
            self.on_verify(hashed, password)
        return self.real.verify(hashed, password)

    def hash(self, password: str) -> str:
        if self.on_hash:
            self.on_hash(password)
        return self.real.hash(password)

    def check_needs_rehash(self, hashed: str) -> bool:
        return self.real.check_needs_rehash(hashed)


def _passwords(**overrides: int) -> Passwords:
    values = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1, "min_length": 12,
              "max_length": 128, "max_concurrency": 2}
    values.update(overrides)
    return Passwords(**values)


def test_defaults_are_at_least_the_librarys() -> None:
    defaults = Settings(_env_file=None)
    assert defaults.argon2_time_cost >= argon2.DEFAULT_TIME_COST
    assert defaults.argon2_memory_cost >= argon2.DEFAULT_MEMORY_COST
    assert defaults.argon2_parallelism >= argon2.DEFAULT_PARALLELISM
    assert defaults.password_min_length == 12


def test_hash_is_argon2id_with_configured_parameters() -> None:
    hashed = _passwords(time_cost=2, memory_cost=2048).hash(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert "m=2048,t=2,p=1" in hashed
    assert _passwords(time_cost=2, memory_cost=2048).verify(hashed, PASSWORD).ok


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass", "at least 12"),
        ("x" * 129, "at most 128"),
        ("someone@example.com", "must not be the email"),
        ("SomeOne@Example.com ", "must not be the email"),
    ],
)
def test_policy_refuses(password: str, message: str) -> None:
    with pytest.raises(PasswordPolicyError, match=message):
        _passwords().check_policy(password, email="someone@example.com")


def test_minimum_is_configurable() -> None:
    _passwords(min_length=8).check_policy("eightchr", email="a@example.com")


def test_oversized_password_is_never_hashed(monkeypatch: pytest.MonkeyPatch) -> None:
    passwords = _passwords()
    hashed = passwords.hash(PASSWORD)
    calls = []
    passwords._hasher = SpyHasher(passwords._hasher, on_verify=lambda *a: calls.append(a))  # noqa: SLF001
    assert not passwords.verify(hashed, "x" * 1_000_000).ok
    assert calls == []


def test_unknown_user_still_costs_one_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    passwords = _passwords()
    dummy = passwords.dummy_hash()
    seen: list[str] = []
    passwords._hasher = SpyHasher(passwords._hasher, on_verify=lambda h, p: seen.append(h))  # noqa: SLF001
    assert not passwords.verify(None, PASSWORD).ok
    assert seen == [dummy]


def test_rehash_on_login_when_parameters_change(app, client) -> None:  # noqa: ANN001
    weak = _passwords(time_cost=1, memory_cost=1024).hash(PASSWORD)
    user_id = make_user(app, "rehash@example.com")
    factory = build_session_factory(app.state.engine)
    with factory() as db, db.begin():
        db.get(User, user_id).hashed_password = weak
    app.state.passwords._hasher = argon2.PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1)  # noqa: SLF001
    assert api_login(client, "rehash@example.com").status_code == 200
    with factory() as db:
        stored = db.execute(select(User.hashed_password).where(User.id == user_id)).scalar_one()
    assert stored != weak and "t=2" in stored
    assert app.state.passwords.verify(stored, PASSWORD).ok


def test_verify_never_runs_on_the_event_loop(app, client, monkeypatch) -> None:  # noqa: ANN001
    make_user(app, "loop@example.com")
    passwords = app.state.passwords
    real = passwords.verify
    on_loop: list[bool] = []

    def spy(hashed, password):  # noqa: ANN001, ANN202
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return real(hashed, password)

    monkeypatch.setattr(passwords, "verify", spy)
    from tests.factories import admin_login

    api_login(client, "loop@example.com")
    admin_login(client, "loop@example.com")
    api_login(client, "nobody@example.com")
    assert on_loop == [False, False, False]


def test_concurrent_hashing_is_bounded() -> None:
    import threading
    import time

    passwords = _passwords(max_concurrency=2)
    active = 0
    peak = 0
    lock = threading.Lock()

    def slow_hash(password: str) -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1

    passwords._hasher = SpyHasher(passwords._hasher, on_hash=slow_hash)  # noqa: SLF001
    threads = [threading.Thread(target=passwords.hash, args=(PASSWORD,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_hashing_runs_at_a_lower_cpu_priority_than_the_caller() -> None:
    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    seen: list[int] = []
    verified: list[int] = []
    passwords = _passwords()
    passwords._hasher = SpyHasher(  # noqa: SLF001
        passwords._hasher,  # noqa: SLF001
        on_hash=lambda _p: seen.append(niceness()),
        on_verify=lambda _h, _p: verified.append(niceness()),
    )
    caller = niceness()
    hashed = passwords.hash(PASSWORD)
    assert seen and seen[0] >= min(caller + HASHING_NICENESS, 19) > caller
    # Verifying (a wrong password and an unknown account too) runs there as well.
    assert passwords.verify(hashed, PASSWORD).ok
    assert not passwords.verify(hashed, "not the password at all").ok
    assert not passwords.verify(None, PASSWORD).ok
    assert verified == [seen[0]] * 3
    assert niceness() == caller  # the caller's own priority is untouched
