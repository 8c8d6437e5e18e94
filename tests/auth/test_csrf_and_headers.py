"""Cross-site requests refused; security headers on every response."""

import pytest
from sqlalchemy import func, select

from admin_app.db import build_session_factory
from models import Role, Task
from tests.factories import ORIGIN, admin_login, make_user


@pytest.fixture
def editor(app, client):  # noqa: ANN001, ANN201
    make_user(app, "ed@example.com", Role.editor)
    admin_login(client, "ed@example.com")
    return client


def _task_count(app) -> int:  # noqa: ANN001
    with build_session_factory(app.state.engine)() as db:
        return db.execute(select(func.count()).select_from(Task)).scalar_one()


FORM = {"title": "From elsewhere", "status": "pending", "priority": "1"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "http://testserver", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://testserver", "Sec-Fetch-Site": "same-site"},
        {},  # a cookie but neither Origin nor Referer
    ],
)
def test_cross_origin_post_to_an_admin_form_is_refused(app, editor, headers) -> None:  # noqa: ANN001
    response = editor.post("/admin/task/create", data=FORM, headers=headers, follow_redirects=False)
    assert response.status_code == 403
    assert _task_count(app) == 0


def test_same_origin_post_passes(app, editor) -> None:  # noqa: ANN001
    response = editor.post("/admin/task/create", data=FORM, headers=ORIGIN, follow_redirects=False)
    assert response.status_code == 302
    assert _task_count(app) == 1
    by_referer = editor.post("/admin/task/create", data=FORM,
                             headers={"Referer": "http://testserver/admin/task/create"}, follow_redirects=False)
    assert by_referer.status_code == 302


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_cross_origin_unsafe_methods_refused_everywhere(editor, method: str) -> None:
    for path in ("/admin/task/action/set-status-done?pks=1", "/admin/task/delete?pks=1", "/api/auth/tokens"):
        response = editor.request(method.upper(), path, headers={"Origin": "https://evil.example"})
        assert response.status_code == 403, (method, path)
        assert response.json() == {"detail": "Cross-site request refused."}


def test_cross_origin_delete_of_a_task_is_refused(app, editor) -> None:  # noqa: ANN001
    editor.post("/admin/task/create", data=FORM, headers=ORIGIN)
    response = editor.delete("/admin/task/delete?pks=1", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert _task_count(app) == 1


def test_get_is_never_checked_and_never_changes_data(app, editor) -> None:  # noqa: ANN001
    response = editor.get("/admin/task/list", headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200


def test_script_without_cookie_may_log_in(app, client) -> None:  # noqa: ANN001
    make_user(app, "script@example.com")
    client.cookies.clear()
    response = client.post("/api/auth/login", json={"email": "script@example.com", "password": "correct horse battery staple"})
    assert response.status_code == 200


EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


@pytest.mark.parametrize(
    "path", ["/healthz", "/admin/login", "/api/auth/me", "/admin/", "/api/openapi.json", "/nowhere"]
)
def test_security_headers_on_every_response(client, path: str) -> None:  # noqa: ANN001
    response = client.get(path, follow_redirects=False)
    for name, value in EXPECTED.items():
        assert response.headers[name] == value, (path, name)
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "server" not in response.headers
    assert "strict-transport-security" not in response.headers  # development


def test_csp_allows_only_own_scripts_and_the_flash_hash(client) -> None:  # noqa: ANN001
    csp = client.get("/admin/login").headers["content-security-policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    sources = script_src.split()[1:]
    assert sources[0] == "'self'"
    assert all(s.startswith("'sha256-") for s in sources[1:]) and len(sources) == 2
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "object-src 'none'" in csp


def test_authenticated_pages_are_not_cached_but_assets_are_cacheable(app, editor) -> None:  # noqa: ANN001
    assert editor.get("/admin/task/list").headers["cache-control"] == "no-store"
    assert editor.get("/api/auth/me").headers["cache-control"] == "no-store"
    asset = editor.get("/admin/statics/css/main.css")
    assert asset.status_code == 200 and asset.headers.get("cache-control") != "no-store"
    assert editor.get("/admin/assets/admin.js").status_code == 200


def test_oversized_body_is_413(app, client) -> None:  # noqa: ANN001
    response = client.post("/api/auth/login", content=b"x" * (1024 * 1024 + 1),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "detail" in response.json()


def test_production_refuses_a_weak_secret_at_serve(monkeypatch, tmp_path, capsys) -> None:  # noqa: ANN001
    from admin_app.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "too-short")
    assert main(["serve"]) == 1
    err = capsys.readouterr().err
    assert "SECRET_KEY of at least 32 characters" in err and err.count("\n") == 1
