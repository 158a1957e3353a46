"""A synthetic ledger: a region's funds, organisations, allocation lines and approved entries.

The shape follows `shape_for(scale)`: by default 200 funds and 5,000 organisations; the largest fund
holds half the lines up to 100,000 (the size the MoJ return is measured at), the rest are spread
evenly. Each line has an award and one or two variations, all approved as loaded (approved_at set,
approved_by and recorded_by empty, as the seed fixture's entries are), so every total counts them.

Rows go in as plain INSERTs in batches (SQLite `executemany`) or `COPY` (PostgreSQL), with
explicit ids into a fresh database, then the planner's statistics are refreshed. Triggers on the
tables fire as they would for any insert, so generation time includes whatever they cost.
Everything is deterministic: the same scale gives the same ledger and the same totals.
"""

from __future__ import annotations

import datetime
import io
import time
import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import connection, transaction

from audit.context import data_load
from grants.models import (
    Allocation,
    CategoryBudget,
    Fund,
    Funder,
    FundFigures,
    FundingCategory,
    GroupFigures,
    LedgerEntry,
    LineFigures,
    Organisation,
    ThematicArea,
)

THEMES = ["Sexual Violence", "Domestic Abuse", "Modern Slavery", "Hate Crime", "Youth Violence", "Fraud"]
CATEGORIES = [
    "Sexual Violence",
    "DA PCC commissioned",
    "DA non PCC commissioned",
    "Other victim services",
    "Restorative justice",
    "ISVA",
    "IDVA",
    "Children and young people",
]
BATCH = 20_000
LOADED_AT = datetime.datetime(2024, 4, 1, 9, 0, tzinfo=datetime.UTC)
BENCH_USERNAME = "bench-officer"


@dataclass(frozen=True)
class Shape:
    lines: int
    funds: int
    organisations: int
    largest_fund_lines: int

    def lines_per_fund(self) -> list[int]:
        """The largest fund first, then the rest of the lines spread evenly over the other funds."""
        rest, others = self.lines - self.largest_fund_lines, self.funds - 1
        return [self.largest_fund_lines] + [
            rest // others + (1 if n < rest % others else 0) for n in range(others)
        ]


