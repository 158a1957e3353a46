"""Run registered operations and their floors in the current database."""

from __future__ import annotations

from grants.benchmark.measure import measure
from grants.benchmark.operations import REGISTRY, Context
from grants.benchmark.report import Result


def run_operations(keys: list[str], *, runs: int | None = None, scratch: str | None = None, say=print):
    context = Context(scratch=scratch)
    results = []
    with context.pages():
        for key in keys:
            results.append(_run(REGISTRY[key], context, runs, say))
    return results


def _run(operation, context, runs, say) -> Result:
    count = runs or operation.runs
    say(f"Measuring {operation.title}...")
    floor = measure(lambda: operation.floor(context), runs=count)
    ours = None if operation.ours is None else measure(lambda: operation.ours(context), runs=count)
    return Result(operation=operation, ours=ours, floor=floor)
