"""Every route, admin and API, with hostile path and query parameters: never a 5xx.

The routes are read from the app itself (its router, the included API routers, and the
routes of the mounted admin), so a route added tomorrow is scanned without anyone
listing it here. Each path parameter is filled with values a parser may choke on, each
request is sent as an admin, a viewer and anonymously, the list-like query parameters
are fed junk, writes get junk forms, and every form a page shows is submitted with each
of its fields in turn set to a hostile value. A clean 4xx (or a 2xx/3xx) is fine; a 5xx
is a finding.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount

from admin_app.main import create_app
from admin_app.resources.tasks import TASKS
from admin_app.services import records
from admin_app.services.actor import CLI_ACTOR
from admin_app.services.unit import WriteContext
from auth.tokens import create_token
from models import Role, TaskCreate
from tests.conftest import make_settings
from tests.factories import ORIGIN, make_user

# Values a path segment may carry that no id, name or slug of ours is.
HOSTILE_SEGMENTS = [
    "abc", "-1", "0", "1.5", "1e3", " 1", "0x10", "99999999999999999999", "9223372036854775808",
    "%00", "a%00b", "%FF", "%C0%AF", "..", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "a" * 5000,
    "%27%20OR%201=1--", "%E2%80%AE", "1%2C2",
]
# Junk for the query parameters that lists, pages, exports and bulk actions read.
HOSTILE_QUERIES = [
    {"page": "abc"}, {"page": "-1"}, {"page": "0"}, {"page": "99999999999999999999"},
    {"pageSize": "abc"}, {"pageSize": "0"}, {"pageSize": "-5"}, {"pageSize": "99999999999999999999"},
    {"sortBy": "nope"}, {"sortBy": "\x00"}, {"sortBy": "hashed_password"}, {"sort": "sideways"},
    {"search": "\x00"}, {"search": "%"}, {"search": "a" * 5000}, {"search": "\\"},
    {"pks": "abc"}, {"pks": "99999999999999999999"}, {"pks": "-1,0"}, {"pks": ",,,"}, {"pks": "1," * 6000},
    {"status": "\x00"}, {"priority": "abc"}, {"priority": "99999999999999999999"},
    {"assignee": "abc"}, {"assignee": "99999999999999999999"}, {"due_after": "not a date"},
    {"due_before": "99999-01-01"}, {"created_after": "0001-01-01T00:00:00+01:00"},
    {"is_active": "maybe"}, {"role": "\x00"}, {"entity_id": "\x00"}, {"entity_id_op": "nope"},
    {"limit": "abc"}, {"limit": "99999999999999999999"}, {"cursor": "\x00"}, {"cursor": "e30"},
    {"q": "\x00"}, {"next": "//evil.example"}, {"name": "\x00"}, {"term": "\x00"},
]
# What a write reads from its query string: the selection, and the list it returns to.
WRITE_QUERY_KEYS = {"pks", "page", "pageSize", "sortBy", "search", "next", "status"}
# What each field of a form a page shows is set to, one field at a time.
HOSTILE_FIELDS = ["abc", "-1", "99999999999999999999", "\x00", "a" * 5000, "NaN"]
ACTORS = ("admin", "viewer", "anonymous")
LOGOUTS = {"POST /admin/logout", "POST /api/auth/logout"}
# Path parameters that name a thing from a fixed set: the real names are tried as well,
# so that the other parameters of the route are reached.
KNOWN_VALUES = {
    "identity": ["task", "user", "audit-entry"],
    "export_type": ["csv", "json"],
    "column_name": ["title", "email"],
}


@dataclass(frozen=True)
class RouteCase:
    method: str
    path: str  # the template, e.g. /admin/{identity}/details/{pk:path}

    @property
    def params(self) -> list[str]:
        return [p.split(":")[0] for p in re.findall(r"{([^}]+)}", self.path)]

    def fill(self, values: dict[str, str]) -> str:
        return re.sub(r"{([^}:]+)(:[^}]*)?}", lambda m: values[m.group(1)], self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _walk(routes, prefix: str = "") -> Iterator[tuple[str, set[str]]]:  # noqa: ANN001
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:  # an included APIRouter (FastAPI >= 0.16x)
            for context in contexts():
                yield prefix + context.path, set(context.methods or {"GET"})
        elif isinstance(route, Mount):
            inner = getattr(route.app, "routes", None)
            if inner is None:  # static files: the rest of the path is theirs
                yield prefix + route.path + "/{path:path}", {"GET"}
            else:
                yield from _walk(inner, prefix + route.path)
        else:
            yield prefix + route.path, set(getattr(route, "methods", None) or {"GET"})


def route_table(app) -> list[RouteCase]:  # noqa: ANN001
    """Every (method, path template) the app answers, HEAD and OPTIONS aside."""
    cases = {
        RouteCase(method, path)
        for path, methods in _walk(app.router.routes)
        for method in methods
        if method not in ("HEAD", "OPTIONS")
    }
    return sorted(cases, key=lambda c: (c.path, c.method))


def _collection_app():  # noqa: ANN202
    """An app built only to read its routes (no database is touched)."""
    folder = tempfile.mkdtemp(prefix="route-table-")
    return create_app(make_settings(f"sqlite:///{folder}/routes.db"))


ROUTES = route_table(_collection_app())


def test_the_route_table_is_read_from_the_app() -> None:
    """The scan sees the admin's and the API's routes, mounted and included alike."""
    paths = {c.path for c in ROUTES}
    for expected in ("/api/tasks/{task_id}", "/admin/{identity}/details/{pk:path}", "/admin/login",
                     "/admin/task/action/mark-done", "/admin/account", "/api/auth/login", "/healthz"):
        assert expected in paths, expected
    assert len(ROUTES) >= 50


def _path_values(case: RouteCase) -> Iterator[dict[str, str]]:
    """For each parameter in turn: every hostile value, the others set to something real."""
    base = {name: KNOWN_VALUES.get(name, ["1"])[0] for name in case.params}
    for name in case.params:
        for value in [*KNOWN_VALUES.get(name, []), "1", *HOSTILE_SEGMENTS]:
            yield {**base, name: value}
        if name in KNOWN_VALUES:  # the other parameters under each real name
            for known in KNOWN_VALUES[name][1:]:
                for other in case.params:
                    if other != name:
                        for value in ["1", *HOSTILE_SEGMENTS[:8]]:
                            yield {**base, name: known, other: value}


def _requests(case: RouteCase) -> Iterator[tuple[str, dict[str, str] | None]]:
    """(url, form) pairs: hostile path values, then hostile queries, then (writes) forms."""
    seen: set[str] = set()
    for values in _path_values(case) if case.params else [{}]:
        url = case.fill(values)
        if url not in seen:
            seen.add(url)
            yield url, None
    first = case.fill({name: KNOWN_VALUES.get(name, ["1"])[0] for name in case.params})
    for query in HOSTILE_QUERIES:
        if case.method == "GET" or WRITE_QUERY_KEYS.intersection(query):
            yield first + "?" + "&".join(f"{k}={_quote(v)}" for k, v in query.items()), None
    if case.method != "GET":
        for form in HOSTILE_QUERIES:
            yield first, form


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    """The forms of a page: action, method, and each named field with its value."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get").upper()))
        elif tag in ("input", "select", "textarea") and self.forms and values.get("name"):
            if values.get("type") in ("submit", "button", "file"):
                return
            self.forms[-1].fields.setdefault(values["name"], values.get("value", ""))


