"""POST /api/tasks/bulk: by ids or by filter, set or delete, all or nothing."""

from __future__ import annotations

import pytest

from admin_app.services.bulk import MAX_BULK_IDS
from tests.helpers import recorded_statements


def bulk(client, headers, body):  # noqa: ANN001, ANN201
    return client.post("/api/tasks/bulk", json=body, headers=headers)


def task(client, headers, task_id):  # noqa: ANN001, ANN201
    return client.get(f"/api/tasks/{task_id}", headers=headers).json()


def all_tasks(client, headers) -> list[dict]:  # noqa: ANN001
    return client.get("/api/tasks?limit=200", headers=headers).json()["items"]


def test_set_status_by_ids(client, editor, insert_tasks) -> None:  # noqa: ANN001
    a, b, c = insert_tasks([{}, {}, {}])
    response = bulk(client, editor, {"ids": [a, c, 999], "set": {"status": "done"}})
    assert response.status_code == 200
    assert response.json() == {"count": 2, "matched": 2}
    first, second, third = (task(client, editor, i) for i in (a, b, c))
    assert first["status"] == third["status"] == "done" and second["status"] == "pending"
    assert first["completed_at"] is not None and second["completed_at"] is None
    assert first["version"] == 2 and second["version"] == 1


def test_set_priority_and_assignee_by_filter(client, editor, insert_tasks, make_user) -> None:  # noqa: ANN001
    sam = make_user("viewer")
    a, b, c = insert_tasks([{"status": "pending"}, {"status": "done"}, {"status": "pending"}])
    response = bulk(
        client, editor, {"filter": {"status": ["pending"]}, "set": {"priority": 4, "assignee_id": sam.id}}
    )
    assert response.json() == {"count": 2, "matched": 2}
    for task_id in (a, c):
        changed = task(client, editor, task_id)
        assert changed["priority"] == 4 and changed["assignee"]["id"] == sam.id
    assert task(client, editor, b)["priority"] == 1 and task(client, editor, b)["assignee"] is None


def test_set_assignee_null_unassigns(client, editor, insert_tasks, make_user) -> None:  # noqa: ANN001
    sam = make_user("viewer")
    a, b = insert_tasks([{"assignee_id": sam.id}, {"assignee_id": sam.id}])
    assert bulk(client, editor, {"filter": {"assignee_id": sam.id}, "set": {"assignee_id": None}}).json() == {"count": 2, "matched": 2}
    assert all(t["assignee"] is None for t in all_tasks(client, editor))


def test_leaving_done_clears_completed_at(client, editor, insert_tasks) -> None:  # noqa: ANN001
    (a,) = insert_tasks([{}])
    bulk(client, editor, {"ids": [a], "set": {"status": "done"}})
    bulk(client, editor, {"ids": [a], "set": {"status": "pending"}})
    assert task(client, editor, a)["completed_at"] is None


def test_delete_by_ids_and_by_filter(client, editor, insert_tasks) -> None:  # noqa: ANN001
    a, b, c, d = insert_tasks([{"priority": 1}, {"priority": 2}, {"priority": 2}, {"priority": 3}])
    assert bulk(client, editor, {"ids": [a], "delete": True}).json() == {"count": 1, "matched": 1}
    assert bulk(client, editor, {"filter": {"priority": 2}, "delete": True}).json() == {"count": 2, "matched": 2}
    assert [t["id"] for t in all_tasks(client, editor)] == [d]


def test_a_filter_is_one_statement_whatever_it_matches(app, client, editor, insert_tasks) -> None:  # noqa: ANN001
    insert_tasks([{"priority": 2} for _ in range(300)])
    client.get("/api/tasks", headers=editor)  # the token's first use is recorded once
    with recorded_statements(app.state.engine) as statements:
        response = bulk(client, editor, {"filter": {"priority": 2}, "set": {"priority": 5}})
    assert response.json() == {"count": 300, "matched": 300}
    # one statement updates the tasks (on PostgreSQL it also writes their audit entries)
    writes = [s for s in statements if "UPDATE TASK" in s.upper()]
    assert len(writes) == 1


def test_up_to_10000_ids_per_call(client, editor, insert_tasks) -> None:  # noqa: ANN001
    task_ids = insert_tasks([{} for _ in range(50)])
    ids = task_ids + list(range(max(task_ids) + 1, max(task_ids) + 1 + MAX_BULK_IDS - len(task_ids)))
    assert len(ids) == MAX_BULK_IDS == 10_000
    assert bulk(client, editor, {"ids": ids, "set": {"priority": 2}}).json() == {"count": 50, "matched": 50}
    response = bulk(client, editor, {"ids": [*ids, max(ids) + 1], "set": {"priority": 3}})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "ids"]
    assert {t["priority"] for t in all_tasks(client, editor)} == {2}


@pytest.mark.parametrize("target", ["ids", "filter"])
def test_a_bad_assignee_changes_nothing(client, editor, insert_tasks, target) -> None:  # noqa: ANN001
    task_ids = insert_tasks([{}, {}])
    chosen = {"ids": task_ids} if target == "ids" else {"filter": {"status": ["pending"]}}
    before = all_tasks(client, editor)
    response = bulk(client, editor, {**chosen, "set": {"status": "done", "priority": 5, "assignee_id": 4242}})
    assert response.status_code == 422
    assert response.json() == {"detail": "assignee_id: no user with id 4242"}
    assert all_tasks(client, editor) == before


@pytest.mark.parametrize(
    "body",
    [
        {"set": {"status": "done"}},
        {"ids": [1], "filter": {"priority": 1}, "set": {"status": "done"}},
        {"ids": [1]},
        {"ids": [1], "set": {"status": "done"}, "delete": True},
        {"ids": [1], "delete": False},
        {"filter": {}, "delete": True},
        {"filter": {"status": []}, "delete": True},
        {"filter": {"q": "   "}, "delete": True},
        {"ids": [1], "set": {}},
        {"ids": [1], "set": {"status": None}},
        {"ids": [1], "set": {"priority": 9}},
        {"ids": [1], "set": {"title": "x"}},
        {"ids": [1], "set": {"status": "done"}, "why": "x"},
        {"ids": [0], "delete": True},
        {"ids": [2**40], "delete": True},
        {"ids": "1,2", "delete": True},
        {"filter": {"q": "a\x00"}, "delete": True},
        {"filter": {"colour": "red"}, "delete": True},
    ],
)
def test_invalid_requests_are_422_and_change_nothing(client, editor, insert_tasks, body) -> None:  # noqa: ANN001
    insert_tasks([{"priority": 1}])
    before = all_tasks(client, editor)
    response = bulk(client, editor, body)
    assert response.status_code == 422, response.text
    assert "detail" in response.json()
    assert all_tasks(client, editor) == before


def test_viewers_may_not_bulk_edit_or_delete(client, viewer, insert_tasks) -> None:  # noqa: ANN001
    (a,) = insert_tasks([{}])
    for body in ({"ids": [a], "set": {"status": "done"}}, {"ids": [a], "delete": True}):
        response = bulk(client, viewer, body)
        assert response.status_code == 403
        assert response.json() == {"detail": "The viewer role may not edit or delete task."}
    assert task(client, viewer, a)["status"] == "pending"
