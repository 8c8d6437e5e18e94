"""The cells and lines of an export, the same whichever path writes them (Python or COPY)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select

from admin_app.resources.spec import Relation, Resource
from admin_app.services.listing import listing_of
from models.common import jsonable

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


def export_columns(resource: Resource) -> list[ExportColumn]:
    """The export's columns: each field's label, a related row by its shown column (joined)."""
    columns = []
    for name in resource.export_columns:
        found = resource.field(name)
        if isinstance(found, Relation):
            expression = getattr(listing_of(resource).aliases[name], found.shown)
        else:
            expression = getattr(resource.model, name)
        columns.append(ExportColumn(found.label, name, expression))
    if resource.import_columns and resource.versioned and "id" in resource.export_columns \
            and "version" not in resource.export_columns:
        # With the id, the version the row had: re-importing the file updates, checked (importer.py).
        columns.append(ExportColumn(resource.label_of("version"), "version", resource.model.version))
    return columns
