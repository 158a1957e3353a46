"""`manage.py bench [--scale N] [--runs N] [--scaling 10000,100000] [--output docs/performance.md]`

Builds a synthetic ledger in a database of its own (`benchmark.database`; never the
configured one), times each registered operation against its floor and prints the table, which is
also written into the output file with a description of the machine.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from benchmark import operations
from benchmark.database import bench_database
from benchmark.generate import generate
from benchmark.operations import IMPORT_LINES
from benchmark.report import machine, results_table, scaling_table, section, write_section
from benchmark.run import run_operations


def _scales(text: str) -> list[int]:
    try:
        return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise CommandError(
            f"--scaling takes sizes separated by commas, e.g. 10000,100000: {error}"
        ) from error


class Command(BaseCommand):
    help = "Benchmark the ledger at scale in a database of its own, against floors doing the least work."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=None,
            help="Allocation lines to generate (default 100,000 on SQLite, 1,000,000 on PostgreSQL).",
        )
        parser.add_argument("--runs", type=int, default=None, help="Timed runs per figure (median taken).")
        parser.add_argument(
            "--only",
            default="",
            help=f"Operations to run, comma-separated: {', '.join(operations.REGISTRY)}.",
        )
        parser.add_argument(
            "--scaling",
            default="",
            help="Also measure the scaling operations at these sizes, each generated afresh (10000,100000).",
        )
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "docs" / "performance.md"))
        parser.add_argument("--no-output", action="store_true", help="Print the table only.")
        parser.add_argument("--keep", action="store_true", help="Keep the benchmark database afterwards.")
        parser.add_argument(
            "--database",
            default=None,
            help="The benchmark database's name (PostgreSQL) or file (SQLite), instead of <name>_bench "
            "or .bench/bench.sqlite3; never the configured database.",
        )

    def handle(self, *args, scale, runs, only, scaling, output, no_output, keep, database, **options):
        if settings.DEBUG:
            self.stderr.write(
                "DEBUG is on: every query is kept in memory and timings suffer. Use `make bench`."
            )
        vendor = connection.vendor
        scale = scale or (1_000_000 if vendor == "postgresql" else 100_000)
        chosen = [key for key in only.split(",") if key] or list(operations.REGISTRY)
        unknown = set(chosen) - set(operations.REGISTRY)
        if unknown:
            raise CommandError(
                f"Unknown operations {sorted(unknown)}; known: {', '.join(operations.REGISTRY)}"
            )
        started = timezone.now().strftime("%Y-%m-%d %H:%M UTC")
        say = self.stdout.write
        with tempfile.TemporaryDirectory(prefix="ledger-bench-") as scratch:
            with bench_database(name=database, keep=keep, say=say):
                say(f"Generating {scale:,} lines...")
                generated = generate(scale, progress=say)
                say(f"Generated in {generated.seconds:.1f} s ({generated.entries:,} entries).")
                results = run_operations(
                    chosen, runs=runs, scratch=scratch, import_lines=min(IMPORT_LINES, scale), say=say
                )
                # Described while connected to the benchmark database: the configured one may not exist.
                described = machine()
                say("\n" + results_table(results))

            def write(scaling_text: str) -> None:
                if no_output:
                    return
                text = section(
                    vendor=vendor,
                    generated=generated,
                    results=results,
                    scaling=scaling_text,
                    started=started,
                    machine=described,
                )
                write_section(Path(output), vendor, text)
                say(f"\nWritten to {output}.")

            # Written at once, so that a long scaling run that fails leaves the main table recorded.
            write("")
            keys = [key for key, op in operations.REGISTRY.items() if op.scaling]
            main = [result for result in results if result.operation.key in keys]
            scaling_rows = (
                [(scale, generated.shape.largest_fund_lines, main)] if len(main) == len(keys) else []
            )
            for size in _scales(scaling):
                with bench_database(name=database, keep=False, say=say):
                    say(f"Scaling: generating {size:,} lines...")
                    sized = generate(size, progress=say)
                    sized_results = run_operations(keys, runs=runs, scratch=scratch, say=say)
                    scaling_rows.append((size, sized.shape.largest_fund_lines, sized_results))
            if _scales(scaling):
                scaling_rows.sort(key=lambda row: row[0])
                scaling_text = scaling_table(scaling_rows)
                say("\n" + scaling_text)
                write(scaling_text)
