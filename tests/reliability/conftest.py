"""Fixtures for failure tests: a migrated PostgreSQL database, a cuttable proxy, users."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from admin_app.db import build_engine, build_session_factory, normalize_database_url
from admin_app.services.users import create_user
from auth import tokens as token_store
from auth.passwords import Passwords
from models import Role
from tests.conftest import empty_tables, make_settings, migrated
from tests.reliability.proxy import TcpProxy

PASSWORD = "correct horse battery staple"
ORIGIN = {"Origin": "http://testserver"}


@pytest.fixture(scope="session")
def pg_migrated(pg_databases) -> str:  # noqa: ANN001
    return migrated(pg_databases.create("admin_rel"))


@pytest.fixture
def pg_url(pg_migrated: str) -> str:
    """A migrated PostgreSQL database with empty tables."""
    empty_tables(pg_migrated)
    return pg_migrated


@pytest.fixture
def pg_superuser(pg_url: str) -> Iterator:
    """A plain engine on the test database (not the app's: its own application_name)."""
    engine = create_engine(normalize_database_url(pg_url))
    yield engine
    engine.dispose()


@pytest.fixture
def proxy(pg_url: str) -> Iterator[TcpProxy]:
    url = make_url(pg_url)
    tcp = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield tcp
    tcp.close()


def via_proxy(url: str, proxy: TcpProxy) -> str:
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


def add_user(url: str, email: str, role: Role = Role.admin, password: str = PASSWORD) -> int:
    settings = make_settings(url)
    engine = build_engine(settings)
    try:
        with build_session_factory(engine)() as db, db.begin():
            user = create_user(db, Passwords.from_settings(settings), email=email, password=password, role=role)
            db.flush()
            return user.id
    finally:
        engine.dispose()


def add_token(url: str, user_id: int) -> str:
    engine = build_engine(make_settings(url))
    try:
        with build_session_factory(engine)() as db, db.begin():
            _token, raw = token_store.create_token(db, user_id, "reliability test")
            return raw
    finally:
        engine.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def app_backends(engine, url: str) -> list[int]:  # noqa: ANN001
    """Process ids of the app's connections to this test database."""
    with engine.connect() as conn:
        return list(conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = 'admin-app' "
                 "AND datname = :db AND pid <> pg_backend_pid()"),
            {"db": make_url(url).database},
        ).scalars())
