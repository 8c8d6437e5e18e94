"""Jobs over the API: POST /api/<table>/bulk with "background": true answers 202 and the job;
GET /api/jobs/{id} follows it; cancel and resume; only the owner (or an admin) sees it."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from admin_app.services import jobs
from models import ChangeSet, Task

OWNER = "test:1"


def work(app, chunks: int | None = None) -> str:  # noqa: ANN001
    job_id = jobs.claim(app.state.session_factory, OWNER)
    rounds = itertools.count()
    stop = (lambda: next(rounds) >= chunks) if chunks is not None else (lambda: False)
    return jobs.run(app.state.session_factory, app.state.resources, job_id, owner=OWNER, chunk_rows=4, stop=stop)


def statuses(app) -> list[str]:  # noqa: ANN001
    with app.state.session_factory() as db:
        return list(db.execute(select(Task.status).order_by(Task.id)).scalars())


def test_a_background_bulk_edit_is_a_job_followed_to_its_end(client, editor, app, insert_tasks) -> None:  # noqa: ANN001
    insert_tasks([{"priority": 3 if i < 10 else 1} for i in range(12)])
    response = client.post("/api/tasks/bulk", headers=editor, json={
        "filter": {"priority": 3}, "set": {"status": "done"}, "background": True})
    assert response.status_code == 202, response.text
    job = response.json()
    assert (job["status"], job["total"], job["done"], job["kind"], job["title"]) == ("queued", 10, 0, "update", "Edit")
    assert job["values"] == {"status": "done"} and job["filter"] == {"priority": [3]}
    assert statuses(app).count("done") == 0

    assert work(app, chunks=1) == "interrupted"
    followed = client.get(f"/api/jobs/{job['id']}", headers=editor).json()
    assert (followed["status"], followed["done"], followed["changed"]) == ("interrupted", 4, 4)
    assert client.post(f"/api/jobs/{job['id']}/resume", headers=editor).json()["status"] == "queued"
    assert work(app) == "done"
    done = client.get(f"/api/jobs/{job['id']}", headers=editor).json()
    assert (done["status"], done["done"], done["changed"], done["seconds_left"]) == ("done", 10, 10, None)
    assert statuses(app) == ["done"] * 10 + ["pending"] * 2
    with app.state.session_factory() as db:
        assert db.get(ChangeSet, done["change_set_id"]).summary == "Edit: 10 tasks"
    assert [j["id"] for j in client.get("/api/jobs", headers=editor).json()["items"]] == [job["id"]]
    # Undo: the change set's revert, as for any other
    reverted = client.post(f"/api/changes/{done['change_set_id']}/revert", headers=editor, json={})
    assert reverted.status_code == 200, reverted.text
    assert statuses(app) == ["pending"] * 12


def test_a_background_delete_cancelled_keeps_what_it_did(client, editor, app, insert_tasks) -> None:  # noqa: ANN001
    insert_tasks([{"priority": 3} for _ in range(10)])
    job = client.post("/api/tasks/bulk", headers=editor, json={
        "filter": {"priority": 3}, "delete": True, "background": True}).json()
    assert work(app, chunks=1) == "interrupted"
    cancelled = client.post(f"/api/jobs/{job['id']}/cancel", headers=editor)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert len(statuses(app)) == 6
    again = client.post(f"/api/jobs/{job['id']}/cancel", headers=editor)
    assert again.status_code == 409 and again.json()["detail"] == f"Job {job['id']} has ended (cancelled)."
    assert client.post(f"/api/jobs/{job['id']}/resume", headers=editor).status_code == 409


def test_background_needs_a_filter_and_the_permission(client, editor, viewer, insert_tasks) -> None:  # noqa: ANN001
    ids = insert_tasks([{"priority": 3}])
    by_ids = client.post("/api/tasks/bulk", headers=editor, json={"ids": ids, "set": {"status": "done"}, "background": True})
    assert by_ids.status_code == 422 and "background: give a filter" in by_ids.text
    refused = client.post("/api/tasks/bulk", headers=viewer, json={
        "filter": {"priority": 3}, "set": {"status": "done"}, "background": True})
    assert refused.status_code == 403


def test_only_the_owner_and_admins_see_a_job(client, editor, admin, make_user, headers_for, insert_tasks) -> None:  # noqa: ANN001
    from models import Role

    insert_tasks([{"priority": 3}])
    job = client.post("/api/tasks/bulk", headers=editor, json={
        "filter": {"priority": 3}, "set": {"status": "done"}, "background": True}).json()
    other = headers_for(make_user(Role.editor, email="other@example.com").id)
    assert client.get(f"/api/jobs/{job['id']}", headers=other).status_code == 404
    assert client.post(f"/api/jobs/{job['id']}/cancel", headers=other).status_code == 404
    assert client.get("/api/jobs", headers=other).json()["items"] == []
    assert client.get(f"/api/jobs/{job['id']}", headers=admin).status_code == 200
    assert client.get("/api/jobs/999", headers=editor).status_code == 404
    assert client.get("/api/jobs/1").status_code == 401
