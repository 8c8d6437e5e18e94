"""A view's pages rendered by a synchronous copy of SQLAdmin's Jinja environment.

SQLAdmin builds its environment with `enable_async=True` (`sqladmin.templating.Jinja2Templates`)
so that templates may call its coroutine methods (`check_can_create`, `get_list_value`, ...):
every call in a template is then awaited through `auto_await`, every loop runs as an async
iterator, every block and macro as a coroutine. That is paid on every page; on a list page it
was most of the page's time in Jinja (py-spy, README "Performance"). A declared table's list
page reads all it shows before it renders (`ResourceView._list_page`: rows, columns, the
menu's saved views, the chosen rows of lookup filters) and calls no coroutine, so it is
rendered by `env.overlay(enable_async=False)`: the same loader, globals, filters and
extensions, its own compiled templates. Which pages: a view's `synchronous_templates`; every
other page renders as SQLAdmin renders it.

A call that gives a coroutine in a synchronous page (a coroutine method of SQLAdmin's used
by a template) would go unnoticed (a coroutine is true, and prints as its repr), so it
raises instead (`SyncContext`); the list page tests render every table's list.
"""

from __future__ import annotations

from types import CoroutineType
from typing import Any

from jinja2.runtime import Context
from sqladmin.templating import _TemplateResponse
from starlette import status
from starlette.requests import Request


class SyncContext(Context):
    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's own names)
        value = super().call(__obj, *args, **kwargs)
        if type(value) is CoroutineType:
            value.close()
            raise TypeError(f"{__self.name}: {__obj!r} is a coroutine function; a synchronous page cannot await it")
        return value


def render_synchronously(templates: Any) -> None:
    """Pages whose view names their template in `synchronous_templates` render without async."""
    sync_env = templates.env.overlay(enable_async=False)
    sync_env.context_class = SyncContext
    render_async = templates.TemplateResponse

    async def template_response(
        request: Request, name: str, context: dict | None = None, status_code: int = status.HTTP_200_OK,
    ) -> _TemplateResponse:
        context = context or {}
        if name not in getattr(context.get("model_view"), "synchronous_templates", ()):
            return await render_async(request, name, context, status_code)
        context.setdefault("request", request)
        template = sync_env.get_template(name)
        return _TemplateResponse(template=template, content=template.render(context), context=context,
                                 status_code=status_code)

    templates.TemplateResponse = template_response
    templates.sync_env = sync_env
