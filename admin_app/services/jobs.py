"""Background jobs: a bulk edit or delete by filter over any number of rows, or an import of a
large file, in chunks.

Why not a job library: the well-kept ones need a broker (Celery, RQ, Dramatiq, arq: Redis or
RabbitMQ) or serve one database only (procrastinate, SAQ: PostgreSQL; huey: SQLite or Redis);
none runs on both the SQLite default and PostgreSQL with nothing else to install. So a job is a
row (models/job.py) and a worker thread in every server process (admin_app/job_worker.py) takes
queued ones.

A job goes through the matching rows in id order, `chunk_rows` at a time, each chunk one
transaction through the same write path as a bulk edit of one request (services/bulk.py: rules,
changed rows only, audit entries), and in that same transaction the job's row moves on (rows
done, the id done up to, a heartbeat). So whatever stops it, the rows done so far and the job's
count agree: they are one change set (every chunk writes into the first chunk's), which Undo
reverts, and the job resumes after the last id done. Rows added after the job started (higher
ids than `max_id`) are left alone; the filter is checked again in each chunk, so a row changed
meanwhile is taken as it is then.

An import job works the same way on the rows of the file (services/import_jobs.py).

Between chunks the worker reads the job's status: cancelling stops it (cancelled), and the
actor is checked again (still active, still allowed), as a request would be.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, object_session, sessionmaker

from admin_app import change_sets
from admin_app.errors import Conflict, InvalidInput, NotFound
from admin_app.i18n import N_
from admin_app.resources import Registry
from admin_app.resources.spec import Resource
from admin_app.services import bulk, import_jobs
from admin_app.services.actor import Actor
from admin_app.services.filtering import FilterBase, filters_of
from admin_app.services.records import check_references, stored
from admin_app.services.schemas import bulk_set_model
from admin_app.services.unit import WriteContext, unit_of_work
from auth.principal import Principal
from auth.roles import role_allows
from models import User
from models.common import jsonable, utcnow
from models.job import ACTIVE, Job, JobStatus

# A running job whose heartbeat is older than this lost its process (a chunk takes about a second).
STALE_AFTER = timedelta(seconds=60)
KINDS = {"update": "edit", "delete": "delete", "import": "import"}  # kind -> the permission it needs


def this_process() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


@dataclass(frozen=True)
class Progress:
    """What a job's page and `GET /api/jobs/{id}` show."""

    status: str  # as stored, but a running job whose process is gone is `interrupted`
    seconds_left: float | None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def resumable(self) -> bool:
        return self.status == JobStatus.interrupted.value


def progress(job: Job, now: datetime | None = None) -> Progress:
    now = now or utcnow()
    status = job.status
    beat = job.heartbeat_at or job.started_at
    if status in (JobStatus.running.value, JobStatus.cancelling.value) and beat is not None and now - beat > STALE_AFTER:
        status = JobStatus.interrupted.value
    left = None
    if status in ACTIVE and job.started_at is not None and job.done and job.heartbeat_at is not None:
        elapsed = (job.heartbeat_at - job.started_at).total_seconds()
        left = max(0.0, elapsed / job.done * max(job.total - job.done, 0))
    return Progress(status, left)


def permission(job: Job) -> str:
    return KINDS[job.kind]


def sees_all(principal: Principal) -> bool:
    """Admins (who read the audit trail) see everyone's jobs; others their own."""
    return principal.can("audit-entry", "list")


def may_see(principal: Principal, job: Job) -> bool:
    return job.actor_id == principal.user_id or sees_all(principal)


# --- starting, cancelling, resuming ---------------------------------------------------------
def start(
    ctx: WriteContext, resource: Resource, spec: FilterBase, *, values: dict[str, Any] | None = None,
    title: str, action: str = "", shown: str = "",
) -> Job:
    """Queue a bulk edit (`values`) or delete (no values) of every row `spec` matches now."""
    if spec.is_empty():
        raise InvalidInput(N_("filter: give at least one condition"))
    kind = "delete" if values is None else "update"
    if values is not None:
        values = stored(values)
        if not values:
            raise InvalidInput(N_("set: nothing to change"))
        check_references(ctx.db, resource, values)
    model, today = resource.model, ctx.now.date()
    conditions = filters_of(resource).conditions(spec, today)
    total, max_id = ctx.db.execute(select(func.count(), func.max(model.id)).where(*conditions)).one()
    job = Job(
        kind=kind, resource=resource.name, action=action, title=title[:120], shown=shown[:300],
        values=None if values is None else {k: jsonable(v) for k, v in values.items()},
        filter=spec.model_dump(mode="json", exclude_none=True), actor_id=ctx.actor.user_id,
        actor_label=ctx.actor.label[:254], via=ctx.actor.via, session_id=ctx.session_id,
        total=total, max_id=max_id or 0, created_at=ctx.now,
    )
    ctx.db.add(job)
    ctx.db.flush()
    return job


