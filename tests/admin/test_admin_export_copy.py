"""CSV export on PostgreSQL through COPY: the same bytes the Python path writes, streamed."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.engine import make_url

from admin_app.admin import export_copy, views
from admin_app.admin.audit_view import AUDIT_EXPORT
from admin_app.admin.export import stream_rows
from admin_app.admin.export_copy import CopyCSV, copy_select
from admin_app.admin.export_format import csv_chunks, export_statement
from admin_app.resources.tasks import TASKS
from admin_app.services.listing import listing_of
from models import AuditEntry, Role, Task, TaskStatus, User
from tests.admin.conftest import PASSWORD
from tests.conftest import migrated
from tests.helpers import recorded_statements, running_server

HOSTILE_SEARCH = "it's 50% \"off\" \\ under_score '); DROP TABLE task; --"

TITLES = [
    "=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tTabbed", "\rCR first", "a\rlone CR", "line\nbreak",
    "crlf\r\nbreak", 'say "hi", ok', "comma,separated", "  padded  ", "\\.", "Zürich — 東京 😀",
    "'already quoted", 'ends with a quote"', '"', "-", "plain", f"match {HOSTILE_SEARCH}",
]
DESCRIPTIONS = [
    "", None, "\\.", "x" * 1000, "semi;colon", "=cmd|' /C calc'!A0", "tab\tinside", " ", "é",
]
DUE_DATES = [None, date(1, 1, 1), date(9999, 12, 31), date(2026, 2, 28)]
TIMESTAMPS = [
    datetime(2026, 11, 25, 10, 21, 13, 123456, tzinfo=UTC),
    datetime(2026, 11, 25, 10, 21, 13, tzinfo=UTC),  # no microseconds: none shown
    datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 6, 30, 23, 59, 59, 120000, tzinfo=UTC),  # trailing zeros kept
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 12, 0, 0, 999999, tzinfo=UTC),
]


@pytest.fixture(scope="module")
def migrated_url(pg_databases) -> str:  # noqa: ANN001
    """COPY is PostgreSQL's (SQLite exports through Python): this module runs on PostgreSQL
    only, rather than once per database with the SQLite half skipped."""
    return migrated(pg_databases.create("export_copy"))


@pytest.fixture
def pg_only(db_kind: str) -> None:
    assert db_kind == "postgresql"


@pytest.fixture
def session_time_zone(app, pg_only) -> None:  # noqa: ANN001
    """The app's connections in a zone far from UTC: the export must not follow it."""

    def set_zone(dbapi_connection, _record) -> None:  # noqa: ANN001
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'Asia/Kathmandu'")  # +05:45
        dbapi_connection.commit()

    event.listen(app.state.engine, "connect", set_zone)
    app.state.engine.dispose()  # pooled connections made before the listener go


@pytest.fixture
def captured(monkeypatch):  # noqa: ANN001, ANN201
    """What the admin's export hands to export_response: (columns, session factory, statement)."""
    calls = []
    real = views.export_response

    def spy(name, export_type, columns, session_factory, statement, **kwargs):  # noqa: ANN001, ANN202
        calls.append((columns, session_factory, statement))
        return real(name, export_type, columns, session_factory, statement, **kwargs)

    monkeypatch.setattr(views, "export_response", spy)
    return calls


def python_csv(columns, session_factory, statement) -> bytes:  # noqa: ANN001
    """The export as the Python path writes it, for the same statement."""
    rows = stream_rows(session_factory, export_statement(columns, statement))
    return "".join(csv_chunks(columns, rows)).encode()


def add_tricky_tasks(add_tasks, user_id: int) -> list[int]:  # noqa: ANN001
    count = 3 * len(TITLES)
    return add_tasks(
        count,
        title=lambda i: TITLES[i % len(TITLES)],
        description=lambda i: DESCRIPTIONS[i % len(DESCRIPTIONS)],
        status=lambda i: list(TaskStatus)[i % 4].value,
        priority=lambda i: i % 5 + 1,
        assignee_id=lambda i: user_id if i % 3 == 0 else None,
        due_date=lambda i: DUE_DATES[i % len(DUE_DATES)],
        created_at=lambda i: TIMESTAMPS[i % len(TIMESTAMPS)],
        updated_at=lambda i: TIMESTAMPS[(i + 1) % len(TIMESTAMPS)],
        completed_at=lambda i: None if i % 2 else TIMESTAMPS[(i + 2) % len(TIMESTAMPS)],
    )


