"""Nobody deletes or deactivates their own account, not even an admin beside another admin (so
it is not the last-admin rule): 409 (a form: 400 with the message), and why. Stepping down
from admin beside another admin is allowed (tests/auth/test_roles.py)."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from admin_app.db import build_session_factory
from admin_app.resources.users import DEACTIVATE_SELF
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


def _user(app, user_id: int) -> User:  # noqa: ANN001
    with build_session_factory(app.state.engine)() as db:
        return db.get(User, user_id)


def test_the_api_refuses_deactivating_oneself(app, client) -> None:  # noqa: ANN001
    me = make_user(app, "me@example.com", Role.admin)
    other = make_user(app, "other@example.com", Role.admin)
    mine = _token(app, me)
    for change in ({"is_active": False}, {"is_active": False, "full_name": "Me"}):
        response = client.patch(f"/api/users/{me}", json={**change, "version": _user(app, me).version}, headers=mine)
        assert response.status_code == 409, change
        assert response.json() == {"detail": DEACTIVATE_SELF}
    row = _user(app, me)
    assert (row.is_active, row.role, row.full_name or None) == (True, Role.admin.value, None)
    # The same role and the same state are no change; the rest of one's account is one's own.
    same = {"is_active": True, "role": "admin", "full_name": "Me", "version": row.version}
    assert client.patch(f"/api/users/{me}", json=same, headers=mine).status_code == 200
    assert client.get("/api/auth/me", headers=mine).status_code == 200  # still in
    # Another admin may.
    theirs = _token(app, other)
    done = client.patch(f"/api/users/{me}", json={"is_active": False, "version": _user(app, me).version}, headers=theirs)
    assert done.status_code == 200 and not _user(app, me).is_active


def test_the_admin_refuses_deactivating_oneself(app, client) -> None:  # noqa: ANN001
    me = make_user(app, "self@example.com", Role.admin)
    other = make_user(app, "colleague@example.com", Role.admin)
    make_user(app, "third@example.com", Role.admin)  # so deactivating both leaves an admin
    assert admin_login(client, "self@example.com").status_code == 302
    # The bulk action, on a selection holding oneself and someone else: nobody changes.
    form = {"pks": f"{me},{other}", "scope": "selected"}
    response = client.post("/admin/user/action/deactivate", data=form, headers=ORIGIN)
    assert response.status_code == 409 and DEACTIVATE_SELF in html.unescape(response.text)
    assert _user(app, me).is_active and _user(app, other).is_active
    # The edit form (an unticked "Active"): the message on the form, the row unchanged.
    edit = {"email": "self@example.com", "full_name": "", "role": "admin",
            "password": "", "version": str(_user(app, me).version), "save": "Save"}
    response = client.post(f"/admin/user/edit/{me}", data=edit, headers=ORIGIN)
    assert response.status_code == 400 and DEACTIVATE_SELF in html.unescape(response.text)
    assert _user(app, me).is_active
    # Activating a selection that holds oneself changes nothing of one's own: allowed.
    done = client.post("/admin/user/action/activate", data=form, headers=ORIGIN, follow_redirects=False)
    assert done.status_code == 303


def test_reverting_ones_own_activation_is_refused_too(app, client) -> None:  # noqa: ANN001
    me = make_user(app, "me@example.com", Role.admin, active=False)
    other = make_user(app, "other@example.com", Role.admin)
    theirs = _token(app, other)
    done = client.patch(f"/api/users/{me}", json={"is_active": True, "version": _user(app, me).version}, headers=theirs)
    assert done.status_code == 200
    change_set = client.get("/api/changes?limit=1", headers=theirs).json()["items"][0]["id"]
    response = client.post(f"/api/changes/{change_set}/revert", json={}, headers=_token(app, me))
    assert response.status_code == 409 and response.json() == {"detail": DEACTIVATE_SELF}
    assert _user(app, me).is_active
    assert client.post(f"/api/changes/{change_set}/revert", json={}, headers=theirs).status_code == 200
    assert not _user(app, me).is_active
