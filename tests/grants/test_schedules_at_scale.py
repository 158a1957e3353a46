"""Done when (issue 17, schedules): a synthetic fund of 200 lines over two financial years with
quarterly instalments: every line's schedule adds up to its approved amount in each year, the
overdue and due lists and the forecast agree with `Decimal` sums of the same rows, and the reads take
the same number of queries for 20 lines as for 200."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from djmoney.money import Money

from grants import money, selectors, services
from grants.models import FundingCategory, Instalment, LedgerEntry, Organisation, ThematicArea
from grants.services.allocations import AmountChange, NewLine
from grants.years import financial_year
from tests.factories import FundFactory, approve_pending
from tests.grants.test_query_counts import DASHBOARD_QUERIES, FUND_PAGE_QUERIES, audit_user_queries


def day(text):
    return datetime.date.fromisoformat(text)


FIRST_YEAR = {n: Decimal("1000.00") + n + Decimal(n % 7) / 100 for n in range(1, 201)}
SECOND_YEAR = {n: Decimal("800.00") + 2 * n + Decimal(n % 3) / 100 for n in range(1, 201)}


def synthetic_fund(officer, lines: int):
    """Clearly synthetic: `lines` lines awarded in 2023-24 and varied in 2024-25, each with a quarterly
    schedule in arrears over the spend period."""
    fund = FundFactory(
        code=f"synthetic-schedules-{lines}",
        spend_start=day("2023-04-01"),
        spend_end=day("2025-03-31"),
        control_total=Money(Decimal("10000000.00"), "GBP"),
    )
    area, _ = ThematicArea.objects.get_or_create(code="synthetic-area", name="Synthetic area")
    category, _ = FundingCategory.objects.get_or_create(code="synthetic-category", name="Synthetic category")
    organisation, _ = Organisation.objects.get_or_create(name="Example provider (synthetic)")
    created = services.allocations_create(
        fund=fund,
        lines=[
            NewLine(
                line_number=n,
                organisation=organisation,
                thematic_area=area,
                funding_category=category,
                service=f"Service {n}",
                amount=FIRST_YEAR[n],
                effective_date=day("2023-04-03"),
            )
            for n in range(1, lines + 1)
        ],
        memo="Synthetic award",
        acting_user=officer,
    )
    services.allocation_amounts_set(
        changes=[
            AmountChange(
                allocation=line,
                amount=FIRST_YEAR[line.line_number] + SECOND_YEAR[line.line_number],
                effective_date=day("2024-04-02"),
            )
            for line in created
        ],
        memo="Synthetic second year",
        acting_user=officer,
    )
    approve_pending(fund=fund)
    for line in created:
        services.schedule_from_pattern(
            allocation=line, frequency="quarterly", timing="arrears", acting_user=officer
        )
    return fund, created


@pytest.fixture
def fund_of_200(db, officer):
    return synthetic_fund(officer, 200)


def test_a_200_line_fund_over_two_years_adds_up_lists_what_is_due_and_forecasts_to_the_penny(
    fund_of_200, officer, approver
):
    """One 200-line fund (8 quarterly instalments a line), built once for the three checks: building
    it is most of their cost, and each check reads the same fund in the state the one before left."""
    every_lines_schedule_adds_up_to_its_approved_amount_in_each_year(fund_of_200)
    overdue_and_due_lists_agree_with_decimal_sums(fund_of_200, officer, approver)
    the_forecast_agrees_with_decimal_sums(fund_of_200)


def every_lines_schedule_adds_up_to_its_approved_amount_in_each_year(fund_of_200):
    fund, lines = fund_of_200
    assert Instalment.objects.filter(allocation__fund=fund).count() == 200 * 8
    assert selectors.schedule_differences(fund) == []
    planned = selectors.schedules.schedule_totals_by_year(fund)
    for line in lines:
        n = line.line_number
        assert planned[(line.pk, 2023)].amount == FIRST_YEAR[n]
        assert planned[(line.pk, 2024)].amount == SECOND_YEAR[n]
    # The last quarter of each year carries the pennies: line 3's first year is £1,003.03.
    third = Instalment.objects.filter(allocation=lines[2], due_date__lt=day("2024-04-01")).order_by(
        "due_date"
    )
    assert [i.amount.amount for i in third] == [Decimal("250.75")] * 3 + [Decimal("250.78")]


def overdue_and_due_lists_agree_with_decimal_sums(fund_of_200, officer, approver):
    fund, lines = fund_of_200
    # The first quarter of ten lines paid and approved; of five more, paid and awaiting approval.
    for line in lines[:15]:
        first = Instalment.objects.filter(allocation=line).order_by("due_date").first()
        payment = services.payment_record_settling(
            allocation=line,
            instalment=first,
            amount=first.amount,
            effective_date=day("2023-07-01"),
            reference=f"BACS-{line.line_number}",
            acting_user=officer,
        )
        if line in lines[:10]:
            services.entry_approve(entry=payment, acting_user=approver)
    today = day("2024-01-15")
    due = selectors.due_instalments(today=today)
    rows = list(Instalment.objects.filter(allocation__fund=fund).select_related("settled_by"))
    paid = {row.pk for row in rows if row.settled_by is not None and row.settled_by.approved_at is not None}
    overdue = [row.amount.amount for row in rows if row.due_date < today and row.pk not in paid]
    assert len(overdue) == 200 * 3 - 10
    assert (due.overdue.count, due.overdue.total.amount) == (len(overdue), sum(overdue, Decimal("0.00")))
    assert len(due.overdue.rows) == selectors.schedules.LISTED
    assert due.overdue.rows[0].due_date == day("2023-06-30")
    soon = [row.amount.amount for row in rows if today <= row.due_date <= day("2024-02-14")]
    assert soon == []  # the next quarter ends on 31 March
    due = selectors.due_instalments(today=day("2024-03-01"))
    soon = [row.amount.amount for row in rows if day("2024-03-01") <= row.due_date <= day("2024-03-31")]
    assert (due.due_soon.count, due.due_soon.total.amount) == (200, sum(soon, Decimal("0.00")))


def the_forecast_agrees_with_decimal_sums(fund_of_200):
    """With the due lists' payments in place: ten first quarters paid and approved, five awaiting."""
    fund, _lines = fund_of_200
    assert LedgerEntry.objects.filter(fund=fund, kind="payment", approved_at__isnull=True).count() == 5
    forecast = selectors.payment_forecast(fund)
    planned, paid, awaiting = defaultdict(Decimal), defaultdict(Decimal), defaultdict(Decimal)
    for row in Instalment.objects.filter(allocation__fund=fund, settled_by__isnull=True):
        planned[(row.due_date.year, row.due_date.month)] += row.amount.amount
    for entry in LedgerEntry.objects.filter(fund=fund, kind="payment"):
        target = paid if entry.approved_at else awaiting
        target[(entry.effective_date.year, entry.effective_date.month)] += entry.amount.amount
    months = {(row.start.year, row.start.month): row for row in forecast.months}
    assert set(months) == set(planned) | set(paid) | set(awaiting)
    for key, row in months.items():
        assert (row.planned.amount, row.paid.amount, row.awaiting_approval.amount) == (
            planned[key],
            paid[key],
            awaiting[key],
        )
    assert len(forecast.quarters) == 8
    assert forecast.quarters[1].label == "2023-24 Q2"
    july = months[(2023, 7)]
    assert (july.paid.amount, july.awaiting_approval.amount) == (paid[(2023, 7)], awaiting[(2023, 7)])
    approved_total = sum(
        (e.amount.amount for e in LedgerEntry.objects.filter(fund=fund, kind__in=["award", "variation"])),
        Decimal("0.00"),
    )
    assert forecast.totals.total.amount == approved_total
    # Each quarter is the sum of its months.
    for quarter in forecast.quarters:
        in_quarter = [
            row.total.amount
            for row in forecast.months
            if selectors.schedules.quarter_of(row.start) == selectors.schedules.quarter_of(quarter.start)
        ]
        assert quarter.total.amount == sum(in_quarter, Decimal("0.00"))
    assert financial_year(forecast.months[-1].start).label == "2024-25"
    assert money.total([forecast.totals.paid, forecast.totals.awaiting_approval]).amount == sum(
        paid.values(), Decimal("0.00")
    ) + sum(awaiting.values(), Decimal("0.00"))


