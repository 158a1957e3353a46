"""A submitted fund is frozen by the database, not only by the services: raw SQL, the shape of an
admin bypass or a script, is refused while the return is in force and allowed again once reopened;
and a fund with financial years keeps a control total equal to their sum (migration 0023)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from grants import services
from grants.models import Allocation, CategoryBudget, Fund, FundYear, LedgerEntry, LineChange
from grants.years import FinancialYear
from tests.factories import (
    AllocationFactory,
    FundFactory,
    FundingCategoryFactory,
    OrganisationFactory,
    pay,
    submit_return,
)
from tests.grants.test_constraints import insert_with_sql

SUBMITTED = "submitted MoJ return of this fund is in force"
PROFILE = "control total of a fund with financial years is the sum of their figures"


@pytest.fixture
def line(db):
    fund = FundFactory(
        code="moj-vs-2023",
        spend_start=datetime.date(2023, 4, 1),
        spend_end=datetime.date(2025, 3, 31),
        control_total=Decimal("100000.00"),
    )
    return AllocationFactory(fund=fund, amount=Decimal("40000.00"))


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def refused(message: str):
    return pytest.raises(IntegrityError, match=message)


def raw_writes(line, pending: LedgerEntry, approver):
    """Each write a submitted fund refuses, as raw SQL: what a script or a psql session would do."""
    fund = line.fund
    category = FundingCategoryFactory()
    return {
        "a new entry": lambda: insert_with_sql(
            LedgerEntry(
                fund=fund,
                allocation=line,
                kind="variation",
                amount=Decimal("5.00"),
                effective_date=datetime.date(2023, 6, 1),
                memo="raw",
            )
        ),
        "an entry's approval": lambda: sql(
            "UPDATE grants_ledgerentry SET approved_at = %s, approved_by_id = %s WHERE id = %s",
            [timezone.now(), approver.pk, pending.pk],
        ),
        "a line's service": lambda: sql(
            "UPDATE grants_allocation SET service = 'x' WHERE id = %s", [line.pk]
        ),
        "a financial year": lambda: insert_with_sql(
            FundYear(fund=fund, year=2023, control_total=Decimal("100000.00"))
        ),
        "a category budget": lambda: insert_with_sql(
            CategoryBudget(fund=fund, funding_category=category, amount=Decimal("10.00"))
        ),
        "the fund's name": lambda: sql("UPDATE grants_fund SET name = 'Renamed' WHERE id = %s", [fund.pk]),
        "the fund's control total": lambda: sql(
            "UPDATE grants_fund SET control_total = 1 WHERE id = %s", [fund.pk]
        ),
    }


WRITES = [
    "a new entry",
    "an entry's approval",
    "a line's service",
    "a financial year",
    "a category budget",
    "the fund's name",
    "the fund's control total",
]


@pytest.fixture
def submitted(line, officer, approver):
    pending = pay(line, "100.00", officer)
    submission = submit_return(line.fund, approver)
    return pending, submission


@pytest.mark.parametrize("write", WRITES)
def test_raw_sql_cannot_change_a_submitted_fund(line, submitted, approver, write):
    pending, _submission = submitted
    before = (
        Fund.objects.values_list("name", "control_total").get(pk=line.fund_id),
        LedgerEntry.objects.filter(fund=line.fund).count(),
    )

    with refused(SUBMITTED), transaction.atomic():
        raw_writes(line, pending, approver)[write]()

    after = (
        Fund.objects.values_list("name", "control_total").get(pk=line.fund_id),
        LedgerEntry.objects.filter(fund=line.fund).count(),
    )
    assert after == before
    assert LedgerEntry.objects.get(pk=pending.pk).approved_at is None


@pytest.mark.parametrize("write", WRITES)
def test_the_same_raw_sql_is_taken_once_the_fund_is_reopened(line, submitted, approver, write):
    pending, _submission = submitted
    services.fund_reopen(fund=line.fund, reason="A late variation", acting_user=approver)

    with transaction.atomic():
        raw_writes(line, pending, approver)[write]()


def test_a_submitted_funds_notes_may_still_change(line, submitted):
    sql("UPDATE grants_fund SET notes = 'Sent on 3 May' WHERE id = %s", [line.fund_id])

    assert Fund.objects.get(pk=line.fund_id).notes == "Sent on 3 May"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite lets its test runner DELETE rows")
def test_postgresql_refuses_deleting_a_submitted_funds_year(line, approver):
    services.fund_profile_set(
        fund=line.fund,
        figures={FinancialYear(2023): "60000.00", FinancialYear(2024): "40000.00"},
        memo="Award letter",
        acting_user=None,
    )
    submit_return(line.fund, approver)

    with refused(SUBMITTED), transaction.atomic():
        sql("DELETE FROM grants_fundyear WHERE fund_id = %s AND year = 2024", [line.fund_id])

    assert FundYear.objects.filter(fund=line.fund).count() == 2


# ---- A fund with financial years ------------------------------------------------------------------


@pytest.fixture
def profiled(line):
    services.fund_profile_set(
        fund=line.fund,
        figures={FinancialYear(2023): "60000.00", FinancialYear(2024): "40000.01"},
        memo="Award letter",
        acting_user=None,
    )
    return line.fund


def test_raw_sql_cannot_set_a_profiled_funds_total_to_anything_but_its_years_sum(profiled):
    with refused(PROFILE), transaction.atomic():
        sql("UPDATE grants_fund SET control_total = 100000.00 WHERE id = %s", [profiled.pk])

    assert Fund.objects.get(pk=profiled.pk).control_total.amount == Decimal("100000.01")
    # Its own sum is taken, and a fund without years is left alone.
    sql("UPDATE grants_fund SET control_total = 100000.01 WHERE id = %s", [profiled.pk])
    other = FundFactory(control_total=Decimal("5.00"))
    sql("UPDATE grants_fund SET control_total = 6.00 WHERE id = %s", [other.pk])
    assert Fund.objects.get(pk=other.pk).control_total.amount == Decimal("6.00")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite cannot check when a transaction commits"
)
def test_postgresql_refuses_a_years_figure_changed_without_the_funds_total(profiled):
    with refused(PROFILE), transaction.atomic():
        sql(
            "UPDATE grants_fundyear SET control_total = 1.00 WHERE fund_id = %s AND year = 2024",
            [profiled.pk],
        )
        sql("SET CONSTRAINTS grants_fundyear_profile_adds_up IMMEDIATE")

    assert FundYear.objects.get(fund=profiled, year=2024).control_total.amount == Decimal("40000.01")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite cannot check when a transaction commits"
)
@pytest.mark.django_db(transaction=True)
def test_postgresql_takes_the_profiles_own_service_when_its_transaction_commits():
    fund = FundFactory(
        spend_start=datetime.date(2023, 4, 1),
        spend_end=datetime.date(2025, 3, 31),
        control_total=Decimal("100000.00"),
    )
    figures = {FinancialYear(2023): "70000.00", FinancialYear(2024): "29999.99"}

    services.fund_profile_set(fund=fund, figures=figures, memo="Award letter", acting_user=None)
    with refused(PROFILE), transaction.atomic():
        sql("UPDATE grants_fundyear SET control_total = 1.00 WHERE fund_id = %s AND year = 2024", [fund.pk])

    assert Fund.objects.get(pk=fund.pk).control_total.amount == Decimal("99999.99")
    assert FundYear.objects.get(fund=fund, year=2024).control_total.amount == Decimal("29999.99")


# ---- An entry says the truth about its line (migration 0027) -------------------------------------

ENTRY_FUND = "an entry on a line is recorded against the fund the line is in"


def test_raw_sql_cannot_record_an_entry_on_a_line_against_another_fund(line, approver):
    """Entries and figures read the entry's fund: one naming an open fund for a line of a submitted
    fund would walk round the lock and move the submitted fund's figures."""
    other = FundFactory(code="another-fund")
    submit_return(line.fund, approver)
    entry = LedgerEntry(
        fund=other,
        allocation=line,
        kind="variation",
        amount=Decimal("2.50"),
        effective_date=datetime.date(2024, 6, 1),
        memo="raw",
    )

    with refused(ENTRY_FUND), transaction.atomic():
        insert_with_sql(entry)

    assert not LedgerEntry.objects.filter(fund=other).exists()


