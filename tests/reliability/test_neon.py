"""Neon: its URL works as pasted, and nothing needs a session to outlive a transaction.

Neon's pooled endpoint is PgBouncer in transaction mode: consecutive transactions of one
client may run on different server sessions, and startup `options` are refused. What can
be checked without the network is checked here; the rest is in the README.
"""

from __future__ import annotations

import re

import psycopg2
import pytest
from fastapi.testclient import TestClient
from psycopg2.extensions import make_dsn, parse_dsn
from sqlalchemy import Engine, event

from admin_app.bootstrap import ensure_first_admin
from admin_app.db import build_engine, normalize_database_url
from admin_app.main import create_app
from admin_app.migrate import upgrade_to_head
from auth.passwords import Passwords
from tests.conftest import make_settings
from tests.reliability.conftest import ORIGIN, PASSWORD, add_user, bearer

NEON = (
    "postgresql://alex:AbC123dEf@ep-cool-darkness-a1b2c3d4-pooler.us-east-2.aws.neon.tech"
    "/neondb?sslmode=require&channel_binding=require"
)


class _NoNetwork(Exception):
    pass


def test_a_neon_url_is_accepted_as_pasted_and_reaches_libpq_whole() -> None:
    url = normalize_database_url(NEON)
    assert url.drivername == "postgresql+psycopg2"
    assert dict(url.query) == {"sslmode": "require", "channel_binding": "require"}
    engine = build_engine(make_settings(NEON))
    params: dict[str, object] = {}

    def intercept(_dialect, _record, _cargs, cparams) -> None:  # noqa: ANN001
        params.update(cparams)  # exactly what psycopg2.connect() would get...
        raise _NoNetwork  # ...and no connection attempt

    event.listen(engine, "do_connect", intercept)
    try:
        with pytest.raises(_NoNetwork):
            engine.connect()
    finally:
        engine.dispose()
    assert params["host"] == "ep-cool-darkness-a1b2c3d4-pooler.us-east-2.aws.neon.tech"
    assert params["dbname"] == "neondb" and params["password"] == "AbC123dEf"
    assert params["sslmode"] == "require" and params["channel_binding"] == "require"
    assert params["application_name"] == "admin-app" and params["connect_timeout"] == 5
    assert "options" not in params  # the pooler refuses startup options
    # libpq parses the exact connection string psycopg2 will hand it (no network needed):
    # channel_binding needs libpq 13 or later, which psycopg2-binary bundles.
    assert psycopg2.__libpq_version__ >= 130000
    parsed = parse_dsn(make_dsn(**params))
    assert parsed["channel_binding"] == "require" and parsed["sslmode"] == "require"
    with pytest.raises(psycopg2.ProgrammingError):  # libpq does refuse what it does not know
        parse_dsn(make_dsn(**params) + " channel_bindin=require")


FORBIDDEN = {
    "session-level SET": re.compile(r"^\s*SET\s+(?!LOCAL\b)", re.I),
    "RESET": re.compile(r"^\s*RESET\b", re.I),
    "set_config for the session": re.compile(r"set_config\([^)]*,\s*false\s*\)", re.I),
    "session advisory lock": re.compile(r"pg_(try_)?advisory_(un)?lock(_shared)?\s*\(", re.I),
    "prepared statement": re.compile(r"^\s*(PREPARE|EXECUTE|DEALLOCATE)\b", re.I),
    "LISTEN/NOTIFY": re.compile(r"^\s*(LISTEN|UNLISTEN)\b", re.I),
    "cursor WITH HOLD": re.compile(r"\bWITH\s+HOLD\b", re.I),
    "temporary table": re.compile(r"\bCREATE\s+(GLOBAL\s+|LOCAL\s+)?TEMP(ORARY)?\b", re.I),
}


def test_nothing_the_app_runs_keeps_state_in_the_server_session(pg_databases) -> None:  # noqa: ANN001
    statements: list[str] = []

    def capture(_conn, _cursor, statement, *_rest) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", capture)
    try:
        url = pg_databases.create("admin_neon")
        settings = make_settings(url)
        engine = build_engine(settings)
        try:
            upgrade_to_head(engine)
            ensure_first_admin(engine, settings, Passwords.from_settings(settings))
        finally:
            engine.dispose()
        add_user(url, "ops@example.com")
        with TestClient(create_app(settings), base_url="http://testserver") as client:
            _exercise(client)
    finally:
        event.remove(Engine, "before_cursor_execute", capture)

    # The capture works: it saw the transaction-level lock and timeouts that are allowed.
    assert any("pg_advisory_xact_lock" in s for s in statements)
    assert any("set_config('statement_timeout'" in s and "true)" in s for s in statements)
    found = {
        name: [s for s in statements if pattern.search(s)] for name, pattern in FORBIDDEN.items()
    }
    assert not any(found.values()), {k: v[:3] for k, v in found.items() if v}


def _exercise(client: TestClient) -> None:
    """A working session's worth of requests through the API and the admin."""
    login = {"email": "ops@example.com", "password": PASSWORD}
    assert client.post("/api/auth/login", json={**login, "password": "wrong password!"}, headers=ORIGIN).status_code == 401
    assert client.post("/api/auth/login", json=login, headers=ORIGIN).status_code == 200
    token = client.post("/api/auth/tokens", json={"name": "ci"}, headers=ORIGIN).json()["token"]
    for path in ("/api/auth/me", "/api/auth/sessions", "/api/auth/tokens", "/readyz"):
        assert client.get(path, headers=bearer(token)).status_code == 200, path
    admin = TestClient(client.app, base_url="http://testserver")
    response = admin.post(
        "/admin/login", data={"username": login["email"], "password": PASSWORD}, headers=ORIGIN,
        follow_redirects=False,
    )
    assert response.status_code == 302
    for path in ("/admin/", "/admin/task/list", "/admin/user/list", "/admin/task/create"):
        assert admin.get(path).status_code == 200, path
    saved = admin.post(
        "/admin/task/create", data={"title": "Renew the certificate", "status": "pending", "priority": "3"},
        headers=ORIGIN, follow_redirects=False,
    )
    assert saved.status_code == 302, saved.text[:300]
    assert admin.post("/admin/logout", headers=ORIGIN, follow_redirects=False).status_code == 302
    assert client.post("/api/auth/logout", headers=ORIGIN).status_code == 204