def get(db: Session, job_id: int) -> Job:
    job = db.get(Job, job_id)
    if job is None:
        raise NotFound(N_("Job %(id)s not found."), id=job_id)
    return job


def cancel(db: Session, job_id: int) -> Job:
    """Ask a job to stop: a queued or interrupted one stops now, a running one after its chunk."""
    job = get(db, job_id)
    status = progress(job).status
    if status in (JobStatus.queued.value, JobStatus.interrupted.value):
        _finish(job, JobStatus.cancelled)
    elif status == JobStatus.running.value:
        job.status = JobStatus.cancelling.value
    elif status != JobStatus.cancelling.value:
        raise Conflict(N_("Job %(id)s has ended (%(status)s)."), id=job_id, status=status)
    return job


def resume(db: Session, job_id: int) -> Job:
    """Queue an interrupted job again: it goes on after the last row it did."""
    job = get(db, job_id)
    if not progress(job).resumable:
        raise Conflict(N_("Job %(id)s is not interrupted (%(status)s)."), id=job_id, status=progress(job).status)
    job.status, job.owner = JobStatus.queued.value, ""
    return job


def interrupt(factory: sessionmaker[Session], owner: str) -> int:
    """A process stopping on purpose: its running jobs are interrupted, to be resumed."""
    with factory() as db:
        found = db.execute(update(Job).where(Job.owner == owner, Job.status.in_(ACTIVE[1:])).values(
            status=JobStatus.interrupted.value, heartbeat_at=utcnow())).rowcount
        db.commit()
        return found or 0


def claim(factory: sessionmaker[Session], owner: str) -> int | None:
    """Take the oldest queued job (one process gets it: the row is locked, others skip it)."""
    with factory() as db:
        oldest = (select(Job.id).where(Job.status == JobStatus.queued.value).order_by(Job.id).limit(1)
                  .with_for_update(skip_locked=True).scalar_subquery())
        now = utcnow()
        found = db.execute(
            update(Job).where(Job.id == oldest, Job.status == JobStatus.queued.value)
            .values(status=JobStatus.running.value, owner=owner, heartbeat_at=now,
                    started_at=func.coalesce(Job.started_at, now))
            .returning(Job.id)
        ).scalar()
        db.commit()
        return found


# --- doing it -------------------------------------------------------------------------------
def run(
    factory: sessionmaker[Session], registry: Registry, job_id: int, *, owner: str, chunk_rows: int,
    passwords: Any = None, stop: Callable[[], bool] = lambda: False,
) -> str:
    """Work on a claimed job chunk by chunk until it ends, is cancelled or `stop()` says so;
    returns its status then."""
    loaded: dict[str, Any] = {}  # an import's rows, read once
    while True:
        with factory() as db:
            job = get(db, job_id)
            if job.owner != owner:
                return job.status  # resumed elsewhere, or never ours
            stopping = stop()
            if job.status != JobStatus.running.value or stopping:
                return _settle(db, job, stopping=stopping)
            actor = Actor(job.actor_id, job.actor_label, job.via)
        try:
            with unit_of_work(factory, actor, passwords=passwords, session_id=job.session_id) as ctx:
                finished = _chunk(ctx, registry, job, chunk_rows, owner, loaded)
        except Superseded:
            continue  # rolled back; the next round reads what happened
        except Exception as exc:  # a rule refused, the database failed: the job stops, said why
            _fail(factory, job_id, exc)
            return JobStatus.failed.value
        if finished:
            return JobStatus.done.value


def _settle(db: Session, job: Job, *, stopping: bool) -> str:
    if job.status == JobStatus.cancelling.value:
        _finish(job, JobStatus.cancelled)
    elif job.status == JobStatus.running.value and stopping:
        job.status = JobStatus.interrupted.value
    db.commit()
    return job.status


