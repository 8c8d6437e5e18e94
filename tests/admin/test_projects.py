"""Projects, the third table: its own admin and API from its declaration, and tasks that belong to one."""

from __future__ import annotations

import csv
import html
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from admin_app.resources.projects import PROJECTS
from admin_app.services import records
from admin_app.services.actor import CLI_ACTOR
from admin_app.services.unit import unit_of_work
from auth.tokens import create_token
from models import AuditEntry, Project, ProjectCreate, Role
from tests.admin.conftest import ORIGIN, import_csv, listed_ids, task_rows


@pytest.fixture
def projects(app, make_user):  # noqa: ANN001, ANN201
    """Two projects (OPS owned by olga, FIN archived); {code: id} and the owner."""
    olga = make_user("olga@example.com", Role.editor, full_name="Olga Owner")
    with unit_of_work(app.state.session_factory, CLI_ACTOR) as ctx:
        ops = records.create(ctx, PROJECTS, ProjectCreate(name="Operations", code="ops", owner_id=olga.id))
        fin = records.create(ctx, PROJECTS, ProjectCreate(name="Finance close", code="FIN", archived=True))
    return {"OPS": ops.id, "FIN": fin.id}, olga


def bearer(app, user_id: int) -> dict[str, str]:  # noqa: ANN001
    with app.state.session_factory() as db:
        _token, raw = create_token(db, user_id, "tests")
        db.commit()
    return {"Authorization": f"Bearer {raw}"}


def flashed(client, response) -> str:  # noqa: ANN001
    assert response.status_code == 303, response.text
    return html.unescape(client.get(response.headers["location"]).text)


def test_codes_are_upper_case_and_unique(app, editor, projects) -> None:  # noqa: ANN001
    codes, _olga = projects
    with app.state.session_factory() as db:
        assert db.get(Project, codes["OPS"]).code == "OPS"
    form = {"name": "Dup", "code": "Ops", "description": "", "owner": "", "version": "1", "save": "Save"}
    response = editor.post("/admin/project/create", data=form, headers=ORIGIN)
    assert response.status_code == 409 or response.status_code == 400
    assert "A project with this code exists." in html.unescape(response.text)
    bad = editor.post("/admin/project/create", data={**form, "code": "a"}, headers=ORIGIN)
    assert bad.status_code == 400 and "Code: " in html.unescape(bad.text)


def test_project_list_search_filters_and_bulk_archive(app, editor, projects) -> None:  # noqa: ANN001
    codes, olga = projects
    page = editor.get("/admin/project/list").text
    assert "olga@example.com" in page and "Finance close" in page
    assert listed_ids(editor.get("/admin/project/list?search=opera").text) == [codes["OPS"]]
    assert listed_ids(editor.get("/admin/project/list?archived=true").text) == [codes["FIN"]]
    assert listed_ids(editor.get(f"/admin/project/list?owner={olga.id}").text) == [codes["OPS"]]
    both = f"{codes['OPS']},{codes['FIN']}"
    response = editor.post("/admin/project/action/archive", data={"pks": both, "scope": "selected"}, headers=ORIGIN)
    assert "1 project archived, 1 already archived" in flashed(editor, response)
    response = editor.post("/admin/project/action/unarchive?archived=true", data={"scope": "all"}, headers=ORIGIN)
    assert "2 projects unarchived" in flashed(editor, response)


def test_import_matches_projects_by_code_and_export(app, editor, projects) -> None:  # noqa: ANN001
    codes, olga = projects
    content = (
        "code,name,description,owner,archived\n"
        "ops,Operations,,olga@example.com,false\n"  # the same values: left as it is
        "FIN,Finance,Month end,,true\n"  # renamed
        "NEW1,Brand new,,olga@example.com,\n"
    )
    response = import_csv(editor, "/admin/project/import-csv", content)
    assert "1 project created, 1 updated, 1 unchanged." in flashed(editor, response)
    with app.state.session_factory() as db:
        rows = {p.code: p for p in db.execute(select(Project)).scalars()}
    assert rows["OPS"].version == 1 and rows["FIN"].version == 2 and rows["FIN"].name == "Finance"
    assert rows["NEW1"].owner_id == olga.id
    duplicate = import_csv(editor, "/admin/project/import-csv", b"code,name\nX1,One\nx1,Again\n")
    assert duplicate.status_code == 400 and "Also in row 2." in html.unescape(duplicate.text)
    exported = list(csv.reader(io.StringIO(editor.get("/admin/project/export/csv?sortBy=code&sort=asc").text)))
    assert exported[0] == ["ID", "Code", "Name", "Description", "Owner", "Archived", "Created at", "Updated at",
                           "Version"]
    assert [r[1] for r in exported[1:]] == ["FIN", "NEW1", "OPS"]


