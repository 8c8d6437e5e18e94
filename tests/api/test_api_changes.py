"""Change sets and their revert over the API, on SQLite and PostgreSQL (issue 15)."""

from __future__ import annotations

from sqlalchemy import select

from models import AuditEntry, ChangeSet, Task, User
from tests.helpers import recorded_statements


def changes(client, headers, **params):  # noqa: ANN001, ANN003, ANN201
    return client.get("/api/changes", params=params, headers=headers).json()["items"]


def latest(client, admin) -> dict:  # noqa: ANN001
    return changes(client, admin, limit=1)[0]


def revert(client, headers, change_set_id: int, **body):  # noqa: ANN001, ANN003, ANN201
    return client.post(f"/api/changes/{change_set_id}/revert", json=body or None, headers=headers)


def task(client, headers, task_id: int) -> dict:  # noqa: ANN001
    return client.get(f"/api/tasks/{task_id}", headers=headers).json()


def test_every_write_is_one_change_set_with_a_summary(client, admin, editor, insert_tasks) -> None:  # noqa: ANN001
    ids = insert_tasks([{}, {}, {"status": "done"}])
    client.patch(f"/api/tasks/{ids[0]}", json={"priority": 3, "version": 1}, headers=editor)
    assert latest(client, admin)["summary"] == f"Edit task {ids[0]}"
    client.post("/api/tasks/bulk", json={"ids": ids, "set": {"status": "done"}}, headers=editor)
    bulk = latest(client, admin)
    assert bulk["summary"] == "Edit 2 tasks" and bulk["size"] == 2 and bulk["via"] == "api"
    detail = client.get(f"/api/changes/{bulk['id']}?limit=1", headers=admin).json()
    assert len(detail["entries"]) == 1 and detail["next_cursor"]
    assert detail["entries"][0]["change_set_id"] == bulk["id"]
    second = client.get(f"/api/changes/{bulk['id']}?limit=1&cursor={detail['next_cursor']}", headers=admin).json()
    assert second["entries"][0]["id"] > detail["entries"][0]["id"] and second["next_cursor"] is None
    created = client.post("/api/tasks", json={"title": "new"}, headers=editor).json()
    assert latest(client, admin)["summary"] == f"Create task {created['id']}"
    assert [c["summary"] for c in changes(client, admin, entity_id=str(ids[0]), entity="task")][0] == "Edit 2 tasks"
    # newest first, and a login (an event, not a change) makes none
    listed = changes(client, admin)
    assert [c["id"] for c in listed] == sorted((c["id"] for c in listed), reverse=True)


def test_undo_a_bulk_edit_then_redo_it(client, admin, editor, insert_tasks) -> None:  # noqa: ANN001
    ids = insert_tasks([{"priority": 2}, {"priority": 3}, {"status": "done"}])
    client.post("/api/tasks/bulk", json={"ids": ids, "set": {"status": "done"}}, headers=editor)
    change = latest(client, admin)
    preview = revert(client, editor, change["id"], dry_run=True).json()
    assert preview["restorable"] == 2 and preview["conflicts"] == [] and preview["refused"] is None
    assert task(client, editor, ids[0])["status"] == "done"  # the preview wrote nothing
    done = revert(client, editor, change["id"])
    assert done.status_code == 200, done.text
    undo = done.json()["change_set"]
    assert undo["reverts_id"] == change["id"] and undo["size"] == 2
    first = task(client, editor, ids[0])
    assert first["status"] == "pending" and first["completed_at"] is None and first["version"] == 3
    assert task(client, editor, ids[2])["status"] == "done"  # not part of the change
    redo = revert(client, editor, undo["id"])
    assert redo.status_code == 200, redo.text
    assert task(client, editor, ids[0])["status"] == "done" and task(client, editor, ids[0])["completed_at"]
    assert task(client, editor, ids[0])["version"] == 4
    again = revert(client, editor, change["id"])  # the rows no longer hold what it wrote... but they do again
    assert again.status_code == 200