@pytest.mark.parametrize("query", [
    "",
    "sortBy=title&sort=asc",
    "status=pending,in_progress&created_after=2020-01-01&sortBy=assignee&sort=desc",
    "due_after=0001-01-01&sortBy=due_date&sort=asc",
    "search=" + quote(HOSTILE_SEARCH),
    "search=" + quote("%_\\'"),
])
def test_copy_csv_is_byte_for_byte_the_python_csv(
    editor, add_tasks, make_user, app, captured, session_time_zone, query,  # noqa: ANN001
) -> None:
    bob = make_user("bob@example.com", Role.editor)
    ids = add_tricky_tasks(add_tasks, bob.id)
    response = editor.get(f"/admin/task/export/csv?{query}")
    assert response.status_code == 200
    [(columns, session_factory, statement)] = captured
    assert copy_select(columns, statement, app.state.engine.dialect) is not None  # COPY's way
    expected = python_csv(columns, session_factory, statement)
    assert response.content == expected
    body = expected.decode()
    assert "\r\n" not in body.replace('crlf\r\nbreak"', "")  # rows end in LF
    if query.startswith("search=") and "DROP" in query:
        assert body.count("\n") - body.count("\nbreak") == 1 + 3  # header + the three matches
    elif not query:
        assert body.count("\n") - body.count("\nbreak") == 1 + len(ids)
        assert '"a\rlone CR"' in body and ",\\.," in body  # a lone CR quoted, \. not
        assert ",2026-11-25T10:21:13+00:00," in body and ",2026-11-25T10:21:13.123456+00:00," in body
        assert ",0001-01-01T00:00:00+00:00," in body and ",2026-06-30T23:59:59.120000+00:00," in body
        assert ",0001-01-01," in body and ",9999-12-31," in body
    with app.state.session_factory() as db:  # the search reached no further than a search
        assert db.execute(select(func.count()).select_from(Task)).scalar_one() == len(ids)


def test_copy_csv_matches_for_users_booleans_and_null_logins(
    admin, make_user, app, captured, session_time_zone,  # noqa: ANN001
) -> None:
    make_user("ed@example.com", Role.editor, full_name="=cmd|' /C calc'!A0")
    make_user("off@example.com", Role.viewer, full_name="", active=False)
    with app.state.session_factory() as db, db.begin():
        db.execute(User.__table__.update().where(User.email == "ed@example.com")
                   .values(last_login_at=TIMESTAMPS[1]))
    response = admin.get("/admin/user/export/csv?sortBy=email&sort=asc")
    [(columns, session_factory, statement)] = captured
    assert copy_select(columns, statement, app.state.engine.dialect) is not None
    assert response.content == python_csv(columns, session_factory, statement)
    assert b",True,2026-11-25T10:21:13+00:00," in response.content and b",False,," in response.content


def test_copy_and_python_agree_on_quoting_of_any_text(app, pg_only) -> None:  # noqa: ANN001
    """Python's csv (QUOTE_MINIMAL) and COPY's CSV quote the same fields the same way."""
    values = [
        "", " ", " lead", "trail ", "a,b", 'a"b', '"', "a\nb", "a\rb", "a\r\nb", "\\.", "\\", "\\N",
        "NULL", "é€😀", "tab\tin", "\u2028", "\x7f", ";", "'", "#", "=x", "\tx", "\rx", "x\r",
    ]
    with app.state.session_factory() as db, db.begin():
        db.execute(insert(Task), [
            {"title": v, "description": v, "status": "pending", "priority": 1, "version": 1,
             "created_at": TIMESTAMPS[0], "updated_at": TIMESTAMPS[0]} for v in values
        ])
    columns = views.export_columns(TASKS)
    statement = listing_of(TASKS).statement([], ["assignee", "project"]).order_by(Task.id)
    factory = app.state.session_factory
    copied = b"".join(CopyCSV(columns, factory, copy_select(columns, statement, app.state.engine.dialect)))
    assert copied == python_csv(columns, factory, statement)


def test_postgresql_csv_export_runs_as_copy(editor, add_tasks, app, pg_only, monkeypatch) -> None:  # noqa: ANN001
    add_tasks(3)
    commands = []
    real = export_copy.copy_command

    def spy(cursor, statement, dialect):  # noqa: ANN001, ANN202
        commands.append(real(cursor, statement, dialect))
        return commands[-1]

    monkeypatch.setattr(export_copy, "copy_command", spy)
    with recorded_statements(app.state.engine) as statements:
        response = editor.get("/admin/task/export/csv?search=Task")
    assert response.status_code == 200 and len(response.text.splitlines()) == 4
    [command] = commands
    assert command.startswith(b"COPY (SELECT ") and command.endswith(b") TO STDOUT WITH (FORMAT csv, ENCODING 'UTF8')")
    assert b"ILIKE '%Task%'" in command  # bound by psycopg2
    assert not [s for s in statements if "FROM task" in s]  # no row went through a Python cursor
    with app.state.session_factory() as db:
        entry = db.execute(select(AuditEntry).where(AuditEntry.action == "export")).scalar_one()
    assert entry.details["rows"] == 3 and entry.details["format"] == "csv"


def test_exports_copy_cannot_spell_stay_in_python(app, pg_only) -> None:  # noqa: ANN001
    dialect = app.state.engine.dialect
    assert copy_select(AUDIT_EXPORT, select(AuditEntry), dialect) is None  # JSON columns
    assert copy_select(views.export_columns(TASKS)[:1], select(Task), dialect) is None  # one column


