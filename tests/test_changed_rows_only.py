"""Set-based writes write only the rows whose values change, in the admin, the API and imports."""

from __future__ import annotations

import html

from sqlalchemy import func, insert, select

from models import AuditEntry, Role, Task
from models.common import utcnow
from tests.admin.conftest import import_csv
from tests.factories import ORIGIN, admin_login, make_user

EARLIER = utcnow().replace(year=2025)


def _tasks(app, statuses: list[str]) -> list[int]:  # noqa: ANN001
    rows = [{"title": f"t{i}", "status": s, "priority": 1, "version": 1, "created_at": EARLIER,
             "updated_at": EARLIER, "completed_at": EARLIER if s == "done" else None} for i, s in enumerate(statuses)]
    with app.state.session_factory() as db, db.begin():
        return list(db.execute(insert(Task).returning(Task.id, sort_by_parameter_order=True), rows).scalars())


def _state(app) -> dict[int, tuple]:  # noqa: ANN001
    with app.state.session_factory() as db:
        tasks = db.execute(select(Task).order_by(Task.id)).scalars()
        return {t.id: (t.status, t.version, t.updated_at, t.completed_at) for t in tasks}


def _updates(app) -> dict[str, int]:  # noqa: ANN001
    with app.state.session_factory() as db:
        rows = db.execute(select(AuditEntry.entity_id).where(AuditEntry.action == "update")).scalars()
        return {i: 1 for i in rows}


def test_mark_as_done_changes_only_the_tasks_not_done_and_says_so(app, client) -> None:  # noqa: ANN001
    ids = _tasks(app, ["pending"] * 150 + ["done"] * 97 + ["in_progress"] * 36)  # 283 tasks, 97 done
    make_user(app, "ed@example.com", Role.editor)
    admin_login(client, "ed@example.com")
    before = _state(app)
    response = client.post("/admin/task/action/mark-done", data={"scope": "all"}, headers=ORIGIN,
                           follow_redirects=False)
    assert response.status_code == 303
    assert "186 tasks marked done, 97 already done" in html.unescape(client.get(response.headers["location"]).text)
    after = _state(app)
    done_before = [i for i in ids if before[i][0] == "done"]
    assert all(after[i] == before[i] for i in done_before)  # version, updated_at, completed_at kept
    changed = [i for i in ids if before[i][0] != "done"]
    assert all(after[i][0] == "done" and after[i][1] == 2 and after[i][2] > EARLIER for i in changed)
    updated = _updates(app)
    assert len(updated) == 186 and not any(str(i) in updated for i in done_before)
    with app.state.session_factory() as db:
        entry = db.execute(select(AuditEntry).where(AuditEntry.action == "update").limit(1)).scalar_one()
    assert entry.changes["status"][1] == "done" and entry.changes["completed_at"][0] is None


def test_the_api_bulk_counts_what_changed_and_what_was_chosen(app, client) -> None:  # noqa: ANN001
    ids = _tasks(app, ["pending", "done", "done"])
    make_user(app, "ed@example.com", Role.editor)
    from tests.factories import api_login

    api_login(client, "ed@example.com")
    response = client.post("/api/tasks/bulk", json={"ids": ids, "set": {"status": "done"}}, headers=ORIGIN)
    assert response.json() == {"count": 1, "matched": 3}
    again = client.post("/api/tasks/bulk", json={"filter": {"status": ["done"]}, "set": {"status": "done"}},
                        headers=ORIGIN)
    assert again.json() == {"count": 0, "matched": 3}
    assert [v[1] for v in _state(app).values()] == [2, 1, 1]
    assert len(_updates(app)) == 1


def test_several_fields_record_only_those_that_changed(app) -> None:  # noqa: ANN001
    from admin_app.resources.tasks import TASKS
    from admin_app.services import bulk
    from admin_app.services.actor import CLI_ACTOR
    from admin_app.services.unit import unit_of_work

    ids = _tasks(app, ["pending", "done"])
    with unit_of_work(app.state.session_factory, CLI_ACTOR) as ctx:
        result = bulk.update_rows(ctx, TASKS, {"status": "done", "priority": 1}, ids=ids)  # priority is 1 already
    assert (result.matched, result.changed) == (2, 1)
    with app.state.session_factory() as db:
        [entry] = db.execute(select(AuditEntry).where(AuditEntry.action == "update")).scalars()
        count = db.execute(select(func.count()).select_from(Task).where(Task.version == 2)).scalar_one()
    assert set(entry.changes) == {"status", "completed_at"} and count == 1


def test_a_list_edit_saves_only_the_rows_that_changed(app, client) -> None:  # noqa: ANN001
    ids = _tasks(app, ["pending", "pending"])
    make_user(app, "ed@example.com", Role.editor)
    admin_login(client, "ed@example.com")
    form = {"row": [str(i) for i in ids]}
    for i, status in zip(ids, ["pending", "done"], strict=True):
        form.update({f"version-{i}": "1", f"status-{i}": status, f"priority-{i}": "1", f"due_date-{i}": ""})
    response = client.post("/admin/task/list-edit", data=form, headers=ORIGIN, follow_redirects=False)
    assert "1 task saved." in html.unescape(client.get(response.headers["location"]).text)
    assert [v[1] for v in _state(app).values()] == [1, 2]


def test_a_project_import_that_updates_writes_only_what_differs(app, client) -> None:  # noqa: ANN001
    make_user(app, "ed@example.com", Role.editor)
    admin_login(client, "ed@example.com")

    def upload(content: str):  # noqa: ANN202
        return import_csv(client, "/admin/project/import-csv", content)

    first = upload("code,name\nAAA,First\nBBB,Second\n")
    assert "2 projects created, 0 updated, 0 unchanged." in html.unescape(client.get(first.headers["location"]).text)
    response = upload("code,name\nAAA,First\nBBB,Renamed\n")
    assert "0 projects created, 1 updated, 1 unchanged." in html.unescape(client.get(response.headers["location"]).text)
    with app.state.session_factory() as db:
        entries = db.execute(select(AuditEntry).where(AuditEntry.entity == "project", AuditEntry.action == "update")).scalars().all()
    assert [e.changes for e in entries] == [{"name": ["Second", "Renamed"]}]
