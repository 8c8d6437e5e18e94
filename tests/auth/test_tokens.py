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
