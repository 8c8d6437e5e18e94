"""Compiled templates are shared by the admins of a process (admin/compiled.py), never
between an async environment and a synchronous one, and a changed source is compiled again."""

from __future__ import annotations

import asyncio

from jinja2 import DictLoader, Environment

from admin_app.admin.compiled import InMemoryBytecodeCache


def test_code_is_shared_by_like_environments_only_and_follows_the_source() -> None:
    cache = InMemoryBytecodeCache()
    sources = {"page.html": "{% for n in items %}{{ n }},{% endfor %}"}

    def env(**options: object) -> Environment:
        return Environment(loader=DictLoader(sources), autoescape=True, bytecode_cache=cache, **options)

    first, second = env(), env()
    assert first.get_template("page.html").render(items=[1, 2]) == "1,2,"
    compiled = len(cache._code)
    assert second.get_template("page.html").render(items=[3]) == "3,"
    assert len(cache._code) == compiled == 1  # the second environment took the first one's code

    async_env = env(enable_async=True)
    assert asyncio.run(async_env.get_template("page.html").render_async(items=[4])) == "4,"
    assert len(cache._code) == 2  # its own code: async code in a sync page would not render
    overlay = async_env.overlay(enable_async=False)
    assert overlay.bytecode_cache is cache
    assert overlay.get_template("page.html").render(items=[5]) == "5,"

    sources["page.html"] = "{{ items|length }}"
    assert env().get_template("page.html").render(items=[1, 2, 3]) == "3"
