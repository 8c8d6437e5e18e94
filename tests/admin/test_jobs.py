"""Bulk actions over many rows run as jobs: chunks of one transaction each, progress, cancel,
resume after a stop, one change set Undo reverts, the actor checked again (speed issue)."""

from __future__ import annotations

import html
import itertools
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from admin_app.job_worker import JobWorker
from admin_app.services import jobs
from models import AuditEntry, ChangeSet, Job, Role, User
from models.common import utcnow
from tests.admin.conftest import ORIGIN, task_rows
from tests.conftest import make_settings
from tests.helpers import recorded_statements

OWNER = "test:1"
ALPHA = 10  # tasks matching the search 'alpha'; the threshold is 5, a chunk 3 rows


@pytest.fixture
def settings(db_url):  # noqa: ANN001, ANN201
    return make_settings(db_url, bulk_job_min_rows=5, job_chunk_rows=3)


@pytest.fixture
def seeded(add_tasks):  # noqa: ANN001, ANN201
    """Ten 'alpha' tasks and two 'beta', all pending."""
    return add_tasks(12, title=lambda i: f"alpha {i}" if i < ALPHA else f"beta {i}")


def start_job(client, slug: str = "mark-done", search: str = "alpha", value: str = "") -> int:  # noqa: ANN001
    response = client.post(f"/admin/task/action/{slug}?search={search}",
                           data={"scope": "all", "value": value}, headers=ORIGIN)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert "/admin/jobs/" in location
    return int(location.rsplit("/", 1)[1])


def work(app, chunks: int | None = None) -> str:  # noqa: ANN001
    """What a worker does: claim the queued job and run it (all of it, or `chunks` chunks)."""
    job_id = jobs.claim(app.state.session_factory, OWNER)
    assert job_id is not None
    rounds = itertools.count()
    stop = (lambda: next(rounds) >= chunks) if chunks is not None else (lambda: False)
    return jobs.run(app.state.session_factory, app.state.resources, job_id, owner=OWNER,
                    chunk_rows=app.state.settings.job_chunk_rows, stop=stop)


def job_row(app, job_id: int) -> Job:  # noqa: ANN001
    with app.state.session_factory() as db:
        return db.get(Job, job_id)


def done_tasks(app) -> list[int]:  # noqa: ANN001
    return sorted(i for i, t in task_rows(app).items() if t.status == "done")


def test_all_matching_over_the_threshold_is_a_job_done_chunk_by_chunk(editor, app, seeded) -> None:  # noqa: ANN001
    job_id = start_job(editor)
    job = job_row(app, job_id)
    assert (job.status, job.total, job.done, job.kind) == ("queued", ALPHA, 0, "update")
    assert done_tasks(app) == []  # the request only queued it
    page = html.unescape(editor.get(f"/admin/jobs/{job_id}").text)
    assert "0 of 10 rows" in page and "job-progress" not in page  # the bar's URL is in data-progress-url
    assert f'data-progress-url="http://testserver/admin/jobs/{job_id}/progress"' in page

    with recorded_statements(app.state.engine) as statements:
        assert work(app) == "done"
    assert done_tasks(app) == seeded[:ALPHA]
    job = job_row(app, job_id)
    assert (job.status, job.done, job.changed, job.last_id) == ("done", ALPHA, ALPHA, seeded[ALPHA - 1])
    # Four chunks (3+3+3+1 rows), each a bounded number of statements whatever its size.
    assert len([s for s in statements if re.search(r"\bUPDATE task SET\b", s)]) == 4

    with app.state.session_factory() as db:
        change_set = db.get(ChangeSet, job.change_set_id)
        entries = db.execute(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.change_set_id == job.change_set_id)).scalar_one()
    assert (change_set.summary, change_set.size, entries) == ("Mark as done: 10 tasks", ALPHA, ALPHA)

    page = html.unescape(editor.get(f"/admin/jobs/{job_id}").text)
    assert "10 tasks marked done" in page
    assert f"/admin/changes/{job.change_set_id}/revert" in page  # Undo
    assert "data-progress-url" not in page  # ended: nothing to follow
    editor.post(f"/admin/changes/{job.change_set_id}/revert", headers=ORIGIN)
    assert done_tasks(app) == []


