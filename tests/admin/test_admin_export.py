"""Export: the current filtered and sorted list, streamed as CSV or JSON in constant memory."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import date

import anyio
import pytest
from sqlalchemy import event

from models import Role, TaskStatus
from tests.admin.conftest import today


def test_csv_export_of_the_filtered_sorted_list(editor, add_tasks, make_user) -> None:  # noqa: ANN001
    bob = make_user("bob@example.com", Role.editor)
    add_tasks(
        6, title=lambda i: ["=HYPERLINK(\"http://x\")", "+cmd", "-2+3", "@SUM(A1)", "plain", "other"][i],
        description=lambda i: "line one\nline, two" if i == 4 else None,
        status=lambda i: TaskStatus.done.value if i == 5 else TaskStatus.pending.value,
        priority=lambda i: i % 5 + 1, assignee_id=lambda i: bob.id if i == 4 else None,
        due_date=lambda i: date(2030, 1, i + 1),
    )
    response = editor.get("/admin/task/export/csv?status=pending&sortBy=priority&sort=desc&page=3&pageSize=25")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="tasks_') and disposition.endswith('.csv"')
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["ID", "Title", "Description", "Status", "Priority", "Assignee", "Project", "Due date",
                       "Created at", "Updated at", "Completed at", "Version"]
    body = rows[1:]
    assert [r[4] for r in body] == ["5", "4", "3", "2", "1"]  # filtered (no done task), sorted, all pages
    by_title = {r[1]: r for r in body}
    # Spreadsheet formulas are neutralised with a leading quote.
    assert set(by_title) == {"'=HYPERLINK(\"http://x\")", "'+cmd", "'-2+3", "'@SUM(A1)", "plain"}
    plain = by_title["plain"]
    assert plain[2] == "line one\nline, two" and plain[5] == "bob@example.com" and plain[6] == ""
    assert plain[7] == "2030-01-05"  # ISO 8601
    assert date.fromisoformat(plain[8][:10]) == today() and plain[8].endswith("+00:00")


def test_json_export(editor, add_tasks) -> None:  # noqa: ANN001
    add_tasks(3, title=lambda i: f"t{i}", priority=lambda i: i + 1, due_date=lambda i: date(2031, 5, i + 1))
    response = editor.get("/admin/task/export/json?priority=2")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].endswith('.json"')
    [item] = response.json()
    assert item["title"] == "t1" and item["due_date"] == "2031-05-02" and item["assignee"] is None
    assert set(item) == {"id", "title", "description", "status", "priority", "assignee", "project", "due_date",
                         "created_at", "updated_at", "completed_at", "version"}
    assert editor.get("/admin/task/export/json?priority=4").json() == []
    assert editor.get("/admin/task/export/xml").status_code == 404


def test_user_export_follows_filters_and_has_no_hash(admin, make_user) -> None:  # noqa: ANN001
    make_user("ed@example.com", Role.editor, full_name="=cmd|' /C calc'!A0")
    make_user("vi@example.com", Role.viewer)
    rows = list(csv.reader(io.StringIO(admin.get("/admin/user/export/csv?role=editor").text)))
    assert rows[0] == ["ID", "Email", "Full name", "Role", "Active", "Last login", "Created at"]
    assert [(r[1], r[2]) for r in rows[1:]] == [("ed@example.com", "'=cmd|' /C calc'!A0")]
    everything = admin.get("/admin/user/export/json").text
    assert "argon2" not in everything and "hashed_password" not in everything


def test_json_export_uses_a_server_side_cursor_on_postgresql(editor, add_tasks, app, db_kind) -> None:  # noqa: ANN001
    add_tasks(3)
    cursors = []

    def record(_conn, cursor, statement, _params, _context, _many) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT TASK.ID, TASK.TITLE"):
            cursors.append(getattr(cursor, "name", None))

    event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        assert len(editor.get("/admin/task/export/json").json()) == 3  # CSV: see test_admin_export_copy
    finally:
        event.remove(app.state.engine, "before_cursor_execute", record)
    assert len(cursors) == 1
    if db_kind == "postgresql":
        assert cursors[0]  # a named (server-side) cursor: rows come in batches


def _export_peak(app, cookie: tuple[str, str], path: str) -> tuple[int, int]:  # noqa: ANN001
    """Run one export through the ASGI app, dropping each chunk as it comes: (bytes, peak)."""
    sent = 0

    async def run() -> None:
        nonlocal sent
        done = anyio.Event()

        async def receive() -> dict:
            if not done.is_set():
                done.set()
                return {"type": "http.request", "body": b"", "more_body": False}
            await anyio.sleep_forever()
            return {}

        async def send(message: dict) -> None:
            nonlocal sent
            if message["type"] == "http.response.start":
                assert message["status"] == 200
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "client": ("testclient", 50000), "server": ("testserver", 80),
            "headers": [(b"host", b"testserver"), (b"cookie", f"{cookie[0]}={cookie[1]}".encode())],
        }
        await app(scope, receive, send)

    tracemalloc.start()
    try:
        anyio.run(run)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return sent, peak


@pytest.mark.parametrize("export_type", ["csv", "json"])
def test_export_memory_does_not_grow_with_rows(editor, add_tasks, app, export_type) -> None:  # noqa: ANN001
    name = app.state.settings.session_cookie_name
    cookie = (name, editor.cookies.get(name))
    path = f"/admin/task/export/{export_type}"
    add_tasks(4000, title=lambda i: f"A reasonably long task title number {i}", description="x" * 100)
    _export_peak(app, cookie, path)  # warm up: imports, caches, the middleware stack
    small_bytes, small_peak = _export_peak(app, cookie, path)
    add_tasks(46000, title=lambda i: f"A reasonably long task title number {i}", description="x" * 100)  # 50,000 rows
    big_bytes, big_peak = _export_peak(app, cookie, path)
    assert big_bytes > 11 * small_bytes  # twelve and a half times the rows went out...
    assert big_peak < small_peak * 1.5 + 1_000_000, (small_peak, big_peak)  # ...in the same memory


def test_csv_rows_end_in_lf_and_a_lone_cr_is_still_quoted(editor, add_tasks) -> None:  # noqa: ANN001
    """Rows end in LF as PostgreSQL's COPY ends them; a field holding a CR is quoted as COPY quotes it."""
    add_tasks(2, title=lambda i: ["a\rlone CR", "two\r\nlines"][i])
    body = editor.get("/admin/task/export/csv?sortBy=id&sort=asc").content
    rows = body.replace(b"two\r\nlines", b"TWO LINES").split(b"\n")
    assert len(rows) == 4 and rows[-1] == b"" and not any(row.endswith(b"\r") for row in rows)
    assert rows[1].split(b",")[1] == b'"a\rlone CR"' and rows[2].split(b",")[1] == b'"TWO LINES"'
