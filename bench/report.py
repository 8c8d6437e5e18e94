"""The results table (markdown) and the machine it was measured on."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.load import Result

PASS, MISS, NA, INFO = "PASS", "MISS", "n/a", "info"


@dataclass
class Row:
    item: str
    ours: list[str]  # median, p99, req/s (or whatever the item measures, same three slots)
    comparator: list[str]
    comparator_name: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = INFO
    notes: str = ""


def ms(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    if value >= 100:
        return f"{value:.0f} ms"
    return f"{value:.1f} ms"


def cells(result: Result | str | None) -> list[str]:
    """Median, p99 and requests/s of a load result; an explanation when there is none."""
    if result is None:
        return ["", "", ""]
    if isinstance(result, str):
        return [result, "", ""]
    note = f" ({result.errors} errors)" if result.errors else ""
    return [ms(result.median_ms) + note, ms(result.p99_ms), f"{result.rps:,.1f}"]


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "cpus": str(os.cpu_count()), "cpu": cpu, "ram": ram, "load": load,
        "python": platform.python_version(), "kernel": platform.release(),
    }


def git_revision(root: Path) -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        return rev + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


HEADER = (
    "| # | Item | Ours median | Ours p99 | Ours req/s | Comparator | Comp. median | Comp. p99 "
    "| Comp. req/s | Ratio | Target | Result | Notes |"
)


def render(rows: list[Row], meta: dict[str, str], started: datetime, finished: datetime) -> str:
    m = machine()
    lines = [
        f"# Benchmark: {meta['database']} with {meta['rows']} tasks",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} to {finished:%H:%M} (local time); app revision {meta['revision']}",
        f"- Machine: {m['cpus']} CPUs ({m['cpu']}), {m['ram']} RAM, Linux {m['kernel']}, Python {m['python']}; "
        f"load average at the end {m['load']} (shared machine: numbers are noisy)",
        f"- Database: {meta['database']} ({meta['server']}), {meta['rows']} tasks, {meta['users']} users",
        f"- Load generator: {meta['loadgen']}; {meta['duration']} s per measurement; "
        f"1 connection unless the item says 16; servers: {meta['workers']} uvicorn[standard] "
        f"process{'' if meta['workers'] == '1' else 'es'} each, access log on",
        "- Comparators: stock SQLAdmin `ModelView` (bench/stock_app.py, no auth) and the seed tutorial's "
        "`GET /tasks/{id}` (bench/tutorial_app.py, no auth, echo off)",
        "- Ratio: how many times better ours is (comparator latency / ours, ours req/s / comparator); "
        "for the login-attack and cursor lines, ours under load / ours without (lower is better)",
        "",
        HEADER,
        "|" + "|".join(["---"] * (HEADER.count("|") - 1)) + "|",
    ]
    for number, row in enumerate(rows, 1):
        values = [
            str(number), row.item, *row.ours, row.comparator_name, *row.comparator, row.ratio, row.target,
            row.verdict, row.notes,
        ]
        lines.append("| " + " | ".join(v.replace("|", "\\|") for v in values) + " |")
    verdicts = [row.verdict for row in rows]
    lines += [
        "",
        f"Targets met: {verdicts.count(PASS)}, missed: {verdicts.count(MISS)}, "
        f"not measurable yet (n/a): {verdicts.count(NA)}.",
        "",
    ]
    return "\n".join(lines)