def test_fewer_rows_than_the_threshold_are_done_within_the_request(editor, app, add_tasks) -> None:  # noqa: ANN001
    add_tasks(4, title="alpha")
    response = editor.post("/admin/task/action/mark-done?search=alpha", data={"scope": "all"}, headers=ORIGIN)
    assert response.headers["location"].startswith("http://testserver/admin/task/list")
    assert len(done_tasks(app)) == 4
    with app.state.session_factory() as db:
        assert db.execute(select(func.count()).select_from(Job)).scalar_one() == 0


def test_selected_rows_are_never_a_job(editor, app, seeded) -> None:  # noqa: ANN001
    chosen = ",".join(map(str, seeded[:6]))
    response = editor.post(f"/admin/task/action/mark-done?pks={chosen}", data={"pks": chosen, "scope": "selected"},
                           headers=ORIGIN)
    assert "/admin/task/list" in response.headers["location"]
    assert done_tasks(app) == seeded[:6]


def test_progress_is_the_jobs_row_with_time_left(editor, app, seeded) -> None:  # noqa: ANN001
    job_id = start_job(editor)
    assert work(app, chunks=1) == "interrupted"  # the worker's process stopping after one chunk
    with app.state.session_factory() as db:  # as if it were still running
        db.execute(update(Job).where(Job.id == job_id).values(status="running", owner="other:2"))
        db.commit()
    body = editor.get(f"/admin/jobs/{job_id}/progress").json()
    assert (body["status"], body["done"], body["total"], body["text"]) == ("running", 3, ALPHA, "3 of 10 rows")
    assert body["seconds_left"] is not None and body["seconds_left"] >= 0
    assert done_tasks(app) == seeded[:3]


def test_a_stopped_process_leaves_an_interrupted_job_that_resumes_into_the_same_change_set(
    editor, app, seeded,  # noqa: ANN001
) -> None:
    job_id = start_job(editor)
    assert work(app, chunks=2) == "interrupted"
    job = job_row(app, job_id)
    assert (job.status, job.done, done_tasks(app)) == ("interrupted", 6, seeded[:6])
    first_change_set = job.change_set_id
    with app.state.session_factory() as db:
        assert db.get(ChangeSet, first_change_set).size == 6  # what Undo would revert now
    page = html.unescape(editor.get(f"/admin/jobs/{job_id}").text)
    assert "The process working on it stopped" in page and 'id="job-resume"' in page

    assert editor.post(f"/admin/jobs/{job_id}/resume", headers=ORIGIN).status_code == 303
    assert job_row(app, job_id).status == "queued"
    assert work(app) == "done"
    job = job_row(app, job_id)
    assert (job.done, job.changed, job.change_set_id) == (ALPHA, ALPHA, first_change_set)
    with app.state.session_factory() as db:
        assert db.get(ChangeSet, first_change_set).size == ALPHA
    assert editor.post(f"/admin/jobs/{job_id}/resume", headers=ORIGIN).status_code == 409  # ended


def test_a_process_gone_without_a_word_shows_as_interrupted(editor, app, seeded) -> None:  # noqa: ANN001
    job_id = start_job(editor)
    with app.state.session_factory() as db:  # killed: still "running", its heartbeat old
        db.execute(update(Job).where(Job.id == job_id).values(
            status="running", owner="gone:1", started_at=utcnow(), heartbeat_at=utcnow() - timedelta(minutes=5)))
        db.commit()
    assert editor.get(f"/admin/jobs/{job_id}/progress").json()["status"] == "interrupted"
    editor.post(f"/admin/jobs/{job_id}/resume", headers=ORIGIN)
    assert work(app) == "done" and done_tasks(app) == seeded[:ALPHA]


