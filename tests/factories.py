"""Small builders for test data, through the same services the app uses."""

from __future__ import annotations

from fastapi.testclient import TestClient

from admin_app.db import build_session_factory
from admin_app.services.users import create_user
from auth.passwords import Passwords
from models import Role

PASSWORD = "correct horse battery staple"
ORIGIN = {"Origin": "http://testserver"}


def make_user(app, email: str, role: Role | str = Role.viewer, password: str = PASSWORD,
              *, active: bool = True) -> int:  # noqa: ANN001
    passwords: Passwords = app.state.passwords
    with build_session_factory(app.state.engine)() as db, db.begin():
        user = create_user(db, passwords, email=email, password=password, role=role)
        user.is_active = active
        db.flush()
        return user.id


def api_login(client: TestClient, email: str, password: str = PASSWORD):  # noqa: ANN201
    return client.post("/api/auth/login", json={"email": email, "password": password}, headers=ORIGIN)


def admin_login(client: TestClient, email: str, password: str = PASSWORD, next_url: str | None = None):  # noqa: ANN201
    data = {"username": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/admin/login", data=data, headers=ORIGIN, follow_redirects=False)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
