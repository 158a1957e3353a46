"""Run registered operations and their floors in the current database."""

from __future__ import annotations

from grants.benchmark.measure import measure
from grants.benchmark.operations import REGISTRY, Context
from grants.benchmark.report import Result


def run_operations(keys: list[str], *, runs: int | None = None, scratch: str | None = None, say=print):
    context = Context(scratch=scratch)
    results = []
    for key in keys:
        operation = REGISTRY[key]
        count = runs or operation.runs
        say(f"Measuring {operation.title}...")
        floor = measure(lambda op=operation: op.floor(context), runs=count)
        ours = None if operation.ours is None else measure(lambda op=operation: op.ours(context), runs=count)
        results.append(Result(operation=operation, ours=ours, floor=floor))
    return results