def test_cancel_stops_after_the_chunk_in_progress(editor, app, seeded) -> None:  # noqa: ANN001
    job_id = start_job(editor)
    factory = app.state.session_factory
    assert jobs.claim(factory, OWNER) == job_id
    calls = itertools.count()

    def cancel_after_first_chunk() -> bool:
        if next(calls) == 1:  # as another request would, while the worker runs
            assert editor.post(f"/admin/jobs/{job_id}/cancel", headers=ORIGIN).status_code == 303
        return False

    status = jobs.run(factory, app.state.resources, job_id, owner=OWNER, chunk_rows=3, stop=cancel_after_first_chunk)
    assert status == "cancelled"
    assert done_tasks(app) == seeded[:3]
    job = job_row(app, job_id)
    assert (job.status, job.done) == ("cancelled", 3) and job.finished_at is not None
    assert editor.post(f"/admin/jobs/{job_id}/cancel", headers=ORIGIN).status_code == 409


def test_a_queued_job_cancelled_changes_nothing(editor, app, seeded) -> None:  # noqa: ANN001
    job_id = start_job(editor)
    editor.post(f"/admin/jobs/{job_id}/cancel", headers=ORIGIN)
    assert job_row(app, job_id).status == "cancelled"
    assert jobs.claim(app.state.session_factory, OWNER) is None
    assert done_tasks(app) == []


def test_an_actor_deactivated_midway_stops_the_job_with_the_reason(editor, app, seeded) -> None:  # noqa: ANN001
    job_id = start_job(editor)
    assert work(app, chunks=1) == "interrupted"
    with app.state.session_factory() as db:
        db.execute(update(User).where(User.id == editor.user.id).values(role=Role.viewer.value))
        db.commit()
    editor_job = job_row(app, job_id)
    with app.state.session_factory() as db:
        db.execute(update(Job).where(Job.id == job_id).values(status="queued"))
        db.commit()
    assert work(app) == "failed"
    job = job_row(app, job_id)
    assert job.error == f"{editor_job.actor_label} may no longer do this; stopped."
    assert done_tasks(app) == seeded[:3]  # the first chunk stays, as its change set says


def test_delete_all_matching_as_a_job_and_undo_it(editor, app, seeded) -> None:  # noqa: ANN001
    job_id = start_job(editor, slug="delete-tasks")
    assert work(app) == "done"
    assert sorted(task_rows(app)) == seeded[ALPHA:]
    job = job_row(app, job_id)
    assert "10 tasks deleted" in html.unescape(editor.get(f"/admin/jobs/{job_id}").text)
    editor.post(f"/admin/changes/{job.change_set_id}/revert", headers=ORIGIN)
    assert sorted(task_rows(app)) == seeded


def test_only_the_owner_and_admins_see_a_job(editor, login_as, app, seeded) -> None:  # noqa: ANN001
    job_id = start_job(editor)
    other = login_as(Role.editor, "other@example.com")
    assert other.get(f"/admin/jobs/{job_id}").status_code == 404
    assert other.post(f"/admin/jobs/{job_id}/cancel", headers=ORIGIN).status_code == 404
    assert f"/admin/jobs/{job_id}" not in other.get("/admin/jobs").text
    admin = login_as(Role.admin, "boss@example.com")
    assert admin.get(f"/admin/jobs/{job_id}").status_code == 200
    assert f"/admin/jobs/{job_id}" in editor.get("/admin/jobs").text
    assert editor.get("/admin/jobs/0").status_code == 404
    assert editor.get("/admin/jobs/x").status_code == 404


def test_the_worker_thread_runs_a_queued_job_and_a_stop_interrupts(editor, app, seeded) -> None:  # noqa: ANN001
    job_id = start_job(editor)
    worker = JobWorker(app.state.session_factory, app.state.resources, chunk_rows=3, poll_seconds=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while job_row(app, job_id).status != "done" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert job_row(app, job_id).status == "done" and done_tasks(app) == seeded[:ALPHA]


def test_the_menu_offers_jobs_to_those_who_can_start_them(editor, viewer) -> None:  # noqa: ANN001
    assert "/admin/jobs" in editor.get("/admin/task/list").text
    assert "/admin/jobs" not in viewer.get("/admin/task/list").text
