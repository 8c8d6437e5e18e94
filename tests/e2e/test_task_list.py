"""The task list as staff drive it: search, filters, sort and page size, and a URL to share."""

import re

from playwright.sync_api import expect

from models import Task
from tests.e2e.conftest import (
    EDITOR,
    VIEWER,
    expect_ids,
    filter_panel,
    list_count,
    loaded,
    login,
    make_tasks,
    marker,
    shown_ids,
    task_ids,
    user_id,
)

ALICE = "alice.martin@example.com"


def test_search_filter_sort_and_page_size_then_the_url_shows_the_same_rows(
    page, new_page, db, events,  # noqa: ANN001
) -> None:
    mark = marker()
    alice, bob = user_id(db, ALICE), user_id(db, "bob.nguyen@example.com")
    # 30 rows match everything below (more than one page of 25); each decoy misses one filter.
    make_tasks(db, [
        {"title": f"Task {i:02d} {mark}", "status": "pending", "priority": i % 5 + 1, "assignee_id": alice}
        for i in range(30)
    ])
    make_tasks(db, [
        {"title": f"Decoy for Bob {mark}", "status": "pending", "assignee_id": bob},
        {"title": f"Decoy done {mark}", "status": "done", "assignee_id": alice},
        {"title": f"Decoy unassigned {mark}", "status": "pending"},
    ])
    footer = list_count(page)

    login(page, EDITOR)
    page.goto("/admin/task/list")
    page.locator("#search-input").fill(mark)
    page.locator("#search-input").press("Enter")
    expect(footer).to_have_text("1-25 of 33")

    sidebar = filter_panel(page)
    sidebar.get_by_role("link", name="Pending", exact=True).click()
    expect(footer).to_have_text("1-25 of 32")

    # The assignee is searched as staff type, then applied.
    sidebar.locator("form:has(select[name='assignee']) .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").press_sequentially("alice")
    page.locator(".select2-results__option", has_text=ALICE).click()
    sidebar.locator("form", has=page.locator("select[name=assignee]")).get_by_role(
        "button", name="Apply Filter"
    ).click()
    expect(page.locator("#assignee-filter-chosen")).to_have_text(ALICE)
    expect(footer).to_have_text("1-25 of 30")

    header = page.locator("thead").get_by_role("link", name="Priority", exact=True)
    header.click()
    expect(page).to_have_url(re.compile(r"sort=asc"))
    page.locator("thead").get_by_role("link", name="Priority", exact=True).click()
    expect(page).to_have_url(re.compile(r"sort=desc"))
    wanted = task_ids(
        db, Task.title.contains(mark), Task.status == "pending", Task.assignee_id == alice,
        order=[Task.priority.desc(), Task.id.desc()],
    )
    assert len(wanted) == 30
    expect_ids(page, wanted[:25])

    loaded(page)
    page.locator(".card-footer .dropdown-toggle").click()
    page.locator(".card-footer .dropdown-menu").get_by_role("link", name="50 / Page").click()
    expect(footer).to_have_text("1-30 of 30")
    expect_ids(page, wanted)
    for param in (f"search={mark}", "status=pending", f"assignee={alice}", "sortBy=priority", "pageSize=50"):
        assert param in page.url, param

    # Someone else opening the same URL sees the same rows.
    other = new_page()
    login(other, VIEWER)
    other.goto(page.url)
    expect(list_count(other)).to_have_text("1-30 of 30")
    assert shown_ids(other) == shown_ids(page) == wanted
    assert events.problems() == []
