"""The benchmark's results as a Markdown table, with the machine they were measured on.

`docs/performance.md` keeps one section per database between marker comments; a run replaces its
own database's section and leaves the rest of the file (the notes written by hand) alone.
"""

from __future__ import annotations

import os
import platform
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import django
from django.db import connection

from benchmark.generate import Generated
from benchmark.measure import Figure
from benchmark.operations import Operation


@dataclass(frozen=True)
class Result:
    operation: Operation
    ours: Figure | None
    floor: Figure

    @property
    def ratio(self) -> float | None:
        return None if self.ours is None else self.ours.median / self.floor.median

    @property
    def verdict(self) -> str:
        if self.ratio is None:
            return "not measured"
        return "met" if self.ratio <= self.operation.target else "missed"


def seconds(value: float) -> str:
    return f"{value * 1000:,.1f} ms" if value < 1 else f"{value:,.2f} s"


def megabytes(value: int) -> str:
    return f"{value / 1_000_000:,.1f} MB"


def results_table(results: list[Result]) -> str:
    lines = [
        "| Operation | Ours (median) | Floor (median) | Ratio | Target | Queries (ours / floor) "
        "| Peak memory (ours / floor) | Runs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        op, ours, floor = result.operation, result.ours, result.floor
        if ours is None:
            lines.append(
                f"| {op.title} | {op.missing} | {seconds(floor.median)} | – | ≤ {op.target:g}x "
                f"| – / {floor.queries} | – / {megabytes(floor.peak_bytes)} | {floor.runs} |"
            )
            continue
        lines.append(
            f"| {op.title} | {seconds(ours.median)} | {seconds(floor.median)} | **{result.ratio:.2f}x** "
            f"({result.verdict}) | ≤ {op.target:g}x | {ours.queries} / {floor.queries} "
            f"| {megabytes(ours.peak_bytes)} / {megabytes(floor.peak_bytes)} | {ours.runs} |"
        )
    lines.append("")
    lines.append(
        "Floors: " + "; ".join(f"*{r.operation.title}*: {r.operation.floor_title}" for r in results) + "."
    )
    return "\n".join(lines)


def scaling_table(rows: list[tuple[int, int, list[Result]]]) -> str:
    """rows: (scale, largest fund's lines, results at that scale)."""
    if not rows:
        return ""
    titles = [result.operation.title for result in rows[0][2]]
    header = "| Lines in the ledger | Largest fund | " + " | ".join(titles) + " |"
    lines = [header, "|---:|---:|" + "---:|" * len(titles)]
    for scale, largest, results in rows:
        cells = [
            f"{seconds(r.ours.median)} ({r.ratio:.2f}x, {r.ours.queries} q)" if r.ours else "–"
            for r in results
        ]
        lines.append(f"| {scale:,} | {largest:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        model = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = model.group(1) if model else cpu
        memory = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        ram = f"{int(memory.group(1)) / 1024 / 1024:.1f} GiB RAM" if memory else "RAM unknown"
    except OSError:
        ram = "RAM unknown"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
    else:
        database = f"SQLite {sqlite3.sqlite_version}"
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), {ram}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, Django {django.get_version()}, {database}; "
        f"load average {load} (1, 5, 15 min) when the run ended"
    )


def section(
    *, vendor: str, generated: Generated, results: list[Result], scaling: str, started: str, machine: str
) -> str:
    shape = generated.shape
    parts = [
        f"### {'PostgreSQL' if vendor == 'postgresql' else 'SQLite'}: {shape.lines:,} lines",
        "",
        f"Run {started}. Machine: {machine}.",
        "",
        f"Generated {shape.lines:,} allocation lines and {generated.entries:,} ledger entries "
        f"across {shape.funds:,} funds and {shape.organisations:,} organisations (largest fund "
        f"{shape.largest_fund_lines:,} lines) in {generated.seconds:,.1f} s "
        f"({generated.insert_seconds:,.1f} s inserting, the rest refreshing the planner's statistics).",
        "",
        results_table(results),
    ]
    if scaling:
        parts += [
            "",
            "Scaling (each size generated afresh; ratio against the same floor, same run):",
            "",
            scaling,
        ]
    return "\n".join(parts) + "\n"


HEADER = """# Performance

Measured by `make bench` (see the README, "Performance"). Each figure is the median of several runs
after a warm-up, in one process; the ratio compares our code with its floor within the same run, so
load from other work on the machine affects both sides alike. Queries are counted, and peak memory
traced (Python allocations, `tracemalloc`), in runs of their own.

"""


def write_section(path: Path, vendor: str, text: str) -> None:
    start, end = f"<!-- bench:{vendor}:start -->", f"<!-- bench:{vendor}:end -->"
    block = f"{start}\n{text}{end}"
    existing = path.read_text() if path.exists() else HEADER
    if start in existing and end in existing:
        before, rest = existing.split(start, 1)
        after = rest.split(end, 1)[1]
        updated = before + block + after
    else:
        updated = existing.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(updated)
