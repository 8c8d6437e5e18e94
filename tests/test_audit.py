"""The audit trail: every change and login event, in the change's transaction, no secrets."""

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from admin_app.audit import bind_actor
from admin_app.cli import main
from admin_app.db import build_session_factory
from admin_app.errors import Conflict
from admin_app.resources.tasks import TASKS
from admin_app.services import bulk, imports, records
from admin_app.services.actor import Actor
from admin_app.services.filtering import filters_of
from admin_app.services.unit import WriteContext
from admin_app.services.users import get_user, update_user
from models import AuditEntry, Role, Task, TaskCreate, TaskUpdate, UserUpdate
from tests.conftest import FAST_ARGON2
from tests.factories import ORIGIN, PASSWORD, admin_login, api_login, make_user

ACTOR = Actor(user_id=None, label="tester", via="cli")
TaskFilter = filters_of(TASKS).model


def as_tester(db) -> WriteContext:  # noqa: ANN001
    return WriteContext(db, ACTOR)


def _entries(app, **where) -> list[AuditEntry]:  # noqa: ANN001, ANN003
    with build_session_factory(app.state.engine)() as db:
        query = select(AuditEntry).order_by(AuditEntry.id)
        for key, value in where.items():
            query = query.where(getattr(AuditEntry, key) == value)
        return list(db.execute(query).scalars())


def _tasks(app, n: int, **fields) -> list[int]:  # noqa: ANN001, ANN003
    with build_session_factory(app.state.engine)() as db, db.begin():
        bind_actor(db, ACTOR)
        return [
            records.create(as_tester(db), TASKS, TaskCreate.model_validate({"title": f"T{i}", **fields})).id
            for i in range(n)
        ]


def test_admin_form_changes_are_recorded_with_old_and_new(app, client) -> None:  # noqa: ANN001
    editor_id = make_user(app, "ed@example.com", Role.editor)
    admin_login(client, "ed@example.com")
    client.post("/admin/task/create", headers=ORIGIN, data={"title": "First", "status": "pending", "priority": "2"})
    [task_id] = [t.entity_id for t in _entries(app, entity="task", action="create")]
    client.post(f"/admin/task/edit/{task_id}", headers=ORIGIN,
                data={"title": "Renamed", "status": "done", "priority": "2"})
    client.post("/admin/task/action/delete-tasks", headers=ORIGIN,
                data={"pks": task_id, "scope": "selected"})
    create, update, delete = _entries(app, entity="task")
    assert (create.action, update.action, delete.action) == ("create", "update", "delete")
    assert {e.via for e in (create, update, delete)} == {"admin"}
    assert {e.actor_id for e in (create, update, delete)} == {editor_id}
    assert create.actor_label == "ed@example.com"
    assert create.changes["title"] == [None, "First"]
    assert update.changes["title"] == ["First", "Renamed"]
    assert update.changes["status"] == ["pending", "done"]
    assert update.changes["completed_at"][0] is None and update.changes["completed_at"][1]
    assert "updated_at" not in update.changes and "version" not in update.changes
    assert delete.changes["title"] == ["Renamed", None]


def test_login_events_record_the_email_tried_never_the_password(app, client) -> None:  # noqa: ANN001
    user_id = make_user(app, "who@example.com")
    api_login(client, "who@example.com", "not the password at all")
    api_login(client, "nobody@example.com", "secret guess 123")
    api_login(client, "who@example.com")
    client.post("/api/auth/logout", headers=ORIGIN)
    admin_login(client, "who@example.com")
    entries = [e for e in _entries(app) if e.action.startswith(("login", "logout"))]
    assert [(e.action, e.actor_label, e.via) for e in entries] == [
        ("login_failure", "who@example.com", "api"),
        ("login_failure", "nobody@example.com", "api"),
        ("login_success", "who@example.com", "api"),
        ("logout", "who@example.com", "api"),
        ("login_success", "who@example.com", "admin"),
    ]
    assert entries[0].actor_id == user_id and entries[1].actor_id is None
    everything = str([(e.changes, e.details) for e in _entries(app)])
    assert "not the password" not in everything and "secret guess" not in everything


def test_password_role_and_activation_changes_record_no_secret(app) -> None:  # noqa: ANN001
    user_id = make_user(app, "ch@example.com", Role.editor)
    with build_session_factory(app.state.engine)() as db, db.begin():
        bind_actor(db, ACTOR)
        update_user(db, app.state.passwords, get_user(db, user_id),
                    UserUpdate(password="a new long password", role=Role.viewer, is_active=False))
    [entry] = _entries(app, entity="user", action="update")
    assert entry.changes == {"password": "changed", "role": ["editor", "viewer"], "is_active": [True, False]}
    [created] = _entries(app, entity="user", action="create")
    assert created.changes["password"] == [None, "set"]
    text = str([(e.changes, e.details) for e in _entries(app)])
    assert "$argon2" not in text and "a new long password" not in text


