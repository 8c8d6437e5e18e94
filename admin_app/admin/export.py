"""Streamed CSV and JSON exports, in memory that does not grow with the rows.

Two ways to the same bytes. On PostgreSQL a CSV export whose every column has a known text
form runs as one `COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)`: the server formats the
cells, a worker thread spools its output to a temporary file that the response streams from
at the client's pace. Otherwise (SQLite, the JSON export, a column type SQL cannot spell as
`cell()` does, such as the audit log's JSON) rows are read in batches from a server-side
cursor and written by Python as they come.

SQLAdmin's own export loads every row into a list before the first byte is sent, and
ignores the list's search and filters.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import anyio
from sqlalchemy import Boolean, ColumnElement, Date, Integer, Select, String, Text, case, cast, func
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from sqlmodel.sql.sqltypes import AutoString
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from admin_app.db import set_statement_timeout
from models.common import UTCDateTime, jsonable

BATCH_ROWS = 1000
# A cell that a spreadsheet would run as a formula (=HYPERLINK(...), +cmd, -2+3, @SUM).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COPY_CHUNK_BYTES = 256 * 1024  # COPY's output is spooled and sent in chunks of this size
SPOOL_POLL_SECONDS = 0.02  # how often the response looks for more of it


@dataclass(frozen=True)
class ExportColumn:
    header: str  # the CSV header staff read
    key: str  # the JSON key
    expression: ColumnElement


def export_statement(columns: Sequence[ExportColumn], base: Select) -> Select:
    """`base` (its joins, WHERE and ORDER BY) selecting just the export columns."""
    return base.with_only_columns(*(c.expression for c in columns), maintain_column_froms=True)


def cell(value: Any) -> Any:
    """A CSV cell: ISO dates, JSON for structured values, formulas neutralised."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return neutralise(jsonable(value))


def neutralise(value: Any) -> Any:
    """Prefix a text cell a spreadsheet would read as a formula with a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def stream_rows(
    session_factory: sessionmaker[Session], statement: Select, batch: int = BATCH_ROWS,
    *, timeout_ms: int = 0,
) -> Iterator[Sequence[Any]]:
    """Batches of result rows from one server-side cursor (constant memory on PostgreSQL)."""
    with session_factory() as db:
        if timeout_ms:  # an export is known to be long: its own statement timeout
            set_statement_timeout(db, timeout_ms)
        result = db.execute(statement.execution_options(yield_per=batch, stream_results=True))
        try:
            yield from result.partitions(batch)
        finally:
            result.close()


class CSVLines:
    """A csv.writer target whose lines end in LF, as PostgreSQL's COPY ends them.

    The writer keeps its default CRLF terminator, which we cut to LF here: with
    `lineterminator="\\n"` Python (before 3.12) would stop quoting a field holding a lone CR,
    which COPY quotes.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []
        self.writer = csv.writer(self)

    def write(self, line: str) -> None:  # the writer calls it once per row
        self._lines.append(line[:-2])

    def take(self) -> str:
        """The lines written since the last take, each ending in LF."""
        if not self._lines:
            return ""
        text = "\n".join(self._lines) + "\n"
        self._lines.clear()
        return text


def csv_chunks(columns: Sequence[ExportColumn], batches: Iterator[Sequence[Any]]) -> Iterator[str]:
    lines = CSVLines()
    lines.writer.writerow([c.header for c in columns])
    for rows in batches:
        lines.writer.writerows([cell(v) for v in row] for row in rows)
        yield lines.take()
    yield lines.take()


def json_chunks(columns: Sequence[ExportColumn], batches: Iterator[Sequence[Any]]) -> Iterator[str]:
    keys = [c.key for c in columns]
    first = True
    yield "["
    for rows in batches:
        parts = []
        for row in rows:
            item = json.dumps(dict(zip(keys, map(jsonable, row), strict=True)), ensure_ascii=False)
            parts.append(("\n" if first else ",\n") + item)
            first = False
        yield "".join(parts)
    yield "\n]\n"


# --- the same CSV from PostgreSQL's COPY ------------------------------------------------------

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


MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def counted(batches: Iterator[Sequence[Any]], done: Callable[[int], None]) -> Iterator[Sequence[Any]]:
    """Pass batches through; when the last one is sent, report how many rows left."""
    rows = 0
    for rows_batch in batches:
        rows += len(rows_batch)
        yield rows_batch
    done(rows)


def python_chunks(
    export_type: str, columns: Sequence[ExportColumn], session_factory: sessionmaker[Session],
    statement: Select, *, timeout_ms: int = 0, on_done: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    batches = stream_rows(session_factory, export_statement(columns, statement), timeout_ms=timeout_ms)
    if on_done is not None:
        batches = counted(batches, on_done)
    chunks = csv_chunks(columns, batches) if export_type == "csv" else json_chunks(columns, batches)
    for chunk in chunks:
        yield chunk.encode()


class ExportResponse(StreamingResponse):
    """A download that closes its source however the response ends.

    When the client leaves, Starlette cancels the sending task but never closes the
    iterator; left to the garbage collector, a COPY would stay blocked and hold its
    connection.
    """

    def __init__(self, content: CopyCSV | Iterator[bytes], **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._source = content

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._close_source)

    def _close_source(self) -> None:
        try:
            self._source.close()
        except ValueError:  # a generator still running in another thread: it is ending anyway
            pass


def export_response(
    name: str,
    export_type: str,
    columns: Sequence[ExportColumn],
    session_factory: sessionmaker[Session],
    statement: Select,
    *,
    timeout_ms: int = 0,
    on_done: Callable[[int], None] | None = None,
) -> StreamingResponse:
    """A streamed download of `statement` as CSV or JSON; `on_done(rows)` once it is all sent.

    CSV comes from PostgreSQL's COPY when it can write every column, from Python otherwise.
    """
    content: CopyCSV | Iterator[bytes] | None = None
    if export_type == "csv":
        with session_factory() as db:  # no connection is taken just to learn the dialect
            dialect = db.get_bind().dialect
        copying = copy_select(columns, statement, dialect)
        if copying is not None:
            content = CopyCSV(
                columns, session_factory, copying, timeout_ms=timeout_ms, on_done=on_done
            )
    if content is None:
        content = python_chunks(
            export_type, columns, session_factory, statement, timeout_ms=timeout_ms, on_done=on_done
        )
    filename = f"{name}_{time.strftime('%Y-%m-%d_%H-%M-%S')}.{export_type}"
    return ExportResponse(
        content,
        media_type=MEDIA_TYPES[export_type],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
