"""The API as a generated client sees it (openapi-python-client over /api/openapi.json).

The client is generated from the app's own schema, imported, and drives the jobs a script
does through its typed functions only: create, cursor pages, an If-Match update, stale
versions (412, 409, 428), bulk by ids and by filter, delete. Every answer must parse into
the declared model, and the declared response headers (ETag, Location) must be there.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from models import Role

PACKAGE = "generated_api_client"


def _generate(schema: dict[str, Any], where: Path) -> ModuleType:
    spec = where / "openapi.json"
    spec.write_text(json.dumps(schema))
    tool = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run(
        [str(tool), "generate", "--path", str(spec), "--meta", "none", "--output-path", str(where / PACKAGE)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr  # every schema part understood
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    sys.path.insert(0, str(where))
    try:
        return importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))


@pytest.fixture
def generated(client, tmp_path) -> ModuleType:  # noqa: ANN001
    return _generate(client.get("/api/openapi.json").json(), tmp_path)


def _module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_the_schema_passes_openapi_spec_validator(client) -> None:  # noqa: ANN001
    validate(client.get("/api/openapi.json").json())


def test_a_generated_client_does_every_job_through_typed_functions(app, generated, make_user, headers_for) -> None:  # noqa: ANN001
    api, m = (lambda name: _module(f"api.{name}")), _module("models")
    etag = re.compile(r'^"[1-9][0-9]*"$')
    editor = make_user(Role.editor)
    with TestClient(app, base_url="http://testserver", headers=headers_for(editor.id)) as http:
        c = _module("client").Client(base_url="http://testserver").set_httpx_client(http)

        # create: 201, the row typed, its URL in Location and its version in ETag
        created = api("tasks.create_task").sync_detailed(
            client=c, body=m.TaskCreate(title="Renew the lease", priority=3, due_date=None)
        )
        assert created.status_code == 201
        task = created.parsed
        assert isinstance(task, m.TaskPublic) and task.status is m.TaskStatus.PENDING and task.version == 1
        assert created.headers["Location"].endswith(f"/api/tasks/{task.id}")
        assert etag.match(created.headers["ETag"])
        for n in range(4):
            api("tasks.create_task").sync(client=c, body=m.TaskCreate(title=f"Task {n}", priority=1 + n))

        # cursor pages, sorted by a readably named value
        seen, cursor = [], _module("types").UNSET
        while True:
            page = api("tasks.list_tasks").sync(client=c, limit=2, sort=m.ListTasksSort.PRIORITY_DESC, cursor=cursor)
            assert isinstance(page, m.TaskPage) and all(isinstance(t, m.TaskPublic) for t in page.items)
            seen += [t.priority for t in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == sorted(seen, reverse=True) and len(seen) == 5

        # read, then change with If-Match: the new ETag comes back
        read = api("tasks.get_task").sync_detailed(task.id, client=c)
        assert isinstance(read.parsed, m.TaskPublic) and read.headers["ETag"] == '"1"'
        changed = api("tasks.update_task").sync_detailed(
            task.id, client=c, body=m.TaskUpdate(status=m.TaskStatus.DONE), if_match=read.headers["ETag"]
        )
        assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
        assert isinstance(changed.parsed, m.TaskPublic) and changed.parsed.completed_at is not None

        # stale versions: 412 (If-Match), 409 (body), 428 (neither); each one typed error
        stale = api("tasks.update_task").sync_detailed(
            task.id, client=c, body=m.TaskUpdate(title="late"), if_match='"1"'
        )
        assert stale.status_code == 412 and isinstance(stale.parsed, m.ErrorMessage)
        stale_body = api("tasks.update_task").sync_detailed(task.id, client=c, body=m.TaskUpdate(title="late", version=1))
        assert stale_body.status_code == 409 and isinstance(stale_body.parsed, m.ErrorMessage)
        missing = api("tasks.update_task").sync_detailed(task.id, client=c, body=m.TaskUpdate(title="late"))
        assert missing.status_code == 428 and isinstance(missing.parsed, m.ErrorMessage)
        replaced = api("tasks.replace_task").sync_detailed(
            task.id, client=c, body=m.TaskReplace(title="Replaced", priority=5), if_match='"2"'
        )
        assert replaced.status_code == 200 and replaced.parsed.title == "Replaced" and replaced.headers["ETag"] == '"3"'

        # invalid input: one 422 type, with the fields' input and ctx
        invalid = api("tasks.create_task").sync_detailed(client=c, body=m.TaskCreate(title="x", priority=9))
        assert invalid.status_code == 422 and isinstance(invalid.parsed, m.FieldErrors)
        error = invalid.parsed.detail[0]
        assert isinstance(error, m.FieldError) and error.loc == ["body", "priority"] and error.input_ == 9
        assert error.ctx.additional_properties == {"le": 5}

        # bulk: by ids, then by filter
        ids = [t.id for t in api("tasks.list_tasks").sync(client=c, limit=200).items]
        by_ids = api("tasks.bulk_tasks").sync(
            client=c, body=m.TaskBulkRequest(ids=ids, set_=m.TaskBulkSet(priority=2))
        )
        assert isinstance(by_ids, m.BulkResult) and by_ids.matched == 5
        by_filter = api("tasks.bulk_tasks").sync(
            client=c, body=m.TaskBulkRequest(filter_=m.TaskFilter(priority=[2]), set_=m.TaskBulkSet(status=m.TaskStatus.CANCELLED))
        )
        assert isinstance(by_filter, m.BulkResult) and by_filter.count == 5

        # delete with If-Match: a stale one is refused and the row kept
        kept = api("tasks.delete_task").sync_detailed(task.id, client=c, if_match='"1"')
        assert kept.status_code == 412 and isinstance(kept.parsed, m.ErrorMessage)
        current = api("tasks.get_task").sync_detailed(task.id, client=c).headers["ETag"]
        assert api("tasks.delete_task").sync_detailed(task.id, client=c, if_match=current).status_code == 204
        gone = api("tasks.get_task").sync_detailed(task.id, client=c)
        assert gone.status_code == 404 and isinstance(gone.parsed, m.ErrorMessage)


def test_users_and_the_audit_trail_through_the_generated_client(app, generated, make_user, headers_for) -> None:  # noqa: ANN001
    api, m = (lambda name: _module(f"api.{name}")), _module("models")
    admin = make_user(Role.admin)
    with TestClient(app, base_url="http://testserver", headers=headers_for(admin.id)) as http:
        c = _module("client").Client(base_url="http://testserver").set_httpx_client(http)
        created = api("users.create_user").sync_detailed(client=c, body=m.UserCreate(
            email="sam@example.com", password="a long enough passphrase", role=m.Role.EDITOR
        ))
        assert created.status_code == 201 and created.headers["Location"].endswith(f"/api/users/{created.parsed.id}")
        user = created.parsed
        assert isinstance(user, m.UserPublic) and user.full_name == "" and user.is_active is True
        updated = api("users.update_user").sync_detailed(
            user.id, client=c, body=m.UserUpdate(full_name="Sam Lee"), if_match=created.headers["ETag"]
        )
        assert updated.parsed.full_name == "Sam Lee" and updated.headers["ETag"] == '"2"'
        stale = api("users.delete_user").sync_detailed(user.id, client=c, if_match='"1"')
        assert stale.status_code == 412 and isinstance(stale.parsed, m.ErrorMessage)
        assert api("users.delete_user").sync_detailed(user.id, client=c, if_match='"2"').status_code == 204

        page = api("audit.list_audit_entries").sync(client=c, entity="user", entity_id=str(user.id))
        assert isinstance(page, m.AuditPage) and [e.action for e in page.items] == ["delete", "update", "create"]
        update = page.items[1]
        assert update.changes.additional_properties["full_name"] == ["", "Sam Lee"]
        me = api("auth.get_me").sync(client=c)
        assert isinstance(me, m.UserPublic) and me.id == admin.id
        assert isinstance(api("health.healthz").sync(client=c), m.Alive)
        assert isinstance(api("health.readyz").sync(client=c), m.Ready)
