"""Facet counts: each filter choice shows how many rows it would leave (its own filter left out),
within a time budget; a user's page counts their tasks by status."""

from __future__ import annotations

import html
import re
from collections import Counter

import pytest
from sqlalchemy import func, literal_column, select, text

from admin_app.services import facets
from admin_app.services.facets import Budget, within
from admin_app.services.listing import Listing
from models import Project, Role
from tests.admin.conftest import listed_ids
from tests.helpers import recorded_statements

STATUSES = ["pending", "in_progress", "done", "cancelled"]
CHOICE = re.compile(r'<(a|div) [^>]*data-filter="(\w+)" data-value="([^"]*)"[^>]*>(.*?)</\1>', re.S)
FACET = re.compile(r'class="facet-count[^"]*">([^<]+)</span>')


def facet_counts(page: str) -> dict[str, dict[str, str]]:
    """The panel's counts: {filter: {value: "1,204" | "about 210,000"}}, choices without one left out."""
    out: dict[str, dict[str, str]] = {}
    for _tag, name, value, body in CHOICE.findall(page):
        found = FACET.search(body)
        if found:
            out.setdefault(name, {})[value] = html.unescape(found.group(1)).strip()
    return out


def numbers(counts: dict[str, str]) -> dict[str, int]:
    return {k: int(v.replace(",", "")) for k, v in counts.items()}


def seed(add_tasks) -> list[dict]:  # noqa: ANN001
    """60 tasks over every status and priority, a third of them titled "Alpha"."""
    rows = [{"title": f"{'Alpha' if i % 3 == 0 else 'Beta'} {i}", "status": STATUSES[i % 4],
             "priority": i % 5 + 1} for i in range(60)]
    add_tasks(60, title=lambda i: rows[i]["title"], status=lambda i: rows[i]["status"],
              priority=lambda i: rows[i]["priority"])
    return rows


def test_counts_leave_out_their_own_filter_and_apply_the_others(editor, add_tasks) -> None:  # noqa: ANN001
    rows = seed(add_tasks)
    page = editor.get("/admin/task/list?search=alpha&status=pending,done&priority=4&_facets=1")
    assert page.status_code == 200
    shown = facet_counts(page.text)
    alpha = [r for r in rows if r["title"].startswith("Alpha")]
    # Status: the search and priority 4 applied, the status selection not.
    by_status = Counter(r["status"] for r in alpha if r["priority"] == 4)
    assert numbers(shown["status"]) == {s: by_status.get(s, 0) for s in STATUSES}
    # Priority: the search and the chosen statuses applied, the priority selection not.
    by_priority = Counter(r["priority"] for r in alpha if r["status"] in ("pending", "done"))
    assert numbers(shown["priority"]) == {str(p): by_priority.get(p, 0) for p in range(1, 6)}
    # Each count is what the choice's link lists.
    done_alpha = editor.get("/admin/task/list?search=alpha&status=done&priority=4&pageSize=100").text
    assert len(listed_ids(done_alpha)) == by_status["done"]
    # The counts stay on as choices are toggled, and "Hide counts" turns them off.
    assert re.search(r'data-filter="status" data-value="cancelled"', page.text)
    links = re.findall(r'href="([^"]*)"[^>]*data-filter="status"', page.text)
    assert links and all("_facets=1" in html.unescape(link) for link in links)
    assert "Hide counts" in page.text


def test_counts_are_off_until_asked_for(editor, add_tasks, app) -> None:  # noqa: ANN001
    seed(add_tasks)
    editor.get("/admin/task/list")
    with recorded_statements(app.state.engine) as statements:
        page = editor.get("/admin/task/list?status=done").text
    assert facet_counts(page) == {}
    assert not any("GROUP BY" in s for s in statements)
    toggle = re.search(r'<a href="([^"]+)" id="facets-toggle"[^>]*>Show counts</a>', page)
    assert toggle and "_facets=1" in html.unescape(toggle.group(1)) and "status=done" in html.unescape(toggle.group(1))
    # One GROUP BY per choice filter (status, priority), nothing else added.
    with recorded_statements(app.state.engine) as statements:
        editor.get("/admin/task/list?status=done&_facets=1")
    assert len([s for s in statements if "GROUP BY" in s]) == 2