def test_a_copy_export_past_its_statement_timeout_is_cut_off_not_a_page(
    editor, add_tasks, app, pg_only, caplog,  # noqa: ANN001
) -> None:
    add_tasks(20000, description="x" * 200)
    app.state.settings.export_statement_timeout_ms = 1
    with caplog.at_level(logging.WARNING, logger="admin_app.errors"):
        response = editor.get("/admin/task/export/csv")
    assert response.status_code == 200  # the headers had gone: the body is cut short
    assert len(response.content) < 20000 * 200
    assert b"<html" not in response.content and b"Traceback" not in response.content
    assert "answered 503 (Database too slow)" in caplog.text
    with app.state.session_factory() as db:  # an incomplete export is not recorded as done
        assert db.execute(select(AuditEntry).where(AuditEntry.action == "export")).first() is None
    app.state.settings.export_statement_timeout_ms = 120_000
    assert len(editor.get("/admin/task/export/csv").text.splitlines()) == 20001


def _app_backends(engine, database: str, where: str) -> list[str]:  # noqa: ANN001
    """The app's connections to `database` (a COPY's parallel workers too), but this one."""
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT pid || ' ' || state || ': ' || left(query, 40) FROM pg_stat_activity "
            f"WHERE application_name = 'admin-app' AND datname = :db AND pid <> pg_backend_pid() AND {where}"
        ), {"db": database}).scalars())


def _add_big_export(app, rows: int = 120_000) -> None:  # noqa: ANN001
    with app.state.engine.begin() as conn:  # about 60 MB of CSV
        # Test data, not a request: on a loaded CI machine this INSERT (and the search table's
        # copy of it, migration 0017) took longer than the app's 15 s statement timeout.
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn.execute(text(
            "INSERT INTO task (title, description, status, priority, version, created_at, updated_at) "
            "SELECT 'Task ' || n, repeat('d', 500), 'pending', 1, 1, now(), now() "
            f"FROM generate_series(1, {rows}) AS n"
        ))


@contextmanager
def _exporter(base: str) -> Iterator[httpx.Client]:
    """A client logged in as the viewer the export tests make."""
    with httpx.Client(base_url=base, timeout=30) as client:
        login = client.post("/admin/login", headers={"Origin": base},
                            data={"username": "exporter@example.com", "password": PASSWORD})
        assert login.status_code == 302, login.text
        yield client


@pytest.mark.xdist_group("serial")  # a real server, 60 MB of CSV, deadlines on the clock
def test_a_slow_client_does_not_hold_the_database(
    db_url, app, make_user, pg_only, tmp_path,  # noqa: ANN001
) -> None:
    make_user("exporter@example.com", Role.viewer)
    _add_big_export(app)
    database = make_url(db_url).database
    engine = app.state.engine
    with running_server(db_url, tmp_path, DB_POOL_SIZE="1", DB_MAX_OVERFLOW="0",
                        DB_POOL_TIMEOUT="3") as (base, _process, log):
        with _exporter(base) as client:
            with client.stream("GET", "/admin/task/export/csv") as response:
                chunks = response.iter_bytes()
                received = [next(chunks)]
                # The client reads nothing more for now: the COPY still runs to its end,
                # and its connection is back in the pool, while the download waits.
                deadline = time.monotonic() + 20
                while busy := _app_backends(engine, database, "state <> 'idle'"):
                    assert time.monotonic() < deadline, f"the export holds the database: {busy}"
                    time.sleep(0.1)
                assert client.get("/admin/task/list").status_code == 200  # the one connection
                received.extend(chunks)
        body = b"".join(received)
        assert body.count(b"\n") == 120_001 and body.endswith(b"\n")
        assert "Traceback" not in log.read_text()


@pytest.mark.xdist_group("serial")  # a real server, 60 MB of CSV, deadlines on the clock
def test_a_client_leaving_mid_copy_stops_it_and_frees_the_connection(
    db_url, app, make_user, pg_only, tmp_path,  # noqa: ANN001
) -> None:
    make_user("exporter@example.com", Role.viewer)
    _add_big_export(app)
    database = make_url(db_url).database
    engine = app.state.engine  # not the server's: its connections have their own name
    # One connection in the server's pool: a leaked one would time every later request out.
    with running_server(db_url, tmp_path, DB_POOL_SIZE="1", DB_MAX_OVERFLOW="0",
                        DB_POOL_TIMEOUT="3") as (base, _process, log):
        with _exporter(base) as client:
            with client.stream("GET", "/admin/task/export/csv") as response:
                assert response.status_code == 200
                first = next(response.iter_bytes())
                assert first.startswith(b"ID,Title,")
                deadline = time.monotonic() + 10
                while not _app_backends(engine, database, "query LIKE 'COPY (%' AND state = 'active'"):
                    assert time.monotonic() < deadline, "the COPY never ran"
                    time.sleep(0.05)
            # The response is closed with most of the CSV unsent.
        deadline = time.monotonic() + 15
        while busy := _app_backends(engine, database, "state <> 'idle'"):
            assert time.monotonic() < deadline, f"still busy after the client left: {busy}"
            time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=30, cookies=client.cookies) as again:
            small = again.get("/admin/task/export/csv?search=Task%20119999")
            assert small.status_code == 200, small.text[:300]
            assert small.text.splitlines()[1].startswith(str(119999) + ",Task 119999,")
        assert "Traceback" not in log.read_text()
