"""A session cookie's signature is checked once per process (SessionStore.unsign caches what
this key signed); what the cache holds must never outlive the cookie or admit another."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from auth.config import AuthConfig
from auth.sessions import SessionStore
from tests.conftest import TEST_SECRET


def _store() -> SessionStore:
    return SessionStore(AuthConfig(secret_key=TEST_SECRET, absolute_lifetime=timedelta(hours=2)))


def test_a_cookie_is_verified_once_then_read_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store()
    cookie = store.sign("raw-session-id")
    assert store.unsign(cookie) == "raw-session-id"
    calls: list[str] = []
    real = store._signer.loads
    monkeypatch.setattr(store._signer, "loads", lambda *a, **k: calls.append("loads") or real(*a, **k))
    assert store.unsign(cookie) == "raw-session-id"
    assert calls == []


def test_a_cached_cookie_still_ends_at_the_absolute_lifetime(monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store()
    cookie = store.sign("raw-session-id")
    assert store.unsign(cookie) == "raw-session-id"  # now cached
    later = time.time() + timedelta(hours=2, seconds=2).total_seconds()
    monkeypatch.setattr(time, "time", lambda: later)
    assert store.unsign(cookie) is None


def test_a_tampered_or_foreign_cookie_is_refused_cached_or_not() -> None:
    store = _store()
    cookie = store.sign("raw-session-id")
    assert store.unsign(cookie) == "raw-session-id"
    tampered = cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]
    foreign = URLSafeTimedSerializer("another key", salt="admin-session").dumps("raw-session-id")
    for _ in range(2):
        assert store.unsign(tampered) is None
        assert store.unsign(foreign) is None
    assert store.unsign(store._signer.dumps({"not": "a string"})) is None


def test_a_cookie_dated_in_the_future_is_refused_as_itsdangerous_would(monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store()
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 3600)
    cookie = store.sign("raw-session-id")  # signed an hour ahead of the clock below
    monkeypatch.setattr(time, "time", lambda: now)
    assert store.unsign(cookie) is None
