"""Row identifiers in admin URLs: one that can name no row is a 404 (or a 400), never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from models import Role
from tests.admin.conftest import ORIGIN

NOT_AN_ID = ["abc", "1.5", "-1", "0", "99999999999999999999", "a%00b", "1%2C2", "x" * 3000]
IDENTITIES = ["task", "user", "audit-entry"]


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize("page", ["details", "edit"])
@pytest.mark.parametrize("value", NOT_AN_ID)
def test_a_value_that_is_no_id_is_a_404(admin, identity: str, page: str, value: str) -> None:
    assert admin.get(f"/admin/{identity}/{page}/{value}").status_code == 404


def test_a_post_to_an_edit_page_with_no_id_is_a_404(admin) -> None:  # noqa: ANN001
    for identity in ("task", "user"):
        response = admin.post(f"/admin/{identity}/edit/abc", data={"title": "x"}, headers=ORIGIN)
        assert response.status_code == 404


def test_a_viewer_gets_the_same_404(viewer) -> None:  # noqa: ANN001
    assert viewer.get("/admin/task/details/abc").status_code == 404
    assert viewer.get("/admin/task/details/99999").status_code == 404  # a real id with no row


def test_anonymous_still_goes_to_the_login_page_first(app) -> None:  # noqa: ANN001
    with TestClient(app, follow_redirects=False) as client:
        response = client.get("/admin/task/details/abc")
    assert response.status_code == 302 and "/admin/login" in response.headers["location"]


@pytest.mark.parametrize("kind", ["download", "preview"])
@pytest.mark.parametrize("role", [Role.viewer, Role.admin])
def test_there_are_no_file_routes(login_as, add_tasks, role: Role, kind: str) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1)
    client = login_as(role)
    for pk in (task_id, 99999, "abc"):
        assert client.get(f"/admin/task/{pk}/title/{kind}/").status_code == 404


@pytest.mark.parametrize("pks", [None, "", "abc", "1,abc", "99999999999999999999", "0"])
def test_a_delete_without_a_list_of_ids_is_a_400(admin, add_tasks, pks: str | None) -> None:  # noqa: ANN001
    add_tasks(1)
    url = "/admin/task/delete" + ("" if pks is None else f"?pks={pks}")
    assert admin.delete(url, headers=ORIGIN).status_code == 400


@pytest.mark.parametrize("pks", ["99999999999999999999", "0", "-3"])
def test_a_bulk_action_on_ids_no_row_can_have_is_a_400(admin, pks: str) -> None:  # noqa: ANN001
    assert admin.get(f"/admin/task/action/mark-done?pks={pks}").status_code == 400
    form = {"pks": pks, "scope": "selected"}
    assert admin.post("/admin/task/action/mark-done", data=form, headers=ORIGIN).status_code == 400


@pytest.mark.parametrize("query", ["term=%00", "search=a%00b", "page=%01"])
def test_a_control_character_in_a_query_is_a_400(admin, query: str) -> None:  # noqa: ANN001
    for path in ("/admin/task/lookup/assignee", "/admin/task/list", "/admin/user/list"):
        response = admin.get(f"{path}?{query}")
        assert response.status_code == 400, path
        assert "control character" in response.text


# Found by the route scan's forms (tests/test_hostile_routes.py): ids no column can hold
# reached SQLite's driver (OverflowError, 500), a NUL reached PostgreSQL (500).
HUGE = "99999999999999999999"


def test_list_edit_with_an_id_no_column_can_hold_is_a_400(editor, add_tasks) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1)
    base = {"row": str(task_id), f"version-{task_id}": "1", f"status-{task_id}": "pending",
            f"priority-{task_id}": "1", f"assignee-{task_id}": "", f"due_date-{task_id}": ""}
    assert editor.post("/admin/task/list-edit", data={**base, "row": HUGE}, headers=ORIGIN).status_code == 400
    response = editor.post("/admin/task/list-edit", data={**base, f"assignee-{task_id}": HUGE}, headers=ORIGIN)
    assert response.status_code == 400 and "Assignee" in response.text


def test_bulk_assign_to_an_id_no_column_can_hold_is_a_400(editor, add_tasks) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1)
    form = {"pks": str(task_id), "scope": "selected", "value": HUGE}
    response = editor.post("/admin/task/action/assign", data=form, headers=ORIGIN)
    assert response.status_code == 400 and "Assignee: choose a user" in response.text


def test_a_task_form_with_an_assignee_no_column_can_hold_is_refused(editor, add_tasks) -> None:  # noqa: ANN001
    response = editor.post("/admin/task/create", headers=ORIGIN, data={
        "title": "x", "status": "pending", "priority": "1", "assignee": HUGE,
    })
    assert response.status_code == 400


@pytest.mark.parametrize(("do", "field", "value"), [
    ("revoke-token", "token_id", HUGE), ("revoke-token", "token_id", "abc"),
    ("end-session", "session_id", "\x00"), ("end-session", "session_id", "a" * 5000),
])
def test_the_account_page_with_an_id_that_names_nothing_is_a_404(viewer, do: str, field: str, value: str) -> None:  # noqa: ANN001
    response = viewer.post("/admin/account", data={"do": do, field: value}, headers=ORIGIN)
    assert response.status_code == 404
    assert viewer.get("/admin/account").status_code == 200  # still logged in
