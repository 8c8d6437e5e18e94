"""Every use of SQLAdmin's private internals, in one place (this package: routes.py guards its
routes), each covered by tests/admin/test_compat.py and tests/admin/test_admin_identifiers.py.

SQLAdmin is pinned to the range these were read from (pyproject.toml: sqladmin 0.32.x). When
upgrading, read the new release's application.py and models.py for each name below, run the
compat tests, and widen the pin.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from importlib.metadata import version
from importlib.resources import files
from typing import Any
from urllib.parse import quote

from jinja2 import pass_context
from sqladmin import Admin, ModelView
from sqladmin.helpers import get_object_identifier
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

SUPPORTED = ("0.32",)  # the minor releases these internals were checked against
_PK_SLOT = "__pk_slot__"


def sqladmin_version() -> str:
    return version("sqladmin")


def supported() -> bool:
    return any(sqladmin_version().startswith(minor + ".") for minor in SUPPORTED)


def order_actions(view: ModelView, slugs: Sequence[str]) -> None:
    """List a view's `@action`s in declared order (SQLAdmin registers them by source line,
    last first; generated ones all share a line)."""
    for attr in ("_custom_actions_in_list", "_custom_actions_in_detail"):
        actions: dict[str, str] = getattr(view, attr)
        setattr(view, attr, {slug: actions[slug] for slug in slugs if slug in actions})


def accept_post_on_actions(admin: Admin) -> None:
    """SQLAdmin registers `@action` routes for GET only: GET asks, POST does (admin/bulk.py)."""
    for route in admin.admin.router.routes:
        if isinstance(route, Route) and (route.name or "").startswith("action-"):
            route.methods = {*(route.methods or ()), "POST"}


def prepend_routes(admin: Admin, routes: Iterable[BaseRoute]) -> None:
    """Routes of ours matched before SQLAdmin's (its `/{identity}/...` patterns would catch them)."""
    for route in reversed(list(routes)):
        admin.admin.router.routes.insert(0, route)


def use_error_handler(admin: Admin, handler: Any) -> None:
    """Our HTTPException page instead of SQLAdmin's bare one (it sets the handler in __init__;
    Starlette reads the dict when it builds its middleware, on the first request)."""
    from starlette.exceptions import HTTPException

    admin.admin.exception_handlers[HTTPException] = handler


def admin_of(view: Any) -> Admin:
    """The Admin a view was added to (SQLAdmin sets `_admin_ref` in add_view)."""
    return view._admin_ref


def row_url(request: Request, name: str, identity: str, pk: Any) -> str:
    """The URL of one row's page (`admin:details`, `admin:edit`): the route is looked up once
    per (route, identity) and request, and each row's id put into it."""
    cache = getattr(request.state, "row_urls", None)
    if cache is None:
        cache = request.state.row_urls = {}
    template = cache.get((name, identity))
    if template is None:
        template = cache[(name, identity)] = str(request.url_for(name, identity=identity, pk=_PK_SLOT))
    return template.replace(_PK_SLOT, quote(str(pk), safe=""))


class RoutedRowUrls:
    """SQLAdmin's `_build_url_for` builds each row's details and edit link with `url_for`: a
    route lookup and a new absolute URL, twice a row; here through `row_url`."""

    def _build_url_for(self, name: str, request: Request, obj: Any) -> URL:
        identity = self._identity_for_object(obj)  # type: ignore[attr-defined]
        return URL(row_url(request, name, identity, get_object_identifier(obj)))


def inline_script_hashes() -> list[str]:
    """CSP hashes of SQLAdmin's inline scripts (flash.html), read from the installed package."""
    template = files("sqladmin").joinpath("templates/sqladmin/flash.html").read_text()
    hashes = []
    for body in re.findall(r"<script>(.*?)</script>", template, flags=re.S):
        digest = hashlib.sha256(body.encode()).digest()
        hashes.append("'sha256-" + base64.b64encode(digest).decode() + "'")
    return hashes


class _ExpectedErrorsAtInfo(logging.Filter):
    """SQLAdmin's create and edit routes `logger.exception(e)` whatever `insert_model` or
    `update_model` raise, a form's validation error too: three chained tracebacks for a short
    password. An expected error (already worded for the form) becomes one INFO line."""

    def __init__(self, expected: tuple[type[BaseException], ...]) -> None:
        super().__init__()
        self.expected = expected

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, self.expected):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = "form not saved: %s", (str(exc),)
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def log_expected_errors_at_info(*expected: type[BaseException]) -> None:
    """Install (once) the filter on SQLAdmin's application logger."""
    logger = logging.getLogger("sqladmin.application")
    for existing in logger.filters:
        if isinstance(existing, _ExpectedErrorsAtInfo):
            existing.expected = tuple({*existing.expected, *expected})
            return
    logger.addFilter(_ExpectedErrorsAtInfo(tuple(expected)))


def follow_language(language: str, catalog: Any) -> None:
    """SQLAdmin's Python-side gettext (its save buttons' labels, `_save_button_clicked`) in the
    request's language: its context variables, set as its `LocaleMiddleware` would (whose
    locale list has no fr/es). Covered by tests/admin/test_language_messages.py."""
    import sqladmin.i18n as sqladmin_i18n

    sqladmin_i18n._current_locale.set(language)
    sqladmin_i18n._current_translation.set(catalog)


def cache_template_urls(env: Any, *, reload_templates: bool, size: int = 4096) -> None:
    """SQLAdmin's template `url_for` (`Jinja2Templates.__init__`) routes the name and builds an
    absolute URL at every call, some forty times a list page; the same base URL, name and
    parameters always give the same URL. Templates are checked for changes on disk only
    where asked (development)."""
    find = env.globals["url_for"]
    known: dict[tuple[str, str, tuple[tuple[str, Any], ...]], str] = {}

    @pass_context
    def url_for(context: Any, name: str, /, **params: Any) -> Any:
        request = context["request"]
        try:
            key = (str(request.base_url), name, tuple(sorted(params.items())))
            url = known.get(key)
        except TypeError:  # an unhashable parameter: no cache
            return find(context, name, **params)
        if url is None:
            if len(known) >= size:
                known.clear()
            url = known[key] = str(request.url_for(name, **params))
        return url

    env.globals["url_for"] = url_for
    env.auto_reload = reload_templates
