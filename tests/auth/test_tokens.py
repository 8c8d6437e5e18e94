"""Personal API tokens: shown once, stored as a hash, last use recorded, revocable."""

from datetime import timedelta

from sqlalchemy import select, update

from admin_app.db import build_session_factory
from auth.sessions import hash_secret
from models import ApiToken, User
from models.common import utcnow
from tests.factories import ORIGIN, api_login, bearer, make_user


def _token(client, name: str = "script") -> dict:  # noqa: ANN001
    response = client.post("/api/auth/tokens", json={"name": name}, headers=ORIGIN)
    assert response.status_code == 201, response.text
    return response.json()


def _rows(app) -> list[ApiToken]:  # noqa: ANN001
    with build_session_factory(app.state.engine)() as db:
        return list(db.execute(select(ApiToken)).scalars())


def test_create_shows_the_secret_once_and_stores_only_its_hash(app, client) -> None:  # noqa: ANN001
    make_user(app, "tok@example.com")
    api_login(client, "tok@example.com")
    created = _token(client)
    secret = created["token"]
    assert secret.startswith("tbo_") and len(secret) > 40
    [row] = _rows(app)
    assert row.token_hash == hash_secret(secret)
    assert secret not in {row.token_hash, row.prefix, row.name}
    listed = client.get("/api/auth/tokens").json()
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0] and secret not in str(listed)


def test_bearer_token_authenticates_and_records_last_use(app, client) -> None:  # noqa: ANN001
    make_user(app, "script@example.com")
    api_login(client, "script@example.com")
    secret = _token(client)["token"]
    client.cookies.clear()
    assert _rows(app)[0].last_used_at is None
    me = client.get("/api/auth/me", headers=bearer(secret))
    assert me.status_code == 200 and me.json()["email"] == "script@example.com"
    assert _rows(app)[0].last_used_at is not None


def test_bad_tokens_are_401(app, client) -> None:  # noqa: ANN001
    assert client.get("/api/auth/me", headers=bearer("tbo_nope")).status_code == 401
    assert client.get("/api/auth/me", headers={"Authorization": "Basic eDp5"}).status_code == 401
    response = client.get("/api/auth/me")
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


def test_token_after_revocation(app, client) -> None:  # noqa: ANN001
    make_user(app, "rev@example.com")
    api_login(client, "rev@example.com")
    created = _token(client)
    assert client.delete(f"/api/auth/tokens/{created['id']}", headers=ORIGIN).status_code == 204
    client.cookies.clear()
    assert client.get("/api/auth/me", headers=bearer(created["token"])).status_code == 401
    assert _rows(app)[0].revoked_at is not None


def test_cannot_revoke_someone_elses_token(app, client) -> None:  # noqa: ANN001
    make_user(app, "a@example.com")
    make_user(app, "b@example.com")
    api_login(client, "a@example.com")
    theirs = _token(client)
    api_login(client, "b@example.com")
    assert client.delete(f"/api/auth/tokens/{theirs['id']}", headers=ORIGIN).status_code == 404
    client.cookies.clear()
    assert client.get("/api/auth/me", headers=bearer(theirs["token"])).status_code == 200


def test_tokens_of_a_deactivated_user_stop_working(app, client) -> None:  # noqa: ANN001
    user_id = make_user(app, "deact@example.com")
    api_login(client, "deact@example.com")
    secret = _token(client)["token"]
    with build_session_factory(app.state.engine)() as db, db.begin():
        db.execute(update(User).where(User.id == user_id).values(is_active=False))
    client.cookies.clear()
    assert client.get("/api/auth/me", headers=bearer(secret)).status_code == 401


def test_expired_token_is_refused(app, client) -> None:  # noqa: ANN001
    make_user(app, "exp@example.com")
    api_login(client, "exp@example.com")
    response = client.post("/api/auth/tokens", json={"name": "x", "expires_in_days": 1}, headers=ORIGIN)
    secret = response.json()["token"]
    with build_session_factory(app.state.engine)() as db, db.begin():
        db.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    client.cookies.clear()
    assert client.get("/api/auth/me", headers=bearer(secret)).status_code == 401


