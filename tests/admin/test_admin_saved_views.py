"""Saved views in the admin: save, open, rename, update, delete; personal and shared; the menu."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from admin_app.services import saved_views
from admin_app.services.listing import ApproximateCount
from models import AuditEntry, Role, SavedView, TaskStatus
from tests.admin.conftest import ORIGIN


def menu_views(page: str, identity: str = "task") -> list[tuple[str, str]]:
    """(name, count) of each view the menu lists under a list's entry."""
    block = re.search(rf'<ul class="nav saved-views"[^>]*data-saved-views="{identity}">(.*?)</ul>', page, re.S)
    if block is None:
        return []
    entries = re.findall(r'<span class="saved-view-name">(?:<i[^>]*></i>)?([^<]*)</span>\s*'
                         r'(?:<span class="saved-view-count">([^<]*)</span>)?', block.group(1))
    return [(name.strip(), count) for name, count in entries]


def headers(page: str) -> list[str]:
    return re.findall(r'<th class="col-[\w-]+" data-column="([\w-]+)">', page)


def save(client, query: str, name: str, **extra: str):  # noqa: ANN001, ANN201
    return client.post(f"/admin/task/views/new?{query}", data={"name": name, **extra}, headers=ORIGIN)


def view_rows(app) -> list[SavedView]:  # noqa: ANN001
    with app.state.session_factory() as db:
        return list(db.execute(select(SavedView).order_by(SavedView.id)).scalars())


def audit_of_views(app) -> list[tuple[str, str | None]]:  # noqa: ANN001
    with app.state.session_factory() as db:
        rows = db.execute(select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.actor_id)
                          .where(AuditEntry.entity == "saved_view").order_by(AuditEntry.id)).all()
    return [(r.action, r.entity_id, r.actor_id) for r in rows]


def test_save_a_filtered_list_then_open_it_from_the_menu_with_its_count(editor, add_tasks, app) -> None:  # noqa: ANN001
    add_tasks(3, status=TaskStatus.done)
    add_tasks(2, status=TaskStatus.pending)
    page = editor.get("/admin/task/list?status=done&sortBy=title&sort=asc&page=1").text
    assert 'href="http://testserver/admin/task/views/new?status=done&amp;sortBy=title&amp;sort=asc&amp;page=1"' in page
    form = editor.get("/admin/task/views/new?status=done&sortBy=title&sort=asc&page=1").text
    assert "status=done&amp;sortBy=title&amp;sort=asc" in form  # what it keeps (no page number)
    assert 'name="shared"' not in form  # only admins share
    saved = save(editor, "status=done&sortBy=title&sort=asc&page=1", "  Finished   work ")
    assert saved.status_code == 303
    [row] = view_rows(app)
    assert (row.name, row.query, row.shared, row.owner_id) == ("Finished work", "status=done&sortBy=title&sort=asc",
                                                               False, editor.user.id)
    assert saved.headers["location"] == f"http://testserver/admin/task/list?status=done&sortBy=title&sort=asc&view={row.id}"
    opened = editor.get(saved.headers["location"]).text
    assert "View “Finished work” saved." in opened
    assert 'id="saved-view-title">: Finished work' in opened
    assert opened.count('data-row-id=') == 3
    assert menu_views(opened) == [("Finished work", "3")]
    assert 'aria-current="page"' in opened
    # the menu shows it on every page, the home page too
    assert menu_views(editor.get("/admin/").text) == [("Finished work", "3")]
    assert audit_of_views(app) == [("create", str(row.id), editor.user.id)]


def test_a_view_keeps_the_columns_the_list_showed(editor, add_tasks, app) -> None:  # noqa: ANN001
    add_tasks(1)
    order = ["title", "id", *(c for c in saved_views.column_choice.choosable(app.state.resources.get("task"))
                               if c not in ("title", "id"))]
    editor.post("/admin/task/columns", data={"order": order, "show": ["title", "id"], "save": "1"}, headers=ORIGIN)
    save(editor, "", "Two columns")
    [row] = view_rows(app)
    assert row.columns == "title,id"
    editor.post("/admin/task/columns", data={"order": order, "show": [], "reset": "1"}, headers=ORIGIN)
    assert headers(editor.get("/admin/task/list").text) != ["title", "id"]
    assert headers(editor.get(f"/admin/task/list?view={row.id}").text) == ["title", "id"]