def test_user_list_counts_role_and_active(admin, make_user) -> None:  # noqa: ANN001
    make_user("ann@example.com", Role.editor)
    make_user("ben@example.com", Role.viewer, active=False)
    make_user("cat@example.com", Role.viewer)
    shown = facet_counts(admin.get("/admin/user/list?is_active=true&_facets=1").text)
    assert numbers(shown["role"]) == {"admin": 1, "editor": 1, "viewer": 1}  # active ones only
    assert numbers(shown["is_active"]) == {"true": 3, "false": 1}  # every role: is_active left out
    shown = facet_counts(admin.get("/admin/user/list?role=viewer&_facets=1").text)
    assert numbers(shown["is_active"]) == {"true": 1, "false": 1}
    assert numbers(shown["role"]) == {"admin": 1, "editor": 1, "viewer": 2}


def test_projects_count_archived(editor, app) -> None:  # noqa: ANN001
    with app.state.session_factory() as db:
        db.add_all([Project(code=c, name=n, archived=a)
                    for c, n, a in (("OPS", "Operations", False), ("FIN", "Finance", True), ("HR", "People", False))])
        db.commit()
    shown = facet_counts(editor.get("/admin/project/list?search=o&_facets=1").text)  # Operations, People
    assert numbers(shown["archived"]) == {"false": 2, "true": 0}
    shown = facet_counts(editor.get("/admin/project/list?archived=true&_facets=1").text)
    assert numbers(shown["archived"]) == {"false": 2, "true": 1}


def test_a_spent_budget_shows_estimates_or_nothing_never_an_error(
    editor, add_tasks, app, db_kind, monkeypatch,  # noqa: ANN001
) -> None:
    seed(add_tasks)
    if db_kind == "postgresql":
        with app.state.engine.begin() as conn:
            conn.execute(text("ANALYZE task"))
    monkeypatch.setattr(app.state.settings, "facet_time_budget_ms", 0)
    page = editor.get("/admin/task/list?status=done&priority=4&_facets=1")
    assert page.status_code == 200
    assert len(listed_ids(page.text)) == 3
    shown = facet_counts(page.text)
    if db_kind == "postgresql":  # the planner's estimate for each choice
        assert set(shown) == {"status", "priority"}
        assert all(v.startswith("about ") for counts in shown.values() for v in counts.values()), shown
    else:  # SQLite has no estimates: no numbers
        assert shown == {}
    # A search past the budget: the planner's guess for it was proven wrong, so no numbers.
    page = editor.get("/admin/task/list?search=alpha&priority=4&_facets=1")
    assert page.status_code == 200 and len(listed_ids(page.text)) > 0
    assert facet_counts(page.text) == {}


def test_a_big_facet_is_estimated_without_counting(editor, add_tasks, app, db_kind, monkeypatch) -> None:  # noqa: ANN001
    seed(add_tasks)
    if db_kind == "postgresql":
        with app.state.engine.begin() as conn:
            conn.execute(text("ANALYZE task"))
    monkeypatch.setattr(Listing, "exact_count_below", 10)  # "a million rows" for this test
    with recorded_statements(app.state.engine) as statements:
        shown = facet_counts(editor.get("/admin/task/list?_facets=1").text)
    if db_kind == "postgresql":
        assert not any("GROUP BY" in s for s in statements)
        status = {k: int(v.removeprefix("about ")) for k, v in shown["status"].items()}
        assert set(status) == set(STATUSES) and all(10 <= n <= 20 for n in status.values()), status
    else:  # SQLite counts (within the budget)
        assert numbers(shown["status"]) == dict.fromkeys(STATUSES, 15)


def test_a_search_is_counted_only_where_the_list_would_count_it(
    editor, add_tasks, app, db_kind, monkeypatch,  # noqa: ANN001
) -> None:
    rows = seed(add_tasks)
    if db_kind == "postgresql":
        with app.state.engine.begin() as conn:
            conn.execute(text("ANALYZE task"))
    monkeypatch.setattr(Listing, "exact_count_below", 10)  # a big table...
    alpha = Counter(r["status"] for r in rows if r["title"].startswith("Alpha"))
    # ...but a search the planner expects to match fewer than estimate_only_from rows: counted
    with recorded_statements(app.state.engine) as statements:
        shown = facet_counts(editor.get("/admin/task/list?search=alpha&_facets=1").text)
    assert numbers(shown["status"]) == {s: alpha[s] for s in STATUSES}
    assert len([s for s in statements if "GROUP BY" in s]) == 2
    monkeypatch.setattr(Listing, "estimate_only_from", 5)  # now one expected to match many
    with recorded_statements(app.state.engine) as statements:
        shown = facet_counts(editor.get("/admin/task/list?search=alpha&_facets=1").text)
    if db_kind == "postgresql":
        assert not any("GROUP BY" in s for s in statements)
        assert all(v.startswith("about ") for counts in shown.values() for v in counts.values()), shown
    else:
        assert numbers(shown["status"]) == {s: alpha[s] for s in STATUSES}


