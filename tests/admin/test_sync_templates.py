"""A declared table's list page renders without Jinja's async mode (compat/sync_templates.py);
every other page as SQLAdmin renders it; a coroutine called by a synchronous page raises."""

from __future__ import annotations

import warnings

import pytest

from admin_app.admin.views import ResourceView
from auth.roles import Role


def templates_of(app):  # noqa: ANN001, ANN201
    return app.state.admin_site.templates


def compiled(env) -> set[str]:  # noqa: ANN001
    """The names of the templates `env` has compiled (its cache: (loader, name) -> template)."""
    return {name for _loader, name in env.cache.keys()}


def test_every_tables_list_renders_synchronously_and_the_audit_log_asynchronously(app, admin, make_user) -> None:  # noqa: ANN001
    templates = templates_of(app)
    ann = make_user("ann@example.com", Role.editor)
    identities = [v.identity for v in app.state.admin_site.views if isinstance(v, ResourceView)]
    assert {"task", "user", "project"} <= set(identities)
    for identity in identities:
        assert admin.get(f"/admin/{identity}/list?_facets=1").status_code == 200, identity
    # Filters, chips, a chosen related row and facet counts, all in the synchronous page.
    page = admin.get(f"/admin/task/list?status=pending&assignee={ann.id}&search=x&_facets=1")
    assert page.status_code == 200
    assert 'id="assignee-filter-chosen">ann@example.com<' in page.text
    assert "coroutine" not in page.text
    assert "sqladmin/list.html" in compiled(templates.sync_env)
    # The audit log is SQLAdmin's own view (its filters call coroutines): rendered with async.
    assert "sqladmin/list.html" not in compiled(templates.env)
    assert admin.get("/admin/audit-entry/list").status_code == 200
    assert "sqladmin/list.html" in compiled(templates.env)


def test_a_coroutine_called_by_a_synchronous_page_raises(app) -> None:  # noqa: ANN001
    env = templates_of(app).sync_env

    async def check_can_export(_request: object) -> bool:
        return False

    template = env.from_string("{% if check(1) %}offered{% endif %}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # closed, not left to warn "never awaited"
        with pytest.raises(TypeError, match="coroutine function"):
            template.render(check=check_can_export)
    assert env.from_string("{{ check(1) }}").render(check=lambda _: "plain") == "plain"
