"""The column chooser in the browser, by keyboard only: hide one, show one, move it, save."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import loaded, login, make_tasks, marker


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
def test_choose_columns_by_keyboard(new_page, live_server, db, events, shoot, width, height) -> None:  # noqa: ANN001
    mark = marker()
    who = (f"{mark}@example.com", "columns password for e2e")  # their own choice, no other test's
    live_server.cli("create-user", who[0], "--role", "editor", "--password-stdin", stdin=who[1] + "\n")
    make_tasks(db, [{"title": f"Columns {mark} {i}"} for i in range(2)])
    page = new_page(width, height)
    login(page, who)
    page.goto(f"/admin/task/list?search={mark}")
    loaded(page)
    page.get_by_role("link", name="Columns").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/admin/task/columns\?search={mark}$"))
    loaded(page)
    page.locator("#show-project").focus()
    page.keyboard.press("Space")  # hide the project
    expect(page.locator("#show-project")).not_to_be_checked()
    page.locator("#show-created_at").focus()
    page.keyboard.press("Space")  # show when each was created
    up = page.get_by_role("button", name="Move Created at up")
    up.focus()
    for _ in range(20):  # to the top, each press a page load that keeps the focus on the button
        with page.expect_navigation():
            page.keyboard.press("Enter")
        loaded(page)
        if up.is_disabled():
            break
        expect(up).to_be_focused()
    expect(page.locator("#columns-list li").first).to_have_attribute("data-column", "created_at")
    expect(page.get_by_role("button", name="Move Created at down")).to_be_focused()  # Up is disabled at the top
    expect(page.locator("#show-created_at")).to_be_checked()  # a move keeps what was ticked
    shoot(page, f"columns-chooser-{width}")
    page.locator("#columns-save").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/admin/task/list\?search={mark}$"))
    loaded(page)
    expected = ["created_at", "id", "title", "status", "priority", "assignee", "due_date", "updated_at"]
    expect(page.locator("thead th[data-column]")).to_have_count(len(expected))
    names = page.locator("thead th[data-column]").evaluate_all("cells => cells.map(c => c.dataset.column)")
    assert names == expected
    for name in expected:  # all inside the viewport, no scrolling sideways
        box = page.locator(f"thead th[data-column='{name}']").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box)
    expect(page.locator(".toast-body").first).to_contain_text("Columns of the tasks list saved.")
    shoot(page, f"columns-list-{width}")
    page.screenshot(path=f"/tmp/columns-{width}.png")
    assert events.problems() == []
