"""HTTP load: wrk when installed (parsed from --latency), else a bounded asyncio+httpx loop."""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

LUA = Path(__file__).parent / "lua"


@dataclass
class Load:
    """What to request: one URL, or a %d template filled with a random id in [lo, hi]."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    id_range: tuple[int, int] | None = None

    def sample_url(self, rng: random.Random | None = None) -> str:
        if self.id_range is None:
            return self.url
        return self.url % (rng or random).randint(*self.id_range)


@dataclass
class Result:
    median_ms: float
    p99_ms: float
    rps: float
    requests: int
    errors: int  # non-2xx/3xx answers plus socket errors and timeouts
    tool: str

    @property
    def ok(self) -> bool:
        return self.requests > 0 and self.errors == 0


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_wrk(output: str) -> Result:
    """Median, p99, requests/s and errors from `wrk --latency` output."""
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, flags=re.M))
    requests = re.search(r"^\s*(\d+) requests in", output, flags=re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, flags=re.M)
    if not (requests and rps and "50" in percentiles and "99" in percentiles):
        raise ValueError(f"unreadable wrk output:\n{output}")
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    return Result(
        median_ms=_ms(percentiles["50"]), p99_ms=_ms(percentiles["99"]), rps=float(rps.group(1)),
        requests=int(requests.group(1)), errors=errors, tool="wrk",
    )


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def wrk_argv(load: Load, connections: int, duration: float, script: str | None = None,
             script_args: list[str] | None = None) -> list[str]:
    argv = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
        "--timeout", "60s",
    ]
    for name, value in load.headers.items():
        argv += ["-H", f"{name}: {value}"]
    if load.id_range is not None and script is None:
        script, script_args = "random_id.lua", [_path(load.url), *map(str, load.id_range)]
    if script:
        argv += ["-s", str(LUA / script)]
    argv.append(load.url if load.id_range is None else _origin(load.url) + "/")
    if script_args:
        argv += ["--", *script_args]
    return argv


def _origin(url: str) -> str:
    parts = httpx.URL(url)
    return f"{parts.scheme}://{parts.host}:{parts.port}"


def _path(url: str) -> str:
    return url[len(_origin(url)):]


def run_wrk(load: Load, connections: int, duration: float) -> Result:
    argv = wrk_argv(load, connections, duration)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 90)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


async def _httpx_load(load: Load, connections: int, duration: float) -> Result:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    rng = random.Random(7)
    async with httpx.AsyncClient(headers=load.headers, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        deadline = started + duration

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    response = await client.get(load.sample_url(rng))
                    await response.aread()
                    if response.status_code >= 400:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append((time.perf_counter() - t0) * 1000)

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    if not latencies:
        return Result(0, 0, 0, 0, errors, "httpx")
    return Result(
        median_ms=latencies[len(latencies) // 2],
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        rps=len(latencies) / elapsed, requests=len(latencies), errors=errors, tool="httpx",
    )


def run_httpx(load: Load, connections: int, duration: float) -> Result:
    return asyncio.run(_httpx_load(load, connections, duration))


def measure(load: Load, connections: int, duration: float, *, use_wrk: bool) -> Result:
    if use_wrk:
        return run_wrk(load, connections, duration)
    return run_httpx(load, connections, duration)


class WrkAttack:
    """wrk posting wrong logins with distinct emails until stopped; counts answers by status."""

    def __init__(self, url: str, connections: int, max_seconds: float) -> None:
        self.argv = [
            "wrk", "-t2", f"-c{connections}", f"-d{round(max_seconds)}s", "--timeout", "60s",
            "-s", str(LUA / "login_attack.lua"), url, "--", _origin(url),
        ]
        self.process: subprocess.Popen | None = None
        self.output = ""

    def start(self) -> subprocess.Popen:
        self.process = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        return self.process

    def stop(self) -> dict[str, int]:
        """SIGINT makes wrk stop early and still print its summary (and the Lua done())."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.output, _ = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.output, _ = self.process.communicate()
        statuses = {code: int(n) for code, n in re.findall(r"^status (\d+) (\d+)$", self.output, flags=re.M)}
        errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", self.output)
        if errors and sum(map(int, errors.groups())):
            statuses["socket errors"] = sum(map(int, errors.groups()))
        return statuses


class HttpxAttack:
    """The same attack without wrk: `connections` asyncio clients in a thread."""

    def __init__(self, url: str, connections: int, max_seconds: float) -> None:
        self.url = url
        self.connections = connections
        self.max_seconds = max_seconds
        self.statuses: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        origin = _origin(self.url)
        deadline = time.monotonic() + self.max_seconds
        counter = 0
        async with httpx.AsyncClient(timeout=60, headers={"Origin": origin}) as client:

            async def worker(n: int) -> None:
                nonlocal counter
                while not self._stop.is_set() and time.monotonic() < deadline:
                    counter += 1
                    body = {"email": f"victim-{n}-{counter}@example.com", "password": f"wrong password {counter}"}
                    try:
                        status = str((await client.post(self.url, json=body)).status_code)
                    except httpx.HTTPError:
                        status = "socket errors"
                    self.statuses[status] = self.statuses.get(status, 0) + 1

            await asyncio.gather(*(worker(n) for n in range(self.connections)))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join(timeout=90)
        return dict(self.statuses)
