"""Start the servers under test, wait until they answer, watch their memory, stop them all."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen
    log_path: Path


class Processes:
    """Every child process this run started; `stop_all` ends them (each by its own pid)."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen] = []

    def start(self, argv: list[str], *, env: dict[str, str], cwd: Path, log_path: Path) -> subprocess.Popen:
        with open(log_path, "w") as log:
            process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.children.append(process)
        return process

    def track(self, process: subprocess.Popen) -> subprocess.Popen:
        self.children.append(process)
        return process

    def stop(self, process: subprocess.Popen, timeout: float = 15) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process in self.children:
            self.children.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.children)):
            try:
                self.stop(process)
            except Exception as exc:  # noqa: BLE001 (keep stopping the others)
                print(f"could not stop pid {process.pid}: {exc}", file=sys.stderr)


def wait_ready(server: Server, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited {server.process.returncode}:\n{server.log_path.read_text()[-3000:]}"
            )
        try:
            if httpx.get(server.base + path, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.name} did not answer:\n{server.log_path.read_text()[-3000:]}")
        time.sleep(0.2)


# --- memory of a process tree, from /proc ------------------------------------------------

def tree_pids(pid: int) -> list[int]:
    """The process and all its descendants (Linux /proc)."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        try:
            for tid in os.listdir(f"/proc/{current}/task"):
                children = Path(f"/proc/{current}/task/{tid}/children").read_text().split()
                queue.extend(int(c) for c in children)
        except OSError:
            continue
    return pids


def status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kib(pid: int) -> int:
    return sum(status_kib(p, "VmRSS") for p in tree_pids(pid))


def tree_hwm_kib(pid: int) -> int:
    return sum(status_kib(p, "VmHWM") for p in tree_pids(pid))


class RssSampler:
    """Samples the RSS of a process tree every `interval` seconds; `.peak_kib` is the max."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, tree_rss_kib(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.peak_kib = tree_rss_kib(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, tree_rss_kib(self.pid))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process tree."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in tree_pids(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / ticks


def wait_idle(pid: int, max_wait: float = 180, busy: float = 0.1) -> float:
    """Wait until a process tree uses under `busy` CPU-seconds per second (an abandoned
    request may still be running); returns the seconds waited."""
    started = time.monotonic()
    before = cpu_seconds(pid)
    while time.monotonic() - started < max_wait:
        time.sleep(1)
        now = cpu_seconds(pid)
        if now - before < busy:
            break
        before = now
    return time.monotonic() - started
