"""The API contract: what the schema states, and that the server does what it states.

Issue 14 (the schema states its limits): each finding of the stateful schemathesis run as a
plain test. Issue 18 (the API as a generated client sees it): declared headers, short
operation ids, required output fields, readable sort names, one error type per status.
"""

from __future__ import annotations

import re

import pytest

from admin_app.resources.tasks import TASKS
from admin_app.services import records
from admin_app.services.actor import CLI_ACTOR
from admin_app.services.unit import WriteContext
from models import TaskCreate

RESOURCES = [("/api/tasks", "task_id"), ("/api/projects", "project_id"), ("/api/users", "user_id")]


@pytest.fixture
def schema(client) -> dict:  # noqa: ANN001
    return client.get("/api/openapi.json").json()


@pytest.fixture
def task_id(app) -> int:  # noqa: ANN001
    with app.state.session_factory() as db:
        task = records.create(WriteContext(db, CLI_ACTOR), TASKS, TaskCreate(title="contract"))
        db.commit()
        return task.id


def _operations(schema: dict):  # noqa: ANN202
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


# --- issue 14: methods, repeated parameters, the limits the server enforces -------------------


@pytest.mark.parametrize(("path", "allow"), [
    ("/api/tasks", "GET, POST, OPTIONS"),
    ("/api/tasks/1", "GET, PUT, PATCH, DELETE, OPTIONS"),
    ("/api/users/1", "GET, PATCH, DELETE, OPTIONS"),
    ("/api/tasks/bulk", "POST, OPTIONS"),
    ("/api/auth/tokens", "GET, POST, OPTIONS"),
    ("/healthz", "GET, OPTIONS"),
])
def test_options_names_every_method_of_the_path_and_others_are_405(client, admin, path, allow) -> None:  # noqa: ANN001
    options = client.options(path, headers=admin)
    assert options.status_code == 204 and options.headers["allow"] == allow
    for method in ("TRACE", "PUT" if "PUT" not in allow else "POST"):
        refused = client.request(method, path, headers=admin)
        assert refused.status_code == 405, (method, path)
        assert refused.headers["allow"] == allow and "not allowed" in refused.json()["detail"]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "GET", "DELETE"])
def test_other_methods_on_bulk_are_405_not_an_id(client, admin, method) -> None:  # noqa: ANN001
    response = client.request(method, "/api/tasks/bulk", json={"ids": [1], "delete": True}, headers=admin)
    assert response.status_code == 405 and response.headers["allow"] == "POST, OPTIONS"


@pytest.mark.parametrize("query", ["limit=abc&limit=5", "limit=5&limit=6", "sort=id&sort=-id", "count=true&count=x"])
def test_a_repeated_single_value_parameter_is_refused(client, admin, query) -> None:  # noqa: ANN001
    response = client.get(f"/api/tasks?{query}", headers=admin)
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["type"] == "repeated_parameter" and error["loc"] == ["query", query.split("=")[0]]


def test_a_repeatable_parameter_may_still_be_repeated(client, admin) -> None:  # noqa: ANN001
    assert client.get("/api/tasks?status=pending&status=done&priority=1&priority=2", headers=admin).status_code == 200
    assert client.get("/api/audit?limit=1&limit=2", headers=admin).status_code == 422


def test_the_schema_states_text_password_email_and_cursor_limits(schema, settings) -> None:  # noqa: ANN001
    components = schema["components"]["schemas"]
    title = components["TaskCreate"]["properties"]["title"]
    assert (title["minLength"], title["maxLength"]) == (1, 200)
    assert not re.search(title["pattern"], "a\x1fb") and not re.search(title["pattern"], "   ")
    assert re.search(title["pattern"], " a title ")
    description = components["TaskCreate"]["properties"]["description"]
    assert not re.search(description["anyOf"][0]["pattern"], "nul\x00") and re.search(description["anyOf"][0]["pattern"], "tab\tok")
    for model in ("UserCreate", "UserUpdate"):
        password = components[model]["properties"]["password"]
        password = password.get("anyOf", [password])[0]
        assert (password["minLength"], password["maxLength"]) == (settings.password_min_length, settings.password_max_length)
    assert components["PasswordChange"]["properties"]["new_password"]["minLength"] == settings.password_min_length
    email = components["UserCreate"]["properties"]["email"]["pattern"]
    for reserved in ("a@b.test", "a@localhost", "a@b.LOCAL", "a@x.arpa", "a@y.onion", "a@z.invalid"):
        assert not re.search(email, reserved), reserved
    assert re.search(email, "sam@example.com")
    cursor = next(p for p in schema["paths"]["/api/tasks"]["get"]["parameters"] if p["name"] == "cursor")
    assert cursor["schema"]["anyOf"][0]["pattern"] == "^[A-Za-z0-9_-]*$"
    q = next(p for p in schema["paths"]["/api/tasks"]["get"]["parameters"] if p["name"] == "q")
    assert not re.search(q["schema"]["pattern"], "a\x08")
    # what a PATCH may leave out but not empty is not nullable
    assert components["TaskUpdate"]["properties"]["title"]["type"] == "string"
    assert "anyOf" in components["TaskUpdate"]["properties"]["description"]
    assert components["TaskBulkRequest"]["allOf"]


