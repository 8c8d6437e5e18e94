"""Million-row benchmark (issue 8): seed, serve ours and the comparators, load them, report.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_1m uv run python bench/run.py --rows 1000000
    DATABASE_URL=sqlite:///bench/results/bench.db uv run python bench/run.py --rows 100000

Prints a markdown table and writes it to bench/results/latest.md. An endpoint the app does
not serve (yet) is reported as "n/a (404)"; a query parameter it ignores as
"n/a (param ignored)". Every process it starts is stopped on exit, error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import secrets
import signal
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import seed  # noqa: E402
from bench.load import HttpxAttack, Load, Result, WrkAttack, have_wrk, measure  # noqa: E402
from bench.report import INFO, MISS, NA, PASS, Row, cells, git_revision, ms, render  # noqa: E402
from bench.servers import (  # noqa: E402
    Processes,
    RssSampler,
    Server,
    free_port,
    tree_hwm_kib,
    tree_rss_kib,
    wait_idle,
    wait_ready,
)

RESULTS = ROOT / "bench" / "results"
LIST = "/admin/task/list"
FACETS = "_facets=1"
SORTABLE = ["id", "title", "status", "priority", "due_date", "updated_at"]
DETAILS_LINK = re.compile(r"/admin/task/details/(\d+)")
STOCK = "stock SQLAdmin"
TUTORIAL = "seed tutorial API"

# The targets (1,000,000 tasks, PostgreSQL).
LIST_MS, LIST_RPS, LIST_RATIO = 15, 150, 8
SEARCH_MS, FILTER_MS = 40, 30
EXPORT_S, EXPORT_MB = 3, 100
BULK_S, CURSOR_RATIO, ATTACK_RATIO = 3, 2, 3


SECTIONS = ("lists", "searches", "filters", "api", "cursor", "exports", "writes", "jobs", "logins")
JOB_LIST_RATIO = 3  # the list's p99 while a million-row job runs, against without
IMPORT_ROWS = 50_000  # the import line: the most one file may hold (admin/import_parse.MAX_ROWS)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="tasks to seed (default 1,000,000)")
    parser.add_argument("--reseed", action="store_true", help="empty and seed again even if the row count matches")
    parser.add_argument("--duration", type=float, default=5, help="seconds per load measurement (default 5)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent users for throughput lines (default 16)")
    parser.add_argument("--workers", type=int, default=1, help="server processes for each of ours, stock and the tutorial API (default 1)")
    parser.add_argument("--skip-stock-export", action="store_true", help="do not run the stock export (tens of seconds, GBs at 1M)")
    parser.add_argument("--export-timeout", type=float, default=180, help="seconds before an export is abandoned (default 180)")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "httpx"], default="auto", help="load generator (default: wrk when installed)")
    parser.add_argument("--statement-timeout-ms", type=int, default=None,
                        help="our server's DB_STATEMENT_TIMEOUT_MS (default: the app's 15,000; a slow machine's "
                             "bulk edit of ~100,000 rows may need more)")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.md", help="where the table is written")
    parser.add_argument("--write-rounds", type=int, default=3,
                        help="bulk edit, then its revert, this many times in turn; the lines give the medians "
                             "(default 3)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to measure (default all: {','.join(SECTIONS)})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only.split(",")) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section {unknown[0]!r} (sections: {', '.join(SECTIONS)})")
    if args.write_rounds < 1:
        parser.error("--write-rounds must be at least 1")
    return args


def absolute_sqlite(raw: str) -> str:
    """A relative SQLite path made absolute: the servers run in other directories."""
    if not raw.startswith("sqlite"):
        return raw
    url = make_url(raw)
    if url.database and url.database != ":memory:" and not Path(url.database).is_absolute():
        url = url.set(database=str((Path.cwd() / url.database).resolve()))
    return url.render_as_string(hide_password=False)


def app_defaults() -> SimpleNamespace:
    """The settings the served app runs with (defaults), for hashing the admin's password alike."""
    from admin_app.settings import Settings

    return SimpleNamespace(**{name: field.default for name, field in Settings.model_fields.items()})


def task_ids(body: str) -> list[int]:
    seen: dict[int, None] = {}
    for match in DETAILS_LINK.finditer(body):
        seen.setdefault(int(match.group(1)), None)
    return list(seen)


