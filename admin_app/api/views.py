"""Saved views over the API: list mine and the shared ones, create, read, change, delete.

A view is run by name on its list's own route: `GET /api/tasks?view=<name>` (resource_router),
which answers the list's page shape with the view's filters and sort. The rules are
services.saved_views', the same as the admin's.

No `from __future__ import annotations`: the body models are built per registry, and FastAPI
reads the endpoints' parameter types from their signatures.
"""

from typing import Annotated, Any, ClassVar, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from admin_app.api.deps import CurrentUser, SessionDep
from admin_app.api.responses import LOCATION, error_responses, with_headers
from admin_app.resources import Registry
from admin_app.services import saved_views
from models import SavedView, SavedViewPublic
from models.common import MAX_DB_ID, NoControlCharacters, NonBlankText, Patch
from models.saved_view import COLUMNS_MAX, NAME_MAX, QUERY_MAX

ViewId = Annotated[int, Path(ge=1, le=MAX_DB_ID, description="The saved view's id")]
ViewName = Annotated[str, Field(min_length=1, max_length=NAME_MAX, description=(
    f"1 to {NAME_MAX} characters; runs of white space count as one space. Unique among my views "
    "of the list, and among the shared views of the list"
)), NonBlankText]
ViewQuery = Annotated[str, Field(max_length=QUERY_MAX, description=(
    "The admin list's query string: `search`, the filters as the admin list's URL names them "
    "(`status=pending,in_progress`, `assignee=3`, `due_after=2026-01-01`, `preset=open`), "
    "`sortBy` and `sort` (`asc`/`desc`), `pageSize` (25, 50, 100, 500). Checked as the list checks "
    "its URL (422 with the list's message) and stored normalised; other parameters are dropped"
)), NoControlCharacters]
ColumnName = Annotated[str, Field(min_length=1, max_length=64)]
Columns = Annotated[list[ColumnName], Field(max_length=COLUMNS_MAX // 2, description=(
    "The columns the admin list shows, in order (declared fields; never a secret); empty: the "
    "user's own column choice"
))]

ERRORS_403 = "Sharing (or changing a shared view) needs a role that may share views: admins"
ERRORS_404 = "No such view among mine and the shared ones of the lists I may read"
ERRORS_409 = "A view of that name exists already (mine, or a shared one of the list)"
ERRORS_422 = "Invalid input: field errors, or one message (a filter, sort or column the list refuses)"


class SavedViewList(BaseModel):
    items: list[SavedViewPublic] = Field(description="By list, then name")


def public(view: SavedView) -> SavedViewPublic:
    return SavedViewPublic.model_validate({
        **{k: getattr(view, k) for k in ("id", "resource", "name", "owner_id", "shared", "query",
                                         "created_at", "updated_at", "version")},
        "columns": [c for c in view.columns.split(",") if c],
    })


def build_views_router(registry: Registry) -> APIRouter:
    names = tuple(r.name for r in registry)
    ResourceName = Literal[names]  # type: ignore[valid-type]
    router = APIRouter(prefix="/api/views", tags=["views"])

    class SavedViewCreate(BaseModel):
        model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
            "resource": "task", "name": "My open urgent tasks",
            "query": "preset=open&priority=5&sortBy=due_date&sort=asc", "shared": False,
            "columns": ["id", "title", "status", "due_date"],
        }]})

        resource: ResourceName = Field(description="The list: " + ", ".join(f"`{n}`" for n in names))  # type: ignore[valid-type]
        name: ViewName
        shared: StrictBool = Field(default=False, description="Seen by everyone who may read the list; admins only")
        query: ViewQuery = ""
        columns: Columns = []

    class SavedViewUpdate(Patch):
        model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Urgent, by due date"}]})  # type: ignore[assignment]
        not_null: ClassVar[tuple[str, ...]] = ("name", "shared", "query", "columns")

        name: ViewName | None = None
        shared: StrictBool | None = Field(default=None, description="Share or unshare (admins only)")
        query: ViewQuery | None = Field(default=None, description="A new list state (see create)")
        columns: Columns | None = None

    def resource_of(name: str) -> Any:
        return registry.get(name)

    @router.get(
        "", response_model=SavedViewList, operation_id="list_saved_views", name="list_saved_views",
        summary="My saved views and the shared ones",
        description="Of the lists my role may read; `resource` keeps one list's.",
        responses=error_responses(401, 422),
    )
    def list_views(
        principal: CurrentUser, db: SessionDep,
        resource: Annotated[ResourceName | None, Query(description="Only this list's views")] = None,  # type: ignore[valid-type]
    ) -> Any:
        return SavedViewList(items=[public(v) for v in saved_views.visible(db, principal, registry, resource)])

    @router.post(
        "", status_code=201, response_model=SavedViewPublic, operation_id="create_saved_view",
        name="create_saved_view", summary="Save a view of a list",
        description="Personal unless `shared` (admins). Run it with `GET /api/<list>?view=<name>`.",
        responses={**with_headers(201, Location=LOCATION),
                   **error_responses(400, 401, 403, 409, 413, 422, e403=ERRORS_403, e409=ERRORS_409, e422=ERRORS_422)},
    )
    def create_view(body: SavedViewCreate, request: Request, response: Response, principal: CurrentUser,
                    db: SessionDep) -> Any:
        view = saved_views.create(db, principal, resource_of(body.resource), name=body.name, shared=body.shared,
                                  query=body.query, columns=body.columns)
        db.commit()
        response.headers["Location"] = str(request.url_for("get_saved_view", view_id=view.id))
        return public(view)

    @router.get(
        "/{view_id}", response_model=SavedViewPublic, operation_id="get_saved_view", name="get_saved_view",
        summary="One saved view", responses=error_responses(401, 404, 422, e404=ERRORS_404),
    )
    def get_view(view_id: ViewId, principal: CurrentUser, db: SessionDep) -> Any:
        return public(saved_views.get(db, principal, registry, view_id))

    @router.patch(
        "/{view_id}", response_model=SavedViewPublic, operation_id="update_saved_view", name="update_saved_view",
        summary="Rename, share or unshare, or give a view a new state",
        description="Only the fields sent change. Personal views: their owner; shared ones: admins.",
        responses=error_responses(400, 401, 403, 404, 409, 413, 422, e403=ERRORS_403, e404=ERRORS_404,
                                  e409=ERRORS_409, e422=ERRORS_422),
    )
    def update_view(view_id: ViewId, body: SavedViewUpdate, principal: CurrentUser, db: SessionDep) -> Any:
        view = saved_views.get(db, principal, registry, view_id)
        sent = body.model_fields_set
        saved_views.change(
            db, principal, view, resource_of(view.resource),
            name=body.name if "name" in sent else None,
            shared=body.shared if "shared" in sent else None,
            query=body.query if "query" in sent else None,
            columns=body.columns if "columns" in sent else None,
        )
        db.commit()
        return public(view)

    @router.delete(
        "/{view_id}", status_code=204, operation_id="delete_saved_view", name="delete_saved_view",
        summary="Delete a saved view", description="Personal views: their owner; shared ones: admins.",
        responses=error_responses(401, 403, 404, 422, e403=ERRORS_403, e404=ERRORS_404),
    )
    def delete_view(view_id: ViewId, principal: CurrentUser, db: SessionDep) -> Response:
        saved_views.delete(db, principal, saved_views.get(db, principal, registry, view_id))
        db.commit()
        return Response(status_code=204)

    return router
