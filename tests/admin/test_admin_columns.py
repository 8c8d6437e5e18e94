"""The column chooser: each user shows, hides and orders a list's columns, kept on the server."""

from __future__ import annotations

import re

from sqlalchemy import select

from admin_app.resources.tasks import TASKS
from admin_app.services import columns
from models import ListPreference, Role, User
from tests.admin.conftest import ORIGIN


def headers(page: str) -> list[str]:
    """The list's column names, in order, from the header row."""
    return re.findall(r'<th class="col-[\w-]+" data-column="([\w-]+)">', page)


def chooser_form(order: list[str], shown: list[str], **button: str) -> dict[str, list[str] | str]:
    return {"order": order, "show": shown, **button}


def everything() -> list[str]:
    return columns.choosable(TASKS)


def test_the_default_is_the_declaration_and_the_list_links_the_chooser(editor, add_tasks) -> None:  # noqa: ANN001
    add_tasks(2)
    page = editor.get("/admin/task/list?status=pending").text
    assert headers(page) == list(TASKS.list_columns)
    assert 'href="http://testserver/admin/task/columns?status=pending"' in page
    chooser = editor.get("/admin/task/columns").text
    ticked = re.findall(r'name="show" value="(\w+)"[^>]*checked', chooser)
    assert ticked == list(TASKS.list_columns)
    offered = re.findall(r'name="order" value="(\w+)"', chooser)
    assert offered == everything()
    assert "created_by" in offered and "description" in offered


def test_a_choice_shows_hides_and_orders_columns_per_user_and_list(editor, viewer, add_tasks, app) -> None:  # noqa: ANN001
    add_tasks(3, description="Long text")
    order = ["title", "id", "description", *(n for n in everything() if n not in ("title", "id", "description"))]
    saved = editor.post("/admin/task/columns?status=pending&sortBy=id&sort=asc",
                        data=chooser_form(order, ["title", "id", "description", "status"], save="1"), headers=ORIGIN)
    assert saved.status_code == 303
    assert saved.headers["location"] == "http://testserver/admin/task/list?status=pending&sortBy=id&sort=asc"
    page = editor.get(saved.headers["location"]).text
    assert headers(page) == ["title", "id", "description", "status"]
    assert "Long text" in page
    assert "Columns of the tasks list saved." in page
    # a column now shown and declared sortable can be sorted by
    assert 'sortBy=id' in page
    # another user, and another list of the same user, keep the declaration's columns
    assert headers(viewer.get("/admin/task/list").text) == list(TASKS.list_columns)
    with app.state.session_factory() as db:
        [row] = db.execute(select(ListPreference)).scalars().all()
        assert (row.user_id, row.list_name, row.columns) == (editor.user.id, "task", "title,id,description,status")
    # a related column added by choice is joined and shown by its shown column
    editor.post("/admin/task/columns", data=chooser_form(everything(), ["id", "created_by"], save="1"), headers=ORIGIN)
    assert headers(editor.get("/admin/task/list").text) == ["id", "created_by"]


def test_up_and_down_move_a_column_without_saving_and_keep_the_focus(editor, add_tasks) -> None:  # noqa: ANN001
    add_tasks(1)
    shown = list(TASKS.list_columns)
    moved = editor.post("/admin/task/columns", data=chooser_form(everything(), shown, move="status:up"), headers=ORIGIN)
    assert moved.status_code == 200
    order = re.findall(r'name="order" value="(\w+)"', moved.text)
    assert order.index("status") == everything().index("status") - 1
    assert re.search(r'value="status:up"[^>]*autofocus', moved.text)
    assert headers(editor.get("/admin/task/list").text) == list(TASKS.list_columns)  # not saved yet


def test_reset_forgets_the_choice(editor, app, add_tasks) -> None:  # noqa: ANN001
    add_tasks(1)
    editor.post("/admin/task/columns", data=chooser_form(everything(), ["title"], save="1"), headers=ORIGIN)
    assert headers(editor.get("/admin/task/list").text) == ["title"]
    editor.post("/admin/task/columns", data=chooser_form(everything(), [], reset="1"), headers=ORIGIN)
    assert headers(editor.get("/admin/task/list").text) == list(TASKS.list_columns)
    with app.state.session_factory() as db:
        assert db.execute(select(ListPreference)).scalars().all() == []


def test_bad_choices_are_a_400_with_a_message_and_nothing_saved(editor, app) -> None:  # noqa: ANN001
    none = editor.post("/admin/task/columns", data=chooser_form(everything(), [], save="1"), headers=ORIGIN)
    assert none.status_code == 400 and "Choose at least one column to show." in none.text
    stranger = editor.post("/admin/task/columns", data=chooser_form([*everything(), "password"], ["id"], save="1"),
                           headers=ORIGIN)
    assert stranger.status_code == 400 and "reload the page" in stranger.text
    bad_move = editor.post("/admin/task/columns", data=chooser_form(everything(), ["id"], move="nope:up"), headers=ORIGIN)
    assert bad_move.status_code == 400 and "Nothing to move." in bad_move.text
    with app.state.session_factory() as db:
        assert db.execute(select(ListPreference)).scalars().all() == []


def test_secrets_are_never_offered_and_a_stale_choice_is_ignored(admin, app) -> None:  # noqa: ANN001
    chooser = admin.get("/admin/user/columns").text
    offered = re.findall(r'name="order" value="(\w+)"', chooser)
    assert "password" not in offered and "hashed_password" not in offered
    assert "created_at" in offered
    with app.state.session_factory.begin() as db:
        me = db.get(User, admin.user.id)
        db.add(ListPreference(user_id=me.id, list_name="user", columns="gone,email,hashed_password"))
    assert headers(admin.get("/admin/user/list").text) == ["email"]


def test_the_chooser_needs_the_list_permission(editor) -> None:  # noqa: ANN001
    assert editor.get("/admin/user/columns").status_code == 403
    assert editor.post("/admin/user/columns", data={"save": "1"}, headers=ORIGIN).status_code == 403


def test_a_users_choices_go_with_the_user(app, make_user) -> None:  # noqa: ANN001
    user = make_user("leaving@example.com", Role.editor)
    with app.state.session_factory.begin() as db:
        columns.remember(db, user.id, TASKS, ["title", "id"])
    with app.state.session_factory.begin() as db:
        db.delete(db.get(User, user.id))
    with app.state.session_factory() as db:
        assert db.execute(select(ListPreference)).scalars().all() == []
