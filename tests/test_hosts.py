"""ALLOWED_HOSTS: a forged Host header is refused before it reaches a link or a redirect."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from admin_app.cli.serve import _allowed_hosts_hint, _url_host
from admin_app.hosts import AllowedHosts, host_of, normalize_entry
from admin_app.main import create_app
from models import Role
from tests.conftest import make_settings
from tests.factories import ORIGIN, PASSWORD, make_user

EVIL = "evil.example"


@pytest.mark.parametrize(
    ("header", "host"),
    [
        ("localhost", "localhost"), ("LocalHost:8000", "localhost"), ("127.0.0.1:8000", "127.0.0.1"),
        ("[::1]:8000", "::1"), ("[0:0:0:0:0:0:0:1]", "::1"), ("admin.example.com.", "admin.example.com"),
        ("", None), ("::1", None), ("[::1", None), ("[::1]x", None), ("a:b", None), ("a b", None),
        ("*.example.com", None), ("evil.example/x", None), ("evil.example@localhost", None),
    ],
)
def test_host_header_parsing(header: str, host: str | None) -> None:
    assert host_of(header) == host


def test_entries_and_matching() -> None:
    allowed = AllowedHosts(["Admin.Example.com", "[::1]", "*.corp.example", "10.0.0.5"])
    assert allowed.entries == ("admin.example.com", "::1", "*.corp.example", "10.0.0.5")
    assert all(allowed.allows(h) for h in ("admin.example.com", "::1", "a.corp.example", "b.a.corp.example", "10.0.0.5"))
    assert not any(allowed.allows(h) for h in ("corp.example", "xcorp.example", "example.com", "10.0.0.6", None))
    assert AllowedHosts(["*"]).allows("anything.example")
    for bad in ("example.com:8000", "http://example.com", "a b", ""):
        with pytest.raises(ValueError):
            normalize_entry(bad)


@pytest.fixture
def admin_client(app) -> TestClient:  # noqa: ANN001
    make_user(app, "hosts@example.com", Role.admin)
    client = TestClient(app, follow_redirects=False)
    client.__enter__()
    response = client.post("/admin/login", data={"username": "hosts@example.com", "password": PASSWORD},
                           headers=ORIGIN)
    assert response.status_code == 302
    yield client
    client.__exit__(None, None, None)


@pytest.mark.parametrize("path", ["/admin/login", "/admin/", "/admin/task/list", "/api/auth/me", "/api/docs", "/nowhere"])
def test_a_forged_host_is_refused_everywhere(admin_client, path: str) -> None:  # noqa: ANN001
    response = admin_client.get(path, headers={"Host": EVIL})
    assert response.status_code == 400
    assert "ALLOWED_HOSTS" in response.json()["detail"]
    assert EVIL not in response.text
    assert response.headers["x-frame-options"] == "DENY"  # the refusal carries the usual headers


def test_a_forged_host_never_reaches_a_link_or_a_redirect(admin_client) -> None:  # noqa: ANN001
    """Before ALLOWED_HOSTS, the list page's links and the login redirect named evil.example."""
    page = admin_client.get("/admin/task/list", headers={"Host": "localhost:8000"})
    assert page.status_code == 200 and 'href="http://localhost:8000/admin/' in page.text
    assert admin_client.get("/admin/task/list", headers={"Host": EVIL}).status_code == 400
    login = admin_client.post("/admin/login", data={"username": "hosts@example.com", "password": PASSWORD},
                              headers={"Host": EVIL, "Origin": f"http://{EVIL}"})
    assert login.status_code == 400 and "location" not in login.headers


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000", "testserver"])
def test_development_answers_the_local_names(client, host: str) -> None:  # noqa: ANN001
    assert client.get("/admin/login", headers={"Host": host}).status_code == 200


def test_probes_answer_for_any_host(client) -> None:  # noqa: ANN001
    assert client.get("/healthz", headers={"Host": "10.244.1.17:8000"}).status_code == 200
    assert client.get("/readyz", headers={"Host": EVIL}).status_code == 200


def test_a_request_without_a_host_is_refused(app) -> None:  # noqa: ANN001
    import anyio

    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/admin/login", "raw_path": b"/admin/login",
             "query_string": b"", "headers": [], "http_version": "1.0", "scheme": "http",
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8000), "root_path": ""}
    # On a thread of its own: the browser tests' Playwright keeps a loop running in this one.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, app, scope, receive, send).result()
    assert sent[0]["status"] == 400


def test_an_explicit_list_replaces_the_development_names(db_url: str) -> None:
    app = create_app(make_settings(db_url, allowed_hosts="admin.example.com,*.corp.example"))
    with TestClient(app) as client:
        assert client.get("/admin/login").status_code == 400  # testserver is no longer in it
        assert client.get("/admin/login", headers={"Host": "admin.example.com"}).status_code == 200
        assert client.get("/admin/login", headers={"Host": "x.corp.example:443"}).status_code == 200


def test_production_requires_allowed_hosts(db_url: str) -> None:
    with pytest.raises(ValidationError, match="ALLOWED_HOSTS"):
        make_settings(db_url, app_env="production")
    with pytest.raises(ValidationError, match="has a port"):
        make_settings(db_url, app_env="production", allowed_hosts="admin.example.com:443")
    settings = make_settings(db_url, app_env="production", allowed_hosts="admin.example.com")
    assert settings.effective_allowed_hosts == ["admin.example.com"]


def test_serve_on_every_interface_says_what_to_set(db_url: str) -> None:
    development = make_settings(db_url)
    hint = _allowed_hosts_hint(development, "0.0.0.0")
    assert hint and "ALLOWED_HOSTS" in hint and "localhost" in hint
    assert _allowed_hosts_hint(development, "127.0.0.1") is None
    assert _allowed_hosts_hint(make_settings(db_url, allowed_hosts="a.example"), "0.0.0.0") is None
    assert _url_host("0.0.0.0") == "127.0.0.1" and _url_host("::1") == "[::1]"


def test_check_prints_the_allowed_hosts(monkeypatch, tmp_path, db_url: str, capsys) -> None:  # noqa: ANN001
    from admin_app.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("SECRET_KEY", "hosts-test-secret-key-0123456789-abcdef")
    monkeypatch.setenv("ALLOWED_HOSTS", "admin.example.com")
    assert main(["check"]) == 0
    assert "Hosts:        admin.example.com\n" in capsys.readouterr().out
