"""Two people edit the same task at once: the second save is refused, the first one kept."""

import re
from pathlib import Path

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


SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e" / "conflict"


def test_the_conflict_screen_keep_mine_and_a_choice_per_field(page, new_page, db, events) -> None:  # noqa: ANN001
    mark = marker()
    [task_id] = make_tasks(db, [{"title": f"Shared {mark}", "priority": 1}])
    other = new_page()
    for browser_page in (page, other):
        browser_page.set_viewport_size({"width": 1366, "height": 768})
    login(page, EDITOR)
    login(other, ADMIN)
    for browser_page in (page, other):
        browser_page.goto(f"/admin/task/edit/{task_id}")
        expect(browser_page.locator("#title")).to_have_value(f"Shared {mark}")
    page.fill("#title", f"Theirs {mark}")
    page.select_option("#priority", "3")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/task/list"))

    # The second save is refused and says, per field, what I read, what is stored now (by whom) and mine.
    other.fill("#title", f"Mine {mark}")
    other.get_by_role("button", name="Save", exact=True).click()
    panel = other.locator("#save-conflict")
    expect(panel).to_be_visible()
    title = panel.locator('tr[data-field="title"]')
    expect(title.locator(".conflict-read")).to_have_text(f"Shared {mark}")
    expect(title.locator(".conflict-stored")).to_contain_text(f"Theirs {mark}")
    expect(title.locator(".conflict-stored")).to_contain_text(f"by {EDITOR[0]}")
    expect(title.locator(".conflict-mine")).to_have_text(f"Mine {mark}")
    expect(panel.locator('tr[data-field="priority"] .conflict-stored')).to_contain_text("High")
    SHOTS.mkdir(parents=True, exist_ok=True)
    other.screenshot(path=str(SHOTS / "conflict-1366x768.png"))
    for button in ("#conflict-reload", "#conflict-keep-mine", "#conflict-choose"):
        box = other.locator(button).bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1366  # nothing off the screen's side

    # A choice per field: my title, their priority.
    other.check('input[name="conflict-title"][value="mine"]')
    other.check('input[name="conflict-priority"][value="theirs"]')
    other.locator("#conflict-choose").click()
    expect(other).to_have_url(re.compile(r"/admin/task/list"))
    with db() as session:
        task = session.get(Task, task_id)
    assert (task.title, task.priority, task.version) == (f"Mine {mark}", 3, 3)

    # Keep mine: the editor (at version 1 in an old form) saves over version 3 on purpose.
    page.goto(f"/admin/task/edit/{task_id}")
    other.goto(f"/admin/task/edit/{task_id}")
    other.select_option("#priority", "5")
    other.get_by_role("button", name="Save", exact=True).click()
    expect(other).to_have_url(re.compile(r"/admin/task/list"))
    page.fill("#title", f"Keep mine {mark}")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-conflict")).to_be_visible()
    page.locator("#conflict-keep-mine").click()
    expect(page).to_have_url(re.compile(r"/admin/task/list"))
    with db() as session:
        task = session.get(Task, task_id)
    assert (task.title, task.priority, task.version) == (f"Keep mine {mark}", 3, 5)
    assert events.problems() == []
