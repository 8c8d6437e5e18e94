"""CSV exports on PostgreSQL: one `COPY (SELECT ...) TO STDOUT`, the same bytes Python writes.

The server formats the cells (`copy_text` spells `cell()` in SQL), a worker thread has
psycopg2 spool COPY's output to a temporary file, and the response streams that file at the
client's pace: a slow client never holds a database connection.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import Boolean, ColumnElement, Date, Integer, Select, String, Text, case, cast, func
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from sqlmodel.sql.sqltypes import AutoString

from admin_app.admin.export_format import FORMULA_STARTS, CSVLines, ExportColumn
from admin_app.db import set_statement_timeout
from models.common import UTCDateTime

COPY_CHUNK_BYTES = 256 * 1024  # COPY's output is spooled and sent in chunks of this size
SPOOL_POLL_SECONDS = 0.02  # how often the response looks for more of it


def _neutralised_text(text: ColumnElement) -> ColumnElement:
    """`neutralise` in SQL; '' as NULL, which COPY leaves unquoted as Python writes ''."""
    formula = func.ascii(text).in_([ord(start) for start in FORMULA_STARTS])  # the first character
    return func.nullif(case((formula, "'" + text), else_=text), "")


def _iso_timestamp(value: ColumnElement) -> ColumnElement:
    """`datetime.isoformat()` of the UTC value: microseconds only when there are some."""
    utc = func.timezone("UTC", value)  # not the session's time zone
    iso = func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"', type_=Text)
    return func.replace(iso, ".000000+", "+", type_=Text)  # the only "." is the fraction's


def copy_text(expression: ColumnElement) -> ColumnElement | None:
    """SQL giving `cell()` of the column's value as text; None when the type has none here."""
    kind = expression.type
    if isinstance(kind, UTCDateTime):
        return _iso_timestamp(expression)
    if isinstance(kind, TypeDecorator):  # may change the value on its way to Python
        if not isinstance(kind, AutoString):
            return None
        kind = kind.impl
    if isinstance(kind, SAEnum):  # stored by name, shown by value
        return None
    if isinstance(kind, String):
        return _neutralised_text(cast(expression, Text))
    if isinstance(kind, Boolean):
        return case((expression, "True"), (~expression, "False"))
    if isinstance(kind, Integer):
        return cast(expression, Text)
    if isinstance(kind, Date):
        return func.to_char(expression, "YYYY-MM-DD", type_=Text)
    return None


def copy_select(columns: Sequence[ExportColumn], base: Select, dialect: Dialect) -> Select | None:
    """`export_statement` with every cell as COPY should write it, or None to use Python."""
    # One column: Python writes an empty cell as `""`, COPY a NULL as an empty line.
    if dialect.name != "postgresql" or len(columns) < 2:
        return None
    texts = [copy_text(c.expression) for c in columns]
    if any(text is None for text in texts):
        return None
    return base.with_only_columns(
        *(text.label(f"c{i}") for i, text in enumerate(texts)), maintain_column_froms=True
    )


def copy_command(cursor: Any, statement: Select, dialect: Dialect) -> bytes:
    """`COPY (statement) TO STDOUT` with its parameters bound by psycopg2, never pasted in."""
    compiled = statement.compile(dialect=dialect)
    expanded = compiled.construct_expanded_state(escape_names=False)  # IN (...) lists spelled out
    processors = {
        name: bind.type.dialect_impl(dialect).bind_processor(dialect)
        for bind, name in compiled.bind_names.items()
    }
    processors.update(expanded.processors)
    escaped = compiled.escaped_bind_names or {}
    parameters = {}
    for name, value in expanded.parameters.items():
        process = processors.get(name)
        parameters[escaped.get(name, name)] = process(value) if process else value
    query = cursor.mogrify(expanded.statement, parameters)
    return b"COPY (" + query + b") TO STDOUT WITH (FORMAT csv, ENCODING 'UTF8')"


@dataclass(frozen=True)
class _Finished:
    rows: int


@dataclass(frozen=True)
class _Failed:
    error: BaseException


