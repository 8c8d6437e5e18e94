"""/api/tasks: create, read, replace, patch and delete one task."""

from __future__ import annotations

import pytest

from admin_app.errors import Conflict
from admin_app.resources.tasks import TASKS
from admin_app.services import records
from admin_app.services.actor import SYSTEM_ACTOR
from admin_app.services.unit import WriteContext
from models import TaskUpdate

FIELDS = {
    "id", "title", "description", "status", "priority", "due_date", "assignee", "project_id",
    "created_by_id", "created_at", "updated_at", "completed_at", "version",
}


def create(client, headers, **body):  # noqa: ANN001, ANN201
    response = client.post("/api/tasks", json={"title": "Learn SQLModel", **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_answers_201_with_location_and_the_full_task(client, editor) -> None:  # noqa: ANN001
    response = client.post(
        "/api/tasks",
        json={"title": "  Renew the lease ", "description": "call", "priority": 3, "due_date": "2026-12-01"},
        headers=editor,
    )
    assert response.status_code == 201
    task = response.json()
    assert set(task) == FIELDS
    assert task["title"] == "Renew the lease"
    assert (task["status"], task["priority"], task["due_date"]) == ("pending", 3, "2026-12-01")
    assert task["assignee"] is None and task["completed_at"] is None and task["version"] == 1
    assert task["created_at"] and task["updated_at"] and task["created_by_id"] is not None
    assert response.headers["location"].endswith(f"/api/tasks/{task['id']}")
    assert response.headers["etag"] == '"1"'
    assert client.get(response.headers["location"], headers=editor).json() == task


def test_assignee_is_id_email_and_name_only(client, editor, make_user) -> None:  # noqa: ANN001
    user = make_user("viewer", email="Sam@Example.com", full_name="Sam Lee")
    response = client.post("/api/tasks", json={"title": "t", "assignee_id": user.id}, headers=editor)
    assert response.json()["assignee"] == {"id": user.id, "email": "sam@example.com", "full_name": "Sam Lee"}
    assert "argon2" not in response.text and "hashed_password" not in response.text


def test_done_sets_completed_at(client, editor) -> None:  # noqa: ANN001
    assert create(client, editor, status="done")["completed_at"] is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "nul\x00byte"}, "title"),
        ({"title": "ok", "description": "nul\x00"}, "description"),
        ({"title": "ok", "priority": 0}, "priority"),
        ({"title": "ok", "status": "archived"}, "status"),
        ({"title": "ok", "due_date": "tomorrow"}, "due_date"),
        ({"title": "ok", "assignee_id": 2**70}, "assignee_id"),
        ({"title": "ok", "owner": "me"}, "owner"),
    ],
)
def test_create_refuses_invalid_bodies_field_by_field(client, editor, body, field) -> None:  # noqa: ANN001
    response = client.post("/api/tasks", json=body, headers=editor)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [e["loc"] for e in errors] == [["body", field]]
    assert client.get("/api/tasks", headers=editor).json()["items"] == []


def test_create_refuses_an_unknown_assignee(client, editor) -> None:  # noqa: ANN001
    response = client.post("/api/tasks", json={"title": "t", "assignee_id": 999}, headers=editor)
    assert response.status_code == 422
    assert response.json() == {"detail": "assignee_id: no user with id 999"}
    assert client.get("/api/tasks", headers=editor).json()["items"] == []


def test_create_refuses_a_body_that_is_not_an_object(client, editor) -> None:  # noqa: ANN001
    response = client.post("/api/tasks", content=b"not json", headers={**editor, "Content-Type": "application/json"})
    assert response.status_code == 422


def test_get_one_has_the_version_as_etag(client, viewer, editor) -> None:  # noqa: ANN001
    task = create(client, editor)
    response = client.get(f"/api/tasks/{task['id']}", headers=viewer)
    assert response.status_code == 200
    assert response.json() == task
    assert response.headers["etag"] == '"1"'


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_unknown_id_is_404_with_detail(client, versioned, editor, method) -> None:  # noqa: ANN001
    kwargs = {"json": {"title": "t"}} if method in ("put", "patch") else {}
    response = getattr(client, method)("/api/tasks/999", headers=editor, **kwargs)
    assert response.status_code == 404
    assert response.json() == {"detail": "Task 999 not found."}


