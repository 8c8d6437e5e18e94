"""Two real `admin-app serve` processes over one PostgreSQL act as one app."""

from __future__ import annotations

import httpx
from sqlalchemy import create_engine, func, select, text

from admin_app.db import normalize_database_url
from admin_app.migrate import head_revision
from models import User
from tests.helpers import running_servers
from tests.reliability.conftest import PASSWORD

EMAIL = "ops@example.com"


def _login(base: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(
        base + "/api/auth/login", json={"email": EMAIL, "password": password}, headers={"Origin": base}
    )


def _cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"admin_session={value}"}


def test_two_processes_started_together_migrate_once_and_share_sessions_and_throttling(
    pg_databases, tmp_path,  # noqa: ANN001
) -> None:
    url = pg_databases.create("admin_two")  # empty: both processes race to migrate it
    with running_servers(
        2, url, tmp_path,
        INITIAL_ADMIN_EMAIL=EMAIL, INITIAL_ADMIN_PASSWORD=PASSWORD, LOGIN_MAX_FAILURES="3",
    ) as [(a, _pa, log_a), (b, _pb, log_b)]:
        # A login on one process is a login on the other...
        response = _login(a)
        assert response.status_code == 200
        session = _cookie(response.cookies["admin_session"])
        assert httpx.get(b + "/api/auth/me", headers=session).json()["email"] == EMAIL
        # ...and a logout on the other ends it on both.
        assert httpx.post(b + "/api/auth/logout", headers={**session, "Origin": b}).status_code == 204
        assert httpx.get(a + "/api/auth/me", headers=session).status_code == 401
        assert httpx.get(b + "/api/auth/me", headers=session).status_code == 401

        # Failures count across processes: 3 allowed in all, not 3 each.
        assert [_login(base, "wrong password!!").status_code for base in (a, b, a)] == [401] * 3
        refused = _login(b)  # even the right password, on the process that saw one failure
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert _login(a).status_code == 429

    engine = create_engine(normalize_database_url(url))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]
            assert conn.execute(select(func.count()).select_from(User)).scalar_one() == 1
    finally:
        engine.dispose()
    logs = [log_a.read_text(), log_b.read_text()]
    assert sum(f"First admin account created: {EMAIL}" in log for log in logs) == 1
    for log in logs:
        assert "Traceback" not in log and "ERROR" not in log, log
