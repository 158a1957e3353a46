"""What the benchmark measures: a registry of operations, each beside its floor.

An `Operation` pairs "ours" (the product's own code path) with a floor that does the least possible
work for the same result. Both take the `Context` (the generated ledger, a signed-in test client)
and return nothing of interest. To add one, write two small functions and `register()` them; an
operation whose "ours" does not exist yet (`ours=None`) is listed with its floor and a note.
"""

from __future__ import annotations

import datetime
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

import xlsxwriter
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from benchmark.generate import BENCH_USERNAME
from benchmark.urls import TRIVIAL_PAGE
from grants import money
from grants.exports.files import build_moj_return_into
from grants.models import Allocation, Fund, FundingCategory, LedgerEntry, Organisation, ThematicArea
from grants.reconciliation import reconcile, reconcile_all
from grants.reconciliation.years import reconcile_by_year
from grants.years import financial_year

IMPORT_LINES = 10_000


@dataclass(frozen=True)
class Operation:
    key: str
    title: str
    floor_title: str
    ours: Callable[[Context], object] | None
    floor: Callable[[Context], object]
    target: float  # the ratio ours/floor must stay within
    runs: int = 5
    missing: str = ""  # why "ours" is not measured yet
    scaling: bool = False  # measured again at each size of the scaling run


REGISTRY: dict[str, Operation] = {}


def register(operation: Operation) -> Operation:
    REGISTRY[operation.key] = operation
    return operation


class Context:
    """The generated ledger as the operations need it; expensive parts are read once, untimed."""

    def __init__(self, *, scratch: str | None = None, import_lines: int = IMPORT_LINES):
        self.scratch = scratch or tempfile.mkdtemp(prefix="ledger-bench-")
        # Fewer for a tiny ledger (the test suite's), so that the floor stays quick there.
        self.import_lines = import_lines

    def pages(self):
        """Settings for the page measurements: the trivial page's URLconf, and the test client's host."""
        return override_settings(ROOT_URLCONF="benchmark.urls", ALLOWED_HOSTS=["testserver"])

    @cached_property
    def largest_fund(self) -> Fund:
        return Fund.objects.select_related("funder").get(code="bench-0000")

    @cached_property
    def client(self) -> Client:
        client = Client()
        client.force_login(get_user_model().objects.get(username=BENCH_USERNAME))
        return client

    @cached_property
    def names(self) -> dict:
        """Reference names for the floors' roll-ups, read before timing."""
        return {
            "themes": dict(ThematicArea.objects.values_list("pk", "name")),
            "categories": dict(FundingCategory.objects.values_list("pk", "name")),
            "organisations": dict(Organisation.objects.values_list("pk", "name")),
        }

    @cached_property
    def return_cells(self) -> list[tuple]:
        """The MoJ return's Allocations rows as the export writes them, read before timing."""
        rows = (
            Allocation.objects.for_fund(self.largest_fund)
            .with_awarded()
            .order_by("line_number")
            .values_list(
                "line_number",
                "organisation__name",
                "organisation__short_name",
                "service",
                "thematic_area__name",
                "awarded",
                "funding_category__name",
            )
        )
        return [
            (
                number,
                f"{name} ({short})" if short else name,
                service,
                theme,
                money.quantize(Decimal(amount)),
                category,
            )
            for number, name, short, service, theme, amount, category in rows
        ]

    @cached_property
    def import_rows(self) -> list[dict]:
        return import_rows(self)

    @cached_property
    def import_sheet(self) -> bytes:
        return import_sheet(self)

    def get(self, url: str):
        # The URLconf is swapped once per run (`pages()`): swapping it per request would rebuild the
        # URL resolver inside every timed request.
        response = self.client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        return response


# 1. Reconciliation ---------------------------------------------------------------------------------

FLOOR_SQL = """
SELECT {group}
       SUM(CASE WHEN e.approved_at IS NOT NULL THEN e.amount END),
       COUNT(DISTINCT CASE WHEN e.approved_at IS NOT NULL THEN e.allocation_id END),
       SUM(CASE WHEN e.approved_at IS NULL THEN e.amount END),
       COUNT(DISTINCT CASE WHEN e.approved_at IS NULL THEN e.allocation_id END)
FROM grants_allocation a
LEFT JOIN grants_ledgerentry e ON e.allocation_id = a.id AND e.kind IN ('award', 'variation')
{where}
GROUP BY {group_by}
"""


