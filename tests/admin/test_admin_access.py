"""What each role sees in the admin and what it is refused (the server refuses, not just the menu)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from models import Role, TaskStatus
from tests.admin.conftest import ORIGIN, PASSWORD, task_rows


def test_login_form_then_pages(app, make_user) -> None:  # noqa: ANN001
    make_user("ed@example.com", Role.editor)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        assert client.get("/admin/task/list").status_code == 302  # to the login page
        response = client.post(
            "/admin/login", data={"username": "ed@example.com", "password": PASSWORD}, headers=ORIGIN
        )
        assert response.status_code == 302
        assert client.get("/admin/task/list").status_code == 200


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (Role.viewer, ["/admin/task/list", "/admin/account"], ["/admin/user/list"]),
        (Role.editor, ["/admin/task/list", "/admin/account"], ["/admin/user/list"]),
        (Role.admin, ["/admin/task/list", "/admin/user/list", "/admin/account"], []),
    ],
)
def test_menu_per_role(login_as, role, shown, hidden) -> None:  # noqa: ANN001
    page = login_as(role).get("/admin/").text
    for path in shown:
        assert f'href="http://testserver{path}"' in page, path
    for path in hidden:
        assert path not in page, path


def test_viewer_can_read_and_export_tasks_but_not_change_them(viewer, add_tasks, app) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1, title="Keep me")
    assert viewer.get("/admin/task/list").status_code == 200
    assert viewer.get(f"/admin/task/details/{task_id}").status_code == 200
    assert viewer.get("/admin/task/export/csv").status_code == 200
    page = viewer.get("/admin/task/list").text
    assert "action-custom-" not in page  # no bulk actions offered
    assert "/admin/task/create" not in page and "Edit in list" not in page
    for url in ("/admin/task/create", f"/admin/task/edit/{task_id}", "/admin/task/list-edit",
                "/admin/task/import-csv", "/admin/task/action/mark-done?pks=1"):
        assert viewer.get(url).status_code == 403, url
    # Posting anyway is refused and changes nothing.
    edit = viewer.post(
        f"/admin/task/edit/{task_id}",
        data={"title": "Changed", "status": "done", "priority": "3", "save": "Save"}, headers=ORIGIN,
    )
    assert edit.status_code == 403
    action = viewer.post(
        "/admin/task/action/mark-done", data={"pks": str(task_id), "scope": "selected"}, headers=ORIGIN
    )
    assert action.status_code == 403
    listed = viewer.post(
        "/admin/task/list-edit",
        data={"row": str(task_id), f"status-{task_id}": "done", f"priority-{task_id}": "1"}, headers=ORIGIN,
    )
    assert listed.status_code == 403
    delete = viewer.delete(f"/admin/task/delete?pks={task_id}", headers=ORIGIN)
    assert delete.status_code == 403
    task = task_rows(app, task_id)[task_id]
    assert (task.title, task.status, task.version) == ("Keep me", TaskStatus.pending.value, 1)


@pytest.mark.parametrize("role", [Role.viewer, Role.editor])
def test_only_admins_reach_users(login_as, role) -> None:  # noqa: ANN001
    client = login_as(role)
    for url in ("/admin/user/list", "/admin/user/create", "/admin/user/export/csv",
                "/admin/user/action/deactivate?pks=1"):
        assert client.get(url).status_code == 403, url
    assert client.post(
        "/admin/user/create",
        data={"email": "x@example.com", "role": "admin", "password": "a long enough password"},
        headers=ORIGIN,
    ).status_code == 403


def test_admin_reaches_everything(admin) -> None:  # noqa: ANN001
    for url in ("/admin/", "/admin/task/list", "/admin/user/list", "/admin/account",
                "/admin/task/list-edit", "/admin/task/import-csv", "/admin/user/create"):
        assert admin.get(url).status_code == 200, url


def test_account_page_for_every_role(login_as) -> None:  # noqa: ANN001
    for role in Role:
        client = login_as(role)
        page = client.get("/admin/account")
        assert page.status_code == 200
        assert client.user.email in page.text


def test_a_cross_site_post_to_an_action_is_refused(editor, add_tasks, app) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1)
    response = editor.post(
        "/admin/task/action/mark-done", data={"pks": str(task_id), "scope": "selected"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert task_rows(app, task_id)[task_id].status == TaskStatus.pending.value


def test_not_logged_in_is_sent_to_login(client) -> None:  # noqa: ANN001
    for url in ("/admin/", "/admin/account", "/admin/task/export/csv", "/admin/task/action/mark-done"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 302 and "/admin/login" in response.headers["location"], url
