"""PostgreSQL goes away, kills connections, runs out of them: the app degrades and recovers."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import text

from admin_app.main import create_app
from tests.conftest import make_settings
from tests.reliability.conftest import (
    ORIGIN,
    PASSWORD,
    add_token,
    add_user,
    app_backends,
    bearer,
    via_proxy,
)


def _logged_in(client: TestClient, email: str) -> None:
    response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD}, headers=ORIGIN)
    assert response.status_code == 200, response.text


def _assert_clean_page(response, title: str) -> None:  # noqa: ANN001
    assert response.headers["content-type"].startswith("text/html")
    assert title in response.text
    for internal in ("Traceback", "psycopg2", "File \"", "SELECT", "sqlalchemy"):
        assert internal not in response.text


def test_an_outage_is_503_everywhere_and_the_next_requests_after_it_succeed(pg_url, proxy) -> None:  # noqa: ANN001
    user_id = add_user(pg_url, "ops@example.com")
    token = add_token(pg_url, user_id)
    app = create_app(make_settings(via_proxy(pg_url, proxy), db_connect_timeout=2))
    with TestClient(app, base_url="http://testserver") as client:
        _logged_in(client, "ops@example.com")
        assert client.get("/api/auth/tokens", headers=bearer(token)).status_code == 200
        assert client.get("/admin/task/list").status_code == 200

        proxy.cut()
        started = time.monotonic()
        api = client.get("/api/auth/tokens", headers=bearer(token))
        me = client.get("/api/auth/me")  # by session cookie
        page = client.get("/admin/task/list")
        ready = client.get("/readyz")
        assert time.monotonic() - started < 5  # refused at once, not hung
        assert client.get("/healthz").status_code == 200  # alive: no restart wanted

        for response in (api, me):
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "5"
            assert response.json()["detail"].startswith("The database is unavailable")
            # what the schema declares for every /api route: `Unavailable`
            assert response.json()["status"] == "unavailable" and response.json()["request_id"]
        assert page.status_code == 503 and page.headers["Retry-After"] == "5"
        _assert_clean_page(page, "Database unavailable")
        assert ready.status_code == 503

        proxy.restore()
        assert client.get("/readyz").status_code == 200
        assert client.get("/api/auth/tokens", headers=bearer(token)).status_code == 200
        assert client.get("/api/auth/me").status_code == 200
        assert client.get("/admin/task/list").status_code == 200


def test_connections_the_server_kills_cost_no_failed_request(pg_url, pg_superuser) -> None:  # noqa: ANN001
    user_id = add_user(pg_url, "ops@example.com")
    token = add_token(pg_url, user_id)
    app = create_app(make_settings(pg_url, db_pool_size=3))
    with TestClient(app, base_url="http://testserver") as client:
        _logged_in(client, "ops@example.com")
        # Fill the pool: three live connections wait in it.
        held = [app.state.engine.connect() for _ in range(3)]
        for connection in held:
            connection.execute(text("SELECT 1"))
            connection.close()
        pids = app_backends(pg_superuser, pg_url)
        assert len(pids) >= 3

        with pg_superuser.begin() as admin:  # what an idle timeout or a suspended compute does
            for pid in pids:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        deadline = time.monotonic() + 5
        while set(pids) & set(app_backends(pg_superuser, pg_url)):
            assert time.monotonic() < deadline
            time.sleep(0.05)

        statuses = []
        for _ in range(4):
            statuses.append(client.get("/api/auth/tokens", headers=bearer(token)).status_code)
            statuses.append(client.get("/api/auth/me").status_code)
            statuses.append(client.get("/admin/task/list").status_code)
        assert statuses == [200] * len(statuses)
        assert not set(pids) & set(app_backends(pg_superuser, pg_url))


def test_an_exhausted_pool_answers_a_quick_503_not_a_hang(pg_url) -> None:  # noqa: ANN001
    user_id = add_user(pg_url, "ops@example.com")
    token = add_token(pg_url, user_id)
    app = create_app(make_settings(pg_url, db_pool_size=1, db_max_overflow=0, db_pool_timeout=1))
    with TestClient(app, base_url="http://testserver") as client:
        _logged_in(client, "ops@example.com")
        with app.state.engine.connect() as busy:  # the pool's only connection, held
            busy.execute(text("SELECT 1"))
            started = time.monotonic()
            api = client.get("/api/auth/tokens", headers=bearer(token))
            elapsed = time.monotonic() - started
            page = client.get("/admin/task/list")
        assert api.status_code == 503, api.text
        assert 0.9 < elapsed < 3
        assert api.headers["Retry-After"] == "5"
        assert api.json()["detail"].startswith("The database is busy")
        assert page.status_code == 503
        _assert_clean_page(page, "Database busy")
        # Released: served again.
        assert client.get("/api/auth/tokens", headers=bearer(token)).status_code == 200
        assert client.get("/admin/task/list").status_code == 200