class Bench:
    def __init__(self, args: argparse.Namespace, database_url: str, processes: Processes) -> None:
        self.args = args
        self.url = database_url
        self.processes = processes
        self.use_wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and have_wrk())
        if args.loadgen == "wrk" and not have_wrk():
            raise SystemExit("wrk is not installed (apt-get install -y wrk), or use --loadgen httpx")
        self.rows: list[Row] = []
        self.cookie: dict[str, str] = {}
        self.bearer: dict[str, str] = {}
        self.base_ids: dict[str, list[int]] = {}
        self.status_filter_works: dict[str, bool] = {}
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "logs").mkdir(exist_ok=True)

    # --- setup --------------------------------------------------------------------------
    def prepare_database(self) -> None:
        from auth.passwords import Passwords

        self.engine = seed.prepare(
            self.url, self.args.rows, reseed=self.args.reseed,
            passwords=Passwords.from_settings(app_defaults()),
        )
        with self.engine.connect() as conn:
            self.lo, self.hi = conn.execute(text("SELECT min(id), max(id) FROM task")).one()
            self.task_count = conn.execute(text("SELECT count(*) FROM task")).scalar_one()
            self.user_count = conn.execute(text('SELECT count(*) FROM "user"')).scalar_one()
            # The newest task's assignee: a user with a typical share of tasks.
            self.assignee = conn.execute(text(
                "SELECT assignee_id FROM task WHERE assignee_id IS NOT NULL ORDER BY id DESC LIMIT 1"
            )).scalar_one()
            if self.engine.dialect.name == "postgresql":
                self.server_version = conn.execute(text("SHOW server_version")).scalar_one()
                self.database = "PostgreSQL"
            else:
                self.server_version = conn.execute(text("SELECT sqlite_version()")).scalar_one()
                self.database = "SQLite"
        self.search_reference = seed.search_reference(self.engine, self.args.rows)

    def server_env(self) -> dict[str, str]:
        from admin_app.settings import Settings

        ours = {name.upper() for name in Settings.model_fields}
        # Nothing from the caller's shell changes the servers' configuration but what we set.
        env = {k: v for k, v in os.environ.items() if k.upper() not in ours}
        env["DATABASE_URL"] = self.url
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        return env

    def start(self, name: str, argv: list[str], env: dict[str, str], cwd: Path, ready: str) -> Server:
        port = free_port()
        log = RESULTS / "logs" / f"{name}.log"
        process = self.processes.start([*argv, "--port", str(port)], env=env, cwd=cwd, log_path=log)
        server = Server(name, f"http://127.0.0.1:{port}", process, log)
        wait_ready(server, ready)
        print(f"{name}: {server.base} (pid {process.pid}, log {log.relative_to(ROOT)})", flush=True)
        return server

    def start_servers(self) -> None:
        env = self.server_env()
        # Production-like: production mode (Secure __Host- cookie, strong key), SQL echo off.
        ours_env = {**env, "APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48), "DB_ECHO": "false",
                    # The harness logs in with a password alone (its admin has no second factor).
                    "MFA_REQUIRED_ROLES": "",
                    "ALLOWED_HOSTS": "127.0.0.1",  # what the load generators connect to
                    # The same pool as the seed tutorial's engine (bench/tutorial_app.py): with the
                    # default 5 + 10, 16 connections keep opening and closing overflow connections.
                    "DB_POOL_SIZE": "10", "DB_MAX_OVERFLOW": "20", "DB_POOL_TIMEOUT": "30"}
        if self.args.statement_timeout_ms is not None:
            ours_env["DB_STATEMENT_TIMEOUT_MS"] = str(self.args.statement_timeout_ms)
        workers = ["--workers", str(self.args.workers)]
        # cwd outside the project: the app must not read a developer's .env.
        self.ours = self.start(
            "ours", [sys.executable, "-m", "admin_app", "serve", *workers], ours_env, RESULTS, "/healthz"
        )
        uvicorn = [sys.executable, "-m", "uvicorn"]
        self.stock = self.start(
            "stock", [*uvicorn, "bench.stock_app:create_app", "--factory", *workers], env, ROOT, "/admin/"
        )
        self.tutorial = self.start("tutorial", [*uvicorn, "bench.tutorial_app:app", *workers], env, ROOT, "/docs")

    def login(self) -> None:
        """Log in to the admin like a browser (Origin header), keep its cookies; make a token."""
        response = httpx.post(
            self.ours.base + "/admin/login",
            data={"username": seed.ADMIN_EMAIL, "password": seed.ADMIN_PASSWORD},
            headers={"Origin": self.ours.base}, follow_redirects=False, timeout=60,
        )
        if response.status_code not in (302, 303):
            raise RuntimeError(f"admin login answered {response.status_code}: {response.text[:500]}")
        # Secure cookies are not replayed over http by cookie jars: carry them by hand.
        pairs = []
        for header in response.headers.get_list("set-cookie"):
            name, _, value = header.split(";", 1)[0].partition("=")
            if value and value != '""':
                pairs.append(f"{name.strip()}={value.strip()}")
        self.cookie = {"Cookie": "; ".join(pairs)}
        status, _ = self.fetch(self.ours.base + LIST, self.cookie)
        if status != 200:
            raise RuntimeError(f"logged in, but {LIST} answered {status}")
        token = httpx.post(
            self.ours.base + "/api/auth/tokens", json={"name": f"bench {datetime.now():%Y-%m-%d %H:%M}"},
            headers={**self.cookie, "Origin": self.ours.base}, timeout=60,
        )
        if token.status_code == 201:
            self.bearer = {"Authorization": f"Bearer {token.json()['token']}"}
        else:
            print(f"API token: {token.status_code} (API runs use the cookie)", flush=True)

    def warm_up(self) -> None:
        """A short unrecorded load on each server first (pools, statement caches, templates)."""
        targets = [
            (self.ours.base + LIST, self.cookie, None), (self.stock.base + LIST, {}, None),
            (self.tutorial.base + "/tasks/%d", {}, (self.lo, self.hi)),
        ]
        for url, headers, ids in targets:
            measure(Load(url, headers, ids), 4, 2, use_wrk=self.use_wrk)

    # --- measuring ------------------------------------------------------------------------
    @staticmethod
    def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        try:
            response = httpx.get(url, headers=headers or {}, timeout=120, follow_redirects=False)
            return response.status_code, response.text
        except httpx.HTTPError as exc:
            return 0, str(exc)

    def load(
        self, url: str, headers: dict[str, str], connections: int, *,
        id_range: tuple[int, int] | None = None, check=None,  # noqa: ANN001
    ) -> Result | str:
        """A load result, or why there is none ("n/a (404)", "n/a (param ignored)")."""
        probe = url % id_range[0] if id_range else url
        status, body = self.fetch(probe, headers)
        if status != 200:
            return f"n/a ({status})"
        if check is not None and not check(body):
            return "n/a (param ignored)"
        result = measure(Load(url, headers, id_range), connections, self.args.duration, use_wrk=self.use_wrk)
        after, _ = self.fetch(probe, headers)
        if after != 200:  # wrk counts a redirect to the login page as success
            return f"n/a (answered {after} after the run)"
        return result

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(f"  {row.item}: ours {' / '.join(c for c in row.ours if c)}"
              + (f"; {row.comparator_name} {' / '.join(c for c in row.comparator if c)}" if row.comparator_name else "")
              + (f"; {row.verdict}" if row.verdict != INFO else ""), flush=True)

    def differs_from_base(self, who: str):  # noqa: ANN201
        base = self.base_ids.get(who) or []
        return lambda body: not base or task_ids(body) != base

    def admin_item(
        self, item: str, ours_query: str, stock_query: str, *, limit_ms: float,
        target: str, check: bool = False, ours_ok: bool = True, stock_ok: bool = True,
        ours_check=None, notes: str = "",  # noqa: ANN001
    ) -> Result | str:
        ours: Result | str = "n/a (filter ignored)"
        if ours_ok:
            ours = self.load(self.ours.base + LIST + ours_query, self.cookie, 1,
                             check=ours_check or (self.differs_from_base("ours") if check else None))
        stock: Result | str = "n/a (filter ignored)"
        if stock_ok:
            stock = self.load(self.stock.base + LIST + stock_query, {}, 1,
                              check=self.differs_from_base("stock") if check else None)
        verdict, ratio = NA, ""
        if isinstance(ours, Result):
            verdict = PASS if ours.median_ms <= limit_ms and ours.ok else MISS
            if isinstance(stock, Result):
                ratio = f"{stock.median_ms / ours.median_ms:.1f}x"
        self.add(Row(item, cells(ours), cells(stock), STOCK, ratio, target, verdict, notes))
        return ours

    def list_pages(self) -> None:
        for who, server, headers in (("ours", self.ours, self.cookie), ("stock", self.stock, {})):
            status, body = self.fetch(server.base + LIST, headers)
            self.base_ids[who] = task_ids(body) if status == 200 else []
        plain = self.admin_item("List page (25 rows), 1 user", "", "", limit_ms=LIST_MS, target=f"median <= {LIST_MS} ms")
        # The filter panel's "Show counts": one GROUP BY per choice filter (status, priority) in
        # FACET_TIME_BUDGET_MS, or the planner's estimates for a big table; stock has no facets.
        self.admin_item(
            "List page with facets (25 rows, status and priority counted), 1 user", f"?{FACETS}", "",
            limit_ms=LIST_MS, target=f"median <= {LIST_MS} ms", ours_check=lambda body: "facet-count" in body,
            notes=f"ours without facets: {ms(plain.median_ms)} (line above)" if isinstance(plain, Result) else "",
        )
        c = self.args.connections
        ours = self.load(self.ours.base + LIST, self.cookie, c)
        stock = self.load(self.stock.base + LIST, {}, c)
        verdict, ratio = NA, ""
        if isinstance(ours, Result):
            factor = ours.rps / stock.rps if isinstance(stock, Result) and stock.rps else 0.0
            ratio = f"{factor:.1f}x" if factor else ""
            verdict = PASS if ours.rps >= LIST_RPS and factor >= LIST_RATIO and ours.ok else MISS
        self.add(Row(f"List page, {c} users", cells(ours), cells(stock), STOCK, ratio,
                     f">= {LIST_RPS} pages/s and >= {LIST_RATIO}x stock", verdict))

    def searches(self) -> None:
        terms = [
            ("common word", seed.SEARCH_COMMON),
            ("customer name", seed.SEARCH_CUSTOMER),
            ("unique reference", self.search_reference),
        ]
        for label, term in terms:
            query = "?search=" + quote(term)
            self.admin_item(f"Search title/description: {label} '{term}'", query, query,
                            limit_ms=SEARCH_MS, target=f"median <= {SEARCH_MS} ms", check=True)

    def filters(self) -> None:
        target = f"median <= {FILTER_MS} ms"
        status_ok = {}
        for who, server, headers in (("ours", self.ours, self.cookie), ("stock", self.stock, {})):
            status, body = self.fetch(server.base + LIST + "?status=in_progress", headers)
            base = self.base_ids.get(who) or []
            status_ok[who] = status == 200 and (not base or task_ids(body) != base)
        self.admin_item("Filter status = in_progress", "?status=in_progress", "?status=in_progress",
                        limit_ms=FILTER_MS, target=target, check=True)
        self.admin_item(f"Filter assignee = user {self.assignee}", f"?assignee={self.assignee}",
                        f"?assignee_id={self.assignee}", limit_ms=FILTER_MS, target=target, check=True)
        self.admin_item("Filter priority = 4", "?priority=4", "?priority=4",
                        limit_ms=FILTER_MS, target=target, check=True)
        for column in SORTABLE:
            for order in ("asc", "desc"):
                query = f"?sortBy={column}&sort={order}"
                self.admin_item(f"Sort by {column} {order}", query, query, limit_ms=FILTER_MS, target=target)
        query = "?status=pending&page=1000"
        self.admin_item("Page 1,000 of status = pending", query, query, limit_ms=FILTER_MS, target=target,
                        ours_ok=status_ok["ours"], stock_ok=status_ok["stock"])

    # --- exports --------------------------------------------------------------------------
    def download(self, server: Server, path: str, headers: dict[str, str]) -> dict | str:
        """Time an export to the last byte while sampling the server's RSS."""
        wait_idle(server.process.pid, max_wait=30)
        pid = server.process.pid
        before_kib = tree_rss_kib(pid)
        timeout = self.args.export_timeout
        size, first_byte = 0, None
        with RssSampler(pid) as sampler:
            started = time.perf_counter()
            try:
                with httpx.stream("GET", server.base + path, headers=headers, follow_redirects=False,
                                  timeout=httpx.Timeout(timeout, connect=10)) as response:
                    if response.status_code != 200:
                        return f"n/a ({response.status_code})"
                    for chunk in response.iter_raw(1 << 16):
                        if first_byte is None:
                            first_byte = time.perf_counter() - started
                        size += len(chunk)
                        if time.perf_counter() - started > timeout:
                            raise httpx.ReadTimeout("export timeout")
            except httpx.TimeoutException:
                waited = wait_idle(pid)  # the abandoned export may still be running
                return f"timeout > {timeout:.0f} s (server busy {waited:.0f} s more)"
            except httpx.HTTPError as exc:
                return f"failed: {exc}"
            seconds = time.perf_counter() - started
        return {
            "seconds": seconds, "first_byte": first_byte or seconds, "bytes": size,
            "peak_mib": sampler.peak_kib / 1024, "before_mib": before_kib / 1024,
            "hwm_mib": tree_hwm_kib(pid) / 1024,
        }

    @staticmethod
    def export_cells(result: dict | str | None) -> tuple[list[str], str]:
        if result is None:
            return ["skipped", "", ""], ""
        if isinstance(result, str):
            return [result, "", ""], ""
        return (
            [f"{result['seconds']:.2f} s total", f"first byte {ms(result['first_byte'] * 1000)}",
             f"{result['bytes'] / result['seconds'] / 1e6:.1f} MB/s"],
            f"peak RSS {result['peak_mib']:.0f} MiB ({result['before_mib']:.0f} before, "
            f"+{result['peak_mib'] - result['before_mib']:.0f}), {result['bytes'] / 1e6:.1f} MB",
        )

    def exports(self) -> None:
        for kind in ("csv", "json"):
            path = f"/admin/task/export/{kind}"
            ours = self.download(self.ours, path, self.cookie)
            stock = None if self.args.skip_stock_export else self.download(self.stock, path, {})
            ours_cells, ours_notes = self.export_cells(ours)
            stock_cells, stock_notes = self.export_cells(stock)
            verdict, ratio = NA, ""
            if isinstance(ours, dict):
                growth = ours["peak_mib"] - ours["before_mib"]
                fast = ours["seconds"] <= EXPORT_S or kind == "json"
                verdict = PASS if fast and growth <= EXPORT_MB else MISS
                if isinstance(stock, dict):
                    ratio = f"{stock['seconds'] / ours['seconds']:.1f}x"
            target = (f"<= {EXPORT_S} s, <= {EXPORT_MB} MB" if kind == "csv" else f"streamed (<= {EXPORT_MB} MB)")
            notes = f"ours: {ours_notes}" + (f"; stock: {stock_notes}" if stock_notes else "")
            self.add(Row(f"{kind.upper()} export of all {self.task_count:,} rows", ours_cells, stock_cells,
                         STOCK, ratio, target, verdict, notes))

    # --- API ------------------------------------------------------------------------------
    def api_reads(self) -> None:
        c = self.args.connections
        ids = (self.lo, self.hi)
        ours = self.load(self.ours.base + "/api/tasks/%d", self.cookie, c, id_range=ids)
        tutorial = self.load(self.tutorial.base + "/tasks/%d", {}, c, id_range=ids)
        verdict, ratio = NA, ""
        if isinstance(ours, Result):
            if isinstance(tutorial, Result):
                ratio = f"{ours.rps / tutorial.rps:.2f}x"
                verdict = PASS if ours.rps >= tutorial.rps and ours.ok else MISS
            else:
                verdict = MISS
        self.add(Row(f"API GET /api/tasks/{{random id}}, session cookie, {c} connections", cells(ours),
                     cells(tutorial), TUTORIAL, ratio, ">= tutorial req/s", verdict))
        if self.bearer:
            ours = self.load(self.ours.base + "/api/tasks/%d", self.bearer, c, id_range=ids)
            ratio = (f"{ours.rps / tutorial.rps:.2f}x"
                     if isinstance(ours, Result) and isinstance(tutorial, Result) else "")
            self.add(Row(f"API GET /api/tasks/{{random id}}, bearer token, {c} connections", cells(ours),
                         cells(tutorial), TUTORIAL, ratio, "(info)", INFO))

    def api_cursor(self, depth: int = 10_000, limit: int = 50) -> None:
        first = self.ours.base + f"/api/tasks?limit={limit}"
        target = f"deep median <= {CURSOR_RATIO}x first page"
        status, body = self.fetch(first, self.cookie)
        if status != 200:
            self.add(Row(f"API GET /api/tasks cursor page at depth {depth:,}", [f"n/a ({status})", "", ""],
                         ["", "", ""], "", "", target, NA))
            return
        walked, cursor = limit, json.loads(body).get("next_cursor")
        with httpx.Client(headers=self.cookie, timeout=60) as client:
            while cursor and walked < depth:
                page = client.get(first + "&cursor=" + quote(cursor))
                page.raise_for_status()
                cursor = page.json().get("next_cursor")
                walked += limit
        if not cursor:
            self.add(Row(f"API GET /api/tasks cursor page at depth {depth:,}", ["n/a (no next_cursor)", "", ""],
                         ["", "", ""], "", "", target, NA))
            return
        top = self.load(first, self.cookie, 1)
        deep = self.load(first + "&cursor=" + quote(cursor), self.cookie, 1)
        verdict, ratio = NA, ""
        if isinstance(top, Result) and isinstance(deep, Result):
            factor = deep.median_ms / top.median_ms
            ratio = f"{factor:.2f}x"
            verdict = PASS if factor <= CURSOR_RATIO and deep.ok else MISS
        self.add(Row(f"API GET /api/tasks?limit={limit}: cursor page after {walked:,} rows vs first page",
                     cells(deep), cells(top), "ours, first page", ratio, target, verdict))

    def checkpoint(self) -> None:
        """PostgreSQL: flush dirty pages first, so each timed write pays the same full-page
        images (the first change of a page after a checkpoint logs all of it; a write of ~1 GB
        of WAL right after another starts mid-checkpoint and pays more)."""
        if self.engine.dialect.name != "postgresql":
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("CHECKPOINT"))

    def writes(self) -> None:
        """The bulk edit and its revert, `--write-rounds` times in turn: medians, each round noted."""
        bulk_item = "Bulk edit by filter (status = cancelled: set priority), audit included"
        bulk_target = f"<= {BULK_S} s for ~100,000 rows"
        revert_item = "Revert that bulk edit (its change set), audit included"
        bulks: list[float] = []
        reverts: list[float] = []
        count = matched = restored = 0
        summary = ""
        for _ in range(self.args.write_rounds):
            self.checkpoint()
            done = self.bulk_edit()
            if isinstance(done, str):
                self.add(Row(bulk_item, [done, "", ""], ["", "", ""], "", "", bulk_target,
                             NA if done.startswith("n/a") else MISS))
                return
            seconds, count, matched = done
            bulks.append(seconds)
            self.checkpoint()
            undone = self.revert_bulk_edit()
            if isinstance(undone, str):
                self.add(Row(revert_item, [undone, "", ""], ["", "", ""], "", "", "<= the bulk edit",
                             NA if undone.startswith("n/a") else MISS))
                break
            seconds, restored, summary = undone
            reverts.append(seconds)
        bulk_s = statistics.median(bulks)
        rounds = f"{len(bulks)} rounds: " if len(bulks) > 1 else ""
        self.add(Row(f"Bulk edit by filter: {count:,} rows (status = cancelled, set priority), audit included",
                     [f"{bulk_s:.2f} s", "", f"{count / bulk_s:,.0f} rows/s"], ["", "", ""], "", "", bulk_target,
                     PASS if bulk_s <= BULK_S else MISS,
                     f"one request each, {rounds}{', '.join(f'{b:.2f}' for b in bulks)} s; {matched:,} matched"))
        if len(reverts) == len(bulks):
            revert_s = statistics.median(reverts)
            self.add(Row(f"Revert the bulk edit: {restored:,} rows restored, audit included",
                         [f"{revert_s:.2f} s", "", f"{restored / revert_s:,.0f} rows/s"], ["", "", ""], "", "",
                         f"<= the bulk edit ({bulk_s:.2f} s)", PASS if revert_s <= bulk_s else MISS,
                         f"one request each, {rounds}{', '.join(f'{r:.2f}' for r in reverts)} s; {summary}"))

    def bulk_edit(self) -> tuple[float, int, int] | str:
        """One bulk edit: (seconds, rows changed, rows matched), or why it could not be measured."""
        # Only rows whose value changes are written: set a priority the cancelled tasks do not
        # have (an earlier run left them all at one), so every one of them is changed.
        with self.engine.connect() as conn:
            current = conn.execute(text("SELECT priority FROM task WHERE status = 'cancelled' LIMIT 1")).scalar()
        body = {"filter": {"status": ["cancelled"]}, "set": {"priority": (current or 0) % 5 + 1}}
        headers = self.bearer or {**self.cookie, "Origin": self.ours.base}
        started = time.perf_counter()
        try:
            response = httpx.post(self.ours.base + "/api/tasks/bulk", json=body, headers=headers, timeout=600)
        except httpx.HTTPError as exc:
            return f"failed: {exc}"
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            return f"n/a ({response.status_code})"
        answer = response.json()
        count = answer.get("count", 0)
        return seconds, count, answer.get("matched", count)

    def revert_bulk_edit(self) -> tuple[float, int, str] | str:
        """Revert the newest change set (the bulk edit just made): (seconds, rows restored, its summary)."""
        headers = self.bearer or {**self.cookie, "Origin": self.ours.base}
        try:
            latest = httpx.get(self.ours.base + "/api/changes?limit=1", headers=headers, timeout=60).json()["items"][0]
            started = time.perf_counter()
            response = httpx.post(self.ours.base + f"/api/changes/{latest['id']}/revert", json={},
                                  headers=headers, timeout=600)
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
            return f"failed: {exc}"
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            return f"n/a ({response.status_code})"
        return seconds, response.json().get("restorable", 0), latest["summary"]

    def jobs(self) -> None:
        self.job()
        self.import_job()

    def job(self) -> None:
        """Every task (a filter matching all) set to one priority as a background job: its wall
        time from the request to `done`, the list's p99 meanwhile against before; then Undo."""
        headers = self.bearer or {**self.cookie, "Origin": self.ours.base}
        item = f"Bulk edit of all {self.task_count:,} tasks as a job (set priority), audit included"
        with self.engine.connect() as conn:
            top = conn.execute(text("SELECT priority FROM task GROUP BY priority ORDER BY count(*) LIMIT 1")).scalar()
        body = {"filter": {"status": ["pending", "in_progress", "done", "cancelled"]}, "set": {"priority": top or 1},
                "background": True}
        quiet = self.load(self.ours.base + LIST, self.cookie, 1)
        started = time.perf_counter()
        response = httpx.post(self.ours.base + "/api/tasks/bulk", json=body, headers=headers, timeout=600)
        if response.status_code != 202:
            self.add(Row(item, [f"n/a ({response.status_code})", "", ""], ["", "", ""], "", "", "", NA))
            return
        url = self.ours.base + f"/api/jobs/{response.json()['id']}"
        time.sleep(1)
        busy = self.load(self.ours.base + LIST, self.cookie, 1)
        progress_seen = httpx.get(url, headers=headers, timeout=60).json()
        job = progress_seen
        while job["status"] in ("queued", "running", "cancelling"):
            time.sleep(0.5)
            job = httpx.get(url, headers=headers, timeout=60).json()
        seconds = time.perf_counter() - started
        self.add(Row(item, [f"{seconds:.1f} s", "", f"{job['done'] / seconds:,.0f} rows/s"], ["", "", ""], "", "",
                     "finishes, with progress", PASS if job["status"] == "done" else MISS,
                     f"{job['status']}: {job['done']:,} of {job['total']:,} rows, {job['changed']:,} changed; "
                     f"seen at {progress_seen['done']:,} rows with {progress_seen['seconds_left'] or 0:.0f} s left"))
        verdict, ratio = NA, ""
        if isinstance(quiet, Result) and isinstance(busy, Result):
            factor = busy.p99_ms / quiet.p99_ms
            ratio, verdict = f"{factor:.1f}x", PASS if factor <= JOB_LIST_RATIO and busy.ok else MISS
        self.add(Row("List page (1 user) while that job runs", cells(busy), cells(quiet), "ours, no job", ratio,
                     f"p99 <= {JOB_LIST_RATIO}x without", verdict))
        if job.get("change_set_id"):
            started = time.perf_counter()
            undone = httpx.post(self.ours.base + f"/api/changes/{job['change_set_id']}/revert", json={},
                                headers=headers, timeout=1800)
            seconds = time.perf_counter() - started
            restored = undone.json().get("restorable", 0) if undone.status_code == 200 else 0
            self.add(Row(f"Undo that job: {restored:,} rows restored, one transaction",
                         [f"{seconds:.1f} s" if undone.status_code == 200 else f"n/a ({undone.status_code})", "", ""],
                         ["", "", ""], "", "", "", INFO, "a revert is one request and one transaction (all or none)"))

    def import_job(self) -> None:
        """A CSV of IMPORT_ROWS new tasks through the admin as staff do it: upload (the preview),
        confirm (a job, the rows written in chunks), the job's progress followed to `done`; then
        its Undo, which deletes them again (the table stays the size the other lines measure)."""
        item = f"Import of a {IMPORT_ROWS:,}-row CSV (new tasks) as a job, audit included"
        page = self.ours.base + "/admin/task/import-csv"
        origin = {**self.cookie, "Origin": self.ours.base}
        content = "title,description,priority\n" + "".join(
            f"Imported {n},Written by the benchmark,{n % 4 + 1}\n" for n in range(IMPORT_ROWS))
        started = time.perf_counter()
        preview = httpx.post(page, files={"csvfile": ("bench.csv", content.encode(), "text/csv")}, headers=origin,
                             timeout=600)
        token = re.search(r'name="preview" value="([^"]+)"', preview.text)
        previewed = time.perf_counter() - started
        if preview.status_code != 200 or token is None:
            self.add(Row(item, [f"n/a ({preview.status_code})", "", ""], ["", "", ""], "", "", "", NA))
            return
        confirmed = time.perf_counter()
        response = httpx.post(page, data={"preview": html.unescape(token.group(1))}, headers=origin,
                              follow_redirects=False, timeout=600)
        found = re.search(r"/admin/jobs/(\d+)$", response.headers.get("location", ""))
        if response.status_code != 303 or found is None:
            self.add(Row(item, [f"n/a ({response.status_code})", "", ""], ["", "", ""], "", "", "", NA))
            return
        url = self.ours.base + f"/admin/jobs/{found.group(1)}/progress"
        seen, state = None, {"status": "queued"}
        while state["status"] in ("queued", "running", "cancelling"):
            time.sleep(0.25)
            state = httpx.get(url, headers=self.cookie, timeout=60).json()
            if seen is None and 0 < state["done"] < state["total"]:
                seen = state
        seconds = time.perf_counter() - confirmed
        shown = f"seen at {seen['done']:,} of {seen['total']:,} rows, {seen['left'] or 'no estimate yet'}" if seen \
            else "no progress seen between the start and the end"
        self.add(Row(item, [f"{seconds:.1f} s", "", f"{state['done'] / seconds:,.0f} rows/s"], ["", "", ""], "", "",
                     "finishes, with progress", PASS if state["status"] == "done" and seen else MISS,
                     f"{state['status']}: {state['changed']:,} written; preview (upload, every row checked) "
                     f"{previewed:.1f} s before it; {shown}"))
        headers = self.bearer or origin
        job = httpx.get(self.ours.base + f"/api/jobs/{found.group(1)}", headers=headers, timeout=60).json()
        if job.get("change_set_id"):
            started = time.perf_counter()
            undone = httpx.post(self.ours.base + f"/api/changes/{job['change_set_id']}/revert", json={},
                                headers=headers, timeout=1800)
            self.add(Row(f"Undo that import: {undone.json().get('restorable', 0) if undone.status_code == 200 else 0:,}"
                         " rows deleted, one transaction",
                         [f"{time.perf_counter() - started:.1f} s" if undone.status_code == 200
                          else f"n/a ({undone.status_code})", "", ""], ["", "", ""], "", "", "", INFO))

    def login_events(self) -> dict[str, int]:
        """Login events the app's audit trail recorded so far, by action (empty if it has none)."""
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(text(
                    "SELECT action, count(*) FROM audit_entry WHERE action LIKE 'login%' GROUP BY action"
                )).all()
        except Exception:  # noqa: BLE001 (an app without this table: no breakdown)
            return {}
        return {action: n for action, n in rows}

    @staticmethod
    def delta(before: dict[str, int], after: dict[str, int]) -> str:
        changes = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        return ", ".join(f"{k} +{v:,}" for k, v in sorted(changes.items()) if v) or "none recorded"

    def login_attack(self) -> None:
        c = self.args.connections
        list_load = (self.ours.base + LIST, None)
        api_url, api_range = self.ours.base + "/api/tasks/%d", (self.lo, self.hi)
        if self.fetch(api_url % self.lo, self.cookie)[0] != 200:
            api_url, api_range = self.ours.base + "/api/auth/me", None  # the API read that exists today
        api_label = api_url.removeprefix(self.ours.base).replace("%d", "{random id}")
        reads = [("List page", list_load), (f"API GET {api_label}", (api_url, api_range))]
        quiet = [self.load(url, self.cookie, 1, id_range=ids) for _, (url, ids) in reads]
        attack_url = self.ours.base + "/api/auth/login"
        longest = 2 * self.args.duration + 60
        attack = WrkAttack(attack_url, c, longest) if self.use_wrk else HttpxAttack(attack_url, c, longest)
        windows: list[str] = []
        events = self.login_events()
        attack_started = time.monotonic()
        started = attack.start()
        if started is not None:
            self.processes.track(started)
        try:
            time.sleep(2)  # let the attack reach full speed
            loud = []
            for _, (url, ids) in reads:
                before = self.login_events()
                loud.append(self.load(url, self.cookie, 1, id_range=ids))
                windows.append(self.delta(before, self.login_events()))
        finally:
            statuses = attack.stop()
            attack_seconds = time.monotonic() - attack_started
            if started is not None and started in self.processes.children:
                self.processes.children.remove(started)
            total_events = self.delta(events, self.login_events())
            seed.clear_login_throttle(self.engine)
        answered = sum(v for k, v in statuses.items() if k.isdigit())
        mix = ", ".join(f"{k}: {v:,}" for k, v in sorted(statuses.items())) or "none counted"
        for (label, _), base, under, window in zip(reads, quiet, loud, windows, strict=True):
            verdict, ratio = NA, ""
            if isinstance(base, Result) and isinstance(under, Result):
                factor = under.p99_ms / base.p99_ms
                ratio = f"{factor:.1f}x"
                verdict = PASS if factor <= ATTACK_RATIO and under.ok else MISS
            self.add(Row(f"{label} (1 user) while {c} clients hammer POST /api/auth/login", cells(under),
                         cells(base), "ours, no attack", ratio, f"p99 <= {ATTACK_RATIO}x without", verdict,
                         f"login answers over {attack_seconds:.0f} s: {mix} ({answered / attack_seconds:.0f}/s); "
                         f"audit during this line: {window}"))
        print(f"  login attack audit events: {total_events}", flush=True)

    # --- the run ------------------------------------------------------------------------
    def run(self) -> str:
        started = datetime.now()
        self.prepare_database()
        self.start_servers()
        self.login()
        self.warm_up()
        print(f"measuring ({'wrk' if self.use_wrk else 'httpx'}, {self.args.duration:g} s each)", flush=True)
        sections = {
            "lists": self.list_pages, "searches": self.searches, "filters": self.filters,
            "api": self.api_reads, "cursor": self.api_cursor, "exports": self.exports,
            "writes": self.writes, "jobs": self.jobs, "logins": self.login_attack,
        }
        chosen = self.args.only.split(",")
        for name, section in sections.items():
            if name in chosen:
                section()
        meta = {
            "database": self.database, "server": f"{self.database} {self.server_version}",
            "rows": f"{self.task_count:,}", "users": f"{self.user_count:,}",
            "revision": git_revision(ROOT), "duration": f"{self.args.duration:g}",
            "loadgen": "wrk 4.1 (Debian)" if self.use_wrk else "asyncio+httpx (bounded, in the bench process)",
            "workers": str(self.args.workers),
        }
        table = render(self.rows, meta, started, datetime.now())
        self.args.output.parent.mkdir(parents=True, exist_ok=True)
        self.args.output.write_text(table)
        stamp = RESULTS / f"{started:%Y%m%d-%H%M}-{self.database.lower()}-{self.task_count}.md"
        stamp.write_text(table)
        return table


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raw = os.environ.get("DATABASE_URL")
    if not raw:
        print("bench: set DATABASE_URL (postgresql://... or sqlite:///FILE)", file=sys.stderr)
        return 2
    database_url = absolute_sqlite(raw)

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    # Also when started in the background by a shell, which leaves SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    processes = Processes()
    try:
        table = Bench(args, database_url, processes).run()
    except KeyboardInterrupt:
        print("bench: interrupted; stopping the servers", file=sys.stderr)
        return 130
    finally:
        processes.stop_all()
    print()
    print(table)
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
