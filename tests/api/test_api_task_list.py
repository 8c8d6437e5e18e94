"""GET /api/tasks: every filter, every sort, keyset pages, counts and the cost per page."""

from __future__ import annotations

import base64
import json
import random
from datetime import date, datetime, timedelta

import pytest

from admin_app.resources.tasks import TASKS
from admin_app.services.listing import listing_of
from tests.api.conftest import BASE_TIME
from tests.helpers import recorded_statements


def ids(response) -> list[int]:  # noqa: ANN001
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def listed(client, headers, **params) -> list[int]:  # noqa: ANN001
    return ids(client.get("/api/tasks", params=params, headers=headers))


def test_an_empty_list(client, viewer) -> None:  # noqa: ANN001
    response = client.get("/api/tasks", headers=viewer)
    assert response.json() == {"items": [], "next_cursor": None}


# --- filters ------------------------------------------------------------------------------


def test_status_filter_is_repeatable(client, viewer, insert_tasks) -> None:  # noqa: ANN001
    a, b, c, d = insert_tasks(
        [{"status": "pending"}, {"status": "done"}, {"status": "in_progress"}, {"status": "cancelled"}]
    )
    assert listed(client, viewer, status="done") == [b]
    assert listed(client, viewer, status=["pending", "cancelled"]) == [a, d]
    assert client.get("/api/tasks?status=archived", headers=viewer).status_code == 422


def test_priority_filter(client, viewer, insert_tasks) -> None:  # noqa: ANN001
    a, b, c = insert_tasks([{"priority": 1}, {"priority": 3}, {"priority": 3}])
    assert listed(client, viewer, priority=3) == [b, c]
    for bad in ("0", "6", "x"):
        assert client.get(f"/api/tasks?priority={bad}", headers=viewer).status_code == 422


def test_assignee_filter(client, viewer, insert_tasks, make_user) -> None:  # noqa: ANN001
    sam, kim = make_user("viewer"), make_user("viewer")
    a, b, c = insert_tasks([{"assignee_id": sam.id}, {"assignee_id": kim.id}, {}])
    assert listed(client, viewer, assignee_id=sam.id) == [a]
    assert listed(client, viewer, assignee_id=99999) == []
    for bad in ("0", str(2**64), "me"):
        assert client.get(f"/api/tasks?assignee_id={bad}", headers=viewer).status_code == 422


def test_q_searches_title_and_description_case_insensitively(client, viewer, insert_tasks) -> None:  # noqa: ANN001
    a, b, c, d = insert_tasks([
        {"title": "Pay the INVOICE"},
        {"title": "x", "description": "the invoice for March"},
        {"title": "unrelated"},
        {"title": "100% done_now"},
    ])
    assert listed(client, viewer, q="invoice") == [a, b]
    assert listed(client, viewer, q="  Invoice ") == [a, b]
    # LIKE wildcards are literal characters
    assert listed(client, viewer, q="%") == [d]
    assert listed(client, viewer, q="e_n") == [d]
    assert listed(client, viewer, q="0%") == [d]


def test_q_with_a_nul_byte_is_422(client, viewer) -> None:  # noqa: ANN001
    response = client.get("/api/tasks", params={"q": "a\x00b"}, headers=viewer)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "q"]


def test_due_date_filters(client, viewer, insert_tasks) -> None:  # noqa: ANN001
    a, b, c, _none = insert_tasks(
        [{"due_date": date(2026, 3, 1)}, {"due_date": date(2026, 3, 10)}, {"due_date": date(2026, 3, 20)}, {}]
    )
    assert listed(client, viewer, due_before="2026-03-10") == [a]
    assert listed(client, viewer, due_after="2026-03-10") == [c]
    assert listed(client, viewer, due_after="2026-03-01", due_before="2026-03-20") == [b]
    assert client.get("/api/tasks?due_before=soon", headers=viewer).status_code == 422


