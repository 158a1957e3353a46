"""What an import is checked against (the ledger as it is now), and the preview of a file."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum

from grants import money
from grants.imports.planning import ExistingLine, ImportPlan, LedgerSnapshot, build_plan
from grants.imports.reading import Mapping, read_workbook
from grants.models import (
    Allocation,
    Approval,
    Fund,
    FundingCategory,
    FundYear,
    ImportValueMapping,
    LedgerEntry,
    Organisation,
    ThematicArea,
    approval_condition,
)
from grants.reconciliation import (
    reconcile,
)
from grants.reconciliation.years import entry_year
from grants.services.limits import line_limits


def import_snapshot(fund: Fund, *, by_year: bool = False) -> LedgerSnapshot:
    """What an import of a file into `fund` is checked against: every organisation, the reference data,
    the fund's lines with their amounts and its reconciliation, and what its earlier imports were told
    the texts of an office's table mean, in a fixed number of queries.

    Amounts are as recorded, approved or awaiting approval: an import's variations, like a form's,
    bring a line's recorded amount to the figure in the file, and its entries await approval too.
    For a table by year (`by_year`), three queries more: the fund's profile, each line's amount in
    each financial year, summed by the database, and each line's limits (its award and payments).
    """
    lines = (
        Allocation.objects.for_fund(fund)
        .with_awarded(Approval.APPROVED_OR_PENDING)
        .order_by("line_number")
        .values_list(
            "pk",
            "line_number",
            "organisation_id",
            "service",
            "thematic_area_id",
            "funding_category_id",
            "awarded",
        )
    )
    snapshot = LedgerSnapshot(
        organisations=list(Organisation.objects.order_by("name")),
        thematic_areas=list(ThematicArea.objects.all()),
        funding_categories=list(FundingCategory.objects.all()),
        lines=[
            ExistingLine(*values[:-1], awarded=money.from_aggregate(values[-1]).amount) for values in lines
        ],
        reconciliation=reconcile(fund, Approval.APPROVED_OR_PENDING),
        value_mappings={
            remembered.text_key: (remembered.thematic_area, remembered.funding_category, remembered.text)
            for remembered in ImportValueMapping.objects.filter(fund=fund).select_related(
                "thematic_area", "funding_category"
            )
        },
    )
    if by_year:
        snapshot.profile_years = frozenset(FundYear.objects.filter(fund=fund).values_list("year", flat=True))
        snapshot.years_by_line = _amounts_by_year(fund)
        snapshot.limits_by_line = line_limits([line.allocation_id for line in snapshot.lines])
    return snapshot


def _amounts_by_year(fund: Fund) -> dict[int, dict[int, Decimal]]:
    """{line id: {start year: amount}}: each line's award and variations (approved or awaiting
    approval) dated in each financial year, a reversal counting in its cancelled entry's year, as
    `grants.reconciliation.years` counts them; one query. Carry-forwards are left out: a table by year
    says what was awarded for each year, and money the funder later agreed to carry into the next
    year was still awarded for the first, so importing the same table again does not undo it."""
    kinds = LedgerEntry.Kind
    rows = (
        LedgerEntry.objects.filter(fund=fund, kind__in=[kinds.AWARD, kinds.VARIATION])
        .filter(approval_condition("", Approval.APPROVED_OR_PENDING))
        .order_by()
        .annotate(start_year=entry_year())
        .values("allocation_id", "start_year")
        .annotate(total=Sum("amount"))
    )
    found: dict[int, dict[int, Decimal]] = {}
    for row in rows:
        amount = money.amount_from_aggregate(row["total"])
        if amount:
            found.setdefault(row["allocation_id"], {})[int(row["start_year"])] = amount
    return found


def import_preview(
    fund: Fund, *, file_name: str, content: bytes, mapping: Mapping | None = None
) -> ImportPlan:
    """What importing `content` into `fund`, read as `mapping` says, would do, written nowhere.
    Raises ImportRefused when the file cannot be read at all; otherwise problems are on the plan."""
    sheet = read_workbook(content, file_name, mapping)
    return build_plan(fund, sheet, import_snapshot(fund, by_year=sheet.by_year), mapping)
