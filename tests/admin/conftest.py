"""Fixtures for the admin: a logged-in TestClient per role, users and tasks to look at."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from admin_app.services import users as user_service
from models import Role, Task, TaskStatus, User
from models.common import utcnow

ORIGIN = {"Origin": "http://testserver"}
PASSWORD = "correct horse battery staple"


@pytest.fixture
def db(app):  # noqa: ANN001, ANN201
    """A session on the app's database, for arranging and checking."""
    with app.state.session_factory() as session:
        yield session


@pytest.fixture
def make_user(app) -> Callable[..., User]:  # noqa: ANN001
    def make(email: str, role: Role = Role.viewer, *, full_name: str = "", active: bool = True) -> User:
        with app.state.session_factory() as session:
            user = user_service.create_user(
                session, app.state.passwords, email=email, password=PASSWORD, role=role,
                full_name=full_name,
            )
            user.is_active = active
            session.commit()
            session.refresh(user)
            return user

    return make


def session_cookie(app, user_id: int) -> str:  # noqa: ANN001
    """Start a server-side session for a user, as a login would; returns the cookie value."""
    authenticator = app.state.authenticator
    with app.state.session_factory() as session:
        raw = authenticator.sessions.create(session, user_id, ip_address="testclient", user_agent="pytest")
        session.commit()
    return authenticator.sessions.sign(raw)


@pytest.fixture
def login_as(app, make_user) -> Iterator[Callable[[Role], TestClient]]:  # noqa: ANN001
    """A TestClient logged in as a new user of the given role (one client per call)."""
    clients: list[TestClient] = []

    def login(role: Role, email: str | None = None) -> TestClient:
        user = make_user(email or f"{role.value}{len(clients)}@example.com", role)
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        client.__enter__()
        client.cookies.set(app.state.settings.session_cookie_name, session_cookie(app, user.id))
        client.user = user  # type: ignore[attr-defined]
        clients.append(client)
        return client

    yield login
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def editor(login_as) -> TestClient:  # noqa: ANN001
    return login_as(Role.editor)


@pytest.fixture
def viewer(login_as) -> TestClient:  # noqa: ANN001
    return login_as(Role.viewer)


@pytest.fixture
def admin(login_as) -> TestClient:  # noqa: ANN001
    return login_as(Role.admin)


@pytest.fixture
def add_tasks(app) -> Callable[..., list[int]]:  # noqa: ANN001
    """Insert tasks set-wise; each keyword is a value or a function of the row index."""

    def add(count: int = 1, **values: object) -> list[int]:
        now = utcnow()
        rows = []
        for i in range(count):
            row = {
                "title": f"Task {i}", "description": None, "status": TaskStatus.pending.value,
                "priority": 1, "due_date": None, "assignee_id": None,
                "created_at": now, "updated_at": now, "version": 1,
            }
            for key, value in values.items():
                row[key] = value(i) if callable(value) else value
            if isinstance(row["status"], TaskStatus):
                row["status"] = row["status"].value
            rows.append(row)
        with app.state.session_factory() as session:
            before = session.execute(select(Task.id).order_by(Task.id.desc()).limit(1)).scalar() or 0
            for start in range(0, len(rows), 5000):
                session.execute(insert(Task), rows[start : start + 5000])
            session.commit()
            return list(session.execute(select(Task.id).where(Task.id > before).order_by(Task.id)).scalars())

    return add


def task_rows(app, *ids: int) -> dict[int, Task]:  # noqa: ANN001
    with app.state.session_factory() as session:
        query = select(Task)
        if ids:
            query = query.where(Task.id.in_(ids))
        return {t.id: t for t in session.execute(query).scalars()}


def listed_ids(html: str) -> list[int]:
    """The task ids in the rows of a list page, in order."""
    return [int(v) for v in re.findall(r'<tr data-row-id="(\d+)">', html)]


def shown_count(html: str) -> str:
    """The list footer's count: "1-25 of 1,204" -> "1204", "of about 1,000,000" -> "about 1,000,000"."""
    match = re.search(r'id="list-count">\s*(?:[\d,]+-[\d,]+\s+of\s+([^<]+?)|(0) [^<]+?)\s*</p>', html)
    if not match:
        return ""
    shown = (match.group(1) or match.group(2)).strip()
    return shown if shown.startswith("about ") else shown.replace(",", "")


def import_csv(client, path: str, content: str | bytes, **form: str):  # noqa: ANN001, ANN201
    """Upload a file (the preview writes nothing), then confirm it as the page's form does.

    The preview's response when it offers no confirmation; else the confirmation's."""
    import html

    data = content.encode() if isinstance(content, str) else content
    preview = client.post(path, files={"csvfile": ("file.csv", data, "text/csv")}, headers=ORIGIN,
                          follow_redirects=False)
    token = re.search(r'name="preview" value="([^"]+)"', preview.text)
    if preview.status_code != 200 or not token:
        return preview
    return client.post(path, data={"preview": html.unescape(token.group(1)), **form}, headers=ORIGIN,
                       follow_redirects=False)


def today() -> date:
    return utcnow().date()
