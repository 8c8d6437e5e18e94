"""/api/views: saved views over the API, and running one by name on its list's route."""

from __future__ import annotations

from sqlalchemy import select

from models import AuditEntry, Role


def create(client, headers, **body):  # noqa: ANN001, ANN003, ANN201
    return client.post("/api/views", json={"resource": "task", **body}, headers=headers)


def test_create_get_list_patch_delete(client, editor, app) -> None:  # noqa: ANN001
    made = create(client, editor, name="Urgent", query="priority=5&sortBy=due_date&sort=asc&page=3",
                  columns=["id", "title"])
    assert made.status_code == 201, made.text
    view = made.json()
    assert made.headers["location"] == f"http://testserver/api/views/{view['id']}"
    assert (view["name"], view["query"], view["columns"], view["shared"]) == (
        "Urgent", "priority=5&sortBy=due_date&sort=asc", ["id", "title"], False)
    assert client.get(f"/api/views/{view['id']}", headers=editor).json() == view
    assert client.get("/api/views", headers=editor).json() == {"items": [view]}
    assert client.get("/api/views", params={"resource": "project"}, headers=editor).json() == {"items": []}
    changed = client.patch(f"/api/views/{view['id']}", json={"name": "Very urgent", "query": "priority=4,5"},
                           headers=editor)
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["query"], changed.json()["columns"]) == (
        "Very urgent", "priority=4%2C5", ["id", "title"])
    assert changed.json()["version"] == 2
    assert client.delete(f"/api/views/{view['id']}", headers=editor).status_code == 204
    assert client.get(f"/api/views/{view['id']}", headers=editor).status_code == 404
    with app.state.session_factory() as db:
        actions = db.execute(select(AuditEntry.action, AuditEntry.via).where(AuditEntry.entity == "saved_view")
                             .order_by(AuditEntry.id)).all()
    assert [tuple(a) for a in actions] == [("create", "api"), ("update", "api"), ("delete", "api")]


def test_run_by_name_gives_the_rows_the_list_gives_with_those_filters(client, editor, insert_tasks) -> None:  # noqa: ANN001
    insert_tasks([{"status": ["done", "pending", "in_progress"][i % 3], "priority": 1 + i % 5} for i in range(40)])
    create(client, editor, name="Done or pending, urgent first", query="status=done,pending&sortBy=priority&sort=desc")
    direct = client.get("/api/tasks", params={"status": ["done", "pending"], "sort": "-priority", "limit": 7,
                                              "count": "true"}, headers=editor).json()
    by_name = client.get("/api/tasks", params={"view": "Done or pending, urgent first", "limit": 7, "count": "true"},
                         headers=editor).json()
    assert by_name == direct and by_name["total"] == 27
    # the next page too: the cursor goes with the view
    after = {"cursor": direct["next_cursor"], "limit": 7}
    assert (client.get("/api/tasks", params={**after, "view": "Done or pending, urgent first"}, headers=editor).json()
            == client.get("/api/tasks", params={**after, "status": ["done", "pending"], "sort": "-priority"},
                          headers=editor).json())


def test_run_by_name_is_alone_and_mine_comes_first(client, admin, editor, make_user, headers_for, insert_tasks) -> None:  # noqa: ANN001
    insert_tasks([{"status": "done"}, {"status": "pending"}])
    assert create(client, admin, name="Open", query="status=pending", shared=True).status_code == 201
    shared = client.get("/api/tasks", params={"view": "Open"}, headers=editor).json()["items"]
    assert [t["status"] for t in shared] == ["pending"]
    create(client, editor, name="Open", query="status=done")
    mine = client.get("/api/tasks", params={"view": "Open"}, headers=editor).json()["items"]
    assert [t["status"] for t in mine] == ["done"]
    mixed = client.get("/api/tasks", params={"view": "Open", "status": "pending"}, headers=editor)
    assert mixed.status_code == 422 and mixed.json()["detail"] == (
        "view: give it alone (with limit, cursor and count), not with status.")
    assert client.get("/api/tasks", params={"view": "Open", "sort": "title"}, headers=editor).status_code == 422
    missing = client.get("/api/tasks", params={"view": "Nope"}, headers=editor)
    assert missing.status_code == 404 and missing.json()["detail"] == "No saved view 'Nope' of tasks."
    stranger = headers_for(make_user(Role.editor).id)
    assert client.get("/api/tasks", params={"view": "Open"}, headers=stranger).json()["items"] == shared


