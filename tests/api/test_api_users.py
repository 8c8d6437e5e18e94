"""/api/users: staff accounts for admins, through the same service rules as the admin pages."""

from __future__ import annotations

import pytest

from tests.api.conftest import PASSWORD

NEW_PASSWORD = "another long passphrase"


def no_secrets(response) -> None:  # noqa: ANN001
    assert "$argon2" not in response.text
    body = response.json()
    users = body["items"] if "items" in body else [body]
    assert all(not any("password" in key for key in user) for user in users)


def listed(client, headers, **params) -> list[str]:  # noqa: ANN001
    response = client.get("/api/users", params=params, headers=headers)
    assert response.status_code == 200, response.text
    no_secrets(response)
    return [user["email"] for user in response.json()["items"]]


@pytest.fixture
def staff(make_user) -> dict[str, int]:  # noqa: ANN001
    people = {
        "ann@example.com": dict(role="editor", full_name="Ann Lee"),
        "bob@example.com": dict(role="viewer", full_name="Bob Stone", is_active=False),
        "cy@example.com": dict(role="admin", full_name="Cy Leeds"),
    }
    return {email: make_user(email=email, **fields).id for email, fields in people.items()}


def test_list_with_search_role_and_active_filters(client, admin, staff) -> None:  # noqa: ANN001
    everyone = listed(client, admin)
    assert len(everyone) == 4 and everyone[1:] == ["ann@example.com", "bob@example.com", "cy@example.com"]
    assert listed(client, admin, q="LEE") == ["ann@example.com", "cy@example.com"]
    assert listed(client, admin, q="bob@") == ["bob@example.com"]
    assert listed(client, admin, q="%") == []
    assert listed(client, admin, role="editor") == ["ann@example.com"]
    assert listed(client, admin, is_active="false") == ["bob@example.com"]
    assert listed(client, admin, role="admin", is_active="true", q="leeds") == ["cy@example.com"]


@pytest.mark.parametrize(
    "query", ["role=owner", "is_active=maybe", "q=a%00b", "limit=0", "limit=201", "sort=password", "nope=1"]
)
def test_list_refuses_bad_parameters(client, admin, query) -> None:  # noqa: ANN001
    assert client.get(f"/api/users?{query}", headers=admin).status_code == 422


def test_list_pages_and_counts(client, admin, staff, fetch_all) -> None:  # noqa: ANN001
    body = client.get("/api/users?limit=2&count=true", headers=admin).json()
    assert body["total"] == 4 and len(body["items"]) == 2 and body["next_cursor"]
    for sort in ("id", "-id", "email", "-email", "created_at", "-last_login_at"):
        emails = [u["email"] for u in fetch_all("/api/users", admin, sort=sort, limit=1)]
        assert sorted(emails) == sorted(listed(client, admin)), sort
    assert [u["email"] for u in fetch_all("/api/users", admin, sort="-email", limit=3)] == sorted(
        listed(client, admin), reverse=True
    )
    cursor = client.get("/api/users?limit=1&sort=email", headers=admin).json()["next_cursor"]
    assert client.get("/api/users", params={"cursor": cursor, "sort": "id"}, headers=admin).status_code == 422
    assert client.get("/api/users", params={"cursor": "junk"}, headers=admin).status_code == 422


def test_create_answers_201_with_location(client, admin) -> None:  # noqa: ANN001
    response = client.post(
        "/api/users",
        json={"email": " Dee@Example.COM ", "full_name": " Dee ", "role": "editor", "password": PASSWORD},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    no_secrets(response)
    user = response.json()
    assert (user["email"], user["full_name"], user["role"], user["is_active"]) == ("dee@example.com", "Dee", "editor", True)
    assert response.headers["location"].endswith(f"/api/users/{user['id']}")
    assert client.get(response.headers["location"], headers=admin).json() == user
    # and the new user can log in with that password
    login = client.post("/api/auth/login", json={"email": "dee@example.com", "password": PASSWORD},
                        headers={"Origin": "http://testserver"})
    assert login.status_code == 200


def test_create_can_make_an_inactive_user(client, admin) -> None:  # noqa: ANN001
    response = client.post(
        "/api/users", json={"email": "ina@example.com", "password": PASSWORD, "is_active": False}, headers=admin
    )
    assert response.status_code == 201 and response.json()["is_active"] is False


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "x@example.com", "password": "short"}, 422),
        ({"email": "x@example.com", "password": "p" * 129}, 422),
        ({"email": "not an email", "password": PASSWORD}, 422),
        ({"email": "x\x00@example.com", "password": PASSWORD}, 422),
        ({"email": "x@example.com", "password": PASSWORD, "full_name": "nul\x00"}, 422),
        ({"email": "x@example.com", "password": PASSWORD, "role": "owner"}, 422),
        ({"email": "x@example.com", "password": PASSWORD, "hashed_password": "$argon2id$x"}, 422),
        ({"email": "x@example.com"}, 422),
        ({"email": "ANN@example.com", "password": PASSWORD}, 409),
    ],
)
def test_create_refuses(client, admin, staff, body, status) -> None:  # noqa: ANN001
    before = listed(client, admin)
    response = client.post("/api/users", json=body, headers=admin)
    assert response.status_code == status, response.text
    assert "detail" in response.json()
    assert listed(client, admin) == before


