"""Undo from the message: bulk "mark as done" on all matching rows, then Undo, then the preview's POST."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import EDITOR, login, make_tasks, marker
from tests.e2e.test_bulk_actions import status_counts


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_mark_all_matching_done_then_undo_it(page, db, events, size, tmp_path) -> None:  # noqa: ANN001
    page.set_viewport_size({"width": size[0], "height": size[1]})
    mark = marker()
    make_tasks(db, [{"title": f"Undo {i} {mark}", "status": "pending"} for i in range(7)])
    make_tasks(db, [{"title": f"Undo done {i} {mark}", "status": "done"} for i in range(2)])
    login(page, EDITOR)
    page.goto(f"/admin/task/action/mark-done?search={mark}")
    expect(page.locator("input[name=scope][value=all]")).to_be_checked()
    page.locator("#bulk-submit").click()
    expect(page.locator(".toast-body")).to_have_text("7 tasks marked done, 2 already done")
    assert status_counts(db, mark) == {"done": 9}
    offer = page.locator("#undo-offer")
    expect(offer).to_be_visible()
    box = offer.bounding_box()
    assert box is not None and box["y"] < size[1] and box["x"] + box["width"] <= size[0]  # on screen, not cut off
    page.screenshot(path=str(tmp_path / "offer.png"))
    page.locator("#undo-link").click()
    expect(page).to_have_url(re.compile(r"/admin/changes/\d+/revert$"))
    expect(page.locator("#revert-restorable")).to_have_text("7 rows will be restored.")
    assert status_counts(db, mark) == {"done": 9}  # the preview changed nothing
    page.screenshot(path=str(tmp_path / "preview.png"))
    page.locator("#revert-submit").click()
    expect(page.locator(".toast-body")).to_have_text("Reverted: 7 rows restored.")
    assert status_counts(db, mark) == {"done": 2, "pending": 7}
    expect(page.locator("#undo-offer")).to_be_visible()  # the revert can be undone in turn
    assert events.problems() == []
