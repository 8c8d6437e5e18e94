"""Where the time of a bulk edit by filter goes (issue 8, "bulk edit of 100,000 rows <= 3 s").

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_bulk uv run python bench/bulk_breakdown.py
    ... bulk_breakdown.py --repeat 2 --only app,bare_update --checkpoint

PostgreSQL only, on a database seeded by bench/run.py (1,000,000 tasks). Each variant runs in
a transaction that is rolled back: its setup (dropping an index, a SET LOCAL), then one
statement under EXPLAIN (ANALYZE, BUFFERS, WAL, TIMING OFF), and statements timed after it
(a GIN pending-list cleanup; their time is added, their buffers and WAL are not). Then VACUUM (ANALYZE) of task
and audit_entry, so every run starts from the same table; with --checkpoint also a
CHECKPOINT, so every run pays the same full-page writes (the first change of each page after
a checkpoint logs the whole page). The "app" variant is the statement the app itself sends
(captured from admin_app.services.bulk.update_rows), the others take it apart:
"join_form" is the earlier statement (UPDATE ... FROM locked: a hash join that, spilling to
batches, updates rows in hash order), "pkey_form" the current one written out (the UPDATE
walks the locked ids through the primary key, in id order), "bare_update" the UPDATE alone.

Columns: execution time (s) of each run; buffers hit / read / dirtied / written by the
backend itself (written = evicting dirty pages: shared_buffers too small); WAL bytes and
full-page images (of the last run); the machine's 1-minute load average before the first run
(other processes competing for the CPU make a run slower). The database is left as it was (every change rolled back).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402

FILTER = "status = 'cancelled'"
SET = "priority = 3, updated_at = now(), version = version + 1"
TASK_INDEXES = [
    "task_pkey", "ix_task_status_id", "ix_task_priority_id", "ix_task_assignee_id_id",
    "ix_task_due_date_id", "ix_task_title_id", "ix_task_created_at_id", "ix_task_updated_at_id",
]
# Since migration 0017 the trigram indexes are on task_search (a bulk edit of task leaves them
# alone): the "app" variant merges their pending lists, as the app does.
TRGM = ["ix_task_search_title_trgm", "ix_task_search_description_trgm"]
AUDIT_INDEXES = ["ix_audit_entry_action", "ix_audit_entry_actor_id", "ix_audit_entry_at", "ix_audit_entry_entity"]
ENTRY = (
    "INSERT INTO audit_entry (at, actor_id, actor_label, via, action, entity, entity_id, changes) "
    "SELECT now(), 1, 'bench', 'api', 'update', 'task', CAST({id} AS VARCHAR), "
    "json_build_object('priority', json_build_array({old}, {new})) FROM {source}"
)
# One GIN index over both columns, built fresh (compare with app_trgm_reindexed, also fresh).
COMBINED_TRGM = (
    "CREATE INDEX ix_task_text_trgm ON task USING gin "
    "((coalesce(title, '') || ' ' || coalesce(description, '')) gin_trgm_ops)"
)
LOCKED = f"locked AS (SELECT id, priority FROM task WHERE {FILTER} ORDER BY id FOR UPDATE)"
CHANGED = (
    f"changed AS (UPDATE task SET {SET} FROM locked WHERE task.id = locked.id "
    "RETURNING task.id, locked.priority AS old_priority, task.priority AS new_priority)"
)

# The UPDATE walks the locked ids through the primary key (in id order, whatever work_mem);
# the old values are joined back afterwards, outside the table.
CHANGED_ANY = (
    f"changed AS (UPDATE task SET {SET} WHERE task.id = ANY(ARRAY(SELECT id FROM locked)) "
    "RETURNING task.id, task.priority AS new_priority)"
)


def drops(*names: str) -> list[str]:
    return [f"DROP INDEX {name}" for name in names]


def app_statement(url: str) -> tuple[str, dict]:
    """The statement (and parameters) the app sends for the benchmark's bulk edit."""
    from sqlalchemy import event

    from admin_app.db import build_engine
    from admin_app.resources.tasks import TASKS
    from admin_app.services import bulk
    from admin_app.services.actor import Actor
    from admin_app.services.filtering import filters_of
    from admin_app.services.unit import WriteContext
    from admin_app.settings import Settings

    engine = build_engine(Settings(_env_file=None, database_url=url, secret_key="x" * 48))
    seen: list[tuple[str, dict]] = []

    class Captured(Exception):
        pass

    @event.listens_for(engine, "before_cursor_execute")
    def capture(_conn, _cursor, statement, parameters, _context, _many):  # noqa: ANN001, ANN202
        if statement.lstrip().upper().startswith("WITH"):
            seen.append((statement, parameters))
            raise Captured

    from sqlalchemy.orm import Session

    with Session(engine) as db:
        try:
            bulk.update_rows(
                WriteContext(db, Actor(user_id=1, label="bench", via="api")), TASKS, {"priority": 3},
                spec=filters_of(TASKS).model(status=["cancelled"]),
            )
        except Captured:
            pass
        db.rollback()
    engine.dispose()
    if not seen:
        raise SystemExit("the app sent no WITH ... statement for the bulk edit")
    return seen[0]


