"""Stored figures by financial year (grants/figures/): each line's and each group's money per year,
kept by the triggers as entries are recorded, approved, rejected and reversed and as lines move, and
read by `reconcile_by_year()`. Checked here against a `Decimal` sum of the same entries, in Python.
"""

import datetime
import uuid
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection

from grants import money, services
from grants.figures import GroupYearFigures, LineYearFigures, figures_drift, rebuild_figures
from grants.models import Approval, LedgerEntry
from grants.reconciliation.years import reconcile_by_year
from grants.years import FinancialYear, financial_year
from tests.factories import AllocationFactory, FundFactory, FundingCategoryFactory, ThematicAreaFactory
from tests.grants.test_figures import move

Kind = LedgerEntry.Kind
ZERO = Decimal("0.00")
LAST_DAY = datetime.date(2024, 3, 31)  # the last day of 2023-24
FIRST_DAY = datetime.date(2024, 4, 1)  # the first of 2024-25


def year_of(entry: LedgerEntry) -> int:
    """The entry's year as `reconcile_by_year` counts it: a reversal in its cancelled entry's."""
    dated = entry.reverses.effective_date if entry.reverses_id else entry.effective_date
    return financial_year(dated).start_year


def python_line_years(fund) -> dict[tuple[int, int], dict]:
    """Each (line, year)'s figures as Decimal sums of its entries, in Python."""
    lines: dict[tuple[int, int], dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
    entries = LedgerEntry.objects.filter(fund=fund, allocation__isnull=False).select_related("reverses")
    for entry in entries:
        row = lines[(entry.allocation_id, year_of(entry))]
        amount = entry.amount.amount
        approved, rejected = entry.approved_at is not None, entry.rejected_at is not None
        pending = not approved and not rejected
        if entry.kind in Kind.awarded_kinds():
            if approved:
                row["awarded"] += amount
                row["awarded_entries"] += 1
            elif pending:
                row["awarded_pending"] += amount
                row["pending_awarded_entries"] += 1
        for kind, column in ((Kind.PAYMENT, "paid"), (Kind.UNDERSPEND_RETURNED, "returned")):
            if entry.kind == kind and not rejected:
                row[column] += amount
                if pending:
                    row[f"{column}_pending"] += amount
        row["pending_entries"] += 1 if pending else 0
    return lines


COLUMNS = (
    "awarded",
    "awarded_pending",
    "paid",
    "paid_pending",
    "returned",
    "returned_pending",
    "pending_entries",
    "awarded_entries",
    "pending_awarded_entries",
)


def stored_line_years(fund) -> dict[tuple[int, int], dict]:
    return {
        (row.allocation_id, row.year): {column: getattr(row, column) for column in COLUMNS}
        for row in LineYearFigures.objects.filter(fund=fund)
    }


def assert_year_figures_are_the_entries(fund) -> None:
    """Every line's and group's figures for every year are the Decimal sums of the entries."""
    expected = python_line_years(fund)
    assert stored_line_years(fund) == {
        key: {column: row[column] for column in COLUMNS} for key, row in expected.items()
    }
    groups: dict[tuple, dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
    lines = {line.pk: line for line in fund.allocations.all()}
    for (allocation_id, year), row in expected.items():
        line = lines[allocation_id]
        group = groups[(year, line.funding_category_id, line.thematic_area_id)]
        for column in COLUMNS:
            group[column] += row[column]
        group["line_count"] += 1
        group["awarded_line_count"] += 1 if row["awarded_entries"] else 0
        group["pending_line_count"] += 1 if row["pending_awarded_entries"] else 0
        group["recorded_line_count"] += 1 if row["awarded_entries"] + row["pending_awarded_entries"] else 0
    counts = ("line_count", "awarded_line_count", "pending_line_count", "recorded_line_count")
    stored = {
        (row.year, row.funding_category_id, row.thematic_area_id): {
            column: getattr(row, column) for column in (*COLUMNS, *counts)
        }
        for row in GroupYearFigures.objects.filter(fund=fund)
        if row.line_count  # a group whose lines all moved away stays, empty
    }
    assert stored == {
        key: {column: row[column] for column in (*COLUMNS, *counts)} for key, row in groups.items()
    }
    assert figures_drift() == []


def python_years(fund, approval: Approval) -> dict[int, dict]:
    """Each year's allocated, paid and returned amounts and line count, as `reconcile_by_year`
    should give them, summed in Python."""
    years: dict[int, dict] = defaultdict(
        lambda: {"allocated": ZERO, "paid": ZERO, "returned": ZERO, "lines": set()}
    )
    for entry in LedgerEntry.objects.filter(fund=fund).select_related("reverses"):
        if entry.rejected_at is not None:
            continue
        if approval is Approval.APPROVED and entry.approved_at is None:
            continue
        year, amount = years[year_of(entry)], entry.amount.amount
        if entry.kind in Kind.awarded_kinds():
            year["allocated"] += amount
            year["lines"].add(entry.allocation_id)
        elif entry.kind == Kind.PAYMENT:
            year["paid"] += amount
        elif entry.kind == Kind.UNDERSPEND_RETURNED:
            year["returned"] += amount
    return {start: {**year, "lines": len(year["lines"])} for start, year in years.items()}


def assert_reconciled_as_the_entries_say(fund) -> None:
    for approval in (Approval.APPROVED, Approval.APPROVED_OR_PENDING):
        expected = python_years(fund, approval)
        for year in reconcile_by_year(fund, approval):
            summed = expected.get(
                year.year.start_year, {"allocated": ZERO, "paid": ZERO, "returned": ZERO, "lines": 0}
            )
            assert (year.allocated, year.paid, year.underspend_returned, year.line_count) == (
                money.gbp(summed["allocated"]),
                money.gbp(summed["paid"]),
                money.gbp(summed["returned"]),
                summed["lines"],
            ), (year.year.label, approval)


@pytest.fixture
def fund(db):
    return FundFactory(spend_start=datetime.date(2023, 4, 1), spend_end=datetime.date(2025, 3, 31))


def test_an_entry_counts_in_its_financial_year_awaiting_approval_then_approved(fund, officer, approver):
    line = AllocationFactory(fund=fund, amount=Decimal("1000.00"), effective_date=LAST_DAY, approved=False)
    assert stored_line_years(fund)[(line.pk, 2023)]["awarded_pending"] == Decimal("1000.00")
    assert_year_figures_are_the_entries(fund)

    services.entry_approve(entry=line.entries.get(), acting_user=approver)
    row = stored_line_years(fund)[(line.pk, 2023)]
    assert (row["awarded"], row["awarded_pending"], row["awarded_entries"]) == (Decimal("1000.00"), ZERO, 1)
    group = GroupYearFigures.objects.get(fund=fund, year=2023)
    assert (group.awarded, group.awarded_line_count, group.pending_line_count) == (Decimal("1000.00"), 1, 0)
    assert_year_figures_are_the_entries(fund)
    assert_reconciled_as_the_entries_say(fund)


def test_a_payment_on_the_first_day_of_a_year_counts_in_that_year_and_a_rejected_one_in_none(
    fund, officer, approver
):
    line = AllocationFactory(fund=fund, amount=Decimal("1000.00"), effective_date=LAST_DAY)
    paid = services.payment_record(
        allocation=line, amount="250.10", effective_date=FIRST_DAY, reference="BACS-Y1", acting_user=officer
    )
    mistaken = services.payment_record(
        allocation=line, amount="99.99", effective_date=LAST_DAY, reference="BACS-Y2", acting_user=officer
    )
    assert stored_line_years(fund)[(line.pk, 2024)]["paid_pending"] == Decimal("250.10")
    services.entry_approve(entry=paid, acting_user=approver)
    services.entry_reject(entry=mistaken, reason="Not ours", acting_user=approver)
    years = stored_line_years(fund)
    assert (years[(line.pk, 2024)]["paid"], years[(line.pk, 2024)]["paid_pending"]) == (
        Decimal("250.10"),
        ZERO,
    )
    assert (years[(line.pk, 2023)]["paid"], years[(line.pk, 2023)]["pending_entries"]) == (ZERO, 0)
    assert_year_figures_are_the_entries(fund)
    assert_reconciled_as_the_entries_say(fund)


def test_a_reversal_after_the_year_end_takes_the_money_out_of_the_year_it_was_in(fund, officer, approver):
    line = AllocationFactory(fund=fund, amount=Decimal("1000.00"), effective_date=LAST_DAY)
    payment = services.payment_record(
        allocation=line, amount="400.00", effective_date=LAST_DAY, reference="BACS-R", acting_user=officer
    )
    services.entry_approve(entry=payment, acting_user=approver)
    reversal = services.entry_reverse(entry=payment, memo="Paid twice", acting_user=officer)
    assert reversal.effective_date >= FIRST_DAY  # recorded today, in a later year
    services.entry_approve(entry=reversal, acting_user=approver)

    years = stored_line_years(fund)
    assert years[(line.pk, 2023)]["paid"] == ZERO
    assert all(year == 2023 for _line, year in years)
    assert_year_figures_are_the_entries(fund)
    assert_reconciled_as_the_entries_say(fund)


def test_a_line_moved_to_another_category_takes_its_years_to_that_group(fund, officer, approver):
    line = AllocationFactory(fund=fund, amount=Decimal("700.00"), effective_date=LAST_DAY)
    services.allocation_set_amount(
        allocation=line,
        amount=Decimal("900.00"),
        effective_date=FIRST_DAY,
        memo="Uplift",
        acting_user=officer,
    )
    stays = AllocationFactory(
        fund=fund,
        amount=Decimal("300.00"),
        funding_category=line.funding_category,
        thematic_area=line.thematic_area,
        effective_date=LAST_DAY,
    )
    old_category = line.funding_category
    line.funding_category = FundingCategoryFactory()
    move(line, officer, approver)

    left = GroupYearFigures.objects.get(fund=fund, year=2023, funding_category=old_category)
    assert (left.line_count, left.awarded) == (1, Decimal("300.00"))
    joined = GroupYearFigures.objects.get(fund=fund, year=2023, funding_category=line.funding_category)
    assert (joined.line_count, joined.awarded) == (1, Decimal("700.00"))
    later = GroupYearFigures.objects.get(fund=fund, year=2024, funding_category=line.funding_category)
    assert (later.awarded_pending, later.pending_line_count) == (Decimal("200.00"), 1)
    emptied = GroupYearFigures.objects.get(fund=fund, year=2024, funding_category=old_category)
    assert (emptied.line_count, emptied.awarded_pending, emptied.pending_line_count) == (0, ZERO, 0)
    assert {row.funding_category_id for row in LineYearFigures.objects.filter(allocation=line)} == {
        line.funding_category_id
    }
    assert stays.pk in {row.allocation_id for row in LineYearFigures.objects.filter(fund=fund)}
    assert_year_figures_are_the_entries(fund)
    assert_reconciled_as_the_entries_say(fund)


def test_the_rebuild_gives_the_figures_the_triggers_kept(fund, officer, approver):
    line = AllocationFactory(fund=fund, amount=Decimal("123.45"), effective_date=LAST_DAY)
    services.payment_record(
        allocation=line, amount="23.45", effective_date=FIRST_DAY, reference="BACS-B", acting_user=officer
    )
    kept = stored_line_years(fund)
    LineYearFigures.objects.filter(allocation=line, year=2024).update(paid=Decimal("1.00"))
    assert [drift.column for drift in figures_drift()] == ["paid"]
    rebuild_figures()
    assert stored_line_years(fund) == kept
    assert_year_figures_are_the_entries(fund)


def test_a_fund_with_lines_in_every_category_reconciles_by_year_as_its_entries_say(fund, officer, approver):
    areas = [ThematicAreaFactory(), ThematicAreaFactory()]
    for number, day in enumerate(
        [LAST_DAY, FIRST_DAY, datetime.date(2025, 3, 31), datetime.date(2025, 4, 1)]
    ):
        line = AllocationFactory(
            fund=fund,
            thematic_area=areas[number % 2],
            amount=Decimal("1000.01") + number,
            effective_date=day,
            approved=number % 3 != 0,
        )
        if number % 3:
            services.payment_record(
                allocation=line,
                amount="0.01",
                effective_date=day,
                reference=f"P-{number}",
                acting_user=officer,
            )
    assert_year_figures_are_the_entries(fund)
    assert_reconciled_as_the_entries_say(fund)
    assert [year.year for year in reconcile_by_year(fund)] == [FinancialYear(y) for y in (2023, 2024, 2025)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's triggers see any client's SQL")
def test_an_entry_inserted_with_raw_sql_moves_its_lines_year(fund):
    line = AllocationFactory(fund=fund, amount=Decimal("10.00"), effective_date=LAST_DAY)
    columns = {
        "uuid": uuid.uuid4().hex,
        "fund_id": fund.pk,
        "allocation_id": line.pk,
        "kind": "variation",
        "amount": "2.50",
        "amount_currency": "GBP",
        "effective_date": "2024-04-01",
        "reference": "",
        "memo": "Typed in psql",
        "recorded_at": "2024-04-01 09:30:00+00",
    }
    values = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO grants_ledgerentry ({', '.join(columns)}) VALUES ({values})", list(columns.values())
        )
    row = LineYearFigures.objects.get(allocation=line, year=2024)
    assert (row.awarded_pending, row.pending_awarded_entries) == (Decimal("2.50"), 1)
    group = GroupYearFigures.objects.get(fund=fund, year=2024)
    assert (group.awarded_pending, group.pending_line_count, group.line_count) == (Decimal("2.50"), 1, 1)
    assert_year_figures_are_the_entries(fund)


def test_a_kind_added_to_the_awarded_kinds_reaches_the_year_triggers_and_rebuild(monkeypatch):
    """The year figures are written from the same SQL terms as the others (grants/figures/sql.py):
    a kind another change adds there is counted by year once the triggers are frozen again."""
    from grants.figures import sql
    from grants.figures.postgresql import postgres_statements
    from grants.figures.rebuild import rebuild_statements
    from grants.figures.sqlite import sqlite_triggers

    monkeypatch.setattr(sql, "AWARDED_KINDS", "('award', 'variation', 'carried_forward')")
    sqlite = sqlite_triggers()["grants_entry_figures_insert"]
    year_part = sqlite[sqlite.index("INSERT INTO grants_lineyearfigures") :]
    assert "'carried_forward'" in year_part
    (entry_insert,) = [
        s
        for s in postgres_statements()
        if s.startswith("CREATE OR REPLACE FUNCTION grants_entry_figures_insert()")
    ]
    # The function's second statement is the year figures'.
    assert "'carried_forward'" in entry_insert[entry_insert.rindex("WITH c AS (") :]
    assert "grants_lineyearfigures" in entry_insert[entry_insert.rindex("WITH c AS (") :]
    year_rebuilds = [
        statement
        for vendor in ("sqlite", "postgresql")
        for statement in rebuild_statements(vendor)
        if statement.startswith("INSERT INTO grants_lineyearfigures")
    ]
    assert len(year_rebuilds) == 2
    assert all("'carried_forward'" in statement for statement in year_rebuilds)
