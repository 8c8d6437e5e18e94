"""Create, migrate and seed the benchmark database with set-based SQL (never row by row)."""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import URL

from admin_app.db import normalize_database_url

USERS = 1000
ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_PASSWORD = "bench admin passphrase 2026"
CHUNK = 100_000

VERBS = [
    "Review", "Update", "Prepare", "Send", "Call", "Fix", "Plan", "Check", "Renew", "Archive",
    "Draft", "Approve", "Reconcile", "Schedule", "Migrate", "Audit", "Escalate", "Close",
]
OBJECTS = [
    "the Q3 invoice batch", "supplier contract", "onboarding checklist", "the refund request",
    "warehouse stock count", "customer complaint", "payroll export", "office lease",
    "VAT return", "shipping labels", "the CRM duplicates", "holiday rota", "price list",
    "support backlog", "server certificate", "expense reports", "the newsletter",
    "insurance renewal", "purchase order", "delivery schedule", "credit note", "quarterly forecast",
]
DETAILS = [
    "Waiting on finance for the final numbers.", "Customer asked for an update by Friday.",
    "See the shared drive folder for the template.", "Blocked until the vendor replies.",
    "Low effort, do it between calls.", "Needs sign-off from the team lead.",
    "Second reminder sent, no answer yet.", "Check the figures against last month first.",
    "Handle together with the related ticket.", "Agreed in the Monday meeting.",
]
FIRST_NAMES = [
    "Alice", "Bob", "Carla", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemal",
    "Lena", "Marco", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Ulla",
    "Victor", "Wen", "Ximena", "Yusuf", "Zoe", "Anton", "Beatriz", "Chen", "Dalia",
]
LAST_NAMES = [
    "Martin", "Nguyen", "Rossi", "Patel", "Schmidt", "Okafor", "Lindqvist", "Dubois", "Kowalski",
    "Haddad", "Tanaka", "Fischer", "Moreau", "Silva", "Novak", "Jensen", "Kaur", "Murphy",
    "Costa", "Ivanova", "Yilmaz", "Brennan", "Achebe", "Larsen", "Varga", "Romero", "Sato",
    "Mbeki", "Horvat", "Eriksen", "Quispe", "Abara", "Vandermeer", "Castellano",
]
CUSTOMER_SUFFIXES = ["Ltd", "GmbH", "& Sons", "Logistics", "Bakery", "Clinic"]
# Cumulative thresholds: pending 40%, in progress 25%, done 25%, cancelled 10%
# (so "cancelled" is ~100,000 rows of 1,000,000: the bulk-edit target).
STATUS_CUTS = [(0.40, "pending"), (0.65, "in_progress"), (0.90, "done"), (1.01, "cancelled")]
PRIORITY_CUTS = [(0.30, 1), (0.60, 2), (0.80, 3), (0.92, 4), (1.01, 5)]

# Search terms the benchmark uses: common (~5% of rows), a customer (~0.6%), one reference.
SEARCH_COMMON = "invoice"
SEARCH_CUSTOMER = "Vandermeer"


def search_reference(engine: Engine, rows: int) -> str:
    """A reference number that appears in exactly one task's description (mid-table)."""
    with engine.connect() as conn:
        description = conn.execute(
            text("SELECT description FROM task WHERE id >= :mid AND description IS NOT NULL "
                 "ORDER BY id LIMIT 1"), {"mid": rows // 2},
        ).scalar_one()
    return description.rsplit(" ", 1)[-1]


def _reference(g: int) -> int:
    return (g * 7919) % 9_999_991


def customers() -> list[str]:
    return [f"{last} {suffix}" for last in LAST_NAMES for suffix in CUSTOMER_SUFFIXES]


def server_url(url: URL) -> URL:
    return url.set(database="postgres")


def ensure_database(raw_url: str) -> Engine:
    """An engine on DATABASE_URL, creating the PostgreSQL database when it does not exist."""
    url = normalize_database_url(raw_url)
    if url.get_backend_name() == "postgresql":
        admin = create_engine(server_url(url), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                exists = conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}
                ).first()
                if not exists:
                    print(f"creating database {url.database}", flush=True)
                    conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
        finally:
            admin.dispose()
        return create_engine(url)
    if url.database and url.database != ":memory:":
        from pathlib import Path

        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url, connect_args={"timeout": 30})


def counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        tasks = conn.execute(text("SELECT count(*) FROM task")).scalar_one()
        users = conn.execute(text('SELECT count(*) FROM "user"')).scalar_one()
    return tasks, users


def existing(engine: Engine, *tables: str) -> list[str]:
    """The given tables that this schema has (an older app may lack the audit trail)."""
    from sqlalchemy import inspect

    present = set(inspect(engine).get_table_names())
    return [t for t in tables if t in present]


def reset(engine: Engine) -> None:
    """Empty every table the seed fills (and what hangs off them)."""
    names = existing(engine, "audit_entry", "login_failure", "api_token", "auth_session", "task", "user")
    tables = [f'"{t}"' for t in names]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                conn.exec_driver_sql(f"DELETE FROM {table}")


