"""Edit in the list: many rows saved together, validated like the API, all or nothing."""

from __future__ import annotations

import html
import re

from sqlalchemy import update

from models import Role, Task, TaskStatus
from tests.admin.conftest import ORIGIN, task_rows


def form_of(page: str) -> dict[str, list[str]]:
    """The values the list-edit page would post, as a browser would send them."""
    form: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page):
        form.setdefault(name, []).append(value)
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.findall(r'<option value="([^"]*)" selected>', body)
        form[name] = chosen[:1] or [""]
    for name, value in re.findall(r'<input type="date"[^>]*name="([^"]+)"\s+value="([^"]*)"', page):
        form[name] = [value]
    return form


def test_page_shows_the_current_list_as_a_form(editor, add_tasks, make_user) -> None:  # noqa: ANN001
    bob = make_user("bob@example.com", Role.editor)
    ids = add_tasks(30, status=lambda i: "done" if i % 2 else "pending", assignee_id=bob.id)
    page = editor.get("/admin/task/list-edit?status=done&pageSize=25").text
    form = form_of(page)
    assert sorted(int(i) for i in form["row"]) == [i for n, i in enumerate(ids) if n % 2]
    first = form["row"][0]
    assert form[f"status-{first}"] == ["done"] and form[f"assignee-{first}"] == [str(bob.id)]
    assert "bob@example.com" in page


def test_save_many_rows_in_one_go(editor, app, add_tasks, make_user) -> None:  # noqa: ANN001
    bob = make_user("bob@example.com", Role.editor)
    ids = add_tasks(3, title=lambda i: f"t{i}")
    form = form_of(editor.get("/admin/task/list-edit?search=t").text)
    form[f"status-{ids[0]}"] = ["done"]
    form[f"priority-{ids[1]}"] = ["5"]
    form[f"assignee-{ids[1]}"] = [str(bob.id)]
    form[f"due_date-{ids[2]}"] = ["2030-06-30"]
    response = editor.post("/admin/task/list-edit?search=t", data=form, headers=ORIGIN)
    assert response.status_code == 303
    assert response.headers["location"].endswith("/admin/task/list?search=t")
    assert "3 tasks saved." in html.unescape(editor.get(response.headers["location"]).text)
    tasks = task_rows(app)
    assert tasks[ids[0]].status == "done" and tasks[ids[0]].completed_at is not None
    assert (tasks[ids[1]].priority, tasks[ids[1]].assignee_id) == (5, bob.id)
    assert str(tasks[ids[2]].due_date) == "2030-06-30"
    assert [tasks[i].version for i in ids] == [2, 2, 2]


def test_unchanged_rows_are_not_written(editor, app, add_tasks) -> None:  # noqa: ANN001
    ids = add_tasks(3)
    form = form_of(editor.get("/admin/task/list-edit").text)
    form[f"priority-{ids[1]}"] = ["3"]
    response = editor.post("/admin/task/list-edit", data=form, headers=ORIGIN)
    assert "1 task saved." in html.unescape(editor.get(response.headers["location"]).text)
    assert [task_rows(app)[i].version for i in ids] == [1, 2, 1]


def test_one_bad_row_saves_nothing_and_says_why_beside_it(editor, app, add_tasks) -> None:  # noqa: ANN001
    ids = add_tasks(3)
    form = form_of(editor.get("/admin/task/list-edit").text)
    form[f"status-{ids[0]}"] = ["done"]  # fine
    form[f"priority-{ids[1]}"] = ["9"]  # refused
    form[f"status-{ids[2]}"] = ["archived"]  # refused
    response = editor.post("/admin/task/list-edit", data=form, headers=ORIGIN)
    assert response.status_code == 400
    page = html.unescape(response.text)
    assert "2 rows could not be saved (see beside each). Nothing was saved." in page
    assert re.search(rf'id="row-{ids[1]}-error">.*?Priority: must be at most 5', page, re.S)
    assert re.search(rf'id="row-{ids[2]}-error">.*?Status: must be one of', page, re.S)
    assert f'id="row-{ids[0]}-error"' not in page
    # The user's entries are kept on the page.
    assert re.search(rf'name="priority-{ids[1]}".*?<option value="9" selected>', page, re.S)
    tasks = task_rows(app)
    assert [(tasks[i].status, tasks[i].priority, tasks[i].version) for i in ids] == [("pending", 1, 1)] * 3


def test_an_unknown_assignee_or_a_concurrent_change_saves_nothing(editor, app, add_tasks) -> None:  # noqa: ANN001
    ids = add_tasks(2)
    form = form_of(editor.get("/admin/task/list-edit").text)
    form[f"status-{ids[0]}"] = ["done"]
    form[f"assignee-{ids[1]}"] = ["999999"]
    response = editor.post("/admin/task/list-edit", data=form, headers=ORIGIN)
    assert response.status_code == 400
    assert re.search(rf'id="row-{ids[1]}-error">.*?Assignee: no user with id 999999', html.unescape(response.text), re.S)
    assert task_rows(app)[ids[0]].status == "pending"

    # Someone else saves task 0 after the page was loaded: its stale row is refused.
    form = form_of(editor.get("/admin/task/list-edit").text)
    with app.state.engine.begin() as conn:
        conn.execute(update(Task).where(Task.id == ids[0]).values(priority=4, version=Task.version + 1))
    form[f"status-{ids[1]}"] = ["done"]
    response = editor.post("/admin/task/list-edit", data=form, headers=ORIGIN)
    assert response.status_code == 400
    assert re.search(rf'id="row-{ids[0]}-error">.*?Changed by someone else', html.unescape(response.text), re.S)
    tasks = task_rows(app)
    assert tasks[ids[0]].priority == 4 and tasks[ids[1]].status == TaskStatus.pending.value


def test_clearing_the_assignee_unassigns(editor, app, add_tasks, make_user) -> None:  # noqa: ANN001
    bob = make_user("bob@example.com", Role.editor)
    [task_id] = add_tasks(1, assignee_id=bob.id)
    form = form_of(editor.get("/admin/task/list-edit").text)
    form[f"assignee-{task_id}"] = [""]
    editor.post("/admin/task/list-edit", data=form, headers=ORIGIN)
    assert task_rows(app)[task_id].assignee_id is None


def test_a_page_of_500_rows_saves_in_one_go(editor, app, add_tasks) -> None:  # noqa: ANN001
    ids = add_tasks(500)
    form = form_of(editor.get("/admin/task/list-edit?pageSize=500").text)
    assert len(form["row"]) == 500
    for task_id in ids:
        form[f"priority-{task_id}"] = ["3"]
    response = editor.post("/admin/task/list-edit?pageSize=500", data=form, headers=ORIGIN)
    assert response.status_code == 303, response.text[:500]
    assert {t.priority for t in task_rows(app).values()} == {3}
