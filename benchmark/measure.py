"""Median time over several runs after a warm-up, queries of one run, and peak memory of one run.

Each figure comes from its own runs: counting queries and tracing allocations slow the code down, so
they are never part of a timed run.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.test.utils import CaptureQueriesContext


@dataclass(frozen=True)
class Figure:
    median: float  # seconds
    runs: int
    queries: int
    peak_bytes: int  # Python allocations (tracemalloc) at their peak during one run


def measure(function: Callable[[], object], *, runs: int, warmups: int = 1) -> Figure:
    for _ in range(warmups):
        function()
    times = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        function()
    return Figure(
        median=statistics.median(times), runs=runs, queries=len(queries), peak_bytes=peak_memory(function)
    )


def peak_memory(function: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
