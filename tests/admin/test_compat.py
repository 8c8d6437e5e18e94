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


def test_list_rows_show_what_sqladmins_get_list_value_would(app, admin, make_user, add_tasks, monkeypatch) -> None:  # noqa: ANN001
    """The list's one-pass rows (compat/list_rows.py) equal SQLAdmin's cell-by-cell path, on
    every list: choices as badges, related rows linked, timestamps, booleans, empty cells."""
    import anyio
    from markupsafe import escape

    from admin_app.admin.compat import list_rows as module

    assignee = make_user("assignee@example.com", full_name="Ann Signee")
    add_tasks(3, assignee_id=lambda i: assignee.id if i else None, status=lambda i: ["pending", "done", "cancelled"][i],
              description="<b>not markup</b>", title=lambda i: f"Task <{i}> & co")
    from models.project import Project

    with app.state.session_factory() as session:
        session.add(Project(name="Launch & <co>", code="LAUNCH", owner_id=assignee.id))
        session.commit()
    seen = []
    env = the_admin(app).templates.env

    def recording(request, view, rows, names):  # noqa: ANN001, ANN202
        out = module.list_rows(request, view, rows, names)
        seen.append((request, view, rows, names, out))
        return out

    monkeypatch.setitem(env.globals, "list_rows", recording)
    for path in ("/admin/task/list", "/admin/user/list", "/admin/project/list", "/admin/audit-entry/list"):
        assert admin.get(path).status_code == 200, path
    assert [len(out) > 0 for *_, out in seen] == [True] * 4

    async def expected(request, view, row, names) -> str:  # noqa: ANN001
        cells = []
        for name in names:
            _, shown = await view.get_list_value(row, name, request)
            cells.append(f'<td class="col-{name}">{escape(shown)}</td>')
        return "".join(cells)

    for request, view, rows, names, out in seen:
        for row, listed in zip(rows, out, strict=True):
            assert str(listed.cells) == anyio.run(expected, request, view, row, names), view.identity
            assert listed.pk == str(row.id)
            assert listed.details_url == str(request.url_for("admin:details", identity=view.identity, pk=row.id))
    task_page = next(out for _, view, *_, out in seen if view.identity == "task")
    assert "&lt;1&gt; &amp; co" in "".join(str(r.cells) for r in task_page)  # escaped, once


def test_a_timestamp_never_set_is_an_empty_cell(admin, make_user) -> None:  # noqa: ANN001
    make_user("never-signed-in@example.com")
    page = admin.get("/admin/user/list?search=never-signed-in").text
    assert '<td class="col-last_login_at"></td>' in page
    assert ">None<" not in page


def test_list_rows_read_sqladmins_formatter_tables(app) -> None:  # noqa: ANN001
    for view in the_admin(app).views:
        if isinstance(view, ModelView):
            assert isinstance(view._list_formatters, dict) and isinstance(view._list_formatter_accepts_request, dict)
            assert callable(view._default_formatter) and callable(view._identity_for_object)


def test_template_urls_are_remembered_per_base_url_name_and_parameters() -> None:
    import jinja2

    calls = []

    class FakeRequest:
        def __init__(self, base: str) -> None:
            self.base_url = base

        def url_for(self, name: str, **params: object) -> str:
            calls.append((self.base_url, name, params))
            return f"{self.base_url}{name}/{'/'.join(f'{k}={v}' for k, v in sorted(params.items()))}"

    env = jinja2.Environment(enable_async=True)
    env.globals["url_for"] = jinja2.pass_context(lambda context, name, **params: context["request"].url_for(name, **params))
    compat.cache_template_urls(env, reload_templates=False)
    template = env.from_string("{{ url_for('admin:details', identity='task', pk=n) }}")
    a, b = FakeRequest("http://a/"), FakeRequest("http://b/")
    seen = [template.render(request=r, n=n) for r in (a, a, b) for n in (1, 1, 2)]
    assert seen == ["http://a/admin:details/identity=task/pk=1"] * 2 + ["http://a/admin:details/identity=task/pk=2"] \
        + ["http://a/admin:details/identity=task/pk=1"] * 2 + ["http://a/admin:details/identity=task/pk=2"] \
        + ["http://b/admin:details/identity=task/pk=1"] * 2 + ["http://b/admin:details/identity=task/pk=2"]
    assert len(calls) == 4  # (a, 1), (a, 2), (b, 1), (b, 2): each routed once
    assert env.auto_reload is False
