"""Logins: one answer for every failure, throttling in the database, safe redirects."""

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from admin_app.db import build_session_factory
from admin_app.main import create_app
from models import LoginFailure, Role
from models.common import utcnow
from tests.conftest import make_settings
from tests.factories import PASSWORD, admin_login, api_login, make_user


def test_unknown_email_and_wrong_password_look_the_same(app, client) -> None:  # noqa: ANN001
    make_user(app, "known@example.com")
    wrong = api_login(client, "known@example.com", "wrong password here")
    unknown = api_login(client, "unknown@example.com", "wrong password here")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Invalid email or password."}
    page_wrong = admin_login(client, "known@example.com", "wrong password here")
    page_unknown = admin_login(client, "unknown@example.com", "wrong password here")
    assert page_wrong.status_code == page_unknown.status_code == 400
    assert "Invalid email or password." in page_wrong.text
    assert page_wrong.text.replace("known@", "") == page_unknown.text.replace("unknown@", "")


def test_login_is_case_insensitive_on_email(app, client) -> None:  # noqa: ANN001
    make_user(app, "case@example.com")
    assert api_login(client, "  CASE@Example.com ").status_code == 200


def test_oversized_password_is_refused_without_hashing(app, client, monkeypatch) -> None:  # noqa: ANN001
    make_user(app, "big@example.com")
    calls = []
    real = app.state.passwords.verify
    monkeypatch.setattr(app.state.passwords, "verify", lambda h, p: calls.append(len(p)) or real(h, p))
    response = api_login(client, "big@example.com", "x" * 5000)
    assert response.status_code == 422  # refused by the request model (4096 max)
    response = api_login(client, "big@example.com", "x" * 4000)
    assert response.status_code == 401
    assert calls == [4000]  # reached verify, which refuses it before Argon2 (max 128)


def _fail(client: TestClient, email: str, times: int) -> None:
    for _ in range(times):
        assert api_login(client, email, "wrong password 123").status_code == 401


def test_brute_force_past_the_limit_is_429_without_argon2(app, client, monkeypatch) -> None:  # noqa: ANN001
    make_user(app, "victim@example.com")
    _fail(client, "victim@example.com", 5)
    hashed: list[int] = []
    real = app.state.passwords.verify
    monkeypatch.setattr(app.state.passwords, "verify", lambda h, p: hashed.append(1) or real(h, p))
    blocked = api_login(client, "victim@example.com", "wrong password 123")
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= 15 * 60
    right = api_login(client, "victim@example.com")  # the right password during the block
    assert right.status_code == 429
    assert hashed == []
    page = admin_login(client, "victim@example.com")
    assert page.status_code == 429 and "Too many failed logins" in page.text
    assert "retry-after" in page.headers


def test_block_lifts_after_the_window_and_success_resets(app, client) -> None:  # noqa: ANN001
    make_user(app, "reset@example.com")
    _fail(client, "reset@example.com", 5)
    assert api_login(client, "reset@example.com").status_code == 429
    with build_session_factory(app.state.engine)() as db, db.begin():
        db.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)))
    # 16 minutes pass for this process too: the block it remembered has run out
    app.state.authenticator.known_blocks = type(app.state.authenticator.known_blocks)()
    _fail(client, "reset@example.com", 4)
    assert api_login(client, "reset@example.com").status_code == 200  # resets the count
    _fail(client, "reset@example.com", 4)
    assert api_login(client, "reset@example.com").status_code == 200


def test_throttle_state_survives_a_restart(db_url: str) -> None:
    first = create_app(make_settings(db_url))
    make_user(first, "persist@example.com")
    with TestClient(first) as client:
        _fail(client, "persist@example.com", 5)
    second = create_app(make_settings(db_url))  # another process, or after a restart
    with TestClient(second) as client:
        assert api_login(client, "persist@example.com").status_code == 429


def test_limits_are_configurable(db_url: str) -> None:
    app = create_app(make_settings(db_url, login_max_failures=2))
    make_user(app, "two@example.com")
    with TestClient(app) as client:
        _fail(client, "two@example.com", 2)
        assert api_login(client, "two@example.com").status_code == 429


def test_per_address_limit_spans_accounts(db_url: str) -> None:
    app = create_app(make_settings(db_url, login_max_failures_per_address=6))
    make_user(app, "office@example.com")
    with TestClient(app) as client:
        for n in range(6):
            assert api_login(client, f"guess{n}@example.com", "wrong password 123").status_code == 401
        assert api_login(client, "office@example.com").status_code == 429


