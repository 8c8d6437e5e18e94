"""Import jobs: an import of a large file as a job (services/jobs.py runs it).

It works as a bulk edit's job does, on the rows of the file (kept in `job_input` until the job
ends), in the file's order, a fifth of `chunk_rows` at a time (rows that update an existing row
are written one by one, slower than a bulk edit's); each chunk is `services.imports` on its
rows, so the rules, the version check and the audit are those of an import of one request.
The preview checked the whole file first; a row that conflicts since (changed by someone else
meanwhile) stops the job as `failed`, the rows before it done, one change set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from admin_app.errors import InvalidInput
from admin_app.i18n import N_
from admin_app.resources.spec import Resource
from admin_app.services import imports
from admin_app.services.unit import WriteContext
from models.common import jsonable
from models.job import Job, JobInput

SHARE = 5  # an import's chunk is chunk_rows // SHARE rows of the file


def start(
    ctx: WriteContext, resource: Resource, rows: Sequence[imports.ImportRow], columns: set[str], *,
    numbers: Sequence[int] | None = None, title: str = "Import",
) -> Job:
    """Queue an import of `rows` (a file the preview checked), only `columns` of rows it updates;
    `numbers` are the rows' numbers in the file (a refusal names the row)."""
    if not rows:
        raise InvalidInput(N_("The file has no rows to import."))
    job = Job(
        kind="import", resource=resource.name, title=title[:120], actor_id=ctx.actor.user_id,
        actor_label=ctx.actor.label[:254], via=ctx.actor.via, session_id=ctx.session_id,
        total=len(rows), max_id=len(rows), created_at=ctx.now,
    )
    ctx.db.add(job)
    ctx.db.flush()
    given = list(rows)
    numbers = list(numbers) if numbers is not None else list(range(2, len(given) + 2))
    ctx.db.add(JobInput(job_id=job.id, columns=sorted(columns), rows=[
        {"values": {k: jsonable(v) for k, v in r.values.model_dump().items()}, "id": r.row_id, "version": r.version,
         "row": number}
        for r, number in zip(given, numbers, strict=True)
    ]))
    ctx.db.flush()
    return job


def drop_input(db: Session, job_id: int | None) -> None:
    """An ended job's rows to import are of no more use (an edit or a delete has none)."""
    db.execute(delete(JobInput).where(JobInput.job_id == job_id))


def chunk(
    ctx: WriteContext, resource: Resource, job: Job, chunk_rows: int, loaded: dict[str, Any],
) -> tuple[int, int, int, int]:
    """The file's next rows after `last_id` imported: (up to row, rows, changed, created)."""
    upto = min(job.last_id + max(1, chunk_rows // SHARE), job.max_id)
    if "rows" not in loaded:
        found = ctx.db.get(JobInput, job.id)
        if found is None:
            raise InvalidInput(N_("The rows to import are no longer stored; import the file again."))
        loaded["rows"], loaded["columns"] = found.rows, set(found.columns)
    create = resource.schemas.create
    given = loaded["rows"][job.last_id:upto]
    rows = [imports.ImportRow(create.model_validate(r["values"]), r["id"], r["version"]) for r in given]
    result = imports.import_rows(ctx, resource, rows, loaded["columns"], numbers=[r["row"] for r in given])
    return upto, len(rows), result.created + result.updated, result.created