def test_rename_update_and_delete(editor, add_tasks, app) -> None:  # noqa: ANN001
    add_tasks(2, status=TaskStatus.done)
    add_tasks(1, status=TaskStatus.pending, priority=5)
    save(editor, "status=done", "Done")
    [row] = view_rows(app)
    manage = f"/admin/task/views/{row.id}"
    page = editor.get(manage).text
    assert 'value="Done"' in page and 'id="saved-view-delete"' in page
    renamed = editor.post(manage, data={"do": "rename", "name": "Finished"}, headers=ORIGIN)
    assert renamed.status_code == 303
    assert view_rows(app)[0].name == "Finished"
    # the list opened with the view, then filtered otherwise: Update view saves that state
    opened = editor.get(f"/admin/task/list?priority=5&view={row.id}").text
    assert f'action="http://testserver/admin/task/views/{row.id}?priority=5&amp;view={row.id}"' in opened
    updated = editor.post(f"{manage}?priority=5&view={row.id}", data={"do": "update"}, headers=ORIGIN)
    assert updated.status_code == 303
    assert view_rows(app)[0].query == "priority=5"
    assert menu_views(editor.get("/admin/").text) == [("Finished", "1")]
    deleted = editor.post(manage, data={"do": "delete"}, headers=ORIGIN)
    assert deleted.status_code == 303 and deleted.headers["location"] == "http://testserver/admin/task/list?priority=5"
    assert view_rows(app) == []
    assert "View “Finished” deleted." in editor.get(deleted.headers["location"]).text
    assert [a for a, _, _ in audit_of_views(app)] == ["create", "update", "update", "delete"]


def test_personal_views_are_their_owners_alone(editor, login_as, add_tasks, app) -> None:  # noqa: ANN001
    other = login_as(Role.editor, "other@example.com")
    add_tasks(1)
    save(editor, "status=pending", "Mine")
    [row] = view_rows(app)
    assert menu_views(other.get("/admin/").text) == []
    assert other.get(f"/admin/task/views/{row.id}").status_code == 404
    refused = other.post(f"/admin/task/views/{row.id}", data={"do": "delete"}, headers=ORIGIN)
    assert refused.status_code == 404
    # opening another user's view id just shows the list (no banner, no view columns)
    page = other.get(f"/admin/task/list?view={row.id}").text
    assert 'id="saved-view-title"' not in page
    assert len(view_rows(app)) == 1
    # the same name is free for another user
    assert save(other, "", "Mine").status_code == 303


def test_shared_views_are_seen_by_every_reader_and_managed_by_admins(admin, viewer, editor, add_tasks, app) -> None:  # noqa: ANN001
    add_tasks(4, status=TaskStatus.in_progress)
    assert 'name="shared"' in admin.get("/admin/task/views/new").text
    assert save(admin, "status=in_progress", "Team: in progress", shared="1").status_code == 303
    [row] = view_rows(app)
    assert row.shared
    for reader in (viewer, editor):
        assert menu_views(reader.get("/admin/").text) == [("Team: in progress", "4")]
        page = reader.get(f"/admin/task/list?status=in_progress&view={row.id}").text
        assert 'id="saved-view-title">: Team: in progress (shared)' in page
        assert 'id="saved-view-update"' not in page  # not theirs to change
        manage = reader.get(f"/admin/task/views/{row.id}").text
        assert "only admins change it" in manage and 'id="saved-view-delete"' not in manage
        refused = reader.post(f"/admin/task/views/{row.id}", data={"do": "rename", "name": "Mine now"}, headers=ORIGIN)
        assert refused.status_code == 403
        assert "may not manage shared views" in refused.text
    assert viewer.post(f"/admin/task/views/{row.id}", data={"do": "delete"}, headers=ORIGIN).status_code == 403
    assert view_rows(app)[0].name == "Team: in progress"
    # a viewer cannot share, but may keep personal views of what it can list
    refused = save(viewer, "", "Everyone's", shared="1")
    assert refused.status_code == 403 and "The viewer role may not share views." in refused.text
    assert save(viewer, "status=done", "My done").status_code == 303
    assert menu_views(viewer.get("/admin/").text) == [("My done", "0"), ("Team: in progress", "4")]
    # another admin manages the shared view
    assert admin.post(f"/admin/task/views/{row.id}", data={"do": "rename", "name": "In progress",
                                                           "shared": "1"}, headers=ORIGIN).status_code == 303
    assert view_rows(app)[0].name == "In progress"


