"""Import a CSV or Excel file into any declared table, in two steps: a preview, then the write.

Uploading a file writes nothing: the page says what the file would do ("will create 3, update
2, leave 1 unchanged, 1 problem") and lists every problem of every row (import_parse.py). The
user then confirms, and the file is not uploaded again: the preview page holds it, compressed
and signed (itsdangerous, salted with the table and the user's id, valid for PREVIEW_SECONDS).
A signed payload rather than a server-side draft because any app process behind the load
balancer can confirm it (no state in one process's memory, no table or migration), nothing is
left to clean up, it is bounded by the upload's own size, and it cannot be altered or used by
another user or for another table. The confirmation checks the file again against the
database, in the write's own transaction (a row changed since the preview is a conflict).

All or nothing by default; "skip invalid rows" imports the others. A file with at least
IMPORT_JOB_MIN_ROWS rows to write is confirmed into a job (services/jobs.py): the job's page
shows its progress, and it writes the rows in chunks, one change set.

SQLAdmin 0.32's `can_import` validates with the WTForms form (not the models) and saves row by
row with a savepoint each, so it stays switched off and this page replaces it.
"""

from __future__ import annotations

import anyio
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqladmin import Flash
from sqlalchemy import func, select
from starlette import status
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin_app.admin.import_parse import (
    MAX_LISTED,
    MAX_ROWS,
    ParsedFile,
    Problem,
    Resolve,
    UnreadableFile,
    is_xlsx,
    parse,
    xlsx_as_csv,
)
from admin_app.admin.import_parse import _shown_words as shown_words
from admin_app.admin.messages import StaffError
from admin_app.admin.pages import ResourcePages, guard
from admin_app.i18n import format_number, lowered, ngettext
from admin_app.i18n import gettext as _
from admin_app.resources.spec import Relation, Resource
from admin_app.services import import_jobs, imports
from models.common import jsonable

PREVIEW_SECONDS = 30 * 60
MAX_CONFIRM_BYTES = 16 * 1024 * 1024  # the signed file in the confirmation form


def _resolver(view: ResourcePages) -> Resolve:
    def resolve(relation: Relation, wanted: set[str]) -> dict[str, int]:
        if not wanted:
            return {}
        shown = getattr(relation.target, relation.shown)
        with view.session_maker() as db:
            rows = db.execute(select(shown, relation.target.id).where(func.lower(shown).in_(wanted)))
            return {str(value).lower(): row_id for value, row_id in rows}

    return resolve


def _run(view: ResourcePages, request: Request, parsed: ParsedFile, *, dry_run: bool) -> imports.ImportResult:
    with view.writing(request) as ctx:
        return imports.import_rows(ctx, view.resource, [r for _n, r in parsed.rows], parsed.columns, dry_run=dry_run,
                                   numbers=[n for n, _r in parsed.rows])


def _queue(view: ResourcePages, request: Request, parsed: ParsedFile) -> int:
    """A large file: its checked rows become a job; the job's id."""
    with view.writing(request) as ctx:
        job = import_jobs.start(ctx, view.resource, [r for _n, r in parsed.rows], parsed.columns,
                                numbers=[n for n, _r in parsed.rows])
        return job.id


def _planned(view: ResourcePages, request: Request, parsed: ParsedFile) -> imports.ImportResult:
    """What the file would do; ids that name no row and conflicts become the rows' problems."""
    result = _run(view, request, parsed, dry_run=True)
    for index, message in result.problems:
        number = parsed.rows[index][0]
        parsed.problems.append(Problem(number, "ID", message.worded(_)))
    if result.problems:
        bad = {parsed.rows[i][0] for i, _m in result.problems}
        parsed.rows = [r for r in parsed.rows if r[0] not in bad]
        parsed.problems.sort(key=lambda p: p.row)
    return result


def _signer(request: Request, view: ResourcePages) -> URLSafeTimedSerializer:
    principal = request.app.state.authenticator.principal(request)
    salt = f"admin-import:{view.identity}:{principal.user_id if principal else 0}"
    return URLSafeTimedSerializer(request.app.state.settings.secret_key_value(), salt=salt)


def summary(view: ResourcePages, result: imports.ImportResult, problems: int) -> str:
    """ "Will create 3 tasks, update 2, leave 1 unchanged, 1 problem." """
    problem_words = ngettext("{count} problem", "{count} problems", problems).format(count=format_number(problems))
    return _("Will create {created} {rows}, update {updated}, leave {unchanged} unchanged, {problems}.").format(
        created=format_number(result.created), rows=view.noun(result.created), updated=format_number(result.updated),
        unchanged=format_number(result.unchanged), problems=problem_words)


def done_message(resource: Resource, result: imports.ImportResult) -> str:
    """ "42 tasks created, 3 updated, 5 unchanged." (an import's result, or an import job's)"""
    rows = lowered(_(resource.label if result.created == 1 else resource.plural))
    return _("{created} {rows} created, {updated} updated, {unchanged} unchanged.").format(
        created=format_number(result.created), rows=rows, updated=format_number(result.updated),
        unchanged=format_number(result.unchanged))


async def _read_upload(request: Request) -> tuple[bytes | None, str | None, bool]:
    """(file content, signed token, skip invalid) from the form: a file, or a confirmation."""
    async with request.form(max_files=1, max_part_size=MAX_CONFIRM_BYTES) as form:
        skip_invalid = form.get("skip_invalid") in ("1", "on", "true")
        token = form.get("preview")
        if isinstance(token, str) and token:
            return None, token, skip_invalid
        upload = form.get("csvfile")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return None, None, skip_invalid
        content = await upload.read()
        if is_xlsx(content, upload.filename):  # read as the CSV of its first sheet, from here on
            content = await anyio.to_thread.run_sync(xlsx_as_csv, content)
        return content, None, skip_invalid


