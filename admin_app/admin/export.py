"""Streamed CSV and JSON exports: rows are read in batches from a server-side cursor and
written as they come, so memory stays flat however many rows match.

SQLAdmin's own export loads every row into a list before the first byte is sent, and
ignores the list's search and filters.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import StreamingResponse

from admin_app.db import set_statement_timeout
from models.common import jsonable

BATCH_ROWS = 1000
# A cell that a spreadsheet would run as a formula (=HYPERLINK(...), +cmd, -2+3, @SUM).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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


MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def counted(batches: Iterator[Sequence[Any]], done: Callable[[int], None]) -> Iterator[Sequence[Any]]:
    """Pass batches through; when the last one is sent, report how many rows left."""
    rows = 0
    for rows_batch in batches:
        rows += len(rows_batch)
        yield rows_batch
    done(rows)


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
    """A streamed download of `statement` as CSV or JSON; `on_done(rows)` once it is all sent."""
    batches = stream_rows(session_factory, export_statement(columns, statement), timeout_ms=timeout_ms)
    if on_done is not None:
        batches = counted(batches, on_done)
    chunks = csv_chunks(columns, batches) if export_type == "csv" else json_chunks(columns, batches)
    filename = f"{name}_{time.strftime('%Y-%m-%d_%H-%M-%S')}.{export_type}"
    return StreamingResponse(
        (chunk.encode() for chunk in chunks),
        media_type=MEDIA_TYPES[export_type],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
