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

import os
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
    positive_data_acceptance,
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
from models import Role, SavedView, TaskCreate, TaskStatus

MAX_EXAMPLES = 40
# The fuzzing admin's own account and token sit at ids the generator practically never
# picks, so it may delete, demote or revoke every other row without locking itself out
# (which would turn the rest of the run into 401s that prove nothing).
OWN_USER_ID = 1_987_654_321
OWN_TOKEN_ID = 1_987_654_322
# Rows at ids 1..SEEDED of each kind, which half the generated ids are folded onto, so
# reads and writes reach existing rows (200s, 409s, 412s) and not only 404s.
SEEDED = 6
ID_PARAMETERS = ("task_id", "user_id", "token_id", "change_set_id", "view_id")


@schemathesis.hook
def before_call(context, case, kwargs) -> None:  # noqa: ANN001
    """Stateful links read the fuzzing admin's ids from responses (GET /api/auth/me, then PATCH
    /api/users/{user_id} with `is_active: false` or a new password, which revokes its tokens;
    GET /api/auth/tokens, then DELETE its token), so picking them is no longer unlikely: such
    a request goes to a seeded row instead, and is still made."""
    own = {"user_id": OWN_USER_ID, "token_id": OWN_TOKEN_ID}
    for name, value in (case.path_parameters or {}).items():
        if own.get(name) == value:
            case.path_parameters[name] = 1 + value % SEEDED


@schemathesis.check
def stays_authenticated(ctx, response, case) -> bool | None:  # noqa: ANN001
    """Every request carries a live admin token: a 401 means the run stopped testing anything."""
    if response.status_code == 401 and case.operation.path != "/api/auth/login":
        raise AssertionError(f"401 on {case.operation.label}: the fuzzing token was lost")
    return None


def _detail(response: Any) -> Any:
    try:
        return response.json().get("detail")
    except (ValueError, AttributeError):
        return None


@schemathesis.check
def schema_valid_input_passes_validation(ctx, response, case) -> bool | None:  # noqa: ANN001
    """`positive_data_acceptance`, less what no schema can state: a rule on the data as it is
    now. Input the schema allows must pass request validation (no list of field errors); it
    may still name a version that is no longer current (412), leave out the version (428:
    If-Match or the body's `version`, one or the other, which OpenAPI cannot say), or break a
    rule of the service on the stored rows, answered with one message (a 400 or 422 whose
    `detail` is a string: an assignee that does not exist, a cursor this server did not hand
    out, a wrong current password, If-Match and the body naming different versions).
    Schemathesis' coverage phase also sends header values outside their pattern as valid
    ones (`If-Match: 0`): those get the 400 of a malformed If-Match, one message as well."""
    if response.status_code in (412, 428):
        return None
    if response.status_code in (400, 422) and isinstance(_detail(response), str):
        return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    stays_authenticated,
]


def _seed(app) -> str:  # noqa: ANN001
    """Users, tasks, spare tokens and saved views at ids 1..SEEDED, then the fuzzing admin; returns its token."""
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
        for n in range(1, SEEDED + 1):  # saved views: the fuzzer's own, half of them shared
            db.add(SavedView(id=n, resource=["task", "project", "user"][n % 3], name=f"View {n}",
                             owner_id=OWN_USER_ID, shared=n % 2 == 0, query="" if n % 2 else "sortBy=id&sort=desc"))
        db.flush()
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


# The whole run, as `schemathesis run --phases examples,coverage,fuzzing,stateful --checks all`
# would do it against a server: every phase, every built-in check (plus the ones above), a
# fixed seed and deterministic generation, so CI replays the same requests. Examples, then
# coverage, run once; the engine then alternates fuzzing and stateful sequences until the
# time budget (FUZZ_SECONDS, default 90) is spent, which is what bounds the run.
ENGINE_CONFIG: dict[str, Any] = {
    "seed": 20261202,
    "max-time": int(os.environ.get("FUZZ_SECONDS", "90")),
    "continue-on-failure": True,
    "generation": {
        "database": "none", "deterministic": True, "no-shrink": True,
        "max-examples": int(os.environ.get("FUZZ_EXAMPLES", "15")),
    },
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True, "generate-duplicate-query-parameters": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": True, "max-steps": 12},
    },
    # Every check; positive_data_acceptance as schema_valid_input_passes_validation above.
    # Invalid data refused with 413 (a generated body over MAX_BODY_BYTES, seen once in CI:
    # 1.4 MB of junk for POST /api/tasks/bulk) is refused all the same: 413 joins the
    # statuses negative_data_rejection counts as a refusal.
    "checks": {"enabled": True, "positive_data_acceptance": {"enabled": False},
               "negative_data_rejection": {"expected-statuses": [
                   "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]}},
}


def _findings(stream: Any) -> tuple[list[str], set[str]]:
    """Every failed check and engine error of a run, one line each; and the phases that ran."""
    from schemathesis.engine import events

    found: list[str] = []
    phases: set[str] = set()
    for event in stream:
        if isinstance(event, events.PhaseStarted):
            phases.add(event.phase.name.value)
        elif isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        status = getattr(failure, "status_code", "")
                        found.append(f"{check.name} on {event.recorder.label}: {status} {failure.title}: "
                                     f"{failure.message.splitlines()[0] if failure.message else ''}"
                                     f"\n    {check.failure_info.code_sample}")
        elif isinstance(event, events.NonFatalError):
            found.append(f"error on {event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return sorted(set(found)), phases


@pytest.mark.xdist_group("serial")  # the time-bounded engine (FUZZ_SECONDS): CPU-bound for minutes; see README, Tests
def test_every_phase_with_every_check_finds_nothing(app, fuzz_headers) -> None:  # noqa: ANN001
    """Examples, coverage (undeclared methods and repeated parameters included), fuzzing and
    stateful sequences (create, then read, change and delete what was created), all checks."""
    from schemathesis.engine import from_schema

    config = schemathesis.Config.from_dict({**ENGINE_CONFIG, "headers": fuzz_headers})
    loaded = schemathesis.openapi.from_asgi("/api/openapi.json", app, config=config)
    loaded.hook("flatmap_path_parameters")(lambda _context, params: _onto_seeded_rows(params))
    try:
        findings, phases = _findings(from_schema(loaded).execute())
    finally:
        asgi.shutdown_lifespans()
    assert {"examples", "coverage", "fuzzing", "stateful"} <= phases, phases
    assert not findings, f"{len(findings)} findings:\n" + "\n".join(findings)
