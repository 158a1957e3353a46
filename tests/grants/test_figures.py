"""Stored figures (grants/figures.py): kept by the database's triggers, read by the pages, and
checked against the entries.

Besides these tests, `figures_agree_with_entries` (tests/conftest.py) compares every stored figure
with the entries after every test that touches the database.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grants import money, selectors, services
from grants.figures import FundFigures, GroupFigures, LineFigures, figures_drift
from grants.models import Allocation, CategoryBudget, Fund, LedgerEntry
from grants.reconciliation import category_subtotals, reconcile, reconciliation_from_rows
from tests.factories import (
    AllocationFactory,
    CategoryBudgetFactory,
    FundFactory,
    FundingCategoryFactory,
    OrganisationFactory,
    ThematicAreaFactory,
)

DAY = datetime.date(2020, 9, 1)
gbp = money.gbp


def line_figures(allocation) -> dict:
    row = LineFigures.objects.get(allocation=allocation)
    return {
        "awarded": row.awarded,
        "awarded_pending": row.awarded_pending,
        "paid": row.paid,
        "returned": row.returned,
        "pending_entries": row.pending_entries,
    }


def group_of(allocation) -> GroupFigures:
    return GroupFigures.objects.get(
        fund=allocation.fund_id,
        funding_category=allocation.funding_category_id,
        thematic_area=allocation.thematic_area_id,
    )


def test_every_trigger_that_keeps_the_figures_is_installed(db):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT event_object_table, lower(event_manipulation) FROM information_schema.triggers "
                "WHERE trigger_name LIKE '%%figures%%'"
            )
            installed = set(cursor.fetchall())
        else:
            cursor.execute(
                "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%figures%'"
            )
            installed = {
                (table, re.search(r"AFTER (INSERT|UPDATE|DELETE)", sql).group(1).lower())
                for table, sql in cursor.fetchall()
            }
    tables = ("grants_ledgerentry", "grants_allocation", "grants_linefigures", "grants_lineyearfigures")
    assert installed == {(table, event) for table in tables for event in ("insert", "update", "delete")}


def test_each_entry_moves_its_line_group_and_fund_figures_as_it_is_recorded_and_approved(
    db, officer, approver
):
    fund = FundFactory(control_total=gbp("5000.00"))
    line = AllocationFactory(fund=fund, amount=Decimal("1000.00"), approved=False, acting_user=officer)
    assert line_figures(line) == {
        "awarded": Decimal("0.00"),
        "awarded_pending": Decimal("1000.00"),
        "paid": Decimal("0.00"),
        "returned": Decimal("0.00"),
        "pending_entries": 1,
    }
    group = group_of(line)
    assert (group.line_count, group.awarded_line_count, group.pending_line_count) == (1, 0, 1)

    services.entry_approve(entry=line.entries.get(), acting_user=approver)
    payment = services.payment_record(
        allocation=line, amount="400.00", effective_date=DAY, reference="BACS-1", acting_user=officer
    )
    # Underspend comes back from approved payments only (a payment awaiting approval may be rejected).
    services.entry_approve(entry=payment, acting_user=approver)
    services.underspend_record(
        allocation=line, amount="50.00", effective_date=DAY, reference="REM-1", acting_user=officer
    )
    services.funder_return_record(
        fund=fund, amount="25.00", effective_date=DAY, reference="RTF-1", acting_user=officer
    )
    assert line_figures(line) == {
        "awarded": Decimal("1000.00"),
        "awarded_pending": Decimal("0.00"),
        "paid": Decimal("400.00"),
        "returned": Decimal("50.00"),
        "pending_entries": 1,
    }
    group = group_of(line)
    assert (group.line_count, group.awarded_line_count, group.pending_line_count, group.pending_entries) == (
        1,
        1,
        0,
        1,
    )
    assert group.awarded == Decimal("1000.00")
    held = FundFigures.objects.get(fund=fund)
    assert (held.returned_to_funder, held.pending_entries) == (Decimal("25.00"), 1)

    page = selectors.fund_page(fund)
    assert page.money.awarded == gbp("1000.00")
    assert page.money.paid == gbp("400.00")
    assert page.money.returned_by_providers == gbp("50.00")
    assert page.money.returned_to_funder == gbp("25.00")
    assert page.money.pending_entries == 2
    assert page.reconciliation == reconcile(fund, by_organisation=False)


def test_approving_money_returned_to_the_funder_leaves_nothing_awaiting(db, officer, approver):
    fund = FundFactory(control_total=gbp("500.00"))
    entry = services.funder_return_record(
        fund=fund, amount="75.00", effective_date=DAY, reference="RTF-2", acting_user=officer
    )
    services.entry_approve(entry=entry, acting_user=approver)
    held = FundFigures.objects.get(fund=fund)
    assert (held.returned_to_funder, held.pending_entries) == (Decimal("75.00"), 0)
    assert selectors.fund_page(fund).money.pending_entries == 0


def test_a_reversal_takes_its_amount_back_out_of_the_line(db, officer, approver):
    line = AllocationFactory(amount=Decimal("1000.00"))
    payment = services.payment_record(
        allocation=line, amount="300.00", effective_date=DAY, reference="BACS-2", acting_user=officer
    )
    services.entry_approve(entry=payment, acting_user=approver)
    services.entry_reverse(entry=payment, memo="Paid twice", acting_user=officer)
    assert line_figures(line)["paid"] == Decimal("0.00")
    assert line_figures(line)["pending_entries"] == 1


def move(line, officer, approver) -> None:
    """Change a line with approved money through its proposal and someone else's approval."""
    services.allocation_update(allocation=line, acting_user=officer, reason="Recoded by the MoJ")
    change = line.changes.get()
    services.line_change_approve(change=change, acting_user=approver)
    line.refresh_from_db()


