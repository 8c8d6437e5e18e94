"""The home page counts what needs attention, each number linking to the list it counts."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import update

from models import Role, Task
from models.common import utcnow
from tests.admin.conftest import listed_ids, shown_count, today


def cards(page: str) -> dict[str, tuple[str, int]]:
    """label -> (list URL, count) for each card of the dashboard."""
    found = re.findall(
        r'<a class="card card-link" href="([^"]+)"[^>]*>\s*<div class="card-body">\s*'
        r'<div class="subheader">([^<]+)</div>\s*<div class="h1 mb-0 dashboard-count">([\d,]+)</div>',
        page,
    )
    return {label: (html.unescape(url), int(count.replace(",", ""))) for url, label, count in found}


def test_dashboard_counts_link_to_what_they_count(viewer, add_tasks, app) -> None:  # noqa: ANN001
    day = today()
    monday = day - timedelta(days=day.weekday())
    add_tasks(3, status="pending", due_date=day - timedelta(days=2))  # overdue
    add_tasks(2, status="in_progress", due_date=day - timedelta(days=1))  # overdue
    add_tasks(1, status="done", due_date=day - timedelta(days=3))  # done: not overdue
    add_tasks(4, status="pending", due_date=monday + timedelta(days=6))  # due this week (Sunday)
    add_tasks(1, status="cancelled", due_date=monday)  # cancelled: not counted as due
    add_tasks(2, status="pending", due_date=monday + timedelta(days=7))  # next week
    add_tasks(1, status="pending")  # no due date

    page = viewer.get("/admin/")
    assert page.status_code == 200
    found = cards(page.text)
    # This week's overdue tasks are also due this week (Monday to Sunday).
    this_week = 4 + (3 if day - timedelta(days=2) >= monday else 0) + (2 if day - timedelta(days=1) >= monday else 0)
    assert {k: v[1] for k, v in found.items()} == {
        "Pending": 10, "In progress": 2, "Done": 1, "Cancelled": 1,
        "Overdue": 5, "Due this week": this_week,
    }
    for label, (url, count) in found.items():
        listed = viewer.get(url + "&pageSize=100")
        assert listed.status_code == 200, url
        assert shown_count(listed.text) == str(count), label
        assert len(listed_ids(listed.text)) == count, label


def test_due_this_week_is_monday_to_sunday_and_open_only(viewer, add_tasks) -> None:  # noqa: ANN001
    day = today()
    monday = day - timedelta(days=day.weekday())
    add_tasks(1, status="pending", due_date=monday)
    add_tasks(1, status="in_progress", due_date=monday + timedelta(days=6))
    add_tasks(1, status="done", due_date=monday + timedelta(days=3))
    add_tasks(1, status="pending", due_date=monday - timedelta(days=1))
    add_tasks(1, status="pending", due_date=monday + timedelta(days=7))
    assert cards(viewer.get("/admin/").text)["Due this week"][1] == 2


def test_latest_changes(viewer, add_tasks, app, make_user) -> None:  # noqa: ANN001
    bob = make_user("bob@example.com", Role.editor)
    ids = add_tasks(12, title=lambda i: f"task <{i}>")
    with app.state.engine.begin() as conn:
        conn.execute(update(Task).where(Task.id == ids[3]).values(
            title="just edited", assignee_id=bob.id, updated_at=utcnow() + timedelta(minutes=5)))
    page = viewer.get("/admin/").text
    latest = re.search(r'<table[^>]*id="latest".*?</table>', page, re.S).group(0)
    rows = re.findall(r"<tr>\s*<td>(\d+)</td>", latest)
    assert len(rows) == 10 and rows[0] == str(ids[3])
    assert "just edited" in latest and "bob@example.com" in latest
    assert "&lt;11&gt;" in latest and "<11>" not in latest  # escaped
    link = html.unescape(re.search(r'href="([^"]+)" id="latest-all"', page).group(1))
    assert listed_ids(viewer.get(link).text)[0] == ids[3]


def test_empty_dashboard(viewer) -> None:  # noqa: ANN001
    page = viewer.get("/admin/").text
    assert all(count == 0 for _url, count in cards(page).values())
    assert "No tasks yet." in page
