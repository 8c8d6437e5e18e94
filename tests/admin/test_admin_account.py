"""My account: password, sessions and API tokens, for every role."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from auth.sessions import hash_secret, list_user_sessions
from auth.tokens import resolve_token
from models import ApiToken, Role, User
from tests.admin.conftest import ORIGIN, PASSWORD, session_cookie


def change_password(client, current: str, new: str, again: str | None = None):  # noqa: ANN001, ANN201
    return client.post(
        "/admin/account",
        data={"do": "password", "current_password": current, "new_password": new,
              "new_password_confirm": new if again is None else again},
        headers=ORIGIN,
    )


@pytest.mark.parametrize("role", list(Role))
def test_change_my_password_ends_my_other_sessions(login_as, app, role) -> None:  # noqa: ANN001
    client = login_as(role)
    other = session_cookie(app, client.user.id)  # the same user logged in elsewhere
    response = change_password(client, PASSWORD, "a brand new long password")
    assert response.status_code == 303
    assert "Password changed" in html.unescape(client.get(response.headers["location"]).text)
    with app.state.session_factory() as db:
        user = db.get(User, client.user.id)
        assert app.state.passwords.verify(user.hashed_password, "a brand new long password").ok
        remaining = list_user_sessions(db, client.user.id)
    assert len(remaining) == 1  # this one; the other ended
    raw_other = app.state.authenticator.sessions.unsign(other)
    assert remaining[0].id != hash_secret(raw_other)
    assert client.get("/admin/account").status_code == 200  # still logged in here


@pytest.mark.parametrize(
    ("current", "new", "again", "message"),
    [
        ("wrong password here", "a brand new long password", None, "Current password: not correct."),
        (PASSWORD, "short", None, "at least"),
        (PASSWORD, "a brand new long password", "something else entirely", "the two entries differ"),
    ],
)
def test_password_change_refusals(viewer, app, current, new, again, message) -> None:  # noqa: ANN001
    response = change_password(viewer, current, new, again)
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    with app.state.session_factory() as db:
        assert app.state.passwords.verify(db.get(User, viewer.user.id).hashed_password, PASSWORD).ok


def test_see_and_end_my_sessions(viewer, app) -> None:  # noqa: ANN001
    other = app.state.authenticator.sessions.unsign(session_cookie(app, viewer.user.id))
    page = viewer.get("/admin/account").text
    assert page.count('name="do" value="end-session"') == 2 and "this session" in page
    response = viewer.post(
        "/admin/account", data={"do": "end-session", "session_id": hash_secret(other)}, headers=ORIGIN
    )
    assert response.status_code == 303
    with app.state.session_factory() as db:
        assert len(list_user_sessions(db, viewer.user.id)) == 1
    # Someone else's session id is not mine to end.
    intruder = app.state.authenticator.sessions.unsign(session_cookie(app, viewer.user.id))
    assert viewer.post(
        "/admin/account", data={"do": "end-session", "session_id": "nope" + hash_secret(intruder)[4:]},
        headers=ORIGIN,
    ).status_code == 404


def test_ending_this_session_logs_me_out(viewer, app) -> None:  # noqa: ANN001
    mine = re.search(r'name="session_id" value="([0-9a-f]+)">\s*<span class="badge', viewer.get("/admin/account").text)
    response = viewer.post("/admin/account", data={"do": "end-session", "session_id": mine.group(1)}, headers=ORIGIN)
    assert response.status_code == 303 and "/admin/login" in response.headers["location"]
    assert viewer.get("/admin/account").status_code == 302


def test_create_a_token_shown_once_then_revoke_it(editor, app) -> None:  # noqa: ANN001
    response = editor.post("/admin/account", data={"do": "create-token", "name": "nightly export", "expires_in_days": "30"}, headers=ORIGIN)
    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"]
    raw = re.search(r'value="(tbo_[^"]+)" readonly id="modal-secret-value"', response.text).group(1)
    with app.state.session_factory() as db:
        token = db.execute(select(ApiToken)).scalar_one()
        assert token.token_hash != raw and resolve_token(db, raw).user_id == editor.user.id
    again = editor.get("/admin/account").text
    assert raw not in again and "nightly export" in again and token.prefix in again
    # The token works for the API, then stops when revoked.
    assert editor.get("/api/auth/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    response = editor.post("/admin/account", data={"do": "revoke-token", "token_id": str(token.id)}, headers=ORIGIN)
    assert "revoked" in html.unescape(editor.get(response.headers["location"]).text)
    assert editor.get("/api/auth/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_token_name_is_required_and_others_tokens_are_not_mine(editor, login_as, app) -> None:  # noqa: ANN001
    response = editor.post("/admin/account", data={"do": "create-token", "name": "  "}, headers=ORIGIN)
    assert response.status_code == 400 and "Name: must not be blank" in html.unescape(response.text)
    other = login_as(Role.viewer)
    other.post("/admin/account", data={"do": "create-token", "name": "theirs"}, headers=ORIGIN)
    with app.state.session_factory() as db:
        theirs = db.execute(select(ApiToken)).scalar_one()
    response = editor.post("/admin/account", data={"do": "revoke-token", "token_id": str(theirs.id)}, headers=ORIGIN)
    assert response.status_code == 404
    with app.state.session_factory() as db:
        assert db.get(ApiToken, theirs.id).revoked_at is None


def test_unknown_request(viewer) -> None:  # noqa: ANN001
    assert viewer.post("/admin/account", data={"do": "nonsense"}, headers=ORIGIN).status_code == 400
