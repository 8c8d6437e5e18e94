"""Jobs in the admin: the list, one job's progress page (its bar follows `/progress`), and its
Cancel and Resume (POST only). A user sees their own jobs; admins (who read the audit) see all.
"""

from __future__ import annotations

from typing import Any

import anyio
from sqladmin import BaseView, Flash, expose
from sqlalchemy import select
from starlette import status
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from admin_app.admin.importer import done_message as import_done_message
from admin_app.admin.messages import StaffError, staff_errors
from admin_app.i18n import format_number, gettext, lazy_gettext, lowered
from admin_app.resources.spec import Resource
from admin_app.services import imports, jobs
from auth.principal import Principal
from models import Job
from models.common import parse_db_id

PAGE = 50


def done_message(resource: Resource, count: int, done: str, **params: str) -> str:
    """ "186 tasks marked done", in the request's language (a bulk action's or a job's result)."""
    rows = lowered(gettext(resource.label if count == 1 else resource.plural))
    return gettext("{count} {rows} {done}").format(count=format_number(count), rows=rows,
                                                     done=gettext(done).format(**params))


class JobsView(BaseView):
    name = lazy_gettext("Jobs")
    icon = "fa-solid fa-bars-progress"
    identity = "jobs"

    def _principal(self, request: Request) -> Principal:
        return request.app.state.authenticator.principal(request)

    def is_accessible(self, request: Request) -> bool:
        return True  # each route checks: the job's owner, or an admin

    def is_visible(self, request: Request) -> bool:
        """In the menu for whoever may edit or delete rows of some table (a viewer starts none)."""
        principal = self._principal(request)
        return principal is not None and any(
            principal.can(r.permission, "edit") or principal.can(r.permission, "delete")
            for r in request.app.state.resources)

    def _job(self, request: Request, db: Any) -> tuple[Job, Resource]:
        principal = self._principal(request)
        job_id = parse_db_id(str(request.path_params.get("job_id", "")))
        job = db.get(Job, job_id) if job_id is not None else None
        if job is None or principal is None or not jobs.may_see(principal, job):
            raise HTTPException(status.HTTP_404_NOT_FOUND)
        resource = request.app.state.resources.get(job.resource)
        if not principal.can(resource.permission, jobs.permission(job)):
            raise HTTPException(status.HTTP_403_FORBIDDEN)
        return job, resource

    def _read(self, request: Request) -> tuple[Job, Resource]:
        with request.app.state.session_factory() as db:
            job, resource = self._job(request, db)
            db.expunge(job)
            return job, resource

    # SQLAdmin takes a page's menu link from the exposed method last in name order: this one.
    @expose("/jobs", identity="jobs")
    async def jobs_page(self, request: Request) -> Response:
        principal = self._principal(request)
        if principal is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN)

        def read() -> list[Job]:
            query = select(Job).order_by(Job.id.desc()).limit(PAGE)
            if not jobs.sees_all(principal):
                query = query.where(Job.actor_id == principal.user_id)
            with request.app.state.session_factory() as db:
                return list(db.execute(query).scalars())

        rows = await anyio.to_thread.run_sync(read)
        return await self.templates.TemplateResponse(request, "sqladmin/jobs.html", {
            "jobs": rows, "progress": jobs.progress, "resources": request.app.state.resources,
        })

    @expose("/jobs/{job_id}", identity="job")
    async def job_page(self, request: Request) -> Response:
        job, resource = await anyio.to_thread.run_sync(self._read, request)
        state = jobs.progress(job)
        message = counts = None
        if job.kind == "import":  # "42 tasks created, 3 updated, 5 unchanged.", so far or in all
            counts = import_done_message(resource, imports.ImportResult(
                job.created, job.changed - job.created, job.done - job.changed))
            message = counts if state.status == "done" else None
        elif state.status == "done":
            action = next((a for a in resource.actions if a.slug == job.action), None)
            if action is not None:
                message = done_message(resource, job.changed, action.done, value=job.shown)
        return await self.templates.TemplateResponse(request, "sqladmin/job.html", {
            "job": job, "state": state, "resource": resource, "message": message, "counts": counts,
            "list_url": str(request.url_for("admin:list", identity=resource.name)),
        })

    @expose("/jobs/{job_id}/progress", identity="job-progress")
    async def job_progress(self, request: Request) -> Response:
        """What the page's bar reads each second (any process: it is the job's row)."""
        job, _resource = await anyio.to_thread.run_sync(self._read, request)
        state = jobs.progress(job)
        return JSONResponse({
            "status": state.status, "done": job.done, "total": job.total, "changed": job.changed,
            "seconds_left": state.seconds_left,
            "text": gettext("{done} of {total} rows").format(done=format_number(job.done), total=format_number(job.total)),
            "left": _time_left(state.seconds_left),
        }, headers={"Cache-Control": "no-store"})

    @expose("/jobs/{job_id}/cancel", methods=["POST"], identity="job-cancel")
    async def job_cancel(self, request: Request) -> Response:
        return await self._change(request, jobs.cancel, gettext("Cancelling: the rows done so far stay done."))

    @expose("/jobs/{job_id}/resume", methods=["POST"], identity="job-resume")
    async def job_resume(self, request: Request) -> Response:
        return await self._change(request, jobs.resume, gettext("Resumed after the last row done."))

    async def _change(self, request: Request, change: Any, said: str) -> Response:
        def work() -> int:
            with request.app.state.session_factory() as db, staff_errors():
                job, _resource = self._job(request, db)
                change(db, job.id)
                db.commit()
                return job.id

        try:
            job_id = await anyio.to_thread.run_sync(work)
        except StaffError as exc:
            raise HTTPException(exc.status_code if exc.status_code < 500 else 400, exc.message) from exc
        Flash.success(request, said)
        worker = request.app.state.job_worker
        if worker is not None:
            worker.wake()
        return RedirectResponse(str(request.url_for("admin:view-job", job_id=job_id)),
                                status_code=status.HTTP_303_SEE_OTHER)


def _time_left(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return gettext("about {count} s left").format(count=format_number(max(1, round(seconds))))
    return gettext("about {count} min left").format(count=format_number(round(seconds / 60)))