def variants(app: tuple[str, dict]) -> dict[str, tuple]:
    """name -> (setup statements, measured statement, parameters[, statements timed after it])."""
    app_sql, app_params = app
    join_form = f"WITH {LOCKED}, {CHANGED} " + ENTRY.format(
        id="changed.id", old="changed.old_priority", new="changed.new_priority", source="changed"
    )
    pkey_form = f"WITH {LOCKED}, {CHANGED_ANY} " + ENTRY.format(
        id="changed.id", old="locked.priority", new="changed.new_priority",
        source="changed JOIN locked ON locked.id = changed.id",
    )
    gin_batch = ["SET LOCAL gin_pending_list_limit = '2GB'"]
    gin_clean = [f"SELECT gin_clean_pending_list('{name}')" for name in TRGM]
    nested = ["SET LOCAL enable_hashjoin = off", "SET LOCAL enable_mergejoin = off"]
    out: dict[str, tuple] = {
        "app": ([], app_sql, app_params, gin_clean),  # and the merge the app does after it
        "join_form_no_audit_indexes": (drops(*AUDIT_INDEXES), join_form, None),
        "join_form_no_trgm": (drops(*TRGM), join_form, None),
        "join_form_wal_compression_lz4": (["SET LOCAL wal_compression = lz4"], join_form, None),
        "join_form_work_mem_64MB": (["SET LOCAL work_mem = '64MB'"], join_form, None),
        "join_form_nested_loop": (
            ["SET LOCAL enable_hashjoin = off", "SET LOCAL enable_mergejoin = off"], join_form, None
        ),
        "join_form_gin_pending_list_64MB": (["SET LOCAL gin_pending_list_limit = '64MB'"], join_form, None),
        "join_form_gin_fastupdate_off": (
            [f"ALTER INDEX {name} SET (fastupdate = off)" for name in TRGM], join_form, None
        ),
        "join_form_trgm_reindexed": ([f"REINDEX INDEX {name}" for name in TRGM], join_form, None),
        "join_form_trgm_combined": (
            [*drops(*TRGM), COMBINED_TRGM], join_form, None
        ),
        "join_form_nested_loop_work_mem_64MB": ([*nested, "SET LOCAL work_mem = '64MB'"], join_form, None),
        "join_form_nested_loop_no_trgm": ([*nested, *drops(*TRGM)], join_form, None),
        "join_form_nested_loop_gin_batch": ([*nested, *gin_batch], join_form, None, gin_clean),
        "pkey_form": ([], pkey_form, None),
        "pkey_form_no_trgm": (drops(*TRGM), pkey_form, None),
        "pkey_form_no_audit": ([], f"WITH {LOCKED}, {CHANGED_ANY} SELECT count(*) FROM changed", None),
        "pkey_form_gin_batch": (gin_batch, pkey_form, None, gin_clean),
        "pkey_form_gin_clean": ([], pkey_form, None, gin_clean),
        "pkey_form_gin_16MB_clean": (["SET LOCAL gin_pending_list_limit = '16MB'"], pkey_form, None, gin_clean),
        "pkey_form_gin_batch_work_mem_64MB": (
            [*gin_batch, "SET LOCAL work_mem = '64MB'"], pkey_form, None, gin_clean
        ),
        "pkey_form_gin_fastupdate_off": (
            [f"ALTER INDEX {name} SET (fastupdate = off)" for name in TRGM], pkey_form, None
        ),
        "pkey_form_trgm_reindexed": ([f"REINDEX INDEX {name}" for name in TRGM], pkey_form, None),
        "pkey_form_trgm_combined": ([*drops(*TRGM), COMBINED_TRGM], pkey_form, None),
        "pkey_form_trgm_combined_gin_batch": (
            [*drops(*TRGM), COMBINED_TRGM, *gin_batch], pkey_form, None,
            ["SELECT gin_clean_pending_list('ix_task_text_trgm')"],
        ),
        "join_form": ([], join_form, None),
        "join_form_changes_null": ([], join_form.replace(
            "json_build_object('priority', json_build_array(changed.old_priority, changed.new_priority))",
            "NULL"), None),
        "join_form_no_lock": ([], join_form.replace(" FOR UPDATE", ""), None),
        "lock_update_returning": ([], f"WITH {LOCKED}, {CHANGED} SELECT count(*) FROM changed", None),
        "lock_update": (
            [], f"WITH {LOCKED} UPDATE task SET {SET} FROM locked WHERE task.id = locked.id", None
        ),
        "bare_update": ([], f"UPDATE task SET {SET} WHERE {FILTER}", None),
        "lock_only": (
            [], f"SELECT count(*) FROM (SELECT id FROM task WHERE {FILTER} ORDER BY id FOR UPDATE) s", None
        ),
        "audit_insert_only": (
            [], ENTRY.format(id="id", old="priority", new="3",
                             source=f"(SELECT id, priority FROM task WHERE {FILTER}) s"), None,
        ),
        "audit_insert_only_no_indexes": (
            drops(*AUDIT_INDEXES),
            ENTRY.format(id="id", old="priority", new="3",
                         source=f"(SELECT id, priority FROM task WHERE {FILTER}) s"), None,
        ),
        "bare_update_no_trgm": (drops(*TRGM), f"UPDATE task SET {SET} WHERE {FILTER}", None),
        "bare_update_pkey_status_only": (
            drops(*[i for i in TASK_INDEXES if i not in ("task_pkey", "ix_task_status_id")]),
            f"UPDATE task SET {SET} WHERE {FILTER}", None,
        ),
    }
    for index in TASK_INDEXES[2:]:
        out[f"bare_update_without_{index}"] = (drops(index), f"UPDATE task SET {SET} WHERE {FILTER}", None)
    for index in TASK_INDEXES[2:]:
        out[f"pkey_form_without_{index}"] = (drops(index), pkey_form, None)
    return out


