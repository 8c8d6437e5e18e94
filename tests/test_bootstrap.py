"""The first admin: created once when there are no users, never when there are."""

from pydantic import SecretStr
from sqlalchemy import func, select

from admin_app.bootstrap import DEFAULT_ADMIN_EMAIL, ensure_first_admin
from admin_app.db import build_session_factory
from admin_app.services.users import create_user
from auth.passwords import Passwords
from models import Role, User


def _users(engine) -> list[User]:  # noqa: ANN001
    with build_session_factory(engine)() as session:
        return list(session.execute(select(User)).scalars())


def test_generated_password_when_none_configured(engine, settings) -> None:  # noqa: ANN001
    passwords = Passwords.from_settings(settings)
    first = ensure_first_admin(engine, settings, passwords)
    assert first is not None and first.email == DEFAULT_ADMIN_EMAIL
    assert first.generated_password and len(first.generated_password) >= 20
    [user] = _users(engine)
    assert user.role == Role.admin and user.is_active
    assert passwords.verify(user.hashed_password, first.generated_password).ok


def test_configured_email_and_password(engine, settings) -> None:  # noqa: ANN001
    settings = settings.model_copy(
        update={"initial_admin_email": "Root@Example.com",
                "initial_admin_password": SecretStr("configured password 1")}
    )
    passwords = Passwords.from_settings(settings)
    first = ensure_first_admin(engine, settings, passwords)
    assert first is not None and first.generated_password is None
    [user] = _users(engine)
    assert user.email == "root@example.com"
    assert passwords.verify(user.hashed_password, "configured password 1").ok


def test_only_once(engine, settings) -> None:  # noqa: ANN001
    passwords = Passwords.from_settings(settings)
    assert ensure_first_admin(engine, settings, passwords) is not None
    assert ensure_first_admin(engine, settings, passwords) is None
    assert len(_users(engine)) == 1


def test_never_when_users_exist(engine, settings) -> None:  # noqa: ANN001
    passwords = Passwords.from_settings(settings)
    with build_session_factory(engine)() as session, session.begin():
        create_user(session, passwords, email="v@example.com", password="viewer password 1",
                    role=Role.viewer)
    assert ensure_first_admin(engine, settings, passwords) is None
    with build_session_factory(engine)() as session:
        admins = session.execute(
            select(func.count()).select_from(User).where(User.role == "admin")
        ).scalar_one()
    assert admins == 0