def test_apps_of_one_process_share_a_generated_schema_but_each_has_its_own(settings) -> None:  # noqa: ANN001
    """api/openapi.py generates a schema once per routes and settings shown; each app a copy."""
    from admin_app.main import create_app
    from tests.conftest import make_settings

    def password_of(app) -> dict:  # noqa: ANN001
        password = app.openapi()["components"]["schemas"]["UserCreate"]["properties"]["password"]
        return password.get("anyOf", [password])[0]

    first, second = create_app(settings), create_app(settings)
    assert first.openapi() == second.openapi() and first.openapi() is not second.openapi()
    first.openapi()["info"]["title"] = "changed by one app"
    assert second.openapi()["info"]["title"] == "Task back-office API"
    longer = create_app(make_settings(settings.database_url, password_min_length=settings.password_min_length + 7))
    assert password_of(longer)["minLength"] == settings.password_min_length + 7
    assert password_of(second)["minLength"] == settings.password_min_length
    extended = create_app(settings)
    extended.add_api_route("/api/extra", lambda: {}, methods=["GET"])
    assert "/api/extra" in extended.openapi()["paths"] and "/api/extra" not in second.openapi()["paths"]
    other = create_app(settings)  # a route of the same name (<lambda>) on another path: its own schema
    other.add_api_route("/api/other", lambda: {}, methods=["GET"])
    assert "/api/other" in other.openapi()["paths"] and "/api/extra" not in other.openapi()["paths"]


@pytest.mark.parametrize(("body", "field"), [
    ({"title": "a\x1fb"}, "title"), ({"title": " \x0b"}, "title"), ({"title": "x" * 199 + "  "}, "title"),
    ({"title": "x", "due_date": 0}, "due_date"), ({"title": "x", "due_date": "20260101"}, "due_date"),
])
def test_the_server_refuses_what_the_schema_refuses(client, editor, body, field) -> None:  # noqa: ANN001
    response = client.post("/api/tasks", json=body, headers=editor)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == field


def test_numbers_are_no_dates_or_yes_no(client, admin) -> None:  # noqa: ANN001
    assert client.get("/api/tasks?created_after=0", headers=admin).status_code == 422
    assert client.get("/api/audit?at_before=0.5", headers=admin).status_code == 422
    refused = client.post("/api/users", json={"email": "n@example.com", "password": "a long enough passphrase",
                                              "is_active": 0}, headers=admin)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "is_active"]
    bulk = client.post("/api/projects/bulk", json={"ids": [1], "delete": 1}, headers=admin)
    assert bulk.status_code == 422


def test_a_reserved_email_domain_and_a_malformed_cursor_are_refused(client, admin) -> None:  # noqa: ANN001
    user = client.post("/api/users", json={"email": "a@b.test", "password": "a long enough passphrase"}, headers=admin)
    assert user.status_code == 422
    assert client.get("/api/tasks?cursor=a%20b", headers=admin).status_code == 422


# --- issue 18: what a generated client reads --------------------------------------------------