def test_the_schedule_reads_take_the_same_queries_for_20_lines_and_200(
    db, officer, client, django_assert_num_queries
):
    client.force_login(officer)
    page_queries = []
    for lines in (20, 200):
        fund, created = synthetic_fund(officer, lines)
        with django_assert_num_queries(4):
            due = selectors.due_instalments(today=day("2024-01-15"))
        assert due.overdue.count == (lines + (20 if lines == 200 else 0)) * 3
        with django_assert_num_queries(2):
            forecast = selectors.payment_forecast(fund)
        assert len(forecast.months) == 8
        with django_assert_num_queries(3):
            assert selectors.schedule_differences(fund) == []
        with django_assert_num_queries(3):
            assert len(selectors.line_schedule(created[0]).instalments) == 8
        with django_assert_num_queries(DASHBOARD_QUERIES + audit_user_queries()):
            assert client.get(reverse("grants:dashboard")).status_code == 200
        with CaptureQueriesContext(connection) as fund_page:
            assert client.get(reverse("grants:fund_detail", args=[fund.code])).status_code == 200
        page_queries.append(len(fund_page))
    # The pinned fund page's count less its category filter's query (this request has no filter).
    assert page_queries == [FUND_PAGE_QUERIES - 1 + audit_user_queries()] * 2
