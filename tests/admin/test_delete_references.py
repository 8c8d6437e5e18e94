"""Deleting a row empties the references to it, recorded, so that undoing the delete restores
them (issue 15): a user's tasks are assigned again, a project's tasks get their project back.
The confirmation says what else the delete changes, counted in one query."""

from __future__ import annotations

import html

from sqlalchemy import select

from admin_app.resources.projects import PROJECTS
from admin_app.services import records
from admin_app.services.actor import CLI_ACTOR
from admin_app.services.unit import unit_of_work
from models import AuditEntry, ChangeSet, ProjectCreate, Role, User
from tests.admin.conftest import ORIGIN, task_rows
from tests.admin.test_admin_changes import confirm, undo_link
from tests.helpers import recorded_statements


def entries_of_latest_change_set(app) -> list[tuple[str, str]]:  # noqa: ANN001
    with app.state.session_factory() as db:
        latest = db.execute(select(ChangeSet.id).order_by(ChangeSet.id.desc()).limit(1)).scalar_one()
        return list(db.execute(select(AuditEntry.entity, AuditEntry.action).where(AuditEntry.change_set_id == latest)))


def test_undoing_a_user_delete_assigns_their_tasks_again(admin, app, make_user, add_tasks) -> None:  # noqa: ANN001
    bob = make_user("bob@example.com", Role.editor)
    mine = add_tasks(3, assignee_id=bob.id)
    other = add_tasks(1)
    link = f"/admin/user/action/delete-users?pks={bob.id}"
    assert link in admin.get(f"/admin/user/details/{bob.id}").text  # the details page's Delete
    page = html.unescape(admin.get(link).text)
    assert "3 tasks will be unassigned." in page
    deleted = admin.post(link, data={"pks": str(bob.id), "scope": "selected"}, headers=ORIGIN, follow_redirects=True)
    assert "1 user deleted" in html.unescape(deleted.text)
    assert {t.assignee_id for t in task_rows(app).values()} == {None}
    assert sorted(entries_of_latest_change_set(app)) == [("task", "update")] * 3 + [("user", "delete")]
    with app.state.session_factory() as db:
        summary = db.execute(select(ChangeSet.summary).order_by(ChangeSet.id.desc()).limit(1)).scalar_one()
    assert summary == "Delete: 1 user deleted, 3 tasks edited"
    preview, done = confirm(admin, undo_link(deleted.text))
    assert "4 rows will be restored" in preview
    rows = task_rows(app)
    assert all(rows[i].assignee_id == bob.id for i in mine) and rows[other[0]].assignee_id is None
    assert rows[mine[0]].version == 3  # emptied, then restored: each a recorded change
    with app.state.session_factory() as db:
        assert db.get(User, bob.id).email == "bob@example.com"


def test_undoing_a_project_delete_gives_its_tasks_their_project_back(editor, app, add_tasks) -> None:  # noqa: ANN001
    with unit_of_work(app.state.session_factory, CLI_ACTOR) as ctx:
        ops = records.create(ctx, PROJECTS, ProjectCreate(name="Operations", code="OPS")).id
    ids = add_tasks(3, project_id=ops)
    link = f"/admin/project/action/delete-projects?pks={ops}"
    assert link in editor.get(f"/admin/project/details/{ops}").text
    assert "3 tasks will lose their project." in html.unescape(editor.get(link).text)
    deleted = editor.post(link, data={"pks": str(ops), "scope": "selected"}, headers=ORIGIN, follow_redirects=True)
    assert {t.project_id for t in task_rows(app).values()} == {None}
    confirm(editor, undo_link(deleted.text))
    assert {t.project_id for t in task_rows(app, *ids).values()} == {ops}


def test_all_matching_delete_counts_the_effects_in_one_query(admin, app, make_user, add_tasks) -> None:  # noqa: ANN001
    ann, ben = make_user("ann@example.com"), make_user("ben@example.com")
    add_tasks(12, assignee_id=lambda i: ann.id if i % 2 else ben.id, created_by_id=ann.id)
    url = "/admin/user/action/delete-users?search=%40example.com&scope=all"
    with recorded_statements(app.state.engine) as statements:
        page = html.unescape(admin.get(url).text)
    assert "12 tasks will be unassigned." in page and "12 tasks will lose their creator." in page
    counting = [s for s in statements if "count(" in s.lower() and "task" in s.lower()]
    assert len(counting) == 1, counting  # both references, one query
