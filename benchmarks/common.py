"""Shared by the benchmarks: how busy the machine is, waiting for it to be quiet, and the
Markdown result table."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path


def busy_seconds() -> float | None:
    """CPU seconds the whole machine has been busy (Linux ``/proc/stat``), or None."""
    try:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wait_idle(limit: float) -> None:
    """Wait (up to ``limit`` seconds) until other processes use under 10 % of the CPUs."""
    deadline = time.monotonic() + limit
    told = False
    while time.monotonic() < deadline:
        before = busy_seconds()
        if before is None:
            return
        time.sleep(1.0)
        after = busy_seconds()
        if after is None or after - before < 0.1 * (os.cpu_count() or 1):
            return
        if not told:
            print("  (waiting for the machine to be idle …)", flush=True)
            told = True
    print("  (the machine is still busy: measuring anyway)", flush=True)


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| "
        + " | ".join(
            str(c).rjust(w) if i else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        + " |"
        for r in rows
    ]
    return "\n".join([line, rule, *body])


def machine(*extra: str) -> str:
    """One line on this machine: cores, CPU model, Python and DuckDB versions, and ``extra``."""
    import platform

    import duckdb

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    parts = [
        f"{os.cpu_count()} cores",
        model,
        f"Python {platform.python_version()}",
        f"DuckDB {duckdb.__version__}",
        *extra,
    ]
    return ", ".join(parts)


def ensure_venv(venv: Path, module: str, requirement: str) -> Path:
    """The python of a virtualenv holding a competitor (created with pip on first use)."""
    import subprocess
    import sys

    python = venv / "bin" / "python"
    check = [str(python), "-c", f"import {module}, sys; sys.exit(0)"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"creating {venv} …", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", requirement], check=True)
    return python


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, float | None]:
    """Run a command to its end: its wall and CPU seconds, and other processes' CPU meanwhile.

    Raises:
        SystemExit: The command failed (its output is shown).
    """
    import resource
    import subprocess

    busy_before = busy_seconds()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    busy_after = busy_seconds()
    if proc.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{proc.stderr}{proc.stdout}")
    others = (
        None
        if busy_before is None or busy_after is None
        else max(0.0, busy_after - busy_before - cpu)
    )
    return {"wall": wall, "cpu": cpu, "others": others}


def phase_clock(phases: dict[str, float], prefix: str) -> Callable[[str], None]:
    """``lap(name)``: record the seconds since the previous lap under ``name`` (and say so on
    standard error, behind ``prefix``)."""
    import sys

    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        phases[name] = now - clock
        clock = now
        print(f"{prefix}{name} ({sum(phases.values()):.1f} s)", file=sys.stderr, flush=True)

    return lap