def test_spoofed_forwarded_for_changes_nothing(db_url: str) -> None:
    app = create_app(make_settings(db_url, login_max_failures_per_address=3))
    with TestClient(app) as client:
        for n in range(3):
            client.post("/api/auth/login", json={"email": f"x{n}@example.com", "password": "wrong password 1"},
                        headers={"X-Forwarded-For": f"10.0.0.{n}"})
        blocked = client.post("/api/auth/login", json={"email": "y@example.com", "password": "p" * 12},
                              headers={"X-Forwarded-For": "10.9.9.9"})
        assert blocked.status_code == 429


def test_trusted_proxy_forwarded_for_is_used(db_url: str) -> None:
    app = create_app(make_settings(db_url, login_max_failures_per_address=3, trusted_proxies=["testclient"]))
    with TestClient(app) as client:
        for n in range(3):
            client.post("/api/auth/login", json={"email": f"x{n}@example.com", "password": "wrong password 1"},
                        headers={"X-Forwarded-For": "203.0.113.7"})
        other_client = client.post("/api/auth/login", json={"email": "z@example.com", "password": "p" * 12},
                                   headers={"X-Forwarded-For": "203.0.113.8"})
        assert other_client.status_code == 401  # a different client behind the proxy


def test_admin_login_page_and_success(app, client) -> None:  # noqa: ANN001
    make_user(app, "boss@example.com", Role.admin)
    page = client.get("/admin/login")
    assert page.status_code == 200 and 'name="username"' in page.text
    response = admin_login(client, "boss@example.com")
    assert response.status_code == 302 and response.headers["location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/phish", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
     "http:/evil.example", " /admin/task/list", "\t//evil.example"],
)
def test_next_never_leaves_the_site(app, client, target: str) -> None:  # noqa: ANN001
    make_user(app, "nx@example.com", Role.admin)
    response = admin_login(client, "nx@example.com", next_url=target)
    assert response.status_code == 302
    assert response.headers["location"] == "/admin/"


def test_next_to_a_local_path_is_followed(app, client) -> None:  # noqa: ANN001
    make_user(app, "nl@example.com", Role.admin)
    redirect = client.get("/admin/task/list?search=abc", follow_redirects=False)
    assert redirect.status_code == 302
    assert "next=%2Fadmin%2Ftask%2Flist%3Fsearch%3Dabc" in redirect.headers["location"]
    login_page = client.get(redirect.headers["location"])
    assert 'value="/admin/task/list?search=abc"' in login_page.text
    response = admin_login(client, "nl@example.com", next_url="/admin/task/list?search=abc")
    assert response.headers["location"] == "/admin/task/list?search=abc"


