"""The idle timeout, to the second, on a clock the test controls (no sleeping)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from admin_app.db import build_session_factory
from admin_app.main import create_app
from auth.config import AuthConfig
from auth.sessions import SessionStore
from models.common import utcnow
from tests.conftest import TEST_SECRET, make_settings
from tests.factories import api_login, make_user


class Clock:
    """A clock that moves only when told to (from the real time, which the code outside
    the session store still reads, e.g. to purge expired sessions at login)."""

    def __init__(self) -> None:
        self.now: datetime = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _app_with_clock(db_url: str, idle_minutes: int) -> tuple[object, Clock]:
    # An absolute lifetime long enough that only the idle timeout can end these sessions.
    app = create_app(make_settings(
        db_url, session_idle_timeout_minutes=idle_minutes, session_absolute_lifetime_hours=48,
    ))
    clock = Clock()
    app.state.authenticator.sessions.clock = clock
    return app, clock


def test_a_request_every_20_seconds_keeps_a_one_minute_session_alive(db_url: str) -> None:
    """The issue's case: SESSION_IDLE_TIMEOUT_MINUTES=1, a request every 20 s, logged out
    after 80 s, because last use was written only once a minute."""
    app, clock = _app_with_clock(db_url, 1)
    make_user(app, "busy@example.com")
    with TestClient(app) as client:
        assert api_login(client, "busy@example.com").status_code == 200
        for step in range(30):  # ten minutes of activity
            clock.advance(seconds=20)
            assert client.get("/api/auth/me").status_code == 200, f"logged out after {20 * (step + 1)} s"
        clock.advance(seconds=59)  # idle, but not for a minute yet
        assert client.get("/api/auth/me").status_code == 200
        clock.advance(seconds=60)  # a full minute since that request
        assert client.get("/api/auth/me").status_code == 401


@pytest.mark.parametrize("idle_minutes", [1, 2, 5, 15, 59, 60, 61, 720])
def test_the_idle_timeout_holds_to_the_second_over_http(db_url: str, idle_minutes: int) -> None:
    """Requests one second short of the timeout apart never end the session; the timeout
    itself does, exactly."""
    app, clock = _app_with_clock(db_url, idle_minutes)
    make_user(app, "steady@example.com")
    idle = timedelta(minutes=idle_minutes)
    with TestClient(app) as kept, TestClient(app) as dropped:
        api_login(kept, "steady@example.com")
        api_login(dropped, "steady@example.com")
        for _ in range(2):
            clock.advance(seconds=30)  # a request soon after another counts as much
            assert kept.get("/api/auth/me").status_code == 200
            assert dropped.get("/api/auth/me").status_code == 200
            clock.now += idle - timedelta(seconds=1)
            assert kept.get("/api/auth/me").status_code == 200
            assert dropped.get("/api/auth/me").status_code == 200
        clock.now += idle - timedelta(seconds=1)
        assert kept.get("/api/auth/me").status_code == 200
        clock.advance(seconds=1)  # the other one's last request was `idle` ago
        assert dropped.get("/api/auth/me").status_code == 401


def test_the_idle_timeout_holds_at_every_allowed_value(app) -> None:  # noqa: ANN001
    """Every value SESSION_IDLE_TIMEOUT_MINUTES may take under the default absolute lifetime
    (1 to 720 minutes), against the session store itself (whose absolute lifetime is set
    longer here, so that only the idle timeout ends a session)."""
    user_id = make_user(app, "every@example.com")
    base = AuthConfig(secret_key=TEST_SECRET, absolute_lifetime=timedelta(hours=48))
    factory = build_session_factory(app.state.engine)
    failures = []
    for minutes in range(1, 12 * 60 + 1):
        clock = Clock()
        store = SessionStore(replace(base, idle_timeout=timedelta(minutes=minutes)), clock=clock)
        with factory() as db:
            raw = store.create(db, user_id, ip_address="test", user_agent="test")
            db.commit()
            alive = []
            for _ in range(2):
                clock.now += timedelta(minutes=minutes, seconds=-1)
                alive.append(store.resolve(db, raw) is not None)
            clock.now += timedelta(minutes=minutes)
            ended = store.resolve(db, raw) is None
        if alive != [True, True] or not ended:
            failures.append((minutes, alive, ended))
    assert failures == []


def test_the_idle_timeout_may_not_exceed_the_absolute_lifetime() -> None:
    with pytest.raises(ValidationError, match="SESSION_IDLE_TIMEOUT_MINUTES"):
        make_settings("sqlite://", session_idle_timeout_minutes=121, session_absolute_lifetime_hours=2)
    assert make_settings("sqlite://", session_idle_timeout_minutes=120, session_absolute_lifetime_hours=2)
