"""Imports without surprises: a preview first, every problem in plain words, an exported file
updates its rows (version checked) instead of duplicating them, and the file is sent once."""

from __future__ import annotations

import csv
import html
import io
import re

from sqlalchemy import update

from admin_app.admin import importer
from models import Role, Task
from tests.admin.conftest import ORIGIN, import_csv, task_rows
from tests.admin.test_admin_import import problems

PATH = "/admin/task/import-csv"


def preview(client, content: str | bytes):  # noqa: ANN001, ANN201
    data = content.encode() if isinstance(content, str) else content
    return client.post(PATH, files={"csvfile": ("t.csv", data, "text/csv")}, headers=ORIGIN)


def plan(page: str) -> str:
    found = re.search(r'id="import-plan">([^<]*)<', page)
    return html.unescape(found.group(1)) if found else ""


def token(page: str) -> str:
    return html.unescape(re.search(r'name="preview" value="([^"]+)"', page).group(1))


def test_every_problem_of_every_row_in_plain_words(editor, make_user) -> None:  # noqa: ANN001
    content = ("title,status,priority,due_date,assignee\n"
               "Three problems,pending,9,2026-13-45,nobody@example.com\n"
               " ,paused,x,tomorrow,\n")
    page = preview(editor, content).text
    listed = problems(page)
    assert [p for p in listed if p[0] == "2"] == [
        ("2", "assignee", "No user with the email nobody@example.com."),
        ("2", "priority", "must be at most 5"),
        ("2", "due_date", "must be a date like 2026-12-31"),
    ]
    assert [p for p in listed if p[0] == "3"] == [
        ("3", "title", "must not be blank"),
        ("3", "status", "must be one of pending, in_progress, done or cancelled"),
        ("3", "priority", "must be a whole number"),
        ("3", "due_date", "must be a date like 2026-12-31"),
    ]
    assert "Input should" not in html.unescape(page)
    assert plan(page) == "Will create 0 tasks, update 0, leave 0 unchanged, 7 problems."
    assert 'id="import-confirm"' not in page  # nothing valid to confirm


def test_the_preview_writes_nothing_and_the_confirmation_needs_no_second_upload(editor, app) -> None:  # noqa: ANN001
    response = preview(editor, "title,priority\nOne,High\nTwo,1\n")
    assert response.status_code == 200
    assert plan(response.text) == "Will create 2 tasks, update 0, leave 0 unchanged, 0 problems."
    assert task_rows(app) == {}
    confirmed = editor.post(PATH, data={"preview": token(response.text)}, headers=ORIGIN)  # no file this time
    assert confirmed.status_code == 303
    assert sorted((t.title, t.priority) for t in task_rows(app).values()) == [("One", 3), ("Two", 1)]


def test_export_edit_import_updates_creates_and_never_duplicates(editor, app, add_tasks) -> None:  # noqa: ANN001
    ids = add_tasks(3, title=lambda i: f"row {i}")
    rows = list(csv.reader(io.StringIO(editor.get("/admin/task/export/csv?sortBy=id&sort=asc").text)))
    header, body = rows[0], rows[1:]
    assert header[0] == "ID" and header[-1] == "Version"
    body[0][1] = "row 0, edited in a spreadsheet"
    new = [""] * len(header)
    new[1] = "a new row"
    out = io.StringIO()
    csv.writer(out).writerows([header, *body, new])
    page = preview(editor, out.getvalue()).text
    assert plan(page) == "Will create 1 task, update 1, leave 2 unchanged, 0 problems."
    assert import_csv(editor, PATH, out.getvalue()).status_code == 303
    tasks = task_rows(app)
    assert len(tasks) == 4
    assert (tasks[ids[0]].title, tasks[ids[0]].version) == ("row 0, edited in a spreadsheet", 2)
    assert [tasks[i].version for i in ids[1:]] == [1, 1]
    # the same file again: the edited row is now a conflict (changed since that export)
    page = preview(editor, out.getvalue()).text
    assert (str(2), "ID") in [p[:2] for p in problems(page)]


def test_a_row_changed_since_the_export_is_a_conflict(editor, app, add_tasks) -> None:  # noqa: ANN001
    ids = add_tasks(3, title=lambda i: f"row {i}")
    exported = editor.get("/admin/task/export/csv?sortBy=id&sort=asc").text.replace("row 1", "row 1 (mine)")
    with app.state.session_factory() as db:  # someone else saves row 1 meanwhile; row 2 is deleted
        db.execute(update(Task).where(Task.id == ids[1]).values(title="theirs", version=2))
        db.execute(Task.__table__.delete().where(Task.id == ids[2]))
        db.commit()
    page = preview(editor, exported).text
    assert problems(page) == [
        ("3", "ID", "Changed by someone else since the export (version 2, the file has 1): "
                    "export again and redo the change."),
        ("4", "ID", f"No task with id {ids[2]} (deleted since the export?); clear the id to create it again."),
    ]
    assert plan(page) == "Will create 0 tasks, update 0, leave 1 unchanged, 2 problems."
    refused = editor.post(PATH, data={"preview": token(page)}, headers=ORIGIN)
    assert refused.status_code == 400 and "Nothing was imported" in html.unescape(refused.text)
    assert task_rows(app)[ids[1]].title == "theirs"
    skipped = editor.post(PATH, data={"preview": token(page), "skip_invalid": "1"}, headers=ORIGIN)
    assert skipped.status_code == 200 and "2 invalid rows skipped." in html.unescape(skipped.text)
    assert task_rows(app)[ids[1]].title == "theirs" and len(task_rows(app)) == 2


def test_an_id_column_needs_the_version_column(editor, add_tasks) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1)
    response = preview(editor, f"id,title\n{task_id},Renamed\n")
    assert response.status_code == 400
    assert "The file has an ID column but no Version column" in html.unescape(response.text)


def test_a_preview_is_only_good_for_its_user_its_table_and_a_while(editor, login_as, app, monkeypatch) -> None:  # noqa: ANN001
    page = preview(editor, "title\nMine\n").text
    other = login_as(Role.editor, "other@example.com")
    stolen = other.post(PATH, data={"preview": token(page)}, headers=ORIGIN)
    assert stolen.status_code == 400 and "The preview is not valid" in html.unescape(stolen.text)
    elsewhere = editor.post("/admin/project/import-csv", data={"preview": token(page)}, headers=ORIGIN)
    assert elsewhere.status_code == 400
    tampered = editor.post(PATH, data={"preview": token(page)[:-3] + "AAA"}, headers=ORIGIN)
    assert tampered.status_code == 400
    monkeypatch.setattr(importer, "PREVIEW_SECONDS", -1)
    expired = editor.post(PATH, data={"preview": token(page)}, headers=ORIGIN)
    assert expired.status_code == 400 and "The preview has expired" in html.unescape(expired.text)
    assert task_rows(app) == {}