def test_created_filters(client, viewer, insert_tasks) -> None:  # noqa: ANN001
    t = BASE_TIME
    a, b, c = insert_tasks(
        [{"created_at": t}, {"created_at": t + timedelta(hours=1)}, {"created_at": t + timedelta(hours=2)}]
    )
    middle = (t + timedelta(hours=1)).isoformat()
    assert listed(client, viewer, created_before=middle) == [a]
    assert listed(client, viewer, created_after=middle) == [c]
    # another zone, the same instant
    assert listed(client, viewer, created_after="2026-01-01T01:30:00+01:00") == [b, c]
    assert client.get("/api/tasks?created_after=yesterday", headers=viewer).status_code == 422


def test_filters_combine(client, viewer, insert_tasks) -> None:  # noqa: ANN001
    a, b, c = insert_tasks(
        [{"status": "done", "priority": 2, "title": "report"}, {"status": "done", "priority": 3, "title": "report"},
         {"status": "pending", "priority": 2, "title": "report"}]
    )
    assert listed(client, viewer, status="done", priority=2, q="rep") == [a]


def test_unknown_query_parameters_are_refused(client, viewer) -> None:  # noqa: ANN001
    response = client.get("/api/tasks?stauts=done", headers=viewer)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "stauts"]


# --- sorting ------------------------------------------------------------------------------

SORT_ROWS = [
    {"title": "beta", "status": "pending", "priority": 3, "due_date": date(2026, 5, 1)},
    {"title": "alpha", "status": "done", "priority": 1, "due_date": None},
    {"title": "delta", "status": "cancelled", "priority": 3, "due_date": date(2026, 4, 1)},
    {"title": "gamma", "status": "in_progress", "priority": 5, "due_date": None},
    {"title": "alpha", "status": "pending", "priority": 2, "due_date": date(2026, 4, 1)},
]


def expected_order(rows: list[dict], ids_: list[int], field: str, descending: bool) -> list[int]:
    """The documented order: by the field, NULL above every value, ties by id in the same direction."""
    keyed = [(row.get(field), id_) for row, id_ in zip(rows, ids_, strict=True)]
    present = sorted([k for k in keyed if k[0] is not None], reverse=descending)
    missing = sorted([k for k in keyed if k[0] is None], reverse=descending)
    ordered = missing + present if descending else present + missing
    return [id_ for _, id_ in ordered]


@pytest.mark.parametrize("sort", sorted(n for n, key in listing_of(TASKS).sorts.items() if key.join is None))
@pytest.mark.parametrize("descending", [False, True])
def test_each_sort_in_both_directions(client, viewer, insert_tasks, fetch_all, sort, descending) -> None:  # noqa: ANN001
    created = [BASE_TIME + timedelta(minutes=m) for m in (5, 1, 5, 3, 2)]
    rows = [dict(row, created_at=c, updated_at=c + timedelta(seconds=i)) for i, (row, c) in enumerate(zip(SORT_ROWS, created, strict=True))]
    task_ids = insert_tasks(rows)
    param = f"-{sort}" if descending else sort
    expected = expected_order(rows, task_ids, sort, descending)
    assert listed(client, viewer, sort=param) == expected
    # and the same order one row per page, across ties and NULLs
    assert [item["id"] for item in fetch_all("/api/tasks", viewer, sort=param, limit=1)] == expected


def test_the_default_sort_is_id(client, viewer, insert_tasks) -> None:  # noqa: ANN001
    task_ids = insert_tasks([{}, {}, {}])
    assert listed(client, viewer) == task_ids


@pytest.mark.parametrize("sort", ["description", "-", "--id", "hashed_password", "id;drop", ""])
def test_sort_outside_the_allowed_list_is_422(client, viewer, sort) -> None:  # noqa: ANN001
    response = client.get("/api/tasks", params={"sort": sort}, headers=viewer)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "sort"]


# --- limit, count, cursor -----------------------------------------------------------------