def _exact(value) -> Decimal:
    if value is None:
        return Decimal(0)
    return Decimal(repr(value)) if isinstance(value, float) else value


def _roll_up(rows, keys: dict[str, int | None]) -> dict:
    """Totals and counts per key column (None: all rows together), from the finest-grained rows, in
    plain Decimals."""
    totals: dict = {name: {} for name in keys}
    for row in rows:
        approved, lines, pending, pending_lines = _exact(row[-4]), row[-3], _exact(row[-2]), row[-1]
        for name, column in keys.items():
            key = None if column is None else row[column]
            figures = totals[name].setdefault(key, [Decimal(0), 0, Decimal(0), 0])
            figures[0] += approved
            figures[1] += lines
            figures[2] += pending
            figures[3] += pending_lines
    return {
        name: {key: (money.quantize(f[0]), f[1], money.quantize(f[2]), f[3]) for key, f in groups.items()}
        for name, groups in totals.items()
    }


def reconcile_largest_floor(context: Context) -> dict:
    names = context.names
    with connection.cursor() as cursor:
        cursor.execute(
            FLOOR_SQL.format(
                group="a.funding_category_id, a.thematic_area_id, a.organisation_id,",
                where="WHERE a.fund_id = %s",
                group_by="a.funding_category_id, a.thematic_area_id, a.organisation_id",
            ),
            [context.largest_fund.pk],
        )
        rolled = _roll_up(cursor.fetchall(), {"fund": None, "category": 0, "theme": 1, "organisation": 2})
    # Named as the reconciliation names them.
    rolled["category"] = {names["categories"][k]: v for k, v in rolled["category"].items()}
    rolled["theme"] = {names["themes"][k]: v for k, v in rolled["theme"].items()}
    rolled["organisation"] = {names["organisations"][k]: v for k, v in rolled["organisation"].items()}
    return rolled


def reconcile_all_floor(context: Context) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            FLOOR_SQL.format(
                group="a.fund_id, a.funding_category_id, a.thematic_area_id,",
                where="",
                group_by="a.fund_id, a.funding_category_id, a.thematic_area_id",
            )
        )
        rows = cursor.fetchall()
    by_fund: dict = {}
    for row in rows:
        by_fund.setdefault(row[0], []).append(row[1:])
    return {
        fund: _roll_up(fund_rows, {"fund": None, "category": 0, "theme": 1})
        for fund, fund_rows in by_fund.items()
    }


register(
    Operation(
        key="reconcile-largest",
        title="Reconcile the largest fund (`reconcile(fund)`)",
        floor_title="one GROUP BY (category, theme, organisation) through a raw cursor, rolled up in Python",
        ours=lambda context: reconcile(context.largest_fund),
        floor=reconcile_largest_floor,
        target=1.5,
        scaling=True,
    )
)
register(
    Operation(
        key="reconcile-all",
        title="Reconcile every fund at once (`reconcile_all()`)",
        floor_title="one GROUP BY (fund, category, theme) through a raw cursor, rolled up in Python",
        ours=lambda context: reconcile_all(),
        floor=reconcile_all_floor,
        target=1.5,
        scaling=True,
    )
)


# The financial year an entry falls in, as each database's own date arithmetic says it.
YEAR_OF_ENTRY = {
    "sqlite": "CAST(strftime('%%Y', e.effective_date, '-3 months') AS INTEGER)",
    "postgresql": "CAST(EXTRACT(YEAR FROM e.effective_date - INTERVAL '3 months') AS INTEGER)",
}


BY_YEAR_FLOOR_SQL = """
SELECT {year} AS year, e.kind, a.funding_category_id, a.thematic_area_id,
       SUM(CASE WHEN e.approved_at IS NOT NULL THEN e.amount END),
       COUNT(DISTINCT CASE WHEN e.approved_at IS NOT NULL THEN e.allocation_id END)
FROM grants_ledgerentry e
JOIN grants_allocation a ON a.id = e.allocation_id
WHERE e.fund_id = %s
GROUP BY 1, e.kind, a.funding_category_id, a.thematic_area_id
"""


