"""What the schemathesis run (tests/api/test_fuzz.py) found, kept as plain tests.

Each request is one the fuzzer sent (or one of its kind found while fixing it) that got a
500 or an answer the OpenAPI schema did not describe. Each test checks the status and that
the answer conforms to the schema the app serves, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import re

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from models import Role

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
NUL = "\x00"
ORIGIN = {"Origin": "http://testserver"}


@pytest.fixture
def documented(app):  # noqa: ANN001, ANN201
    """Assert that a response is what the served schema says `METHOD /path/{template}` answers."""
    schema = schemathesis.openapi.from_dict(app.openapi())

    def check(response, method: str, path: str) -> None:  # noqa: ANN001
        # The checks read only the response; the case just names the operation.
        placeholders = {name: 1 for name in re.findall(r"{(\w+)}", path)}
        case = schema[path][method].Case(path_parameters=placeholders)
        case.validate_response(response, checks=CONFORMANCE)

    return check


@pytest.fixture
def task_id(client, admin) -> int:  # noqa: ANN001
    response = client.post("/api/tasks", json={"title": "fuzzed"}, headers=admin)
    assert response.status_code == 201
    return response.json()["id"]


def _cursor(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


# Found: 400 "There was an error parsing the body" (FastAPI, for a body that is not UTF-8)
# was undocumented on every route with a body.
@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("POST", "/api/auth/login", "/api/auth/login"),
        ("POST", "/api/auth/tokens", "/api/auth/tokens"),
        ("POST", "/api/tasks", "/api/tasks"),
        ("POST", "/api/tasks/bulk", "/api/tasks/bulk"),
        ("PUT", "/api/tasks/{id}", "/api/tasks/{task_id}"),
        ("PATCH", "/api/tasks/{id}", "/api/tasks/{task_id}"),
        ("POST", "/api/users", "/api/users"),
        ("PATCH", "/api/users/{id}", "/api/users/{user_id}"),
    ],
)
def test_a_body_that_is_not_utf8_is_a_documented_400(
    client, admin, task_id, make_user, documented, method, path, template,  # noqa: ANN001
) -> None:
    some_id = task_id if "tasks" in path else make_user(Role.viewer).id
    response = client.request(
        method, path.format(id=some_id), content=b'{"title": "\xff\xfe"}',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    documented(response, method, template)


# Found: a rule the service checks after request validation answers 422 with one message,
# but the schema documented only FastAPI's list of field errors.
@pytest.mark.parametrize(
    ("method", "url", "body", "template"),
    [
        ("POST", "/api/tasks", {"title": "t", "assignee_id": 999}, "/api/tasks"),
        ("POST", "/api/tasks/bulk", {"ids": [1], "set": {}}, "/api/tasks/bulk"),
        ("GET", "/api/tasks?cursor=garbage", None, "/api/tasks"),
        ("GET", "/api/users?cursor=garbage", None, "/api/users"),
        ("GET", "/api/audit?cursor=garbage", None, "/api/audit"),
        ("POST", "/api/users", {"email": "short@example.com", "password": "short"}, "/api/users"),
    ],
)
def test_a_rule_refused_after_validation_is_a_documented_422(
    client, admin, documented, method, url, body, template,  # noqa: ANN001
) -> None:
    response = client.request(method, url, json=body, headers=admin)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)
    documented(response, method, template)


# Found: a malformed If-Match is a 400 that was undocumented; and If-Match "0" on PUT was a
# 500 (a version the body may not carry reached the services unvalidated).
@pytest.mark.parametrize("etag", ["abc", "0", '"0"', 'W/"00"'])
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_an_if_match_that_is_no_etag_is_a_documented_400(
    client, admin, task_id, documented, method, etag,  # noqa: ANN001
) -> None:
    url = f"/api/tasks/{task_id}"
    body = None if method == "DELETE" else {"title": "changed"}
    response = client.request(method, url, json=body, headers={**admin, "If-Match": etag})
    assert response.status_code == 400
    assert "If-Match" in response.json()["detail"]
    documented(response, method, "/api/tasks/{task_id}")
    assert client.get(url, headers=admin).json()["title"] == "fuzzed"


def test_an_if_match_that_is_no_etag_is_a_documented_400_for_users(
    client, admin, make_user, documented,  # noqa: ANN001
) -> None:
    user = make_user(Role.viewer)
    response = client.patch(f"/api/users/{user.id}", json={"full_name": "x"}, headers={**admin, "If-Match": "0"})
    assert response.status_code == 400
    documented(response, "PATCH", "/api/users/{user_id}")


# Found on PostgreSQL: a NUL in the login email reached the lookup, which PostgreSQL refuses
# (500). The admin's login form goes through the same Authenticator.
def test_a_login_email_with_a_nul_is_invalid_credentials(client, make_user, documented) -> None:  # noqa: ANN001
    make_user(Role.editor, email="ed@example.com")
    response = client.post(
        "/api/auth/login", json={"email": f"ed@example.com{NUL}", "password": "x" * 12}, headers=ORIGIN
    )
    assert response.status_code == 401
    documented(response, "POST", "/api/auth/login")
    page = client.post(
        "/admin/login", data={"username": f"ed{NUL}@example.com", "password": "x" * 12}, headers=ORIGIN
    )
    assert page.status_code == 400
    assert "Invalid email or password" in page.text


# Found on PostgreSQL: text with a NUL reached SQL as a token name, a session id and audit
# filters (500). A blank token name was stored as "" as well.
@pytest.mark.parametrize(
    ("method", "url", "body", "template"),
    [
        ("POST", "/api/auth/tokens", {"name": f"a{NUL}b"}, "/api/auth/tokens"),
        ("POST", "/api/auth/tokens", {"name": "   "}, "/api/auth/tokens"),
        ("DELETE", "/api/auth/sessions/a%00b", None, "/api/auth/sessions/{session_id}"),
        ("GET", "/api/audit?action=a%00b", None, "/api/audit"),
        ("GET", "/api/audit?entity=a%00b", None, "/api/audit"),
        ("GET", "/api/audit?entity_id=a%00b", None, "/api/audit"),
    ],
)
def test_text_postgresql_would_refuse_is_a_422(
    client, admin, documented, method, url, body, template,  # noqa: ANN001
) -> None:
    response = client.request(method, url, json=body, headers=admin)
    assert response.status_code == 422
    documented(response, method, template)
    assert [t["name"] for t in client.get("/api/auth/tokens", headers=admin).json()] == ["tests"]


# Found: a time whose UTC is outside years 1-9999 (year 1 at +01:00, year 9999 at -01:00)
# made Python's conversion overflow while binding it (500), in filters and forged cursors.
@pytest.mark.parametrize(
    ("method", "url", "body", "template"),
    [
        ("GET", "/api/tasks?created_after=0001-01-01T00:00:00%2B01:00", None, "/api/tasks"),
        ("GET", "/api/tasks?created_before=9999-12-31T23:59:59-01:00", None, "/api/tasks"),
        ("POST", "/api/tasks/bulk", {"filter": {"created_after": "0001-01-01T00:00:00+01:00"}, "delete": True},
         "/api/tasks/bulk"),
        ("GET", "/api/audit?at_after=0001-01-01T00:00:00%2B01:00", None, "/api/audit"),
        ("GET", "/api/audit?at_before=9999-12-31T23:59:59-01:00", None, "/api/audit"),
        ("GET", "/api/tasks?sort=created_at&cursor="
         + _cursor({"s": "created_at", "v": "0001-01-01T00:00:00+01:00", "i": 1}), None, "/api/tasks"),
        ("GET", "/api/users?sort=-last_login_at&cursor="
         + _cursor({"s": "-last_login_at", "v": "9999-12-31T23:59:59-01:00", "i": 1}), None, "/api/users"),
    ],
)
def test_a_time_utc_cannot_hold_is_a_422(
    client, admin, task_id, documented, method, url, body, template,  # noqa: ANN001
) -> None:
    response = client.request(method, url, json=body, headers=admin)
    assert response.status_code == 422
    documented(response, method, template)
    assert client.get(f"/api/tasks/{task_id}", headers=admin).status_code == 200


# Found on SQLite: ids past 64 bits overflow its driver (500); a cursor's id of `true`
# passed the int check.
@pytest.mark.parametrize(
    ("method", "url", "template"),
    [
        ("DELETE", "/api/auth/tokens/99999999999999999999", "/api/auth/tokens/{token_id}"),
        ("GET", "/api/audit?actor_id=99999999999999999999", "/api/audit"),
        ("GET", "/api/audit?cursor=" + _cursor({"s": "-id", "v": 99999999999999999999, "i": 1}), "/api/audit"),
        ("GET", "/api/audit?cursor=" + _cursor({"s": "-id", "v": 1, "i": 99999999999999999999}), "/api/audit"),
        ("GET", "/api/audit?cursor=" + _cursor({"s": "-id", "v": True, "i": 1}), "/api/audit"),
    ],
)
def test_an_id_past_the_integer_columns_is_a_422(
    client, admin, documented, method, url, template,  # noqa: ANN001
) -> None:
    response = client.request(method, url, headers=admin)
    assert response.status_code == 422
    documented(response, method, template)


def _strict_json(text: str) -> object:
    """Parse as standard JSON: NaN and Infinity are not numbers it can hold."""

    def refuse(name: str) -> None:
        raise ValueError(f"non-standard JSON number {name}")

    return json.loads(text, parse_constant=refuse)


# Not from schemathesis, which sends only standard JSON: Python's reader takes NaN,
# Infinity, -Infinity and 1e400 (read as infinity), and FastAPI's 422, which echoes the
# input, could not be written back as JSON: a 500 before any login.
NON_STANDARD_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"]


@pytest.mark.parametrize("number", NON_STANDARD_NUMBERS)
@pytest.mark.parametrize(
    ("method", "path", "template", "body"),
    [
        ("POST", "/api/auth/login", "/api/auth/login", '{"email": %s, "password": "x"}'),
        ("POST", "/api/auth/login", "/api/auth/login", '{"email": "a@example.com", "password": "x", "extra": %s}'),
        ("POST", "/api/auth/tokens", "/api/auth/tokens", '{"name": "t", "expires_in_days": %s}'),
        ("POST", "/api/auth/password", "/api/auth/password", '{"current_password": %s, "new_password": "x"}'),
        ("POST", "/api/tasks", "/api/tasks", '{"title": "t", "priority": %s}'),
        ("POST", "/api/tasks", "/api/tasks", '{"title": %s}'),
        ("PUT", "/api/tasks/{id}", "/api/tasks/{task_id}", '{"title": "t", "version": %s}'),
        ("PATCH", "/api/tasks/{id}", "/api/tasks/{task_id}", '{"priority": %s, "version": 1}'),
        ("POST", "/api/tasks/bulk", "/api/tasks/bulk", '{"ids": [%s], "set": {"priority": 2}}'),
        ("POST", "/api/tasks/bulk", "/api/tasks/bulk", '{"ids": [1], "set": {"priority": %s}}'),
        ("POST", "/api/tasks/bulk", "/api/tasks/bulk", '{"filter": {"priority": %s}, "delete": true}'),
        ("POST", "/api/users", "/api/users", '{"email": "n@example.com", "password": "long enough pw", "role": %s}'),
        ("PATCH", "/api/users/{id}", "/api/users/{user_id}", '{"is_active": %s, "version": 1}'),
    ],
)
def test_a_non_standard_json_number_is_a_422_in_standard_json(
    client, admin, task_id, make_user, documented, method, path, template, body, number,  # noqa: ANN001
) -> None:
    some_id = task_id if "tasks" in path else make_user(Role.viewer).id
    response = client.request(
        method, path.format(id=some_id), content=(body % number).encode(),
        headers={**admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    detail = _strict_json(response.text)["detail"]
    assert detail and all("loc" in error and "msg" in error for error in detail)
    documented(response, method, template)


@pytest.mark.parametrize("number", NON_STANDARD_NUMBERS)
def test_a_non_standard_number_without_logging_in_is_a_422(client, number: str) -> None:  # noqa: ANN001
    response = client.post(
        "/api/auth/login", content=f'{{"email": {number}, "password": "x"}}'.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    [error] = _strict_json(response.text)["detail"]
    assert error["loc"] == ["body", "email"]
    assert error["input"] in ("NaN", "Infinity", "-Infinity")


@pytest.mark.parametrize("number", NON_STANDARD_NUMBERS)
@pytest.mark.parametrize("field", ["v", "i"])
def test_a_non_standard_number_in_a_cursor_is_a_422(client, admin, documented, number, field) -> None:  # noqa: ANN001
    payload = {"s": "-id", "v": 1, "i": 1}
    raw = json.dumps(payload).replace(f'"{field}": 1', f'"{field}": {number}')
    cursor = base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()
    response = client.get(f"/api/audit?cursor={cursor}", headers=admin)
    assert response.status_code == 422
    _strict_json(response.text)
    documented(response, "GET", "/api/audit")


# Found: `{"filter": {"q": ""}, "delete": true}` was schema-valid (q is not null) but refused
# as an empty filter (a blank search is no search, so it would choose every row): the schema
# now says a search condition has a character other than a space.
@pytest.mark.parametrize(("search", "valid"), [("", False), ("   ", False), ("a", True), (" a ", True)])
def test_the_schema_says_a_blank_search_is_no_bulk_condition(app, search: str, valid: bool) -> None:  # noqa: ANN001
    import jsonschema

    operation = schemathesis.openapi.from_dict(app.openapi())["/api/tasks/bulk"]["POST"]
    body_schema = operation.definition.raw["requestBody"]["content"]["application/json"]["schema"]
    resolver_root = {**app.openapi(), **body_schema}
    body = {"filter": {"q": search}, "delete": True}
    assert jsonschema.Draft202012Validator(resolver_root).is_valid(body) is valid


# Found: `GET /api/users?view=%C2%85` was schema-valid (ECMAScript's `\s` leaves out U+0085,
# NEL) but refused, because the server calls text blank by `str.strip`, which drops it. The
# patterns now spell their white space out, the same set `str.strip` drops.
BLANK_EVERYWHERE = ["\x85", "\xa0", "\u2003", "\u3000", " \x85 ", "\u2028"]
NOT_BLANK = ["\ufeff", "a", "\x85a"]  # U+FEFF is in ECMAScript's `\s`, not in str.strip's set


def test_the_text_patterns_spell_out_their_white_space() -> None:
    from typing import Annotated

    from pydantic import Field, TypeAdapter

    from models.common import NON_BLANK_TEXT_PATTERN, NOT_SPACE

    for pattern in (NON_BLANK_TEXT_PATTERN, NOT_SPACE):
        assert "\\s" not in pattern and "\\S" not in pattern, pattern  # engines read those differently
    rust = TypeAdapter(Annotated[str, Field(pattern=NON_BLANK_TEXT_PATTERN)])  # pydantic-core's engine
    for code in [*range(0x3001), 0xFEFF]:
        char = chr(code)
        control = code < 32 and char not in "\t\n\r"
        expected = not control and char.strip() != ""
        assert (re.fullmatch(NON_BLANK_TEXT_PATTERN, char) is not None) is expected, hex(code)
        assert (re.fullmatch(NOT_SPACE, char) is not None) is (char.strip() != ""), hex(code)
        try:
            rust.validate_python(char)
            accepted = True
        except ValueError:
            accepted = False
        assert accepted is expected, hex(code)


def test_the_server_refuses_exactly_the_characters_the_schema_pattern_refuses() -> None:
    """`reject_control_characters` (what the server checks) and `TEXT_PATTERN` (what the
    schema tells clients) are one rule: every code point, alone and inside other text."""
    from models.common import TEXT_PATTERN, reject_control_characters

    refused = []
    for code in range(0x110000):
        text = f"a{chr(code)}b"
        try:
            reject_control_characters(text)
        except ValueError:
            refused.append(code)
            assert re.fullmatch(TEXT_PATTERN, text) is None, hex(code)
        else:
            assert re.fullmatch(TEXT_PATTERN, text) is not None, hex(code)
    assert refused == [c for c in range(32) if chr(c) not in "\t\n\r"]
    assert reject_control_characters(None) is None


@pytest.mark.parametrize("name", BLANK_EVERYWHERE + NOT_BLANK)
def test_a_view_name_of_white_space_is_invalid_in_the_schema_and_refused(  # noqa: PLR0913
    app, client, admin, documented, name: str,  # noqa: ANN001
) -> None:
    import jsonschema

    operation = schemathesis.openapi.from_dict(app.openapi())["/api/users"]["GET"]
    (view,) = [p for p in operation.definition.raw["parameters"] if p["name"] == "view"]
    schema_valid = jsonschema.Draft202012Validator(view["schema"]).is_valid(name)
    assert schema_valid is (name in NOT_BLANK)
    response = client.get("/api/users", params={"view": name}, headers=admin)
    # A valid name that no view has is a 404 with one message; an invalid one a list of errors.
    assert response.status_code == (404 if schema_valid else 422), response.text
    assert isinstance(response.json()["detail"], str) is schema_valid
    documented(response, "GET", "/api/users")


# Found: POST /api/tasks with "assignee_id": "3" was a 201: pydantic turns digits into a number,
# but the schema says integer (schemathesis' negative_data_rejection). The API's bodies take
# JSON numbers only; the admin's forms and imports, whose values are text, still take digits.
@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/tasks", {"title": "t", "assignee_id": "1"}, "assignee_id"),
        ("POST", "/api/tasks", {"title": "t", "priority": "3"}, "priority"),
        ("POST", "/api/tasks", {"title": "t", "priority": True}, "priority"),
        ("PATCH", "/api/tasks/{id}", {"project_id": "1"}, "project_id"),
        ("PUT", "/api/tasks/{id}", {"title": "t", "version": "1"}, "version"),
        ("POST", "/api/tasks/bulk", {"ids": ["1"], "set": {"status": "done"}}, "ids"),
        ("POST", "/api/tasks/bulk", {"ids": [1], "set": {"priority": "2"}}, "priority"),
        ("POST", "/api/tasks/bulk", {"filter": {"assignee_id": "1"}, "set": {"status": "done"}}, "assignee_id"),
    ],
)
def test_a_number_sent_as_text_in_a_json_body_is_a_422(
    client, admin, task_id, documented, method, path, body, field,  # noqa: ANN001
) -> None:
    template = path.replace("{id}", "{task_id}")
    response = client.request(method, path.format(id=task_id), json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][-1] == field
    assert "whole number" in response.json()["detail"][0]["msg"]
    documented(response, method, template)
    assert client.get(f"/api/tasks/{task_id}", headers=admin).json()["version"] == 1  # nothing changed


def test_the_models_forms_and_imports_validate_with_still_take_digits() -> None:
    """Only the API's variants refuse text (the import and form tests send digits through these)."""
    from admin_app.resources import default_resources

    tasks = default_resources().get("task")
    assert tasks.schemas.create.model_validate({"title": "t", "priority": "3"}).priority == 3