def test_conflicts_are_previewed_and_left_alone(client, admin, editor, insert_tasks) -> None:  # noqa: ANN001
    a, b, c = insert_tasks([{}, {}, {}])
    client.post("/api/tasks/bulk", json={"ids": [a, b, c], "set": {"priority": 5}}, headers=editor)
    change = latest(client, admin)
    client.patch(f"/api/tasks/{b}", json={"priority": 4, "version": 2}, headers=editor)
    client.delete(f"/api/tasks/{c}", headers={**editor, "If-Match": '"2"'})
    preview = revert(client, editor, change["id"], dry_run=True).json()
    assert preview["restorable"] == 1 and preview["conflict_count"] == 2
    assert {(x["id"], x["reason"], tuple(x["fields"])) for x in preview["conflicts"]} == {
        (b, "changed since", ("priority",)), (c, "deleted since", ()),
    }
    body = revert(client, editor, change["id"]).json()
    assert body["restorable"] == 1 and body["change_set"]["size"] == 1 and body["conflict_count"] == 2
    # The rows the revert left out, as the preview listed them: with the fields that differ.
    assert {(x["id"], x["reason"], tuple(x["fields"])) for x in body["conflicts"]} == {
        (b, "changed since", ("priority",)), (c, "deleted since", ()),
    }
    assert task(client, editor, a)["priority"] == 1 and task(client, editor, b)["priority"] == 4
    assert client.get(f"/api/tasks/{c}", headers=editor).status_code == 404
    nothing = revert(client, editor, change["id"])
    assert nothing.status_code == 409 and "Nothing" in nothing.json()["detail"]


def test_a_deleted_task_comes_back_with_its_assignee(client, admin, editor, insert_tasks, make_user) -> None:  # noqa: ANN001
    sam, kim = make_user("viewer"), make_user("viewer")
    a, b = insert_tasks([{"assignee_id": sam.id, "title": "kept"}, {"assignee_id": kim.id}])
    client.post("/api/tasks/bulk", json={"ids": [a, b], "delete": True}, headers=editor)
    change = latest(client, admin)
    assert change["summary"] == "Delete 2 tasks"
    assert client.delete(f"/api/users/{kim.id}", headers=admin).status_code == 204
    preview = revert(client, editor, change["id"], dry_run=True).json()
    assert preview["restorable"] == 2
    assert preview["references_cleared"] == [{"entity": "task", "id": b, "field": "assignee_id"}]
    assert revert(client, editor, change["id"]).status_code == 200
    back = task(client, editor, a)
    assert back["title"] == "kept" and back["assignee"]["id"] == sam.id and back["version"] == 1
    assert task(client, editor, b)["assignee"] is None
    created = client.post("/api/tasks", json={"title": "undo me"}, headers=editor).json()
    made = latest(client, admin)
    assert revert(client, editor, made["id"]).status_code == 200
    assert client.get(f"/api/tasks/{created['id']}", headers=editor).status_code == 404


def test_viewer_and_missing_permissions_are_refused(client, admin, editor, viewer, insert_tasks, make_user) -> None:  # noqa: ANN001
    (a,) = insert_tasks([{}])
    client.patch(f"/api/tasks/{a}", json={"priority": 2, "version": 1}, headers=editor)
    change = latest(client, admin)
    assert revert(client, viewer, change["id"], dry_run=True).status_code == 403
    assert revert(client, viewer, change["id"]).status_code == 403
    assert client.get("/api/changes", headers=editor).status_code == 403
    user = make_user("viewer")
    client.patch(f"/api/users/{user.id}", json={"role": "editor", "version": 1}, headers=admin).raise_for_status()
    user_change = latest(client, admin)
    refused = revert(client, editor, user_change["id"])
    assert refused.status_code == 403 and "edit users" in refused.json()["detail"]
    assert revert(client, admin, 999999).status_code == 404


def test_a_revert_that_would_remove_the_last_admin_is_refused(client, app, admin, make_user, headers_for) -> None:  # noqa: ANN001
    with app.state.session_factory() as db:
        first = db.execute(select(User).where(User.role == "admin")).scalar_one()
    other = make_user("editor")
    other_headers = headers_for(other.id)
    client.patch(f"/api/users/{other.id}", json={"role": "admin", "version": 1}, headers=admin).raise_for_status()
    promoted = latest(client, admin)
    client.patch(f"/api/users/{first.id}", json={"is_active": False, "version": first.version},
                 headers=other_headers).raise_for_status()
    preview = revert(client, other_headers, promoted["id"], dry_run=True).json()
    assert preview["restorable"] == 1 and "last active admin" in preview["refused"]
    refused = revert(client, other_headers, promoted["id"])
    assert refused.status_code == 409 and "last active admin" in refused.json()["detail"]
    with app.state.session_factory() as db:
        assert db.get(User, other.id).role == "admin"


def test_a_password_change_is_never_reverted(client, admin, make_user) -> None:  # noqa: ANN001
    user = make_user("viewer")
    client.patch(f"/api/users/{user.id}", json={"password": "another long passphrase", "full_name": "New", "version": 1},
                 headers=admin).raise_for_status()
    change = latest(client, admin)
    preview = revert(client, admin, change["id"], dry_run=True).json()
    assert preview["not_revertible"] == [{"entity": "user", "id": user.id, "fields": ["password"]}]
    assert preview["restorable"] == 1
    assert revert(client, admin, change["id"]).status_code == 200


