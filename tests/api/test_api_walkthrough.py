"""The seed tutorial's walk-through against this API: create a task, list tasks, restart, still there.

Runs on SQLite and on PostgreSQL (the `db_url` fixture). The tutorial's API had no login;
here the same steps carry the session cookie from `POST /api/auth/login`, which is kept in
the database and so survives the restart too.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from admin_app.main import create_app
from admin_app.services.users import create_user
from tests.api.conftest import PASSWORD
from tests.conftest import make_settings

ORIGIN = {"Origin": "http://testserver"}


def test_create_list_restart_and_the_task_is_still_there(db_url) -> None:  # noqa: ANN001
    first = create_app(make_settings(db_url))
    with first.state.session_factory() as db:
        create_user(db, first.state.passwords, email="ed@example.com", password=PASSWORD, role="editor")
        db.commit()

    with TestClient(first, base_url="http://testserver") as client:
        login = client.post("/api/auth/login", json={"email": "ed@example.com", "password": PASSWORD}, headers=ORIGIN)
        assert login.status_code == 200
        cookies = dict(client.cookies)
        # Step 10 of the tutorial: create a task, then list tasks
        created = client.post("/api/tasks", json={"title": "Learn SQLModel", "status": "pending"}, headers=ORIGIN)
        assert created.status_code == 201
        listed = client.get("/api/tasks").json()["items"]
        assert listed == [created.json()]

    # Step 12: stop the server and start it again (a new app, a new engine, the same database)
    second = create_app(make_settings(db_url))
    assert second.state.engine is not first.state.engine
    with TestClient(second, base_url="http://testserver", cookies=cookies) as client:
        after_restart = client.get("/api/tasks")
        assert after_restart.status_code == 200
        assert after_restart.json()["items"] == [created.json()]
        assert client.get(created.headers["location"]).json()["title"] == "Learn SQLModel"