def reconcile_by_year_floor(context: Context) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            BY_YEAR_FLOOR_SQL.format(year=YEAR_OF_ENTRY[connection.vendor]), [context.largest_fund.pk]
        )
        rows = cursor.fetchall()
    by_year: dict = {}
    for year, kind, category, theme, amount, lines in rows:
        figures = by_year.setdefault(year, {})
        figures[(kind, category, theme)] = (_exact(amount), lines)
    return by_year


register(
    Operation(
        key="reconcile-by-year",
        title="Reconcile the largest fund by financial year (`reconcile_by_year(fund)`)",
        floor_title="one GROUP BY (year, kind, category, theme) over the fund's entries through a raw cursor",
        ours=lambda context: reconcile_by_year(context.largest_fund),
        floor=reconcile_by_year_floor,
        target=1.5,
        # Read from the stored figures by year (issue 16): flat whatever the fund's size, while the
        # floor sums the fund's entries.
        scaling=True,
    )
)


# 2. The MoJ return ---------------------------------------------------------------------------------


def moj_return_ours(context: Context):
    path = os.path.join(context.scratch, "ours.xlsx")
    return build_moj_return_into(context.largest_fund, path)


def moj_return_floor(context: Context):
    """XlsxWriter in constant_memory mode writing the same Allocations cells, and nothing else."""
    workbook = xlsxwriter.Workbook(os.path.join(context.scratch, "floor.xlsx"), {"constant_memory": True})
    sheet = workbook.add_worksheet("Allocations")
    for row, (number, organisation, service, theme, amount, category) in enumerate(context.return_cells, 7):
        sheet.write_number(row, 0, number)
        sheet.write_string(row, 1, organisation)
        if service:
            sheet.write_string(row, 2, service)
        sheet.write_string(row, 3, theme)
        sheet.write_number(row, 4, amount)
        sheet.write_string(row, 5, category)
    workbook.close()


register(
    Operation(
        key="moj-return",
        title="MoJ return of the largest fund (`build_moj_return_into`)",
        floor_title="XlsxWriter constant_memory writing the same Allocations cells (read beforehand)",
        ours=moj_return_ours,
        floor=moj_return_floor,
        target=1.5,
        runs=3,
    )
)


# 3. Pages ------------------------------------------------------------------------------------------


def fund_page_url(context: Context) -> str:
    url = reverse("grants:fund_detail", args=[context.largest_fund.code])
    return f"{url}?funding_category=category-1&sort=-awarded"


register(
    Operation(
        key="fund-page",
        title="Fund page, first page of the table filtered by category and sorted by amount",
        floor_title="a trivial login-protected page through the same test client",
        ours=lambda context: context.get(fund_page_url(context)),
        floor=lambda context: context.get(TRIVIAL_PAGE),
        target=3.0,
        scaling=True,
    )
)


def first_year(context: Context) -> str:
    """The largest fund's first financial year, as `?year=` names it."""
    return financial_year(context.largest_fund.spend_start).label


register(
    Operation(
        key="fund-page-year",
        title="Fund page for one financial year (`?year=`), filtered by category and sorted by amount",
        floor_title="a trivial login-protected page through the same test client",
        ours=lambda context: context.get(f"{fund_page_url(context)}&year={first_year(context)}"),
        floor=lambda context: context.get(TRIVIAL_PAGE),
        target=3.0,
        scaling=True,
    )
)
register(
    Operation(
        key="dashboard-year",
        title="Dashboard for one financial year (`?year=`): every fund's figures for the year",
        floor_title="a trivial login-protected page through the same test client",
        ours=lambda context: context.get(f"{reverse('grants:dashboard')}?year={first_year(context)}"),
        floor=lambda context: context.get(TRIVIAL_PAGE),
        target=3.0,
    )
)
register(
    Operation(
        key="dashboard",
        title="Dashboard (every fund, category totals across all)",
        floor_title="a trivial login-protected page through the same test client",
        ours=lambda context: context.get(reverse("grants:dashboard")),
        floor=lambda context: context.get(TRIVIAL_PAGE),
        target=3.0,
    )
)


# 4. Import -----------------------------------------------------------------------------------------


