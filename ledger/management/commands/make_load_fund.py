"""`manage.py make_load_fund [--lines N] [--code CODE]`: a large synthetic fund for load tests.

For the serve database of a load test (scripts/load_test.sh), never for the office's real one: every
name in it says it is synthetic. The lines are written in bulk, straight through the models, each
with its award entry (the ledger's amounts are sums of append-only entries). It does nothing when a
fund with the code exists, so it can run before every load test.
"""

import datetime
import random
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone
from djmoney.money import Money

from audit.context import data_load
from grants.models import Allocation, Fund, Funder, FundingCategory, LedgerEntry, Organisation, ThematicArea

AWARD_DATE = datetime.date(2024, 4, 1)


class Command(BaseCommand):
    help = "Create a large synthetic fund (default 8,000 lines) for load tests."

    def add_arguments(self, parser):
        parser.add_argument("--lines", type=int, default=8000)
        parser.add_argument("--code", default="load-test-fund")
        parser.add_argument("--organisations", type=int, default=400)

    @transaction.atomic
    def handle(self, *args, lines, code, organisations, **options):
        if Fund.objects.filter(code=code).exists():
            self.stdout.write(f"Fund {code} is already there; nothing to do.")
            return
        rng = random.Random(8)  # the same fund every time
        funder, _ = Funder.objects.get_or_create(
            code="load-test-funder", defaults={"name": "Load test funder"}
        )
        themes = [
            ThematicArea.objects.get_or_create(
                code=f"load-theme-{n}", defaults={"name": f"Load test theme {n}"}
            )[0]
            for n in range(1, 6)
        ]
        categories = [
            FundingCategory.objects.get_or_create(
                code=f"load-category-{n}", defaults={"name": f"Load test category {n}"}
            )[0]
            for n in range(1, 6)
        ]
        providers = Organisation.objects.bulk_create(
            Organisation(name=f"Load test provider {code} {n:04d}") for n in range(1, organisations + 1)
        )
        amounts = [Decimal(rng.randrange(50_000, 5_000_000)) / 100 for _ in range(lines)]
        fund = Fund.objects.create(
            code=code,
            name=f"Load test fund ({lines:,} synthetic lines)",
            funder=funder,
            spend_start=datetime.date(2024, 4, 1),
            spend_end=datetime.date(2025, 3, 31),
            control_total=Money(sum(amounts, Decimal("0.00")), "GBP"),
        )
        allocations = Allocation.objects.bulk_create(
            (
                Allocation(
                    fund=fund,
                    line_number=n + 1,
                    organisation=providers[n % organisations],
                    service=f"Service {n // organisations + 1}",
                    thematic_area=themes[n % len(themes)],
                    funding_category=categories[(n // 7) % len(categories)],
                )
                for n in range(lines)
            ),
            batch_size=2000,
        )
        # A data load: the awards stand approved as loaded (audit.context.data_load), so the load
        # test's pages show the amounts.
        with data_load():
            LedgerEntry.objects.bulk_create(
                (
                    LedgerEntry(
                        fund=allocation.fund,
                        allocation=allocation,
                        kind=LedgerEntry.Kind.AWARD,
                        amount=Money(amount, "GBP"),
                        effective_date=AWARD_DATE,
                        memo="Synthetic award for a load test",
                        approved_at=timezone.now(),
                        approved_outside_ledger=True,
                    )
                    for allocation, amount in zip(allocations, amounts, strict=True)
                ),
                batch_size=2000,
            )
        if connection.vendor == "postgresql":
            # Fresh planner statistics, as autovacuum would gather soon after a real bulk load: without
            # them PostgreSQL plans for a handful of lines instead of thousands.
            with connection.cursor() as cursor:
                for model in (Organisation, Allocation, LedgerEntry):
                    cursor.execute(f"ANALYZE {model._meta.db_table}")
        self.stdout.write(f"Fund {code}: {lines:,} lines for {organisations} providers.")
