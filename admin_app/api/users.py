"""Staff accounts over JSON (admin role): the same service rules as the admin's user pages."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import ConfigDict, Field
from sqlmodel import SQLModel

from admin_app.api.deps import PasswordsDep, SessionDep, require
from admin_app.api.responses import error_responses
from admin_app.api.versions import IfMatch
from admin_app.services import users as user_service
from admin_app.services.pagination import MAX_CURSOR_LENGTH, sort_choices
from admin_app.services.users import USER_SORTS
from auth.principal import Principal
from models import UserCreate, UserFilter, UserPublic, UserUpdate
from models.common import MAX_DB_ID

router = APIRouter(prefix="/api/users", tags=["users"])

UserId = Annotated[int, Path(ge=1, le=MAX_DB_ID, description="The user's id")]
UserSort = Literal[sort_choices(USER_SORTS)]  # type: ignore[valid-type]
FILTER_FIELDS = frozenset(UserFilter.model_fields)


class UserListParams(UserFilter):
    """Query parameters of the user list: a UserFilter plus sort and paging."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    sort: UserSort = Field(  # type: ignore[valid-type]
        default="id", description="Column to sort by, `-` first for descending; ties by id"
    )
    limit: int = Field(default=50, ge=1, le=200, description="Rows per page (1-200)")
    cursor: str | None = Field(
        default=None,
        max_length=MAX_CURSOR_LENGTH,
        description="`next_cursor` of the previous page, with the same sort",
    )
    count: bool = Field(default=False, description="Add `total`, the number of matching users")

    def user_filter(self) -> UserFilter:
        return UserFilter.model_validate(self.model_dump(include=FILTER_FIELDS, exclude_unset=True))


class UserPage(SQLModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [UserPublic.model_config["json_schema_extra"]["examples"][0]],  # type: ignore[index]
                    # FastAPI drops nulls from examples in the schema: show a cursor
                    "next_cursor": "eyJzIjoiaWQiLCJ2Ijo3LCJpIjo3fQ",
                    "total": 12,
                }
            ]
        }
    )  # type: ignore[assignment]

    items: list[UserPublic]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")
    total: int | None = Field(default=None, description="Matching users; only with `count=true`")


def _admin(action: str) -> list[Any]:
    return [Depends(require("user", action))]


@router.get(
    "",
    response_model=UserPage,
    response_model_exclude_unset=True,
    summary="List users: search, filter, page",
    dependencies=_admin("list"),
    responses=error_responses(401, 403, 422),
)
def list_users(params: Annotated[UserListParams, Query()], db: SessionDep) -> UserPage:
    spec = params.user_filter()
    page = user_service.list_users(
        db, spec, sort=params.sort, limit=params.limit, cursor=params.cursor
    )
    extra = {"total": user_service.count_matching_users(db, spec)} if params.count else {}
    return UserPage(
        items=[UserPublic.model_validate(user) for user in page.items],
        next_cursor=page.next_cursor,
        **extra,
    )


@router.post(
    "",
    status_code=201,
    response_model=UserPublic,
    summary="Create a user",
    description="The password must follow the password rules. 201 with `Location`.",
    dependencies=_admin("create"),
    responses=error_responses(400, 401, 403, 409, 413, 422, e409="A user with this email exists"),
)
def create_user(
    body: UserCreate, request: Request, response: Response, db: SessionDep, passwords: PasswordsDep
) -> UserPublic:
    user = user_service.create_user(
        db, passwords, email=body.email, password=body.password, role=body.role,
        full_name=body.full_name, is_active=body.is_active,
    )
    db.commit()
    response.headers["Location"] = str(request.url_for("get_user", user_id=user.id))
    return UserPublic.model_validate(user)


@router.get(
    "/{user_id}",
    response_model=UserPublic,
    summary="One user",
    description='The `ETag` header carries the version (`"3"`).',
    dependencies=_admin("details"),
    responses=error_responses(401, 403, 404, 422),
)
def get_user(user_id: UserId, response: Response, db: SessionDep) -> UserPublic:
    user = user_service.get_user(db, user_id)
    response.headers["ETag"] = f'"{user.version}"'
    return UserPublic.model_validate(user)


@router.patch(
    "/{user_id}",
    response_model=UserPublic,
    summary="Change a user: role, active, name, email, password",
    description="A new password, a role change or deactivation ends that user's other "
    "sessions; a new password or deactivation also revokes their API tokens (reactivating "
    "brings none back). The last active admin cannot be demoted or deactivated (409). The version you "
    "read is required, as `If-Match` (the ETag from GET) or `version` in the body: a user "
    "changed since is refused (412 for If-Match, 409 for the body).",
    responses=error_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
)
def update_user(
    user_id: UserId,
    body: UserUpdate,
    response: Response,
    db: SessionDep,
    passwords: PasswordsDep,
    principal: Annotated[Principal, Depends(require("user", "edit"))],
    precondition: IfMatch,
) -> UserPublic:
    user = user_service.get_user(db, user_id)
    body = body.model_copy(update={"version": precondition.expected(body.version)})
    # Changing my own password here keeps the session I am using, as /api/auth/password does.
    keep = principal.session_id if user.id == principal.user_id else None
    with precondition.checked():
        user_service.update_user(db, passwords, user, body, keep_session_id=keep)
    db.commit()
    db.refresh(user)  # the version and updated_at as stored
    response.headers["ETag"] = f'"{user.version}"'
    return UserPublic.model_validate(user)


@router.delete(
    "/{user_id}",
    status_code=204,
    summary="Delete a user",
    description="Their tasks stay, unassigned. The last active admin cannot be deleted, and "
    "nobody can delete their own account (409).",
    dependencies=_admin("delete"),
    responses=error_responses(401, 403, 404, 409, 422),
)
def delete_user(user_id: UserId, db: SessionDep) -> Response:
    user_service.delete_user(db, user_service.get_user(db, user_id))
    db.commit()
    return Response(status_code=204)
