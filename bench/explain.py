"""EXPLAIN ANALYZE every SELECT the app runs to answer one URL: evidence for a slow line.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_1m \\
        uv run python bench/explain.py "/admin/task/list?search=invoice" "/admin/task/list?sortBy=priority"

Runs the app in process (TestClient), logged in as the bench admin, records the statements
its engine executes for each URL, and runs each SELECT again under EXPLAIN (ANALYZE, BUFFERS)
(SQLite: EXPLAIN QUERY PLAN plus a timed run). Read-only; the database must be seeded by run.py.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import warnings  # noqa: E402

from sqlalchemy import event  # noqa: E402

from bench import seed  # noqa: E402


def explain(engine, statement: str, parameters) -> str:  # noqa: ANN001
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        plan = "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())
        started = time.perf_counter()
        cursor.execute(statement, parameters)
        cursor.fetchall()
        return plan + f"\n(ran in {(time.perf_counter() - started) * 1000:.1f} ms)"
    finally:
        raw.rollback()
        raw.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", help="URL paths with query strings, as the browser sends them")
    parser.add_argument("--all", action="store_true", help="also explain the auth/session statements")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

    from admin_app.main import create_app
    from admin_app.settings import Settings
    from bench.run import absolute_sqlite

    url = absolute_sqlite(os.environ["DATABASE_URL"])
    settings = Settings(_env_file=None, database_url=url, secret_key=secrets.token_urlsafe(48))
    app = create_app(settings)
    engine = app.state.engine
    recorded: list[tuple[str, object]] = []
    sql_seconds = [0.0]

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn, _cursor, statement, parameters, _context, _many):  # noqa: ANN001, ANN202
        recorded.append((statement, parameters))
        conn.info["bench_started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def timed(conn, *_args):  # noqa: ANN001, ANN202
        sql_seconds[0] += time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())

    with TestClient(app, base_url="http://testserver") as client:
        login = client.post(
            "/admin/login", data={"username": seed.ADMIN_EMAIL, "password": seed.ADMIN_PASSWORD},
            headers={"Origin": "http://testserver"}, follow_redirects=False,
        )
        if login.status_code not in (302, 303):
            print(f"login failed: {login.status_code}", file=sys.stderr)
            return 1
        for path in args.paths:
            client.get(path, follow_redirects=False)  # warm: templates, statement cache
            recorded.clear()
            sql_seconds[0] = 0.0
            started = time.perf_counter()
            response = client.get(path, follow_redirects=False)
            elapsed = (time.perf_counter() - started) * 1000
            print(f"\n=== GET {path}: {response.status_code}, {len(response.content):,} bytes, "
                  f"{elapsed:.0f} ms in process, of which {sql_seconds[0] * 1000:.0f} ms in "
                  f"{len(recorded)} SQL statements (the rest: Python, templates)")
            for statement, parameters in list(recorded):
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                noise = ("auth_session", "api_token", "login_failure")
                if not args.all and any(name in statement for name in noise):
                    continue
                print(f"\n--- {' '.join(statement.split())}\n    params: {parameters}")
                print(explain(engine, statement, parameters))
    return 0


if __name__ == "__main__":
    sys.exit(main())
