"""An Excel workbook imports as its first sheet would as CSV: the same columns, the same
problems in the same words, the same preview, and the export's rows update, not duplicate."""

from __future__ import annotations

import csv
import html
import io
from datetime import date, datetime

import openpyxl

from admin_app.admin import import_parse
from models import Role
from tests.admin.conftest import ORIGIN, task_rows
from tests.admin.test_admin_import import problems
from tests.admin.test_admin_import_preview import PATH, plan, token

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(*rows: list) -> bytes:  # noqa: ANN001
    book = openpyxl.Workbook()
    book.active.title = "Tasks"
    for row in rows:
        book.active.append(row)
    book.create_sheet("Notes").append(["ignored: only the first sheet is read"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, data: bytes, name: str = "tasks.xlsx"):  # noqa: ANN001, ANN201
    return client.post(PATH, files={"csvfile": (name, data, XLSX)}, headers=ORIGIN)


def test_a_workbook_previews_and_imports_like_its_csv(editor, app, make_user) -> None:  # noqa: ANN001
    bob = make_user("bob@example.com", Role.editor)
    data = workbook(
        ["Title", "Status", "Priority", "Due date", "Assignee"],
        ["From Excel", "In progress", 4, datetime(2030, 1, 31), "bob@example.com"],  # a date cell
        ["Floats and labels", "done", 2.0, date(2030, 2, 1), None],
        [None, None, None, None, None],  # an empty row, as spreadsheets leave them
    )
    page = upload(editor, data)
    assert page.status_code == 200, html.unescape(page.text)
    assert plan(page.text) == "Will create 2 tasks, update 0, leave 0 unchanged, 0 problems."
    assert task_rows(app) == {}  # nothing written before the confirmation
    assert editor.post(PATH, data={"preview": token(page.text)}, headers=ORIGIN).status_code == 303
    got = sorted((t.title, t.status, t.priority, t.due_date, t.assignee_id) for t in task_rows(app).values())
    assert got == [
        ("Floats and labels", "done", 2, date(2030, 2, 1), None),
        ("From Excel", "in_progress", 4, date(2030, 1, 31), bob.id),
    ]


def test_a_workbooks_problems_are_the_forms_words(editor) -> None:  # noqa: ANN001
    page = upload(editor, workbook(["title", "priority", "due_date"], ["", 9, "tomorrow"]))
    assert problems(page.text) == [
        ("2", "title", "must not be blank"),
        ("2", "priority", "must be at most 5"),
        ("2", "due_date", "must be a date like 2026-12-31"),
    ]


def test_an_exported_csv_saved_as_xlsx_updates_its_rows(editor, app, add_tasks) -> None:  # noqa: ANN001
    ids = add_tasks(2, title=lambda i: f"row {i}")
    rows = list(csv.reader(io.StringIO(editor.get("/admin/task/export/csv?sortBy=id&sort=asc").text)))
    rows[1][1] = "edited in Excel"
    # Excel turns the ID and Version columns into numbers
    as_excel = [rows[0], *[[int(c) if c.isdigit() else c for c in r] for r in rows[1:]]]
    page = upload(editor, workbook(*as_excel))
    assert plan(page.text) == "Will create 0 tasks, update 1, leave 1 unchanged, 0 problems."
    assert editor.post(PATH, data={"preview": token(page.text)}, headers=ORIGIN).status_code == 303
    assert len(task_rows(app)) == 2 and task_rows(app)[ids[0]].title == "edited in Excel"


def test_a_file_that_is_no_workbook_is_a_plain_400(editor) -> None:  # noqa: ANN001
    for data in (b"PK\x03\x04 not really a zip", b"plain text named .xlsx"):
        response = upload(editor, data)
        assert response.status_code == 400
        assert "Not a readable Excel workbook (.xlsx)" in html.unescape(response.text)


def test_a_workbook_over_the_row_limit_is_refused_with_its_count(editor, app, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(import_parse, "MAX_ROWS", 3)
    response = upload(editor, workbook(["title"], *[[f"t{n}"] for n in range(5)]))
    assert response.status_code == 400
    assert "At most 3 rows per file; this one has 5." in html.unescape(response.text)
    assert task_rows(app) == {}
