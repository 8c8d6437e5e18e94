"""Logging in and out as staff do, in a real browser."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN, VIEWER, login


def test_wrong_password_then_right_then_logout(page, events, shoot) -> None:  # noqa: ANN001
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    shoot(page, "login")
    page.fill("#username", ADMIN[0])
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    error = page.locator("#login-error")
    expect(error).to_have_text("Invalid email or password.")
    assert "Traceback" not in page.content() and "argon2" not in page.content()
    expect(page.locator("#username")).to_have_value(ADMIN[0])  # input kept
    page.fill("#password", ADMIN[1])
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    page.get_by_role("link", name=re.compile("Logout")).click()
    expect(page).to_have_url(re.compile(r"/admin/login$"))
    page.go_back()
    # the page the browser shows again is not usable: reloading it asks to log in
    page.reload()
    expect(page).to_have_url(re.compile(r"/admin/login"))
    page.goto("/admin/task/list")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    assert events.problems() == []


def test_viewer_sees_no_write_controls_and_a_crafted_request_is_refused(page, live_server, events) -> None:  # noqa: ANN001
    login(page, VIEWER)
    page.goto("/admin/task/list")
    expect(page.locator("table")).to_be_visible()
    for selector in ("a[href$='/admin/task/create']", "a[href*='/admin/task/edit/']",
                     "#action-delete", "[id^='action-custom-']"):
        expect(page.locator(selector)).to_have_count(0)
    expect(page.locator("a[href$='/admin/user/list']")).to_have_count(0)
    response = page.request.post(
        "/admin/task/create", form={"title": "crafted", "status": "pending", "priority": "1"},
        headers={"Origin": live_server.url},
    )
    assert response.status == 403
    assert events.problems() == []

