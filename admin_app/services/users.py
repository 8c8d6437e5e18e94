"""Creating and changing staff accounts: one path for the admin, the API and the CLI."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from admin_app.errors import Conflict, InvalidInput
from auth.passwords import PasswordPolicyError, Passwords
from models import Role, User, UserCreate

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
) -> User:
    """Validate, hash and add a user; the caller commits."""
    try:
        data = UserCreate.model_validate(
            {"email": email, "password": password, "role": role, "full_name": full_name}
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
    except IntegrityError as exc:  # a concurrent insert won the race
        session.rollback()
        raise Conflict(DUPLICATE_EMAIL) from exc
    return user


def count_users(session: Session) -> int:
    return session.execute(select(func.count()).select_from(User)).scalar_one()


def count_active_admins(session: Session) -> int:
    return session.execute(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.admin.value, User.is_active.is_(True))
    ).scalar_one()
