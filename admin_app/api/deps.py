"""Annotated dependencies shared by every API router."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import Connection
from sqlmodel import Session

from admin_app.audit import bind_actor
from admin_app.services.actor import Actor
from admin_app.services.unit import WriteContext
from auth.authenticator import Authenticator
from auth.passwords import Passwords
from auth.principal import Principal


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.session_factory() as session:
        yield session


# Dependencies that neither block nor touch the database are `async def`: FastAPI runs a
# plain `def` dependency in the thread pool, one hop per dependency per request.
async def get_authenticator(request: Request) -> Authenticator:
    return request.app.state.authenticator


async def get_passwords(request: Request) -> Passwords:
    return request.app.state.passwords



SessionDep = Annotated[Session, Depends(get_db)]
AuthenticatorDep = Annotated[Authenticator, Depends(get_authenticator)]
PasswordsDep = Annotated[Passwords, Depends(get_passwords)]


def authenticated(request: Request, authenticator: Authenticator, db: Session | Connection) -> Principal:
    """The request's principal, looked up on `db` (the request's own connection), or 401."""
    principal = authenticator.principal(request, db)
    if principal is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Not authenticated.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def get_current_principal(
    request: Request, authenticator: AuthenticatorDep, db: SessionDep
) -> Principal:
    principal = authenticated(request, authenticator, db)
    bind_actor(db, Actor.from_principal(principal, via="api"))  # whatever this request writes is theirs
    return principal


CurrentUser = Annotated[Principal, Depends(get_current_principal)]


def ensure_allowed(principal: Principal, resource: str, action: str) -> Principal:
    """403 unless the role table lets this principal do `action` on `resource`."""
    if not principal.can(resource, action):
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=f"The {principal.role.value} role may not {action} {resource}.",
        )
    return principal


def require(resource: str, action: str) -> Callable[[Principal], Principal]:
    """A dependency that lets the request through only if the role table allows it."""

    async def check(principal: CurrentUser) -> Principal:
        return ensure_allowed(principal, resource, action)

    return check


async def write_context(principal: CurrentUser, db: SessionDep, passwords: PasswordsDep) -> WriteContext:
    """A write on the request's session, by its principal (the session the principal resolved on)."""
    return WriteContext(
        db, Actor.from_principal(principal, via="api"), passwords=passwords, session_id=principal.session_id
    )


WriteContextDep = Annotated[WriteContext, Depends(write_context)]