def test_limit_defaults_to_50_and_allows_1_to_200(client, viewer, insert_tasks) -> None:  # noqa: ANN001
    insert_tasks([{} for _ in range(205)])
    assert len(listed(client, viewer)) == 50
    assert len(listed(client, viewer, limit=1)) == 1
    assert len(listed(client, viewer, limit=200)) == 200
    for bad in ("0", "201", "-1", "1000", "x"):
        response = client.get(f"/api/tasks?limit={bad}", headers=viewer)
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_total_only_on_request(client, viewer, insert_tasks) -> None:  # noqa: ANN001
    insert_tasks([{"priority": 2}, {"priority": 2}, {"priority": 3}])
    assert "total" not in client.get("/api/tasks", headers=viewer).json()
    body = client.get("/api/tasks?count=true&priority=2&limit=1", headers=viewer).json()
    assert body["total"] == 2 and len(body["items"]) == 1


def test_next_cursor_is_null_on_the_last_page(client, viewer, insert_tasks) -> None:  # noqa: ANN001
    insert_tasks([{}, {}])
    assert client.get("/api/tasks?limit=2", headers=viewer).json()["next_cursor"] is None
    assert client.get("/api/tasks?limit=1", headers=viewer).json()["next_cursor"] is not None


def cursor_of(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        ("id", "garbage!"),
        ("id", "eyJ"),
        ("id", base64.urlsafe_b64encode(b"\xff\xfe").decode()),
        ("id", cursor_of([1, 2])),
        ("id", cursor_of({"s": "id", "v": 1})),
        ("id", cursor_of({"s": "id", "v": 1, "i": "1"})),
        ("id", cursor_of({"s": "id", "v": 1, "i": True})),
        ("id", cursor_of({"s": "id", "v": 1, "i": 2**80})),
        ("priority", cursor_of({"s": "priority", "v": "high", "i": 1})),
        ("priority", cursor_of({"s": "priority", "v": 2**80, "i": 1})),
        ("title", cursor_of({"s": "title", "v": "a\x00b", "i": 1})),
        ("due_date", cursor_of({"s": "due_date", "v": "not a date", "i": 1})),
        ("created_at", cursor_of({"s": "created_at", "v": None, "i": 1})),
        ("id", "a" * 1001),
        ("id", "\u00e9t\u00e9"),
    ],
)
def test_a_malformed_cursor_is_422(client, viewer, insert_tasks, sort, cursor) -> None:  # noqa: ANN001
    insert_tasks([{"title": "t"}])
    response = client.get("/api/tasks", params={"cursor": cursor, "sort": sort}, headers=viewer)
    assert response.status_code == 422, response.text
    assert "cursor" in json.dumps(response.json()["detail"])


def test_a_cursor_is_tied_to_its_sort(client, viewer, insert_tasks) -> None:  # noqa: ANN001
    insert_tasks([{"priority": p} for p in (1, 2, 3)])
    cursor = client.get("/api/tasks?sort=priority&limit=1", headers=viewer).json()["next_cursor"]
    for other in ("-priority", "id", "title"):
        response = client.get("/api/tasks", params={"sort": other, "cursor": cursor}, headers=viewer)
        assert response.status_code == 422
        assert "sort=priority" in response.json()["detail"]
    # the cursor is opaque text, but it does work with its own sort
    assert client.get("/api/tasks", params={"sort": "priority", "cursor": cursor}, headers=viewer).status_code == 200


def test_filters_still_apply_on_later_pages(client, viewer, insert_tasks) -> None:  # noqa: ANN001
    task_ids = insert_tasks([{"priority": 1 + i % 2} for i in range(10)])
    first = client.get("/api/tasks?priority=2&limit=2", headers=viewer).json()
    second = client.get("/api/tasks", params={"priority": 2, "limit": 10, "cursor": first["next_cursor"]}, headers=viewer)
    assert [t["id"] for t in first["items"]] + ids(second) == task_ids[1::2]


