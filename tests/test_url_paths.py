"""create_app remembers route paths: the routes are searched once per name and parameters."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.routing import Mount, NoMatchFound

from admin_app.main import create_app
from tests.conftest import make_settings


@pytest.fixture
def app(tmp_path: Path):  # noqa: ANN201
    return create_app(make_settings(f"sqlite:///{tmp_path / 'urls.db'}"))


def admin_mount(app) -> Mount:  # noqa: ANN001
    return next(route for route in app.router.routes if isinstance(route, Mount) and route.path == "/admin")


def test_same_name_and_parameters_search_the_routes_once(app, monkeypatch: pytest.MonkeyPatch) -> None:
    mount = admin_mount(app)
    searches = []
    search = mount.url_path_for

    def counting(name: str, /, **params: object):  # noqa: ANN202
        searches.append((name, params))
        return search(name, **params)

    monkeypatch.setattr(mount, "url_path_for", counting)
    first = app.router.url_path_for("admin:list", identity="task")
    again = app.router.url_path_for("admin:list", identity="task")
    assert first == again == "/admin/task/list"
    assert len(searches) == 1

    other = app.router.url_path_for("admin:list", identity="user")
    assert other == "/admin/user/list"
    assert len(searches) == 2


def test_cached_paths_keep_parameters_apart_and_misses_still_raise(app) -> None:
    details = app.router.url_path_for("admin:details", identity="task", pk="7")
    assert details == "/admin/task/details/7"
    assert app.router.url_path_for("admin:details", identity="task", pk="8") == "/admin/task/details/8"
    assert app.url_path_for("get_task", task_id=3) == "/api/tasks/3"
    for _ in range(2):
        with pytest.raises(NoMatchFound):
            app.router.url_path_for("no-such-route")
