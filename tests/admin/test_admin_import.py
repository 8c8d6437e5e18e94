"""CSV import: every row validated by TaskCreate, all or nothing, errors by row and column."""

from __future__ import annotations

import html
import re

import pytest

from admin_app.services.imports import IMPORT_BATCH
from models import Role
from tests.admin.conftest import ORIGIN, import_csv, task_rows
from tests.conftest import make_settings
from tests.helpers import recorded_statements


@pytest.fixture
def settings(db_url):  # noqa: ANN001, ANN201
    """Every file here is written within its request (test_import_jobs.py has the large ones)."""
    return make_settings(db_url, import_job_min_rows=50_001)


def upload(client, content: str | bytes, **form: str):  # noqa: ANN001, ANN201
    """Preview, then confirm (with `form`): the last response."""
    return import_csv(client, "/admin/task/import-csv", content, **form)


def problems(page: str) -> list[tuple[str, str, str]]:
    table = re.search(r'<table[^>]*id="import-problems".*?</table>', page, re.S)
    assert table, page
    cells = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table.group(0))
    return [tuple(html.unescape(c) for c in row) for row in cells]


def test_a_good_file(editor, app, make_user) -> None:  # noqa: ANN001
    bob = make_user("bob@example.com", Role.editor)
    content = (
        "Title,Description,Status,Priority,Due date,Assignee\n"
        "Pay the rent,,pending,3,2030-02-01,Bob@Example.com\n"
        '"Quoted, title","two\nlines",done,1,,\n'
        "Just a title,,,,,\n"
    )
    response = upload(editor, content)
    assert response.status_code == 303
    assert "3 tasks created, 0 updated, 0 unchanged." in html.unescape(editor.get(response.headers["location"]).text)
    tasks = sorted(task_rows(app).values(), key=lambda t: t.id)
    assert [(t.title, t.status, t.priority, t.assignee_id) for t in tasks] == [
        ("Pay the rent", "pending", 3, bob.id),
        ("Quoted, title", "done", 1, None),
        ("Just a title", "pending", 1, None),
    ]
    assert tasks[1].description == "two\nlines" and tasks[1].completed_at is not None
    assert str(tasks[0].due_date) == "2030-02-01"
    assert all(t.created_by_id == editor.user.id and t.version == 1 for t in tasks)


def test_an_exported_file_imports_again_without_duplicates(editor, app, add_tasks) -> None:  # noqa: ANN001
    add_tasks(3, title=lambda i: f"copy {i}", priority=4)
    exported = editor.get("/admin/task/export/csv").content
    assert upload(editor, exported).status_code == 303
    assert sorted(t.title for t in task_rows(app).values()) == ["copy 0", "copy 1", "copy 2"]
    assert {t.version for t in task_rows(app).values()} == {1}  # nothing differed: nothing written


def test_bad_rows_are_listed_and_nothing_is_imported(editor, app) -> None:  # noqa: ANN001
    content = (
        "title,status,priority,due_date,assignee\n"
        "Fine,pending,1,,\n"
        "   ,pending,1,,\n"  # row 3: blank title
        "Too high,pending,6,,\n"  # row 4
        "Odd status,archived,2,2030-13-01,\n"  # row 5: two problems
        "Who,pending,2,,nobody@example.com\n"  # row 6
    )
    response = upload(editor, content)
    assert response.status_code == 400
    page = html.unescape(response.text)
    assert "Nothing was imported: 4 of 5 rows have problems" in page
    listed = problems(response.text)
    assert ("3", "title", "must not be blank") in listed
    assert ("4", "priority", "must be at most 5") in listed
    assert [p[:2] for p in listed if p[0] == "5"] == [("5", "status"), ("5", "due_date")]
    assert ("6", "assignee", "No user with the email nobody@example.com.") in listed
    assert task_rows(app) == {}


def test_skip_invalid_rows_on_request(editor, app) -> None:  # noqa: ANN001
    content = "title,priority\nGood one,2\nBad one,0\nGood two,5\n"
    response = upload(editor, content, skip_invalid="1")
    assert response.status_code == 200
    page = html.unescape(response.text)
    assert "2 tasks created, 0 updated, 0 unchanged. 1 invalid row skipped." in page
    assert problems(response.text) == [("3", "priority", "must be at least 1")]
    assert sorted(t.title for t in task_rows(app).values()) == ["Good one", "Good two"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,priority\nx,1\n", "Unknown column"),
        ("description\nno title column\n", "The title column is missing."),
        (b"title\n\xff\xfe bad bytes\n", "not UTF-8"),
        ("", "no header row"),
        ("title\n", "no rows to import"),
    ],
)
def test_file_level_problems(editor, app, content, message) -> None:  # noqa: ANN001
    response = upload(editor, content)
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert task_rows(app) == {}


def _import_rows(editor, rows: int, start: int = 0) -> None:  # noqa: ANN001
    lines = ["title,description,status,priority,due date"]
    lines += [f"Imported task {i},Some words about it,pending,{i % 5 + 1},2030-01-{i % 28 + 1:02d}"
              for i in range(start, start + rows)]
    assert upload(editor, "\n".join(lines) + "\n").status_code == 303


def test_ten_thousand_rows_in_a_number_of_statements_that_does_not_grow(editor, app) -> None:  # noqa: ANN001
    """10,000 rows import in the statements 100 rows take, plus an INSERT and its audit INSERT
    per batch of IMPORT_BATCH rows: set-based, not a round trip per row (how long it takes is
    bench/run.py's to say, not a test's)."""
    with recorded_statements(app.state.engine) as small:
        _import_rows(editor, 100)
    with recorded_statements(app.state.engine) as large:
        _import_rows(editor, 10_000, start=100)
    assert len(task_rows(app)) == 10_100
    batches = -(-10_000 // IMPORT_BATCH)
    # (+1: the session's last use is written at most once a second, so by one request of two)
    assert len(large) <= len(small) + 2 * (batches - 1) + 1, (len(small), len(large))


def test_viewers_cannot_import(viewer, app) -> None:  # noqa: ANN001
    assert upload(viewer, "title\nx\n").status_code == 403
    assert task_rows(app) == {}
    # SQLAdmin's own import route is switched off for everyone.
    assert viewer.post("/admin/task/import", headers=ORIGIN).status_code == 403
