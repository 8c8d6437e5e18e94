"""Second factors over JSON: what mine are, and an admin's reset of another user's.

Setting one up (the QR code, a passkey ceremony) happens in the browser, at My account.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Response, status

from admin_app import audit
from admin_app.api.deps import AuthenticatorDep, SessionDep, require
from admin_app.api.responses import error_responses
from admin_app.services import users as user_service
from auth.principal import Principal
from auth.sessions import end_user_sessions
from models import SecondFactorStatus
from models.common import MAX_DB_ID

router = APIRouter(tags=["auth"])
Account = Annotated[Principal, Depends(require("account", "*"))]
UserAdmin = Annotated[Principal, Depends(require("user", "edit"))]
UserId = Annotated[int, Path(ge=1, le=MAX_DB_ID, description="The user's id")]


@router.get(
    "/api/auth/second-factors", response_model=SecondFactorStatus, operation_id="get_my_second_factors",
    summary="My second factors (authenticator app, passkeys, recovery codes left)",
    responses=error_responses(401, 403),
)
def my_second_factors(principal: Account, db: SessionDep, authenticator: AuthenticatorDep) -> SecondFactorStatus:
    return authenticator.mfa.status(db, principal.user_id, principal.role.value)


@router.delete(
    "/api/users/{user_id}/second-factors", status_code=204, tags=["users"], operation_id="reset_second_factors",
    summary="Reset a user's second factors (admin role; that user's sessions end)",
    responses=error_responses(
        401, 403, 404, 409, 422, e404="No such user",
        e409="Your own second factors are changed in My account, not reset here",
    ),
)
def reset_second_factors(
    user_id: UserId, principal: UserAdmin, db: SessionDep, authenticator: AuthenticatorDep,
) -> Response:
    user = user_service.get_user(db, user_id)
    if user.id == principal.user_id:
        raise HTTPException(
            status_code=status.HTTP_409_CONFLICT,
            detail="Your own second factors are changed in My account, not reset here.",
        )
    had = authenticator.mfa.reset(db, user.id)
    ended = end_user_sessions(db, user.id)
    audit.record(db, "mfa_reset", "user", user.id, details={
        "totp": had.totp, "passkeys": had.passkeys, "recovery_codes": had.recovery_left,
        "sessions_ended": ended,
    })
    db.commit()
    return Response(status_code=204)