def test_token_requests_are_exempt_from_the_origin_check(app, client) -> None:  # noqa: ANN001
    make_user(app, "ex@example.com")
    api_login(client, "ex@example.com")
    spare = _token(client, "spare")
    secret = _token(client)["token"]
    client.cookies.clear()
    # No Origin header, a cross-site Sec-Fetch-Site: a script's bearer request still passes.
    response = client.delete(f"/api/auth/tokens/{spare['id']}",
                             headers={**bearer(secret), "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 204


def test_token_name_is_validated(app, client) -> None:  # noqa: ANN001
    make_user(app, "val@example.com")
    api_login(client, "val@example.com")
    assert client.post("/api/auth/tokens", json={"name": ""}, headers=ORIGIN).status_code == 422
    assert client.post("/api/auth/tokens", json={"name": "x", "extra": 1}, headers=ORIGIN).status_code == 422


# --- what ends a token besides its own revocation ---------------------------------------

def _admin_headers(app) -> dict[str, str]:  # noqa: ANN001
    from auth.tokens import create_token

    admin_id = make_user(app, "boss@example.com", "admin")
    with build_session_factory(app.state.engine)() as db, db.begin():
        _row, raw = create_token(db, admin_id, "admin script")
    return bearer(raw)


def _patch_user(client, headers, user_id: int, **changes) -> None:  # noqa: ANN001
    version = client.get(f"/api/users/{user_id}", headers=headers).json()["version"]
    response = client.patch(f"/api/users/{user_id}", json={**changes, "version": version}, headers=headers)
    assert response.status_code == 200, response.text


def _audited_revocations(app) -> int:  # noqa: ANN001
    from sqlalchemy import func

    from models import AuditEntry

    with build_session_factory(app.state.engine)() as db:
        return db.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "token_revoked")
        ).scalar_one()


def test_deactivation_revokes_tokens_and_reactivation_brings_none_back(app, client) -> None:  # noqa: ANN001
    admin = _admin_headers(app)
    user_id = make_user(app, "leaver@example.com")
    api_login(client, "leaver@example.com")
    first, second = _token(client, "one")["token"], _token(client, "two")["token"]
    client.cookies.clear()
    _patch_user(client, admin, user_id, is_active=False)
    assert client.get("/api/auth/me", headers=bearer(first)).status_code == 401
    _patch_user(client, admin, user_id, is_active=True)
    for secret in (first, second):  # they were working before: they stay revoked
        assert client.get("/api/auth/me", headers=bearer(secret)).status_code == 401
    assert all(row.revoked_at is not None for row in _rows(app) if row.user_id == user_id)
    assert _audited_revocations(app) == 2
    api_login(client, "leaver@example.com")
    fresh = _token(client, "after")["token"]
    client.cookies.clear()
    assert client.get("/api/auth/me", headers=bearer(fresh)).status_code == 200


def test_deactivation_in_the_admin_revokes_tokens_for_good(app, client) -> None:  # noqa: ANN001
    from tests.factories import admin_login

    user_id = make_user(app, "benched@example.com")
    api_login(client, "benched@example.com")
    secret = _token(client)["token"]
    client.cookies.clear()
    make_user(app, "chief@example.com", "admin")
    admin_login(client, "chief@example.com")
    for action in ("deactivate", "activate"):
        response = client.post(f"/admin/user/action/{action}", data={"pks": str(user_id), "scope": "selected"},
                               headers=ORIGIN, follow_redirects=False)
        assert response.status_code in (302, 303)
    client.cookies.clear()
    assert client.get("/api/auth/me", headers=bearer(secret)).status_code == 401  # active again, token not


def test_my_password_change_revokes_my_tokens(app, client) -> None:  # noqa: ANN001
    make_user(app, "rotate@example.com")
    api_login(client, "rotate@example.com")
    secret = _token(client)["token"]
    response = client.post("/api/auth/password", headers=ORIGIN, json={
        "current_password": "correct horse battery staple", "new_password": "a different long password",
    })
    assert response.status_code == 204
    assert client.get("/api/auth/me").status_code == 200  # this session stays
    listed = client.get("/api/auth/tokens").json()
    assert [t["revoked_at"] is not None for t in listed] == [True]
    client.cookies.clear()
    assert client.get("/api/auth/me", headers=bearer(secret)).status_code == 401


def test_a_password_set_by_an_admin_revokes_the_users_tokens(app, client) -> None:  # noqa: ANN001
    admin = _admin_headers(app)
    user_id = make_user(app, "reset@example.com")
    api_login(client, "reset@example.com")
    secret = _token(client)["token"]
    client.cookies.clear()
    _patch_user(client, admin, user_id, password="set by the admin now")
    assert client.get("/api/auth/me", headers=bearer(secret)).status_code == 401


def test_a_role_change_keeps_tokens_which_act_with_the_new_role(app, client) -> None:  # noqa: ANN001
    admin = _admin_headers(app)
    user_id = make_user(app, "promoted@example.com")
    api_login(client, "promoted@example.com")
    secret = _token(client)["token"]
    client.cookies.clear()
    _patch_user(client, admin, user_id, role="editor", full_name="Promoted")
    me = client.get("/api/auth/me", headers=bearer(secret))
    assert me.status_code == 200 and me.json()["role"] == "editor"