def test_views_of_lists_a_role_may_not_read_are_refused(viewer) -> None:  # noqa: ANN001
    assert viewer.get("/admin/user/views/new").status_code == 403
    assert viewer.post("/admin/user/views/new", data={"name": "Staff"}, headers=ORIGIN).status_code == 403


def test_bad_input_is_a_message_and_nothing_is_saved(editor, admin, app) -> None:  # noqa: ANN001
    cases = [
        ("", "   ", "Give the view a name."),
        ("", "x" * 81, "A view&#39;s name is at most 80 characters (this one has 81)."),
        ("", "bad\x01name", "must not contain control characters"),
        ("priority=9", "Nine", "Invalid filter"),
        ("sortBy=password", "Sorted", "Invalid sort parameter"),
        ("pageSize=7", "Seven", "Invalid page size"),
    ]
    for query, name, message in cases:
        refused = save(editor, query, name)
        assert refused.status_code == 400, (query, name)
        assert message in refused.text, (query, name, refused.text[-2000:])
        assert 'id="saved-view-error"' in refused.text
    assert view_rows(app) == []
    assert save(editor, "status=done", "Twice").status_code == 303
    duplicate = save(editor, "status=pending", "Twice")
    assert duplicate.status_code == 400 and "You already have a view named &#39;Twice&#39; of this list." in duplicate.text
    assert save(admin, "", "Shared once", shared="1").status_code == 303
    assert save(admin, "", "Shared once").status_code == 400  # the admin's own name
    [_, shared] = view_rows(app)
    # renaming to a name taken, or to nothing, is refused too
    assert save(editor, "", "Other").status_code == 303
    mine = [v for v in view_rows(app) if v.name == "Other"][0]
    taken = editor.post(f"/admin/task/views/{mine.id}", data={"do": "rename", "name": "Twice"}, headers=ORIGIN)
    assert taken.status_code == 400 and "already have a view named" in taken.text
    blank = editor.post(f"/admin/task/views/{mine.id}", data={"do": "rename", "name": ""}, headers=ORIGIN)
    assert blank.status_code == 400 and "Give the view a name." in blank.text
    unknown = editor.post(f"/admin/task/views/{mine.id}", data={"do": "explode"}, headers=ORIGIN)
    assert unknown.status_code == 400
    assert editor.get("/admin/task/views/999999").status_code == 404
    assert editor.get(f"/admin/project/views/{mine.id}").status_code == 404  # not that list's view
    assert shared.name == "Shared once"


