"""Server-side sessions: the cookie, its lifetime, logout, replay, and ending them all."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, update

from admin_app.db import build_session_factory
from admin_app.main import create_app
from auth.sessions import hash_secret
from models import AuthSession, Role
from models.common import utcnow
from tests.conftest import TEST_SECRET, make_settings
from tests.factories import ORIGIN, PASSWORD, admin_login, api_login, make_user


def _sessions(app) -> list[AuthSession]:  # noqa: ANN001
    with build_session_factory(app.state.engine)() as db:
        return list(db.execute(select(AuthSession)).scalars())


def _cookie(response) -> str:  # noqa: ANN001
    return response.headers["set-cookie"]


def test_cookie_is_signed_httponly_lax_and_holds_only_an_opaque_id(app, client) -> None:  # noqa: ANN001
    user_id = make_user(app, "c@example.com")
    response = api_login(client, "c@example.com")
    header = _cookie(response).lower()
    assert "httponly" in header and "samesite=lax" in header and "path=/" in header
    assert "secure" not in header  # development over http
    value = client.cookies.get("admin_session")
    raw = URLSafeTimedSerializer(TEST_SECRET, salt="admin-session").loads(value)
    assert len(raw) >= 40 and "c@example.com" not in raw and str(user_id) != raw
    [row] = _sessions(app)
    assert row.id == hash_secret(raw) and row.user_id == user_id  # only the hash is stored
    assert row.created_at <= row.last_seen_at < row.expires_at


def test_production_cookie_is_secure_with_host_prefix(db_url: str) -> None:
    app = create_app(make_settings(db_url, app_env="production", allowed_hosts=["testserver"]))
    make_user(app, "p@example.com")
    with TestClient(app, base_url="https://testserver") as client:
        response = client.post(
            "/api/auth/login", json={"email": "p@example.com", "password": PASSWORD},
            headers={"Origin": "https://testserver"},
        )
    header = _cookie(response)
    assert header.startswith("__Host-admin_session=")
    assert "Secure" in header and "HttpOnly" in header
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_tampered_cookie_is_refused(app, client) -> None:  # noqa: ANN001
    make_user(app, "t@example.com")
    api_login(client, "t@example.com")
    value = client.cookies.get("admin_session")
    client.cookies.set("admin_session", value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1])
    assert client.get("/api/auth/me").status_code == 401
    forged = URLSafeTimedSerializer("another key", salt="admin-session").dumps("x" * 43)
    client.cookies.set("admin_session", forged)
    assert client.get("/api/auth/me").status_code == 401


def test_idle_timeout_ends_the_session(app, client) -> None:  # noqa: ANN001
    make_user(app, "idle@example.com")
    api_login(client, "idle@example.com")
    assert client.get("/api/auth/me").status_code == 200
    with build_session_factory(app.state.engine)() as db, db.begin():
        db.execute(update(AuthSession).values(last_seen_at=utcnow() - timedelta(minutes=61)))
    assert client.get("/api/auth/me").status_code == 401
    assert _sessions(app) == []  # the dead row is gone


def test_absolute_lifetime_ends_the_session(app, client) -> None:  # noqa: ANN001
    make_user(app, "abs@example.com")
    api_login(client, "abs@example.com")
    with build_session_factory(app.state.engine)() as db, db.begin():
        db.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/api/auth/me").status_code == 401


def test_lifetimes_are_configurable(db_url: str) -> None:
    app = create_app(make_settings(db_url, session_idle_timeout_minutes=5, session_absolute_lifetime_hours=2))
    make_user(app, "cfg@example.com")
    with TestClient(app) as client:
        api_login(client, "cfg@example.com")
        [row] = _sessions(app)
        assert timedelta(hours=1, minutes=59) < row.expires_at - row.created_at <= timedelta(hours=2)
        with build_session_factory(app.state.engine)() as db, db.begin():
            db.execute(update(AuthSession).values(last_seen_at=utcnow() - timedelta(minutes=6)))
        assert client.get("/api/auth/me").status_code == 401


def test_login_starts_a_fresh_session(app, client) -> None:  # noqa: ANN001
    make_user(app, "fresh@example.com")
    api_login(client, "fresh@example.com")
    first = client.cookies.get("admin_session")
    api_login(client, "fresh@example.com")
    second = client.cookies.get("admin_session")
    assert first != second
    assert len(_sessions(app)) == 1  # the session from before login did not survive
    client.cookies.set("admin_session", first)
    assert client.get("/api/auth/me").status_code == 401


def test_cookie_replay_after_logout(app, client) -> None:  # noqa: ANN001
    make_user(app, "out@example.com")
    api_login(client, "out@example.com")
    cookie = client.cookies.get("admin_session")
    response = client.post("/api/auth/logout", headers=ORIGIN)
    assert response.status_code == 204
    assert _sessions(app) == []
    client.cookies.set("admin_session", cookie)
    assert client.get("/api/auth/me").status_code == 401
    admin_page = client.get("/admin/", follow_redirects=False)
    assert admin_page.status_code == 302 and "/admin/login" in admin_page.headers["location"]


def test_admin_logout_is_a_post_and_get_only_asks(app, client) -> None:  # noqa: ANN001
    make_user(app, "adm@example.com", Role.admin)
    assert admin_login(client, "adm@example.com").status_code == 302
    page = client.get("/admin/logout")
    assert page.status_code == 200 and "Log out" in page.text
    assert len(_sessions(app)) == 1  # GET changed nothing
    response = client.post("/admin/logout", headers=ORIGIN, follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"].endswith("/admin/login")
    assert _sessions(app) == []
    assert client.get("/admin/", follow_redirects=False).status_code == 302


@pytest.mark.parametrize("change", ["password", "role", "deactivate"])
def test_account_changes_end_the_users_other_sessions(app, change: str) -> None:  # noqa: ANN001
    from admin_app.services.users import update_user
    from models import User, UserUpdate

    user_id = make_user(app, "multi@example.com", Role.editor)
    with TestClient(app) as laptop, TestClient(app) as phone:
        api_login(laptop, "multi@example.com")
        api_login(phone, "multi@example.com")
        assert len(_sessions(app)) == 2
        changes = {
            "password": UserUpdate(password="a brand new password"),
            "role": UserUpdate(role=Role.viewer),
            "deactivate": UserUpdate(is_active=False),
        }[change]
        with build_session_factory(app.state.engine)() as db, db.begin():
            update_user(db, app.state.passwords, db.get(User, user_id), changes)
        assert laptop.get("/api/auth/me").status_code == 401
        assert phone.get("/api/auth/me").status_code == 401
    assert _sessions(app) == []


def test_my_password_change_keeps_this_session_only(app) -> None:  # noqa: ANN001
    make_user(app, "self@example.com")
    with TestClient(app) as here, TestClient(app) as elsewhere:
        api_login(here, "self@example.com")
        api_login(elsewhere, "self@example.com")
        wrong = here.post("/api/auth/password", headers=ORIGIN,
                          json={"current_password": "not it at all", "new_password": "another long password"})
        assert wrong.status_code == 400
        short = here.post("/api/auth/password", headers=ORIGIN,
                          json={"current_password": PASSWORD, "new_password": "short"})
        assert short.status_code == 422 and "at least 12" in short.json()["detail"]
        ok = here.post("/api/auth/password", headers=ORIGIN,
                       json={"current_password": PASSWORD, "new_password": "another long password"})
        assert ok.status_code == 204
        assert here.get("/api/auth/me").status_code == 200
        assert elsewhere.get("/api/auth/me").status_code == 401
        assert api_login(here, "self@example.com", "another long password").status_code == 200


def test_inactive_user_session_and_login_are_refused(app, client) -> None:  # noqa: ANN001
    user_id = make_user(app, "gone@example.com")
    api_login(client, "gone@example.com")
    from models import User

    with build_session_factory(app.state.engine)() as db, db.begin():
        db.execute(update(User).where(User.id == user_id).values(is_active=False))
    assert client.get("/api/auth/me").status_code == 401  # even with a live session row
    response = api_login(client, "gone@example.com")
    assert response.status_code == 403
    admin = admin_login(client, "gone@example.com")
    assert admin.status_code == 400 and "deactivated" in admin.text


def test_my_sessions_list_and_end_one(app) -> None:  # noqa: ANN001
    make_user(app, "list@example.com")
    with TestClient(app) as one, TestClient(app) as two:
        api_login(one, "list@example.com")
        api_login(two, "list@example.com")
        listed = one.get("/api/auth/sessions").json()
        assert len(listed) == 2 and sum(s["current"] for s in listed) == 1
        other = next(s for s in listed if not s["current"])
        assert one.delete(f"/api/auth/sessions/{other['id']}", headers=ORIGIN).status_code == 204
        assert two.get("/api/auth/me").status_code == 401
        assert one.delete("/api/auth/sessions/nope", headers=ORIGIN).status_code == 404


def test_expired_sessions_of_absent_users_are_purged_at_the_next_login(app, client) -> None:  # noqa: ANN001
    make_user(app, "gone-for-good@example.com")
    make_user(app, "daily@example.com")
    with TestClient(app) as absent:
        api_login(absent, "gone-for-good@example.com")
    with build_session_factory(app.state.engine)() as db, db.begin():
        db.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    api_login(client, "daily@example.com")
    assert len(_sessions(app)) == 1  # only the new one; the stale row never presented is gone