def test_a_line_moved_to_another_category_takes_its_money_to_that_group(db, officer, approver):
    fund = FundFactory()
    line = AllocationFactory(fund=fund, amount=Decimal("700.00"))
    AllocationFactory(
        fund=fund,
        amount=Decimal("300.00"),
        funding_category=line.funding_category,
        thematic_area=line.thematic_area,
    )
    before = group_of(line)
    line.funding_category = FundingCategoryFactory()
    move(line, officer, approver)

    before.refresh_from_db()
    assert (before.line_count, before.awarded_line_count, before.awarded) == (1, 1, Decimal("300.00"))
    after = group_of(line)
    assert (after.line_count, after.awarded_line_count, after.awarded) == (1, 1, Decimal("700.00"))
    assert LineFigures.objects.get(allocation=line).funding_category_id == line.funding_category_id


def test_a_line_removed_before_any_entry_leaves_its_group_empty(db):
    fund = FundFactory()
    line = Allocation.objects.create(
        fund=fund,
        line_number=1,
        organisation=OrganisationFactory(),
        thematic_area=ThematicAreaFactory(),
        funding_category=FundingCategoryFactory(),
    )
    group = group_of(line)
    assert group.line_count == 1
    line_id = line.pk
    line.delete()
    group.refresh_from_db()
    assert group.line_count == 0
    assert not LineFigures.objects.filter(allocation_id=line_id).exists()
    assert selectors.fund_page(fund).reconciliation.by_category == []


def test_the_stored_reconciliation_is_the_one_derived_from_the_entries(db, officer):
    fund = FundFactory(control_total=gbp("10000.00"))
    sexual_violence, domestic_abuse = FundingCategoryFactory(), FundingCategoryFactory()
    area = ThematicAreaFactory()
    AllocationFactory(fund=fund, funding_category=sexual_violence, thematic_area=area, amount=Decimal("0.10"))
    AllocationFactory(fund=fund, funding_category=sexual_violence, amount=Decimal("0.20"))
    AllocationFactory(fund=fund, funding_category=domestic_abuse, amount=Decimal("999.99"), approved=False)
    CategoryBudgetFactory(fund=fund, funding_category=sexual_violence, amount=gbp("1.00"))
    ring_fenced_unused = FundingCategoryFactory()
    CategoryBudgetFactory(fund=fund, funding_category=ring_fenced_unused, amount=gbp("5.00"))

    stored = reconciliation_from_rows(
        fund, selectors.fund_groups(fund), CategoryBudget.objects.filter(fund=fund)
    )
    assert stored == reconcile(fund, by_organisation=False)
    assert stored.ledger_total == gbp("0.30")
    assert stored.pending_total == gbp("999.99")
    assert stored.by_category[-1].name == ring_fenced_unused.name
    assert stored.by_category[-1].budget == gbp("5.00")


def test_the_dashboard_totals_are_those_derived_from_the_entries(db):
    funds = [FundFactory(), FundFactory()]
    category = FundingCategoryFactory()
    for fund in funds:
        AllocationFactory(fund=fund, funding_category=category, amount=Decimal("10.05"))
        AllocationFactory(fund=fund, amount=Decimal("20.10"))
        CategoryBudgetFactory(fund=fund, funding_category=category, amount=gbp("20.00"))
    dashboard = selectors.dashboard([])
    assert dashboard.by_category == category_subtotals(
        Allocation.objects.filter(fund__in=funds), CategoryBudget.objects.filter(fund__in=funds)
    )
    assert [summary.ledger_total for summary in selectors.fund_summaries()] == [gbp("30.15"), gbp("30.15")]


def test_a_figure_changed_by_hand_is_reported_to_the_penny_and_repaired(db, capsys):
    line = AllocationFactory(amount=Decimal("100.00"))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE grants_linefigures SET awarded = awarded + 0.01 WHERE allocation_id = %s", [line.pk]
        )
    drift = figures_drift()
    where = f"allocation {line.pk} (fund {line.fund_id}, line {line.line_number})"
    assert [(item.where, item.column) for item in drift] == [(where, "awarded")]
    assert "awarded is stored as 100.01, the entries say 100.00" in str(drift[0])

    with pytest.raises(SystemExit) as exit_info:
        call_command("check_figures")
    assert exit_info.value.code == 1
    assert "awarded is stored as 100.01" in capsys.readouterr().err

    call_command("check_figures", "--repair")
    assert "they agree now" in capsys.readouterr().out
    assert figures_drift() == []
    assert group_of(line).awarded == Decimal("100.00")


