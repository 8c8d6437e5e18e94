"""Creating, editing and deleting one task through the forms, as staff do."""

import re

from playwright.sync_api import expect
from sqlalchemy import or_

from models import Task
from tests.e2e.conftest import EDITOR, expect_ids, list_count, login, marker, task_ids


def load(db, task_id: int) -> Task | None:  # noqa: ANN001
    with db() as session:
        return session.get(Task, task_id)


def test_create_with_an_invalid_title_fix_it_edit_it_then_delete_it_after_confirming(
    page, db, events,  # noqa: ANN001
) -> None:
    mark = marker()
    login(page, EDITOR)
    page.goto("/admin/task/list")
    page.get_by_role("link", name="+ New Task").click()
    expect(page).to_have_url(re.compile(r"/admin/task/create$"))

    # A title of spaces passes the browser's `required` and is refused by the server.
    page.fill("#title", "   ")
    page.fill("#description", f"Typed once, kept after the error {mark}")
    page.select_option("#status", "in_progress")
    page.select_option("#priority", "4")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-danger")).to_have_text("Title: must not be blank")
    expect(page.locator("#description")).to_have_value(f"Typed once, kept after the error {mark}")
    expect(page.locator("#status")).to_have_value("in_progress")
    expect(page.locator("#priority")).to_have_value("4")
    # 201 characters cannot even be typed: the field stops at 200.
    page.locator("#title").fill("x" * 201)
    expect(page.locator("#title")).to_have_value("x" * 200)
    assert _tasks_with(db, mark) == []

    page.fill("#title", f"Created in the browser {mark}")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/task/list"))
    [task_id] = _tasks_with(db, mark)
    task = load(db, task_id)
    assert (task.title, task.status, task.priority) == (f"Created in the browser {mark}", "in_progress", 4)
    assert task.description == f"Typed once, kept after the error {mark}"

    # Edit it from the list: a blank title is refused there too, then a good change is saved.
    page.goto(f"/admin/task/list?search={mark}")
    expect_ids(page, [task_id])
    page.locator(f"a[href*='/admin/task/edit/{task_id}']").click()
    expect(page.locator("#title")).to_have_value(f"Created in the browser {mark}")
    page.fill("#title", " ")
    page.select_option("#priority", "2")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-danger")).to_have_text("Title: must not be blank")
    expect(page.locator("#priority")).to_have_value("2")
    assert load(db, task_id).title == f"Created in the browser {mark}"
    page.fill("#title", f"Edited in the browser {mark}")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/task/list"))
    task = load(db, task_id)
    assert (task.title, task.priority, task.version) == (f"Edited in the browser {mark}", 2, 2)

    # Delete it from its page, after the confirmation page.
    page.goto(f"/admin/task/details/{task_id}")
    page.get_by_role("link", name="Delete", exact=True).click()
    expect(page.locator("#bulk-selected")).to_have_text("the 1 selected task")
    expect(page.get_by_text("Undo, offered once it is done (and under Change sets), brings them back.")).to_be_visible()
    assert load(db, task_id) is not None  # asking changed nothing
    page.locator("#bulk-submit").click()
    expect(page.locator(".toast-body")).to_have_text("1 task deleted")
    assert load(db, task_id) is None
    page.goto(f"/admin/task/list?search={mark}")
    expect(list_count(page)).to_have_text("0 tasks")
    expect_ids(page, [])
    assert events.problems() == []


def _tasks_with(db, mark: str) -> list[int]:  # noqa: ANN001
    return task_ids(db, or_(Task.title.contains(mark), Task.description.contains(mark)))
