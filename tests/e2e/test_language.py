"""German in the browser: chosen in My account, every page follows (words, <html lang>, dates
and numbers); the browser's Accept-Language decides for someone who has not chosen."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import loaded, login, marker


def test_german_from_my_account(new_page, live_server, events, shoot) -> None:  # noqa: ANN001
    who = (f"{marker()}@example.com", "language password for e2e")  # their own setting
    live_server.cli("create-user", who[0], "--role", "editor", "--password-stdin", stdin=who[1] + "\n")
    page = new_page(1366, 768)
    login(page, who)
    assert page.get_attribute("html", "lang") == "en"  # the browser asks for English
    page.goto("/admin/account")
    page.get_by_label("Pages show in").select_option("de")
    page.get_by_role("button", name="Save language").click()
    expect(page.locator(".toast-body")).to_have_text("Seiten erscheinen jetzt auf Deutsch.")
    page.goto("/admin/")
    loaded(page)
    assert page.get_attribute("html", "lang") == "de"
    expect(page.get_by_role("heading", name="Neueste Änderungen")).to_be_visible()
    expect(page.locator(".subheader").first).to_have_text("Ausstehend")
    shoot(page, "dashboard-de-1366")
    page.goto("/admin/task/list")
    loaded(page)
    expect(page.locator("#list-count")).to_contain_text(re.compile(r"1–\d+ von "))
    expect(page.locator("th").filter(has_text="Priorität").first).to_be_visible()
    shoot(page, "task-list-de-1366")
    assert events.problems() == []


def test_the_browser_language_decides_until_one_is_chosen(browser, live_server) -> None:  # noqa: ANN001
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    try:
        page = context.new_page()
        page.goto("/admin/login")
        assert page.get_attribute("html", "lang") == "fr"
        expect(page.get_by_role("button", name="Connexion")).to_be_visible()
    finally:
        context.close()
