"""Offset pages past the first find the page's ids first, then load their rows
(services/listing.Listing.offset_page): page after page, every sort gives the same rows in the
same order as one big page, ties broken by id, with filters and with relation sorts."""

from __future__ import annotations

from datetime import date

import pytest

from admin_app.resources.tasks import TASKS
from tests.admin.conftest import listed_ids

SORTS = TASKS.sortable


@pytest.fixture
def tasks(add_tasks, make_user):  # noqa: ANN001, ANN201
    users = [make_user(f"sorter{i}@example.com").id for i in range(3)]
    return add_tasks(
        23, title=lambda i: f"Task {i % 4}", status=lambda i: ["pending", "done", "in_progress"][i % 3],
        priority=lambda i: 1 + i % 5, assignee_id=lambda i: users[i % 4] if i % 4 < 3 else None,
        due_date=lambda i: None if i % 2 else date(2027, 1, 1 + i % 7),
    )


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_pages_join_up_to_the_whole_list(editor, tasks, sort, direction) -> None:  # noqa: ANN001
    for filters in ("", "&status=pending,done"):
        base = f"/admin/task/list?sortBy={sort}&sort={direction}{filters}"
        whole = listed_ids(editor.get(f"{base}&pageSize=100").text)
        assert whole, base
        paged = []
        for page in (1, 2, 3, 4):
            response = editor.get(f"{base}&pageSize=5&page={page}")
            assert response.status_code == 200
            paged += listed_ids(response.text)
        assert paged == whole[:20], base
        assert len(set(paged)) == len(paged)


def test_a_page_past_the_first_loads_its_relations(editor, tasks) -> None:  # noqa: ANN001
    page = editor.get("/admin/task/list?sortBy=id&sort=asc&pageSize=5&page=2").text
    assert listed_ids(page) == tasks[5:10]
    assert "sorter1@example.com" in page  # task 6's assignee (index 5 -> users[1]), shown from the join
