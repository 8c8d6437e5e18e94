"""Login, logout, my account, my sessions and my API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from pydantic import ConfigDict, Field
from sqlmodel import SQLModel
from starlette.concurrency import run_in_threadpool

from admin_app.api.deps import (
    AuthenticatorDep,
    CurrentUser,
    PasswordsDep,
    SessionDep,
    require,
)
from admin_app.api.responses import error_responses
from admin_app.errors import NotFound
from admin_app.services import users as user_service
from auth import sessions as session_store
from auth import tokens as token_store
from auth.authenticator import (
    BUSY_MESSAGE,
    ENROLMENT_NEEDED,
    INACTIVE_ACCOUNT,
    INVALID_CODE,
    INVALID_CREDENTIALS,
    SECOND_FACTOR_NEEDED,
    LoginOutcome,
    throttled_message,
)
from auth.principal import Principal
from models import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenPublic,
    AuthSessionPublic,
    UserPublic,
    UserUpdate,
)
from models.common import MAX_DB_ID, NoControlCharacters
from models.user import PASSWORD_SCHEMA

router = APIRouter(prefix="/api/auth", tags=["auth"])
Account = Annotated[Principal, Depends(require("account", "*"))]
# A session's id is a SHA-256 hex digest; anything else names no session (and a NUL byte
# would reach PostgreSQL, which refuses it).
SessionId = Annotated[str, Path(max_length=64, description="The session's id"), NoControlCharacters]
TokenId = Annotated[int, Path(ge=1, le=MAX_DB_ID, description="The token's id")]


class LoginRequest(SQLModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [
            {"email": "admin@example.com", "password": "a long passphrase", "code": "123456"}
        ]},
    )  # type: ignore[assignment]

    email: str = Field(max_length=254)
    password: str = Field(max_length=4096)
    code: str | None = Field(
        default=None, max_length=64,
        description="The authenticator app's current code, or a recovery code; required when "
        "the account has two-factor sign-in",
    )


class PasswordChange(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    current_password: str = Field(max_length=4096)
    new_password: str = Field(max_length=4096, json_schema_extra=PASSWORD_SCHEMA)


ERRORS = error_responses(401, 403)


@router.post(
    "/login",
    response_model=UserPublic, operation_id="login",
    summary="Log in and receive the session cookie",
    responses=error_responses(
        400, 401, 403, 413, 422, 429,
        e401="Invalid email or password; or the account has two-factor sign-in and `code` is "
        "missing or wrong",
        e403="Account deactivated, or its role requires two-factor sign-in and it has none yet "
        "(set it up at /admin), or a cross-site request",
        e429="Too many failed logins, or too many logins waiting for a password check; "
        "see Retry-After",
    ),
)
async def login(
    body: LoginRequest, request: Request, response: Response, authenticator: AuthenticatorDep,
) -> UserPublic:
    result = await authenticator.attempt(request, body.email, body.password, code=body.code)
    if result.outcome is LoginOutcome.busy:
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS, detail=BUSY_MESSAGE,
            headers={"Retry-After": str(result.retry_after)},
        )
    if result.outcome is LoginOutcome.throttled:
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail=throttled_message(result.retry_after or 60),
            headers={"Retry-After": str(result.retry_after)},
        )
    if result.outcome is LoginOutcome.inactive:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=INACTIVE_ACCOUNT)
    if result.outcome is LoginOutcome.enrol:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=ENROLMENT_NEEDED)
    if result.outcome is LoginOutcome.second_factor:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail=SECOND_FACTOR_NEEDED)
    if result.outcome is LoginOutcome.bad_code:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail=INVALID_CODE)
    if result.outcome is not LoginOutcome.ok:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail=INVALID_CREDENTIALS)
    response.set_cookie(value=result.session_cookie, **authenticator.sessions.cookie_options())
    return await run_in_threadpool(_user_public, request, result.user_id)


def _user_public(request: Request, user_id: int) -> UserPublic:
    with request.app.state.session_factory() as db:
        return UserPublic.model_validate(user_service.get_user(db, user_id))


@router.post(
    "/logout", status_code=204, operation_id="logout", summary="End this session",
    responses=error_responses(403, e403="A cross-site request"),
)
def logout(request: Request, authenticator: AuthenticatorDep) -> Response:
    authenticator.logout(request)
    response = Response(status_code=204)
    options = authenticator.sessions.cookie_options()
    response.delete_cookie(options["key"], path="/", secure=options["secure"], httponly=True, samesite="lax")
    return response


@router.get("/me", response_model=UserPublic, operation_id="get_me", summary="The logged-in user", responses=ERRORS)
def me(principal: CurrentUser, db: SessionDep) -> UserPublic:
    return UserPublic.model_validate(user_service.get_user(db, principal.user_id))


@router.post(
    "/password", status_code=204, operation_id="change_password", summary="Change my password (ends my other sessions, revokes my API tokens)",
    responses=error_responses(
        400, 401, 403, 413, 422,
        e400="Current password wrong, or a body that is not UTF-8 JSON", e422="New password refused",
    ),
)
def change_password(
    body: PasswordChange, principal: Account, db: SessionDep, passwords: PasswordsDep,
) -> Response:
    user = user_service.get_user(db, principal.user_id)
    if not passwords.verify(user.hashed_password, body.current_password).ok:
        raise HTTPException(status_code=400, detail="The current password is not correct.")
    user_service.update_user(
        db, passwords, user, UserUpdate(password=body.new_password),
        keep_session_id=principal.session_id,
    )
    db.commit()
    return Response(status_code=204)


@router.get("/sessions", response_model=list[AuthSessionPublic], operation_id="list_my_sessions", summary="My active sessions", responses=ERRORS)
def my_sessions(principal: Account, db: SessionDep) -> list[AuthSessionPublic]:
    return [
        AuthSessionPublic.model_validate(row, update={"current": row.id == principal.session_id})
        for row in session_store.list_user_sessions(db, principal.user_id)
    ]


@router.delete("/sessions/{session_id}", status_code=204, operation_id="end_my_session", summary="End one of my sessions", responses=error_responses(401, 403, 404, 422, e404="No such session"))
def end_my_session(session_id: SessionId, principal: Account, db: SessionDep) -> Response:
    if not session_store.end_session_of_user(db, principal.user_id, session_id):
        raise NotFound("Session not found.")
    db.commit()
    return Response(status_code=204)


@router.get("/tokens", response_model=list[ApiTokenPublic], operation_id="list_my_tokens", summary="My API tokens", responses=ERRORS)
def my_tokens(principal: Account, db: SessionDep) -> list[ApiTokenPublic]:
    return [ApiTokenPublic.model_validate(t) for t in token_store.list_tokens(db, principal.user_id)]


@router.post(
    "/tokens", status_code=201, response_model=ApiTokenCreated, operation_id="create_token",
    summary="Create an API token (the secret is in this response only)",
    responses=error_responses(
        400, 401, 403, 413, 422,
        e403="A token cannot create tokens; a session must have passed the second factor "
        "(or a cross-site request)",
    ),
)
def create_token(
    body: ApiTokenCreate, principal: Account, db: SessionDep, authenticator: AuthenticatorDep,
) -> ApiTokenCreated:
    refusal = authenticator.mfa.token_refusal(db, principal)
    if refusal:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=refusal)
    token, raw = token_store.create_token(
        db, principal.user_id, body.name, expires_in_days=body.expires_in_days
    )
    db.commit()
    return ApiTokenCreated.model_validate(token, update={"token": raw})


@router.delete(
    "/tokens/{token_id}", status_code=204, operation_id="revoke_token", summary="Revoke one of my API tokens",
    responses=error_responses(401, 403, 404, 422, e404="No such token"),
)
def revoke_token(token_id: TokenId, principal: Account, db: SessionDep) -> Response:
    if token_store.revoke_token(db, token_id, user_id=principal.user_id) is None:
        raise NotFound("Token not found.")
    db.commit()
    return Response(status_code=204)
