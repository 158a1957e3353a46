"""Run registered operations and their floors in the current database."""

from __future__ import annotations

from benchmark.measure import measure
from benchmark.operations import IMPORT_LINES, REGISTRY, Context
from benchmark.report import Result


def run_operations(
    keys: list[str],
    *,
    runs: int | None = None,
    warmups: int = 1,
    scratch: str | None = None,
    import_lines=None,
    say=print,
):
    context = Context(scratch=scratch, import_lines=import_lines or IMPORT_LINES)
    results = []
    with context.pages():
        for key in keys:
            results.append(_run(REGISTRY[key], context, runs, warmups, say))
    return results


def _run(operation, context, runs, warmups, say) -> Result:
    count = runs or operation.runs
    say(f"Measuring {operation.title}...")
    floor = measure(lambda: operation.floor(context), runs=count, warmups=warmups)
    ours = (
        None
        if operation.ours is None
        else measure(lambda: operation.ours(context), runs=count, warmups=warmups)
    )
    return Result(operation=operation, ours=ours, floor=floor)