@pytest.mark.xdist_group("serial")  # an upper bound on the clock
def test_a_query_past_the_budget_is_stopped_and_the_transaction_goes_on(app, db_kind) -> None:  # noqa: ANN001
    slow = slow_statement(db_kind)
    with app.state.session_factory() as db:
        db.execute(select(literal_column("1"))).all()  # the page's transaction, begun
        budget = Budget(50)
        assert within(db, slow, budget) is None
        assert budget.left_ms() > -1500  # stopped near the budget, not after the statement
        assert within(db, select(literal_column("7")), Budget(1000)) == [(7,)]  # still usable
        if db_kind == "postgresql":  # the request's own statement timeout is back in force
            assert db.execute(text("SELECT current_setting('statement_timeout')")).scalar_one() != "50ms"


def slow_statement(db_kind: str):  # noqa: ANN201
    if db_kind == "postgresql":
        return select(func.pg_sleep(2))
    # a few million steps of a recursive query
    return select(text("count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                       "WHERE x < 50000000) SELECT x FROM c)"))


def test_a_facet_stopped_mid_query_leaves_the_page_whole(
    editor, add_tasks, app, db_kind, monkeypatch,  # noqa: ANN001
) -> None:
    """Every facet query of the page is made one that outlasts its budget: really cancelled
    (PostgreSQL) or interrupted (SQLite) inside the page's transaction; the rows still show."""
    seed(add_tasks)
    real = facets.within
    monkeypatch.setattr(facets, "within", lambda db, _statement, _budget: real(db, slow_statement(db_kind), Budget(30)))
    page = editor.get("/admin/task/list?status=done&_facets=1")
    assert page.status_code == 200
    assert len(listed_ids(page.text)) == 15
    shown = facet_counts(page.text)
    if db_kind == "postgresql":
        assert set(shown) == {"status", "priority"}
        assert all(v.startswith("about ") for counts in shown.values() for v in counts.values()), shown
    else:
        assert shown == {}


def test_a_user_page_counts_their_tasks_by_status(admin, make_user, add_tasks) -> None:  # noqa: ANN001
    olga = make_user("olga@example.com", Role.editor)
    other = make_user("piet@example.com", Role.editor)
    statuses = ["pending"] * 3 + ["in_progress"] + ["done"] * 12
    add_tasks(16, assignee_id=olga.id, status=lambda i: statuses[i])
    add_tasks(5, assignee_id=other.id, status="pending")
    page = html.unescape(admin.get(f"/admin/user/details/{olga.id}").text)
    assert "Tasks by status (assignee)" in page
    found = dict(re.findall(r'href="[^"]*/admin/task/list\?assignee=\d+&status=(\w+)"[^>]*>\s*[^<]+'
                            r'<span class="badge[^"]*">([^<]+)</span>', page))
    assert found == {"pending": "3", "in_progress": "1", "done": "12", "cancelled": "0"}
    link = f"/admin/task/list?assignee={olga.id}&status=pending"
    assert link in page
    assert len(listed_ids(admin.get(link).text)) == 3


def test_a_user_pages_task_counts_are_titled_in_german(admin, make_user, add_tasks) -> None:  # noqa: ANN001
    olga = make_user("olga@example.com", Role.editor)
    add_tasks(2, assignee_id=olga.id, status="pending")
    assert admin.post("/admin/account", data={"do": "language", "language": "de"},
                      headers={"Origin": "http://testserver"}).status_code == 303
    page = html.unescape(admin.get(f"/admin/user/details/{olga.id}").text)
    assert "Aufgaben nach Status (Zuständig)" in page
