"""The whole round without a mouse: log in, open the tasks, search and filter, tick three rows,
run a bulk action and confirm it, edit a task, log out. Only page.keyboard after the first
page.goto; every control reached is focused visibly; no mouse or pointer event ever fires."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import select

from models import Task
from tests.e2e.conftest import ARTIFACTS, EDITOR, list_count, loaded, login, make_tasks, marker

SHOTS = ARTIFACTS.parent / "a11y"

# What has the focus: enough to recognise a control, and whether its focus ring shows.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e);
  return {tag: e.tagName.toLowerCase(), id: e.id || "", href: e.getAttribute("href") || "",
          name: (e.getAttribute("aria-label") || e.innerText || e.value || "").trim().slice(0, 80),
          data: e.dataset ? Object.assign({}, e.dataset) : {},
          ring: e.matches(":focus-visible") && (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2
                || style.boxShadow !== "none")};
}"""

# Counts every mouse and pointer event the page sees, across navigations (one tab's storage).
MOUSE_WATCH = """(() => {
  const count = (event) => {
    const n = Number(sessionStorage.getItem("mouse-events") || "0") + 1;
    sessionStorage.setItem("mouse-events", String(n));
    sessionStorage.setItem("mouse-last", event.type);
  };
  for (const type of ["mousedown", "mouseup", "pointerdown", "pointerup", "mousemove", "wheel", "contextmenu"]) {
    window.addEventListener(type, count, true);
  }
})();"""


