"""Runaway statements: a per-transaction statement timeout, a longer one for exports."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from admin_app.db import build_engine, build_session_factory, statement_timeout
from admin_app.failures import TOO_SLOW, database_failure
from admin_app.main import create_app
from models import AuthSession, Task
from tests.conftest import make_settings
from tests.reliability.conftest import ORIGIN, PASSWORD, add_user


@pytest.fixture
def slow_engine(pg_url: str):  # noqa: ANN201
    engine = build_engine(make_settings(pg_url, db_statement_timeout_ms=300))
    yield engine
    engine.dispose()


def _timeout(db) -> str:  # noqa: ANN001
    return db.execute(text("SELECT current_setting('statement_timeout')")).scalar_one()


def test_a_runaway_statement_is_cancelled_and_reads_as_too_slow(slow_engine) -> None:  # noqa: ANN001
    with build_session_factory(slow_engine)() as db:
        assert _timeout(db) == "300ms"
        started = time.monotonic()
        with pytest.raises(OperationalError) as info:
            db.execute(text("SELECT pg_sleep(2)"))
        assert time.monotonic() - started < 1.5
    assert database_failure(info.value) is TOO_SLOW


def test_exports_get_their_own_longer_timeout_for_their_block_only(slow_engine) -> None:  # noqa: ANN001
    with build_session_factory(slow_engine)() as db:
        with statement_timeout(db, 3000):
            assert _timeout(db) == "3s"
            db.execute(text("SELECT pg_sleep(0.5)"))  # over the request limit, under the export one
        assert _timeout(db) == "300ms"
        with pytest.raises(OperationalError):
            db.execute(text("SELECT pg_sleep(0.5)"))


def test_the_timeout_is_set_per_transaction_never_on_the_session(slow_engine) -> None:  # noqa: ANN001
    with slow_engine.connect() as conn:
        assert _timeout(conn) == "300ms"
        conn.commit()
        # The same server session, outside any transaction the app began: server default.
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "0"
        raw.rollback()


def test_a_request_stuck_past_the_timeout_is_a_503_and_changes_nothing(pg_url, pg_superuser) -> None:  # noqa: ANN001
    user_id = add_user(pg_url, "ops@example.com")
    app = create_app(make_settings(pg_url, db_statement_timeout_ms=500))
    login = {"email": "ops@example.com", "password": PASSWORD}
    with TestClient(app, base_url="http://testserver") as client, pg_superuser.connect() as other:
        with other.begin():  # another transaction holds the user row: the login's UPDATE waits
            other.execute(text('SELECT 1 FROM "user" WHERE id = :id FOR UPDATE'), {"id": user_id})
            started = time.monotonic()
            response = client.post("/api/auth/login", json=login, headers=ORIGIN)
            assert time.monotonic() - started < 3
        assert response.status_code == 503, response.text
        assert response.json()["detail"].startswith("The database did not answer in time")
        assert response.headers["Retry-After"] == "5"
        assert other.execute(select(func.count()).select_from(AuthSession)).scalar_one() == 0
        assert client.post("/api/auth/login", json=login, headers=ORIGIN).status_code == 200


def test_an_admin_save_stuck_past_the_timeout_says_so_without_sql(pg_url, pg_superuser) -> None:  # noqa: ANN001
    add_user(pg_url, "ops@example.com")
    with pg_superuser.begin() as conn:
        task_id = conn.execute(
            text("INSERT INTO task (title, status, priority, version, created_at, updated_at) "
                 "VALUES ('Old title', 'pending', 1, 1, now(), now()) RETURNING id")
        ).scalar_one()
    app = create_app(make_settings(pg_url, db_statement_timeout_ms=500))
    form = {"title": "New title", "description": "", "status": "pending", "priority": "2", "due_date": ""}
    with TestClient(app, base_url="http://testserver") as client, pg_superuser.connect() as other:
        client.post("/admin/login", data={"username": "ops@example.com", "password": PASSWORD}, headers=ORIGIN)
        with other.begin():
            other.execute(text("SELECT 1 FROM task WHERE id = :id FOR UPDATE"), {"id": task_id})
            response = client.post(f"/admin/task/edit/{task_id}", data=form, headers=ORIGIN)
        assert response.status_code == 400, response.text[:500]
        assert "The database did not answer in time" in response.text
        assert "UPDATE" not in response.text and "psycopg2" not in response.text
        assert other.execute(select(Task.title).where(Task.id == task_id)).scalar_one() == "Old title"
        saved = client.post(f"/admin/task/edit/{task_id}", data=form, headers=ORIGIN, follow_redirects=False)
        assert saved.status_code == 302
        assert other.execute(select(Task.title).where(Task.id == task_id)).scalar_one() == "New title"