def test_raw_sql_cannot_move_a_line_to_another_fund(line):
    other = FundFactory(code="another-fund")

    with refused("a line never moves to another fund"), transaction.atomic():
        sql("UPDATE grants_allocation SET fund_id = %s WHERE id = %s", [other.pk, line.pk])

    sql("UPDATE grants_allocation SET service = 'Outreach' WHERE id = %s", [line.pk])  # the positive control
    assert Allocation.objects.values_list("fund_id", "service").get(pk=line.pk) == (line.fund_id, "Outreach")


@pytest.mark.parametrize("decision", ["approved", "rejected"])
def test_raw_sql_cannot_insert_a_carry_forward_leg_already_decided(line, officer, approver, decision):
    leg = LedgerEntry(
        fund=line.fund,
        allocation=line,
        kind="carried_forward",
        amount=Decimal("-1000.00"),
        effective_date=datetime.date(2024, 3, 31),
        reference="MoJ letter",
        memo="raw",
        recorded_by=officer,
        **{f"{decision}_by": approver, f"{decision}_at": timezone.now()},
    )
    if decision == "rejected":
        leg.rejection_reason = "No"

    with refused("only a data load may record one decided"), transaction.atomic():
        insert_with_sql(leg)

    assert not LedgerEntry.objects.filter(kind="carried_forward").exists()


def test_raw_sql_cannot_propose_a_change_to_a_line_of_a_submitted_fund(line, officer, approver):
    other = OrganisationFactory()
    submit_return(line.fund, approver)
    change = LineChange(
        allocation=line,
        fund=line.fund,
        organisation=other,
        service=line.service,
        thematic_area=line.thematic_area,
        funding_category=line.funding_category,
        was_organisation=line.organisation,
        was_service=line.service,
        was_thematic_area=line.thematic_area,
        was_funding_category=line.funding_category,
        reason="raw",
        proposed_by=officer,
    )

    with refused(f"grants_linechange refused: the {SUBMITTED}"), transaction.atomic():
        insert_with_sql(change)

    assert not LineChange.objects.filter(allocation=line).exists()
