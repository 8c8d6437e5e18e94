"""`admin-app serve`: migrates, bootstraps the first admin once, answers health probes."""

import re
import signal

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from admin_app.db import build_session_factory
from admin_app.main import create_app
from models import Role, User
from tests.conftest import make_settings
from tests.helpers import running_server


def test_serve_on_a_fresh_database_prints_a_first_admin_once(tmp_path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path}/fresh.db"
    with running_server(url, tmp_path) as (base, process, log):
        assert httpx.get(base + "/healthz").json() == {"status": "ok"}
        ready = httpx.get(base + "/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}
        output = log.read_text()
        match = re.search(r"password: (\S+)", output)
        assert match, output
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    assert (tmp_path / "fresh.db").exists()
    assert (tmp_path / ".admin_app_secret_key").exists()
    # second start: users exist, nothing printed, nothing created
    with running_server(url, tmp_path) as (_base, _process, log):
        assert "password:" not in log.read_text()


def test_serve_uses_initial_admin_settings(db_url: str, engine, tmp_path) -> None:  # noqa: ANN001
    with running_server(
        db_url, tmp_path,
        INITIAL_ADMIN_EMAIL="Boss@Example.com",
        INITIAL_ADMIN_PASSWORD="a very long initial password",
        SECRET_KEY="serve-test-secret-key-0123456789abcdef",
    ) as (base, _process, log):
        output = log.read_text()
        assert "First admin account created: boss@example.com" in output
        assert "a very long initial password" not in output
        assert httpx.get(base + "/readyz").status_code == 200
    with build_session_factory(engine)() as session:
        users = session.execute(select(User)).scalars().all()
    assert [(u.email, u.role) for u in users] == [("boss@example.com", Role.admin)]


def test_readyz_is_503_with_a_reason_when_the_database_is_down() -> None:
    app = create_app(make_settings("postgresql://postgres@127.0.0.1:1/nowhere", db_connect_timeout=1))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "detail": "database unreachable"}


def test_no_engine_or_app_is_built_at_import() -> None:
    import importlib

    import admin_app.main

    module = importlib.reload(admin_app.main)
    assert not hasattr(module, "app")
    assert not hasattr(module, "engine")