@pytest.mark.parametrize("task_id", ["abc", "1.5", "0", "-1", str(2**31), str(2**64), str(10**30)])
def test_ids_that_cannot_name_a_row_are_422(client, editor, task_id) -> None:  # noqa: ANN001
    for method in ("get", "delete"):
        response = getattr(client, method)(f"/api/tasks/{task_id}", headers=editor)
        assert response.status_code == 422, (method, response.text)
        assert response.json()["detail"][0]["loc"] == ["path", "task_id"]


def test_put_replaces_every_field(client, versioned, editor, make_user) -> None:  # noqa: ANN001
    user = make_user("viewer")
    task = create(
        client, editor, description="d", status="done", priority=4, due_date="2026-12-01",
        assignee_id=user.id,
    )
    response = versioned.put(f"/api/tasks/{task['id']}", json={"title": "new title"}, headers=editor)
    assert response.status_code == 200
    replaced = response.json()
    assert replaced["title"] == "new title"
    assert (replaced["description"], replaced["status"], replaced["priority"]) == (None, "pending", 1)
    assert (replaced["due_date"], replaced["assignee"], replaced["completed_at"]) == (None, None, None)
    assert replaced["version"] == 2 and response.headers["etag"] == '"2"'
    assert replaced["created_at"] == task["created_at"]
    assert replaced["updated_at"] > task["updated_at"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "title"), ({"title": ""}, "title"), ({"title": "t", "extra": 1}, "extra"), ({"title": "t", "version": 0}, "version")],
)
def test_put_validates_like_create(client, versioned, editor, body, field) -> None:  # noqa: ANN001
    task = create(client, editor)
    response = versioned.put(f"/api/tasks/{task['id']}", json=body, headers=editor)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert client.get(f"/api/tasks/{task['id']}", headers=editor).json() == task


def test_patch_changes_only_the_fields_sent(client, versioned, editor) -> None:  # noqa: ANN001
    task = create(client, editor, description="keep me", priority=2, due_date="2026-12-01")
    response = versioned.patch(f"/api/tasks/{task['id']}", json={"priority": 5}, headers=editor)
    assert response.status_code == 200
    patched = response.json()
    assert patched["priority"] == 5
    assert {k: v for k, v in patched.items() if k not in ("priority", "updated_at", "version")} == {
        k: v for k, v in task.items() if k not in ("priority", "updated_at", "version")
    }
    assert patched["version"] == 2


def test_patch_status_moves_completed_at(client, versioned, editor) -> None:  # noqa: ANN001
    task = create(client, editor)
    done = versioned.patch(f"/api/tasks/{task['id']}", json={"status": "done"}, headers=editor).json()
    assert done["completed_at"] is not None
    reopened = versioned.patch(f"/api/tasks/{task['id']}", json={"status": "in_progress"}, headers=editor).json()
    assert reopened["completed_at"] is None


def test_patch_can_unassign_and_clear(client, versioned, editor, make_user) -> None:  # noqa: ANN001
    user = make_user("viewer")
    task = create(client, editor, assignee_id=user.id, description="x")
    patched = versioned.patch(
        f"/api/tasks/{task['id']}", json={"assignee_id": None, "description": None}, headers=editor
    ).json()
    assert patched["assignee"] is None and patched["description"] is None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"title": None}, 422),
        ({"status": None}, 422),
        ({"priority": 6}, 422),
        ({"title": "a\x00b"}, 422),
        ({"unknown": 1}, 422),
        ({"assignee_id": 424242}, 422),
        ({"assignee_id": "x"}, 422),
    ],
)
def test_patch_refuses_bad_input_and_changes_nothing(client, versioned, editor, body, status) -> None:  # noqa: ANN001
    task = create(client, editor)
    response = versioned.patch(f"/api/tasks/{task['id']}", json=body, headers=editor)
    assert response.status_code == status
    assert "detail" in response.json()
    assert client.get(f"/api/tasks/{task['id']}", headers=editor).json() == task


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_stale_version_is_409_and_changes_nothing(client, editor, method) -> None:  # noqa: ANN001
    task = create(client, editor)
    url = f"/api/tasks/{task['id']}"
    ok = getattr(client, method)(url, json={"title": "first", "version": 1}, headers=editor)
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = getattr(client, method)(url, json={"title": "second", "version": 1}, headers=editor)
    assert stale.status_code == 409
    assert "version 2" in stale.json()["detail"]
    assert client.get(url, headers=editor).json() == ok.json()


