"""Bulk actions: GET asks and changes nothing; POST does it in one transaction and says so."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from auth.sessions import list_user_sessions
from models import AuthSession, Role, Task, TaskStatus, User
from tests.admin.conftest import ORIGIN, session_cookie, task_rows
from tests.helpers import recorded_statements as counted_statements

# slug, form value, what a chosen task looks like after, the flash message for the two selected
# tasks (alpha 0, beta 3: pending, priority 2, beta 3 is carol's), and for the two matching ones
# (alpha 0 and alpha 2: pending, unassigned). Rows that already have the value are not written.
TASK_ACTIONS = [
    ("mark-pending", "", lambda t, bob: t.status == "pending",
     "0 tasks marked pending, 2 already pending", "0 tasks marked pending, 2 already pending"),
    ("mark-in-progress", "", lambda t, bob: t.status == "in_progress",
     "2 tasks marked in progress", "2 tasks marked in progress"),
    ("mark-done", "", lambda t, bob: t.status == "done" and t.completed_at is not None,
     "2 tasks marked done", "2 tasks marked done"),
    ("mark-cancelled", "", lambda t, bob: t.status == "cancelled", "2 tasks marked cancelled", "2 tasks marked cancelled"),
    ("set-priority", "4", lambda t, bob: t.priority == 4,
     "2 tasks set to priority Very high", "2 tasks set to priority Very high"),
    ("assign", "BOB", lambda t, bob: t.assignee_id == bob,
     "2 tasks assigned to bob@example.com", "2 tasks assigned to bob@example.com"),
    ("unassign", "", lambda t, bob: t.assignee_id is None,
     "1 task unassigned, 1 already unassigned", "0 tasks unassigned, 2 already unassigned"),
    ("delete-tasks", "", None, "2 tasks deleted", "2 tasks deleted"),
]


@pytest.fixture
def seeded(add_tasks, make_user):  # noqa: ANN001, ANN201
    """Six tasks: three 'alpha' (one done), three 'beta'; some assigned to carol."""
    carol = make_user("carol@example.com", Role.editor)
    bob = make_user("bob@example.com", Role.editor)
    ids = add_tasks(
        6, title=lambda i: f"{'alpha' if i < 3 else 'beta'} {i}",
        status=lambda i: TaskStatus.in_progress.value if i == 1 else TaskStatus.pending.value,
        priority=2, assignee_id=lambda i: carol.id if i % 2 else None,
    )
    return ids, bob.id


def flashed(client, response) -> str:  # noqa: ANN001
    """The page the redirect leads to, where the flash message is shown."""
    assert response.status_code == 303, response.text
    return html.unescape(client.get(response.headers["location"]).text)


def snapshot(app) -> dict:  # noqa: ANN001
    return {i: (t.status, t.priority, t.assignee_id, t.version) for i, t in task_rows(app).items()}


@pytest.mark.parametrize(("slug", "value", "changed", "message", "_matching"), TASK_ACTIONS)
def test_action_on_selected_rows(editor, app, seeded, slug, value, changed, message, _matching) -> None:  # noqa: ANN001
    ids, bob = seeded
    value = str(bob) if value == "BOB" else value
    chosen = f"{ids[0]},{ids[3]}"
    before = snapshot(app)
    confirm = editor.get(f"/admin/task/action/{slug}?pks={chosen}&search=alpha")
    assert confirm.status_code == 200
    assert "the 2 selected tasks" in confirm.text
    assert "all 3 tasks matching" in confirm.text  # offered, not chosen
    assert snapshot(app) == before  # GET changed nothing

    form = {"pks": chosen, "scope": "selected", "value": value}
    response = editor.post(f"/admin/task/action/{slug}?pks={chosen}&search=alpha", data=form, headers=ORIGIN)
    assert urlsplit(response.headers["location"]).query == "search=alpha"  # back to the same list
    assert message in flashed(editor, response)
    after, now = task_rows(app), snapshot(app)
    for task_id in ids:
        if task_id in (ids[0], ids[3]):
            assert (task_id not in after) if changed is None else changed(after[task_id], bob)
        else:
            assert now[task_id] == before[task_id], task_id


@pytest.mark.parametrize(("slug", "value", "changed", "_selected", "message"), TASK_ACTIONS)
def test_action_on_all_matching_rows(editor, app, seeded, slug, value, changed, _selected, message) -> None:  # noqa: ANN001
    ids, bob = seeded
    value = str(bob) if value == "BOB" else value
    query = "search=alpha&status=pending&page=1"  # alpha 0 and alpha 2; alpha 1 is in progress
    confirm = editor.get(f"/admin/task/action/{slug}?{query}")
    assert confirm.status_code == 200
    assert "all 2 tasks matching the current search and filters" in html.unescape(confirm.text)
    response = editor.post(f"/admin/task/action/{slug}?{query}", data={"scope": "all", "value": value}, headers=ORIGIN)
    assert message in flashed(editor, response)
    after = task_rows(app)
    matching = {ids[0], ids[2]}
    for task_id in ids:
        if task_id in matching:
            assert (task_id not in after) if changed is None else changed(after[task_id], bob)
        else:
            assert after[task_id].version == 1, task_id


def test_all_matching_across_pages_runs_a_constant_number_of_statements(editor, app, add_tasks) -> None:  # noqa: ANN001
    counts = []
    for n in (10, 300):
        add_tasks(n, title=f"batch{n}")
        with counted_statements(app.state.engine) as statements:
            response = editor.post(
                f"/admin/task/action/set-priority?search=batch{n}",
                data={"scope": "all", "value": "5"}, headers=ORIGIN,
            )
        assert response.status_code == 303
        # The session's last use is written at most once a second: not the action's statements.
        counts.append(len([s for s in statements if "auth_session" not in s]))
    assert counts[0] == counts[1], counts
    with app.state.session_factory() as db:
        assert db.execute(select(Task).where(Task.priority != 5)).first() is None


def test_selected_rows_run_a_constant_number_of_statements(editor, app, add_tasks) -> None:  # noqa: ANN001
    counts = []
    for n in (3, 400):
        ids = add_tasks(n)
        with counted_statements(app.state.engine) as statements:
            editor.post("/admin/task/action/mark-done", data={"pks": ",".join(map(str, ids)), "scope": "selected"}, headers=ORIGIN)
        counts.append(len([s for s in statements if "auth_session" not in s]))  # as above
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize(
    ("slug", "value", "message"),
    [("set-priority", "", "Priority: choose one of Low, Normal, High, Very high, Urgent."),
     ("set-priority", "9", "Priority: choose one of Low, Normal, High, Very high, Urgent."),
     ("assign", "", "Assignee: choose a user."),
     ("assign", "999999", "Assignee: choose a user.")],
)
def test_a_missing_or_bad_value_is_asked_again(editor, app, seeded, slug, value, message) -> None:  # noqa: ANN001
    ids, _bob = seeded
    before = snapshot(app)
    response = editor.post(
        f"/admin/task/action/{slug}", data={"pks": str(ids[0]), "scope": "selected", "value": value}, headers=ORIGIN
    )
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert snapshot(app) == before


def test_nothing_selected(editor, app, seeded) -> None:  # noqa: ANN001
    before = snapshot(app)
    response = editor.post("/admin/task/action/mark-done", data={"pks": "", "scope": "selected"}, headers=ORIGIN)
    assert response.status_code == 400 and "Nothing chosen" in response.text
    assert snapshot(app) == before
    # Without a selection the page offers all matching rows, and says it is every task.
    page = html.unescape(editor.get("/admin/task/action/mark-done").text)
    assert "all 6 tasks matching" in page and "that is every task" in page


def test_one_task_is_singular(editor, seeded) -> None:  # noqa: ANN001
    ids, _bob = seeded
    response = editor.post("/admin/task/action/mark-done", data={"pks": str(ids[4]), "scope": "selected"}, headers=ORIGIN)
    assert "1 task marked done" in flashed(editor, response)


# --- users ------------------------------------------------------------------------------

def test_deactivate_and_activate_users(admin, app, make_user) -> None:  # noqa: ANN001
    ann = make_user("ann@example.com", Role.editor)
    ben = make_user("ben@example.com", Role.viewer)
    session_cookie(app, ann.id)
    chosen = f"{ann.id},{ben.id}"
    confirm = admin.get(f"/admin/user/action/deactivate?pks={chosen}").text
    assert "the 2 selected users" in confirm
    # What Undo does not bring back is said before, not found out after.
    assert "Undo makes them active again but brings neither back." in confirm
    assert "This cannot be undone: they sign in again." in admin.get(f"/admin/user/action/end-sessions?pks={chosen}").text
    response = admin.post("/admin/user/action/deactivate", data={"pks": chosen, "scope": "selected"}, headers=ORIGIN)
    assert "2 users deactivated" in flashed(admin, response)
    with app.state.session_factory() as db:
        assert [u.is_active for u in db.execute(select(User).where(User.id.in_([ann.id, ben.id]))).scalars()] == [False, False]
        assert list_user_sessions(db, ann.id) == []  # deactivation ended them
    response = admin.post("/admin/user/action/activate", data={"pks": str(ann.id), "scope": "selected"}, headers=ORIGIN)
    assert "1 user activated" in flashed(admin, response)
    with app.state.session_factory() as db:
        assert db.get(User, ann.id).is_active is True


def test_end_all_sessions_of_users(admin, app, make_user) -> None:  # noqa: ANN001
    ann = make_user("ann@example.com", Role.editor)
    session_cookie(app, ann.id)
    session_cookie(app, ann.id)
    response = admin.post(
        "/admin/user/action/end-sessions", data={"pks": f"{ann.id},{admin.user.id}", "scope": "selected"}, headers=ORIGIN
    )
    assert "2 users logged out everywhere" in flashed(admin, response)
    with app.state.session_factory() as db:
        assert list_user_sessions(db, ann.id) == []
        mine = db.execute(select(AuthSession).where(AuthSession.user_id == admin.user.id)).scalars().all()
    assert len(mine) == 1  # the admin's own session is kept: still logged in
    assert admin.get("/admin/user/list").status_code == 200


def test_the_last_admin_cannot_be_deactivated(admin, app) -> None:  # noqa: ANN001
    response = admin.post("/admin/user/action/deactivate", data={"pks": str(admin.user.id), "scope": "selected"}, headers=ORIGIN)
    assert response.status_code == 409
    assert "last active admin" in html.unescape(response.text)
    with app.state.session_factory() as db:
        assert db.get(User, admin.user.id).is_active is True


def test_delete_from_the_details_page_goes_through_the_confirmation(editor, app, seeded) -> None:  # noqa: ANN001
    ids, _bob = seeded
    details = editor.get(f"/admin/task/details/{ids[1]}").text
    link = f"/admin/task/action/delete-tasks?pks={ids[1]}"
    assert link in details
    assert "the 1 selected task" in editor.get(link).text
    # SQLAdmin's own row-by-row DELETE route is off: one way to delete.
    assert editor.delete(f"/admin/task/delete?pks={ids[1]}", headers=ORIGIN).status_code == 403
    response = editor.post(link, data={"pks": str(ids[1]), "scope": "selected"}, headers=ORIGIN)
    assert "1 task deleted" in flashed(editor, response)
    assert ids[1] not in task_rows(app)
