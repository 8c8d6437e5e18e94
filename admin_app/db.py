"""Database engine per dialect and the request-scoped session dependency."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from admin_app.settings import Settings


class DatabaseURLError(ValueError):
    """The configured DATABASE_URL cannot be used."""


def normalize_database_url(raw: str) -> URL:
    """Parse DATABASE_URL; send every PostgreSQL form to psycopg2, keeping the query string."""
    raw = raw.strip()
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise DatabaseURLError(f"DATABASE_URL is not a valid database URL: {raw!r}") from exc
    backend = url.get_backend_name()
    if backend == "postgresql":
        if url.drivername in ("postgresql", "postgresql+psycopg2"):
            url = url.set(drivername="postgresql+psycopg2")
        else:
            raise DatabaseURLError(
                f"DATABASE_URL driver {url.drivername!r} is not supported; use postgresql://"
            )
        if not url.database:
            raise DatabaseURLError("DATABASE_URL names no database (postgresql://host/DBNAME)")
    elif backend == "sqlite":
        if url.drivername not in ("sqlite", "sqlite+pysqlite"):
            raise DatabaseURLError(
                f"DATABASE_URL driver {url.drivername!r} is not supported; use sqlite:///FILE"
            )
    else:
        raise DatabaseURLError(
            f"DATABASE_URL must be sqlite:///FILE or postgresql://..., not {backend!r}"
        )
    return url


def _set_sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def build_engine(settings: Settings) -> Engine:
    """An engine configured for the dialect DATABASE_URL names."""
    url = normalize_database_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            from pathlib import Path

            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=settings.db_echo,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    return create_engine(
        url,
        echo=settings.db_echo,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_recycle=settings.db_pool_recycle,
        pool_pre_ping=settings.db_pool_pre_ping,
        connect_args={
            "connect_timeout": settings.db_connect_timeout,
            "application_name": "admin-app",
        },
    )


def build_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False)


def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield a session; roll back on error, always close."""
    session = factory()
    try:
        yield session
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