def test_a_concurrent_write_between_read_and_flush_is_a_conflict(app, client, editor) -> None:  # noqa: ANN001
    """The ORM's version check (not only the body's version) turns a lost update into a 409."""
    task = create(client, editor)
    with app.state.session_factory() as mine, app.state.session_factory() as theirs:
        loaded = records.get(mine, TASKS, task["id"])
        records.update(
            WriteContext(theirs, SYSTEM_ACTOR), TASKS, records.get(theirs, TASKS, task["id"]), TaskUpdate(priority=3)
        )
        theirs.commit()
        with pytest.raises(Conflict):
            records.update(WriteContext(mine, SYSTEM_ACTOR), TASKS, loaded, TaskUpdate(priority=5))
        mine.rollback()
    assert client.get(f"/api/tasks/{task['id']}", headers=editor).json()["priority"] == 3


def test_delete_answers_204_then_404(client, editor) -> None:  # noqa: ANN001
    task = create(client, editor)
    response = client.delete(f"/api/tasks/{task['id']}", headers=editor)
    assert response.status_code == 204 and response.content == b""
    assert client.get(f"/api/tasks/{task['id']}", headers=editor).status_code == 404
    assert client.delete(f"/api/tasks/{task['id']}", headers=editor).status_code == 404


def test_deleting_the_assignee_unassigns_the_task(client, editor, admin, make_user) -> None:  # noqa: ANN001
    user = make_user("viewer")
    task = create(client, editor, assignee_id=user.id)
    assert client.delete(f"/api/users/{user.id}", headers=admin).status_code == 204
    assert client.get(f"/api/tasks/{task['id']}", headers=editor).json()["assignee"] is None


@pytest.mark.parametrize("method", ["put", "patch"])
def test_the_version_read_is_required(client, editor, method) -> None:  # noqa: ANN001
    task = create(client, editor)
    url = f"/api/tasks/{task['id']}"
    response = getattr(client, method)(url, json={"title": "no version"}, headers=editor)
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]
    assert client.get(url, headers=editor).json() == task


@pytest.mark.parametrize("method", ["put", "patch"])
def test_if_match_with_the_etag_from_get(client, editor, method) -> None:  # noqa: ANN001
    task = create(client, editor)
    url = f"/api/tasks/{task['id']}"
    etag = client.get(url, headers=editor).headers["etag"]
    ok = getattr(client, method)(url, json={"title": "first"}, headers={**editor, "If-Match": etag})
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    stale = getattr(client, method)(url, json={"title": "second"}, headers={**editor, "If-Match": etag})
    assert stale.status_code == 412 and "changed by someone else" in stale.json()["detail"]
    garbage = getattr(client, method)(url, json={"title": "x"}, headers={**editor, "If-Match": "abc"})
    assert garbage.status_code == 400
    both = getattr(client, method)(url, json={"title": "x", "version": 1}, headers={**editor, "If-Match": '"2"'})
    assert both.status_code == 400
    assert client.get(url, headers=editor).json()["title"] == "first"


def test_delete_with_a_stale_if_match_keeps_the_task(client, editor) -> None:  # noqa: ANN001
    task = create(client, editor)
    url = f"/api/tasks/{task['id']}"
    client.patch(url, json={"priority": 4, "version": 1}, headers=editor)
    assert client.delete(url, headers={**editor, "If-Match": '"1"'}).status_code == 412
    assert client.get(url, headers=editor).status_code == 200
    assert client.delete(url, headers={**editor, "If-Match": '"2"'}).status_code == 204