def test_a_missing_group_is_reported(db):
    line = AllocationFactory(amount=Decimal("100.00"))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM grants_groupfigures")
    assert {item.where for item in figures_drift()} == {
        f"group of fund {line.fund_id}, funding category {line.funding_category_id}, "
        f"thematic area {line.thematic_area_id}"
    }
    call_command("check_figures", "--repair")
    assert figures_drift() == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statement triggers")
def test_a_bulk_insert_updates_each_group_once_not_once_a_line(db):
    """PostgreSQL keeps every version of a row updated many times in one transaction, and each
    update walks them all: a bulk insert must not update a group once per entry."""
    fund = FundFactory()
    category, area = FundingCategoryFactory(), ThematicAreaFactory()
    lines = [
        Allocation(
            fund=fund,
            line_number=number,
            organisation=OrganisationFactory(),
            thematic_area=area,
            funding_category=category,
        )
        for number in range(1, 201)
    ]
    Allocation.objects.bulk_create(lines)

    def group_updates() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'grants_groupfigures'"
            )
            return cursor.fetchone()[0]

    before = group_updates()
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            fund=fund,
            allocation=line,
            kind=LedgerEntry.Kind.AWARD,
            amount=gbp("12.34"),
            effective_date=DAY,
            memo="Award",
        )
        for line in lines
    )
    assert group_updates() - before == 1
    group = GroupFigures.objects.get(fund=fund)
    assert (group.line_count, group.pending_line_count, group.awarded_pending) == (
        200,
        200,
        Decimal("2468.00"),
    )


def test_figures_are_rolled_back_with_the_write_that_moved_them(db, officer):
    line = AllocationFactory(amount=Decimal("100.00"))
    with pytest.raises(RuntimeError), transaction.atomic():
        services.payment_record(
            allocation=line, amount="40.00", effective_date=DAY, reference="BACS-3", acting_user=officer
        )
        raise RuntimeError("the request failed after the payment")
    assert line_figures(line)["paid"] == Decimal("0.00")
    assert Fund.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's test runner empties tables with DELETE")
def test_tables_emptied_one_by_one_in_any_order_leave_no_figures_behind(db):
    """Django's test runner empties SQLite's tables with DELETE, one table at a time in no set
    order: an emptied group must not be made again by a line's figures changing within it."""
    line = AllocationFactory(amount=Decimal("100.00"))
    services.payment_record(
        allocation=line, amount="10.00", effective_date=DAY, reference="B-9", acting_user=None
    )
    with connection.cursor() as cursor:
        for table in ("grants_groupfigures", "grants_ledgerentry", "grants_linefigures", "grants_allocation"):
            cursor.execute(f"DELETE FROM {table}")
    assert not GroupFigures.objects.exists()
    assert not LineFigures.objects.exists()


def test_a_category_whose_lines_all_moved_away_can_be_deleted(db, officer):
    # A line with no approved money is corrected directly (no proposal keeps the old category).
    line = AllocationFactory(amount=Decimal("50.00"), approved=False)
    old_category = line.funding_category
    line.funding_category = FundingCategoryFactory()
    services.allocation_update(allocation=line, acting_user=officer)
    assert GroupFigures.objects.filter(funding_category=old_category, line_count=0).exists()
    with transaction.atomic():
        old_category.delete()
    assert not GroupFigures.objects.filter(funding_category_id=old_category.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's table locks")
def test_a_rebuild_holds_off_writers_to_lines_and_entries_until_it_is_done(db):
    """An entry written while the figures are rebuilt would add to a row the rebuild replaces, and be
    lost: the rebuild takes SHARE locks, which writers wait for and readers pass."""
    from grants.figures import rebuild_figures

    AllocationFactory(amount=Decimal("20.00"))
    with transaction.atomic():
        rebuild_figures()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relation::regclass::text FROM pg_locks WHERE pid = pg_backend_pid() "
                "AND mode = 'ShareLock' AND locktype = 'relation'"
            )
            locked = {row[0] for row in cursor.fetchall()}
    assert {"grants_allocation", "grants_ledgerentry"} <= locked


@pytest.mark.parametrize("changelist", ["admin:grants_allocation_changelist", "admin:grants_fund_changelist"])
def test_the_admin_lists_of_lines_and_funds_read_the_figures_not_the_entries(staff_client, changelist):
    AllocationFactory(amount=Decimal("123.45"))
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(reverse(changelist))
    assert response.status_code == 200
    assert "£123.45" in response.content.decode()
    assert not [query["sql"] for query in queries.captured_queries if "grants_ledgerentry" in query["sql"]]