def test_tokens_created_and_revoked_via_api(app, client) -> None:  # noqa: ANN001
    user_id = make_user(app, "tk@example.com")
    api_login(client, "tk@example.com")
    token = client.post("/api/auth/tokens", json={"name": "cron"}, headers=ORIGIN).json()
    client.delete(f"/api/auth/tokens/{token['id']}", headers=ORIGIN)
    created, revoked = _entries(app, entity="token")
    assert (created.action, revoked.action) == ("token_created", "token_revoked")
    assert created.via == revoked.via == "api" and created.actor_id == user_id
    assert token["token"] not in str(created.changes) and "token_hash" not in str(created.changes)


def test_cli_and_demo_data_are_recorded(db_url: str, monkeypatch, tmp_path) -> None:  # noqa: ANN001
    import io
    import sys

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key.upper(), str(value))
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["create-user", "cli@example.com", "--role", "viewer", "--password-stdin"]) == 0
    assert main(["demo-data", "--tasks", "300"]) == 0
    from admin_app.main import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(db_url))
    users = _entries(app, entity="user", action="create")
    tasks = _entries(app, entity="task", action="create")
    assert len(users) == 6 and {e.via for e in users} == {"cli"}
    assert users[0].changes["email"] == [None, "cli@example.com"]
    assert len(tasks) == 300 and {e.via for e in tasks} == {"cli"}
    assert tasks[0].changes["title"][0] is None and tasks[0].changes["title"][1]


def test_bulk_update_writes_one_entry_per_row_with_old_values(app) -> None:  # noqa: ANN001
    ids = _tasks(app, 5, status="pending", priority=1)
    done = _tasks(app, 2, status="done")
    with build_session_factory(app.state.engine)() as db, db.begin():
        count = bulk.update_rows(
            as_tester(db), TASKS, {"status": "in_progress", "priority": 4}, spec=TaskFilter(status=["pending"]),
        ).changed
    assert count == 5
    entries = _entries(app, action="update")
    assert sorted(int(e.entity_id) for e in entries) == ids
    assert all(e.changes == {"status": ["pending", "in_progress"], "priority": [1, 4]} for e in entries)
    assert {e.actor_label for e in entries} == {"tester"}
    with build_session_factory(app.state.engine)() as db:
        versions = set(db.execute(select(Task.version).where(Task.id.in_(ids))).scalars())
        untouched = set(db.execute(select(Task.status).where(Task.id.in_(done))).scalars())
    assert versions == {2} and untouched == {"done"}


def test_bulk_delete_records_what_was_deleted(app) -> None:  # noqa: ANN001
    ids = _tasks(app, 3, priority=5)
    with build_session_factory(app.state.engine)() as db, db.begin():
        assert bulk.delete_rows(as_tester(db), TASKS, (), ids=ids[:2]) == 2
    entries = _entries(app, action="delete")
    assert sorted(int(e.entity_id) for e in entries) == ids[:2]
    assert entries[0].changes["priority"] == [5, None]


def test_a_change_that_rolls_back_leaves_no_entry(app) -> None:  # noqa: ANN001
    ids = _tasks(app, 2)
    before = len(_entries(app))
    factory = build_session_factory(app.state.engine)
    with factory() as db:
        bind_actor(db, ACTOR)
        bulk.update_rows(as_tester(db), TASKS, {"priority": 3}, ids=ids)
        task = db.get(Task, ids[0])
        records.update(as_tester(db), TASKS, task, TaskUpdate(title="never saved"))
        db.rollback()
    assert len(_entries(app)) == before
    with factory() as db:
        with pytest.raises(Exception):  # noqa: B017, PT011  (a failing statement mid-transaction)
            with db.begin():
                bind_actor(db, ACTOR)
                bulk.update_rows(as_tester(db), TASKS, {"status": "done"}, ids=ids)
                bulk.update_rows(as_tester(db), TASKS, {"assignee_id": 999}, ids=ids)
    assert len(_entries(app)) == before


