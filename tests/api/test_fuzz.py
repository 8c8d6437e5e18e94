"""Property-based fuzzing of the JSON API against its own OpenAPI schema (schemathesis).

Every operation in /api/openapi.json is called with generated input, valid and invalid,
as an admin (every route reachable), on SQLite and on PostgreSQL (which refuses NUL bytes,
out-of-range integers and dates that SQLite takes). No answer may be a 5xx, and every
answer must be documented: status code, content type, body and headers. Examples are
bounded and derandomized, so the run is fast and a failure replays the same in CI.

Nothing is excluded: logout with a bearer token ends no session, and login failures
throttle only logins (documented 401/429) in this test's own emptied database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from admin_app.resources.tasks import TASKS
from admin_app.services import records
from admin_app.services.actor import CLI_ACTOR
from admin_app.services.unit import WriteContext
from admin_app.services.users import create_user
from auth.tokens import create_token
from models import Role, TaskCreate, TaskStatus

MAX_EXAMPLES = 40
# The fuzzing admin's own account and token sit at ids the generator practically never
# picks, so it may delete, demote or revoke every other row without locking itself out
# (which would turn the rest of the run into 401s that prove nothing).
OWN_USER_ID = 1_987_654_321
OWN_TOKEN_ID = 1_987_654_322
# Rows at ids 1..SEEDED of each kind, which half the generated ids are folded onto, so
# reads and writes reach existing rows (200s, 409s, 412s) and not only 404s.
SEEDED = 6
ID_PARAMETERS = ("task_id", "user_id", "token_id", "change_set_id")


@schemathesis.check
def stays_authenticated(ctx, response, case) -> bool | None:  # noqa: ANN001
    """Every request carries a live admin token: a 401 means the run stopped testing anything."""
    if response.status_code == 401 and case.operation.path != "/api/auth/login":
        raise AssertionError(f"401 on {case.operation.label}: the fuzzing token was lost")
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    stays_authenticated,
]


def _seed(app) -> str:  # noqa: ANN001
    """Users, tasks and spare tokens at ids 1..SEEDED, then the fuzzing admin; returns its token."""
    passwords = app.state.passwords
    roles = [Role.admin, Role.editor, Role.viewer]
    with app.state.session_factory() as db:
        for n in range(1, SEEDED + 1):
            create_user(db, passwords, email=f"user{n}@example.com", password="a long enough passphrase",
                        role=roles[n % 3], full_name=f"User {n}", is_active=n != SEEDED)
        for n in range(1, SEEDED + 1):
            records.create(WriteContext(db, CLI_ACTOR), TASKS, TaskCreate(
                title=f"Task {n}", description="seeded" if n % 2 else None,
                status=list(TaskStatus)[n % 4], priority=1 + n % 5,
                due_date=date(2026, 1, n) if n % 3 else None, assignee_id=n if n % 2 else None,
            ))
        me = create_user(db, passwords, email="fuzzer@example.com",
                         password="a long fuzzing passphrase", role=Role.admin)
        me.id = OWN_USER_ID
        db.flush()
        for n in range(1, SEEDED + 1):  # revoking these is fine
            create_token(db, OWN_USER_ID, f"spare {n}")
        token, raw = create_token(db, OWN_USER_ID, "fuzzing")
        token.id = OWN_TOKEN_ID
        db.commit()
    return raw


def _onto_seeded_rows(path_parameters: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    """The generated ids as they are, or folded onto the seeded rows."""
    ids = {k: v for k, v in (path_parameters or {}).items() if k in ID_PARAMETERS and type(v) is int and v > 0}
    if not ids:
        return st.just(path_parameters)
    folded = {**path_parameters, **{k: 1 + (v - 1) % SEEDED for k, v in ids.items()}}
    return st.sampled_from([path_parameters, folded])


@pytest.fixture
def fuzz_headers(app) -> dict[str, str]:  # noqa: ANN001
    return {"Authorization": f"Bearer {_seed(app)}"}


@pytest.fixture
def api_schema(request: pytest.FixtureRequest, app, fuzz_headers) -> Iterator[schemathesis.BaseSchema]:  # noqa: ANN001
    """The schema the app serves, loaded through its ASGI interface (no server needed)."""
    # schemathesis 4.32's from_fixture reads `node._nodeid`, which pytest 9.2 no longer
    # has (the id lives in `_id`); it reads it only after loading this fixture.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    config = schemathesis.Config.from_dict({"generation": {"database": "none"}})
    loaded = schemathesis.openapi.from_asgi("/api/openapi.json", app, config=config)
    loaded.hook("flatmap_path_parameters")(lambda _context, params: _onto_seeded_rows(params))
    yield loaded
    # schemathesis keeps each app's lifespan running until exit: end it with the test,
    # so the app's engine is disposed before its database is dropped.
    asgi.shutdown_lifespans()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_every_generated_request_as_documented(case, fuzz_headers) -> None:  # noqa: ANN001
    case.call_and_validate(headers=fuzz_headers, checks=CHECKS)
