"""A refused page inside the layout with a way back; an import previewed, then confirmed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import EDITOR, list_count, loaded, login, marker

SCREENS = [(1366, 768), (1920, 1080)]


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_a_403_says_why_and_links_back(new_page, events, shoot, width, height) -> None:  # noqa: ANN001
    page = new_page(width, height)
    login(page, EDITOR)
    response = page.goto("/admin/user/list")
    assert response is not None and response.status == 403
    expect(page.locator("#navbar-menu")).to_be_visible()
    expect(page.locator("#error-reason")).to_have_text("Your role, editor, does not give access to users.")
    if width == 1366:
        shoot(page, "error-403-1366")
    page.locator("#error-back").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    assert [p for p in events.problems() if "403" not in p] == []


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_an_import_is_previewed_then_confirmed(new_page, db, events, tmp_path, width, height) -> None:  # noqa: ANN001
    mark = marker()
    csv_file = tmp_path / "tasks.csv"
    csv_file.write_text(f"title,priority,due_date\nFirst {mark},High,\nSecond {mark},9,2026-13-45\n")
    page = new_page(width, height)
    login(page, EDITOR)
    page.goto("/admin/task/import-csv")
    page.locator("#csvfile").set_input_files(str(csv_file))
    page.locator("#import-preview-button").click()
    expect(page.locator("#import-plan")).to_have_text("Will create 1 task, update 0, leave 0 unchanged, 2 problems.")
    expect(page.locator("#import-problems tbody tr")).to_have_count(2)
    page.locator("#import-confirm input[name=skip_invalid]").check()
    page.locator("#import-confirm-button").click()
    expect(page.locator("#import-notice")).to_have_text(
        "1 task created, 0 updated, 0 unchanged. 1 invalid row skipped.")
    page.goto(f"/admin/task/list?search={mark}")
    loaded(page)
    expect(list_count(page)).to_have_text("1-1 of 1")
    assert [p for p in events.problems() if "400" not in p] == []
