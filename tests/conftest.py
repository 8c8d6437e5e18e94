"""Fixtures: every database test runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.

Each test run gets its own freshly created PostgreSQL database, dropped at the end;
tables are emptied between tests. With REQUIRE_POSTGRES=1 a missing PostgreSQL fails
the tests instead of skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from admin_app.db import build_engine, normalize_database_url
from admin_app.migrate import upgrade_to_head
from admin_app.settings import Settings

FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost": 1024, "argon2_parallelism": 1}
TEST_SECRET = "test-secret-key-0123456789-abcdefghijklmnop"


# Under pytest-xdist (`pytest -n 2`, `--dist loadgroup` in pyproject's addopts) each group runs
# on one worker, its tests one after another in collection order, never two of them at once.
# Whole folders are grouped here; single tests elsewhere carry @pytest.mark.xdist_group("serial").
#   serial: tests that measure the clock, start real server processes, proxy TCP or cut
#           connections (tests/reliability/), and the time-bounded fuzzing run, which is the
#           CPU-heaviest test and would otherwise run beside them;
#   e2e:    the browser tests share one live server and one Chromium, and the page tour runs
#           first on the demo data (tests/e2e/conftest.py orders it).
FOLDER_GROUPS = {"reliability": "serial", "e2e": "e2e"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        folder = item.path.relative_to(here).parts[0] if item.path.is_relative_to(here) else None
        if folder in FOLDER_GROUPS:
            item.add_marker(pytest.mark.xdist_group(FOLDER_GROUPS[folder]))


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for tests: cheap Argon2, a fixed key, nothing read from a developer's .env.

    No role requires a second factor here (the default requires it of admins): the tests of
    two-factor sign-in turn the policy on themselves.
    """
    values: dict[str, object] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "login_throttle_delay_seconds": 0,
        "mfa_required_roles": [],
        # Counts in a time budget (facets, the saved views' menu) get all the time a busy CI
        # machine needs; the tests of the budgets set their own.
        "facet_time_budget_ms": 60_000,
        "view_count_budget_ms": 60_000,
        # Jobs run when a test says so (tests/admin/test_jobs.py), not on a thread of their own.
        "job_worker": False,
        **FAST_ARGON2,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _postgres_server_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def _skip_or_fail_postgres(reason: str) -> None:
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The server TEST_DATABASE_URL names (any database on it; we create our own)."""
    url = _postgres_server_url()
    if not url:
        _skip_or_fail_postgres("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    return url  # type: ignore[return-value]


class PostgresDatabases:
    """Creates databases on the test server and drops them all at the end."""

    def __init__(self, server_url: str) -> None:
        self.server = normalize_database_url(server_url)
        self.created: list[str] = []
        self._admin = create_engine(self.server, isolation_level="AUTOCOMMIT")

    def create(self, prefix: str = "admin_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.server.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self._admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


@pytest.fixture(scope="session")
def pg_databases(postgres_server: str) -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres_server)
    try:
        databases.create("admin_probe")
    except Exception as exc:  # noqa: BLE001
        _skip_or_fail_postgres(f"PostgreSQL at TEST_DATABASE_URL unusable: {exc}")
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head, one per kind per test run."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.db"
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_databases").create()
    return migrated(url)


def migrated(url: str) -> str:
    """`url` with its database migrated to head."""
    engine = build_engine(make_settings(url))
    try:
        upgrade_to_head(engine)
    finally:
        engine.dispose()
    return url


_ENGINES: dict[str, Engine] = {}


def empty_tables(url: str) -> None:
    """Empties every table of a migrated database and restarts its ids at 1.

    Only the tables that hold rows are emptied (one query finds them), with DELETE in
    reverse dependency order: on PostgreSQL a TRUNCATE of every table gave each a new file
    and took about 0.5 s a test, DELETE of a few rows takes milliseconds. Rows of tables the
    models don't declare (PostgreSQL's search table, SQLite's FTS5 index) go with their
    task rows, by cascade or trigger.
    """
    from sqlmodel import SQLModel

    import models  # noqa: F401

    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = build_engine(make_settings(url))
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    probe = " UNION ALL ".join(
        f"SELECT {i} FROM (SELECT 1 FROM \"{t}\" LIMIT 1) AS t{i}" for i, t in enumerate(tables)
    )
    with engine.begin() as conn:
        filled = {row[0] for row in conn.execute(text(probe))}
        for i, table in enumerate(tables):
            if i in filled:
                conn.execute(text(f'DELETE FROM "{table}"'))
        if engine.dialect.name == "postgresql":
            # What TRUNCATE ... RESTART IDENTITY did: every sequence starts again at 1.
            conn.execute(text("SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'"))
        elif conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first():
            conn.execute(text("DELETE FROM sqlite_sequence"))
    # No connection stays open: tests count the connections to their database.
    engine.dispose()


@pytest.fixture
def db_url(migrated_url: str) -> str:
    """A migrated database with empty tables, on each database kind."""
    empty_tables(migrated_url)
    return migrated_url


@pytest.fixture
def db_kind(db_url: str) -> str:
    return make_url(db_url).get_backend_name()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def engine(settings: Settings):  # noqa: ANN201
    engine = build_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def app(settings: Settings):  # noqa: ANN201
    from admin_app.main import create_app

    return create_app(settings)


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent
