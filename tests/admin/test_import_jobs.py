"""A large import is a job: the preview as ever, then the rows written in chunks with progress,
resumable, cancellable, one change set Undo reverts (speed issue: imports with progress)."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select, update

from admin_app.services import jobs
from models import ChangeSet, JobInput, Task
from tests.admin.conftest import ORIGIN, import_csv, task_rows
from tests.admin.test_jobs import job_row, work
from tests.conftest import make_settings

PATH = "/admin/task/import-csv"


@pytest.fixture
def settings(db_url):  # noqa: ANN001, ANN201
    # a file of 5 rows or more is a job; an import's chunk is a fifth of 10: 2 rows of the file
    return make_settings(db_url, import_job_min_rows=5, job_chunk_rows=10)


def exported_and_edited(editor, add_tasks) -> tuple[list[int], str]:  # noqa: ANN001
    """Three tasks exported; the file changes two titles and adds four rows (7 rows)."""
    ids = add_tasks(3, title=lambda i: f"row {i}")
    text = editor.get("/admin/task/export/csv?sortBy=id&sort=asc").text
    text = text.replace("row 0", "row 0 (edited)").replace("row 2", "row 2 (edited)")
    lines = text.rstrip("\r\n").split("\r\n")
    header = lines[0].split(",")
    for n in range(4):
        lines.append(",".join(f"new {n}" if h == "Title" else "" for h in header))
    return ids, "\r\n".join(lines) + "\r\n"


def start_import(editor, content: str) -> int:  # noqa: ANN001
    response = import_csv(editor, PATH, content)
    assert response.status_code == 303, html.unescape(response.text)
    location = response.headers["location"]
    assert "/admin/jobs/" in location
    return int(location.rsplit("/", 1)[1])


def stored_input(app, job_id: int) -> JobInput | None:  # noqa: ANN001
    with app.state.session_factory() as db:
        return db.get(JobInput, job_id)


def test_a_large_file_is_a_job_with_progress_resume_and_one_change_set(editor, app, add_tasks) -> None:  # noqa: ANN001
    ids, content = exported_and_edited(editor, add_tasks)
    job_id = start_import(editor, content)
    job = job_row(app, job_id)
    assert (job.kind, job.status, job.total, job.done) == ("import", "queued", 7, 0)
    assert len(task_rows(app)) == 3 and stored_input(app, job_id) is not None  # only queued

    assert work(app, chunks=1) == "interrupted"  # the process stops after one chunk (2 rows)
    job = job_row(app, job_id)
    assert (job.done, job.changed, job.created) == (2, 1, 0)  # row 0 edited, row 1 unchanged
    assert task_rows(app)[ids[0]].title == "row 0 (edited)" and task_rows(app)[ids[2]].title == "row 2"
    page = html.unescape(editor.get(f"/admin/jobs/{job_id}").text)
    assert f"Job #{job_id}: Import" in page and "2 of 7 rows" in page
    assert "0 tasks created, 1 updated, 1 unchanged." in page  # so far
    assert editor.post(f"/admin/jobs/{job_id}/resume", headers=ORIGIN).status_code == 303
    assert work(app) == "done"

    rows = task_rows(app)
    assert sorted(t.title for t in rows.values()) == [
        "new 0", "new 1", "new 2", "new 3", "row 0 (edited)", "row 1", "row 2 (edited)"]
    job = job_row(app, job_id)
    assert (job.status, job.done, job.changed, job.created) == ("done", 7, 6, 4)
    assert stored_input(app, job_id) is None  # the file's rows are dropped once it ends
    with app.state.session_factory() as db:
        change_set = db.get(ChangeSet, job.change_set_id)
    assert (change_set.summary, change_set.size) == ("Import: 4 created, 2 updated", 6)
    page = html.unescape(editor.get(f"/admin/jobs/{job_id}").text)
    assert "4 tasks created, 2 updated, 1 unchanged." in page
    assert f"/admin/changes/{job.change_set_id}/revert" in page  # Undo

    editor.post(f"/admin/changes/{job.change_set_id}/revert", headers=ORIGIN)
    assert sorted(t.title for t in task_rows(app).values()) == ["row 0", "row 1", "row 2"]


def test_a_row_changed_after_the_preview_stops_the_job_naming_the_row(editor, app, add_tasks) -> None:  # noqa: ANN001
    ids, content = exported_and_edited(editor, add_tasks)
    job_id = start_import(editor, content)
    with app.state.session_factory() as db:  # someone else saves the file's row 4 (task 3) meanwhile
        db.execute(update(Task).where(Task.id == ids[2]).values(title="theirs", version=2))
        db.commit()
    assert work(app) == "failed"
    job = job_row(app, job_id)
    assert job.error.startswith("row 4 of the file: Changed by someone else since the export (version 2")
    assert (job.done, job.changed) == (2, 1)  # the first chunk stays done, one change set
    rows = task_rows(app)
    assert rows[ids[0]].title == "row 0 (edited)" and rows[ids[2]].title == "theirs" and len(rows) == 3
    assert stored_input(app, job_id) is None
    page = html.unescape(editor.get(f"/admin/jobs/{job_id}").text)
    assert "Stopped: row 4 of the file" in page and f"/admin/changes/{job.change_set_id}/revert" in page


def test_cancelling_an_import_keeps_the_rows_done(editor, app, add_tasks) -> None:  # noqa: ANN001
    _ids, content = exported_and_edited(editor, add_tasks)
    job_id = start_import(editor, content)
    assert work(app, chunks=2) == "interrupted"
    editor.post(f"/admin/jobs/{job_id}/cancel", headers=ORIGIN)
    job = job_row(app, job_id)
    assert (job.status, job.done) == ("cancelled", 4)
    assert len(task_rows(app)) == 3 + 1  # rows 1-4 of the file: two updates (one unchanged) and "new 0"
    assert stored_input(app, job_id) is None


def test_a_file_under_the_threshold_is_imported_within_the_request(editor, app) -> None:  # noqa: ANN001
    response = import_csv(editor, PATH, "title\r\na\r\nb\r\nc\r\nd\r\n")
    assert response.status_code == 303 and "/admin/task/list" in response.headers["location"]
    assert len(task_rows(app)) == 4
    with app.state.session_factory() as db:
        assert db.execute(select(func.count()).select_from(JobInput)).scalar_one() == 0


def test_skipped_invalid_rows_are_left_out_of_the_job(editor, app) -> None:  # noqa: ANN001
    content = "title,priority\r\n" + "".join(f"t{n},{'9' if n == 2 else '1'}\r\n" for n in range(6))
    response = import_csv(editor, PATH, content, skip_invalid="1")
    assert response.status_code == 303 and "/admin/jobs/" in response.headers["location"]
    assert "1 invalid row skipped." in html.unescape(editor.get(response.headers["location"]).text)
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert job_row(app, job_id).total == 5
    assert work(app) == "done"
    assert sorted(t.title for t in task_rows(app).values()) == ["t0", "t1", "t3", "t4", "t5"]


def test_the_actor_losing_the_import_permission_stops_it(editor, app, add_tasks) -> None:  # noqa: ANN001
    from models import Role, User

    _ids, content = exported_and_edited(editor, add_tasks)
    job_id = start_import(editor, content)
    with app.state.session_factory() as db:
        db.execute(update(User).where(User.id == job_row(app, job_id).actor_id).values(role=Role.viewer))
        db.commit()
    assert work(app) == "failed" and len(task_rows(app)) == 3
    assert "may no longer do this" in job_row(app, job_id).error


def test_the_api_shows_an_import_job(editor, app, add_tasks) -> None:  # noqa: ANN001
    _ids, content = exported_and_edited(editor, add_tasks)
    job_id = start_import(editor, content)
    work(app)
    body = editor.get(f"/api/jobs/{job_id}").json()
    assert {k: body[k] for k in ("kind", "status", "total", "done", "changed", "created")} == {
        "kind": "import", "status": "done", "total": 7, "done": 7, "changed": 6, "created": 4}
    assert jobs.permission(job_row(app, job_id)) == "import"