def restore(conn) -> None:  # noqa: ANN001
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) task")
        cursor.execute("VACUUM (ANALYZE) audit_entry")
    conn.autocommit = False


def run_one(conn, variant: tuple, checkpoint: bool) -> dict:  # noqa: ANN001
    setup, statement, params, *rest = variant
    after = rest[0] if rest else []
    if checkpoint:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("CHECKPOINT")
        conn.autocommit = False
    with conn.cursor() as cursor:
        for sql in setup:
            cursor.execute(sql)
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        (before,) = cursor.fetchone()
        started = time.perf_counter()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, WAL, TIMING OFF, FORMAT JSON) " + statement, params)
        wall = time.perf_counter() - started
        (plan,) = cursor.fetchone()
        started = time.perf_counter()
        for sql in after:
            cursor.execute(sql)
        after_seconds = time.perf_counter() - started
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)", (before,))
        (wal,) = cursor.fetchone()
    conn.rollback()
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    top = plan["Plan"]
    return {
        "seconds": plan["Execution Time"] / 1000 + after_seconds, "wall": wall, "rows": top.get("Actual Rows"),
        "hit": top.get("Shared Hit Blocks", 0), "read": top.get("Shared Read Blocks", 0),
        "dirtied": top.get("Shared Dirtied Blocks", 0), "written": top.get("Shared Written Blocks", 0),
        "wal_mb": float(wal) / 2**20, "fpi": top.get("WAL FPI", 0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--only", help="comma-separated variant names (default: all)")
    parser.add_argument("--list", action="store_true", help="list the variants and exit")
    parser.add_argument("--checkpoint", action="store_true", help="CHECKPOINT before each run")
    args = parser.parse_args(argv)
    url = os.environ["DATABASE_URL"]
    table = variants(app_statement(url))
    if args.list:
        print("\n".join(table))
        return 0
    names = args.only.split(",") if args.only else list(table)
    dsn = url.replace("postgresql+psycopg2://", "postgresql://")
    conn = psycopg2.connect(dsn, application_name="bulk_breakdown")
    restore(conn)
    print("| variant | seconds (each run) | hit | read | dirtied | written | WAL MB | FPI | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in names:
        runs = []
        load = os.getloadavg()[0]
        for _ in range(args.repeat):
            runs.append(run_one(conn, table[name], args.checkpoint))
            restore(conn)
        last = runs[-1]
        seconds = " / ".join(f"{r['seconds']:.2f}" for r in runs)
        print(
            f"| {name} | {seconds} | {last['hit']:,} | {last['read']:,} | {last['dirtied']:,} | "
            f"{last['written']:,} | {last['wal_mb']:.0f} | {last['fpi']:,} | {load:.1f} |", flush=True,
        )
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