def test_rows_changing_between_pages_neither_repeat_nor_vanish(client, viewer, editor, insert_tasks) -> None:  # noqa: ANN001
    task_ids = insert_tasks([{} for _ in range(6)])
    first = client.get("/api/tasks?limit=3", headers=viewer).json()
    assert client.delete(f"/api/tasks/{task_ids[0]}", headers=editor).status_code == 204
    rest = client.get("/api/tasks", params={"limit": 10, "cursor": first["next_cursor"]}, headers=viewer)
    assert [t["id"] for t in first["items"]] + ids(rest) == task_ids


# --- 1,000 rows, every page, several sorts ---------------------------------------------------


@pytest.fixture
def thousand(insert_tasks) -> list[dict]:  # noqa: ANN001
    """1,000 rows with many ties (5 priorities, 4 statuses, shared timestamps and dates, NULLs)."""
    rng = random.Random(1000)
    statuses = ["pending", "in_progress", "done", "cancelled"]
    rows = []
    for _ in range(1000):
        created = BASE_TIME + timedelta(minutes=rng.randrange(50))
        rows.append({
            "title": f"task {rng.randrange(300):03d}",
            "status": rng.choice(statuses),
            "priority": rng.randint(1, 5),
            "due_date": None if rng.random() < 0.3 else date(2026, 1, 1) + timedelta(days=rng.randrange(20)),
            "created_at": created,
            "updated_at": created + timedelta(seconds=rng.randrange(3)),
        })
    for row, id_ in zip(rows, insert_tasks(rows), strict=True):
        row["id"] = id_
    return rows


@pytest.mark.parametrize(
    ("sort", "limit"),
    [("id", 200), ("-id", 77), ("priority", 33), ("-priority", 50), ("due_date", 41),
     ("-due_date", 64), ("created_at", 29), ("-updated_at", 97), ("title", 58), ("-status", 71)],
)
def test_paging_through_1000_rows_loses_and_repeats_nothing(client, viewer, fetch_all, thousand, sort, limit) -> None:  # noqa: ANN001
    items = fetch_all("/api/tasks", viewer, sort=sort, limit=limit)
    seen = [item["id"] for item in items]
    assert len(seen) == 1000
    assert set(seen) == {row["id"] for row in thousand}
    field, descending = sort.removeprefix("-"), sort.startswith("-")
    if field in ("title", "status"):
        # text order is the database's collation: check ties are broken by id in the sort's direction
        for before, after in zip(items, items[1:], strict=False):
            if before[field] == after[field]:
                assert (before["id"] > after["id"]) if descending else (before["id"] < after["id"])
        return
    assert seen == expected_order(thousand, [row["id"] for row in thousand], field, descending)
    # and the values come back as stored (dates and time zones survive the round trip)
    parse = {"due_date": date.fromisoformat, "created_at": datetime.fromisoformat,
             "updated_at": datetime.fromisoformat, "priority": int, "id": int}[field]
    by_id = {row["id"]: row for row in thousand}
    assert [parse(item[field]) if item[field] is not None else None for item in items] == [
        by_id[id_][field] for id_ in seen
    ]


# --- the cost of a page ---------------------------------------------------------------------


def count_queries(app, call) -> int:  # noqa: ANN001
    with recorded_statements(app.state.engine) as statements:
        call()
    return len(statements)


def test_a_page_costs_the_same_queries_for_5_or_50_rows(app, client, viewer, make_user, insert_tasks) -> None:  # noqa: ANN001
    users = [make_user("viewer") for _ in range(50)]
    insert_tasks([{"assignee_id": user.id} for user in users])
    client.get("/api/tasks", headers=viewer)  # warm up: the token's first use is recorded once

    def page(limit: int) -> None:
        response = client.get(f"/api/tasks?limit={limit}", headers=viewer)
        assert len(response.json()["items"]) == limit
        assert all(item["assignee"] is not None for item in response.json()["items"])

    five = count_queries(app, lambda: page(5))
    fifty = count_queries(app, lambda: page(50))
    assert five == fifty
    assert fifty <= 3  # who is calling, the page with its assignees (plus SQLite's BEGIN, none)
