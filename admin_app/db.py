"""Database engine per dialect and the request-scoped session dependency."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from admin_app.settings import Settings

APPLICATION_NAME = "admin-app"  # shows in pg_stat_activity


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
    engine = create_engine(
        url,
        echo=settings.db_echo,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_recycle=settings.db_pool_recycle,
        pool_pre_ping=settings.db_pool_pre_ping,
        # Only startup parameters PgBouncer (Neon's pooler) accepts: no `options`.
        connect_args={
            "connect_timeout": settings.db_connect_timeout,
            "application_name": APPLICATION_NAME,
        },
    )
    if settings.db_statement_timeout_ms:
        event.listen(engine, "begin", partial(_limit_transaction, settings.db_statement_timeout_ms))
    return engine


def build_read_engine(engine: Engine) -> Engine:
    """The connections of a request that reads a few rows by primary key (`GET /api/<table>/{id}`):
    on PostgreSQL `engine`'s pool, its connections lent in autocommit (one pool, so
    DB_POOL_SIZE + DB_MAX_OVERFLOW still bound the connections). Each statement is then its own
    transaction: the request's round trips are the pool's ping and its statements (no BEGIN,
    ROLLBACK or statement timeout: primary-key reads), and a session's last-use write commits at
    once. On SQLite `engine` itself (a deferred transaction there costs no round trip)."""
    return engine if engine.dialect.name == "sqlite" else engine.execution_options(isolation_level="AUTOCOMMIT")


def _limit_transaction(milliseconds: int, connection: Connection) -> None:
    # Local to the transaction, not a session SET or a startup option: right behind
    # PgBouncer in transaction mode, where consecutive transactions share no session.
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return  # no transaction to be local to: `build_read_engine`'s primary-key reads
    _set_local_timeout(connection, milliseconds)


def _set_local_timeout(connection: Connection, value: int | str) -> None:
    connection.exec_driver_sql(
        "SELECT set_config('statement_timeout', %(value)s, true)", {"value": str(value)}
    )


def set_statement_timeout(db: OrmSession | Connection, milliseconds: int) -> None:
    """Set the statement timeout (ms, 0 = none) until the current transaction ends (PostgreSQL)."""
    connection = db.connection() if isinstance(db, OrmSession) else db
    if connection.dialect.name == "postgresql":
        _set_local_timeout(connection, milliseconds)


def statement_timeout(db: OrmSession | Connection, milliseconds: int) -> AbstractContextManager[None]:
    """Give the statements in the block another timeout (ms, 0 = none), in this transaction only.

    For work known to be long, such as an export (EXPORT_STATEMENT_TIMEOUT_MS). PostgreSQL
    only; elsewhere a no-op (see `local_setting`).
    """
    return local_setting(db, "statement_timeout", str(milliseconds))


@contextmanager
def local_setting(db: OrmSession | Connection, name: str, value: str) -> Iterator[None]:
    """A setting (`statement_timeout`, `enable_seqscan`, ...) for the statements in the block,
    in this transaction only. PostgreSQL only; elsewhere a no-op. On success the previous value
    is back in force; on an error the transaction or savepoint is rolled back, which resets it."""
    connection = db.connection() if isinstance(db, OrmSession) else db
    if connection.dialect.name != "postgresql":
        yield
        return
    # One round trip: the subquery (OFFSET 0 keeps it one) reads the value before it is set.
    previous = connection.exec_driver_sql(
        "SELECT p.previous FROM (SELECT current_setting(%(name)s) AS previous OFFSET 0) AS p"
        " WHERE set_config(%(name)s, %(value)s, true) IS NOT NULL", {"name": name, "value": value},
    ).scalar_one()
    yield
    connection.exec_driver_sql("SELECT set_config(%(name)s, %(value)s, true)", {"name": name, "value": previous})


class InFlight:
    """The connections an engine has lent out, so that shutdown can cancel what still runs."""

    def __init__(self, engine: Engine) -> None:
        self._lock = threading.Lock()
        self._connections: set[object] = set()
        event.listen(engine, "checkout", self._checkout)
        event.listen(engine, "checkin", self._checkin)

    def _checkout(self, dbapi_connection, _record, _proxy) -> None:  # noqa: ANN001
        with self._lock:
            self._connections.add(dbapi_connection)

    def _checkin(self, dbapi_connection, _record) -> None:  # noqa: ANN001
        with self._lock:
            self._connections.discard(dbapi_connection)

    def cancel(self) -> int:
        """Cancel the statement running on each lent-out connection; returns how many were lent out."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            # psycopg2 cancels through a separate request to the server; sqlite3 interrupts.
            stop = getattr(connection, "cancel", None) or getattr(connection, "interrupt", None)
            if stop is not None:
                try:
                    stop()
                except Exception:  # noqa: BLE001  (already closed: nothing to cancel)
                    pass
        return len(connections)


def build_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
