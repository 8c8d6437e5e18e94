"""Create and edit forms: the models' validation, messages on the form, never SQL or a 500."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from admin_app.admin.messages import CONFLICT
from admin_app.services import records
from models import Role, TaskStatus, User
from tests.admin.conftest import ORIGIN, PASSWORD, task_rows


def task_form(**values: str) -> dict[str, str]:
    form = {"title": "Write the report", "description": "Q3 numbers", "status": "pending",
            "priority": "2", "due_date": "", "assignee": "", "version": "1", "save": "Save"}
    form.update(values)
    return form


def error_text(page: str) -> str:
    return html.unescape(page)


def test_create_a_task(editor, app, make_user) -> None:  # noqa: ANN001
    bob = make_user("bob@example.com", Role.editor)
    response = editor.post(
        "/admin/task/create", data=task_form(assignee=str(bob.id), due_date="2030-01-31"), headers=ORIGIN
    )
    assert response.status_code == 302, response.text
    [task] = task_rows(app).values()
    assert (task.title, task.priority, task.assignee_id, str(task.due_date)) == (
        "Write the report", 2, bob.id, "2030-01-31",
    )
    assert task.created_by_id == editor.user.id and task.version == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "   ", "Title: must not be blank"),
        ("title", "x" * 201, "200 characters"),
        ("priority", "0", "Not a valid choice"),  # chosen by label: Low (1) to Urgent (5)
        ("priority", "6", "Not a valid choice"),
        ("status", "archived", "Not a valid choice"),
        ("assignee", "999999", "Assignee: no user with id 999999"),
        ("title", "bad\x00title", "Title: must not contain control characters"),
    ],
)
def test_invalid_input_is_a_message_on_the_form(editor, app, field, value, message) -> None:  # noqa: ANN001
    form = task_form(**{field: value}, description="my words are kept")
    response = editor.post("/admin/task/create", data=form, headers=ORIGIN)
    assert response.status_code == 400
    page = error_text(response.text)
    assert message in page
    assert "my words are kept" in page  # the user's input is still there
    assert "INSERT" not in page and "Traceback" not in page
    assert task_rows(app) == {}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("title", "", "This field is required"), ("priority", "6", "Not a valid choice"), ("status", "nope", "Not a valid choice")],
)
def test_invalid_edit_changes_nothing(editor, app, add_tasks, field, value, message) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1, title="Before")
    response = editor.post(f"/admin/task/edit/{task_id}", data=task_form(**{field: value}), headers=ORIGIN)
    assert response.status_code == 400
    assert message in error_text(response.text)
    task = task_rows(app, task_id)[task_id]
    assert (task.title, task.version) == ("Before", 1)


def test_completed_at_follows_status(editor, app, add_tasks) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1)
    editor.post(f"/admin/task/edit/{task_id}", data=task_form(status="done"), headers=ORIGIN)
    done = task_rows(app, task_id)[task_id]
    assert done.status == "done" and done.completed_at is not None and done.version == 2
    editor.post(f"/admin/task/edit/{task_id}", data=task_form(status="in_progress", version="2"), headers=ORIGIN)
    reopened = task_rows(app, task_id)[task_id]
    assert reopened.status == "in_progress" and reopened.completed_at is None


def test_the_edit_form_offers_the_assignee_by_search(editor, add_tasks, make_user) -> None:  # noqa: ANN001
    bob = make_user("bob@example.com", Role.editor)
    [task_id] = add_tasks(1, assignee_id=bob.id)
    page = editor.get(f"/admin/task/edit/{task_id}").text
    assert 'data-role="select2-ajax"' in page and "bob@example.com" in page
    found = editor.get("/admin/task/ajax/lookup?name=assignee&term=bob").json()["results"]
    assert found == [{"id": str(bob.id), "text": "bob@example.com"}]


def test_a_database_error_never_shows_sql(editor, app, monkeypatch) -> None:  # noqa: ANN001
    def boom(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise IntegrityError('INSERT INTO task (title) VALUES (%(title)s)', {"title": "x"}, Exception("dup"))

    monkeypatch.setattr(records, "create", boom)
    response = editor.post("/admin/task/create", data=task_form(), headers=ORIGIN)
    assert response.status_code == 400
    page = error_text(response.text)
    assert CONFLICT in page and "INSERT" not in page


# --- users ------------------------------------------------------------------------------

def user_form(**values: str) -> dict[str, str]:
    form = {"email": "new@example.com", "full_name": "New Person", "role": "editor",
            "is_active": "y", "password": "a long enough password", "save": "Save"}
    form.update(values)
    return form


def test_create_user_hashes_the_password_and_never_shows_it(admin, app) -> None:  # noqa: ANN001
    assert admin.post("/admin/user/create", data=user_form(), headers=ORIGIN).status_code == 302
    with app.state.session_factory() as db:
        user = db.execute(select(User).where(User.email == "new@example.com")).scalar_one()
    assert user.hashed_password.startswith("$argon2id$") and user.role == "editor"
    for url in ("/admin/user/list", f"/admin/user/details/{user.id}", f"/admin/user/edit/{user.id}",
                "/admin/user/export/csv", "/admin/user/export/json", "/admin/task/lookup/assignee?term=new"):
        body = admin.get(url).text
        assert "$argon2" not in body and "hashed_password" not in body, url


def test_duplicate_email_says_so_and_nothing_more(admin, make_user) -> None:  # noqa: ANN001
    make_user("taken@example.com", Role.viewer)
    response = admin.post("/admin/user/create", data=user_form(email="Taken@Example.com"), headers=ORIGIN)
    assert response.status_code == 400
    page = error_text(response.text)
    assert "A user with this email exists." in page
    assert "INSERT" not in page and "UNIQUE" not in page and "duplicate key" not in page


@pytest.mark.parametrize(
    ("values", "message"),
    [({"password": "short"}, "at least"), ({"password": ""}, "a new user needs a password"),
     ({"email": "not-an-email"}, "Email: ")],
)
def test_user_form_messages(admin, values, message) -> None:  # noqa: ANN001
    response = admin.post("/admin/user/create", data=user_form(**values), headers=ORIGIN)
    assert response.status_code == 400
    assert message in error_text(response.text)


def test_blank_password_on_edit_keeps_it(admin, app, make_user) -> None:  # noqa: ANN001
    user = make_user("keep@example.com", Role.viewer)
    before = user.hashed_password
    form = user_form(email="keep@example.com", password="", full_name="Renamed", role="viewer", version="1")
    assert admin.post(f"/admin/user/edit/{user.id}", data=form, headers=ORIGIN).status_code == 302
    with app.state.session_factory() as db:
        after = db.get(User, user.id)
    assert after.full_name == "Renamed" and after.hashed_password == before
    assert app.state.passwords.verify(after.hashed_password, PASSWORD).ok
    form["password"], form["version"] = "another long password", "2"
    admin.post(f"/admin/user/edit/{user.id}", data=form, headers=ORIGIN)
    with app.state.session_factory() as db:
        assert app.state.passwords.verify(db.get(User, user.id).hashed_password, "another long password").ok


def test_the_last_admin_cannot_demote_themselves(admin, app) -> None:  # noqa: ANN001
    with app.state.session_factory() as db:
        version = str(db.get(User, admin.user.id).version)
    form = user_form(email=admin.user.email, role="viewer", password="", version=version)
    response = admin.post(f"/admin/user/edit/{admin.user.id}", data=form, headers=ORIGIN)
    assert response.status_code == 400
    assert "last active admin" in error_text(response.text)
    with app.state.session_factory() as db:
        assert db.get(User, admin.user.id).role == Role.admin.value


def test_task_status_is_a_choice_in_the_form(editor) -> None:  # noqa: ANN001
    page = editor.get("/admin/task/create").text
    for status in TaskStatus:
        assert f'value="{status.value}"' in page


def test_saving_over_someone_elses_change_is_refused(editor, app, add_tasks) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1)
    form = editor.get(f"/admin/task/edit/{task_id}").text
    assert 'type="hidden"' in form and 'name="version"' in form and 'value="1"' in form
    first = editor.post(f"/admin/task/edit/{task_id}", data=task_form(title="Mine"), headers=ORIGIN,
                        follow_redirects=False)
    assert first.status_code == 302
    stale = editor.post(f"/admin/task/edit/{task_id}", data=task_form(title="Theirs"), headers=ORIGIN)
    assert stale.status_code == 400  # SQLAdmin answers every refused save 400, message on the form
    assert "changed by someone else" in error_text(stale.text)
    assert 'value="Theirs"' in stale.text  # the user's input is kept
    task = task_rows(app, task_id)[task_id]
    assert task.title == "Mine" and task.version == 2
    missing = task_form(title="No version")
    del missing["version"]
    refused = editor.post(f"/admin/task/edit/{task_id}", data=missing, headers=ORIGIN)
    assert refused.status_code == 400 and task_rows(app, task_id)[task_id].title == "Mine"
