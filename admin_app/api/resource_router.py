"""The JSON API of one declared table: keyset-paged lists, CRUD with versions, bulk edits.

No `from __future__ import annotations` here: the endpoints are built per table, and FastAPI
reads their parameter types from the signatures, which must be the generated models.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from admin_app.api import jobs as jobs_api
from admin_app.api.deps import (
    CurrentUser,
    SessionDep,
    WriteContextDep,
    authenticated,
    ensure_allowed,
    require,
)
from admin_app.api.reads import RowReader
from admin_app.api.responses import ETAG, LOCATION, error_responses, with_headers
from admin_app.api.schemas import BulkResult, api_models, json_typed
from admin_app.api.versions import IfMatch
from admin_app.errors import InvalidInput
from admin_app.resources.spec import Resource
from admin_app.services import bulk, records, saved_views
from admin_app.services import jobs as job_service
from admin_app.services.listing import listing_of
from auth.principal import Principal
from models import JobPublic
from models.common import MAX_DB_ID


def _path_param(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Call the row id parameter `name` in the route (`task_id`): the endpoints say `row_id`."""

    def rename(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(endpoint)

        if inspect.iscoroutinefunction(endpoint):

            @functools.wraps(endpoint)
            async def wrapper(**kwargs: Any) -> Any:  # type: ignore[misc]
                kwargs["row_id"] = kwargs.pop(name)
                return await endpoint(**kwargs)
        else:

            @functools.wraps(endpoint)
            def wrapper(**kwargs: Any) -> Any:
                kwargs["row_id"] = kwargs.pop(name)
                return endpoint(**kwargs)

        params = [p.replace(name=name) if p.name == "row_id" else p for p in signature.parameters.values()]
        wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        return wrapper

    return rename


def build_router(resource: Resource, referencing: bulk.Referencing = ()) -> APIRouter:
    assert resource.api is not None
    api, schemas, perm = resource.api, resource.schemas, resource.permission
    noun, plural, label = resource.name, api.tag, resource.label.lower()
    Public = schemas.public
    Create, Update, Replace = (json_typed(m) for m in (schemas.create, schemas.update, schemas.replace))
    models = api_models(resource)
    ListParams, Page, BulkRequest = models.list_params, models.page, models.bulk_request
    listing = listing_of(resource)
    shown = [r.name for r in resource.relations if r.name in Public.model_fields]
    RowId = Annotated[int, Path(ge=1, le=MAX_DB_ID, description=f"The {label}'s id")]
    by_id = _path_param(f"{noun}_id")
    versions = (
        "The version you read is required, as `If-Match` (the ETag from GET) or `version` in the "
        f"body: a {label} changed since is refused (412 for If-Match, 409 for the body) and left as it is."
    )
    router = APIRouter(prefix=api.prefix, tags=[plural])

    def public(db: Any, row_id: int, response: Response) -> Any:
        """The row as the API shows it, relations included; its version is the ETag."""
        row = records.load(db, resource, row_id, shown)
        response.headers["ETag"] = f'"{row.version}"'
        return Public.model_validate(row)

    def save(ctx: Any, row_id: int, body: Any, precondition: Any, response: Response, change: Any) -> Any:
        """PUT or PATCH: the version from If-Match or the body, checked; the row as it is stored now."""
        row = records.get(ctx.db, resource, row_id)
        body = body.model_copy(update={"version": precondition.expected(body.version)})
        with precondition.checked():
            change(ctx, resource, row, body)
        ctx.db.commit()
        return public(ctx.db, row_id, response)

    def run_view(db: Any, principal: Principal, params: Any) -> tuple[Any, str]:
        """A saved view's filter and sort, by name; alone but for limit, cursor and count."""
        mixed = sorted(params.model_fields_set - {"view", "limit", "cursor", "count"})
        if mixed:
            raise InvalidInput(f"view: give it alone (with limit, cursor and count), not with {', '.join(mixed)}.")
        state = saved_views.state_of(resource, saved_views.by_name(db, principal, resource, params.view))
        return state.spec, state.sort

    @router.get(
        "", response_model=Page, response_model_exclude_unset=True, operation_id=f"list_{plural}", name=f"list_{plural}",
        summary=f"List {plural}: filter, sort, page",
        description="Keyset pagination: follow `next_cursor` until it is null; pages stay fast "
        "however deep. `total` only with `count=true`. `view=<name>` runs a saved view (/api/views): "
        "the same page, with the view's filters and sort.",
        dependencies=[Depends(require(perm, "list"))],
        responses=error_responses(401, 403, 404, 422, e404="No saved view of that name (with `view`)"),
    )
    def list_rows(params: Annotated[ListParams, Query()], db: SessionDep, principal: CurrentUser) -> Any:
        spec, sort = params.filter_spec(), params.sort
        if params.view is not None:
            spec, sort = run_view(db, principal, params)
        page = listing.page(db, spec, sort=sort, limit=params.limit, cursor=params.cursor, relations=shown)
        extra = {"total": listing.count(db, spec)} if params.count else {}
        return Page(items=[Public.model_validate(row) for row in page.items], next_cursor=page.next_cursor, **extra)

    @router.post(
        "", status_code=201, response_model=Public, operation_id=f"create_{noun}", name=f"create_{noun}",
        summary=f"Create a {label}", description="Answers 201 with the row and its URL in `Location`.",
        dependencies=[Depends(require(perm, "create"))],
        responses={**with_headers(201, ETag=ETAG, Location=LOCATION), **error_responses(400, 401, 403, 409, 413, 422)},
    )
    def create_row(body: Create, request: Request, response: Response, ctx: WriteContextDep) -> Any:
        row = records.create(ctx, resource, body)
        ctx.db.commit()
        response.headers["Location"] = str(request.url_for(f"get_{noun}", **{f"{noun}_id": row.id}))
        return public(ctx.db, row.id, response)

    if BulkRequest is not None:

        def may_bulk_edit(principal: CurrentUser) -> Principal:
            """Refuse early a role that may neither edit nor delete; the body decides which is needed."""
            if not (principal.can(perm, "edit") or principal.can(perm, "delete")):
                raise HTTPException(status.HTTP_403_FORBIDDEN, f"The {principal.role.value} role may not edit or delete {perm}.")
            return principal

        @router.post(
            "/bulk", response_model=BulkResult, operation_id=f"bulk_{plural}", name=f"bulk_{plural}",
            summary=f"Change or delete many {plural} at once",
            description=f"By `ids` (at most {bulk.MAX_BULK_IDS:,}) or by `filter` (one statement, no limit); "
            "`set` needs the edit permission, `delete` the delete permission. All or nothing. Rows that "
            "already have the values are left as they are (their version stays): `count` says how many "
            "changed, `matched` how many were chosen.",
            responses={**error_responses(400, 401, 403, 413, 422), 202: {
                "model": JobPublic, "description": 'With `"background": true`: the job, queued'}},
        )
        def bulk_rows(
            body: BulkRequest, ctx: WriteContextDep, principal: Annotated[Principal, Depends(may_bulk_edit)],
            request: Request,
        ) -> Any:
            ensure_allowed(principal, perm, "delete" if body.delete else "edit")
            if body.background:
                values = None if body.delete else body.set.model_dump(exclude_unset=True)
                job = job_service.start(ctx, resource, body.filter, values=values,
                                        title="Delete" if body.delete else "Edit")
                ctx.db.commit()
                jobs_api.wake(request)
                return JSONResponse(jsonable_encoder(jobs_api.public(job)), status_code=status.HTTP_202_ACCEPTED)
            if body.delete:
                count = bulk.delete_rows(ctx, resource, referencing, ids=body.ids, spec=body.filter)
                result = BulkResult(count=count, matched=count)
            else:
                done = bulk.update_rows(
                    ctx, resource, body.set.model_dump(exclude_unset=True), ids=body.ids, spec=body.filter
                )
                result = BulkResult(count=done.changed, matched=done.matched)
            ctx.db.commit()
            return result

    reader = RowReader.build(resource, Public, shown)

    def read_row(request: Request, row_id: int) -> Response:
        """Who asks, whether they may, the row and its JSON, in one worker thread on one
        autocommit connection (the most frequent request of scripts: no dependency of its own,
        each of which is a thread hop, and no BEGIN/ROLLBACK around two primary-key reads)."""
        state = request.app.state
        with state.read_engine.connect() as connection:
            ensure_allowed(authenticated(request, state.authenticator, connection), perm, "details")
            if reader is None:
                with state.session_factory(bind=connection) as db:
                    row = Public.model_validate(records.load(db, resource, row_id, shown))
            else:
                found = reader.read(connection, row_id)
                if found is None:
                    raise records.not_found(resource, row_id)
                row = Public.model_validate(found)
        body = row.model_dump_json(by_alias=True)  # as FastAPI serializes a response model
        return Response(body, media_type="application/json", headers={"ETag": f'"{row.version}"'})

    @router.get(
        "/{" + f"{noun}_id" + "}", response_model=Public, operation_id=f"get_{noun}", name=f"get_{noun}",
        summary=f"One {label}", description='The `ETag` header carries the version (`"3"`).',
        responses={**with_headers(200, ETag=ETAG), **error_responses(401, 403, 404, 422)},
    )
    @by_id
    async def get_row(row_id: RowId, request: Request) -> Response:
        return await run_in_threadpool(read_row, request, row_id)

    if Replace is not None:

        @router.put(
            "/{" + f"{noun}_id" + "}", response_model=Public, operation_id=f"replace_{noun}", name=f"replace_{noun}",
            summary=f"Replace a {label}",
            description="Every field is set: those left out take their defaults. " + versions,
            dependencies=[Depends(require(perm, "edit"))],
            responses={**with_headers(200, ETag=ETAG), **error_responses(400, 401, 403, 404, 409, 412, 413, 422, 428)},
        )
        @by_id
        def replace_row(row_id: RowId, body: Replace, response: Response, ctx: WriteContextDep, precondition: IfMatch) -> Any:
            return save(ctx, row_id, body, precondition, response, records.replace)

    @router.patch(
        "/{" + f"{noun}_id" + "}", response_model=Public, operation_id=f"update_{noun}", name=f"update_{noun}",
        summary=f"Change some fields of a {label}",
        description="Only the fields sent change. " + api.notes.get("update", "") + versions,
        dependencies=[Depends(require(perm, "edit"))],
        responses={**with_headers(200, ETag=ETAG), **error_responses(400, 401, 403, 404, 409, 412, 413, 422, 428)},
    )
    @by_id
    def update_row(row_id: RowId, body: Update, response: Response, ctx: WriteContextDep, precondition: IfMatch) -> Any:
        return save(ctx, row_id, body, precondition, response, records.update)

    @router.delete(
        "/{" + f"{noun}_id" + "}", status_code=204, operation_id=f"delete_{noun}", name=f"delete_{noun}",
        summary=f"Delete a {label}",
        description=api.notes.get("delete", "") + f"`If-Match` is optional here: with it, a {label} changed "
        "since is refused (412) and kept; without it, the current version is deleted.",
        dependencies=[Depends(require(perm, "delete"))],
        responses=error_responses(400, 401, 403, 404, 409, 412, 422),
    )
    @by_id
    def delete_row(row_id: RowId, ctx: WriteContextDep, precondition: IfMatch) -> Response:
        row = records.get(ctx.db, resource, row_id)
        with precondition.checked():
            bulk.delete_row(ctx, resource, row, referencing, precondition.expected(None, required=False))
        ctx.db.commit()
        return Response(status_code=204)

    return router
