"""Helpers for tests that start the real app in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import FAST_ARGON2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INITIAL_ADMIN_", "APP_ENV"))}
    env["DATABASE_URL"] = database_url
    env["LOGIN_THROTTLE_DELAY_SECONDS"] = "0"  # tests hit the throttle on purpose
    env["MFA_REQUIRED_ROLES"] = ""  # as in make_settings: the tests of the policy turn it on
    env["FACET_TIME_BUDGET_MS"] = env["VIEW_COUNT_BUDGET_MS"] = "60000"  # as in make_settings
    env.update({k.upper(): str(v) for k, v in FAST_ARGON2.items()})
    env.update(extra)
    return env


@contextmanager
def running_server(database_url: str, cwd: Path, *args: str, **extra_env: str):
    """Start `admin-app serve` on a free port; yield (base_url, process, output file)."""
    with running_servers(1, database_url, cwd, *args, **extra_env) as [server]:
        yield server


@contextmanager
def running_servers(count: int, database_url: str, cwd: Path, *args: str, **extra_env: str):
    """Start `count` serve processes at once (each on its own port); yield their triples."""
    servers = [_start(database_url, cwd, args, extra_env) for _ in range(count)]
    try:
        for base, process, log_path in servers:
            _wait_until_up(base, process, log_path)
        yield servers
    finally:
        for _base, process, _log in servers:
            _stop(process)


def _start(database_url: str, cwd: Path, args: tuple[str, ...], extra_env: dict[str, str]):  # noqa: ANN202
    port = free_port()
    log_path = cwd / f"serve-{port}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "admin_app", "serve", "--port", str(port), *args],
            cwd=cwd, env=serve_env(database_url, **extra_env), stdout=log, stderr=subprocess.STDOUT,
        )
    return f"http://127.0.0.1:{port}", process, log_path


def _wait_until_up(base: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"serve did not answer:\n{log_path.read_text()}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def recorded_statements(engine):  # noqa: ANN001, ANN201
    """The SQL statements `engine` runs inside the block, less the per-transaction setup
    (the statement timeout set at each BEGIN on PostgreSQL), which is bookkeeping."""
    from sqlalchemy import event

    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        if not statement.startswith("SELECT set_config('statement_timeout'"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def recorded_thread_hops(monkeypatch) -> list[str]:  # noqa: ANN001
    """The functions sent to a worker thread (anyio.to_thread.run_sync) from now on, by name."""
    import anyio.to_thread

    asked: list[str] = []
    real = anyio.to_thread.run_sync

    async def run_sync(func, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        asked.append(getattr(func, "__qualname__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", run_sync)
    return asked
