"""Fixtures for the JSON API tests: users of each role and their bearer-token headers."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from admin_app.services.users import create_user
from auth.tokens import create_token
from models import Role, Task, User

PASSWORD = "a long enough passphrase"
_numbers = itertools.count(1)

Headers = dict[str, str]


@pytest.fixture
def make_user(app) -> Callable[..., User]:  # noqa: ANN001
    """Create a user through the service (as the CLI and the admin do)."""

    def make(role: Role | str = Role.editor, *, email: str | None = None, **fields: Any) -> User:
        with app.state.session_factory() as db:
            user = create_user(
                db, app.state.passwords, email=email or f"{Role(role).value}{next(_numbers)}@example.com",
                password=fields.pop("password", PASSWORD), role=role, **fields,
            )
            db.commit()
            return user

    return make


@pytest.fixture
def headers_for(app) -> Callable[[int], Headers]:  # noqa: ANN001
    """Bearer-token headers for a user (exempt from the CSRF origin check)."""

    def make(user_id: int) -> Headers:
        with app.state.session_factory() as db:
            _token, raw = create_token(db, user_id, "tests")
            db.commit()
        return {"Authorization": f"Bearer {raw}"}

    return make


@pytest.fixture
def admin(make_user, headers_for) -> Headers:  # noqa: ANN001
    return headers_for(make_user(Role.admin).id)


@pytest.fixture
def editor(make_user, headers_for) -> Headers:  # noqa: ANN001
    return headers_for(make_user(Role.editor).id)


@pytest.fixture
def viewer(make_user, headers_for) -> Headers:  # noqa: ANN001
    return headers_for(make_user(Role.viewer).id)


BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def insert_tasks(app) -> Callable[[list[dict[str, Any]]], list[int]]:  # noqa: ANN001
    """Insert rows straight into the table (fast, for big sets); returns their ids in order."""

    def insert_rows(rows: list[dict[str, Any]]) -> list[int]:
        full = []
        for i, row in enumerate(rows):
            created = row.get("created_at", BASE_TIME + timedelta(minutes=i))
            full.append({
                "title": f"task {i}", "description": None, "status": "pending", "priority": 1,
                "due_date": None, "assignee_id": None, "completed_at": None, "version": 1,
                "created_at": created, "updated_at": created, **row,
            })
        with app.state.session_factory() as db:
            ids = list(db.execute(insert(Task).returning(Task.id, sort_by_parameter_order=True), full).scalars())
            db.commit()
        return ids

    return insert_rows


@pytest.fixture
def fetch_all(client) -> Iterator[Callable[..., list[dict[str, Any]]]]:  # noqa: ANN001
    """Follow next_cursor through every page of a list; returns all items."""

    def walk(path: str, headers: Headers, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        for _ in range(10_000):
            query = dict(params, **({"cursor": cursor} if cursor else {}))
            response = client.get(path, params=query, headers=headers)
            assert response.status_code == 200, response.text
            body = response.json()
            items.extend(body["items"])
            cursor = body["next_cursor"]
            if cursor is None:
                return items
        raise AssertionError("pagination did not end")

    yield walk


class Versioned:
    """A client whose PUT and PATCH send If-Match with the version a GET just returned,
    as a well-behaved script does (the API requires the version you read)."""

    def __init__(self, client) -> None:  # noqa: ANN001
        self.client = client

    def _send(self, method: str, url: str, *, headers: Headers | None = None, **kwargs: Any):  # noqa: ANN202
        headers = dict(headers or {})
        current = self.client.get(url, headers=headers)
        if current.status_code == 200 and "etag" in current.headers:
            headers["If-Match"] = current.headers["etag"]
        return self.client.request(method, url, headers=headers, **kwargs)

    def patch(self, url: str, **kwargs: Any):  # noqa: ANN201
        return self._send("PATCH", url, **kwargs)

    def put(self, url: str, **kwargs: Any):  # noqa: ANN201
        return self._send("PUT", url, **kwargs)


@pytest.fixture
def versioned(client) -> Versioned:  # noqa: ANN001
    return Versioned(client)
