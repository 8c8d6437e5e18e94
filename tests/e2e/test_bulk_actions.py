"""Bulk actions from the task list: on ticked rows, and on every row matching a filter."""

import re

from playwright.sync_api import expect
from sqlalchemy import func, select

from models import Task
from tests.e2e.conftest import (
    EDITOR,
    expect_ids,
    filter_panel,
    list_count,
    loaded,
    login,
    make_tasks,
    marker,
    shown_ids,
)


def status_counts(db, mark: str) -> dict[str, int]:  # noqa: ANN001
    with db() as session:
        rows = session.execute(
            select(Task.status, func.count()).where(Task.title.contains(mark)).group_by(Task.status)
        )
        return {str(status): count for status, count in rows}


def statuses(db, ids: list[int]) -> set[str]:  # noqa: ANN001
    with db() as session:
        return {str(s) for s in session.execute(select(Task.status).where(Task.id.in_(ids))).scalars()}


def test_bulk_action_on_ticked_rows_then_on_all_matching_rows(page, db, events) -> None:  # noqa: ANN001
    mark = marker()
    ids = make_tasks(db, [{"title": f"Bulk started {i} {mark}", "status": "in_progress"} for i in range(3)])
    ids += make_tasks(db, [{"title": f"Bulk {i} {mark}", "status": "pending"} for i in range(9)])
    login(page, EDITOR)
    page.goto(f"/admin/task/list?search={mark}")
    expect_ids(page, sorted(ids, reverse=True))

    # Tick three rows, mark them done.
    ticked = shown_ids(page)[:3]
    for row in page.locator("table tbody tr").all()[:3]:
        row.locator("input.select-box").check()
    page.get_by_role("button", name="Actions").click()
    page.locator("#action-custom-mark-done").click()
    expect(page).to_have_url(re.compile(r"/admin/task/action/mark-done\?"))
    expect(page.locator("#bulk-selected")).to_have_text("the 3 selected tasks")
    everything = sum(status_counts(db, mark).values())
    assert everything == 12
    expect(page.locator("#bulk-matching")).to_have_text(
        f"all {everything} tasks matching the current search and filters"
    )
    assert statuses(db, ticked) == {"pending"}  # asking changed nothing
    page.locator("#bulk-submit").click()
    expect(page.locator(".toast-body")).to_have_text("3 tasks marked done")
    expect(page).to_have_url(re.compile(rf"/admin/task/list\?search={mark}$"))
    assert statuses(db, ticked) == {"done"}
    assert status_counts(db, mark) == {"done": 3, "pending": 6, "in_progress": 3}

    # Filter to the open ones, tick nothing: the action offers every matching row.
    filter_panel(page).get_by_role("link", name="Open (pending or in progress)").click()
    counts = status_counts(db, mark)
    still_open = counts["pending"] + counts["in_progress"]
    assert still_open == 9
    expect(list_count(page)).to_have_text(f"1-{still_open} of {still_open}")
    loaded(page)
    page.get_by_role("button", name="Actions").click()
    page.locator("#action-custom-mark-cancelled").click()
    expect(page.locator("#bulk-matching")).to_have_text(
        f"all {still_open} tasks matching the current search and filters"
    )
    expect(page.locator("#bulk-selected")).to_have_count(0)
    expect(page.locator("input[name=scope][value=all]")).to_be_checked()
    page.locator("#bulk-submit").click()
    expect(page.locator(".toast-body")).to_have_text(f"{still_open} tasks marked cancelled")
    assert status_counts(db, mark) == {"done": 3, "cancelled": still_open}
    # Back on the filtered list, which is now empty.
    expect(list_count(page)).to_have_text("0 tasks")
    assert events.problems() == []
