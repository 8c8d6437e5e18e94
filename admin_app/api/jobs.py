"""Jobs over the API: a bulk request with `"background": true` starts one (202); these routes
follow, cancel and resume it. A user sees their own jobs; admins (who read the audit) see all."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel
from sqlalchemy import select

from admin_app.api.deps import CurrentUser, SessionDep, ensure_allowed
from admin_app.api.responses import error_responses
from admin_app.errors import NotFound
from admin_app.i18n import N_
from admin_app.services import jobs
from auth.principal import Principal
from models import Job, JobPublic
from models.common import MAX_DB_ID

router = APIRouter(prefix="/api/jobs", tags=["jobs"])
JobId = Annotated[int, Path(ge=1, le=MAX_DB_ID, description="The job's id")]
RECENT = 50


class JobList(BaseModel):
    items: list[JobPublic]


def public(job: Job) -> JobPublic:
    state = jobs.progress(job)
    return JobPublic.model_validate({**job.model_dump(), "status": state.status, "seconds_left": state.seconds_left})


def visible(request: Request, db: Any, principal: Principal, job_id: int) -> Job:
    """The job, if this user may see it (theirs, or an admin's view); 404 otherwise."""
    job = db.get(Job, job_id)
    if job is None or not jobs.may_see(principal, job):
        raise NotFound(N_("Job %(id)s not found."), id=job_id)
    ensure_allowed(principal, request.app.state.resources.get(job.resource).permission, jobs.permission(job))
    return job


@router.get("", response_model=JobList, operation_id="list_jobs", summary=f"The {RECENT} newest jobs",
            description="Your own; an admin sees everyone's.", responses=error_responses(401, 422))
def list_jobs(principal: CurrentUser, db: SessionDep) -> JobList:
    query = select(Job).order_by(Job.id.desc()).limit(RECENT)
    if not jobs.sees_all(principal):
        query = query.where(Job.actor_id == principal.user_id)
    return JobList(items=[public(j) for j in db.execute(query).scalars()])


@router.get("/{job_id}", response_model=JobPublic, operation_id="get_job", summary="A job and its progress",
            description="`done` of `total` rows, `seconds_left` at the rate so far; `status` queued, running, "
            "cancelling, cancelled, interrupted (its process stopped: resume it), failed (`error` says why) "
            "or done. `change_set_id`: the rows done so far, one change set (revert it to undo them).",
            responses=error_responses(401, 403, 404, 422))
def get_job(job_id: JobId, request: Request, principal: CurrentUser, db: SessionDep) -> JobPublic:
    return public(visible(request, db, principal, job_id))


@router.post("/{job_id}/cancel", response_model=JobPublic, operation_id="cancel_job", summary="Cancel a job",
             description="A queued or interrupted job stops now; a running one after the chunk it is on "
             "(`cancelling`, then `cancelled`). The rows done so far stay done. 409 once it has ended.",
             responses=error_responses(401, 403, 404, 409, 422))
def cancel_job(job_id: JobId, request: Request, principal: CurrentUser, db: SessionDep) -> JobPublic:
    job = jobs.cancel(db, visible(request, db, principal, job_id).id)
    db.commit()
    return public(job)


@router.post("/{job_id}/resume", response_model=JobPublic, operation_id="resume_job", summary="Resume an interrupted job",
             description="It goes on after the last row it did, in the same change set. 409 unless interrupted.",
             responses=error_responses(401, 403, 404, 409, 422))
def resume_job(job_id: JobId, request: Request, principal: CurrentUser, db: SessionDep) -> JobPublic:
    job = jobs.resume(db, visible(request, db, principal, job_id).id)
    db.commit()
    wake(request)
    return public(job)


def wake(request: Request) -> None:
    worker = request.app.state.job_worker
    if worker is not None:
        worker.wake()