def test_a_cross_site_post_is_refused(editor, app) -> None:  # noqa: ANN001
    refused = editor.post("/admin/task/views/new", data={"name": "CSRF"}, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert view_rows(app) == []


def test_every_list_has_views(admin, app) -> None:  # noqa: ANN001
    for identity, query in (("project", "archived=true"), ("user", "role=viewer")):
        saved = admin.post(f"/admin/{identity}/views/new?{query}", data={"name": "Some"}, headers=ORIGIN)
        assert saved.status_code == 303, identity
    page = admin.get("/admin/").text
    assert menu_views(page, "project") == [("Some", "0")]
    assert menu_views(page, "user") == [("Some", "0")]


def test_counts_are_bounded_in_time_and_estimates_say_about(editor, add_tasks, app, monkeypatch) -> None:  # noqa: ANN001
    add_tasks(2)
    save(editor, "", "All")
    monkeypatch.setattr(app.state.settings, "view_count_budget_ms", 0)  # no time left: no count, the name still listed
    assert menu_views(editor.get("/admin/").text) == [("All", "")]
    assert saved_views.count_label(ApproximateCount(1_000_000)) == "about 1,000,000"
    assert saved_views.count_label(1234) == "1,234"
    assert saved_views.count_label(None) == ""


def test_a_slow_count_on_postgresql_gives_no_count(editor, add_tasks, app, db_kind, monkeypatch) -> None:  # noqa: ANN001
    """The statement timeout is what bounds a count: one that runs past it is left out."""
    if db_kind != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no statement timeout (and counts exactly)")
    add_tasks(1)
    save(editor, "search=Task", "Searched")
    from admin_app.services import listing

    def slow(self, db, spec):  # noqa: ANN001, ANN202
        from sqlalchemy import text
        return db.execute(text("SELECT count(*) FROM pg_sleep(1)")).scalar_one()

    monkeypatch.setattr(listing.Listing, "bounded_count", slow)
    monkeypatch.setattr(saved_views, "COUNT_TIMEOUT_MS", 50)
    assert menu_views(editor.get("/admin/").text) == [("Searched", "")]


def test_a_users_views_go_with_the_user(editor, app) -> None:  # noqa: ANN001
    from models import User

    save(editor, "", "Gone soon")
    with app.state.session_factory.begin() as db:
        db.delete(db.get(User, editor.user.id))
    assert view_rows(app) == []


def test_columns_chosen_from_an_open_view_are_the_views(editor, add_tasks, app) -> None:  # noqa: ANN001
    add_tasks(1)
    everything = saved_views.column_choice.choosable(app.state.resources.get("task"))
    save(editor, "status=pending", "Narrow")
    [row] = view_rows(app)
    chooser = editor.get(f"/admin/task/columns?status=pending&view={row.id}").text
    assert "This is the choice of the view “Narrow”" in chooser
    saved = editor.post(f"/admin/task/columns?status=pending&view={row.id}",
                        data={"order": everything, "show": ["id", "status"], "save": "1"}, headers=ORIGIN)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"http://testserver/admin/task/list?status=pending&view={row.id}"
    assert view_rows(app)[0].columns == "id,status"
    assert headers(editor.get(saved.headers["location"]).text) == ["id", "status"]
    assert headers(editor.get("/admin/task/list").text) != ["id", "status"]  # the user's own list unchanged
    editor.post(f"/admin/task/columns?view={row.id}", data={"order": everything, "show": [], "reset": "1"},
                headers=ORIGIN)
    assert view_rows(app)[0].columns == ""  # the view now shows each user's own columns


def test_a_shared_view_i_may_not_change_leaves_my_own_columns_to_the_chooser(admin, viewer, app, add_tasks) -> None:  # noqa: ANN001
    add_tasks(1)
    everything = saved_views.column_choice.choosable(app.state.resources.get("task"))
    save(admin, "", "Team", shared="1")
    [row] = view_rows(app)
    assert "keeps its own columns" in viewer.get(f"/admin/task/columns?view={row.id}").text
    viewer.post(f"/admin/task/columns?view={row.id}", data={"order": everything, "show": ["title"], "save": "1"},
                headers=ORIGIN)
    assert view_rows(app)[0].columns != "title"
    assert headers(viewer.get("/admin/task/list").text) == ["title"]


def test_the_menu_says_about_where_the_list_estimates(editor, add_tasks, app, db_kind, monkeypatch) -> None:  # noqa: ANN001
    """The menu counts as the list does: the planner's estimate for a big table reads "about N"."""
    if db_kind != "postgresql":
        pytest.skip("PostgreSQL only: SQLite counts exactly")
    from sqlalchemy import text

    from admin_app.services import listing

    add_tasks(30)
    with app.state.engine.connect() as connection:
        connection.execute(text("ANALYZE task"))
        connection.commit()
    save(editor, "", "Everything")
    monkeypatch.setattr(listing.Listing, "exact_count_below", 10)  # 30 rows count as a big table
    page = editor.get("/admin/").text
    assert menu_views(page) == [("Everything", "about 30")]
    assert "of about 30" in editor.get("/admin/task/list").text  # the list's footer says the same