def test_get_one_and_unknown_ids(client, versioned, admin, staff) -> None:  # noqa: ANN001
    response = client.get(f"/api/users/{staff['ann@example.com']}", headers=admin)
    assert response.status_code == 200 and response.json()["full_name"] == "Ann Lee"
    no_secrets(response)
    assert client.get("/api/users/9999", headers=admin).json() == {"detail": "User 9999 not found."}
    assert client.get("/api/users/9999", headers=admin).status_code == 404
    for bad in ("me", "0", str(2**63)):
        assert client.get(f"/api/users/{bad}", headers=admin).status_code == 422
    assert versioned.patch("/api/users/9999", json={"full_name": "x"}, headers=admin).status_code == 404
    assert client.delete("/api/users/9999", headers=admin).status_code == 404


def test_patch_role_active_name_and_email(client, versioned, admin, staff) -> None:  # noqa: ANN001
    ann = staff["ann@example.com"]
    response = versioned.patch(
        f"/api/users/{ann}",
        json={"role": "viewer", "is_active": False, "full_name": "Ann B. Lee", "email": "ANN.B@example.com"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    no_secrets(response)
    user = response.json()
    assert (user["role"], user["is_active"], user["full_name"], user["email"]) == (
        "viewer", False, "Ann B. Lee", "ann.b@example.com"
    )
    assert user["version"] == 2
    assert client.get(f"/api/users/{ann}", headers=admin).json() == user


def test_patch_password_follows_the_rules_and_works(client, versioned, admin, staff) -> None:  # noqa: ANN001
    ann = staff["ann@example.com"]
    assert versioned.patch(f"/api/users/{ann}", json={"password": "short"}, headers=admin).status_code == 422
    response = versioned.patch(f"/api/users/{ann}", json={"password": NEW_PASSWORD}, headers=admin)
    assert response.status_code == 200
    no_secrets(response)
    origin = {"Origin": "http://testserver"}
    assert client.post("/api/auth/login", json={"email": "ann@example.com", "password": PASSWORD}, headers=origin).status_code == 401
    assert client.post("/api/auth/login", json={"email": "ann@example.com", "password": NEW_PASSWORD}, headers=origin).status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "cy@example.com"}, 409),
        ({"email": None}, 422),
        ({"role": None}, 422),
        ({"is_active": None}, 422),
        ({"role": "owner"}, 422),
        ({"full_name": "a\x00b"}, 422),
        ({"full_name": "x" * 201}, 422),
        ({"hashed_password": "x"}, 422),
    ],
)
def test_patch_refuses_and_changes_nothing(client, versioned, admin, staff, body, status) -> None:  # noqa: ANN001
    ann = staff["ann@example.com"]
    before = client.get(f"/api/users/{ann}", headers=admin).json()
    response = versioned.patch(f"/api/users/{ann}", json=body, headers=admin)
    assert response.status_code == status, response.text
    assert client.get(f"/api/users/{ann}", headers=admin).json() == before


def test_the_last_active_admin_stays(client, versioned, make_user, headers_for) -> None:  # noqa: ANN001
    only = make_user("admin")
    headers = headers_for(only.id)
    for body in ({"role": "editor"}, {"is_active": False}):
        response = versioned.patch(f"/api/users/{only.id}", json=body, headers=headers)
        assert response.status_code == 409
        assert "last active admin" in response.json()["detail"]
    assert client.delete(f"/api/users/{only.id}", headers=headers).status_code == 409
    assert client.get(f"/api/users/{only.id}", headers=headers).json()["role"] == "admin"
    # with a second active admin, the first may be demoted
    second = make_user("admin")
    assert versioned.patch(f"/api/users/{second.id}", json={"role": "viewer"}, headers=headers).status_code == 200
    assert client.delete(f"/api/users/{second.id}", headers=headers).status_code == 204


def test_delete_answers_204(client, admin, staff) -> None:  # noqa: ANN001
    bob = staff["bob@example.com"]
    response = client.delete(f"/api/users/{bob}", headers=admin)
    assert response.status_code == 204 and response.content == b""
    assert client.get(f"/api/users/{bob}", headers=admin).status_code == 404
    assert "bob@example.com" not in listed(client, admin)


def test_patch_needs_the_version_read_and_refuses_a_stale_one(client, admin, staff) -> None:  # noqa: ANN001
    url = f"/api/users/{staff['ann@example.com']}"
    etag = client.get(url, headers=admin).headers["etag"]
    assert etag == '"1"'
    missing = client.patch(url, json={"full_name": "No version"}, headers=admin)
    assert missing.status_code == 428 and "If-Match" in missing.json()["detail"]
    ok = client.patch(url, json={"full_name": "First"}, headers={**admin, "If-Match": etag})
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    stale_header = client.patch(url, json={"full_name": "Second"}, headers={**admin, "If-Match": etag})
    assert stale_header.status_code == 412
    stale_body = client.patch(url, json={"full_name": "Third", "version": 1}, headers=admin)
    assert stale_body.status_code == 409
    assert client.get(url, headers=admin).json()["full_name"] == "First"
