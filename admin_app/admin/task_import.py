"""Import tasks from CSV: every row validated by TaskCreate, all or nothing by default,
errors listed by row number and column, rows inserted set-wise by the task service.

SQLAdmin 0.32's `can_import` validates with the WTForms form (not the models), and saves
row by row with a savepoint and a flush each (10,000 rows = 10,000 round trips), so it
is switched off for tasks and this page replaces it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import ValidationError
from sqladmin import Flash
from sqlalchemy import select
from starlette import status
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin_app.admin.messages import StaffError, field_errors, staff_errors
from admin_app.services import tasks as task_service
from admin_app.services.actor import Actor
from models import TaskCreate, User

if TYPE_CHECKING:
    from admin_app.admin.views import TaskAdmin

MAX_ROWS = 50_000
MAX_LISTED = 200  # problems listed on the page; the rest are counted
# Header (lower case, "_" or " ") -> field. The export's headers are accepted, so an
# exported file can be edited and imported; its read-only columns are ignored.
COLUMNS = {
    "title": "title",
    "description": "description",
    "status": "status",
    "priority": "priority",
    "due date": "due_date",
    "assignee": "assignee",
    "assignee email": "assignee",
    "assignee id": "assignee_id",
}
IGNORED = {"id", "created at", "updated at", "completed at"}


@dataclass(frozen=True)
class Problem:
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str
    message: str


@dataclass
class ParsedFile:
    rows: list[tuple[int, TaskCreate]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    total: int = 0

    @property
    def bad_rows(self) -> int:
        return len({p.row for p in self.problems if p.row > 1})


def _header_key(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", " ").split())


def parse_tasks_csv(content: bytes, emails_to_ids) -> ParsedFile:  # noqa: ANN001
    """Validate every row; `emails_to_ids(set)` resolves assignee emails in one query."""
    result = ParsedFile()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.problems.append(Problem(0, "", "The file is not UTF-8 text (save it as CSV UTF-8)."))
        return result
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        result.problems.append(Problem(0, "", f"Not a readable CSV file: {exc}."))
        return result
    if not records or not any(cell.strip() for cell in records[0]):
        result.problems.append(Problem(1, "", "The file has no header row."))
        return result
    header = records[0]
    columns: dict[int, tuple[str, str]] = {}  # position -> (field, header as written)
    for position, name in enumerate(header):
        key = _header_key(name)
        if key in COLUMNS:
            columns[position] = (COLUMNS[key], name.strip())
        elif key not in IGNORED and key:
            expected = "title, description, status, priority, due date, assignee (email)"
            result.problems.append(Problem(1, name.strip(), f"Unknown column; expected {expected}."))
    if "title" not in {f for f, _ in columns.values()}:
        result.problems.append(Problem(1, "title", "The title column is missing."))
    data_rows = [(number, r) for number, r in enumerate(records[1:], start=2) if any(c.strip() for c in r)]
    result.total = len(data_rows)
    if result.total > MAX_ROWS:
        result.problems.append(Problem(0, "", f"At most {MAX_ROWS:,} rows per file; this one has {result.total:,}."))
    if result.problems:
        return result

    header_of = {f: name for f, name in columns.values()}
    emails = {
        row[p].strip().lower() for _n, row in data_rows for p, (f, _h) in columns.items()
        if f == "assignee" and p < len(row) and row[p].strip()
    }
    known = emails_to_ids(emails)
    for number, row in data_rows:
        values = {f: row[p].strip() if p < len(row) else "" for p, (f, _h) in columns.items()}
        payload: dict[str, Any] = {"title": values.get("title", "")}
        for name in ("description", "status", "priority", "due_date"):
            if values.get(name):
                payload[name] = values[name]
        if values.get("assignee_id"):
            payload["assignee_id"] = values["assignee_id"]
        email = values.get("assignee", "").lower()
        if email:
            if email not in known:
                result.problems.append(Problem(number, header_of["assignee"], f"No user with the email {email}."))
                continue
            payload["assignee_id"] = known[email]
        try:
            result.rows.append((number, TaskCreate.model_validate(payload)))
        except ValidationError as exc:
            for name, message in field_errors(exc):
                result.problems.append(Problem(number, header_of.get(name, name), message))
    return result


def _emails_to_ids(factory, emails: set[str]) -> dict[str, int]:  # noqa: ANN001
    if not emails:
        return {}
    with factory() as db:
        rows = db.execute(select(User.email, User.id).where(User.email.in_(emails)))
        return {email.lower(): user_id for email, user_id in rows}


def _insert(factory, actor: Actor, rows: list[TaskCreate]) -> int:  # noqa: ANN001
    with factory() as db, staff_errors():
        try:
            count = task_service.import_tasks(db, rows, actor=actor)
            db.commit()
        except BaseException:
            db.rollback()
            raise
    return count


async def import_page(view: TaskAdmin, request: Request) -> Response:
    if not view.has_permission(request, "import"):
        raise HTTPException(status.HTTP_403_FORBIDDEN)
    if request.method == "GET":
        return await _render(view, request)
    async with request.form(max_files=1) as form:
        upload = form.get("csvfile")
        skip_invalid = form.get("skip_invalid") in ("1", "on", "true")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await _render(view, request, error="Choose a CSV file.", status_code=400)
        content = await upload.read()
    factory = view.session_maker
    parsed = await anyio.to_thread.run_sync(
        parse_tasks_csv, content, lambda emails: _emails_to_ids(factory, emails)
    )
    file_level = any(p.row <= 1 for p in parsed.problems)
    if parsed.problems and (file_level or not skip_invalid):
        return await _render(
            view, request, parsed=parsed, status_code=400,
            error=f"Nothing was imported: {_problem_summary(parsed)}",
        )
    if not parsed.rows:
        return await _render(view, request, parsed=parsed, status_code=400, error="The file has no rows to import.")
    actor = Actor.from_principal(request.app.state.authenticator.principal(request), via="admin")
    try:
        count = await anyio.to_thread.run_sync(_insert, factory, actor, [t for _n, t in parsed.rows])
    except StaffError as exc:
        return await _render(view, request, parsed=parsed, status_code=400, error=f"Nothing was imported: {exc.message}")
    message = f"{count:,} task{'s' if count != 1 else ''} created."
    if parsed.problems:  # skip_invalid: say what was left out, on the page
        return await _render(
            view, request, parsed=parsed, created=count,
            notice=f"{message} {parsed.bad_rows:,} invalid row{'s' if parsed.bad_rows != 1 else ''} skipped.",
        )
    Flash.success(request, message)
    return RedirectResponse(request.url_for("admin:list", identity=view.identity), status_code=status.HTTP_303_SEE_OTHER)


def _problem_summary(parsed: ParsedFile) -> str:
    if any(p.row <= 1 for p in parsed.problems):
        return "the file itself has a problem (below)."
    return (
        f"{parsed.bad_rows:,} of {parsed.total:,} rows have errors (below). "
        "Fix them, or tick “skip invalid rows”, and upload again."
    )


async def _render(
    view: TaskAdmin, request: Request, *, parsed: ParsedFile | None = None, error: str | None = None,
    notice: str | None = None, created: int | None = None, status_code: int = 200,
) -> Response:
    problems = parsed.problems if parsed else []
    context = {
        "model_view": view, "title": "Import tasks from CSV", "error": error, "notice": notice,
        "problems": problems[:MAX_LISTED], "more_problems": max(0, len(problems) - MAX_LISTED),
        "created": created, "max_rows": MAX_ROWS,
        "list_url": str(request.url_for("admin:list", identity=view.identity)),
    }
    return await view.templates.TemplateResponse(
        request, "sqladmin/task_import.html", context, status_code=status_code
    )