class CopyCSV:
    """The CSV `csv_chunks` would write, with the rows from one COPY run in a worker thread.

    The worker has psycopg2 write COPY's output straight into a temporary file (on disk,
    gone when closed) at the database's pace; iterating yields the header and then that
    file's bytes as they arrive, at the client's pace, and calls `on_done(rows)` at the end.
    So a slow client never holds a database connection, and the export's statement timeout
    covers the COPY alone; memory stays at a chunk, the disk holds the export until it is
    sent. `close()`, from any thread, stops it early (the client left): a COPY still running
    is cancelled on the server, its connection goes back to the pool rolled back, and the
    file is deleted.
    """

    def __init__(
        self, columns: Sequence[ExportColumn], session_factory: sessionmaker[Session],
        statement: Select, *, timeout_ms: int = 0, on_done: Callable[[int], None] | None = None,
    ) -> None:
        self.columns = columns
        self._session_factory = session_factory
        self._statement = statement
        self._timeout_ms = timeout_ms
        self._on_done = on_done
        self._spool = tempfile.TemporaryFile(buffering=0, prefix="export-")
        self._changed = threading.Condition()  # guards everything below
        self._outcome: _Finished | _Failed | None = None
        self._closed = False
        self._copying: Any = None  # the psycopg2 connection while its COPY runs

    def __iter__(self) -> Iterator[bytes]:
        lines = CSVLines()
        lines.writer.writerow([c.header for c in self.columns])
        threading.Thread(target=self._run, name="export-copy", daemon=True).start()
        try:
            yield lines.take().encode()
            sent = 0
            while True:
                with self._changed:
                    if self._closed:
                        return
                    outcome = self._outcome  # set once the file is complete
                    spooled = os.fstat(self._spool.fileno()).st_size
                    if spooled == sent and outcome is None:
                        self._changed.wait(SPOOL_POLL_SECONDS)  # psycopg2 writes, no signal
                        continue
                    if spooled > sent:  # the file cannot be closed while this reads it
                        chunk = os.pread(self._spool.fileno(), min(spooled - sent, COPY_CHUNK_BYTES), sent)
                if spooled > sent:
                    sent += len(chunk)
                    yield chunk
                elif isinstance(outcome, _Failed):
                    raise outcome.error
                else:
                    if self._on_done is not None and outcome is not None:
                        self._on_done(outcome.rows)
                    return
        finally:
            self.close()

    def close(self) -> None:
        """Stop the COPY if it still runs and delete the file; idempotent, from any thread."""
        with self._changed:
            if self._closed:
                return
            self._closed = True
            if self._copying is not None:
                self._copying.cancel()  # a separate request to the server: thread-safe
            self._spool.close()  # the worker's own descriptor keeps the file until it is done
            self._changed.notify_all()

    def _finish(self, outcome: _Finished | _Failed) -> None:
        with self._changed:
            self._outcome = outcome
            self._changed.notify_all()

    def _run(self) -> None:
        try:
            with self._changed:
                if self._closed:
                    return
                descriptor = os.dup(self._spool.fileno())
            with open(descriptor, "wb", buffering=COPY_CHUNK_BYTES) as spool:
                rows = self._copy(spool)  # the connection is back in the pool when it returns
            self._finish(_Finished(rows))
        except BaseException as exc:  # noqa: BLE001  (handed to the response to raise)
            self._finish(_Failed(exc))

    def _copy(self, spool: BinaryIO) -> int:
        with self._session_factory() as db:
            if self._timeout_ms:  # an export is known to be long: its own statement timeout
                set_statement_timeout(db, self._timeout_ms)
            connection = db.connection()
            dialect = connection.dialect
            raw = connection.connection.dbapi_connection
            with raw.cursor() as cursor:
                command = copy_command(cursor, self._statement, dialect)
                with self._changed:
                    if self._closed:
                        return 0
                    self._copying = raw
                try:
                    cursor.copy_expert(command, spool)
                except dialect.loaded_dbapi.Error as exc:
                    # Worded as SQLAlchemy words it (a statement timeout reads as one), and a
                    # dead connection is not given back to the pool.
                    lost = dialect.is_disconnect(exc, raw, cursor)
                    if lost:
                        connection.invalidate(exc)
                    raise DBAPIError.instance(
                        command.decode(errors="replace"), None, exc, dialect.loaded_dbapi.Error,
                        connection_invalidated=lost, dialect=dialect,
                    ) from exc
                finally:
                    with self._changed:  # from here on no cancel can reach this connection
                        self._copying = None
                return cursor.rowcount


