"""Every page staff reach, under the security headers and CSP: no console error, nothing blocked.

It also takes the README's screenshots (with --screenshots DIR); conftest runs it before the
other browser tests, so the pictures show the demo data.
"""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ADMIN, filter_panel, loaded, login, make_tasks


def visit(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    assert "script-src 'self'" in (response.headers.get("content-security-policy") or ""), path


def test_every_page_loads_without_console_errors_or_blocked_resources(page, db, events, shoot) -> None:  # noqa: ANN001
    [own] = make_tasks(db, [{
        "title": "Renew the support contract", "description": "Ask the vendor for this year's quote.",
        "priority": 3,
    }])
    login(page, ADMIN)
    visit(page, "/admin/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    shoot(page, "dashboard")

    # The list with a filter applied and the assignee search open (select2 fetches users).
    visit(page, "/admin/task/list")
    sidebar = filter_panel(page)
    sidebar.get_by_role("link", name="Open (pending or in progress)").click()
    expect(page).to_have_url(re.compile(r"preset=open"))
    sidebar.locator("form:has(select[name='assignee']) .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").press_sequentially("example")
    expect(page.locator(".select2-results__option", has_text="alice.martin@example.com")).to_be_visible()
    shoot(page, "task-list-filters")
    page.keyboard.press("Escape")
    loaded(page)

    # A bulk action's confirmation (asked, not done), then one asking for an assignee.
    for row in page.locator("table tbody tr").all()[:3]:
        row.locator("input.select-box").check()
    page.get_by_role("button", name="Actions").click()
    page.locator("#action-custom-mark-done").click()
    expect(page.locator("#bulk-selected")).to_have_text("the 3 selected tasks")
    shoot(page, "bulk-confirmation")
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"/admin/task/list\?preset=open"))
    expect(page.locator("table tbody tr").first).to_be_visible()
    loaded(page)
    page.get_by_role("button", name="Actions").click()
    page.locator("#action-custom-assign").click()
    expect(page.locator("#bulk-matching")).to_contain_text("matching the current search and filters")
    page.locator("#bulk-confirm .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").press_sequentially("bob")
    expect(page.locator(".select2-results__option", has_text="bob.nguyen@example.com")).to_be_visible()
    page.keyboard.press("Escape")

    # The edit form with a validation message (its date picker opened first),
    # then saved properly: the audit log below shows the change.
    visit(page, f"/admin/task/edit/{own}")
    page.locator("#due_date").click()
    expect(page.locator(".flatpickr-calendar.open")).to_be_visible()
    page.keyboard.press("Escape")
    page.fill("#title", " ")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-danger")).to_have_text("Title: must not be blank")
    shoot(page, "edit-form-error")
    page.fill("#title", "Renew the support contract with the vendor")
    page.select_option("#status", "in_progress")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/task/list"))

    for path in (f"/admin/task/details/{own}", "/admin/task/create", "/admin/task/import-csv",
                 "/admin/task/list-edit?status=pending%2Cin_progress", "/admin/user/list",
                 "/admin/user/create", "/admin/user/details/1", "/admin/project/list",
                 "/admin/project/create", "/admin/project/details/1", "/admin/project/import-csv",
                 "/admin/project/list-edit"):
        visit(page, path)  # waits for the load event: every script, style and image

    visit(page, "/admin/account")
    expect(page.get_by_role("heading", name="My account").first).to_be_visible()
    shoot(page, "account")
    visit(page, "/admin/audit-entry/list")
    expect(page.locator("table tbody tr").first).to_contain_text(ADMIN[0])
    shoot(page, "audit-log")
    page.locator("table tbody tr").first.locator("a[href*='/admin/audit-entry/details/']").click()
    expect(page.get_by_text('status: "pending" → "in_progress"')).to_be_visible()
    shoot(page, "audit-entry")
    visit(page, "/admin/logout")
    page.wait_for_load_state("networkidle")
    assert events.problems() == []