async def import_page(view: ResourcePages, request: Request) -> Response:
    guard(view, request, view.resource.import_columns, "import")
    if request.method == "GET":
        return await _render(view, request)
    try:
        content, token, skip_invalid = await _read_upload(request)
    except UnreadableFile as exc:
        return await _render(view, request, status_code=400, error=_nothing_imported(str(exc)))
    if token is not None:
        try:
            content = _signer(request, view).loads(token, max_age=PREVIEW_SECONDS).encode()
        except SignatureExpired:
            return await _render(view, request, status_code=400, error=_("The preview has expired: upload the file again."))
        except BadSignature:
            return await _render(view, request, status_code=400, error=_("The preview is not valid: upload the file again."))
    elif content is None:
        return await _render(view, request, error=_("Choose a CSV or Excel (.xlsx) file."), status_code=400)
    parsed = await anyio.to_thread.run_sync(parse, view.resource, content, _resolver(view))
    if any(p.row <= 1 for p in parsed.problems):
        return await _render(view, request, parsed=parsed, status_code=400,
                             error=_("Nothing was imported: the file itself has a problem (below)."))
    if not parsed.total:
        return await _render(view, request, parsed=parsed, status_code=400, error=_("The file has no rows to import."))
    try:
        plan = await anyio.to_thread.run_sync(lambda: _planned(view, request, parsed))
    except StaffError as exc:
        return await _render(view, request, parsed=parsed, status_code=400, error=_nothing_imported(exc.message))
    if token is None or (parsed.problems and not skip_invalid):
        signed = _signer(request, view).dumps(content.decode("utf-8-sig"))
        error = None
        if parsed.problems and token is not None:
            error = _nothing_imported(_bad_rows(parsed))
        return await _render(view, request, parsed=parsed, preview=signed, error=error,
                             plan=summary(view, plan, len(parsed.problems)), skip_invalid=skip_invalid,
                             status_code=400 if error else 200)
    if not parsed.rows:
        return await _render(view, request, parsed=parsed, status_code=400, error=_("No valid rows to import."))
    if len(parsed.rows) >= request.app.state.settings.import_job_min_rows:
        job_id = await anyio.to_thread.run_sync(lambda: _queue(view, request, parsed))
        worker = request.app.state.job_worker
        if worker is not None:
            worker.wake()
        if parsed.problems:
            Flash.warning(request, ngettext("{count} invalid row skipped.", "{count} invalid rows skipped.", parsed.bad_rows)
                          .format(count=format_number(parsed.bad_rows)))
        return RedirectResponse(str(request.url_for("admin:view-job", job_id=job_id)), status_code=status.HTTP_303_SEE_OTHER)
    try:
        result = await anyio.to_thread.run_sync(lambda: _run(view, request, parsed, dry_run=False))
    except StaffError as exc:
        return await _render(view, request, parsed=parsed, status_code=400, error=_nothing_imported(exc.message))
    message = done_message(view.resource, result)
    if parsed.problems:  # skip_invalid: say what was left out, on the page
        bad = parsed.bad_rows
        return await _render(view, request, parsed=parsed, created=result.created,
                             notice=ngettext("{message} {count} invalid row skipped.", "{message} {count} invalid rows skipped.", bad)
                             .format(message=message, count=format_number(bad)))
    Flash.success(request, message)
    return RedirectResponse(request.url_for("admin:list", identity=view.identity), status_code=status.HTTP_303_SEE_OTHER)


def _nothing_imported(reason: str) -> str:
    return _("Nothing was imported: {reason}").format(reason=reason)


def _bad_rows(parsed: ParsedFile) -> str:
    return _("{bad} of {total} rows have problems (below). Fix them and upload again, or tick “skip invalid "
             "rows” and confirm.").format(bad=format_number(parsed.bad_rows), total=format_number(parsed.total))


def column_hints(resource: Resource) -> list[tuple[str, str]]:
    """(header, what it takes) for the page's help."""
    required = {n for n, i in resource.schemas.create.model_fields.items() if i.is_required()}
    out = []
    for name in resource.import_columns:
        found = resource.field(name)
        if isinstance(found, Relation):
            hint = f"a {found.target.__name__.lower()}'s {shown_words(found)}"
        elif getattr(found, "choices", None):
            hint = ", ".join(f"{jsonable(k)} ({v})" for k, v in found.choices.items())
        else:
            hint = "required" if name in required else ""
        out.append((name.replace("_", " "), hint))
    return out


async def _render(
    view: ResourcePages, request: Request, *, parsed: ParsedFile | None = None, error: str | None = None,
    notice: str | None = None, created: int | None = None, status_code: int = 200,
    preview: str | None = None, plan: str | None = None, skip_invalid: bool = False,
) -> Response:
    problems = parsed.problems if parsed else []
    context = {
        "model_view": view, "title": _("Import {rows} from CSV or Excel").format(rows=lowered(_(view.resource.plural))), "error": error,
        "notice": notice, "problems": problems[:MAX_LISTED], "more_problems": max(0, len(problems) - MAX_LISTED),
        "created": created, "max_rows": MAX_ROWS, "hints": column_hints(view.resource),
        "import_key": view.resource.import_key, "versioned": view.resource.versioned,
        "list_url": str(request.url_for("admin:list", identity=view.identity)),
        "preview": preview, "plan": plan, "skip_invalid": skip_invalid,
        "can_write": bool(parsed and parsed.rows),
    }
    return await view.templates.TemplateResponse(request, "sqladmin/import.html", context, status_code=status_code)
