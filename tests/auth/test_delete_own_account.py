"""Nobody deletes their own account, not even an admin beside another admin: 409, and why."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from admin_app.db import build_session_factory
from auth.tokens import create_token
from models import Role, User
from tests.factories import ORIGIN, admin_login, bearer, make_user

WHY = "You cannot delete your own account; ask another admin to do it."


def _exists(app, user_id: int) -> bool:  # noqa: ANN001
    with build_session_factory(app.state.engine)() as db:
        return db.get(User, user_id) is not None


def _token(app, user_id: int) -> dict[str, str]:  # noqa: ANN001
    with build_session_factory(app.state.engine)() as db, db.begin():
        _row, raw = create_token(db, user_id, "script")
    return bearer(raw)


def test_the_api_refuses_deleting_oneself_and_says_why(app, client) -> None:  # noqa: ANN001
    me = make_user(app, "me@example.com", Role.admin)
    other = make_user(app, "other@example.com", Role.admin)  # so it is not the last-admin rule
    response = client.delete(f"/api/users/{me}", headers=_token(app, me))
    assert response.status_code == 409
    assert response.json() == {"detail": WHY}
    assert _exists(app, me)
    assert client.delete(f"/api/users/{me}", headers=_token(app, other)).status_code == 204
    assert not _exists(app, me)


def test_the_admin_refuses_deleting_oneself_and_says_why(app, client) -> None:  # noqa: ANN001
    me = make_user(app, "self@example.com", Role.admin)
    other = make_user(app, "colleague@example.com", Role.admin)
    assert admin_login(client, "self@example.com").status_code == 302
    # Deleting goes through the bulk action's confirmation (SQLAdmin's row delete is off).
    form = {"pks": str(me), "scope": "selected"}
    response = client.post("/admin/user/action/delete-users", data=form, headers=ORIGIN)
    assert response.status_code == 409 and WHY in html.unescape(response.text)
    assert _exists(app, me)
    with TestClient(app, base_url="http://testserver") as colleague:
        admin_login(colleague, "colleague@example.com")
        done = colleague.post("/admin/user/action/delete-users", data=form, headers=ORIGIN, follow_redirects=False)
        assert done.status_code == 303
    assert not _exists(app, me) and _exists(app, other)
