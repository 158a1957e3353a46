"""The data of a fund's MoJ return, read from the ledger in a consistent snapshot."""

from __future__ import annotations

import getpass
import importlib.metadata
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone

from grants import money
from grants.exports.moj_return_format import MojReturnData, ReturnLine
from grants.models import (
    Allocation,
    Fund,
    LedgerEntry,
)
from grants.reconciliation import FundReconciliation
from grants.reconciliation.outturn import FundOutturn, fund_outturn, year_outturns
from grants.reconciliation.years import (
    YearReconciliation,
    entry_year,
    reconcile_by_year,
    year_reconciliation,
)
from grants.selectors.funds import stored_reconciliation, with_short_name
from grants.years import FinancialYear


def _prepared_by(user) -> str:
    if user is None:
        return f"command line ({getpass.getuser()})"
    return user.get_full_name() or user.get_username()


def moj_return_data(fund: Fund, *, user=None, year: FinancialYear | None = None) -> MojReturnData:
    """The MoJ return's data: the fund's facts, its reconciliation and outturn, and its lines as an
    iterator; with `year` (one of the fund's profile, `selectors.return_year()`), that year's only.

    The lines are read with `.iterator()` as plain values, so a large fund streams through the
    builder. Read them in the same transaction as the reconciliation (`consistent_snapshot()`).
    """
    # Read again inside the caller's snapshot, so the control total and the lines are of one moment.
    fund = Fund.objects.select_related("funder").get(pk=fund.pk)
    by_year = reconcile_by_year(fund)
    # Each line's approved award and variations, summed from the (allocation, kind, approved_at)
    # index in line-number order: no GROUP BY over the fund's entries, no sort, and no pass over the
    # whole ledger to find which lines have something approved.
    approved = LedgerEntry.objects.filter(allocation=OuterRef("pk")).awarded().approved().order_by()

    def summed(entries) -> Subquery:
        return Subquery(entries.values("allocation").annotate(total=Sum("amount")).values("total"))

    def in_year(start_year: int):
        return approved.alias(entry_year=entry_year()).filter(entry_year=start_year)

    if year is not None:
        chosen = year_reconciliation(by_year, year, fund)
        awarded, columns = summed(in_year(year.start_year)), ()
        reconciliation = _year_as_fund_reconciliation(fund, chosen)
        outturn = FundOutturn([column for column in year_outturns(by_year) if column.year == chosen.year])
    else:
        awarded = summed(approved)
        has_profile = by_year[0].fund_has_profile
        columns = tuple(row.year for row in by_year) if has_profile else ()
        # From the stored figures (a few rows, not every entry of the ledger again): the builder
        # adds up the lines it writes, which are summed from the entries, and refuses a return
        # whose lines do not give these totals by category, by thematic area and in all.
        reconciliation = stored_reconciliation(fund)
        outturn = fund_outturn(by_year, fund.control_total, fund.spend_start, fund.spend_end)
    # A column per year, each summed in the same query: the number of queries does not grow.
    per_year = {f"in_{column.start_year}": summed(in_year(column.start_year)) for column in columns}
    lines = (
        Allocation.objects.for_fund(fund)
        .annotate(awarded=awarded, **per_year)
        .order_by("line_number")
        .values_list(
            "line_number",
            "organisation__name",
            "organisation__short_name",
            "service",
            "thematic_area__name",
            "funding_category__name",
            "awarded",
            *per_year,
        )
    )
    return MojReturnData(
        funder=with_short_name(fund.funder.name, fund.funder.short_name),
        fund_name=fund.name,
        fund_code=fund.code,
        spend_start=fund.spend_start,
        spend_end=fund.spend_end,
        recipient=settings.LEDGER_OFFICE_NAME,
        prepared_by=_prepared_by(user),
        prepared_at=timezone.localtime(),
        product_version=product_version(),
        reconciliation=reconciliation,
        lines=(
            ReturnLine(
                number,
                with_short_name(name, short_name),
                service,
                theme,
                category,
                money.amount_from_aggregate(amount),
                tuple(None if part is None else money.amount_from_aggregate(part) for part in parts)
                if parts
                else (),
            )
            for number, name, short_name, service, theme, category, amount, *parts in lines.iterator(
                chunk_size=2000
            )
            # A line with nothing approved yet (in the year) sums to NULL, and is not on the return
            # (README, "Financial controls").
            if amount is not None
        ),
        outturn=outturn,
        year=year,
        years=columns,
    )


def _year_as_fund_reconciliation(fund: Fund, year: YearReconciliation) -> FundReconciliation:
    """A year's reconciliation in the shape the return's sheets show: the year's lines against the
    year's control total."""
    return FundReconciliation(
        fund_code=fund.code,
        fund_name=fund.name,
        control_total=year.control_total,
        ledger_total=year.allocated,
        line_count=year.line_count,
        pending_total=year.pending_total,
        pending_line_count=year.pending_line_count,
        by_category=year.by_category,
        by_thematic_area=year.by_thematic_area,
    )


def product_version() -> str:
    try:
        return importlib.metadata.version("grant-ledger")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


@contextmanager
def consistent_snapshot():
    """Reads that concurrent writes cannot change half-way through, where the database allows it.

    On PostgreSQL a REPEATABLE READ, READ ONLY transaction. On SQLite a transaction would take the
    write lock (transaction_mode IMMEDIATE) and hold every writer off for the whole export, so reads
    go without one; the MoJ return's builder checks that the lines it wrote add up to the
    reconciliation it was given and refuses a return that mixes two moments. Inside an outer
    transaction (tests, say) the outer one decides.
    """
    if connection.vendor != "postgresql":
        yield
        return
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                # JIT compiling costs more than it saves on these index probes (docs/performance.md).
                cursor.execute("SET LOCAL jit = off")
        yield
