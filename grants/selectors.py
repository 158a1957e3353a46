"""Page-level reads, composed from the models' QuerySet methods."""

from __future__ import annotations

import getpass
import importlib.metadata
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from djmoney.money import Money

from grants import money
from grants.exports.moj_return import MojReturnData, ReturnLine
from grants.models import Allocation, Fund
from grants.reconciliation import FundReconciliation, Status, reconcile, status_for


@dataclass(frozen=True)
class FundSummary:
    fund: Fund
    ledger_total: Money

    @property
    def variance(self) -> Money:
        return money.difference(self.ledger_total, self.fund.control_total)

    @property
    def status(self) -> Status:
        return status_for(self.variance)


def fund_summaries() -> list[FundSummary]:
    """Every fund with its ledger total, in one query."""
    funds = Fund.objects.select_related("funder").with_ledger_total()
    return [FundSummary(fund=fund, ledger_total=money.from_aggregate(fund.ledger_total)) for fund in funds]


@dataclass(frozen=True)
class FundPage:
    fund: Fund
    reconciliation: FundReconciliation
    allocations: QuerySet[Allocation]


def fund_page(fund: Fund) -> FundPage:
    """The fund's facts, its reconciliation and its lines with their amounts."""
    allocations = (
        Allocation.objects.for_fund(fund)
        .select_related("organisation", "thematic_area", "funding_category")
        .with_awarded()
        .order_by("line_number")
    )
    return FundPage(fund=fund, reconciliation=reconcile(fund), allocations=allocations)


def _with_short_name(name: str, short_name: str) -> str:
    return f"{name} ({short_name})" if short_name else name


def _prepared_by(user) -> str:
    if user is None:
        return f"command line ({getpass.getuser()})"
    return user.get_full_name() or user.get_username()


def moj_return_data(fund: Fund, *, user=None) -> MojReturnData:
    """The MoJ return's data: the fund's facts, its reconciliation and its lines as an iterator.

    The lines are read with `.iterator()` as plain values, so a large fund streams through the
    builder. Read them in the same transaction as the reconciliation (`consistent_snapshot()`).
    """
    # Read again inside the caller's snapshot, so the control total and the lines are of one moment.
    fund = Fund.objects.select_related("funder").get(pk=fund.pk)
    lines = (
        Allocation.objects.for_fund(fund)
        .with_awarded()
        .order_by("line_number")
        .values_list(
            "line_number",
            "organisation__name",
            "organisation__short_name",
            "service",
            "thematic_area__name",
            "funding_category__name",
            "awarded",
        )
    )
    return MojReturnData(
        funder=_with_short_name(fund.funder.name, fund.funder.short_name),
        fund_name=fund.name,
        fund_code=fund.code,
        spend_start=fund.spend_start,
        spend_end=fund.spend_end,
        recipient=settings.LEDGER_OFFICE_NAME,
        prepared_by=_prepared_by(user),
        prepared_at=timezone.localtime(),
        product_version=product_version(),
        reconciliation=reconcile(fund),
        lines=(
            ReturnLine(
                line_number=number,
                organisation=_with_short_name(name, short_name),
                service=service,
                thematic_area=theme,
                funding_category=category,
                amount=money.from_aggregate(amount).amount,
            )
            for number, name, short_name, service, theme, category, amount in lines.iterator(chunk_size=2000)
        ),
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
        yield
