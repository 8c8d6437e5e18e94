"""Who may call what: 401 without credentials, 403 for a role the table refuses (DESIGN.md).

| role   | tasks                                  | users      |
|--------|----------------------------------------|------------|
| viewer | list, details                          | -          |
| editor | everything, bulk actions included      | -          |
| admin  | everything                             | everything |
"""

from __future__ import annotations

import pytest

from auth import roles
from models import Role
from tests.api.conftest import PASSWORD

# name: (method, path, body, status on success)
ROUTES = {
    "list tasks": ("GET", "/api/tasks", None, 200),
    "get task": ("GET", "/api/tasks/{task}", None, 200),
    "create task": ("POST", "/api/tasks", {"title": "t"}, 201),
    "replace task": ("PUT", "/api/tasks/{task}", {"title": "t", "version": 1}, 200),
    "patch task": ("PATCH", "/api/tasks/{task}", {"priority": 2, "version": 1}, 200),
    "delete task": ("DELETE", "/api/tasks/{task}", None, 204),
    "bulk set": ("POST", "/api/tasks/bulk", {"ids": ["{task}"], "set": {"priority": 3}}, 200),
    "bulk delete": ("POST", "/api/tasks/bulk", {"ids": ["{task}"], "delete": True}, 200),
    "list users": ("GET", "/api/users", None, 200),
    "get user": ("GET", "/api/users/{user}", None, 200),
    "create user": ("POST", "/api/users", {"email": "new@example.com", "password": PASSWORD}, 201),
    "patch user": ("PATCH", "/api/users/{user}", {"full_name": "N", "version": 1}, 200),
    "delete user": ("DELETE", "/api/users/{user}", None, 204),
}
TASK_ROUTES = {name for name in ROUTES if "task" in name or name.startswith("bulk")}
ALLOWED = {
    "viewer": {"list tasks", "get task"},
    "editor": TASK_ROUTES,
    "admin": set(ROUTES),
}


def fill(value, ids: dict[str, int]):  # noqa: ANN001, ANN201
    """Put real ids into a path or body template."""
    if isinstance(value, str):
        for name, id_ in ids.items():
            if value == f"{{{name}}}":
                return id_
            value = value.replace(f"{{{name}}}", str(id_))
        return value
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


def call(client, route: str, ids: dict[str, int], headers: dict[str, str]):  # noqa: ANN001, ANN201
    method, path, body, _ok = ROUTES[route]
    kwargs = {} if body is None else {"json": fill(body, ids)}
    return client.request(method, fill(path, ids), headers=headers, **kwargs)


@pytest.fixture
def targets(insert_tasks, make_user) -> dict[str, int]:  # noqa: ANN001
    (task,) = insert_tasks([{}])
    return {"task": task, "user": make_user("viewer").id}


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_each_role_gets_what_the_table_grants(client, make_user, headers_for, targets, role, route) -> None:  # noqa: ANN001
    headers = headers_for(make_user(role).id)
    response = call(client, route, targets, headers)
    if route in ALLOWED[role]:
        assert response.status_code == ROUTES[route][3], response.text
    else:
        assert response.status_code == 403, response.text
        assert f"The {role} role may not" in response.json()["detail"]


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_no_credentials_is_401_before_anything_else(client, targets, route) -> None:  # noqa: ANN001
    response = call(client, route, targets, {})
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated."}
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization", ["Bearer tbo_not-a-real-token", "Bearer ", "Basic YWRtaW46YWRtaW4=", "tbo_x"]
)
def test_a_bad_token_is_401(client, authorization) -> None:  # noqa: ANN001
    response = client.get("/api/tasks", headers={"Authorization": authorization})
    assert response.status_code == 401


def test_a_deactivated_users_token_stops_working(client, admin, make_user, headers_for) -> None:  # noqa: ANN001
    user = make_user("editor")
    headers = headers_for(user.id)
    assert client.get("/api/tasks", headers=headers).status_code == 200
    assert client.patch(f"/api/users/{user.id}", json={"is_active": False, "version": 1}, headers=admin).status_code == 200
    assert client.get("/api/tasks", headers=headers).status_code == 401


def test_403_comes_before_body_validation(client, viewer) -> None:  # noqa: ANN001
    response = client.post("/api/tasks", json={"title": ""}, headers=viewer)
    assert response.status_code == 403


def test_bulk_asks_for_edit_to_set_and_delete_to_delete(client, monkeypatch, make_user, headers_for, insert_tasks) -> None:  # noqa: ANN001
    """A role allowed to delete but not edit (none today) gets exactly what it is granted."""
    monkeypatch.setitem(roles.ROLE_GRANTS, Role.viewer, frozenset({("task", "list"), ("task", "delete")}))
    headers = headers_for(make_user("viewer").id)
    a, b = insert_tasks([{}, {}])
    refused = client.post("/api/tasks/bulk", json={"ids": [a], "set": {"priority": 2}}, headers=headers)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "The viewer role may not edit task."}
    deleted = client.post("/api/tasks/bulk", json={"ids": [a], "delete": True}, headers=headers)
    assert deleted.json() == {"count": 1, "matched": 1}
