"""The benchmark runs at a tiny scale inside the suite, so that it cannot rot."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection

from benchmark.database import bench_database_name
from benchmark.generate import Shape, fund_code, generate, shape_for
from benchmark.operations import REGISTRY, Context, reconcile_largest_floor
from benchmark.report import results_table, write_section
from benchmark.run import run_operations
from grants import money
from grants.models import Allocation, LedgerEntry
from grants.reconciliation import Status, reconcile, reconcile_all

TINY = 60


def test_the_default_shapes_are_a_region_and_a_national_body():
    assert shape_for(100_000) == Shape(
        lines=100_000, funds=200, organisations=5000, largest_fund_lines=50_000
    )
    assert shape_for(1_000_000).largest_fund_lines == 100_000
    for scale in [4, 60, 12_345, 1_000_000]:
        assert sum(shape_for(scale).lines_per_fund()) == scale


def test_the_generated_ledger_is_approved_as_loaded_and_reconciles_to_the_penny(db):
    generated = generate(TINY)
    assert Allocation.objects.count() == TINY
    entries = LedgerEntry.objects.all()
    assert entries.count() == generated.entries
    # Every line has its award and one or two variations, all approved with no approver or recorder.
    assert TINY * 2 < generated.entries < TINY * 3
    assert entries.filter(approved_at__isnull=True).count() == 0
    assert entries.filter(approved_by__isnull=False).count() == 0
    assert entries.filter(recorded_by__isnull=False).count() == 0
    results = {result.fund_code: result for result in reconcile_all()}
    assert results[fund_code(0)].status is Status.RECONCILED
    # One fund in four is 29p over, like the seed fund.
    assert results[fund_code(1)].variance == money.gbp("0.29")


def test_the_reconciliation_floor_gives_the_same_figures(db):
    generate(TINY)
    context = Context()
    ours = reconcile(context.largest_fund)
    floor = reconcile_largest_floor(context)
    (total, lines, pending, pending_lines) = next(iter(floor["fund"].values()))
    assert (money.gbp(total), lines, pending, pending_lines) == (
        ours.ledger_total,
        ours.line_count,
        Decimal("0.00"),
        0,
    )
    assert {row.name: (row.amount.amount, row.line_count) for row in ours.by_category} == {
        name: (figures[0], figures[1]) for name, figures in floor["category"].items()
    }
    assert len(floor["organisation"]) == len(ours.by_organisation)


def test_every_operation_runs_against_its_floor(db, tmp_path):
    generate(TINY)
    results = run_operations(
        list(REGISTRY), runs=1, warmups=0, scratch=str(tmp_path), import_lines=20, say=lambda _: None
    )
    assert [result.operation.key for result in results] == list(REGISTRY)
    for result in results:
        assert result.floor.median > 0
        assert result.ours.median > 0 and result.ours.queries > 0 and result.ratio > 0
    table = results_table(results)
    assert "| Import of a 10,000-line sheet |" in table
    assert "measured after" not in table
    assert (tmp_path / "ours.xlsx").stat().st_size > 0
    assert (tmp_path / "import.xlsx").stat().st_size > 0
    # Each import ran in a transaction rolled back after it: nothing of it stays.
    assert not Allocation.objects.filter(fund__code="bench-import").exists()


def test_the_report_replaces_only_its_own_database_section(tmp_path):
    path = tmp_path / "performance.md"
    write_section(path, "sqlite", "first sqlite\n")
    write_section(path, "postgresql", "postgresql\n")
    path.write_text(path.read_text() + "\nNotes written by hand.\n")
    write_section(path, "sqlite", "second sqlite\n")
    text = path.read_text()
    assert "second sqlite" in text and "first sqlite" not in text
    assert "postgresql\n" in text and text.endswith("Notes written by hand.\n")


def test_the_benchmark_database_is_never_the_configured_one():
    sqlite = bench_database_name(
        {"ENGINE": "django.db.backends.sqlite3", "NAME": str(settings.BASE_DIR / "db.sqlite3")}
    )
    assert sqlite == str(Path(settings.BASE_DIR) / ".bench" / "bench.sqlite3")
    assert (
        bench_database_name({"ENGINE": "django.db.backends.postgresql", "NAME": "ledger"}) == "ledger_bench"
    )


def test_manage_py_bench_writes_its_table_from_a_database_of_its_own(tmp_path):
    """The whole command, as `make bench` runs it, on whichever database DATABASE_URL names."""
    if connection.vendor == "postgresql":
        database = f"{connection.settings_dict['NAME']}_cmd"  # the test database's name, plus _cmd
    else:
        database = str(tmp_path / "bench.sqlite3")
    output = tmp_path / "performance.md"
    completed = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "bench",
            "--scale",
            "40",
            "--runs",
            "1",
            "--only",
            "reconcile-largest,import",
            "--output",
            str(output),
            "--database",
            database,
        ],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    report = output.read_text()
    assert "Reconcile the largest fund" in report
    assert "Import of a 10,000-line sheet" in report and "measured after" not in report
    assert f"<!-- bench:{connection.vendor}:start -->" in report
    assert not Path(database).exists()
