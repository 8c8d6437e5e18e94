"""Two people edit the same task at once: the second save is refused, the first one kept."""

import re

from playwright.sync_api import expect

from models import Task
from tests.e2e.conftest import ADMIN, EDITOR, login, make_tasks, marker

STALE = re.compile(r"^This task was changed by someone else since you opened it .*Reload it")


def test_the_second_of_two_concurrent_saves_is_refused(page, new_page, db, events) -> None:  # noqa: ANN001
    mark = marker()
    [task_id] = make_tasks(db, [{"title": f"Shared {mark}", "priority": 1}])
    other = new_page()
    login(page, EDITOR)
    login(other, ADMIN)
    for browser_page in (page, other):
        browser_page.goto(f"/admin/task/edit/{task_id}")
        expect(browser_page.locator("#title")).to_have_value(f"Shared {mark}")

    page.fill("#title", f"First save {mark}")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/task/list"))

    other.fill("#title", f"Second save {mark}")
    other.select_option("#priority", "5")
    other.get_by_role("button", name="Save", exact=True).click()
    expect(other.locator(".alert-danger")).to_have_text(STALE)
    expect(other.locator("#title")).to_have_value(f"Second save {mark}")  # their typing is not lost

    with db() as session:
        task = session.get(Task, task_id)
    assert (task.title, task.priority, task.version) == (f"First save {mark}", 1, 2)

    # Reloading shows the first save, and saving from there works.
    other.goto(f"/admin/task/edit/{task_id}")
    expect(other.locator("#title")).to_have_value(f"First save {mark}")
    other.select_option("#priority", "5")
    other.get_by_role("button", name="Save", exact=True).click()
    expect(other).to_have_url(re.compile(r"/admin/task/list"))
    with db() as session:
        task = session.get(Task, task_id)
    assert (task.title, task.priority, task.version) == (f"First save {mark}", 5, 3)
    assert events.problems() == []