def _bulk_and_revert(client, app, admin, editor, insert_tasks, n: int) -> int:  # noqa: ANN001
    insert_tasks([{} for _ in range(n)])
    client.post("/api/tasks/bulk", json={"filter": {"status": ["pending"]}, "set": {"status": "done"}}, headers=editor)
    change = latest(client, admin)
    assert change["size"] == n
    with recorded_statements(app.state.engine) as statements:
        assert revert(client, editor, change["id"]).status_code == 200
    with app.state.session_factory() as db:
        assert db.scalar(select(Task.id).where(Task.status == "done").limit(1)) is None
        entries = db.scalars(select(AuditEntry.id).where(AuditEntry.change_set_id == change["id"] + 1)).all()
        assert len(entries) == n and db.get(ChangeSet, change["id"] + 1).size == n
        db.execute(Task.__table__.delete())
        db.commit()
    return len(statements)


def test_reverting_a_10000_row_bulk_edit_is_a_constant_number_of_statements(
    client, app, admin, editor, insert_tasks,  # noqa: ANN001
) -> None:
    small = _bulk_and_revert(client, app, admin, editor, insert_tasks, 100)
    large = _bulk_and_revert(client, app, admin, editor, insert_tasks, 10_000)
    assert small == large and small < 60


def test_a_deleted_user_comes_back_unless_the_email_is_taken(client, app, admin, make_user) -> None:  # noqa: ANN001
    sam, kim = make_user("editor", email="sam@example.com"), make_user("editor", email="kim@example.com")
    make_user("viewer")  # kept: SQLite gives a new row the highest id + 1, which must not be sam's or kim's
    for user in (sam, kim):
        assert client.delete(f"/api/users/{user.id}", headers=admin).status_code == 204
    deleted = [c["id"] for c in changes(client, admin, limit=2)]
    make_user("viewer", email="kim@example.com")  # the address is someone else's now
    preview = revert(client, admin, deleted[0], dry_run=True).json()  # kim's delete
    assert preview["restorable"] == 0
    assert preview["conflicts"] == [{"entity": "user", "id": kim.id, "reason": "value taken", "fields": ["email"]}]
    assert revert(client, admin, deleted[0]).status_code == 409
    sams = revert(client, admin, deleted[1])
    assert sams.status_code == 200, (sams.text, changes(client, admin))  # sam's
    back = client.get(f"/api/users/{sam.id}", headers=admin).json()
    assert back["email"] == "sam@example.com" and back["role"] == "editor"
    login = client.post("/api/auth/login", json={"email": "sam@example.com", "password": "a long enough passphrase"},
                        headers={"Origin": "http://testserver"})
    assert login.status_code == 401  # the password is not put back: an admin sets a new one


def test_reverting_a_user_delete_assigns_their_tasks_again(client, admin, editor, insert_tasks, make_user) -> None:  # noqa: ANN001
    sam = make_user("viewer")
    ids = insert_tasks([{"assignee_id": sam.id}] * 3 + [{}])
    assert client.delete(f"/api/users/{sam.id}", headers=admin).status_code == 204
    change = latest(client, admin)
    assert change["size"] == 4 and all(task(client, editor, i)["assignee"] is None for i in ids)
    preview = revert(client, admin, change["id"], dry_run=True).json()
    assert preview["restorable"] == 4 and preview["conflicts"] == []
    assert revert(client, admin, change["id"]).status_code == 200
    assert [(task(client, editor, i)["assignee"] or {}).get("id") for i in ids] == [sam.id] * 3 + [None]


def test_a_user_who_cannot_come_back_leaves_the_tasks_unassigned(client, admin, editor, insert_tasks, make_user) -> None:  # noqa: ANN001
    sam = make_user("viewer", email="sam@example.com")
    make_user("viewer")  # a higher id: SQLite does not give sam's to the next account
    (a,) = insert_tasks([{"assignee_id": sam.id}])
    assert client.delete(f"/api/users/{sam.id}", headers=admin).status_code == 204
    change = latest(client, admin)
    make_user("viewer", email="sam@example.com")  # the email is taken again: sam is not re-created
    done = revert(client, admin, change["id"])
    assert done.status_code == 409, done.text  # nothing could be restored, and no 500
    assert task(client, editor, a)["assignee"] is None
