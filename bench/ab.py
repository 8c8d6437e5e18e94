"""Before/after: the same admin and API requests against two checkouts of this app, alternated.

`bench/run.py` runs the two sides minutes apart, so a busy neighbour on a shared machine can
make either side look slower. This starts one server per checkout (each over its own
database, seeded and migrated by that checkout's `bench/run.py`), logs in to both, and
sends each request to one side then the other, one at a time, so that load from elsewhere
falls on both sides alike. It prints, per request, each side's median latency and the
after/before ratio, and the server's CPU time per request (from /proc, which load from
elsewhere inflates far less than latency); then times a bulk edit by filter on each side, alternately.
With `--wrk SECONDS` each sample is instead a burst of `wrk` (1 connection, back-to-back
requests, as `bench/run.py` measures) of that many seconds, alternated between the sides
`--samples` times (the order swapped every round); the median is wrk's, per burst.

    uv run python bench/ab.py --before /path/to/old/checkout \\
        --before-db postgresql://postgres@127.0.0.1:5432/bench_before \\
        --after-db postgresql://postgres@127.0.0.1:5432/bench_after --samples 60
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from bench import seed
from bench.load import Load, run_wrk
from bench.servers import Processes, Server, free_port, wait_ready

BULK = "bulk edit by filter, ~100k rows"
ROOT = Path(__file__).resolve().parent.parent
REQUESTS = [
    ("list page", "/admin/task/list"),
    ("search 'invoice'", "/admin/task/list?search=invoice"),
    ("search 'Vandermeer'", "/admin/task/list?search=Vandermeer"),
    ("search one reference", "/admin/task/list?search={reference}"),  # bench/seed.py's, found at the start
    ("filter status", "/admin/task/list?status=in_progress"),
    ("filter assignee", "/admin/task/list?assignee=453"),
    ("sort id asc", "/admin/task/list?sortBy=id&sort=asc"),
    ("sort priority desc", "/admin/task/list?sortBy=priority&sort=desc"),
    ("page 1,000 of pending", "/admin/task/list?status=pending&page=1000"),
    ("API task by id", "/api/tasks/{middle}"),  # the middle id of the seeded table
    ("API list page", "/api/tasks?limit=50"),
]


def start(processes: Processes, checkout: Path, url: str, name: str, workdir: Path) -> Server:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "VIRTUAL_ENV")}
    env.update({
        "DATABASE_URL": url, "APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
        "DB_ECHO": "false", "MFA_REQUIRED_ROLES": "", "ALLOWED_HOSTS": "127.0.0.1",
        "DB_POOL_SIZE": "10", "DB_MAX_OVERFLOW": "20", "PYTHONPATH": str(checkout),
        # The bulk edit of ~100,000 rows must not meet the default 15 s statement timeout.
        "DB_STATEMENT_TIMEOUT_MS": "300000",
    })
    port = free_port()
    python = checkout / ".venv" / "bin" / "python"
    log = workdir / f"{name}.log"
    process = processes.start([str(python), "-m", "admin_app", "serve", "--port", str(port)],
                              env=env, cwd=workdir, log_path=log)
    server = Server(name, f"http://127.0.0.1:{port}", process, log)
    wait_ready(server, "/healthz")
    return server


def cpu_ms(server: Server) -> float:
    """User + system CPU the server process has used so far (Linux /proc), in ms."""
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def cookie_of(server: Server) -> dict[str, str]:
    response = httpx.post(server.base + "/admin/login",
                          data={"username": seed.ADMIN_EMAIL, "password": seed.ADMIN_PASSWORD},
                          headers={"Origin": server.base}, follow_redirects=False, timeout=60)
    if response.status_code not in (302, 303):
        raise SystemExit(f"{server.name}: login answered {response.status_code}")
    pairs = [h.split(";", 1)[0] for h in response.headers.get_list("set-cookie")]
    return {"Cookie": "; ".join(p for p in pairs if not p.endswith('=""'))}


def bulk_seconds(server: Server, cookie: dict[str, str], url: str) -> float:
    """One bulk edit by filter (cancelled tasks: a priority they do not have), timed."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    with engine.connect() as conn:
        current = conn.execute(text("SELECT priority FROM task WHERE status = 'cancelled' LIMIT 1")).scalar()
    engine.dispose()
    body = {"filter": {"status": ["cancelled"]}, "set": {"priority": (current or 0) % 5 + 1}}
    started = time.perf_counter()
    response = httpx.post(server.base + "/api/tasks/bulk", json=body,
                          headers={**cookie, "Origin": server.base}, timeout=600)
    if response.status_code != 200:
        raise SystemExit(f"{server.name}: bulk edit answered {response.status_code}: {response.text[:300]}")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="the other checkout (with its .venv)")
    parser.add_argument("--after", type=Path, default=ROOT, help="default: this checkout")
    parser.add_argument("--before-db", required=True)
    parser.add_argument("--after-db", required=True)
    parser.add_argument("--samples", type=int, default=60, help="requests per side and request kind")
    parser.add_argument("--bulk-rounds", type=int, default=2, help="bulk edits per side")
    parser.add_argument("--wrk", type=float, default=0, metavar="SECONDS",
                        help="each sample a wrk burst of SECONDS (1 connection) instead of one request")
    parser.add_argument("--only", default="", help="comma-separated words: only the requests whose label has one "
                        "(for example: search,API)")
    args = parser.parse_args(argv)
    words = [w.strip().lower() for w in args.only.split(",") if w.strip()]
    requests = [(label, path) for label, path in REQUESTS if not words or any(w in label.lower() for w in words)]
    if not requests:
        parser.error(f"--only {args.only!r} matches no request; the labels: " + ", ".join(label for label, _ in REQUESTS))
    engine = create_engine(args.after_db.replace("postgresql://", "postgresql+psycopg2://", 1))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM task")).scalar_one()
    reference = seed.search_reference(engine, rows)
    engine.dispose()
    requests = [(label, path.format(reference=reference, middle=max(rows // 2, 1))) for label, path in requests]
    processes = Processes()
    workdir = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    try:
        sides = {"before": start(processes, args.before.resolve(), args.before_db, "before", workdir),
                 "after": start(processes, args.after.resolve(), args.after_db, "after", workdir)}
        cookies = {name: cookie_of(server) for name, server in sides.items()}
        medians: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], float] = {}
        clients = {name: httpx.Client(base_url=server.base, headers=cookies[name], timeout=60)
                   for name, server in sides.items()}
        for label, path in requests:
            for name in sides:  # warm up: caches, pool, plans
                for _ in range(3):
                    clients[name].get(path)
            used = {name: cpu_ms(server) for name, server in sides.items()}
            served = dict.fromkeys(sides, 0)
            for round_ in range(args.samples):
                order = list(sides) if round_ % 2 == 0 or not args.wrk else list(sides)[::-1]
                for name in order:  # interleaved: whatever else the machine does falls on both
                    if args.wrk:
                        burst = run_wrk(Load(sides[name].base + path, cookies[name], None), 1, args.wrk)
                        if not burst.ok:
                            raise SystemExit(f"{name} {path}: {burst.errors} errors under wrk")
                        medians.setdefault((label, name), []).append(burst.median_ms)
                        served[name] += burst.requests
                        continue
                    started = time.perf_counter()
                    response = clients[name].get(path)
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status_code != 200:
                        raise SystemExit(f"{name} {path}: {response.status_code}")
                    medians.setdefault((label, name), []).append(elapsed)
                    served[name] += 1
            for name, server in sides.items():
                cpu[(label, name)] = (cpu_ms(server) - used[name]) / served[name]
            print(f"{label} done", file=sys.stderr, flush=True)
        for _ in range(args.bulk_rounds):
            for name, server in sides.items():
                url = args.before_db if name == "before" else args.after_db
                medians.setdefault((BULK, name), []).append(bulk_seconds(server, cookies[name], url) * 1000)
        print("| request | before median | after median | after / before "
              "| before CPU/request | after CPU/request | after / before |")
        print("|---|---|---|---|---|---|---|")
        for label in [label for label, _ in requests] + ([BULK] if args.bulk_rounds else []):
            before = statistics.median(medians[(label, "before")])
            after = statistics.median(medians[(label, "after")])
            line = f"| {label} | {before:.1f} ms | {after:.1f} ms | {after / before:.2f} |"
            if (label, "before") in cpu:
                b, a = cpu[(label, "before")], cpu[(label, "after")]
                line += f" {b:.1f} ms | {a:.1f} ms | {a / b:.2f} |"
            else:
                line += " | | |"
            print(line)
    finally:
        processes.stop_all()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
