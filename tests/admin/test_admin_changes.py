"""Change sets in the admin: the list, one change set, Revert and Undo (POST-confirmed)."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from models import ChangeSet, Role, Task
from tests.admin.conftest import ORIGIN, task_rows


def undo_link(page: str) -> str:
    match = re.search(r'id="undo-link" href="([^"]+)"', page)
    assert match, "no Undo offered"
    return html.unescape(match.group(1))


def confirm(client, link: str):  # noqa: ANN001, ANN201
    """Open the confirmation (a GET, which changes nothing), then confirm it (the POST)."""
    page = client.get(link)
    assert page.status_code == 200, page.text
    return page.text, client.post(link, headers=ORIGIN, follow_redirects=True)


def counts(app) -> dict[str, int]:  # noqa: ANN001
    with app.state.session_factory() as db:
        return dict(db.execute(select(Task.status, func.count()).group_by(Task.status)).all())


def test_bulk_mark_as_done_then_undo_from_the_message(editor, app, add_tasks) -> None:  # noqa: ANN001
    add_tasks(30, status=lambda i: "done" if i < 10 else "pending")
    done = editor.post("/admin/task/action/mark-done", data={"scope": "all"}, headers=ORIGIN, follow_redirects=True)
    assert "20 tasks marked done" in html.unescape(done.text)
    assert counts(app) == {"done": 30}
    with app.state.session_factory() as db:
        latest = db.execute(select(ChangeSet).order_by(ChangeSet.id.desc()).limit(1)).scalar_one()
    assert latest.summary == "Mark as done: 20 tasks" and latest.size == 20
    link = undo_link(done.text)
    assert counts(app) == {"done": 30}  # following the link changed nothing yet
    preview, reverted = confirm(editor, link)
    assert "20 rows will be restored" in preview
    assert reverted.status_code == 200 and "20 rows restored" in html.unescape(reverted.text)
    assert counts(app) == {"done": 10, "pending": 20}
    confirm(editor, undo_link(reverted.text))  # undo the undo
    assert counts(app) == {"done": 30}


def test_save_list_edit_and_delete_offer_undo(editor, app, add_tasks) -> None:  # noqa: ANN001
    (a, b) = add_tasks(2, title=lambda i: f"t{i}")
    saved = editor.post(f"/admin/task/edit/{a}", data={
        "title": "renamed", "status": "pending", "priority": "1", "version": "1", "description": "",
        "due_date": "", "assignee": "", "project": "",
    }, headers=ORIGIN, follow_redirects=True)
    assert task_rows(app, a)[a].title == "renamed"
    confirm(editor, undo_link(saved.text))
    assert task_rows(app, a)[a].title == "t0" and task_rows(app, a)[a].version == 3
    deleted = editor.post("/admin/task/action/delete-tasks", data={"scope": "selected", "pks": f"{a},{b}"},
                          headers=ORIGIN, follow_redirects=True)
    assert task_rows(app) == {}
    confirm(editor, undo_link(deleted.text))
    assert sorted(task_rows(app)) == [a, b] and task_rows(app, a)[a].title == "t0"


def test_the_audit_log_lists_change_sets_and_opens_one(admin, app, add_tasks) -> None:  # noqa: ANN001
    ids = add_tasks(120)
    admin.post("/admin/task/action/mark-done", data={"scope": "all"}, headers=ORIGIN)
    page = admin.get("/admin/changes").text
    assert "Mark as done: 120 tasks" in page and ">120<" in page
    with app.state.session_factory() as db:
        latest = db.execute(select(ChangeSet.id).order_by(ChangeSet.id.desc()).limit(1)).scalar_one()
    one = admin.get(f"/admin/changes/{latest}").text
    assert one.count("<tr><td>update</td>") == 100 and 'id="change-set-next"' in one
    after = re.search(r'href="\?after=(\d+)"', one).group(1)
    rest = admin.get(f"/admin/changes/{latest}?after={after}").text
    assert rest.count("<tr><td>update</td>") == 20 and str(ids[-1]) in one + rest
    assert "status: &#34;pending&#34; → &#34;done&#34;" in one


@pytest.mark.parametrize("path", ["/admin/changes", "/admin/changes/1"])
def test_editors_do_not_read_the_audit_log(editor, path) -> None:  # noqa: ANN001
    assert editor.get(path).status_code == 403


def test_the_viewer_cannot_revert(viewer, editor, app, add_tasks) -> None:  # noqa: ANN001
    add_tasks(2)
    done = editor.post("/admin/task/action/mark-done", data={"scope": "all"}, headers=ORIGIN, follow_redirects=True)
    link = undo_link(done.text)
    assert viewer.get(link).status_code == 403
    assert viewer.post(link, headers=ORIGIN).status_code == 403
    assert counts(app) == {"done": 2}


def test_a_get_never_reverts(editor, app, add_tasks) -> None:  # noqa: ANN001
    add_tasks(3)
    done = editor.post("/admin/task/action/mark-done", data={"scope": "all"}, headers=ORIGIN, follow_redirects=True)
    link = undo_link(done.text)
    for _ in range(2):
        editor.get(link)
    assert counts(app) == {"done": 3}


def test_list_edit_and_import_offer_undo(editor, app, add_tasks) -> None:  # noqa: ANN001
    from tests.admin.test_admin_import import upload
    from tests.admin.test_admin_list_edit import form_of

    ids = add_tasks(2, title=lambda i: f"t{i}")
    form = form_of(editor.get("/admin/task/list-edit").text)
    form[f"priority-{ids[0]}"] = ["5"]
    form[f"status-{ids[1]}"] = ["done"]
    saved = editor.post("/admin/task/list-edit", data=form, headers=ORIGIN, follow_redirects=True)
    assert "2 tasks saved." in html.unescape(saved.text)
    confirm(editor, undo_link(saved.text))
    rows = task_rows(app)
    assert rows[ids[0]].priority == 1 and rows[ids[1]].status == "pending" and rows[ids[1]].completed_at is None
    imported = upload(editor, "Title,Status\nfirst,pending\nsecond,done\n")
    page = editor.get(imported.headers["location"])
    with app.state.session_factory() as db:
        latest = db.execute(select(ChangeSet).order_by(ChangeSet.id.desc()).limit(1)).scalar_one()
    assert latest.summary == "Import: 2 created, 0 updated" and latest.size == 2
    assert len(task_rows(app)) == 4
    confirm(editor, undo_link(page.text))
    assert sorted(task_rows(app)) == ids


def test_user_role_and_active_flag_are_reverted(admin, app, make_user) -> None:  # noqa: ANN001
    other = make_user("other@example.com", Role.editor)
    page = admin.post("/admin/user/action/deactivate", data={"scope": "selected", "pks": str(other.id)},
                      headers=ORIGIN, follow_redirects=True)
    with app.state.session_factory() as db:
        assert db.get(type(other), other.id).is_active is False
    preview, _done = confirm(admin, undo_link(page.text))
    assert "1 row will be restored" in preview
    with app.state.session_factory() as db:
        assert db.get(type(other), other.id).is_active is True
