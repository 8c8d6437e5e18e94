"""DATABASE_URL forms: SQLite, local PostgreSQL, postgres:// and managed (Neon) URLs."""

import pytest

from admin_app.db import DatabaseURLError, build_engine, normalize_database_url
from tests.conftest import make_settings


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgresql://postgres@127.0.0.1:5432/test", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"),
        ("postgres://u:p@db.example.com/app", "postgresql+psycopg2://u:p@db.example.com/app"),
        ("postgresql+psycopg2://u@h/app", "postgresql+psycopg2://u@h/app"),
        (
            "postgresql://alex:pw@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require",
            "postgresql+psycopg2://alex:pw@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require",
        ),
        (
            "postgresql://alex:pw@ep-x-123-pooler.eu-central-1.aws.neon.tech/neondb"
            "?sslmode=require&channel_binding=require",
            "postgresql+psycopg2://alex:pw@ep-x-123-pooler.eu-central-1.aws.neon.tech/neondb"
            "?channel_binding=require&sslmode=require",
        ),
        ("sqlite:///./admin_app.db", "sqlite:///./admin_app.db"),
        ("sqlite:////var/lib/app/data.db", "sqlite:////var/lib/app/data.db"),
    ],
)
def test_normalizes_supported_urls(raw: str, expected: str) -> None:
    assert normalize_database_url(raw).render_as_string(hide_password=False) == expected


def test_query_string_reaches_the_driver() -> None:
    url = normalize_database_url("postgres://u:p@h.neon.tech/neondb?sslmode=require")
    assert url.query == {"sslmode": "require"}
    assert url.drivername == "postgresql+psycopg2"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("mysql://u@h/db", "must be sqlite"),
        ("::not a url", "not a valid database URL"),
        ("postgresql+asyncpg://u@h/db", "not supported"),
        ("postgresql://u@h", "names no database"),
        ("sqlite+aiosqlite:///x.db", "not supported"),
    ],
)
def test_refuses_unusable_urls(raw: str, message: str) -> None:
    with pytest.raises(DatabaseURLError, match=message):
        normalize_database_url(raw)


def test_postgres_pool_settings_are_applied() -> None:
    settings = make_settings(
        "postgresql://u@127.0.0.1:1/x",
        db_pool_size=7, db_max_overflow=3, db_pool_timeout=2.5, db_pool_recycle=600,
        db_pool_pre_ping=False,
    )
    engine = build_engine(settings)
    try:
        pool = engine.pool
        assert pool.size() == 7
        assert pool._max_overflow == 3  # noqa: SLF001
        assert pool._timeout == 2.5  # noqa: SLF001
        assert pool._recycle == 600  # noqa: SLF001
        assert pool._pre_ping is False  # noqa: SLF001
        assert engine.echo is False
    finally:
        engine.dispose()


def test_sql_echo_is_off_by_default() -> None:
    assert make_settings("sqlite:///x.db").db_echo is False
