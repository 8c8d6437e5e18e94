"""The task list: columns, search, filters, sort and page size, all in the URL; bounded queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from admin_app.services.listing import Listing
from models import Role, Task, TaskStatus
from tests.admin.conftest import listed_ids, shown_count, today
from tests.helpers import recorded_statements


def test_columns_and_escaped_titles(editor, add_tasks, make_user) -> None:  # noqa: ANN001
    bob = make_user("bob@example.com", Role.editor)
    add_tasks(1, title="<script>alert(1)</script>", assignee_id=bob.id, due_date=today())
    page = editor.get("/admin/task/list").text
    for header in ("ID", "Title", "Status", "Priority", "Assignee", "Due date", "Updated at"):
        assert re.search(rf">\s*{header}\s*</a>", page), header
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "bob@example.com" in page and "Pending" in page


def test_search_covers_title_and_description(editor, add_tasks) -> None:  # noqa: ANN001
    ids = add_tasks(3, title=lambda i: ["Invoice ACME", "Call Bob", "Other"][i],
                    description=lambda i: [None, None, "about the invoice"][i])
    page = editor.get("/admin/task/list?search=invoice").text
    assert sorted(listed_ids(page)) == [ids[0], ids[2]]
    assert shown_count(page) == "2"
    # LIKE wildcards are searched for literally.
    assert listed_ids(editor.get("/admin/task/list?search=%25").text) == []


def test_filters_change_the_rows(editor, add_tasks, make_user) -> None:  # noqa: ANN001
    bob = make_user("bob@example.com", Role.editor)
    day = today()
    ids = add_tasks(
        8,
        status=lambda i: list(TaskStatus)[i % 4].value,
        priority=lambda i: i % 5 + 1,
        assignee_id=lambda i: bob.id if i < 3 else None,
        due_date=lambda i: day + timedelta(days=i),
    )

    def shown(query: str) -> list[int]:
        response = editor.get(f"/admin/task/list?{query}")
        assert response.status_code == 200, response.text
        return sorted(listed_ids(response.text))

    assert shown("status=done") == [ids[2], ids[6]]
    assert shown("status=pending,in_progress") == [ids[0], ids[1], ids[4], ids[5]]
    assert shown("status=__all") == ids
    assert shown("priority=2") == [ids[1], ids[6]]
    assert shown(f"assignee={bob.id}") == ids[:3]
    after, before = (day + timedelta(days=2)).isoformat(), (day + timedelta(days=5)).isoformat()
    assert shown(f"due_after={after}&due_before={before}") == [ids[3], ids[4]]
    assert shown(f"status=done&assignee={bob.id}") == [ids[2]]
    tomorrow = (day + timedelta(days=1)).isoformat()
    assert shown(f"created_before={tomorrow}") == ids
    assert shown(f"created_after={tomorrow}") == []


def test_the_chosen_assignee_is_named_in_the_filter(editor, make_user, add_tasks) -> None:  # noqa: ANN001
    bob = make_user("bob@example.com", Role.editor)
    page = editor.get(f"/admin/task/list?assignee={bob.id}").text
    assert 'id="assignee-filter-chosen">bob@example.com<' in page


def test_assignee_search_for_the_filter(viewer, make_user) -> None:  # noqa: ANN001
    for n in range(30):
        make_user(f"user{n:02d}@example.com", Role.viewer, full_name=f"Person {n}")
    results = viewer.get("/admin/task/lookup/assignee?term=user1").json()["results"]
    assert [r["text"] for r in results] == [f"user1{n}@example.com" for n in range(10)]
    assert len(viewer.get("/admin/task/lookup/assignee?term=person").json()["results"]) == 20  # capped


@pytest.mark.parametrize("query", [
    "priority=9", "status=bogus", "due_after=yesterday", "assignee=abc", "sortBy=description",
    "sort=sideways&sortBy=title", "pageSize=abc",
])
def test_invalid_parameters_are_a_400_with_a_message(editor, query) -> None:  # noqa: ANN001
    response = editor.get(f"/admin/task/list?{query}")
    assert response.status_code == 400
    assert "Traceback" not in response.text


def test_sorting_on_every_listed_column(editor, add_tasks, make_user) -> None:  # noqa: ANN001
    anna = make_user("anna@example.com", Role.editor)
    zed = make_user("zed@example.com", Role.editor)
    ids = add_tasks(
        3, title=lambda i: ["b", "c", "a"][i], priority=lambda i: [2, 3, 1][i],
        assignee_id=lambda i: [zed.id, anna.id, None][i],
        due_date=lambda i: today() + timedelta(days=[5, 1, 3][i]),
    )

    def order(query: str) -> list[int]:
        return listed_ids(editor.get(f"/admin/task/list?{query}").text)

    assert order("") == ids[::-1]  # newest first by default
    assert order("sortBy=title&sort=asc") == [ids[2], ids[0], ids[1]]
    assert order("sortBy=title&sort=desc") == [ids[1], ids[0], ids[2]]
    assert order("sortBy=priority&sort=asc") == [ids[2], ids[0], ids[1]]
    assert order("sortBy=due_date&sort=asc") == [ids[1], ids[2], ids[0]]
    assert order("sortBy=assignee&sort=desc") == [ids[2], ids[0], ids[1]]  # none, zed, anna
    assert order("sortBy=assignee&sort=asc") == [ids[1], ids[0], ids[2]]
    for column in ("id", "status", "updated_at"):
        assert sorted(order(f"sortBy={column}&sort=asc")) == sorted(ids)


def test_page_size_and_page_live_in_the_url(editor, add_tasks) -> None:  # noqa: ANN001
    ids = add_tasks(120)
    page = editor.get("/admin/task/list?pageSize=50&page=2&sortBy=id&sort=asc").text
    assert listed_ids(page) == ids[50:100]
    assert shown_count(page) == "120"
    assert len(listed_ids(editor.get("/admin/task/list?pageSize=100").text)) == 100
    assert len(listed_ids(editor.get("/admin/task/list").text)) == 25
    # The sort links and page links keep the filters.
    page = editor.get("/admin/task/list?status=pending&search=Task").text
    assert re.search(r'href="[^"]*status=pending[^"]*sortBy=title', page.replace("&amp;", "&"))


def test_list_queries_do_not_grow_with_page_size(editor, add_tasks, make_user, app) -> None:  # noqa: ANN001
    users = [make_user(f"u{n}@example.com", Role.editor) for n in range(5)]
    add_tasks(600, assignee_id=lambda i: users[i % 5].id if i % 3 else None)
    editor.get("/admin/task/list")  # warm up (session touch, caches)
    for query, matching in (("", 600), (f"&assignee={users[1].id}&status=pending", 80)):
        counts = {}
        for size in (25, 500):
            with recorded_statements(app.state.engine) as statements:
                page = editor.get(f"/admin/task/list?pageSize={size}{query}")
            assert page.status_code == 200 and len(listed_ids(page.text)) == min(size, matching)
            assert page.text.count("@example.com") >= min(size, matching) // 2  # assignees shown
            # The session's last use is written at most once a second: not the list's queries.
            counts[size] = len([s for s in statements if "auth_session" not in s])
        # (a first page that is not full counts itself: one statement fewer, never more)
        assert counts[500] <= counts[25], (query, counts)
        # the list's own queries and, since saved views, one for the menu's views
        assert counts[25] <= 5, (query, counts)


def test_a_first_page_that_is_not_full_is_its_own_count(editor, add_tasks, app) -> None:  # noqa: ANN001
    # A search for one reference: the page's own rows tell how many there are, exactly; no
    # count, no planner estimate, no setting changed for a count (bench/run.py's one-reference
    # search paid four statements for them).
    ids = add_tasks(60, title=lambda i: "Reference REF-4711" if i == 7 else f"Task {i}")
    editor.get("/admin/task/list")  # warm up (session touch)
    with recorded_statements(app.state.engine) as statements:
        page = editor.get("/admin/task/list?search=REF-4711").text
    assert listed_ids(page) == [ids[7]] and shown_count(page) == "1"
    assert not [s for s in statements if "count(" in s.lower() or s.startswith("EXPLAIN") or "set_config" in s], statements
    with recorded_statements(app.state.engine) as statements:
        empty = editor.get("/admin/task/list?search=no-such-thing").text
    assert listed_ids(empty) == [] and not [s for s in statements if "count(" in s.lower()], statements
    # A full first page, and any later page (counted first: a page far past the end never makes
    # the database skip every row), are counted as before; past the end leads to the last page.
    for url, shown in (("/admin/task/list?search=Task", "59"), ("/admin/task/list?page=3&sortBy=id&sort=asc", "60")):
        with recorded_statements(app.state.engine) as statements:
            page = editor.get(url).text
        assert shown_count(page) == shown and any("count(" in s.lower() for s in statements), (url, statements)
    past = editor.get("/admin/task/list?page=99&sortBy=id&sort=asc")
    assert past.status_code == 302 and past.headers["location"].endswith("page=3")
    assert listed_ids(editor.get(past.headers["location"]).text) == ids[50:]


def test_unfiltered_count_is_an_estimate_on_a_big_postgresql_table(
    editor, add_tasks, app, db_kind, monkeypatch,  # noqa: ANN001
) -> None:
    add_tasks(300, status=lambda i: "done" if i < 100 else "pending")
    monkeypatch.setattr(Listing, "exact_count_below", 200)  # "big" for this test
    if db_kind == "postgresql":
        with app.state.engine.begin() as conn:
            conn.execute(text("ANALYZE task"))
    with recorded_statements(app.state.engine) as statements:
        page = editor.get("/admin/task/list").text
    if db_kind == "postgresql":
        assert shown_count(page) == "about 300"
        assert not any("count(" in s.lower() for s in statements), statements
    else:
        assert shown_count(page) == "300"
    # Filtered: exact while cheap (up to exact_count_limit rows)...
    assert shown_count(editor.get("/admin/task/list?status=done").text) == "100"
    # ...then the planner's estimate for the filtered query (PostgreSQL), still "about N"
    monkeypatch.setattr(Listing, "exact_count_limit", 50)
    with recorded_statements(app.state.engine) as statements:
        pending = editor.get("/admin/task/list?status=pending").text
    if db_kind == "postgresql":
        assert shown_count(pending).startswith("about ")
        assert 150 <= int(shown_count(pending).removeprefix("about ").replace(",", "")) <= 400
        assert any(s.startswith("EXPLAIN") for s in statements)
        assert not any("count(*)" in s.lower() and "limit" not in s.lower() for s in statements)
    else:
        assert shown_count(pending) == "200"
    searched = editor.get("/admin/task/list?search=a%25_b&status=pending")  # LIKE wildcards, literal
    assert searched.status_code == 200 and shown_count(searched.text) == "0"
    titled = editor.get("/admin/task/list?search=Task&status=pending")  # 200 match: estimated
    count = shown_count(titled.text)
    assert titled.status_code == 200
    assert count == "200" if db_kind == "sqlite" else count.startswith("about ")


def test_a_search_the_planner_expects_to_match_many_rows_is_not_counted(
    editor, add_tasks, app, db_kind, monkeypatch,  # noqa: ANN001
) -> None:
    add_tasks(300, title=lambda i: f"Invoice {i}" if i < 100 else f"Call {i}")
    monkeypatch.setattr(Listing, "exact_count_below", 200)
    if db_kind == "postgresql":
        with app.state.engine.begin() as conn:
            conn.execute(text("ANALYZE task"))
    # Expected to match fewer rows than estimate_only_from: counted exactly (bounded).
    with recorded_statements(app.state.engine) as statements:
        assert shown_count(editor.get("/admin/task/list?search=invoice").text) == "100"
    if db_kind == "postgresql":
        assert any("count(" in s.lower() for s in statements), statements
    # Expected to match at least estimate_only_from rows: the estimate, no count at all.
    monkeypatch.setattr(Listing, "estimate_only_from", 5)
    with recorded_statements(app.state.engine) as statements:
        shown = shown_count(editor.get("/admin/task/list?search=invoice").text)
    if db_kind == "postgresql":
        assert shown.startswith("about ")
        assert not any("count(" in s.lower() for s in statements), statements
    else:  # SQLite: the FTS5 table's candidates, counted in the index alone, no row read
        assert shown == "about 100"
        counts = [s for s in statements if "count(" in s.lower()]
        assert counts and all("task_search MATCH" in s and "FROM task " not in s for s in counts), statements
    # Other filters are index ranges: counted exactly however many rows the planner expects.
    with recorded_statements(app.state.engine) as statements:
        assert shown_count(editor.get("/admin/task/list?status=pending").text) == "300"
    if db_kind == "postgresql":
        assert any("count(" in s.lower() for s in statements), statements


def test_completed_at_is_not_editable_and_rows_link_to_details(editor, add_tasks, app) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1)
    with app.state.engine.begin() as conn:
        conn.execute(update(Task).where(Task.id == task_id).values(title="Linked"))
    page = editor.get("/admin/task/list").text
    assert f"/admin/task/details/{task_id}" in page
    form = editor.get(f"/admin/task/edit/{task_id}").text
    for readonly in ("completed_at", "created_at", "updated_at"):
        assert readonly not in form
    # the version rides along hidden (lost-update check), never as an editable field
    assert re.search(r'<input[^>]*type="hidden"[^>]*name="version"|<input[^>]*name="version"[^>]*type="hidden"', form)
