"""The role table enforced by the server, the last admin, and secrets that never show."""

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from admin_app.db import build_session_factory
from admin_app.resources.tasks import TASKS
from admin_app.services import records
from admin_app.services.actor import CLI_ACTOR
from admin_app.services.unit import WriteContext
from auth.roles import ROLE_GRANTS, role_allows
from models import Role, Task, TaskCreate, User
from tests.factories import ORIGIN, admin_login, api_login, make_user


def _add_task(app, title: str = "Original title") -> int:  # noqa: ANN001
    with build_session_factory(app.state.engine)() as db, db.begin():
        return records.create(WriteContext(db, CLI_ACTOR), TASKS, TaskCreate.model_validate({"title": title})).id


def _task(app, task_id: int) -> Task | None:  # noqa: ANN001
    with build_session_factory(app.state.engine)() as db:
        return db.get(Task, task_id)


def _as(app, role: Role) -> TestClient:  # noqa: ANN001
    client = TestClient(app)
    make_user(app, f"{role.value}@example.com", role)
    assert admin_login(client, f"{role.value}@example.com").status_code == 302
    return client


def test_role_table_matches_the_design() -> None:
    assert role_allows(Role.viewer, "task", "list") and role_allows(Role.viewer, "task", "export")
    assert not role_allows(Role.viewer, "task", "edit")
    assert not role_allows(Role.viewer, "task", "action:set-status-done")
    assert role_allows(Role.editor, "task", "action:set-status-done")
    assert not role_allows(Role.editor, "user", "list")
    assert not role_allows(Role.editor, "audit-entry", "list")
    assert role_allows(Role.admin, "user", "delete") and role_allows(Role.admin, "audit-entry", "list")
    assert not role_allows(Role.admin, "audit-entry", "edit")
    assert set(ROLE_GRANTS) == set(Role)


def test_viewer_reads_but_every_admin_write_route_is_refused(app) -> None:  # noqa: ANN001
    task_id = _add_task(app)
    viewer = _as(app, Role.viewer)
    assert viewer.get("/admin/task/list").status_code == 200
    assert viewer.get(f"/admin/task/details/{task_id}").status_code == 200
    assert viewer.get("/admin/task/export/csv").status_code == 200
    form = {"title": "Changed by a viewer", "status": "done", "priority": "5"}
    refused = [
        viewer.get("/admin/task/create"),
        viewer.post("/admin/task/create", data=form, headers=ORIGIN),
        viewer.get(f"/admin/task/edit/{task_id}"),
        viewer.post(f"/admin/task/edit/{task_id}", data=form, headers=ORIGIN),
        viewer.delete(f"/admin/task/delete?pks={task_id}", headers=ORIGIN),
        viewer.get("/admin/user/list"),
        viewer.get("/admin/user/create"),
        viewer.post("/admin/user/create", data={"email": "x@example.com", "password": "p" * 12}, headers=ORIGIN),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    task = _task(app, task_id)
    assert task is not None and task.title == "Original title" and task.version == 1
    page = viewer.get("/admin/task/list").text
    assert "/admin/task/create" not in page  # no create button either


def test_editor_writes_tasks_but_not_users(app) -> None:  # noqa: ANN001
    task_id = _add_task(app)
    editor = _as(app, Role.editor)
    response = editor.post(f"/admin/task/edit/{task_id}", headers=ORIGIN, follow_redirects=False,
                           data={"title": "Edited", "status": "done", "priority": "2"})
    assert response.status_code == 302
    task = _task(app, task_id)
    assert task.title == "Edited" and task.completed_at is not None
    assert editor.get("/admin/user/list").status_code == 403
    assert editor.get("/admin/user/details/1").status_code == 403


def test_admin_sees_users(app) -> None:  # noqa: ANN001
    admin = _as(app, Role.admin)
    assert admin.get("/admin/user/list").status_code == 200


def test_last_admin_cannot_be_demoted_deactivated_or_deleted(app) -> None:  # noqa: ANN001
    admin = _as(app, Role.admin)
    with build_session_factory(app.state.engine)() as db:
        admin_id, version = db.execute(select(User.id, User.version).where(User.role == "admin")).one()
    base = {"email": "admin@example.com", "full_name": "", "role": "admin", "is_active": "y", "version": str(version)}
    demote = admin.post(f"/admin/user/edit/{admin_id}", headers=ORIGIN,
                        data={**base, "role": "editor"})
    assert demote.status_code == 400 and "last active admin" in demote.text
    deactivate = admin.post(f"/admin/user/edit/{admin_id}", headers=ORIGIN,
                            data={k: v for k, v in base.items() if k != "is_active"})
    assert deactivate.status_code == 400 and "last active admin" in deactivate.text
    # Deleting goes through the confirmation's POST (SQLAdmin's row-by-row delete is off).
    assert admin.delete(f"/admin/user/delete?pks={admin_id}", headers=ORIGIN).status_code == 403
    delete = admin.post("/admin/user/action/delete-users", data={"pks": str(admin_id), "scope": "selected"},
                        headers=ORIGIN)
    assert delete.status_code == 409 and "last active admin" in delete.text
    with build_session_factory(app.state.engine)() as db:
        user = db.get(User, admin_id)
    assert user.role == "admin" and user.is_active
    # with a second admin, the first may step down
    make_user(app, "second@example.com", Role.admin)
    ok = admin.post(f"/admin/user/edit/{admin_id}", headers=ORIGIN, follow_redirects=False,
                    data={**base, "role": "editor"})
    assert ok.status_code == 302


def test_password_hash_appears_nowhere(app, caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.DEBUG)
    admin = _as(app, Role.admin)
    user_id = make_user(app, "someone@example.com", Role.editor)
    with build_session_factory(app.state.engine)() as db:
        hashes = [h for (h,) in db.execute(select(User.hashed_password))]
    task_id = _add_task(app)
    pages = [
        admin.get("/admin/user/list"),
        admin.get(f"/admin/user/details/{user_id}"),
        admin.get(f"/admin/user/edit/{user_id}"),
        admin.get("/admin/user/create"),
        admin.get("/admin/user/export/csv"),
        admin.get("/admin/user/export/json"),
        admin.get(f"/admin/task/details/{task_id}"),
        admin.get(f"/admin/task/edit/{task_id}"),
        admin.get("/admin/task/export/csv"),
        api_login(admin, "someone@example.com"),
        admin.get("/api/auth/me"),
    ]
    for response in pages:
        assert response.status_code == 200, response.url
        assert "$argon2" not in response.text and "hashed_password" not in response.text, response.url
        assert all(h not in response.text for h in hashes)
    assert "$argon2" not in caplog.text


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_stored_xss_in_a_task_title_is_escaped(app) -> None:  # noqa: ANN001
    task_id = _add_task(app, XSS)
    viewer = _as(app, Role.viewer)
    for url in ("/admin/task/list", f"/admin/task/details/{task_id}"):
        page = viewer.get(url).text
        assert XSS not in page
        assert "&lt;script&gt;alert(" in page


@pytest.mark.parametrize("role", [Role.viewer, Role.editor])
def test_non_admins_cannot_reach_user_admin_at_all(app, role: Role) -> None:  # noqa: ANN001
    client = _as(app, role)
    for path in ("/admin/user/list", "/admin/user/create", "/admin/user/export/csv", "/admin/user/details/1"):
        assert client.get(path).status_code == 403, path
    assert "/admin/user/list" not in client.get("/admin/").text
