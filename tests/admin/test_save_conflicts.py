"""A save refused because someone else saved first shows what differs, field by field, and
lets me reload theirs, keep mine or choose per field (issue 15)."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from models import User
from tests.admin.conftest import ORIGIN, task_rows
from tests.admin.test_admin_forms import task_form


def conflict_rows(page: str) -> dict[str, tuple[str, str, str]]:
    """field -> (read, stored, mine) from the conflict table."""
    rows = {}
    for name, body in re.findall(r'<tr data-field="([^"]+)">(.*?)</tr>', page, re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]
        rows[name] = (cells[1], re.sub(r"\s*by .*", "", cells[2], flags=re.S), cells[3])
    return rows


def stale_save(editor, admin, task_id: int, theirs: dict[str, str], mine: dict[str, str]):  # noqa: ANN001, ANN201
    """Admin saves `theirs` first; the editor, who opened the form at version 1, saves `mine`."""
    assert admin.post(f"/admin/task/edit/{task_id}", data=task_form(**theirs), headers=ORIGIN).status_code == 302
    return editor.post(f"/admin/task/edit/{task_id}", data=task_form(**mine), headers=ORIGIN)


def test_the_refused_save_shows_read_stored_and_mine_with_who_and_when(editor, admin, app, add_tasks) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1, title="Write the report", description="Q3 numbers", priority=2)
    page = stale_save(editor, admin, task_id, {"title": "Theirs", "priority": "4"}, {"title": "Mine", "status": "done"})
    assert page.status_code == 400 and 'id="save-conflict"' in page.text
    assert "changed by someone else" in html.unescape(page.text)
    rows = conflict_rows(page.text)
    # title: both changed it; priority: only they did (my form still has what I read)
    assert rows == {"title": ("Write the report", "Theirs", "Mine"), "priority": ("Normal", "Very high", "Normal")}
    assert f"by {admin.user.email}" in page.text and " UTC</time>" in page.text
    assert re.search(r'name="conflict-title" value="mine" checked', page.text)
    assert re.search(r'name="conflict-priority" value="theirs" checked', page.text)
    assert 'name="conflict_version" value="2"' in page.text
    assert f'id="conflict-reload" href="http://testserver/admin/task/edit/{task_id}"' in page.text
    task = task_rows(app, task_id)[task_id]
    assert (task.title, task.priority, task.status, task.version) == ("Theirs", 4, "pending", 2)


def test_keep_mine_saves_over_the_new_version(editor, admin, app, add_tasks) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1, title="Write the report", description="Q3 numbers", priority=2)
    stale_save(editor, admin, task_id, {"title": "Theirs", "priority": "4"}, {"title": "Mine"})
    form = {**task_form(title="Mine"), "conflict": "mine", "conflict_version": "2"}
    saved = editor.post(f"/admin/task/edit/{task_id}", data=form, headers=ORIGIN)
    assert saved.status_code == 302 and saved.headers["location"].endswith("/admin/task/list")
    task = task_rows(app, task_id)[task_id]
    assert (task.title, task.priority, task.version) == ("Mine", 2, 3)


def test_a_choice_per_field(editor, admin, app, add_tasks) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1, title="Write the report", description="Q3 numbers", priority=2)
    stale_save(editor, admin, task_id, {"title": "Theirs", "priority": "4"}, {"title": "Mine", "status": "done"})
    form = {**task_form(title="Mine", status="done"), "conflict": "choose", "conflict_version": "2",
            "conflict-title": "mine", "conflict-priority": "theirs"}
    assert editor.post(f"/admin/task/edit/{task_id}", data=form, headers=ORIGIN).status_code == 302
    task = task_rows(app, task_id)[task_id]
    assert (task.title, task.priority, task.status, task.version) == ("Mine", 4, "done", 3)


def test_a_third_save_in_between_shows_the_conflict_again(editor, admin, app, add_tasks) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1, title="Write the report", description="Q3 numbers", priority=2)
    stale_save(editor, admin, task_id, {"title": "Theirs"}, {"title": "Mine"})
    assert admin.post(f"/admin/task/edit/{task_id}", data=task_form(title="Third", version="2"),
                      headers=ORIGIN).status_code == 302
    form = {**task_form(title="Mine"), "conflict": "mine", "conflict_version": "2"}
    again = editor.post(f"/admin/task/edit/{task_id}", data=form, headers=ORIGIN)
    assert again.status_code == 400
    assert conflict_rows(again.text)["title"] == ("Theirs", "Third", "Mine")
    assert task_rows(app, task_id)[task_id].title == "Third"


def test_conflicts_on_another_table_users(admin, login_as, app, make_user) -> None:  # noqa: ANN001
    from models import Role

    other = make_user("carol@example.com", Role.viewer, full_name="Carol")
    second = login_as(Role.admin, "second-admin@example.com")
    base = {"email": "carol@example.com", "full_name": "Carol", "role": "viewer", "is_active": "y",
            "password": "", "version": "1", "save": "Save"}
    assert admin.post(f"/admin/user/edit/{other.id}", data={**base, "role": "editor"}, headers=ORIGIN).status_code == 302
    page = second.post(f"/admin/user/edit/{other.id}", data={**base, "full_name": "Carol Mine"}, headers=ORIGIN)
    assert page.status_code == 400, page.text
    assert conflict_rows(page.text) == {"role": ("Viewer", "Editor", "Viewer")}
    kept = second.post(f"/admin/user/edit/{other.id}", data={
        **base, "full_name": "Carol Mine", "conflict": "choose", "conflict_version": "2", "conflict-role": "theirs",
    }, headers=ORIGIN)
    assert kept.status_code == 302, kept.text
    with app.state.session_factory() as db:
        user = db.execute(select(User).where(User.id == other.id)).scalar_one()
    assert (user.full_name, user.role.value if hasattr(user.role, "value") else user.role) == ("Carol Mine", "editor")


def test_who_and_when_read_in_the_editor_s_language_and_time_zone(editor, admin, app, add_tasks) -> None:  # noqa: ANN001
    from models import User

    with app.state.session_factory() as db:
        db.get(User, editor.user.id).time_zone = "Europe/Berlin"
        db.commit()
    [task_id] = add_tasks(1, title="Write the report")
    assert admin.post(f"/admin/task/edit/{task_id}", data=task_form(title="Theirs"), headers=ORIGIN).status_code == 302
    page = editor.post(f"/admin/task/edit/{task_id}", data=task_form(title="Mine"),
                       headers={**ORIGIN, "Accept-Language": "de"})
    assert page.status_code == 400
    stored = re.search(r'<td class="conflict-stored">(.*?)</td>', page.text, re.S).group(1)
    # the moment as every other page shows it: the editor's zone, the exact UTC value on hover
    assert re.search(rf"von {re.escape(admin.user.email)}, <time datetime=\"[^\"]+\+00:00\" title=\"[^\"]+\">"
                     r"\d{1,2}\.\d{1,2}\.\d{4}, \d\d:\d\d CES?T</time>", stored), stored
    assert "UTC" not in re.sub(r"<time[^>]*>", "", stored)
