"""Two-factor sign-in in Chromium: an authenticator app set up from the shown secret, sign-in
with its code and with a recovery code, and a passkey through Chromium's virtual authenticator."""

from __future__ import annotations

import re
import time
import uuid

import pyotp
from playwright.sync_api import Page, expect

from tests.e2e.conftest import loaded, login


def new_staff(live_server, role: str = "editor") -> tuple[str, str]:  # noqa: ANN001
    who = (f"mfa-{uuid.uuid4().hex[:8]}@example.com", "a password for the mfa tests")
    live_server.cli("create-user", who[0], "--role", role, "--password-stdin", stdin=who[1] + "\n")
    return who


def log_out(page: Page) -> None:
    page.get_by_role("link", name=re.compile("Logout")).click()
    expect(page).to_have_url(re.compile(r"/admin/login$"))


def password_step(page: Page, who: tuple[str, str]) -> None:
    page.goto("/admin/login")
    page.fill("#username", who[0])
    page.fill("#password", who[1])
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/admin/login/second-factor\?next="))


def test_authenticator_app_set_up_from_the_shown_secret_then_code_and_recovery_code(page, live_server, events, shoot) -> None:  # noqa: ANN001
    who = new_staff(live_server)
    login(page, who)
    page.goto("/admin/account")
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.locator("#totp-setup svg")).to_be_visible()  # the QR code, under the CSP
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    shoot(page, "mfa-setup")
    page.fill("#totp-code", "000000")
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#account-error-totp-confirm")).to_contain_text("not valid")
    page.fill("#totp-code", totp.now())
    page.get_by_role("button", name="Turn on").click()
    codes = page.locator("#recovery-codes li code")
    expect(codes).to_have_count(10)
    recovery = codes.nth(0).inner_text()
    expect(page.locator("#mfa-status")).to_contain_text("authenticator app")
    log_out(page)

    # the password alone gets no further than the second step
    password_step(page, who)
    page.goto("/admin/task/list")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    password_step(page, who)
    shoot(page, "login-second-factor")
    page.fill("#code", totp.at(time.time() + 30))  # the next step: never the one already used
    page.click("#code-submit")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    log_out(page)

    password_step(page, who)
    page.fill("#code", recovery)
    page.click("#code-submit")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    page.goto("/admin/account")
    expect(page.locator("#recovery-left")).to_have_text("9")
    log_out(page)

    password_step(page, who)
    page.fill("#code", recovery)  # used once already
    page.click("#code-submit")
    expect(page.locator("#login-error")).to_contain_text("not valid")
    assert events.problems() == []


def _passkey_entries(db, email: str) -> list[tuple[str, str]]:  # noqa: ANN001
    """The audit trail's passkey entries of that user: (action, details as text)."""
    from sqlalchemy import select

    from models import AuditEntry

    with db() as session:
        rows = session.execute(select(AuditEntry.action, AuditEntry.details).where(
            AuditEntry.actor_label == email, AuditEntry.action.like("mfa_passkey%"),
        ).order_by(AuditEntry.id)).all()
    return [(action, str(details)) for action, details in rows]


def test_passkey_registered_in_my_account_then_used_to_sign_in(contexts, live_server, db, events) -> None:  # noqa: ANN001
    # WebAuthn needs a domain (not an IP address): the same server, reached as localhost.
    contexts.base_url = live_server.url.replace("127.0.0.1", "localhost")
    page = contexts.new_page()
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
    }})
    who = new_staff(live_server)
    login(page, who)
    page.goto("/admin/account")
    loaded(page)
    page.fill("#passkey-name", "virtual authenticator")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#recovery-codes li code")).to_have_count(10)  # the first factor: codes too
    expect(page.locator("#passkeys")).to_contain_text("virtual authenticator")
    expect(page.locator("#mfa-status")).to_contain_text("1 passkey")
    # A second passkey, on a second authenticator (the first holds a credential for this account).
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "usb", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
    }})
    page.fill("#passkey-name", "security key")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#passkeys")).to_contain_text("security key")
    expect(page.locator("#mfa-status")).to_contain_text("2 passkeys")
    log_out(page)

    password_step(page, who)
    loaded(page)
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    page.goto("/admin/account")
    # the one the browser chose has its last use recorded; the other was never used
    expect(page.locator("#passkeys tbody tr", has_text="never")).to_have_count(1)
    page.get_by_role("row", name=re.compile("virtual authenticator")).get_by_role("button", name="Remove").click()
    expect(page.locator("#passkeys")).not_to_contain_text("virtual authenticator")
    expect(page.locator("#mfa-status")).to_contain_text("1 passkey")
    page.get_by_role("row", name=re.compile("security key")).get_by_role("button", name="Remove").click()
    expect(page.locator("#passkeys")).to_contain_text("No passkeys yet.")
    entries = _passkey_entries(db, who[0])
    assert [action for action, _ in entries] == [
        "mfa_passkey_added", "mfa_passkey_added", "mfa_passkey_removed", "mfa_passkey_removed",
    ]
    assert all(who[1] not in details and "credential" not in details.lower() for _, details in entries)
    assert events.problems() == []
