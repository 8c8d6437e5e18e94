"""Saved views in the browser: save a filtered task list, find it in the menu with its count, open it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import expect_ids, loaded, login, make_tasks, marker


def test_save_a_view_find_it_in_the_menu_and_open_it(new_page, live_server, db, events, shoot) -> None:  # noqa: ANN001
    width, height = 1366, 768
    mark = marker()
    who = (f"{mark}@example.com", "saved views password for e2e")  # their own views, no other test's
    live_server.cli("create-user", who[0], "--role", "editor", "--password-stdin", stdin=who[1] + "\n")
    ids = make_tasks(db, [{"title": f"Views {mark} {i}", "status": "done" if i % 2 else "pending"} for i in range(5)])
    done = [i for n, i in enumerate(ids) if n % 2]
    page = new_page(width, height)
    login(page, who)
    page.goto(f"/admin/task/list?search={mark}&status=done&sortBy=id&sort=asc")
    loaded(page)
    page.get_by_role("link", name="Save view").click()
    expect(page).to_have_url(re.compile(r"/admin/task/views/new\?"))
    page.get_by_label("Name").fill(f"Done for {mark} — the long name of a weekly review")
    page.screenshot(path="/tmp/saved-view-form-1366.png")
    page.get_by_role("button", name="Save view").click()
    expect(page).to_have_url(re.compile(rf"/admin/task/list\?search={mark}&status=done&sortBy=id&sort=asc&view=\d+$"))
    loaded(page)
    expect(page.locator(".toast-body").first).to_contain_text("saved.")
    expect(page.locator("#saved-view-title")).to_contain_text(f"Done for {mark}")
    link = page.locator(".saved-views .saved-view-link", has_text=f"Done for {mark}")
    expect(link).to_be_visible()
    expect(link.locator(".saved-view-count")).to_have_text(str(len(done)))
    # the entry fits the menu: its name cut short, its count inside the sidebar
    menu, count_box = page.locator("aside.navbar-vertical").bounding_box(), link.locator(".saved-view-count").bounding_box()
    name_box = link.locator(".saved-view-name").bounding_box()
    assert menu is not None and count_box is not None and name_box is not None
    assert count_box["x"] + count_box["width"] <= menu["x"] + menu["width"], (count_box, menu)
    assert name_box["x"] + name_box["width"] <= count_box["x"], (name_box, count_box)
    shoot(page, "saved-view-1366")
    page.screenshot(path="/tmp/saved-view-1366.png")
    # from another page, the menu opens the view: its filters, sort and name
    page.goto("/admin/")
    loaded(page)
    page.locator(".saved-views .saved-view-link", has_text=f"Done for {mark}").click()
    loaded(page)
    expect(page).to_have_url(re.compile(r"view=\d+"))
    expect_ids(page, done)
    expect(page.locator("#filter-chips")).to_contain_text("Status: Done")
    expect(page.locator(".saved-views .saved-view-link.active")).to_contain_text(f"Done for {mark}")
    # rename it from its page; the menu follows
    page.get_by_role("link", name="Rename or delete").click()
    loaded(page)
    page.screenshot(path="/tmp/saved-view-manage-1366.png")
    page.get_by_label("Name").fill(f"Weekly {mark}")
    page.get_by_role("button", name="Save name").click()
    loaded(page)
    expect(page.locator("#saved-view-title")).to_contain_text(f"Weekly {mark}")
    expect(page.locator(".saved-views .saved-view-link.active")).to_contain_text(f"Weekly {mark}")
    assert events.problems() == []
