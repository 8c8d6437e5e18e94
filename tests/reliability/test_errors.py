"""Failures answered cleanly: a request id everywhere, 5xx logged once, no internals shown."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError

ORIGIN = {"Origin": "http://testserver"}
SECRET_WORDS = "boom: password=hunter2 in /srv/app/secret.py"


@pytest.fixture
def failing(app, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    """Make every authentication lookup (API and admin) raise what the test sets."""
    raised: dict[str, BaseException] = {}

    def principal(_request, _db=None):  # noqa: ANN001, ANN202
        raise raised["exc"]

    monkeypatch.setattr(app.state.authenticator, "principal", principal)
    return raised


def _records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "admin_app.errors"]


def test_every_response_carries_a_request_id(client) -> None:  # noqa: ANN001
    ids = set()
    for response in (
        client.get("/healthz"),
        client.get("/api/auth/me"),  # 401
        client.get("/nowhere"),  # 404
        client.post("/api/auth/logout", headers={"Origin": "https://evil.example"}),  # 403 CSRF
        client.get("/admin/login"),
        client.get("/admin/statics/css/tabler.min.css"),
    ):
        value = response.headers.get("X-Request-ID")
        assert value and len(value) == 32, (response.request.url, response.headers)
        ids.add(value)
    assert len(ids) == 6


def test_a_sane_incoming_request_id_is_kept_and_anything_else_replaced(client) -> None:  # noqa: ANN001
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-4f2a.77:9"})
    assert kept.headers["X-Request-ID"] == "lb-4f2a.77:9"
    for bad in ("two words", "x" * 129, "id\u00e9".encode(), "a\tb"):
        response = client.get("/healthz", headers={"X-Request-ID": bad})
        assert response.headers["X-Request-ID"] != bad
        assert len(response.headers["X-Request-ID"]) == 32


def test_an_api_500_shows_only_the_request_id_and_is_logged_once(
    client, failing, caplog: pytest.LogCaptureFixture,  # noqa: ANN001
) -> None:
    failing["exc"] = RuntimeError(SECRET_WORDS)
    with caplog.at_level(logging.INFO):
        # TestClient re-raises anything that escapes the app: passing proves it did not.
        response = client.get("/api/auth/me", headers={"X-Request-ID": "req-500-api"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error", "request_id": "req-500-api"}
    assert response.headers["X-Request-ID"] == "req-500-api"
    [record] = _records(caplog)
    assert record.levelno == logging.ERROR
    assert "req-500-api" in record.getMessage() and "GET /api/auth/me" in record.getMessage()
    assert record.exc_info and record.exc_info[1] is failing["exc"]


def test_an_admin_500_is_a_plain_page_with_the_request_id(
    client, failing, caplog: pytest.LogCaptureFixture,  # noqa: ANN001
) -> None:
    failing["exc"] = RuntimeError(SECRET_WORDS)
    with caplog.at_level(logging.INFO):
        response = client.get("/admin/task/list", headers={"X-Request-ID": "req-500-admin"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "req-500-admin" in response.text
    assert "boom" not in response.text and "Traceback" not in response.text
    assert "secret.py" not in response.text
    [record] = _records(caplog)
    assert "req-500-admin" in record.getMessage() and record.exc_info


def test_database_trouble_is_a_503_with_retry_after_on_both_surfaces(
    client, failing, caplog: pytest.LogCaptureFixture,  # noqa: ANN001
) -> None:
    failing["exc"] = OperationalError("SELECT secret FROM x", {}, Exception("could not connect"))
    with caplog.at_level(logging.INFO):
        api = client.get("/api/auth/tokens")
        page = client.get("/admin/")
    assert api.status_code == 503
    assert api.headers["Retry-After"] == "5"
    assert api.json()["detail"].startswith("The database is unavailable")
    assert api.json()["request_id"] == api.headers["X-Request-ID"]
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "Database unavailable" in page.text
    assert "SELECT" not in page.text and "SELECT" not in api.text
    assert len(_records(caplog)) == 2
    assert all(r.levelno == logging.WARNING and r.exc_info for r in _records(caplog))


def test_a_streamed_body_over_the_limit_is_413_in_the_admin_too(client) -> None:  # noqa: ANN001
    def chunks():  # noqa: ANN202  (no Content-Length: the limit is found while reading)
        for _ in range(2048):
            yield b"username=x&" * 100

    response = client.post(
        "/admin/login", content=chunks(),
        headers={**ORIGIN, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert "larger than" in response.text
