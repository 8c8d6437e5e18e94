"""Each use of SQLAdmin's internals (admin_app/admin/compat.py) still does what we rely on."""

from __future__ import annotations

import re
from importlib.resources import files

from sqladmin import ModelView
from starlette.routing import Route

from admin_app.admin import compat
from admin_app.admin.views import ResourceView
from tests.admin.conftest import ORIGIN


def the_admin(app):  # noqa: ANN001, ANN201
    return app.state.admin_site


def test_the_installed_sqladmin_is_a_release_these_were_read_from() -> None:
    assert compat.supported(), compat.sqladmin_version()


def test_actions_are_listed_in_declared_order(app) -> None:  # noqa: ANN001
    admin = the_admin(app)
    for view in admin.views:
        if isinstance(view, ResourceView):
            declared = [a.slug for a in view.resource.actions]
            assert list(view._custom_actions_in_list) == declared, view.identity
            assert all(slug in declared for slug in view._custom_actions_in_detail)


def test_action_routes_accept_post(app) -> None:  # noqa: ANN001
    routes = [r for r in the_admin(app).admin.router.routes if isinstance(r, Route) and r.name.startswith("action-")]
    assert routes and all({"GET", "POST"} <= set(r.methods) for r in routes)


def test_our_routes_come_before_sqladmins(app, editor) -> None:  # noqa: ANN001
    names = [getattr(r, "name", None) for r in the_admin(app).admin.router.routes[:2]]
    assert names == ["assets", "logout_post"]
    assert editor.get("/admin/assets/admin.js").status_code == 200
    assert editor.post("/admin/logout", headers=ORIGIN).status_code == 302


def test_views_know_their_admin(app) -> None:  # noqa: ANN001
    admin = the_admin(app)
    assert all(compat.admin_of(view) is admin for view in admin.views)


def test_routed_row_urls_are_sqladmins(app, editor, add_tasks) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1)
    page = editor.get("/admin/task/list").text
    assert f'href="http://testserver/admin/task/details/{task_id}"' in page
    assert f'href="http://testserver/admin/task/edit/{task_id}"' in page
    # The method overridden is still SQLAdmin's, with the same signature.
    assert ModelView._build_url_for.__code__.co_varnames[:4] == ("self", "name", "request", "obj")


def test_the_csp_hashes_match_sqladmins_inline_script() -> None:
    template = files("sqladmin").joinpath("templates/sqladmin/flash.html").read_text()
    assert len(re.findall(r"<script>", template)) == len(compat.inline_script_hashes()) == 1
