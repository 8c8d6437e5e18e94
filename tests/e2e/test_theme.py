"""Dark mode in the browser: chosen in My account it holds on every page from the first paint;
"follow the system" tracks the browser's setting, also while a page is open."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import loaded, login, marker

# Tabler's dark body background is #151f2c-ish, its light one #f6f8fb: luminance tells them apart.
LUMINANCE = """() => {
  const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}"""


def theme(page) -> str | None:  # noqa: ANN001
    return page.evaluate("() => document.documentElement.getAttribute('data-bs-theme')")


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
def test_dark_mode_from_my_account(new_page, live_server, events, shoot, width, height) -> None:  # noqa: ANN001
    who = (f"{marker()}@example.com", "theme password for e2e")  # their own setting, no other test's
    live_server.cli("create-user", who[0], "--role", "editor", "--password-stdin", stdin=who[1] + "\n")
    page = new_page(width, height)
    login(page, who)
    assert theme(page) == "light"  # the browser says light; the default follows it
    page.goto("/admin/account")
    page.get_by_label("Dark").check()
    page.get_by_role("button", name="Save theme").click()
    expect(page.locator(".toast-body")).to_have_text("Theme: dark.")
    for path, name in (("/admin/", "dashboard-dark"), ("/admin/task/list", "task-list-dark")):
        page.goto(path)
        loaded(page)
        assert theme(page) == "dark", path
        assert page.evaluate(LUMINANCE) < 0.25, path
        if width == 1366:
            shoot(page, f"{name}-1366")
    # The first paint is already dark: the script that sets the attribute runs, unbuffered,
    # in <head>, before any stylesheet and before the body exists.
    html = page.content()
    assert html.index("theme.js") < html.index("stylesheet") < html.index("<body")
    assert events.problems() == []


def test_follow_the_system_tracks_the_browser(new_page, events) -> None:  # noqa: ANN001
    page = new_page(1366, 768)
    page.emulate_media(color_scheme="dark")
    page.goto("/admin/login")
    assert theme(page) == "dark"
    assert page.evaluate(LUMINANCE) < 0.25
    page.emulate_media(color_scheme="light")  # changed while the page is open
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
    assert page.evaluate(LUMINANCE) > 0.75
    assert events.problems() == []
