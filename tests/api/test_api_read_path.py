"""`GET /api/<table>/{id}`, the request scripts send most: one worker-thread hop, and on
PostgreSQL no transaction around its two primary-key reads (bench/run.py's API lines), with
authentication still checked against the database on every request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from models import AuthSession, Role, User
from models.common import utcnow
from tests.factories import ORIGIN, api_login
from tests.factories import make_user as add_user
from tests.helpers import recorded_thread_hops


@pytest.fixture
def task_id(client, admin) -> int:  # noqa: ANN001
    response = client.post("/api/tasks", json={"title": "Read me"}, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.mark.parametrize("path", ["/api/tasks/{id}", "/api/users/{id}"])
def test_a_get_by_id_takes_one_worker_thread(client, admin, task_id, monkeypatch, path) -> None:  # noqa: ANN001
    row_id = task_id if "tasks" in path else client.get("/api/auth/me", headers=admin).json()["id"]
    asked = recorded_thread_hops(monkeypatch)
    response = client.get(path.format(id=row_id), headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"1"'
    assert len(asked) == 1, asked


def test_a_refused_get_by_id_takes_one_worker_thread_too(client, viewer, monkeypatch) -> None:  # noqa: ANN001
    asked = recorded_thread_hops(monkeypatch)
    assert client.get("/api/tasks/1").status_code == 401
    assert client.get("/api/tasks/999999", headers=viewer).json()["detail"] == "Task 999999 not found."
    assert len(asked) == 2, asked


def test_a_get_by_id_on_postgresql_runs_in_autocommit_without_setup(app, client, admin, task_id, db_kind) -> None:  # noqa: ANN001
    if db_kind != "postgresql":
        pytest.skip("PostgreSQL only: SQLite reads in an ordinary deferred transaction")
    seen: list[tuple[str, bool]] = []

    def record(conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        seen.append((statement, conn.connection.dbapi_connection.autocommit))

    # One pool: the read path's connections are the engine's (its listeners see them too).
    event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        client.get(f"/api/tasks/{task_id}", headers=admin)  # the token's last use written
        seen.clear()
        response = client.get(f"/api/tasks/{task_id}", headers=admin)
    finally:
        event.remove(app.state.engine, "before_cursor_execute", record)
    assert response.status_code == 200
    # Two statements (who asks; the row), each its own transaction: no BEGIN, no
    # statement-timeout setup, no ROLLBACK.
    assert len(seen) == 2, seen
    assert all(autocommit for _statement, autocommit in seen), seen
    assert not any("set_config" in statement for statement, _ in seen)
    with app.state.engine.connect() as connection:  # and the pool's connections are as before
        assert connection.connection.dbapi_connection.autocommit is False


def _session_row(app) -> AuthSession:  # noqa: ANN001
    with app.state.session_factory() as db:
        return db.execute(select(AuthSession)).scalar_one()


def test_a_session_cookie_get_writes_its_last_use_at_once(app, client, task_id) -> None:  # noqa: ANN001
    add_user(app, "reader@example.com", role=Role.viewer)
    api_login(client, "reader@example.com")
    back = utcnow() - timedelta(seconds=30)
    with app.state.session_factory() as db, db.begin():
        db.execute(update(AuthSession).values(last_seen_at=back))
    assert client.get(f"/api/tasks/{task_id}").status_code == 200
    assert _session_row(app).last_seen_at > back + timedelta(seconds=29)  # committed, seen elsewhere


def test_logout_and_deactivation_end_a_cookie_at_once_for_get_by_id(app, client, task_id) -> None:  # noqa: ANN001
    user_id = add_user(app, "gone@example.com", role=Role.editor)
    api_login(client, "gone@example.com")
    assert client.get(f"/api/tasks/{task_id}").status_code == 200
    with app.state.session_factory() as db, db.begin():
        db.execute(update(User).where(User.id == user_id).values(is_active=False))
    assert client.get(f"/api/tasks/{task_id}").status_code == 401
    with app.state.session_factory() as db:  # the dead session is gone, not kept
        assert db.execute(select(AuthSession)).first() is None

    with app.state.session_factory() as db, db.begin():
        db.execute(update(User).where(User.id == user_id).values(is_active=True))
    api_login(client, "gone@example.com")
    assert client.get(f"/api/tasks/{task_id}").status_code == 200
    assert client.post("/api/auth/logout", headers=ORIGIN).status_code in (200, 204)
    assert client.get(f"/api/tasks/{task_id}").status_code == 401


def test_get_by_id_answers_what_the_orm_path_gives_for_every_table(app, client, admin, task_id) -> None:  # noqa: ANN001
    """The Core read (admin_app/api/reads.py) against the public model over the ORM row, for
    each declared table of the API: relations present and absent, every field, the ETag."""
    from admin_app.api.reads import RowReader
    from admin_app.services import records

    me = client.get("/api/auth/me", headers=admin).json()["id"]
    project = client.post("/api/projects", json={"name": "Read path", "code": "RP", "owner_id": me}, headers=admin)
    assert project.status_code == 201, project.text
    assigned = client.post("/api/tasks", json={"title": "Mine", "assignee_id": me, "project_id": project.json()["id"]},
                           headers=admin).json()["id"]
    unowned = client.post("/api/projects", json={"name": "No owner", "code": "NO"}, headers=admin).json()["id"]
    rows = {"task": [task_id, assigned], "user": [me], "project": [project.json()["id"], unowned]}
    checked = 0
    for resource in app.state.resources:
        if resource.api is None:
            continue
        public = resource.schemas.public
        shown = [r.name for r in resource.relations if r.name in public.model_fields]
        assert RowReader.build(resource, public, shown) is not None, resource.name  # no ORM fallback
        for row_id in rows[resource.name]:
            response = client.get(f"{resource.api.prefix}/{row_id}", headers=admin)
            assert response.status_code == 200, response.text
            with app.state.session_factory() as db:
                expected = public.model_validate(records.load(db, resource, row_id, shown)).model_dump(mode="json")
            assert response.json() == expected
            assert response.headers["etag"] == f'"{expected["version"]}"'
            checked += 1
    assert checked == 5
    assert client.get(f"/api/tasks/{assigned}", headers=admin).json()["assignee"]["id"] == me
    assert client.get(f"/api/projects/{unowned}", headers=admin).json()["owner"] is None


def test_a_public_field_that_is_no_column_nor_shown_relation_is_read_through_the_orm(app, client, admin, task_id) -> None:  # noqa: ANN001
    """RowReader declines such a public model; that table's GET by id loads the ORM row."""
    from dataclasses import replace

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from admin_app.api.reads import RowReader
    from admin_app.api.resource_router import build_router
    from models.task import TaskPublic
    from models.user import UserRef

    class TaskWithAuthor(TaskPublic):
        created_by: UserRef | None  # a relationship of Task that no Relation declares

    TaskWithAuthor.model_rebuild(_types_namespace={"UserRef": UserRef})
    tasks = next(r for r in app.state.resources if r.name == "task")
    variant = replace(tasks, schemas=replace(tasks.schemas, public=TaskWithAuthor))
    assert RowReader.build(variant, TaskWithAuthor, ["assignee"]) is None
    small = FastAPI()
    small.state = app.state
    small.include_router(build_router(variant))
    me = client.get("/api/auth/me", headers=admin).json()["id"]
    with TestClient(small) as other:
        response = other.get(f"/api/tasks/{task_id}", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["created_by"]["id"] == me
    assert response.json()["title"] == "Read me" and response.headers["etag"] == '"1"'
