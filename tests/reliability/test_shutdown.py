"""SIGTERM to a real `admin-app serve`: in-flight requests finish, within a bound, whole or not at all.

The slow request is an ordinary login held up by a row lock the test takes on the user,
so the test decides when the database lets it go.
"""

from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from admin_app.main import create_app
from models import AuthSession, User
from tests.conftest import make_settings
from tests.helpers import running_server
from tests.reliability.conftest import PASSWORD, add_user, app_backends


def _login_in_background(base: str) -> dict:
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["response"] = httpx.post(
                base + "/api/auth/login", json={"email": "ops@example.com", "password": PASSWORD},
                headers={"Origin": base}, timeout=30,
            )
        except httpx.HTTPError as exc:
            outcome["error"] = exc

    outcome["thread"] = threading.Thread(target=run)
    outcome["thread"].start()
    return outcome


def _wait_until_blocked_on_lock(engine, url: str) -> None:  # noqa: ANN001
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'admin-app' "
        "AND datname = :db AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 10
    while True:
        with engine.connect() as conn:
            if conn.execute(query, {"db": make_url(url).database}).scalar_one():
                return
        assert time.monotonic() < deadline, "the login never reached the locked row"
        time.sleep(0.05)


def _lock_user(engine, user_id: int):  # noqa: ANN001, ANN202
    conn = engine.connect()
    conn.execute(text('SELECT 1 FROM "user" WHERE id = :id FOR UPDATE'), {"id": user_id})
    return conn  # holds the lock until rollback


def test_sigterm_lets_an_in_flight_request_finish_then_exits_0(pg_url, pg_superuser, tmp_path) -> None:  # noqa: ANN001
    user_id = add_user(pg_url, "ops@example.com")
    with running_server(pg_url, tmp_path, "--graceful-timeout", "10") as (base, process, log):
        lock = _lock_user(pg_superuser, user_id)
        login = _login_in_background(base)
        _wait_until_blocked_on_lock(pg_superuser, pg_url)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert process.poll() is None  # still waiting for the request...
        with pytest.raises(httpx.ConnectError):  # ...and taking no new ones
            httpx.get(base + "/healthz", timeout=2)
        lock.rollback()
        lock.close()
        login["thread"].join(10)
        assert process.wait(timeout=10) == 0
    response = login["response"]
    assert response.status_code == 200 and "admin_session=" in response.headers["set-cookie"]
    with pg_superuser.connect() as conn:
        assert conn.execute(select(User.last_login_at).where(User.id == user_id)).scalar_one()
        assert len(conn.execute(select(AuthSession.id)).all()) == 1
    assert app_backends(pg_superuser, pg_url) == []  # pool closed with the process
    assert "Traceback" not in log.read_text()


def test_past_the_graceful_timeout_the_request_is_cancelled_and_rolled_back(pg_url, pg_superuser, tmp_path) -> None:  # noqa: ANN001
    user_id = add_user(pg_url, "ops@example.com")
    with running_server(pg_url, tmp_path, "--graceful-timeout", "1") as (base, process, log):
        lock = _lock_user(pg_superuser, user_id)
        try:
            login = _login_in_background(base)
            _wait_until_blocked_on_lock(pg_superuser, pg_url)
            process.send_signal(signal.SIGTERM)
            started = time.monotonic()
            # Exits while the lock is still held: its statement was cancelled, not waited for.
            assert process.wait(timeout=10) == 0
            assert time.monotonic() - started < 4
        finally:
            lock.rollback()
            lock.close()
        login["thread"].join(10)
    response = login["response"]
    assert response.status_code == 503
    assert response.json()["detail"].startswith("The server is shutting down")
    with pg_superuser.connect() as conn:  # the login left nothing behind, not half of it
        assert conn.execute(select(User.last_login_at).where(User.id == user_id)).scalar_one() is None
        assert conn.execute(select(AuthSession.id)).all() == []
    output = log.read_text()
    assert "timeout graceful shutdown exceeded" in output
    # Logged once, by the app, with the request id the client was given.
    assert output.count(f"request id {response.headers['X-Request-ID']}") == 1
    assert "Exception in ASGI application" not in output


def test_application_shutdown_closes_the_pool(pg_url, pg_superuser) -> None:  # noqa: ANN001
    app = create_app(make_settings(pg_url))
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        assert app_backends(pg_superuser, pg_url)  # a pooled connection stays open...
    deadline = time.monotonic() + 5
    while app_backends(pg_superuser, pg_url):  # ...until the app shuts down
        assert time.monotonic() < deadline, "the pool was not closed at shutdown"
        time.sleep(0.05)
