"""A bulk action or an import over many rows in the browser: it becomes a job, its page follows
it to the end (the worker thread of the served app), says what it did, and Undo reverts it all."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import EDITOR, login, make_tasks, marker
from tests.e2e.test_bulk_actions import status_counts

ROWS = 320  # the served app's BULK_JOB_MIN_ROWS is 300, its chunks 50 rows


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_mark_all_matching_done_as_a_job_then_undo_it(page, db, events, size, tmp_path) -> None:  # noqa: ANN001
    page.set_viewport_size({"width": size[0], "height": size[1]})
    mark = marker()
    make_tasks(db, [{"title": f"Job {i} {mark}", "status": "pending"} for i in range(ROWS)])
    login(page, EDITOR)
    page.goto(f"/admin/task/action/mark-done?search={mark}")
    page.locator("#bulk-submit").click()
    expect(page).to_have_url(re.compile(r"/admin/jobs/\d+$"))
    # The page reloads itself once the job ends: the result, the full bar, Undo.
    expect(page.locator("#job-message")).to_have_text(f"{ROWS} tasks marked done", timeout=30_000)
    expect(page.locator("#job-done")).to_have_text(f"{ROWS} of {ROWS} rows")
    assert page.locator("#job-bar").get_attribute("style") == "width: 100.0%"
    assert status_counts(db, mark) == {"done": ROWS}
    undo = page.locator("#job-undo")
    box = undo.bounding_box()
    assert box is not None and box["y"] + box["height"] <= size[1] and box["x"] + box["width"] <= size[0]
    page.screenshot(path=str(tmp_path / "job.png"))
    undo.click()
    expect(page.locator("#revert-restorable")).to_have_text(f"{ROWS} rows will be restored.")
    page.locator("#revert-submit").click()
    expect(page.locator(".toast-body")).to_have_text(f"Reverted: {ROWS} rows restored.")
    assert status_counts(db, mark) == {"pending": ROWS}
    page.goto("/admin/jobs")
    expect(page.locator(".job-row").first).to_contain_text("Mark as done")
    page.screenshot(path=str(tmp_path / "jobs.png"))
    assert events.problems() == []


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_a_large_import_shows_its_progress_then_undo_removes_it(page, db, events, size, tmp_path) -> None:  # noqa: ANN001
    page.set_viewport_size({"width": size[0], "height": size[1]})
    mark = marker()
    csv_file = tmp_path / "many.csv"
    csv_file.write_text("title,priority\n" + "".join(f"Imported {i} {mark},Low\n" for i in range(ROWS)))
    login(page, EDITOR)
    page.goto("/admin/task/import-csv")
    page.locator("#csvfile").set_input_files(str(csv_file))
    page.locator("#import-preview-button").click()
    expect(page.locator("#import-plan")).to_have_text(f"Will create {ROWS} tasks, update 0, leave 0 unchanged, 0 problems.")
    page.locator("#import-confirm-button").click()
    expect(page).to_have_url(re.compile(r"/admin/jobs/\d+$"))
    # 32 chunks of 10 rows; the page reloads itself once the job ends
    expect(page.locator("#job-message")).to_have_text(f"{ROWS} tasks created, 0 updated, 0 unchanged.", timeout=30_000)
    assert status_counts(db, mark) == {"pending": ROWS}
    page.screenshot(path=str(tmp_path / "import-job.png"))
    page.locator("#job-undo").click()
    expect(page.locator("#revert-restorable")).to_have_text(f"{ROWS} rows will be restored.")
    page.locator("#revert-submit").click()
    expect(page.locator(".toast-body")).to_have_text(f"Reverted: {ROWS} rows restored.")
    assert status_counts(db, mark) == {}
    assert events.problems() == []
