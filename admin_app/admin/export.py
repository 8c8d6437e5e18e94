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

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import anyio
from sqlalchemy import Select
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from admin_app.admin.export_copy import CopyCSV, copy_select
from admin_app.admin.export_format import ExportColumn, csv_chunks, export_statement, json_chunks
from admin_app.db import set_statement_timeout

BATCH_ROWS = 1000


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