def seed(engine: Engine, rows: int, *, admin_hash: str, other_hash: str) -> None:
    started = time.monotonic()
    with engine.begin() as conn:
        _insert_users(conn, admin_hash, other_hash)
    user_ids = _user_ids(engine)
    if engine.dialect.name == "postgresql":
        _seed_tasks_postgres(engine, rows, user_ids)
    else:
        _seed_tasks_sqlite(engine, rows, user_ids)
    print(f"seeded {rows:,} tasks and {USERS:,} users in {time.monotonic() - started:.1f} s", flush=True)


def _insert_users(conn, admin_hash: str, other_hash: str) -> None:  # noqa: ANN001
    from models import User

    now = datetime.now(UTC)
    people = []
    for n in range(1, USERS):
        first = FIRST_NAMES[n % len(FIRST_NAMES)]
        last = LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]
        people.append({
            "email": f"{first}.{last}.{n}@example.com".lower(), "full_name": f"{first} {last}",
            "role": "editor" if n % 4 == 0 else "viewer", "is_active": n % 50 != 0,
            "hashed_password": other_hash, "created_at": now, "updated_at": now, "version": 1,
        })
    admin = {
        "email": ADMIN_EMAIL, "full_name": "Bench Admin", "role": "admin", "is_active": True,
        "hashed_password": admin_hash, "created_at": now, "updated_at": now, "version": 1,
    }
    conn.execute(insert(User.__table__), [admin, *people])


def _user_ids(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text('SELECT id FROM "user" ORDER BY id'))]


def _case(expr: str, cuts: list[tuple[float, object]]) -> str:
    parts = " ".join(
        f"WHEN {expr} < {cut} THEN {value!r}" if isinstance(value, str) else f"WHEN {expr} < {cut} THEN {value}"
        for cut, value in cuts
    )
    return f"CASE {parts} END"


PG_TASKS = """
INSERT INTO task (title, description, status, priority, due_date, assignee_id, created_by_id,
                  created_at, updated_at, completed_at, version)
SELECT title, description, status, priority, due_date, assignee_id, created_by_id,
       created_at, LEAST(updated_at, now()),
       CASE WHEN status = 'done' THEN LEAST(updated_at, now()) END, 1
FROM (
  SELECT
    (CAST(:verbs AS text[]))[1 + floor(r[1] * :nv)::int] || ' '
      || (CAST(:objects AS text[]))[1 + floor(r[2] * :no)::int]
      || CASE WHEN r[3] < 0.3 THEN ' for ' || (CAST(:customers AS text[]))[1 + floor(r[4] * :nc)::int] ELSE '' END
      AS title,
    CASE WHEN r[5] < 0.15 THEN NULL ELSE
      (CAST(:details AS text[]))[1 + floor(r[6] * :nd)::int]
      || CASE WHEN r[7] < 0.5 THEN ' Customer: ' || (CAST(:customers AS text[]))[1 + floor(r[8] * :nc)::int] || '.' ELSE '' END
      || ' Ref. REF-' || lpad(((g::bigint * 7919) % 9999991)::text, 7, '0')
    END AS description,
    {status} AS status,
    {priority} AS priority,
    CASE WHEN r[11] < 0.8 THEN current_date + (floor(r[12] * 151)::int - 60) END AS due_date,
    CASE WHEN r[13] < 0.85 THEN (CAST(:users AS int[]))[1 + floor(r[14] * :nu)::int] END AS assignee_id,
    (CAST(:users AS int[]))[1 + floor(r[15] * :nu)::int] AS created_by_id,
    now() - r[16] * interval '180 days' AS created_at,
    now() - r[16] * interval '180 days' + r[17] * interval '7 days' AS updated_at
  FROM (
    SELECT g, ARRAY[random(), random(), random(), random(), random(), random(), random(),
                    random(), random(), random(), random(), random(), random(), random(),
                    random(), random(), random()] AS r
    FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS g
  ) AS randoms
) AS generated
"""


def _seed_tasks_postgres(engine: Engine, rows: int, user_ids: list[int]) -> None:
    sql = text(PG_TASKS.format(
        status=_case("r[9]", STATUS_CUTS), priority=_case("r[10]", PRIORITY_CUTS)
    ))
    names = customers()
    params = {
        "verbs": VERBS, "nv": len(VERBS), "objects": OBJECTS, "no": len(OBJECTS),
        "customers": names, "nc": len(names), "details": DETAILS, "nd": len(DETAILS),
        "users": user_ids, "nu": len(user_ids),
    }
    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.42)"))
    for first in range(1, rows + 1, CHUNK):
        last = min(rows, first + CHUNK - 1)
        with engine.begin() as conn:
            conn.execute(sql, {**params, "first": first, "last": last})
        print(f"  tasks {last:,}/{rows:,}", flush=True)