def test_stale_version_is_refused_and_nothing_changes(app) -> None:  # noqa: ANN001
    [task_id] = _tasks(app, 1)
    factory = build_session_factory(app.state.engine)
    with factory() as db, db.begin():
        records.update(as_tester(db), TASKS, db.get(Task, task_id), TaskUpdate(title="first", version=1))
    with factory() as db:
        with pytest.raises(Conflict, match="changed by someone else"):
            records.update(as_tester(db), TASKS, db.get(Task, task_id), TaskUpdate(title="second", version=1))
        db.rollback()
    with factory() as db:
        task = db.get(Task, task_id)
    assert (task.title, task.version) == ("first", 2)


def test_concurrent_save_between_read_and_write_is_caught(app) -> None:  # noqa: ANN001
    [task_id] = _tasks(app, 1)
    factory = build_session_factory(app.state.engine)
    slow = factory()
    stale = slow.get(Task, task_id)  # loaded at version 1
    slow.commit()  # release the read (SQLite would otherwise block the other writer)
    with factory() as fast, fast.begin():
        records.update(as_tester(fast), TASKS, fast.get(Task, task_id), TaskUpdate(title="fast"))
    with pytest.raises(Conflict):
        records.update(as_tester(slow), TASKS, stale, TaskUpdate(title="slow"))
    slow.rollback()
    slow.close()
    with factory() as db:
        assert db.get(Task, task_id).title == "fast"


@pytest.fixture
def pg_app(pg_databases):  # noqa: ANN001, ANN201
    """An app on a fresh PostgreSQL database (row locking is what is under test)."""
    from admin_app.db import build_engine
    from admin_app.main import create_app
    from admin_app.migrate import upgrade_to_head
    from tests.conftest import make_settings

    url = pg_databases.create("admin_locks")
    engine = build_engine(make_settings(url))
    upgrade_to_head(engine)
    engine.dispose()
    app = create_app(make_settings(url))
    yield app
    app.state.engine.dispose()


def test_concurrent_bulk_edits_neither_deadlock_nor_lose_changes(pg_app) -> None:  # noqa: ANN001
    """One edit walks the rows by due date (newest first), the other by id: opposite orders.

    Without locking in one fixed order the two transactions deadlock; index scans are forced so
    the planner cannot hide the problem behind a sequential scan of a small table.
    """
    from datetime import date, timedelta

    from sqlalchemy import text, update

    app = pg_app
    ids = _tasks(app, 2000)
    factory = build_session_factory(app.state.engine)
    with factory() as db, db.begin():  # due dates fall as ids rise
        for offset, task_id in enumerate(ids):
            db.execute(update(Task).where(Task.id == task_id).values(due_date=date(2030, 1, 1) - timedelta(days=offset)))
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(changes: dict, **target) -> None:  # noqa: ANN003
        try:
            with factory() as db, db.begin():
                db.execute(text("SET LOCAL enable_seqscan = off"))
                db.execute(text("SET LOCAL enable_bitmapscan = off"))
                barrier.wait()
                bulk.update_rows(as_tester(db), TASKS, changes, **target)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    by_date = threading.Thread(target=run, args=({"priority": 5},),
                               kwargs={"spec": TaskFilter(due_before=date(2031, 1, 1))})
    by_id = threading.Thread(target=run, args=({"status": "done"},),
                             kwargs={"ids": ids[500:]})
    by_date.start()
    by_id.start()
    by_date.join()
    by_id.join()
    assert errors == []
    with factory() as db:
        rows = db.execute(select(Task.priority, Task.status, Task.version).where(Task.id.in_(ids[500:]))).all()
        entries = db.execute(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "update")).scalar_one()
    assert {r.priority for r in rows} == {5} and {r.status for r in rows} == {"done"}
    assert {r.version for r in rows} == {3}
    assert entries == 2000 + 1500


def _insert_tasks(app, n: int) -> list[int]:  # noqa: ANN001
    from sqlalchemy import insert

    rows = [{"title": f"Invoice {i} for Vandermeer", "description": f"REF-{i:07d} call back",
             "status": "cancelled", "priority": 1 + i % 2, "version": 1} for i in range(n)]  # never 3 or 4
    with build_session_factory(app.state.engine)() as db, db.begin():
        return list(db.execute(insert(Task).returning(Task.id), rows).scalars())


