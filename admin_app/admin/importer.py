"""Import a CSV into any declared table: every row validated by the Create model, every problem
listed by row and column, all or nothing by default, the rows written by the generic service.

Headers are the declared import columns by name or label ("due date", "Due date", "due_date");
a relation by the related row's shown column ("assignee": an email, "project": a code) or by id
("assignee id"); a choice by its value or its label ("High"). The export's other columns are
ignored, so an exported file can be edited and imported. With an `import_key` (a project's
code), a row whose key exists updates that row, in the columns the file has.

SQLAdmin 0.32's `can_import` validates with the WTForms form (not the models) and saves row by
row with a savepoint each, so it stays switched off and this page replaces it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from pydantic import BaseModel, ValidationError
from sqladmin import Flash
from sqlalchemy import func, select
from starlette import status
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin_app.admin.messages import StaffError
from admin_app.admin.pages import ResourcePages, guard
from admin_app.resources.spec import Relation, Resource
from admin_app.services import bulk
from admin_app.services.wording import field_errors
from models.common import jsonable

MAX_ROWS = 50_000
MAX_LISTED = 200  # problems listed on the page; the rest are counted
# resolve(relation, shown values in lower case) -> {shown value in lower case: id}
Resolve = Callable[[Relation, set[str]], dict[str, int]]


@dataclass(frozen=True)
class Problem:
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str
    message: str


@dataclass
class ParsedFile:
    rows: list[tuple[int, BaseModel]] = field(default_factory=list)
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


def parse(resource: Resource, content: bytes, resolve: Resolve) -> ParsedFile:
    """Validate every row; related rows are resolved with one query per relation."""
    result = ParsedFile()
    try:
        records = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    except UnicodeDecodeError:
        result.problems.append(Problem(0, "", "The file is not UTF-8 text (save it as CSV UTF-8)."))
        return result
    except csv.Error as exc:
        result.problems.append(Problem(0, "", f"Not a readable CSV file: {exc}."))
        return result
    if not records or not any(cell.strip() for cell in records[0]):
        result.problems.append(Problem(1, "", "The file has no header row."))
        return result
    accepted, ignored = headers(resource)
    columns: dict[int, tuple[str, str, str]] = {}  # position -> (field, how, header as written)
    for position, name in enumerate(records[0]):
        if _key(name) in accepted:
            columns[position] = (*accepted[_key(name)], name.strip())
        elif _key(name) and _key(name) not in ignored:
            expected = ", ".join(resource.import_columns)
            result.problems.append(Problem(1, name.strip(), f"Unknown column; expected {expected}."))
    create = resource.schemas.create
    given = {f for f, _how, _h in columns.values()}
    for name, info in create.model_fields.items():
        if info.is_required() and name in resource.import_columns and name not in given:
            result.problems.append(Problem(1, name, f"The {name} column is missing."))
    data = [(n, r) for n, r in enumerate(records[1:], start=2) if any(c.strip() for c in r)]
    result.total = len(data)
    if result.total > MAX_ROWS:
        result.problems.append(Problem(0, "", f"At most {MAX_ROWS:,} rows per file; this one has {result.total:,}."))
    if result.problems:
        return result
    header_of = {f: h for f, _how, h in columns.values()}
    result.columns = {getattr(resource.field(f), "key", f) for f in given}
    known = _resolve_all(resource, columns, data, resolve)
    keys_seen: dict[Any, int] = {}
    for number, row in data:
        payload: dict[str, Any] = {}
        for position, (name, how, header) in columns.items():
            text = row[position].strip() if position < len(row) else ""
            problem = _cell(resource, payload, name, how, text, known)
            if problem:
                result.problems.append(Problem(number, header, problem))
        try:
            model = create.model_validate(payload)
        except ValidationError as exc:
            for name, message in field_errors(exc):
                result.problems.append(Problem(number, header_of.get(name, name), message))
            continue
        key = resource.import_key
        if key is not None:
            value = getattr(model, key)
            if value in keys_seen:
                result.problems.append(Problem(number, header_of.get(key, key), f"Also in row {keys_seen[value]}."))
                continue
            keys_seen[value] = number
        if not any(p.row == number for p in result.problems):
            result.rows.append((number, model))
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
            return f"No {target} with the {_shown_words(found)} {text}."
        payload[found.key] = row_id
        return None
    labels = {v.lower(): jsonable(k) for k, v in (getattr(found, "choices", None) or {}).items()}
    payload[name] = labels.get(text.lower(), text)
    return None


def _shown_words(relation: Relation) -> str:
    return relation.shown.replace("_", " ")


def _resolver(view: ResourcePages) -> Resolve:
    def resolve(relation: Relation, wanted: set[str]) -> dict[str, int]:
        if not wanted:
            return {}
        shown = getattr(relation.target, relation.shown)
        with view.session_maker() as db:
            rows = db.execute(select(shown, relation.target.id).where(func.lower(shown).in_(wanted)))
            return {str(value).lower(): row_id for value, row_id in rows}

    return resolve


def _write(view: ResourcePages, request: Request, parsed: ParsedFile) -> bulk.ImportResult:
    with view.writing(request) as ctx:
        return bulk.import_rows(ctx, view.resource, [m for _n, m in parsed.rows], parsed.columns)


def done_message(view: ResourcePages, result: bulk.ImportResult) -> str:
    parts = [f"{result.created:,} {view.noun(result.created)} created"]
    if view.resource.import_key:
        parts += [f"{result.updated:,} updated", f"{result.unchanged:,} unchanged"]
    return ", ".join(parts) + "."


async def import_page(view: ResourcePages, request: Request) -> Response:
    guard(view, request, view.resource.import_columns, "import")
    if request.method == "GET":
        return await _render(view, request)
    async with request.form(max_files=1) as form:
        upload = form.get("csvfile")
        skip_invalid = form.get("skip_invalid") in ("1", "on", "true")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await _render(view, request, error="Choose a CSV file.", status_code=400)
        content = await upload.read()
    parsed = await anyio.to_thread.run_sync(parse, view.resource, content, _resolver(view))
    file_level = any(p.row <= 1 for p in parsed.problems)
    if parsed.problems and (file_level or not skip_invalid):
        return await _render(view, request, parsed=parsed, status_code=400,
                             error=f"Nothing was imported: {_summary(parsed)}")
    if not parsed.rows:
        return await _render(view, request, parsed=parsed, status_code=400, error="The file has no rows to import.")
    try:
        result = await anyio.to_thread.run_sync(_write, view, request, parsed)
    except StaffError as exc:
        return await _render(view, request, parsed=parsed, status_code=400, error=f"Nothing was imported: {exc.message}")
    message = done_message(view, result)
    if parsed.problems:  # skip_invalid: say what was left out, on the page
        bad = parsed.bad_rows
        return await _render(view, request, parsed=parsed, created=result.created,
                             notice=f"{message} {bad:,} invalid row{'s' if bad != 1 else ''} skipped.")
    Flash.success(request, message)
    return RedirectResponse(request.url_for("admin:list", identity=view.identity), status_code=status.HTTP_303_SEE_OTHER)


def _summary(parsed: ParsedFile) -> str:
    if any(p.row <= 1 for p in parsed.problems):
        return "the file itself has a problem (below)."
    return (f"{parsed.bad_rows:,} of {parsed.total:,} rows have errors (below). "
            "Fix them, or tick “skip invalid rows”, and upload again.")


def column_hints(resource: Resource) -> list[tuple[str, str]]:
    """(header, what it takes) for the page's help."""
    required = {n for n, i in resource.schemas.create.model_fields.items() if i.is_required()}
    out = []
    for name in resource.import_columns:
        found = resource.field(name)
        if isinstance(found, Relation):
            hint = f"a {found.target.__name__.lower()}'s {_shown_words(found)}"
        elif getattr(found, "choices", None):
            hint = ", ".join(f"{jsonable(k)} ({v})" for k, v in found.choices.items())
        else:
            hint = "required" if name in required else ""
        out.append((name.replace("_", " "), hint))
    return out


async def _render(
    view: ResourcePages, request: Request, *, parsed: ParsedFile | None = None, error: str | None = None,
    notice: str | None = None, created: int | None = None, status_code: int = 200,
) -> Response:
    problems = parsed.problems if parsed else []
    context = {
        "model_view": view, "title": f"Import {view.resource.plural.lower()} from CSV", "error": error,
        "notice": notice, "problems": problems[:MAX_LISTED], "more_problems": max(0, len(problems) - MAX_LISTED),
        "created": created, "max_rows": MAX_ROWS, "hints": column_hints(view.resource),
        "import_key": view.resource.import_key,
        "list_url": str(request.url_for("admin:list", identity=view.identity)),
    }
    return await view.templates.TemplateResponse(request, "sqladmin/import.html", context, status_code=status_code)
