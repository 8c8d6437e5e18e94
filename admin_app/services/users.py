"""Staff accounts in a line: what the CLI, the first-admin bootstrap and the account pages call.

Each goes through the generic write path with the User declaration, so its rules (hashing,
the password policy, the last active admin, ending sessions) apply the same everywhere.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlmodel import Session

from admin_app.audit import actor_of
from admin_app.errors import InvalidInput
from admin_app.resources.users import USERS
from admin_app.services import records
from admin_app.services.unit import WriteContext
from auth.passwords import Passwords
from models import Role, User, UserCreate, UserUpdate


def first_error(exc: ValidationError) -> str:
    """One readable line from a pydantic error: `field: message`."""
    err = exc.errors()[0]
    where = ".".join(str(part) for part in err.get("loc", ())) or "input"
    return f"{where}: {err.get('msg', 'invalid')}"


def _context(db: Session, passwords: Passwords, session_id: str | None = None) -> WriteContext:
    return WriteContext(db, actor_of(db), passwords=passwords, session_id=session_id)


def create_user(
    db: Session, passwords: Passwords, *, email: str, password: str, role: Role | str = Role.viewer,
    full_name: str = "", is_active: bool = True,
) -> User:
    """Validate, hash and add a user; the caller commits."""
    try:
        data = UserCreate.model_validate({
            "email": email, "password": password, "role": role, "full_name": full_name, "is_active": is_active,
        })
    except ValidationError as exc:
        raise InvalidInput(first_error(exc)) from exc
    return records.create(_context(db, passwords), USERS, data)


def update_user(
    db: Session, passwords: Passwords, user: User, changes: UserUpdate | dict[str, Any], *,
    keep_session_id: str | None = None,
) -> User:
    """Apply the fields sent; a new password, role or deactivation ends the user's other sessions."""
    if isinstance(changes, dict):
        try:
            changes = UserUpdate.model_validate(changes)
        except ValidationError as exc:
            raise InvalidInput(first_error(exc)) from exc
    return records.update(_context(db, passwords, keep_session_id), USERS, user, changes)


def get_user(db: Session, user_id: int) -> User:
    return records.get(db, USERS, user_id)


def count_users(db: Session) -> int:
    return db.execute(select(func.count()).select_from(User)).scalar_one()