def test_bulk_edit_updates_rows_in_id_order_whatever_join_the_planner_would_pick(pg_app) -> None:  # noqa: ANN001
    """The new row versions are written in id order (so each id-led index is appended to).

    A hash join of the locked rows with the table hands rows over in hash order once it spills
    to several batches (a large edit with the default work_mem): forced here on a small table.
    """
    from sqlalchemy import text

    ids = _insert_tasks(pg_app, 3000)
    with build_session_factory(pg_app.state.engine)() as db, db.begin():
        for setting in ("work_mem = '64kB'", "enable_nestloop = off", "enable_mergejoin = off"):
            db.execute(text(f"SET LOCAL {setting}"))
        changed = bulk.update_rows(
            as_tester(db), TASKS, {"priority": 3}, spec=TaskFilter(status=["cancelled"])
        ).changed
    assert changed == 3000
    with build_session_factory(pg_app.state.engine)() as db:
        in_file_order = db.execute(text("SELECT id FROM task ORDER BY ctid")).scalars().all()
        old = dict(db.execute(text(
            "SELECT CAST(entity_id AS integer), CAST(changes->'priority'->>0 AS integer) FROM audit_entry"
            " WHERE action = 'update'"
        )).all())
    assert in_file_order == sorted(ids)
    assert old == {task_id: 1 + i % 2 for i, task_id in enumerate(ids)}


def _pending_pages(db, index: str) -> int:  # noqa: ANN001
    from sqlalchemy import text

    return db.execute(text("SELECT gin_clean_pending_list(CAST(:i AS regclass))"), {"i": index}).scalar_one()


@pytest.mark.parametrize("write", ["bulk edit", "import"])
def test_set_based_writes_leave_the_search_indexes_nothing_pending(pg_app, write: str) -> None:  # noqa: ANN001
    """Every search through a GIN index reads its pending list whole: a bulk edit or an
    import (each fills it with new entries) empties it."""
    _insert_tasks(pg_app, 500)
    factory = build_session_factory(pg_app.state.engine)
    with factory() as db, db.begin():
        for index in ("ix_task_search_title_trgm", "ix_task_search_description_trgm"):
            _pending_pages(db, index)  # the inserts' entries merged: start from empty lists
    with factory() as db, db.begin():
        if write == "bulk edit":
            bulk.update_rows(as_tester(db), TASKS, {"priority": 2}, spec=TaskFilter(status=["cancelled"]))
        else:
            rows = [TaskCreate(title=f"Imported invoice {i}", description="Quarterly figures " * 5)
                    for i in range(500)]
            assert imports.import_rows(as_tester(db), TASKS, rows).created == 500
    with factory() as db, db.begin():
        assert [_pending_pages(db, i) for i in ("ix_task_search_title_trgm", "ix_task_search_description_trgm")] == [0, 0]


def test_import_by_a_role_that_does_not_own_the_indexes_leaves_the_merge_to_vacuum(pg_app) -> None:  # noqa: ANN001
    """A role that may write task (and no grant on task_search: the triggers are SECURITY
    DEFINER) imports rows; their text reaches task_search, its pending list waits for vacuum."""
    import uuid

    from sqlalchemy import text

    _insert_tasks(pg_app, 200)
    role = f"bulk_editor_{uuid.uuid4().hex[:12]}"
    factory = build_session_factory(pg_app.state.engine)
    with factory() as db, db.begin():
        db.execute(text(f"CREATE ROLE {role} NOLOGIN"))
        db.execute(text(f"GRANT SELECT, INSERT, UPDATE ON task, audit_entry, change_set TO {role}"))
        db.execute(text(f"GRANT USAGE ON SEQUENCE audit_entry_id_seq, change_set_id_seq, task_id_seq TO {role}"))
        _pending_pages(db, "ix_task_search_title_trgm")
    try:
        with factory() as db, db.begin():
            db.execute(text(f"SET LOCAL ROLE {role}"))
            rows = [TaskCreate(title=f"Imported zeppelin {i}", description=None) for i in range(200)]
            assert imports.import_rows(as_tester(db), TASKS, rows).created == 200
        with factory() as db, db.begin():
            assert db.execute(text("SELECT count(*) FROM task_search WHERE title LIKE 'Imported zeppelin%'")).scalar() == 200
            assert _pending_pages(db, "ix_task_search_title_trgm") > 0
    finally:
        with factory() as db, db.begin():
            db.execute(text(f"DROP OWNED BY {role}"))
            db.execute(text(f"DROP ROLE {role}"))


def test_audit_view_is_read_only_even_for_admins(app) -> None:  # noqa: ANN001
    make_user(app, "root@example.com", Role.admin)
    with TestClient(app) as admin:
        admin_login(admin, "root@example.com")
        [entry] = _entries(app)[-1:]
        assert admin.get("/admin/audit-entry/list").status_code == 200
        assert admin.get(f"/admin/audit-entry/details/{entry.id}").status_code == 200
        refused = [
            admin.get("/admin/audit-entry/create"),
            admin.post("/admin/audit-entry/create", data={"action": "x"}, headers=ORIGIN),
            admin.get(f"/admin/audit-entry/edit/{entry.id}"),
            admin.post(f"/admin/audit-entry/edit/{entry.id}", data={"action": "x"}, headers=ORIGIN),
            admin.delete(f"/admin/audit-entry/delete?pks={entry.id}", headers=ORIGIN),
        ]
        assert [r.status_code for r in refused] == [403] * 5
    assert len(_entries(app, id=entry.id)) == 1