def page_forms(page_url: str, html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    forms = []
    for form in parser.forms:
        target = urljoin(page_url, form.action or page_url)
        if urlsplit(target).netloc not in ("", "testserver"):
            continue
        form.action = urlsplit(target)._replace(scheme="", netloc="").geturl()
        if not any(form.action.startswith(path) for path in ("/admin/logout", "/api/auth/logout")):
            forms.append(form)
    return forms


def _form_submissions(client: TestClient, url: str) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Each form the page at `url` shows, each field in turn set to each hostile value."""
    response = client.get(url)
    if response.status_code != 200 or "html" not in response.headers.get("content-type", ""):
        return
    for form in page_forms("http://testserver" + url, response.text):
        for name in form.fields:
            for value in HOSTILE_FIELDS:
                yield form.method, form.action, {**form.fields, name: value}


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def session_cookie(app, user_id: int) -> str:  # noqa: ANN001
    """A server-side session for the user, as a login starts one; the signed cookie value."""
    sessions = app.state.authenticator.sessions
    with app.state.session_factory() as db:
        raw = sessions.create(db, user_id, ip_address="testclient", user_agent="pytest")
        db.commit()
    return sessions.sign(raw)


@pytest.fixture
def actors(app) -> dict[str, TestClient]:  # noqa: ANN001
    """An admin, a viewer and an anonymous client, and rows at id 1 for them to reach."""
    make_user(app, "target@example.com", Role.editor)  # id 1: for deletes and edits to hit
    with app.state.session_factory() as db:
        records.create(WriteContext(db, CLI_ACTOR), TASKS, TaskCreate(title="target"))
        db.commit()
    clients = {}
    for name in ACTORS:
        client = TestClient(app, base_url="http://testserver", follow_redirects=False,
                            raise_server_exceptions=False)
        client.__enter__()
        if name != "anonymous":
            role = Role.admin if name == "admin" else Role.viewer
            user_id = make_user(app, f"{name}@example.com", role)
            client.cookies.set(app.state.settings.session_cookie_name, session_cookie(app, user_id))
            with app.state.session_factory() as db:  # so that the account page has a revoke form
                create_token(db, user_id, "spare")
                db.commit()
        clients[name] = client
    yield clients
    for client in clients.values():
        client.__exit__(None, None, None)


@pytest.mark.parametrize("case", ROUTES, ids=str)
def test_no_route_answers_hostile_parameters_with_a_server_error(actors, case: RouteCase) -> None:
    failures = []
    for url, form in _requests(case):
        for name in ACTORS:
            response = actors[name].request(case.method, url, data=form, headers=ORIGIN)
            if response.status_code >= 500:
                sent = f" form {str(form)[:60]}" if form else ""
                failures.append(f"{name}: {case.method} {url[:120]}{sent} -> {response.status_code}")
    if case.method == "GET":  # the forms this page shows, as an admin sees them, filled in badly
        first = case.fill({name: KNOWN_VALUES.get(name, ["1"])[0] for name in case.params})
        for method, action, form in _form_submissions(actors["admin"], first):
            for name in ACTORS:
                response = actors[name].request(
                    method, action, headers=ORIGIN,
                    **({"params": form} if method == "GET" else {"data": form}),
                )
                if response.status_code >= 500:
                    failures.append(f"{name}: form on {first} -> {method} {action} {str(form)[:100]} "
                                    f"-> {response.status_code}")
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} in all)"
    if str(case) not in LOGOUTS:  # the scan ran logged in all along, not as anonymous
        for name in ("admin", "viewer"):
            assert actors[name].get("/api/auth/me").status_code == 200, f"{name} was logged out"
