"""The list fits the screen: at 1366x768 every column staff triage by is in view, no sideways
scrolling; at 1920x1080 the table uses the room. Filters open and close in a panel; the active
ones are chips above the list; the audit log's changes wrap."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    ADMIN,
    EDITOR,
    VIEWER,
    filter_panel,
    list_count,
    loaded,
    login,
    make_tasks,
    marker,
    user_id,
)

SCREENS = [(1366, 768), (1920, 1080)]
TRIAGE_COLUMNS = ["id", "title", "status", "priority", "assignee", "due_date", "updated_at"]


def assert_no_sideways_scroll(page: Page) -> None:
    scroll = page.evaluate("""() => {
        const box = document.querySelector('.table-responsive');
        return {inner: box.scrollWidth, outer: box.clientWidth, page: document.documentElement.scrollWidth,
                window: window.innerWidth};
    }""")
    assert scroll["inner"] <= scroll["outer"], scroll
    assert scroll["page"] <= scroll["window"], scroll


def column_boxes(page: Page, names: list[str]) -> dict[str, dict]:
    return {name: page.locator(f"thead th[data-column='{name}']").bounding_box() for name in names}


@pytest.mark.parametrize(("width", "height"), SCREENS)
@pytest.mark.parametrize("who", [VIEWER, EDITOR, ADMIN], ids=["viewer", "editor", "admin"])
def test_the_triage_columns_are_in_view(new_page, db, events, shoot, width, height, who) -> None:  # noqa: ANN001
    mark = marker()
    alice = user_id(db, "alice.martin@example.com")
    make_tasks(db, [{
        "assignee_id": alice,
        "title": f"A long task title that staff write when they explain what needs doing {mark} {i}",
        "status": ["pending", "in_progress", "done", "cancelled"][i % 4], "priority": i % 5 + 1,
        "due_date": date(2026, 12, 1 + i),
    } for i in range(8)])
    page = new_page(width, height)
    login(page, who)
    page.goto(f"/admin/task/list?search={mark}")
    expect(list_count(page)).to_have_text("1-8 of 8")
    for name, box in column_boxes(page, TRIAGE_COLUMNS).items():
        assert box is not None, name
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box, width)
    assert_no_sideways_scroll(page)
    table = page.locator("table.list-table").bounding_box()
    if width >= 1920:
        assert table["width"] >= 0.8 * width, table  # the filters no longer take a column
    expect(page.locator(".choice-badge").first).to_be_visible()
    if width == 1366 and who == EDITOR:
        shoot(page, "task-list-1366")
    if who == VIEWER:
        expect(page.locator("input.select-box")).to_have_count(0)
        expect(page.get_by_role("button", name="Actions")).to_have_count(0)
    assert events.problems() == []


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_filters_open_and_close_and_show_as_chips(new_page, db, events, shoot, width, height) -> None:  # noqa: ANN001
    mark = marker()
    make_tasks(db, [{"title": f"Chip {mark} {i}", "status": "pending" if i < 3 else "done"} for i in range(5)])
    page = new_page(width, height)
    login(page, EDITOR)
    page.goto(f"/admin/task/list?search={mark}")
    loaded(page)
    panel = page.locator("#filter-panel")
    expect(panel).to_be_hidden()
    panel = filter_panel(page)
    expect(page.locator("#filters-toggle")).to_have_attribute("aria-expanded", "true")
    panel.get_by_role("link", name="Pending", exact=True).click()
    expect(list_count(page)).to_have_text("1-3 of 3")
    chips = page.locator("#filter-chips .filter-chip")
    expect(chips).to_have_text([f"Search: {mark}", "Status: Pending"])
    expect(page.locator("#filter-panel")).to_be_visible()  # still open, as it was left
    if width == 1366:
        shoot(page, "task-list-filter-panel-1366")
    loaded(page)
    page.locator("#filters-toggle").click()
    expect(page.locator("#filter-panel")).to_be_hidden()
    chips.filter(has_text="Status: Pending").click()
    expect(list_count(page)).to_have_text("1-5 of 5")
    expect(page.locator("#filter-panel")).to_be_hidden()  # still closed
    page.goto(f"/admin/task/list?search={mark}&status=cancelled")
    expect(page.locator("#empty-list")).to_contain_text("No tasks match these filters.")
    page.locator("#empty-clear-filters").click()
    expect(page.locator("#filter-chips")).to_have_count(0)
    assert events.problems() == []


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_facet_counts_show_beside_each_choice_and_fit_the_panel(new_page, db, events, shoot, width, height) -> None:  # noqa: ANN001
    mark = marker()
    make_tasks(db, [{"title": f"Facet {mark} {i}", "status": ["pending", "in_progress", "done"][i % 3],
                     "priority": 5 if i < 4 else 1} for i in range(9)])
    page = new_page(width, height)
    login(page, EDITOR)
    page.goto(f"/admin/task/list?search={mark}&priority=5")
    loaded(page)
    panel = filter_panel(page)
    panel.get_by_role("link", name="Show counts").click()
    expect(page.locator("#facets-toggle")).to_have_text("Hide counts")
    panel = page.locator("#filter-panel")
    counts = panel.locator("a[data-filter='status'] .facet-count")
    expect(counts).to_have_text(["2", "1", "1", "0"])  # the search and priority 5 applied
    priority = panel.locator("a[data-filter='priority'] .facet-count")
    expect(priority).to_have_text(["5", "0", "0", "0", "4"])  # Low..Urgent, its own filter left out
    # Each count sits on its choice's line, inside the panel entry, nothing cut or wrapped.
    for link in panel.locator("a[data-filter='status'], a[data-filter='priority']").all():
        row, count = link.bounding_box(), link.locator(".facet-count").bounding_box()
        entry = link.locator("xpath=ancestor::div[contains(@class, 'filter-panel-entry')]").bounding_box()
        assert count["x"] + count["width"] <= entry["x"] + entry["width"] + 1, (row, count, entry)
        assert count["y"] >= row["y"] - 1 and count["y"] + count["height"] <= row["y"] + row["height"] + 1
    assert_no_sideways_scroll(page)
    if width == 1366:
        shoot(page, "task-list-facets-1366")
    panel.locator("a[data-filter='status'][data-value='done']").click()
    expect(list_count(page)).to_have_text("1-1 of 1")
    expect(page.locator("#facets-toggle")).to_have_text("Hide counts")  # kept in the URL
    assert events.problems() == []


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_the_audit_log_wraps_its_changes(new_page, db, events, width, height) -> None:  # noqa: ANN001
    mark = marker()
    long_text = " ".join(["a description long enough to need several lines in the audit log"] * 6)
    make_tasks(db, [{"title": f"Audited {mark}", "description": long_text}])
    page = new_page(width, height)
    login(page, ADMIN)
    page.goto("/admin/audit-entry/list")
    expect(page.locator(".audit-changes").first).to_be_visible()
    assert_no_sideways_scroll(page)
    for name in ("id", "changes"):
        box = page.locator(f"thead th[data-column='{name}']").bounding_box()
        assert box is not None and box["x"] + box["width"] <= width, (name, box)
    expect(page.locator("input.select-box")).to_have_count(0)
    assert events.problems() == []