def test_every_operation_has_a_short_stable_id(schema) -> None:  # noqa: ANN001
    ids = [operation["operationId"] for _p, _m, operation in _operations(schema)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(_[a-z]+){0,3}", operation_id), operation_id
    assert {"list_tasks", "update_task", "bulk_tasks", "list_audit_entries", "healthz", "readyz", "login",
            "get_me", "create_token", "revoke_token", "delete_user", "reset_second_factors"} <= set(ids)
    names = set(schema["components"]["schemas"])
    assert {"Alive", "Ready", "Unavailable"} <= names and not any("Healthz" in n for n in names)


@pytest.mark.parametrize(("prefix", "param"), RESOURCES)
def test_etag_location_and_if_match_are_declared(schema, prefix, param) -> None:  # noqa: ANN001
    one = schema["paths"][f"{prefix}/{{{param}}}"]
    for method, operation in one.items():
        success = next(code for code in operation["responses"] if code.startswith("2"))
        if method != "delete":
            assert operation["responses"][success]["headers"]["ETag"]["required"] is True, method
        if method != "get":
            if_match = next(p for p in operation["parameters"] if p["name"].lower() == "if-match")
            assert if_match["schema"]["type"] == "string" and if_match["schema"]["pattern"] == '^"[1-9][0-9]{0,9}"$'
            assert "quoted" in if_match["description"] and "`*`" in if_match["description"]
    created = schema["paths"][prefix]["post"]["responses"]["201"]["headers"]
    assert set(created) == {"ETag", "Location"}
    assert schema["paths"]["/readyz"]["get"]["responses"]["503"]["headers"]["Retry-After"]
    # Every API operation may meet a database that is down: 503, Retry-After, `Unavailable`.
    for path, method, operation in _operations(schema):
        if path.startswith("/api/"):
            unavailable = operation["responses"]["503"]
            assert unavailable["headers"]["Retry-After"]["required"] is True, (method, path)
            ref = unavailable["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/Unavailable"), (method, path)
    assert schema["paths"]["/api/auth/login"]["post"]["responses"]["429"]["headers"]["Retry-After"]


@pytest.mark.parametrize("etag", ["1", "*", 'W/"1"', '"1", "2"'])
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_if_match_takes_only_the_quoted_etag(client, admin, task_id, method, etag) -> None:  # noqa: ANN001
    body = {"title": "x"} if method == "PATCH" else None
    response = client.request(method, f"/api/tasks/{task_id}", json=body, headers={**admin, "If-Match": etag})
    assert response.status_code == 400 and "quoted" in response.json()["detail"]
    assert client.get(f"/api/tasks/{task_id}", headers=admin).json()["version"] == 1


def test_output_models_require_what_the_server_always_sends(schema) -> None:  # noqa: ANN001
    components = schema["components"]["schemas"]
    assert {"status", "priority", "description", "due_date"} <= set(components["TaskPublic"]["required"])
    assert {"full_name", "role", "is_active"} <= set(components["UserPublic"]["required"])
    for name in ("TaskPublic", "UserPublic", "ProjectPublic", "UserRef", "AuditEntryPublic"):
        assert set(components[name]["required"]) == set(components[name]["properties"]), name
    assert "total" not in components["TaskPage"]["required"]  # only with count=true
    assert components["TaskCreate"]["required"] == ["title"]  # input: the defaults stay optional


def test_sort_values_have_readable_names(schema) -> None:  # noqa: ANN001
    sort = next(p for p in schema["paths"]["/api/tasks"]["get"]["parameters"] if p["name"] == "sort")["schema"]
    names = dict(zip(sort["enum"], sort["x-enum-varnames"], strict=True))
    assert names["-priority"] == "PRIORITY_DESC" and names["due_date"] == "DUE_DATE" and names["id"] == "ID"


def test_one_error_type_per_status_with_field_error_input_and_ctx(schema, client, editor) -> None:  # noqa: ANN001
    for path, method, operation in _operations(schema):
        for code, response in operation["responses"].items():
            content = response.get("content", {}).get("application/json")
            if content and code >= "400":
                assert set(content["schema"]) == {"$ref"}, (method, path, code)
                expected = {"422": "FieldErrors", "503": "Unavailable"}.get(code, "ErrorMessage")
                assert content["schema"]["$ref"].endswith(expected), (method, path, code)
    field_error = schema["components"]["schemas"]["FieldError"]["properties"]
    assert {"loc", "msg", "type", "input", "ctx"} <= set(field_error)
    error = client.post("/api/tasks", json={"title": ""}, headers=editor).json()["detail"][0]
    assert error["input"] == "" and error["ctx"] == {"min_length": 1}


def test_audit_changes_and_details_are_described(schema) -> None:  # noqa: ANN001
    entry = schema["components"]["schemas"]["AuditEntryPublic"]["properties"]
    per_field = entry["changes"]["anyOf"][0]["additionalProperties"]["anyOf"]
    assert {"type": "array", "items": {}, "minItems": 2, "maxItems": 2} in per_field
    assert "[old, new]" in entry["changes"]["description"] and "mfa_reset" in entry["details"]["description"]