def _finish(job: Job, status: JobStatus) -> None:
    job.status, job.finished_at = status.value, utcnow()
    if (db := object_session(job)) is not None:
        import_jobs.drop_input(db, job.id)


def _fail(factory: sessionmaker[Session], job_id: int, exc: Exception) -> None:
    message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    with factory() as db:
        job = get(db, job_id)
        _finish(job, JobStatus.failed)
        job.error = str(message)[:500]
        db.commit()


def _still_allowed(ctx: WriteContext, resource: Resource, job: Job) -> None:
    if job.actor_id is None:
        return  # the command line
    user = ctx.db.get(User, job.actor_id)
    if user is None or not user.is_active or not role_allows(user.role, resource.permission, permission(job)):
        raise InvalidInput(N_("%(actor)s may no longer do this; stopped."), actor=job.actor_label)


class Superseded(Exception):
    """The job changed under this chunk: cancelled, or resumed elsewhere while it seemed gone."""


def _chunk(ctx: WriteContext, registry: Registry, job: Job, chunk_rows: int, owner: str, loaded: dict[str, Any]) -> bool:
    """One chunk, one transaction: the next `chunk_rows` matching rows and the job's count."""
    resource = registry.get(job.resource)
    _still_allowed(ctx, resource, job)
    if job.change_set_id is not None:
        ctx.db.info["change_set"] = job.change_set_id  # every chunk adds to the first one's
    created = 0
    if job.kind == "import":
        upto, matched, changed, created = import_jobs.chunk(ctx, resource, job, chunk_rows, loaded)
    else:
        upto, matched, changed = _edit_chunk(ctx, registry, resource, job, chunk_rows)
    finished = upto >= job.max_id
    done, total_changed, total_created = job.done + matched, job.changed + changed, job.created + created
    if job.kind == "import":  # as an import of one request says it (change_sets.summary_of)
        ctx.db.info["change_summary"] = (
            f"Import: {total_created:,} created, {total_changed - total_created:,} updated", total_changed)
    elif not finished:  # the whole change set is summed up once, at the end (change_sets)
        ctx.db.info["change_summary"] = (
            f"{job.title}: {total_changed:,} {change_sets.name(resource.name, total_changed)}", total_changed)
    now = utcnow()
    values_now: dict[str, Any] = {
        "done": done, "changed": total_changed, "created": total_created, "last_id": upto, "heartbeat_at": now,
        "change_set_id": ctx.change_set_id if job.change_set_id is None else job.change_set_id,
    }
    if finished:
        values_now.update(status=JobStatus.done.value, finished_at=now)
        import_jobs.drop_input(ctx.db, job.id)
    # Last in the transaction, so a cancel waits on this row for a moment only. A job cancelled
    # or taken over since this chunk began does not move: the chunk rolls back, and the next
    # round of `run` sees why.
    moved = ctx.db.execute(update(Job).where(
        Job.id == job.id, Job.owner == owner, Job.last_id == job.last_id, Job.status == JobStatus.running.value,
    ).values(**values_now)).rowcount
    if moved != 1:
        raise Superseded(job.id)
    for key, value in values_now.items():
        setattr(job, key, value)
    return finished


def _edit_chunk(ctx: WriteContext, registry: Registry, resource: Resource, job: Job, chunk_rows: int) -> tuple[int, int, int]:
    """The next `chunk_rows` rows the filter matches, in id order: (up to id, matched, changed)."""
    model, filters = resource.model, filters_of(resource)
    conditions = filters.conditions(filters.model.model_validate(job.filter), job.created_at.date())
    window = [model.id > job.last_id, model.id <= job.max_id]
    upto = ctx.db.execute(
        select(model.id).where(*conditions, *window).order_by(model.id).offset(chunk_rows - 1).limit(1)
    ).scalar()
    upto = job.max_id if upto is None else upto
    chosen = [*conditions, model.id > job.last_id, model.id <= upto]
    ctx.describe(job.title)
    if job.kind == "delete":
        matched = changed = bulk.delete_where(ctx, resource, chosen, registry.referencing(model))
        return upto, matched, changed
    values = bulk_set_model(resource).model_validate(job.values or {}).model_dump(exclude_unset=True)
    result = bulk.update_rows(ctx, resource, values, conditions=chosen)
    return upto, result.matched, result.changed
