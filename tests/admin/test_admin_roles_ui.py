"""Controls a role cannot use are not shown; 403 and 404 pages sit in the layout, say why, link back."""

from __future__ import annotations

import html
import re

import pytest

from models import Role


def has_row_controls(page: str) -> bool:
    return 'id="dropdownMenuButton"' in page or "select-box" in page or 'id="select-all"' in page


def test_a_viewer_sees_no_actions_menu_and_no_checkboxes(viewer, editor, add_tasks) -> None:  # noqa: ANN001
    add_tasks(3)
    page = viewer.get("/admin/task/list").text
    assert not has_row_controls(page)
    assert len(re.findall(r'<tr data-row-id="\d+">', page)) == 3
    assert ">Actions<" not in page and "Edit in list" not in page and "New Task" not in page
    edited = editor.get("/admin/task/list").text
    assert has_row_controls(edited) and edited.count("select-box") == 3


def test_the_read_only_audit_log_has_no_row_controls(admin, add_tasks) -> None:  # noqa: ANN001
    page = admin.get("/admin/audit-entry/list").text
    assert 'data-row-id="' in page  # the admin's own login, at least
    assert not has_row_controls(page)


def error_parts(page: str) -> tuple[str, str, str, str]:
    def part(name: str) -> str:
        found = re.search(rf'id="error-{name}"[^>]*>(.*?)<', page, re.S)
        return html.unescape(found.group(1)).strip() if found else ""

    back = re.search(r'href="([^"]+)"[^>]*id="error-back"', page)
    return part("title"), part("reason"), part("back"), back.group(1) if back else ""


@pytest.mark.parametrize("role", [Role.editor, Role.viewer])
def test_403_is_in_the_layout_with_a_reason_and_a_way_back(login_as, role) -> None:  # noqa: ANN001
    client = login_as(role)
    response = client.get("/admin/user/list")
    assert response.status_code == 403
    assert 'id="navbar-menu"' in response.text  # the admin's layout, its menu included
    assert error_parts(response.text) == (
        "Not allowed", f"Your role, {role.value}, does not give access to users.",
        "Back to the home page", "http://testserver/admin/",
    )


def test_404_names_what_is_missing_and_links_to_its_list(editor) -> None:  # noqa: ANN001
    response = editor.get("/admin/task/details/999999")
    assert response.status_code == 404
    assert 'id="navbar-menu"' in response.text
    assert error_parts(response.text) == (
        "Not found", "There is no task with id 999999: it may have been deleted.",
        "Back to tasks", "http://testserver/admin/task/list",
    )
    nowhere = editor.get("/admin/no-such-table/list")
    assert nowhere.status_code == 404
    assert error_parts(nowhere.text)[1:] == ("There is no page at this address.", "Back to the home page",
                                             "http://testserver/admin/")


def test_a_404_for_a_path_no_route_matches_keeps_the_roles_menu(editor, admin) -> None:  # noqa: ANN001
    # No admin route matches this path, so the login check (which loads the role's grants)
    # never ran for it: the menu must still show what the role may open, and only that.
    for client, shown, hidden in ((editor, ["/admin/task/list", "/admin/project/list"], ["/admin/user/list"]),
                                  (admin, ["/admin/task/list", "/admin/user/list"], [])):
        page = client.get("/admin/change-sets")
        assert page.status_code == 404
        menu = page.text.split('id="navbar-menu"', 1)[1].split("</aside>", 1)[0]
        for href in shown:
            assert f'href="http://testserver{href}"' in menu, href
        for href in hidden:
            assert href not in menu, href


def test_a_bad_request_keeps_its_message(editor) -> None:  # noqa: ANN001
    response = editor.get("/admin/task/list?due_after=someday")
    assert response.status_code == 400
    title, reason, back, _url = error_parts(response.text)
    assert (title, reason, back) == ("Bad request", "Invalid filter: Due date after: must be a date like 2026-12-31.", "Back to tasks")