def test_personal_is_private_shared_is_for_admins(client, admin, editor, viewer, make_user, headers_for) -> None:  # noqa: ANN001
    mine = create(client, editor, name="Mine").json()
    other = headers_for(make_user(Role.editor).id)
    for method in ("get", "patch", "delete"):
        kwargs = {"json": {"name": "x"}} if method == "patch" else {}
        answer = getattr(client, method)(f"/api/views/{mine['id']}", headers=other, **kwargs)
        assert answer.status_code == 404, method
    assert client.get("/api/views", headers=other).json() == {"items": []}
    refused = create(client, editor, name="Everyone", shared=True)
    assert refused.status_code == 403 and refused.json()["detail"] == "The editor role may not share views."
    assert client.patch(f"/api/views/{mine['id']}", json={"shared": True}, headers=editor).status_code == 403
    team = create(client, admin, name="Team", shared=True).json()
    assert [v["name"] for v in client.get("/api/views", headers=viewer).json()["items"]] == ["Team"]
    renamed = client.patch(f"/api/views/{team['id']}", json={"name": "Mine"}, headers=viewer)
    assert renamed.status_code == 403 and renamed.json()["detail"] == "The viewer role may not manage shared views."
    deleted = client.delete(f"/api/views/{team['id']}", headers=editor)
    assert deleted.status_code == 403 and deleted.json()["detail"] == "The editor role may not delete shared views."
    assert client.patch(f"/api/views/{team['id']}", json={"shared": False}, headers=admin).json()["shared"] is False
    assert client.get("/api/views", headers=viewer).json() == {"items": []}  # the admin's personal one now
    users = client.post("/api/views", json={"resource": "user", "name": "Staff"}, headers=viewer)
    assert users.status_code == 403 and users.json()["detail"] == "The viewer role may not list users."
    assert create(client, viewer, name="Viewer's own").status_code == 201


def test_invalid_input_is_refused_with_a_message(client, editor, admin) -> None:  # noqa: ANN001
    create(client, editor, name="Taken")
    assert create(client, editor, name="Taken").status_code == 409
    assert create(client, editor, name="  Taken ").json()["detail"] == "You already have a view named 'Taken' of this list."
    create(client, admin, name="Shared", shared=True)
    assert create(client, editor, name="Shared").status_code == 201  # a personal one may share a shared one's name
    other_admin = create(client, admin, name="Shared", shared=True)
    assert other_admin.status_code == 409
    for query, message in (("priority=9", "Invalid filter"), ("sortBy=nope", "Invalid sort parameter"),
                           ("pageSize=3", "Invalid page size")):
        refused = create(client, editor, name=f"Bad {query}", query=query)
        assert refused.status_code == 422 and isinstance(refused.json()["detail"], str)
        assert refused.json()["detail"].startswith(message), refused.json()
    bad_column = create(client, editor, name="Columns", columns=["hashed_password"])
    assert bad_column.status_code == 422 and "no column" in bad_column.json()["detail"]
    for name in ("", "   ", "x" * 81):
        assert create(client, editor, name=name).status_code == 422
    assert create(client, editor, name="x", extra=1).status_code == 422
    mine = create(client, editor, name="Patched").json()
    assert client.patch(f"/api/views/{mine['id']}", json={"name": None}, headers=editor).status_code == 422
    assert client.post("/api/views", json={"resource": "nothing", "name": "x"}, headers=editor).status_code == 422
