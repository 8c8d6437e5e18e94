"""Staff accounts: passwords are hashed and never shown; the last active admin stays."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, select

from admin_app.errors import Conflict, InvalidInput
from admin_app.i18n import N_
from admin_app.resources.spec import (
    Api,
    Boolean,
    Choice,
    DeleteRows,
    Field,
    Resource,
    Rules,
    RunAction,
    Schemas,
    SetField,
)
from auth.passwords import PasswordPolicyError
from auth.sessions import end_user_sessions
from auth.tokens import revoke_user_tokens
from models import AuthSession, Role, User, UserCreate, UserPublic, UserUpdate

LAST_ADMIN = N_("The last active admin cannot be removed, demoted or deactivated.")
# Deleting oneself ends one's own access with no way back and no second pair of eyes; the
# audit trail would then name an actor who no longer exists. Another admin can do it.
DELETE_SELF = N_("You cannot delete your own account; ask another admin to do it.")
# Deactivating oneself locks one out the same way, mid-request at that. (Stepping down from
# admin while another admin remains is allowed: one keeps one's access.)
DEACTIVATE_SELF = N_("You cannot deactivate your own account; ask another admin to do it.")
ROLE_LABELS = {Role.admin: "Admin", Role.editor: "Editor", Role.viewer: "Viewer"}
ACTIVE_ADMIN = and_(User.role == Role.admin.value, User.is_active.is_(True))


def _check_password(ctx: Any, password: str, email: str) -> str:
    """The hash of an acceptable password; InvalidInput naming the rule it breaks."""
    try:
        ctx.passwords.check_policy(password, email=email)
    except PasswordPolicyError as exc:
        raise InvalidInput(exc.template, **exc.params) from exc
    return ctx.passwords.hash(password)


def keep_an_admin(db: Any, leaving: Any) -> None:
    """Refuse when no active admin would remain outside `leaving` (locks them: a race is decided)."""
    admins = db.execute(select(User.id, leaving.label("leaving")).where(ACTIVE_ADMIN).with_for_update()).all()
    if admins and all(row.leaving for row in admins):
        raise Conflict(LAST_ADMIN)


class UserRules(Rules):
    def prepare_create(self, ctx: Any, values: dict[str, Any]) -> dict[str, Any]:
        password = values.pop("password", None)
        if not password:
            raise InvalidInput(N_("password: a new user needs a password"))
        return {**values, "hashed_password": _check_password(ctx, password, values["email"])}

    def prepare_update(self, ctx: Any, row: Any, values: dict[str, Any]) -> dict[str, Any]:
        """A new password, a role change or a deactivation ends the user's other sessions; a new
        password or a deactivation also revokes the user's API tokens (whoever knew the old
        password, or had the account, may have made one; reactivating brings none back)."""
        password = values.pop("password", None)
        if password:
            values["hashed_password"] = _check_password(ctx, password, values.get("email", row.email))
        role_changed = "role" in values and values["role"] != row.role
        deactivated = values.get("is_active") is False and row.is_active
        if row.role == Role.admin.value and row.is_active and (role_changed or deactivated):
            keep_an_admin(ctx.db, User.id == row.id)
        if deactivated and row.id == ctx.actor.user_id:
            raise Conflict(DEACTIVATE_SELF)
        if password or role_changed or deactivated:
            end_user_sessions(ctx.db, row.id, keep_session_id=ctx.session_id)
        if password or deactivated:
            revoke_user_tokens(ctx.db, row.id)
        return values

    def check_bulk(self, ctx: Any, condition: Any, values: Any) -> None:
        if values.get("is_active") is False or values.get("role", Role.admin.value) != Role.admin.value:
            keep_an_admin(ctx.db, condition)
        # The actor is active (they are making this request), so any chosen row that is they is
        # deactivated by it; this holds before the change (a bulk edit) and after (a revert asks then).
        if values.get("is_active") is False:
            _not_oneself(ctx, condition, DEACTIVATE_SELF)

    def after_bulk(self, ctx: Any, condition: Any, values: Any) -> None:
        chosen = list(ctx.db.execute(select(User.id).where(condition)).scalars())
        if values.get("is_active") is False or "role" in values:
            ctx.db.execute(delete(AuthSession).where(
                AuthSession.user_id.in_(chosen), AuthSession.id != (ctx.session_id or "")
            ))
        if values.get("is_active") is False:
            for user_id in chosen:
                revoke_user_tokens(ctx.db, user_id)

    def check_delete(self, ctx: Any, condition: Any) -> None:
        keep_an_admin(ctx.db, condition)
        _not_oneself(ctx, condition, DELETE_SELF)


def _not_oneself(ctx: Any, condition: Any, why: str) -> None:
    """Refuse when the rows `condition` chooses include the account doing it."""
    if ctx.actor.user_id is not None and ctx.db.execute(
        select(User.id).where(condition, User.id == ctx.actor.user_id)
    ).first():
        raise Conflict(why)


def end_sessions(ctx: Any, ids: list[int]) -> int:
    """End every session of the chosen users but the one running this."""
    users = list(ctx.db.execute(select(User.id).where(User.id.in_(ids))).scalars())
    for user_id in users:
        end_user_sessions(ctx.db, user_id, keep_session_id=ctx.session_id)
    return len(users)


USERS = Resource(
    User, "user", "User", "Users", icon="fa-solid fa-users",
    schemas=Schemas(UserCreate, UserUpdate, UserPublic),
    fields=(
        Field("id", "ID"),
        Field("email", "Email"),
        Field("full_name", "Full name"),
        Field("role", "Role", choices=ROLE_LABELS),
        Field("is_active", "Active", choices={True: "Yes", False: "No"}),
        Field("password", "Password", secret=True,
              help="Required for a new user. On edit, leave blank to keep the current password."),
        Field("last_login_at", "Last login"),
        Field("created_at", "Created at"),
        Field("updated_at", "Updated at"),
        Field("version", "Version"),
    ),
    list_columns=("id", "email", "full_name", "role", "is_active", "last_login_at"),
    sortable=("id", "email", "full_name", "role", "created_at", "last_login_at"),
    default_sort="id",
    searchable=("email", "full_name"),
    filters=(Choice("role"), Boolean("is_active")),
    actions=(
        SetField("activate", "Activate", "is_active", True, done="activated", unchanged="already active",
                 in_detail=True),
        SetField("deactivate", "Deactivate", "is_active", False, done="deactivated (their sessions ended)",
                 unchanged="already inactive", danger=True, in_detail=True,
                 warning="Their sessions end and their API tokens are revoked: Undo makes them active "
                 "again but brings neither back."),
        RunAction("end-sessions", "End all sessions", end_sessions, "logged out everywhere", danger=True,
                  warning="This cannot be undone: they sign in again."),
        DeleteRows("delete-users"),
    ),
    export_columns=("id", "email", "full_name", "role", "is_active", "last_login_at", "created_at"),
    detail_columns=(
        "id", "email", "full_name", "role", "is_active", "last_login_at", "created_at", "updated_at", "version",
    ),
    form_columns=("email", "full_name", "role", "is_active", "password", "version"),
    api=Api("/api/users", "users", bulk=False, notes={
        "update": "A new password, a role change or deactivation ends that user's other sessions; a "
        "new password or deactivation also revokes their API tokens (reactivating brings none back). "
        "The last active admin cannot be demoted or deactivated (409). ",
        "delete": "Their tasks stay, unassigned. The last active admin cannot be deleted, and nobody "
        "can delete their own account (409). ",
    }),
    rules=UserRules(),
)