def focus_to(page, wanted: Callable[[dict], bool], *, back: bool = False, limit: int = 120) -> dict:  # noqa: ANN001
    """Press Tab (or Shift+Tab) until the focused control is the wanted one; it must show its focus."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        try:
            focused = page.evaluate(FOCUSED)
        except PlaywrightError as exc:
            raise AssertionError(f"the page changed (now {page.url}) while moving the focus, after {seen}: {exc}") from None
        if focused and wanted(focused):
            assert focused["ring"], f"no visible focus on {focused}"
            return focused
        seen.append(focused and (focused["tag"], focused["id"] or focused["name"][:30]))
    raise AssertionError(f"never reached the control; focus went through {seen}")


def by_id(element_id: str) -> Callable[[dict], bool]:
    return lambda f: f["id"] == element_id


def by_name(name: str) -> Callable[[dict], bool]:
    return lambda f: f["name"] == name


def rows_of(db, mark: str) -> dict[int, tuple[str, str]]:  # noqa: ANN001
    with db() as session:
        found = session.execute(select(Task.id, Task.title, Task.status).where(Task.title.contains(mark)))
        return {task_id: (title, str(status)) for task_id, title, status in found}


def test_log_in_filter_tick_bulk_edit_and_log_out_with_the_keyboard_only(new_page, db, events, shoot) -> None:  # noqa: ANN001
    mark = marker()
    pending = make_tasks(db, [{"title": f"Keyboard {i} {mark}", "status": "pending"} for i in range(5)])
    started = make_tasks(db, [{"title": f"Keyboard started {i} {mark}", "status": "in_progress"} for i in range(2)])
    page = new_page(1366, 768)
    page.add_init_script(MOUSE_WATCH)
    page.goto("/admin/login")

    # Log in: the email field has the focus already.
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type(EDITOR[0])
    page.keyboard.press("Tab")
    page.keyboard.type(EDITOR[1])
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    loaded(page)

    # The first Tab reaches "Skip to content", which leads past the menu to the content.
    skip = focus_to(page, lambda f: True, limit=1)
    assert (skip["id"], skip["name"]) == ("skip-link", "Skip to content")
    expect(page.locator("#skip-link")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "skip-link-focused-1366.png"))
    shoot(page, "skip-link-focused-1366")
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()

    # Open the tasks from the menu, which is before the content.
    focus_to(page, lambda f: f["tag"] == "a" and f["href"].endswith("/admin/task/list"), back=True)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/task/list$"))
    loaded(page)

    # Search for this test's tasks, then filter them by status in the filter panel.
    focus_to(page, by_id("search-input"))
    page.keyboard.type(mark)
    page.keyboard.press("Enter")
    expect(list_count(page)).to_have_text("1-7 of 7")
    loaded(page)
    focus_to(page, by_id("filters-toggle"))
    page.keyboard.press("Enter")
    expect(page.locator("#filter-panel")).to_be_visible()
    page.wait_for_timeout(400)  # the panel's opening animation
    focus_to(page, lambda f: f["data"].get("filter") == "status" and f["data"].get("value") == "pending")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"status=pending"))
    expect(list_count(page)).to_have_text("1-5 of 5")
    loaded(page)

    # Tick three rows with Space, each box named after its row.
    ticked = sorted(pending, reverse=True)[:3]
    for task_id in ticked:
        focus_to(page, by_name(f"Select task {task_id}"))
        page.keyboard.press("Space")
        expect(page.get_by_role("checkbox", name=f"Select task {task_id}", exact=True)).to_be_checked()
    page.locator(":focus").scroll_into_view_if_needed()  # for the picture (a scroll, no mouse)
    page.screenshot(path=str(SHOTS / "row-checkbox-focused-1366.png"))
    shoot(page, "row-checkbox-focused-1366")

    # The Actions menu: open it with Enter, go down to "Mark done", confirm on the next page.
    focus_to(page, by_id("dropdownMenuButton"), back=True)
    page.keyboard.press("Enter")
    expect(page.locator("#action-custom-mark-done")).to_be_visible()
    for _ in range(10):
        page.keyboard.press("ArrowDown")
        if page.evaluate(FOCUSED)["id"] == "action-custom-mark-done":
            break
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/task/action/mark-done\?"))
    expect(page.locator("#bulk-selected")).to_have_text("the 3 selected tasks")
    assert {rows_of(db, mark)[i][1] for i in ticked} == {"pending"}  # asking changed nothing
    loaded(page)
    focus_to(page, by_id("bulk-submit"))
    page.keyboard.press("Enter")
    expect(page.locator(".toast-body")).to_have_text("3 tasks marked done")
    after = rows_of(db, mark)
    assert {i for i, (_title, status) in after.items() if status == "done"} == set(ticked)
    assert {after[i][1] for i in started} == {"in_progress"}

    # Edit one of the two still pending (the list kept its search and filter), save with Enter.
    expect(list_count(page)).to_have_text("1-2 of 2")
    loaded(page)
    [edited, _other] = sorted(set(pending) - set(ticked), reverse=True)
    focus_to(page, by_name(f"Edit task {edited}"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/admin/task/edit/{edited}\b"))
    loaded(page)
    focus_to(page, by_id("title"))
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(f"Edited by keyboard {mark}")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/task/list"))
    expect(page.locator(".toast-body")).to_contain_text("saved")
    assert rows_of(db, mark)[edited] == (f"Edited by keyboard {mark}", "pending")

    # Log out from the sidebar, which comes before the content.
    loaded(page)
    focus_to(page, lambda f: f["href"].endswith("/logout"), back=True)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/(login|logout)"))
    expect(page.locator("#username")).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('mouse-events')") is None  # not one mouse event
    assert events.problems() == []
    # The session is gone: the list asks for a login again.
    page.goto("/admin/task/list")
    expect(page).to_have_url(re.compile(r"/admin/login"))
    assert Path(SHOTS / "row-checkbox-focused-1366.png").exists()


def test_tabbing_through_the_search_box_does_not_reload_the_list(new_page, db, events) -> None:  # noqa: ANN001
    """SQLAdmin submits the search a second after a keyup in its box; a Tab's keyup changed
    nothing and must not (it reloaded the page and dropped the ticked rows)."""

    mark = marker()
    [task_id] = make_tasks(db, [{"title": f"Tab through {mark}"}])
    page = new_page(1366, 768)
    login(page, EDITOR)
    page.goto(f"/admin/task/list?search={mark}")
    loaded(page)
    page.evaluate("() => { window.stillHere = true; }")
    focus_to(page, by_name(f"Select task {task_id}"))
    page.keyboard.press("Space")
    focus_to(page, by_id("search-input"), back=True)
    page.keyboard.press("Shift+Tab")  # and on, out of it
    page.wait_for_timeout(1600)  # past SQLAdmin's one-second auto-submit
    assert page.evaluate("() => window.stillHere === true")
    expect(page.get_by_role("checkbox", name=f"Select task {task_id}", exact=True)).to_be_checked()
    # Typing still searches by itself, as before.
    focus_to(page, by_id("search-input"))
    page.keyboard.press("End")
    page.keyboard.type("x")
    expect(page).to_have_url(re.compile(rf"search={mark}x"), timeout=5000)
    assert events.problems() == []
