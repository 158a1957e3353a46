"""Time applying an import of N new lines against a floor: bulk_create of the same rows.

    DATABASE_URL=sqlite:////tmp/import-timing.sqlite3 python scripts/time_import.py 2000 10000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/import_timing python scripts/time_import.py 2000

Uses the database DATABASE_URL names, migrating it first: point it at a scratch database. Each run
imports into a fresh fund with new organisations (so one organisation, one line and one award entry
a row, as a first import of a table does); the floor writes the same three kinds of rows with
bulk_create() in one transaction, audit context and triggers included, with no checks at all.
"""

import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

import openpyxl  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from audit.context import context as audit_context  # noqa: E402
from grants import money, services  # noqa: E402
from grants.models import (  # noqa: E402
    Allocation,
    Fund,
    Funder,
    FundingCategory,
    LedgerEntry,
    Organisation,
    ThematicArea,
)


def workbook(prefix: str, count: int) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Allocations")
    sheet.append(["No.", "Organisation", "Thematic area", "Amount", "Funding category"])
    for number in range(1, count + 1):
        sheet.append(
            [number, f"{prefix} provider {number}", "Domestic Abuse", Decimal("1234.56"), "Category"]
        )
    path = Path(f"/tmp/time-import-{os.getpid()}.xlsx")
    book.save(path)
    content = path.read_bytes()
    path.unlink()
    return content


def new_fund(code: str) -> Fund:
    funder, _ = Funder.objects.get_or_create(code="timing", defaults={"name": "Timing funder"})
    return Fund.objects.create(
        code=code,
        name=code,
        funder=funder,
        spend_start="2020-03-23",
        spend_end="2020-10-31",
        control_total=money.gbp("1000000000.00"),
    )


def time_import(count: int, run: str) -> tuple[float, float]:
    fund = new_fund(f"import-{run}-{count}")
    content = workbook(f"{run}-{count}", count)
    applied = []
    real = services.imports._apply_plan

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            applied.append(time.perf_counter() - started)

    services.imports._apply_plan = timed
    started = time.perf_counter()
    try:
        result = services.allocations_import(fund=fund, file_name="t.xlsx", content=content, acting_user=None)
    finally:
        services.imports._apply_plan = real
    total = time.perf_counter() - started
    assert result.record.lines_added == count, result
    return total, applied[0]


def time_floor(count: int, run: str) -> float:
    fund = new_fund(f"floor-{run}-{count}")
    theme, category = ThematicArea.objects.get(code="da"), FundingCategory.objects.get(code="cat")
    started = time.perf_counter()
    with transaction.atomic(), audit_context(reason="floor"):
        organisations = Organisation.objects.bulk_create(
            Organisation(name=f"floor {run}-{count} provider {number}") for number in range(1, count + 1)
        )
        allocations = Allocation.objects.bulk_create(
            Allocation(
                fund=fund,
                line_number=number,
                organisation=organisation,
                thematic_area=theme,
                funding_category=category,
                source_text=organisation.name,
            )
            for number, organisation in enumerate(organisations, start=1)
        )
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                fund=fund,
                allocation=allocation,
                kind=LedgerEntry.Kind.AWARD,
                amount=money.gbp("1234.56"),
                effective_date=timezone.localdate(),
                memo="floor",
            )
            for allocation in allocations
        )
    return time.perf_counter() - started


def main(counts: list[int]) -> None:
    call_command("migrate", verbosity=0)
    ThematicArea.objects.get_or_create(code="da", defaults={"name": "Domestic Abuse"})
    FundingCategory.objects.get_or_create(code="cat", defaults={"name": "Category"})
    run = str(int(time.time()))
    print(f"{connection.vendor}: lines, import (whole), apply (_apply_plan), floor, apply/floor")
    for count in counts:
        total, apply = time_import(count, run)
        floor = time_floor(count, run)
        print(f"{count:>6} {total:8.2f} s {apply:8.2f} s {floor:8.2f} s {apply / floor:6.2f}x")


if __name__ == "__main__":
    main([int(argument) for argument in sys.argv[1:]] or [2000])