def shape_for(scale: int) -> Shape:
    if scale < 4:
        raise ValueError("The scale is a number of allocation lines, at least 4.")
    return Shape(
        lines=scale,
        funds=max(2, min(200, scale // 500)),
        organisations=max(4, min(5000, scale // 20)),
        largest_fund_lines=min(100_000, scale // 2),
    )


@dataclass(frozen=True)
class Generated:
    shape: Shape
    entries: int
    seconds: float
    insert_seconds: float
    largest_fund_code: str


def fund_code(number: int) -> str:
    return f"bench-{number:04d}"


def _pence(value: int) -> str:
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}{value // 100}.{value % 100:02d}"


def _line_money(fund: int, line: int) -> list[tuple[str, int]]:
    """The award and variations of a line, in pence; every other line gets a second variation."""
    award = 100_000 + (line * 7919 + fund * 104_729) % 4_900_000
    first = (line * 31 + fund) % 50_000 - 25_000 or 100
    entries = [("award", award), ("variation", first)]
    if line % 2 == 0:
        entries.append(("variation", (line * 13) % 10_000 + 1))
    return entries


class _Writer:
    """INSERTs rows of one table in batches: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, model, fields: list[str], *, after: _Writer | None = None):
        # Rows that refer to another writer's rows are written after that writer's pending ones.
        self.after = after
        self.table = model._meta.db_table
        columns = [model._meta.get_field(name).column for name in fields]
        self.columns = ", ".join(connection.ops.quote_name(column) for column in columns)
        self.placeholders = ", ".join(["%s"] * len(columns))
        self.rows: list[tuple] = []
        self.count = 0

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if self.after is not None:
            self.after.flush()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                buffer = io.StringIO()
                for row in self.rows:
                    buffer.write("\t".join(r"\N" if value is None else str(value) for value in row))
                    buffer.write("\n")
                buffer.seek(0)
                cursor.cursor.copy_expert(f"COPY {self.table} ({self.columns}) FROM STDIN", buffer)
            else:
                cursor.executemany(
                    f"INSERT INTO {self.table} ({self.columns}) VALUES ({self.placeholders})", self.rows
                )
        self.count += len(self.rows)
        self.rows = []


def generate(scale: int, *, progress=None) -> Generated:
    """Fill the (empty, migrated) current database with a synthetic ledger of `scale` lines."""
    shape = shape_for(scale)
    say = progress or (lambda message: None)
    started = time.perf_counter()
    stamp = connection.ops.adapt_datetimefield_value(LOADED_AT)
    # A data load: its entries stand approved as loaded (audit.context.data_load).
    with transaction.atomic(), data_load():
        _reference_data(shape)
        themes = list(ThematicArea.objects.order_by("pk").values_list("pk", flat=True))
        categories = list(FundingCategory.objects.order_by("pk").values_list("pk", flat=True))
        funder = Funder.objects.create(
            code="bench-funder", name="Synthetic funder", short_name="SF", org_identifier="GB-GOR-D18"
        )
        organisations = _organisations(shape)
        allocations = _Writer(
            Allocation,
            [
                "id",
                "fund",
                "line_number",
                "organisation",
                "service",
                "thematic_area",
                "funding_category",
                "source_text",
                "notes",
                "version",
            ],
        )
        entries = _Writer(
            LedgerEntry,
            [
                "id",
                "uuid",
                "fund",
                "allocation",
                "kind",
                "amount",
                "amount_currency",
                "effective_date",
                "reference",
                "memo",
                "recorded_at",
                "approved_at",
                "approved_outside_ledger",
            ],
            after=allocations,
        )
        budgets = []
        allocation_id = entry_id = 0
        for number, line_count in enumerate(shape.lines_per_fund()):
            start = datetime.date(2019 + number % 7, 4, 1)
            # Whole pence as integers: the control total is the lines' sum, computed before the rows.
            awarded = sum(
                pence for line in range(1, line_count + 1) for _, pence in _line_money(number, line)
            )
            # One fund in four is over-allocated by 29p, like the seed fund; the rest reconcile.
            control = awarded - (29 if number % 4 == 1 else 0)
            fund = Fund.objects.create(
                code=fund_code(number),
                name=f"Synthetic fund {number:04d}",
                funder=funder,
                spend_start=start,
                spend_end=start.replace(year=start.year + 1) - datetime.timedelta(days=1),
                control_total=_pence(max(control, 100)),
            )
            for line in range(1, line_count + 1):
                allocation_id += 1
                organisation = organisations[(line * 7 + number * 13) % len(organisations)]
                allocations.add(
                    (
                        allocation_id,
                        fund.pk,
                        line,
                        organisation,
                        f"Service {line}",
                        themes[line % len(themes)],
                        categories[(line // 3) % len(categories)],
                        "",
                        "",
                        1,
                    )
                )
                effective = connection.ops.adapt_datefield_value(start + datetime.timedelta(days=line % 300))
                for kind, pence in _line_money(number, line):
                    entry_id += 1
                    entries.add(
                        (
                            entry_id,
                            uuid.uuid4().hex,
                            fund.pk,
                            allocation_id,
                            kind,
                            _pence(pence),
                            "GBP",
                            effective,
                            "",
                            kind.capitalize(),
                            stamp,
                            stamp,
                            True,
                        )
                    )
            budgets.append(
                CategoryBudget(
                    fund=fund, funding_category_id=categories[0], amount=_pence(max(awarded // 5, 1))
                )
            )
            if number % 20 == 0:
                say(f"  fund {number + 1} of {shape.funds}: {entries.count:,} entries so far")
        entries.flush()
        CategoryBudget.objects.bulk_create(budgets)
        _bench_user()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), [Allocation, LedgerEntry]):
                    cursor.execute(sql)
    inserted = time.perf_counter()
    _analyze()
    return Generated(
        shape=shape,
        entries=entries.count,
        seconds=time.perf_counter() - started,
        insert_seconds=inserted - started,
        largest_fund_code=fund_code(0),
    )


def _reference_data(shape: Shape) -> None:
    ThematicArea.objects.bulk_create(
        ThematicArea(code=f"theme-{n}", name=name, sort_order=n) for n, name in enumerate(THEMES)
    )
    FundingCategory.objects.bulk_create(
        FundingCategory(code=f"category-{n}", name=name, sort_order=n) for n, name in enumerate(CATEGORIES)
    )


def _organisations(shape: Shape) -> list[int]:
    # One in a hundred has no registered number, so the fund page's open-data list stays realistic.
    Organisation.objects.bulk_create(
        (
            Organisation(
                name=f"Provider {n:05d} Community Interest Company",
                short_name=f"P{n:05d}",
                charity_number="" if n % 100 == 0 else str(1_100_000 + n),
            )
            for n in range(shape.organisations)
        ),
        batch_size=2000,
    )
    return list(Organisation.objects.order_by("pk").values_list("pk", flat=True))


def _bench_user():
    """The finance officer the page measurements log in as."""
    user = get_user_model().objects.create_user(BENCH_USERNAME, password=None)
    user.groups.add(Group.objects.get(name="Finance officer"))
    return user


def _analyze() -> None:
    """Fresh planner statistics (and, on PostgreSQL, a visibility map for index-only scans)."""
    tables = [
        model._meta.db_table
        for model in (Allocation, LedgerEntry, Organisation, Fund, LineFigures, GroupFigures, FundFigures)
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if connection.in_atomic_block:
                for table in tables:
                    cursor.execute(f"ANALYZE {table}")
            else:
                for table in tables:
                    cursor.execute(f"VACUUM ANALYZE {table}")
        else:
            cursor.execute("ANALYZE")
