"""Conventions every route shares: error shape, 413, 429, the login cookie, the OpenAPI schema."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from admin_app.main import create_app
from tests.api.conftest import PASSWORD
from tests.conftest import make_settings

ORIGIN = {"Origin": "http://testserver"}


def test_a_body_over_the_default_limit_is_413(client, editor) -> None:  # noqa: ANN001
    big = {"title": "t", "description": "d" * (1024 * 1024)}
    response = client.post("/api/tasks", json=big, headers=editor)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body larger than 1,048,576 bytes."}
    assert client.get("/api/tasks", headers=editor).json()["items"] == []


def test_a_streamed_body_over_the_limit_is_413(client, editor) -> None:  # noqa: ANN001
    def chunks():  # no Content-Length: the middleware counts what arrives
        yield b'{"title": "t", "description": "'
        for _ in range(40):
            yield b"d" * 32768
        yield b'"}'

    response = client.post(
        "/api/tasks", content=chunks(), headers={**editor, "Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_the_limit_is_a_setting(db_url) -> None:  # noqa: ANN001
    from admin_app.services.users import create_user
    from auth.tokens import create_token

    app = create_app(make_settings(db_url, max_body_bytes=2048))
    with TestClient(app, base_url="http://testserver") as client:
        with app.state.session_factory() as db:
            user = create_user(db, app.state.passwords, email="e@example.com", password=PASSWORD, role="editor")
            db.flush()
            _token, raw = create_token(db, user.id, "t")
            db.commit()
        headers = {"Authorization": f"Bearer {raw}"}
        assert client.post("/api/tasks", json={"title": "t", "description": "d" * 900}, headers=headers).status_code == 201
        response = client.post("/api/tasks/bulk", json={"ids": list(range(1, 1000)), "delete": True}, headers=headers)
        assert response.status_code == 413
        assert client.get("/api/tasks", headers=headers).json()["items"] != []


def test_repeated_failed_logins_are_429_with_retry_after(client, make_user) -> None:  # noqa: ANN001
    make_user("editor", email="ed@example.com")
    wrong = {"email": "ed@example.com", "password": "not the password at all"}
    statuses = [client.post("/api/auth/login", json=wrong, headers=ORIGIN).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    response = client.post("/api/auth/login", json={**wrong, "password": PASSWORD}, headers=ORIGIN)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert "Too many failed logins" in response.json()["detail"]


def test_the_login_cookie_works_and_cross_site_writes_are_refused(client, make_user) -> None:  # noqa: ANN001
    make_user("editor", email="ed@example.com")
    login = client.post("/api/auth/login", json={"email": "ed@example.com", "password": PASSWORD}, headers=ORIGIN)
    assert login.status_code == 200
    assert client.get("/api/tasks").status_code == 200
    assert client.post("/api/tasks", json={"title": "t"}, headers=ORIGIN).status_code == 201
    # the same cookie from another site, or with no origin at all, changes nothing
    evil = client.post("/api/tasks", json={"title": "x"}, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    assert client.post("/api/tasks", json={"title": "x"}).status_code == 403
    assert [t["title"] for t in client.get("/api/tasks").json()["items"]] == ["t"]


def test_api_responses_are_not_cached(client, viewer) -> None:  # noqa: ANN001
    assert client.get("/api/tasks", headers=viewer).headers["cache-control"] == "no-store"


# --- the OpenAPI schema -----------------------------------------------------------------------


@pytest.fixture
def schema(client) -> dict:  # noqa: ANN001
    return client.get("/api/openapi.json").json()


def api_operations(schema: dict):  # noqa: ANN201
    for path, item in schema["paths"].items():
        if path.startswith(("/api/tasks", "/api/projects", "/api/users", "/api/jobs")):
            for method, operation in item.items():
                yield path, method, operation


def test_every_route_is_documented(schema) -> None:  # noqa: ANN001
    operations = list(api_operations(schema))
    # 7 task routes, 7 project routes, 5 user routes, the second-factor reset, 4 job routes
    assert len(operations) == 24
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        responses = operation["responses"]
        assert {"401", "422"} <= set(responses), where
        if where != "GET /api/jobs":  # anyone signed in lists their own jobs: no role refuses it
            assert "403" in responses, where
        assert responses["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorMessage"}
        success = [code for code in responses if code.startswith("2")]
        # one outcome; a bulk request has two: done at once (200) or queued as a job (202)
        assert len(success) == 1 or (path.endswith("/bulk") and success == ["200", "202"]), where
        for code in success:
            if code != "204":
                assert "$ref" in str(responses[code]["content"]["application/json"]["schema"]), where
        if "202" in success:
            assert responses["202"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/JobPublic"}
        if "{" in path:
            assert "404" in responses, where
        if method in ("post", "put", "patch") and not path.startswith("/api/jobs/"):  # cancel, resume: no body
            assert "413" in responses, where
            body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            name = body.rsplit("/", 1)[1]
            assert schema["components"]["schemas"][name].get("examples"), name
        if method in ("put", "patch"):
            assert "409" in responses, where
    list_params = {p["name"] for p in schema["paths"]["/api/tasks"]["get"]["parameters"]}
    assert list_params == {
        "status", "priority", "assignee_id", "project_id", "q", "preset", "due_before", "due_after",
        "created_before", "created_after", "sort", "limit", "cursor", "count", "view",
    }


def test_the_examples_are_valid(schema) -> None:  # noqa: ANN001
    """Each documented example passes its own model, so the docs cannot drift from the code."""
    from admin_app.api import responses
    from admin_app.api.schemas import BulkResult, api_models
    from admin_app.resources.projects import PROJECTS
    from admin_app.resources.tasks import TASKS
    from admin_app.resources.users import USERS
    from models import (
        TaskCreate,
        TaskPublic,
        TaskReplace,
        TaskUpdate,
        UserCreate,
        UserPublic,
        UserUpdate,
    )

    tasks, projects, users = api_models(TASKS), api_models(PROJECTS), api_models(USERS)
    models = [
        TaskCreate, TaskReplace, TaskUpdate, TaskPublic, tasks.page, tasks.bulk_request, BulkResult,
        PROJECTS.schemas.create, PROJECTS.schemas.update, PROJECTS.schemas.public, projects.page,
        projects.bulk_request, UserCreate, UserUpdate, UserPublic, users.page, responses.ErrorMessage,
        responses.FieldErrors,
    ]
    for model in models:
        examples = schema["components"]["schemas"][model.__name__].get("examples")
        assert examples, model.__name__
        for example in examples:
            model.model_validate(example)
