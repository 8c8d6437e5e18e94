"""The list without a mouse: / searches, j/k move a row cursor, x ticks, Enter opens, e edits, ? helps."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import EDITOR, VIEWER, list_count, loaded, login, make_tasks, marker


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
def test_the_list_by_keyboard(new_page, db, events, width, height) -> None:  # noqa: ANN001
    mark = marker()
    ids = make_tasks(db, [{"title": f"Keys {mark} {i}"} for i in range(3)])
    page = new_page(width, height)
    login(page, EDITOR)
    page.goto("/admin/task/list")
    loaded(page)
    page.keyboard.press("/")
    expect(page.locator("#search-input")).to_be_focused()
    page.keyboard.type(mark)
    page.keyboard.press("Enter")
    expect(list_count(page)).to_have_text("1-3 of 3")
    loaded(page)
    rows = page.locator("table.list-table tbody tr")
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile("row-cursor"))
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")  # stops at the last row
    expect(rows.nth(2)).to_have_class(re.compile("row-cursor"))
    page.keyboard.press("k")
    expect(rows.nth(1)).to_have_class(re.compile("row-cursor"))
    expect(rows.nth(2)).not_to_have_class(re.compile("row-cursor"))
    page.keyboard.press("x")
    expect(rows.nth(1).locator("input.select-box")).to_be_checked()
    page.keyboard.press("?")
    expect(page.locator("#shortcuts-help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts-help")).to_be_hidden()
    page.keyboard.press("e")
    expect(page).to_have_url(re.compile(rf"/admin/task/edit/{ids[1]}\b"))
    page.go_back()
    loaded(page)
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/admin/task/details/{ids[2]}$"))
    assert events.problems() == []


def test_a_viewer_opens_rows_by_keyboard_and_e_does_nothing(new_page, db, events) -> None:  # noqa: ANN001
    mark = marker()
    [task_id] = make_tasks(db, [{"title": f"Read only {mark}"}])
    page = new_page(1366, 768)
    login(page, VIEWER)
    page.goto(f"/admin/task/list?search={mark}")
    loaded(page)
    page.keyboard.press("j")
    page.keyboard.press("e")  # no edit link for a viewer: stays
    page.keyboard.press("x")
    expect(page).to_have_url(re.compile(r"/admin/task/list\?"))
    page.locator("#filters-toggle").focus()
    page.keyboard.press("Enter")  # a focused button does its own thing, not "open the row"
    expect(page.locator("#filter-panel")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/admin/task/list\?"))
    page.locator("#filters-toggle").blur()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/admin/task/details/{task_id}$"))
    assert events.problems() == []