def _pick(rng: random.Random, cuts: list[tuple[float, object]]) -> object:
    r = rng.random()
    return next(value for cut, value in cuts if r < cut)


def _sqlite_rows(first: int, last: int, user_ids: list[int], rng: random.Random, now: datetime):
    names = customers()
    today = now.date()
    for g in range(first, last + 1):
        title = f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}"
        if rng.random() < 0.3:
            title += f" for {rng.choice(names)}"
        description = None
        if rng.random() >= 0.15:
            description = rng.choice(DETAILS)
            if rng.random() < 0.5:
                description += f" Customer: {rng.choice(names)}."
            description += f" Ref. REF-{_reference(g):07d}"
        status = _pick(rng, STATUS_CUTS)
        created = now - timedelta(seconds=rng.random() * 180 * 86400)
        updated = min(now, created + timedelta(seconds=rng.random() * 7 * 86400))
        due: date | None = today + timedelta(days=rng.randint(-60, 90)) if rng.random() < 0.8 else None
        yield {
            "title": title, "description": description, "status": status,
            "priority": _pick(rng, PRIORITY_CUTS), "due_date": due,
            "assignee_id": rng.choice(user_ids) if rng.random() < 0.85 else None,
            "created_by_id": rng.choice(user_ids), "created_at": created, "updated_at": updated,
            "completed_at": updated if status == "done" else None, "version": 1,
        }


def _seed_tasks_sqlite(engine: Engine, rows: int, user_ids: list[int]) -> None:
    from models import Task

    rng = random.Random(42)
    now = datetime.now(UTC)
    batch = 20_000
    with engine.begin() as conn:
        for first in range(1, rows + 1, batch):
            last = min(rows, first + batch - 1)
            # Core executemany: one prepared INSERT, many parameter sets (no ORM objects).
            conn.execute(insert(Task.__table__), list(_sqlite_rows(first, last, user_ids, rng, now)))
            if last % CHUNK == 0 or last == rows:
                print(f"  tasks {last:,}/{rows:,}", flush=True)


def analyze(engine: Engine) -> None:
    """Fresh planner statistics (and a visibility map on PostgreSQL, as autovacuum would leave)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # task_search: the searchable text (migration 0017), filled by task's insert trigger
            tables = ", ".join(f'"{t}"' for t in existing(engine, "task", "task_search", "user"))
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {tables}")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def ensure_admin_password(engine: Engine, passwords) -> None:  # noqa: ANN001
    """The bench admin exists, is active and has the known password (one hash at most)."""
    with engine.begin() as conn:
        row = conn.execute(
            text('SELECT id, hashed_password FROM "user" WHERE email = :e'), {"e": ADMIN_EMAIL}
        ).first()
        if row is None:
            raise RuntimeError(f"{ADMIN_EMAIL} is missing: rerun with --reseed")
        if not passwords.verify(row.hashed_password, ADMIN_PASSWORD).ok:
            conn.execute(
                text('UPDATE "user" SET hashed_password = :h, is_active = true, role = \'admin\' WHERE id = :i'),
                {"h": passwords.hash(ADMIN_PASSWORD), "i": row.id},
            )


def clear_audit(engine: Engine) -> None:
    """Forget earlier runs' audit entries (100,000 per bulk edit): runs stay comparable."""
    if not existing(engine, "audit_entry"):
        return
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("TRUNCATE audit_entry")
        else:
            conn.exec_driver_sql("DELETE FROM audit_entry")


def clear_login_throttle(engine: Engine) -> None:
    """Forget failed logins: an earlier run's attack would block the next run's login."""
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM login_failure")


def prepare(raw_url: str, rows: int, *, reseed: bool, passwords) -> Engine:  # noqa: ANN001
    """Database ready for a run: migrated, seeded with `rows` tasks, statistics fresh."""
    from admin_app.migrate import upgrade_to_head

    engine = ensure_database(raw_url)
    started = time.monotonic()
    upgrade_to_head(engine)
    print(f"migrated in {time.monotonic() - started:.1f} s", flush=True)
    tasks, users = counts(engine)
    if reseed or tasks != rows or users < USERS:
        if tasks or users:
            print(f"resetting ({tasks:,} tasks, {users:,} users present)", flush=True)
            reset(engine)
        admin_hash = passwords.hash(ADMIN_PASSWORD)
        other_hash = passwords.hash(ADMIN_PASSWORD + " but not for the others")
        seed(engine, rows, admin_hash=admin_hash, other_hash=other_hash)
        started = time.monotonic()
        analyze(engine)
        print(f"analyzed in {time.monotonic() - started:.1f} s", flush=True)
    else:
        print(f"seed present: {tasks:,} tasks, {users:,} users (use --reseed to redo)", flush=True)
        clear_audit(engine)
        analyze(engine)  # earlier runs' bulk edits changed rows
    ensure_admin_password(engine, passwords)
    clear_login_throttle(engine)
    return engine
