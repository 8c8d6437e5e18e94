"""Several apps in one process share what is built once per process (main.table_router, the
OpenAPI schema, admin/compiled.py) and still each answer from their own database."""

from __future__ import annotations

from fastapi.testclient import TestClient
from starlette.routing import Mount

from admin_app.admin.compiled import PROCESS_CACHE
from admin_app.main import create_app
from models import Role
from tests.conftest import make_settings, migrated
from tests.factories import ORIGIN, admin_login, api_login, make_user


def test_two_apps_share_their_routers_and_compiled_templates_but_not_their_data(tmp_path) -> None:  # noqa: ANN001
    apps = [create_app(make_settings(migrated(f"sqlite:///{tmp_path}/{name}.db"))) for name in ("one", "two")]
    routers = [[getattr(r, "original_router", None) for r in app.router.routes] for app in apps]
    assert [r for r in routers[0] if r is not None] == [r for r in routers[1] if r is not None]  # the same objects
    for app in apps:
        assert isinstance(app.router.routes[0], Mount) and app.router.routes[0].path == "/admin"
        templates = app.state.admin_site.templates
        assert templates.env.bytecode_cache is PROCESS_CACHE and templates.sync_env.bytecode_cache is PROCESS_CACHE

    first, second = (TestClient(app, base_url="http://testserver") for app in apps)
    with first, second:
        for app, client in zip(apps, (first, second), strict=True):
            make_user(app, "ann@example.com", Role.editor)
            assert api_login(client, "ann@example.com").status_code == 200
        created = first.post("/api/tasks", json={"title": "only in one"}, headers=ORIGIN)
        assert created.status_code == 201
        assert [t["title"] for t in first.get("/api/tasks").json()["items"]] == ["only in one"]
        assert second.get("/api/tasks").json()["items"] == []
        assert second.get(f"/api/tasks/{created.json()['id']}").status_code == 404
        for client in (first, second):
            assert admin_login(client, "ann@example.com").status_code == 302
        assert "only in one" in first.get("/admin/task/list").text
        assert "only in one" not in second.get("/admin/task/list").text
