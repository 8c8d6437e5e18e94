"""Creating and changing staff accounts: one path for the admin, the API and the CLI."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, ValidationError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from admin_app.errors import Conflict, InvalidInput
from admin_app.services.pagination import Page, SortKey, paginate, parse_sort
from admin_app.services.search import contains_text
from admin_app.services.versions import check_version, flush_checking_version
from auth.passwords import PasswordPolicyError, Passwords
from models import Role, User, UserCreate, UserFilter, UserUpdate
from models.common import MAX_DB_ID, UTCTimestamp, reject_control_characters

DUPLICATE_EMAIL = "A user with this email exists."


def first_error(exc: ValidationError) -> str:
    """One readable line from a pydantic error: `field: message`."""
    err = exc.errors()[0]
    where = ".".join(str(part) for part in err.get("loc", ())) or "input"
    return f"{where}: {err.get('msg', 'invalid')}"


def email_taken(session: Session, email: str, *, exclude_id: int | None = None) -> bool:
    query = select(User.id).where(User.email == email.strip().lower())
    if exclude_id is not None:
        query = query.where(User.id != exclude_id)
    return session.execute(query).first() is not None


def create_user(
    session: Session,
    passwords: Passwords,
    *,
    email: str,
    password: str,
    role: Role | str = Role.viewer,
    full_name: str = "",
    is_active: bool = True,
) -> User:
    """Validate, hash and add a user; the caller commits."""
    try:
        data = UserCreate.model_validate(
            {
                "email": email, "password": password, "role": role, "full_name": full_name,
                "is_active": is_active,
            }
        )
    except ValidationError as exc:
        raise InvalidInput(first_error(exc)) from exc
    try:
        passwords.check_policy(password, email=data.email)
    except PasswordPolicyError as exc:
        raise InvalidInput(str(exc)) from exc
    if email_taken(session, data.email):
        raise Conflict(DUPLICATE_EMAIL)
    user = User(
        email=data.email,
        full_name=data.full_name,
        role=data.role.value,
        is_active=data.is_active,
        hashed_password=passwords.hash(password),
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent insert won the race; the caller rolls back
        raise Conflict(DUPLICATE_EMAIL) from exc
    return user


def validate_user_update(data: dict) -> UserUpdate:
    try:
        return UserUpdate.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(first_error(exc)) from exc


def count_users(session: Session) -> int:
    return session.execute(select(func.count()).select_from(User)).scalar_one()


LAST_ADMIN = "The last active admin cannot be removed, demoted or deactivated."
# Deleting oneself ends one's own access with no way back and no second pair of eyes; the
# audit trail would then name an actor who no longer exists. Another admin can do it.
DELETE_SELF = "You cannot delete your own account; ask another admin to do it."


def get_user(db: Session, user_id: int) -> User:
    from admin_app.errors import NotFound

    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found.")
    return user


def _is_active_admin(user: User) -> bool:
    return user.role == Role.admin.value and bool(user.is_active)


def _guard_last_admin(db: Session, user: User) -> None:
    """Refuse when `user` is the only active admin (locks admins to decide on a race)."""
    admins = db.execute(
        select(User.id)
        .where(User.role == Role.admin.value, User.is_active.is_(True))
        .with_for_update()
    ).scalars().all()
    if list(admins) == [user.id]:
        raise Conflict(LAST_ADMIN)


def update_user(
    db: Session,
    passwords: Passwords,
    user: User,
    changes: UserUpdate,
    *,
    keep_session_id: str | None = None,
) -> User:
    """Apply the fields sent; a new password, role or deactivation ends the user's other sessions.

    A new password or a deactivation also revokes the user's API tokens: whoever knew the
    old password, or had the account, may have made one. Reactivating brings none back.
    """
    from auth.sessions import end_user_sessions
    from auth.tokens import revoke_user_tokens

    values = changes.model_dump(exclude_unset=True)
    check_version(user, values.pop("version", None))
    for required in ("email", "role", "is_active"):
        if required in values and values[required] is None:
            raise InvalidInput(f"{required}: may be changed but not removed")
    password = values.pop("password", None)
    new_email = values.get("email", user.email)
    if "email" in values and email_taken(db, new_email, exclude_id=user.id):
        raise Conflict(DUPLICATE_EMAIL)
    if password is not None:
        try:
            passwords.check_policy(password, email=new_email)
        except PasswordPolicyError as exc:
            raise InvalidInput(str(exc)) from exc
    demoted = "role" in values and values["role"] != Role.admin and user.role == Role.admin.value
    deactivated = "is_active" in values and not values["is_active"] and user.is_active
    if _is_active_admin(user) and (demoted or deactivated):
        _guard_last_admin(db, user)
    role_changed = "role" in values and Role(values["role"]).value != user.role
    for field, value in values.items():
        setattr(user, field, value.value if isinstance(value, Role) else value)
    if password is not None:
        user.hashed_password = passwords.hash(password)
    if password is not None or role_changed or deactivated:
        end_user_sessions(db, user.id, keep_session_id=keep_session_id)
    if password is not None or deactivated:
        revoke_user_tokens(db, user.id)
    try:
        flush_checking_version(db, user)
    except IntegrityError as exc:
        raise Conflict(DUPLICATE_EMAIL) from exc
    return user


def delete_user(db: Session, user: User) -> None:
    """Delete a user, unless it is the last active admin or the one asking (both 409)."""
    from admin_app.audit import actor_of

    if _is_active_admin(user):
        _guard_last_admin(db, user)
    if actor_of(db).user_id == user.id:
        raise Conflict(DELETE_SELF)
    db.delete(user)
    db.flush()


# --- reading -------------------------------------------------------------------------------

# A staff table is small: only email is indexed, and that is enough here.
USER_SORTS: dict[str, SortKey] = {
    "id": SortKey(User.id, Annotated[int, Field(ge=0, le=MAX_DB_ID)]),
    "email": SortKey(User.email, Annotated[str, AfterValidator(reject_control_characters)]),
    "created_at": SortKey(User.created_at, UTCTimestamp),
    "last_login_at": SortKey(User.last_login_at, UTCTimestamp, nullable=True),
}


def user_filter_conditions(spec: UserFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if spec.q:
        conditions.append(contains_text(spec.q, User.email, User.full_name))
    if spec.role is not None:
        conditions.append(User.role == spec.role.value)
    if spec.is_active is not None:
        conditions.append(User.is_active.is_(spec.is_active))
    return conditions


def list_users(
    db: Session, spec: UserFilter, *, sort: str = "id", limit: int = 50, cursor: str | None = None
) -> Page:
    query = select(User).where(*user_filter_conditions(spec))
    ordering = parse_sort(sort, USER_SORTS)
    return paginate(db, query, ordering=ordering, id_column=User.id, limit=limit, cursor=cursor)


def count_matching_users(db: Session, spec: UserFilter) -> int:
    return db.execute(
        select(func.count()).select_from(User).where(*user_filter_conditions(spec))
    ).scalar_one()