def test_tasks_belong_to_a_project(app, editor, projects, add_tasks) -> None:  # noqa: ANN001
    codes, _olga = projects
    ids = add_tasks(4, project_id=lambda i: codes["OPS"] if i < 2 else None, status=lambda i: ["pending", "done"][i % 2])
    page = editor.get("/admin/task/list").text
    assert ">OPS<" in page.replace("\n", "").replace(" ", "")  # the project column, by code
    assert sorted(listed_ids(editor.get(f"/admin/task/list?project={codes['OPS']}").text)) == ids[:2]
    # Move the other two by bulk action, one more by the list edit
    response = editor.post(f"/admin/task/action/move-to-project?pks={ids[2]}",
                           data={"pks": str(ids[2]), "scope": "selected", "value": str(codes["FIN"])}, headers=ORIGIN)
    assert "1 task moved to FIN" in flashed(editor, response)
    form = {"row": str(ids[3]), f"version-{ids[3]}": "1", f"status-{ids[3]}": "done", f"priority-{ids[3]}": "1",
            f"assignee-{ids[3]}": "", f"project-{ids[3]}": str(codes["OPS"]), f"due_date-{ids[3]}": ""}
    assert editor.post("/admin/task/list-edit", data=form, headers=ORIGIN).status_code == 303
    assert {t.id: t.project_id for t in task_rows(app).values()} == {
        ids[0]: codes["OPS"], ids[1]: codes["OPS"], ids[2]: codes["FIN"], ids[3]: codes["OPS"],
    }
    exported = list(csv.DictReader(io.StringIO(editor.get(f"/admin/task/export/csv?project={codes['FIN']}").text)))
    assert [(r["ID"], r["Project"]) for r in exported] == [(str(ids[2]), "FIN")]
    imported = import_csv(editor, "/admin/task/import-csv", b"title,project\nIn ops,OPS\nNowhere,NOPE\n")
    assert imported.status_code == 400 and "No project with the code NOPE." in html.unescape(imported.text)


def test_project_details_count_its_tasks_by_status(app, viewer, projects, add_tasks) -> None:  # noqa: ANN001
    codes, _olga = projects
    add_tasks(3, project_id=codes["OPS"], status=lambda i: ["pending", "done", "done"][i])
    page = html.unescape(viewer.get(f"/admin/project/details/{codes['OPS']}").text)
    assert "Tasks by status (project)" in page
    link = f"/admin/task/list?project={codes['OPS']}&status=done"
    assert link in page
    assert len(listed_ids(viewer.get(link).text)) == 2


def test_deleting_a_project_says_how_many_tasks_it_affects_and_keeps_them(app, editor, projects, add_tasks) -> None:  # noqa: ANN001
    codes, _olga = projects
    ids = add_tasks(3, project_id=codes["OPS"])
    confirm = html.unescape(editor.get(f"/admin/project/action/delete-projects?pks={codes['OPS']}").text)
    assert "3 tasks will lose their project." in confirm
    response = editor.post("/admin/project/action/delete-projects", data={"pks": str(codes["OPS"]), "scope": "selected"},
                           headers=ORIGIN)
    assert "1 project deleted" in flashed(editor, response)
    rows = task_rows(app)
    assert sorted(rows) == ids and {t.project_id for t in rows.values()} == {None}
    with app.state.session_factory() as db:
        entry = db.execute(select(AuditEntry).where(AuditEntry.entity == "project", AuditEntry.action == "delete")).scalar_one()
    assert entry.changes["code"] == ["OPS", None]


def test_viewers_read_projects_but_change_nothing(app, viewer, projects) -> None:  # noqa: ANN001
    codes, _olga = projects
    assert viewer.get("/admin/project/list").status_code == 200
    assert viewer.post("/admin/project/action/archive", data={"pks": str(codes["OPS"]), "scope": "selected"},
                       headers=ORIGIN).status_code == 403
    client, headers = TestClient(app), bearer(app, viewer.user.id)
    assert client.get("/api/projects", headers=headers).status_code == 200
    assert client.post("/api/projects", json={"name": "x", "code": "XX"}, headers=headers).status_code == 403


def test_the_projects_api(app, editor, projects, add_tasks) -> None:  # noqa: ANN001
    codes, olga = projects
    client, headers = TestClient(app), bearer(app, editor.user.id)
    listed = client.get("/api/projects", params={"archived": "false"}, headers=headers).json()
    assert [p["code"] for p in listed["items"]] == ["OPS"] and listed["items"][0]["owner"]["email"] == olga.email
    created = client.post("/api/projects", json={"name": "Moving", "code": "move"}, headers=headers)
    assert created.status_code == 201 and created.json()["code"] == "MOVE"
    assert client.post("/api/projects", json={"name": "Again", "code": "MOVE"}, headers=headers).status_code == 409
    url = created.headers["location"]
    assert client.patch(url, json={"archived": True}, headers={**headers, "If-Match": '"1"'}).json()["version"] == 2
    bulk = client.post("/api/projects/bulk", json={"filter": {"archived": True}, "set": {"archived": False}}, headers=headers)
    assert bulk.json() == {"count": 2, "matched": 2}
    task = client.post("/api/tasks", json={"title": "In a project", "project_id": codes["OPS"]}, headers=headers).json()
    assert task["project_id"] == codes["OPS"]
    assert [t["id"] for t in client.get("/api/tasks", params={"project_id": codes["OPS"]}, headers=headers).json()["items"]] == [task["id"]]
    missing = client.post("/api/tasks", json={"title": "x", "project_id": 999999}, headers=headers)
    assert missing.status_code == 422 and missing.json()["detail"] == "project_id: no project with id 999999"
    assert client.delete(url, headers=headers).status_code == 204


def test_the_dashboard_shows_the_projects_with_most_open_tasks(app, viewer, projects, add_tasks) -> None:  # noqa: ANN001
    codes, _olga = projects
    add_tasks(3, project_id=codes["OPS"], status=lambda i: ["pending", "in_progress", "done"][i])
    add_tasks(5, project_id=codes["FIN"])  # archived: not shown
    page = html.unescape(viewer.get("/admin/").text)
    assert 'id="busiest-projects"' in page and "Operations" in page and "Finance close" not in page
    link = f"/admin/task/list?project={codes['OPS']}&preset=open"
    assert link in page and len(listed_ids(viewer.get(link).text)) == 2
