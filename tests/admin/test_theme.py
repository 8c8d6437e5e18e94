"""Light, dark or the browser's: a per-user setting in My account, applied before the first
paint by an external script in <head> (the Content-Security-Policy allows no inline script)."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from tests.admin.conftest import ORIGIN

THEME_TAG = re.compile(r'<script src="[^"]*/admin/assets/theme\.js" data-theme="(\w+)"></script>')


def theme_on(page: str) -> str:
    head = page.split("</head>")[0]
    found = THEME_TAG.search(head)
    assert found, "no theme script in <head>"
    # before every stylesheet: nothing is painted before the attribute is set
    assert head.index("theme.js") < head.index("stylesheet")
    return found.group(1)


def test_the_theme_follows_the_system_until_chosen(editor, viewer) -> None:  # noqa: ANN001
    assert theme_on(editor.get("/admin/").text) == "system"
    saved = editor.post("/admin/account", data={"do": "theme", "theme": "dark"}, headers=ORIGIN)
    assert saved.status_code == 303
    for path in ("/admin/", "/admin/task/list", "/admin/account", "/admin/task/create"):
        assert theme_on(editor.get(path).text) == "dark", path
    assert 'id="theme-dark" checked' in editor.get("/admin/account").text
    assert theme_on(viewer.get("/admin/task/list").text) == "system"  # per user
    editor.post("/admin/account", data={"do": "theme", "theme": "light"}, headers=ORIGIN)
    assert theme_on(editor.get("/admin/").text) == "light"


def test_the_login_page_follows_the_system(app) -> None:  # noqa: ANN001
    with TestClient(app, base_url="http://testserver") as anonymous:
        assert theme_on(anonymous.get("/admin/login").text) == "system"


def test_an_unknown_theme_is_refused_and_changes_nothing(editor) -> None:  # noqa: ANN001
    for bad in ("sepia", "", "dark\x00"):
        response = editor.post("/admin/account", data={"do": "theme", "theme": bad}, headers=ORIGIN)
        assert response.status_code == 400
        assert "Theme: choose light, dark, system." in html.unescape(response.text)
    assert theme_on(editor.get("/admin/").text) == "system"


def test_the_theme_script_is_served_and_allowed_by_the_policy(editor) -> None:  # noqa: ANN001
    page = editor.get("/admin/")
    policy = page.headers["content-security-policy"]
    scripts = re.search(r"script-src ([^;]*)", policy).group(1)
    assert "'unsafe-inline'" not in scripts and "'self'" in scripts
    script = editor.get("/admin/assets/theme.js")
    assert script.status_code == 200 and "data-bs-theme" in script.text