@pytest.mark.parametrize("role", [Role.editor, Role.viewer])
def test_audit_log_is_for_admins_only(app, role: Role) -> None:  # noqa: ANN001
    make_user(app, "someone@example.com", role)
    with TestClient(app) as client:
        admin_login(client, "someone@example.com")
        assert client.get("/admin/audit-entry/list").status_code == 403
        api_login(client, "someone@example.com")
        assert client.get("/api/audit").status_code == 403


def test_api_audit_filters_and_pages(app, client) -> None:  # noqa: ANN001
    admin_id = make_user(app, "aud@example.com", Role.admin)
    _tasks(app, 7)
    api_login(client, "aud@example.com")
    page = client.get("/api/audit", params={"entity": "task", "action": "create", "limit": 3}).json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    ids = [e["id"] for e in page["items"]]
    assert ids == sorted(ids, reverse=True)  # newest first
    seen = list(ids)
    while page["next_cursor"]:
        page = client.get("/api/audit", params={"entity": "task", "action": "create", "limit": 3,
                                                "cursor": page["next_cursor"]}).json()
        seen += [e["id"] for e in page["items"]]
    assert len(seen) == len(set(seen)) == 7
    mine = client.get("/api/audit", params={"actor_id": admin_id}).json()["items"]
    assert [e["action"] for e in mine] == ["login_success"]
    one = client.get("/api/audit", params={"entity": "task", "entity_id": "3"}).json()["items"]
    assert [e["entity_id"] for e in one] == ["3"]
    assert client.get("/api/audit", params={"cursor": "garbage"}).status_code == 422
    assert client.get("/api/audit", params={"limit": 500}).status_code == 422


def test_task_and_user_details_link_to_their_history(app) -> None:  # noqa: ANN001
    [task_id] = _tasks(app, 1)
    _tasks(app, 1)
    admin_id = make_user(app, "hist@example.com", Role.admin)
    with TestClient(app) as admin:
        admin_login(admin, "hist@example.com")
        for identity, row_id in (("task", task_id), ("user", admin_id)):
            page = admin.get(f"/admin/{identity}/details/{row_id}").text
            link = f"/admin/audit-entry/list?entity={identity}&amp;entity_id={row_id}&amp;entity_id_op=equals"
            assert link in page
            history = admin.get(link.replace("&amp;", "&")).text
            assert "/admin/audit-entry/details/" in history
        listed = admin.get(f"/admin/audit-entry/list?entity=task&entity_id={task_id}&entity_id_op=equals").text
        assert listed.count("/admin/audit-entry/details/") == 1  # only that task's entry
    make_user(app, "noaudit@example.com", Role.editor)
    with TestClient(app) as editor:
        admin_login(editor, "noaudit@example.com")
        assert "history-link" not in editor.get(f"/admin/task/details/{task_id}").text


def test_audit_log_filters_by_actor_action_entity_and_date(app) -> None:  # noqa: ANN001
    from datetime import timedelta

    from sqlalchemy import update as sql_update

    from models.common import utcnow

    ids = _tasks(app, 3)
    make_user(app, "filters@example.com", Role.admin)
    with build_session_factory(app.state.engine)() as db, db.begin():
        db.execute(sql_update(AuditEntry).where(AuditEntry.entity_id == str(ids[0]))
                   .values(at=utcnow() - timedelta(days=10)))
    today = utcnow().date()
    with TestClient(app) as admin:
        admin_login(admin, "filters@example.com")

        def shown(query: str) -> int:
            response = admin.get(f"/admin/audit-entry/list?{query}")
            assert response.status_code == 200, query
            return response.text.count("/admin/audit-entry/details/")

        assert shown("entity=task") == 3
        assert shown("action=login_success") == 1
        assert shown("actor_label=tester&actor_label_op=equals") == 3
        assert shown(f"entity=task&at_after={today.isoformat()}") == 2
        assert shown(f"entity=task&at_before={(today - timedelta(days=5)).isoformat()}") == 1
        assert admin.get("/admin/audit-entry/list?at_after=yesterday").status_code == 400
        csv = admin.get(f"/admin/audit-entry/export/csv?entity=task&at_after={today.isoformat()}").text
        assert len(csv.strip().splitlines()) == 1 + 2