def test_login_from_another_site_is_refused(app, client) -> None:  # noqa: ANN001
    make_user(app, "csrf@example.com", Role.admin)
    response = client.post("/admin/login", data={"username": "csrf@example.com", "password": PASSWORD},
                           headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert response.status_code == 403
    assert api_login(client, "csrf@example.com").status_code == 200  # same-origin is fine
    api = client.post("/api/auth/login", json={"email": "csrf@example.com", "password": PASSWORD},
                      headers={"Origin": "https://evil.example"})
    assert api.status_code == 403


@pytest.mark.parametrize(
    "headers", [{}, {"Sec-Fetch-Site": "same-origin"}, {"Origin": "null"}, {"Referer": "https://evil.example/"}],
)
def test_admin_login_without_a_same_origin_header_gets_no_session(app, client, headers) -> None:  # noqa: ANN001
    """Login CSRF: a form posted from elsewhere must not log the browser in to the attacker's
    account. Browsers send Origin with every POST; a request with neither Origin nor Referer
    is refused as any other admin write is, cookie or not."""
    from sqlalchemy import func, select

    from models import AuthSession

    make_user(app, "lcsrf@example.com", Role.admin)
    client.cookies.clear()
    response = client.post("/admin/login", data={"username": "lcsrf@example.com", "password": PASSWORD},
                           headers=headers, follow_redirects=False)
    assert response.status_code == 403
    assert "admin_session" not in response.headers.get("set-cookie", "")
    with build_session_factory(app.state.engine)() as db:
        assert db.execute(select(func.count()).select_from(AuthSession)).scalar_one() == 0


@pytest.mark.parametrize("headers", [{"Origin": "http://testserver"}, {"Referer": "http://testserver/admin/login"}])
def test_admin_login_from_the_login_page_is_accepted(app, client, headers) -> None:  # noqa: ANN001
    make_user(app, "lpage@example.com", Role.admin)
    response = client.post("/admin/login", data={"username": "lpage@example.com", "password": PASSWORD},
                           headers=headers, follow_redirects=False)
    assert response.status_code == 302 and "admin_session=" in response.headers["set-cookie"]


def test_api_login_stays_open_to_scripts_but_only_as_json(app, client) -> None:  # noqa: ANN001
    """A script sends no Origin and may log in; a browser can only send JSON to another site
    after a CORS preflight (never granted here), and a form's text/plain or urlencoded body
    is not JSON to the API: no session either way."""
    make_user(app, "scripted@example.com")
    client.cookies.clear()
    body = b'{"email": "scripted@example.com", "password": "correct horse battery staple"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        refused = client.post("/api/auth/login", content=body, headers={"Content-Type": content_type})
        assert refused.status_code == 422 and "set-cookie" not in refused.headers
    accepted = client.post("/api/auth/login", content=body, headers={"Content-Type": "application/json"})
    assert accepted.status_code == 200 and "admin_session=" in accepted.headers["set-cookie"]


def test_logins_are_checked_one_at_a_time_and_the_queue_is_bounded(app, monkeypatch) -> None:  # noqa: ANN001
    """A login flood uses at most ARGON2_MAX_CONCURRENCY cores; past the queue limit it is 429."""
    import threading
    import time

    import anyio
    from starlette.requests import Request

    make_user(app, "flood@example.com")
    authenticator = app.state.authenticator
    active, peak, lock = 0, 0, threading.Lock()
    real = app.state.passwords.verify

    def slow_verify(hashed, password):  # noqa: ANN001, ANN202
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        return real(hashed, password)

    monkeypatch.setattr(app.state.passwords, "verify", slow_verify)
    scope = {"type": "http", "method": "POST", "path": "/api/auth/login", "headers": [],
             "client": ("198.51.100.7", 1234), "query_string": b""}
    results = []

    async def one() -> None:
        results.append(await authenticator.attempt(Request(scope), "flood@example.com", "wrong password 1"))

    async def flood() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(one)

    anyio.run(flood)
    assert peak == app.state.passwords.max_concurrency == 1
    assert len(results) == 4

    monkeypatch.setattr(authenticator, "_waiting", authenticator._login_queue_limit)  # noqa: SLF001
    with TestClient(app) as client:
        busy = api_login(client, "flood@example.com")
        page = admin_login(client, "flood@example.com")
    assert busy.status_code == 429 and busy.headers["retry-after"] == "1"
    assert "Try again in a moment" in busy.json()["detail"]
    assert page.status_code == 429 and "Try again in a moment" in page.text


def test_a_known_block_is_refused_without_a_query_or_an_audit_row_each(app, client) -> None:  # noqa: ANN001
    from sqlalchemy import func, select

    from models import AuditEntry
    from tests.helpers import recorded_statements

    make_user(app, "hammered@example.com")
    _fail(client, "hammered@example.com", 5)
    first = api_login(client, "hammered@example.com")  # read from the database, remembered
    assert first.status_code == 429
    with recorded_statements(app.state.engine) as statements:
        for _ in range(20):
            again = api_login(client, "hammered@example.com", "wrong password 123")
            assert again.status_code == 429 and int(again.headers["retry-after"]) >= 1
    assert statements == []
    # a refused attempt is answered after LOGIN_THROTTLE_DELAY_SECONDS, not at once
    import time
    from dataclasses import replace

    authenticator = app.state.authenticator
    authenticator.config = replace(authenticator.config, throttle_delay=0.3)
    started = time.perf_counter()
    assert api_login(client, "hammered@example.com").status_code == 429
    assert time.perf_counter() - started >= 0.3
    with build_session_factory(app.state.engine)() as db:
        throttled = db.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "login_throttled")
        ).scalar_one()
    assert throttled == 1
    # another process, which has not seen the block yet, reads it from the database
    from admin_app.main import create_app
    from tests.conftest import make_settings

    other = create_app(make_settings(app.state.settings.database_url))
    with TestClient(other) as elsewhere:
        assert api_login(elsewhere, "hammered@example.com").status_code == 429


def test_the_throttled_login_page_speaks_the_browsers_language(app, client) -> None:  # noqa: ANN001
    """The admin hands its plural rule to the login backend: French words and plural on the
    page, the API's English `detail` for the same block."""
    make_user(app, "bloque@example.com")
    _fail(client, "bloque@example.com", 5)
    page = client.post("/admin/login", data={"username": "bloque@example.com", "password": PASSWORD},
                       headers={"Origin": "http://testserver", "Accept-Language": "fr"}, follow_redirects=False)
    assert page.status_code == 429
    assert re.search(r"Trop de connexions échouées\. Réessayez dans environ \d+ minutes?\.", page.text)
    assert api_login(client, "bloque@example.com").json()["detail"].startswith("Too many failed logins.")
