"""Reading an import file: every cell of every row checked, every problem kept, in the forms' words.

Headers are the declared import columns by name or label ("due date", "Due date", "due_date");
a relation by the related row's shown column ("assignee": an email, "project": a code) or by id
("assignee id"); a choice by its value or its label ("High"). The export's other columns are
ignored, so an exported file can be edited and imported. An `ID` column (the export's) makes a
row with an id update that row, checked against the file's `Version` column; rows without one
are created. An Excel workbook (.xlsx) is read as the CSV of its first sheet (`xlsx_as_csv`).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from pydantic import ValidationError

from admin_app.i18n import N_, format_number
from admin_app.i18n import gettext as _
from admin_app.resources.spec import Relation, Resource
from admin_app.services.imports import ImportRow
from admin_app.services.wording import KIND_WORDS, field_errors
from models.common import MAX_DB_ID, jsonable

MAX_ROWS = 50_000
MAX_COLUMNS = 200  # an Excel sheet's columns read; an export has a dozen
XLSX_MAGIC = b"PK\x03\x04"  # a workbook is a zip file
UNREADABLE_XLSX = N_("Not a readable Excel workbook (.xlsx): save it again from the spreadsheet, or as CSV UTF-8.")
MAX_LISTED = 200  # problems listed on the page; the rest are counted
SPECIAL = ("id", "version")  # the export's row id and version: an update, checked
# resolve(relation, shown values in lower case) -> {shown value in lower case: id}
Resolve = Callable[[Relation, set[str]], dict[str, int]]


@dataclass(frozen=True)
class Problem:
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str
    message: str


@dataclass
class ParsedFile:
    rows: list[tuple[int, ImportRow]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    total: int = 0
    columns: set[str] = field(default_factory=set)  # the schema fields the file gives

    @property
    def bad_rows(self) -> int:
        return len({p.row for p in self.problems if p.row > 1})


def _key(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", " ").split())


def headers(resource: Resource) -> tuple[dict[str, tuple[str, str]], set[str]]:
    """Accepted header -> (field, how: "value", "shown" or "id"); headers ignored."""
    accepted: dict[str, tuple[str, str]] = {}
    for name in resource.import_columns:
        found = resource.field(name)
        for alias in (name, found.label):
            accepted[_key(alias)] = (name, "shown" if isinstance(found, Relation) else "value")
        if isinstance(found, Relation):
            accepted[_key(f"{name} {found.shown}")] = (name, "shown")
            for alias in (found.key, f"{name} id"):
                accepted[_key(alias)] = (name, "id")
    ignored = {_key(a) for n in resource.export_columns for a in (n, resource.label_of(n))} - set(accepted)
    return accepted, ignored


class UnreadableFile(ValueError):
    """An upload that is no file this import reads; the message says so in a sentence."""


def is_xlsx(content: bytes, filename: str = "") -> bool:
    return content.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx")


def _cell_text(value: Any) -> str:
    """A sheet's cell as the CSV export writes it: dates ISO 8601, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_as_csv(content: bytes) -> bytes:
    """The first sheet of an Excel workbook as UTF-8 CSV, so that one parser reads both (and a
    preview's signed token carries text). Read-only and streamed, XML parsed by defusedxml
    (openpyxl uses it when installed), at most MAX_ROWS + 1 data rows and MAX_COLUMNS columns."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile(_(UNREADABLE_XLSX)) from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise UnreadableFile(_("The workbook has no sheet."))
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        data_rows = 0
        for number, row in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1):
            cells = [_cell_text(v) for v in row]
            if number > 1 and any(c.strip() for c in cells):
                data_rows += 1
            if data_rows > MAX_ROWS * 10:
                raise UnreadableFile(_("At most {max} rows per file; this one has more than {count}.").format(
                    max=format_number(MAX_ROWS), count=format_number(MAX_ROWS * 10)))
            if data_rows > MAX_ROWS:
                continue  # counted, not kept
            writer.writerow(cells)
        if data_rows > MAX_ROWS:
            raise UnreadableFile(_("At most {max} rows per file; this one has {count}.").format(
                max=format_number(MAX_ROWS), count=format_number(data_rows)))
        return out.getvalue().encode("utf-8")
    except UnreadableFile:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise UnreadableFile(_(UNREADABLE_XLSX)) from exc
    finally:
        workbook.close()


def parse(resource: Resource, content: bytes, resolve: Resolve) -> ParsedFile:
    """Validate every row; related rows are resolved with one query per relation."""
    result = ParsedFile()
    try:
        records = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    except UnicodeDecodeError:
        result.problems.append(Problem(0, "", _("The file is not UTF-8 text (save it as CSV UTF-8).")))
        return result
    except csv.Error as exc:
        result.problems.append(Problem(0, "", _("Not a readable CSV file: {error}.").format(error=exc)))
        return result
    if not records or not any(cell.strip() for cell in records[0]):
        result.problems.append(Problem(1, "", _("The file has no header row.")))
        return result
    accepted, ignored = headers(resource)
    columns: dict[int, tuple[str, str, str]] = {}  # position -> (field, how, header as written)
    special: dict[str, tuple[int, str]] = {}  # "id" / "version" -> (position, header as written)
    for position, name in enumerate(records[0]):
        if _key(name) in SPECIAL:
            special[_key(name)] = (position, name.strip())
        elif _key(name) in accepted:
            columns[position] = (*accepted[_key(name)], name.strip())
        elif _key(name) and _key(name) not in ignored:
            expected = ", ".join(resource.import_columns)
            result.problems.append(Problem(1, name.strip(), _("Unknown column; expected {expected}.").format(expected=expected)))
    create = resource.schemas.create
    given = {f for f, _how, _h in columns.values()}
    for name, info in create.model_fields.items():
        if info.is_required() and name in resource.import_columns and name not in given:
            result.problems.append(Problem(1, name, _("The {name} column is missing.").format(name=name)))
    if "id" in special and resource.versioned and "version" not in special:
        result.problems.append(Problem(1, special["id"][1], "The file has an ID column but no Version column: "
                                       "export again (exports have both), so that changes made since are kept."))
    data = [(n, r) for n, r in enumerate(records[1:], start=2) if any(c.strip() for c in r)]
    result.total = len(data)
    if result.total > MAX_ROWS:
        result.problems.append(Problem(0, "", _("At most {max} rows per file; this one has {count}.").format(
            max=format_number(MAX_ROWS), count=format_number(result.total))))
    if result.problems:
        return result
    header_of = {f: h for f, _how, h in columns.values()}
    result.columns = {getattr(resource.field(f), "key", f) for f in given}
    known = _resolve_all(resource, columns, data, resolve)
    keys_seen: dict[Any, int] = {}
    ids_seen: dict[int, int] = {}
    for number, row in data:
        payload: dict[str, Any] = {}
        numbers: dict[str, int | None] = {}
        for name, (position, header) in special.items():
            try:
                numbers[name] = _whole_number(row[position].strip() if position < len(row) else "")
            except ValueError:
                result.problems.append(Problem(number, header, _(KIND_WORDS["int_parsing"])))
        row_id, version = numbers.get("id"), numbers.get("version")
        if row_id is not None and row_id in ids_seen:
            result.problems.append(Problem(number, special["id"][1], _("Also in row {row}.").format(row=ids_seen[row_id])))
        elif row_id is not None:
            ids_seen[row_id] = number
            if resource.versioned and version is None:
                result.problems.append(Problem(number, special["version"][1], _("must be given for a row with an ID (the export has it)")))
        for position, (name, how, header) in columns.items():
            text = row[position].strip() if position < len(row) else ""
            problem = _cell(resource, payload, name, how, text, known)
            if problem:
                result.problems.append(Problem(number, header, problem))
        try:
            model = create.model_validate(payload)
        except ValidationError as exc:
            for name, message in field_errors(exc, _):
                result.problems.append(Problem(number, header_of.get(name, name), message))
            continue
        key = resource.import_key
        if key is not None and not row_id:
            value = getattr(model, key)
            if value in keys_seen:
                result.problems.append(Problem(number, header_of.get(key, key), _("Also in row {row}.").format(row=keys_seen[value])))
                continue
            keys_seen[value] = number
        if not any(p.row == number for p in result.problems):
            result.rows.append((number, ImportRow(model, row_id, version)))
    return result


def _resolve_all(resource: Resource, columns: dict, data: list, resolve: Resolve) -> dict[str, dict[str, int]]:
    known: dict[str, dict[str, int]] = {}
    for position, (name, how, _h) in columns.items():
        if how == "shown":
            wanted = {r[position].strip().lower() for _n, r in data if position < len(r) and r[position].strip()}
            known[name] = resolve(resource.relation(name), wanted)
    return known


def _cell(resource: Resource, payload: dict, name: str, how: str, text: str, known: dict) -> str | None:
    """Put one cell into the payload; a problem's message if it names nothing."""
    found = resource.field(name)
    if not text:  # the default; for a row the import updates that empties the field
        if resource.schemas.create.model_fields[getattr(found, "key", name)].is_required():
            payload[name] = ""  # so that the model says what it wants ("must not be blank")
        return None
    if isinstance(found, Relation):
        if how == "id":
            payload[found.key] = text
            return None
        target = found.target.__name__.lower()
        row_id = known.get(name, {}).get(text.lower())
        if row_id is None:
            return _("No {row} with the {column} {value}.").format(row=target, column=_shown_words(found), value=text)
        payload[found.key] = row_id
        return None
    labels = {v.lower(): jsonable(k) for k, v in (getattr(found, "choices", None) or {}).items()}
    payload[name] = labels.get(text.lower(), text)
    return None


def _shown_words(relation: Relation) -> str:
    return relation.shown.replace("_", " ")


def _whole_number(text: str) -> int | None:
    """A cell's id or version: None when empty; ValueError when it is no id."""
    if not text:
        return None
    if text.isdigit() and 1 <= int(text) <= MAX_DB_ID:
        return int(text)
    raise ValueError(text)