def import_rows(context: Context) -> list[dict]:
    organisations = list(
        Organisation.objects.order_by("pk").values_list("pk", flat=True)[: context.import_lines]
    )
    theme = ThematicArea.objects.order_by("pk").values_list("pk", flat=True).first()
    category = FundingCategory.objects.order_by("pk").values_list("pk", flat=True).first()
    return [
        {
            "line_number": n,
            "organisation_id": organisations[n % len(organisations)],
            "service": f"Imported service {n}",
            "thematic_area_id": theme,
            "funding_category_id": category,
            "amount": Decimal(1000 + n % 5000) + Decimal("0.25"),
        }
        for n in range(1, context.import_lines + 1)
    ]


def import_floor(context: Context):
    """bulk_create of the sheet's allocation rows and their awards, in a transaction rolled back after."""
    rows = context.import_rows
    funder = context.largest_fund.funder
    with transaction.atomic():
        fund = Fund.objects.create(
            code="bench-import",
            name="Imported fund",
            funder=funder,
            spend_start=datetime.date(2025, 4, 1),
            spend_end=datetime.date(2026, 3, 31),
            control_total=Decimal("1000000.00"),
        )
        allocations = Allocation.objects.bulk_create(
            [
                Allocation(
                    fund=fund,
                    line_number=row["line_number"],
                    organisation_id=row["organisation_id"],
                    service=row["service"],
                    thematic_area_id=row["thematic_area_id"],
                    funding_category_id=row["funding_category_id"],
                )
                for row in rows
            ],
            batch_size=2000,
        )
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    fund=fund,
                    allocation=allocation,
                    kind=LedgerEntry.Kind.AWARD,
                    amount=row["amount"],
                    effective_date=fund.spend_start,
                    memo="Imported award",
                )
                for allocation, row in zip(allocations, rows, strict=True)
            ],
            batch_size=2000,
        )
        transaction.set_rollback(True)


def import_sheet(context: Context) -> bytes:
    """The same rows as an office's .xlsx: No., Organisation, Service, Thematic area, Amount and
    Funding category, with names as a person types them."""
    rows = context.import_rows
    names = dict(
        Organisation.objects.filter(pk__in={row["organisation_id"] for row in rows}).values_list("pk", "name")
    )
    themes = dict(ThematicArea.objects.values_list("pk", "name"))
    categories = dict(FundingCategory.objects.values_list("pk", "name"))
    path = os.path.join(context.scratch, "import.xlsx")
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet = workbook.add_worksheet("Allocations")
    money_format = workbook.add_format({"num_format": "£#,##0.00"})
    sheet.write_row(0, 0, ["No.", "Organisation", "Service", "Thematic area", "Amount", "Funding category"])
    for index, row in enumerate(rows, start=1):
        sheet.write_number(index, 0, row["line_number"])
        sheet.write_string(index, 1, names[row["organisation_id"]])
        sheet.write_string(index, 2, row["service"])
        sheet.write_string(index, 3, themes[row["thematic_area_id"]])
        sheet.write_number(index, 4, row["amount"], money_format)
        sheet.write_string(index, 5, categories[row["funding_category_id"]])
    workbook.close()
    with open(path, "rb") as handle:
        return handle.read()


def import_ours(context: Context):
    """The whole import of the sheet into an empty fund: reading, checking, planning and applying,
    through the same services as the forms, in a transaction rolled back after."""
    from grants import services

    content = context.import_sheet
    with transaction.atomic():
        fund = Fund.objects.create(
            code="bench-import",
            name="Imported fund",
            funder=context.largest_fund.funder,
            spend_start=datetime.date(2025, 4, 1),
            spend_end=datetime.date(2026, 3, 31),
            control_total=Decimal("1000000.00"),
        )
        result = services.allocations_import(
            fund=fund, file_name="import.xlsx", content=content, acting_user=None
        )
        if result.record is None or result.record.lines_added != len(context.import_rows):
            raise RuntimeError(f"The benchmark's import did not add every line: {result.record}")
        transaction.set_rollback(True)


register(
    Operation(
        key="import",
        title=f"Import of a {IMPORT_LINES:,}-line sheet",
        floor_title=f"bulk_create of the same {IMPORT_LINES:,} allocation rows and award entries",
        ours=import_ours,
        floor=import_floor,
        target=3.0,
        runs=3,
    )
)
