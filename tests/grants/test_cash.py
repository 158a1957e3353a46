"""Money received from the funder, underspend due from providers, and the cash the office holds of a
fund, by financial year and in total: every figure against a Decimal sum of the same entries."""

import datetime
import json
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, models, transaction
from django.urls import reverse
from djmoney.money import Money

from audit.models import AuditEvent
from grants import money, services
from grants.models import FundYear, LedgerEntry
from grants.reconciliation.cash import cash_total, fund_cash, outstanding_underspend_due
from grants.reconciliation.years import reconcile_by_year
from grants.selectors import fund_own_entries, fund_page
from grants.years import FinancialYear, financial_year
from tests.factories import AllocationFactory, FundFactory, approve_pending, pay

Kind = LedgerEntry.Kind


def gbp(text):
    return Money(Decimal(text), "GBP")


def day(text):
    return datetime.date.fromisoformat(text)


def receive(fund, amount, date, user, reference="FUNDER-1"):
    return services.funder_receipt_record(
        fund=fund, amount=Decimal(amount), effective_date=day(date), reference=reference, acting_user=user
    )


def declare_due(line, amount, date, user, memo="Declared in the year-end return"):
    return services.underspend_due_record(
        allocation=line, amount=Decimal(amount), effective_date=day(date), memo=memo, acting_user=user
    )


@pytest.fixture
def fund(db):
    return FundFactory(
        code="synthetic-cash",
        spend_start=day("2023-04-01"),
        spend_end=day("2025-03-31"),
        control_total=gbp("300000.00"),
    )


@pytest.fixture
def cash_fund(fund, officer, approver):
    """Two years with a profile: receipts in each (one awaiting approval, one reversed), payments,
    underspend declared due on two lines and returned on one of them (in part, then more than was
    due on the other), and money returned to the funder."""
    FundYear.objects.create(fund=fund, year=2023, control_total=gbp("180000.00"))
    FundYear.objects.create(fund=fund, year=2024, control_total=gbp("120000.00"))
    first = AllocationFactory(fund=fund, amount=Decimal("90000.00"), effective_date=day("2023-04-03"))
    second = AllocationFactory(fund=fund, amount=Decimal("60000.33"), effective_date=day("2023-05-01"))
    receive(fund, "90000.00", "2023-04-14", officer, "F-1")
    receive(fund, "89999.99", "2024-03-31", officer, "F-2")
    mistaken = receive(fund, "1000.00", "2023-06-01", officer, "F-WRONG")
    for line, amount, date in [(first, "50000.00", "2023-07-01"), (second, "60000.33", "2024-02-01")]:
        services.payment_record(
            allocation=line,
            amount=Decimal(amount),
            effective_date=day(date),
            reference="BACS",
            acting_user=officer,
        )
    approve_pending(fund=fund)
    services.entry_reverse(entry=mistaken, memo="Not ours: another fund's remittance", acting_user=officer)
    declare_due(first, "2500.50", "2024-03-31", officer)
    declare_due(second, "100.00", "2024-03-31", officer)
    approve_pending(fund=fund)
    services.underspend_record(
        allocation=first,
        amount=Decimal("1000.25"),
        effective_date=day("2024-04-01"),
        reference="REM-1",
        acting_user=officer,
    )
    services.underspend_record(
        allocation=second,
        amount=Decimal("150.00"),
        effective_date=day("2024-06-01"),
        reference="REM-2",
        acting_user=officer,
    )
    receive(fund, "60000.00", "2024-04-12", officer, "F-3")
    approve_pending(fund=fund)
    services.funder_return_record(
        fund=fund,
        amount=Decimal("150.00"),
        effective_date=day("2025-03-31"),
        reference="RTF-1",
        acting_user=officer,
    )
    approve_pending(fund=fund)
    # Awaiting approval: a receipt and an underspend due, never in the approved figures.
    receive(fund, "59999.99", "2024-10-11", officer, "F-4")
    declare_due(first, "10.00", "2025-03-31", officer)
    return fund


def approved(fund, kinds, year=None):
    """Decimal sum of the fund's approved entries of `kinds`, in `year` (a reversal in its entry's)."""
    total = Decimal("0.00")
    for entry in LedgerEntry.objects.filter(fund=fund, kind__in=kinds).approved().select_related("reverses"):
        dated = (entry.reverses or entry).effective_date
        if year is None or financial_year(dated) == year:
            total += entry.amount.amount
    return total


def pending(fund, kinds, year=None):
    return sum(
        (
            entry.amount.amount
            for entry in LedgerEntry.objects.filter(fund=fund, kind__in=kinds).pending()
            if year is None or financial_year(entry.effective_date) == year
        ),
        Decimal("0.00"),
    )


def outstanding_by_python(fund, until=None) -> Decimal:
    """Each line's approved due less approved returned (up to the end of `until`), never below zero."""
    lines: dict[int, Decimal] = {}
    for entry in LedgerEntry.objects.filter(
        fund=fund, kind__in=[Kind.UNDERSPEND_DUE, Kind.UNDERSPEND_RETURNED]
    ).approved():
        if until is not None and entry.effective_date > until.end:
            continue
        sign = 1 if entry.kind == Kind.UNDERSPEND_DUE else -1
        lines[entry.allocation_id] = (
            lines.get(entry.allocation_id, Decimal("0.00")) + sign * entry.amount.amount
        )
    return sum((max(amount, Decimal("0.00")) for amount in lines.values()), Decimal("0.00"))


# ---- The rule for what is outstanding ------------------------------------------------------------


def test_outstanding_underspend_due_is_due_less_returned_never_below_zero():
    assert outstanding_underspend_due(gbp("2500.50"), gbp("1000.25")) == gbp("1500.25")
    assert outstanding_underspend_due(gbp("100.00"), gbp("150.00")) == gbp("0.00")
    assert outstanding_underspend_due(gbp("0.00"), gbp("0.00")) == gbp("0.00")


# ---- Figures against Decimal sums ----------------------------------------------------------------


def test_each_year_s_cash_figures_are_decimal_sums_of_its_approved_entries(cash_fund):
    by_year = reconcile_by_year(cash_fund)
    assert [year.year.label for year in by_year] == ["2023-24", "2024-25"]
    for result in by_year:
        year = result.year
        assert result.received.amount == approved(cash_fund, [Kind.RECEIVED_FROM_FUNDER], year), year
        assert result.paid.amount == approved(cash_fund, [Kind.PAYMENT], year)
        assert result.underspend_returned.amount == approved(cash_fund, [Kind.UNDERSPEND_RETURNED], year)
        assert result.returned_to_funder.amount == approved(cash_fund, [Kind.RETURNED_TO_FUNDER], year)
        assert result.received_pending.amount == pending(cash_fund, [Kind.RECEIVED_FROM_FUNDER], year)
        assert result.underspend_due_pending.amount == pending(cash_fund, [Kind.UNDERSPEND_DUE], year)
        assert result.underspend_due.amount == outstanding_by_python(cash_fund, until=year)
        assert result.cash_held.amount == (
            result.received.amount
            - result.paid.amount
            + result.underspend_returned.amount
            - result.returned_to_funder.amount
        )
    # The same figures written out: the reversed receipt counts for nothing in 2023-24; 2,600.50 was
    # declared due at its end; 1,000.25 came back on one line in 2024-25 and 150.00 (more than its
    # 100.00) on the other, leaving 1,500.25 owed.
    first, second = by_year
    assert (first.received, first.cash_held, first.underspend_due) == (
        gbp("179999.99"),
        gbp("69999.66"),
        gbp("2600.50"),
    )
    assert (second.received, second.cash_held, second.underspend_due) == (
        gbp("60000.00"),
        gbp("61000.25"),
        gbp("1500.25"),
    )
    assert (second.received_pending, second.underspend_due_pending) == (gbp("59999.99"), gbp("10.00"))


def test_the_total_is_the_years_added_up_and_the_fund_page_reads_the_same_in_one_query(
    cash_fund, django_assert_num_queries
):
    total = cash_total(cash_fund, reconcile_by_year(cash_fund))
    with django_assert_num_queries(1):
        direct = fund_cash(cash_fund)
    for name in ("received", "paid", "underspend_returned", "returned_to_funder", "underspend_due"):
        assert getattr(total, name) == getattr(direct, name), name
    assert total.received.amount == approved(cash_fund, [Kind.RECEIVED_FROM_FUNDER]) == Decimal("239999.99")
    assert total.cash_held.amount == (
        approved(cash_fund, [Kind.RECEIVED_FROM_FUNDER])
        - approved(cash_fund, [Kind.PAYMENT])
        + approved(cash_fund, [Kind.UNDERSPEND_RETURNED])
        - approved(cash_fund, [Kind.RETURNED_TO_FUNDER])
    )
    assert direct.cash_held == total.cash_held == gbp("130999.91")
    assert direct.underspend_due.amount == outstanding_by_python(cash_fund) == Decimal("1500.25")
    assert (direct.received_pending, direct.underspend_due_pending) == (gbp("59999.99"), gbp("10.00"))
    assert (total.awarded, total.allocated) == (gbp("300000.00"), gbp("150000.33"))


def test_a_fund_with_nothing_received_holds_nothing(fund):
    cash = fund_cash(fund)
    assert (cash.received, cash.cash_held, cash.underspend_due) == (money.zero(), money.zero(), money.zero())


def test_the_reconcile_command_gives_the_cash_by_year_and_in_total(cash_fund, capsys):
    with pytest.raises(SystemExit):
        call_command("reconcile", cash_fund.code, "--format", "json")
    data = json.loads(capsys.readouterr().out)
    assert [
        (year["year"], year["received"], year["cash_held"], year["underspend_due"])
        for year in data["by_year"]
    ] == [
        ("2023-24", "179999.99", "69999.66", "2600.50"),
        ("2024-25", "60000.00", "61000.25", "1500.25"),
    ]
    assert data["cash"] == {
        "control_total": "300000.00",
        "received": "239999.99",
        "allocated": "150000.33",
        "paid": "110000.33",
        "underspend_returned": "1150.25",
        "returned_to_funder": "150.00",
        "cash_held": "130999.91",
        "underspend_due": "1500.25",
        "received_pending": "59999.99",
        "underspend_due_pending": "10.00",
    }


# ---- The services refuse bad input, naming the field ----------------------------------------------


def test_a_receipt_needs_a_positive_amount_and_the_funder_s_reference(fund, officer):
    with pytest.raises(ValidationError) as refused:
        services.funder_receipt_record(
            fund=fund,
            amount=Decimal("0.00"),
            effective_date=day("2023-04-14"),
            reference=" ",
            acting_user=officer,
        )
    assert refused.value.message_dict == {
        "amount": ["The amount must be more than £0.00."],
        "reference": ["Give the funder's remittance reference, as on the remittance advice."],
    }
    assert not LedgerEntry.objects.filter(fund=fund).exists()


def test_underspend_due_needs_a_reason_but_no_reference(fund, officer):
    line = AllocationFactory(fund=fund, amount=Decimal("100.00"))
    pay(line, "10.00", officer)
    approve_pending(allocation=line)  # a provider owes back at most what it was paid
    with pytest.raises(ValidationError) as refused:
        declare_due(line, "10.00", "2024-03-31", officer, memo=" ")
    assert list(refused.value.message_dict) == ["memo"]
    entry = declare_due(line, "10.00", "2024-03-31", officer)
    assert (entry.kind, entry.allocation, entry.reference, entry.is_pending) == (
        Kind.UNDERSPEND_DUE,
        line,
        "",
        True,
    )


# ---- Four eyes, the admin, and the database ------------------------------------------------------


def test_no_one_approves_their_own_receipt_and_a_receipt_counts_only_once_approved(fund, officer, approver):
    receipt = receive(fund, "500.00", "2023-04-14", officer)
    assert fund_cash(fund).received == money.zero()
    with pytest.raises(ValidationError, match="someone else must approve"):
        services.entry_approve(entry=receipt, acting_user=officer)
    with pytest.raises(IntegrityError), transaction.atomic():
        # The database refuses it too.
        models.QuerySet.update(
            LedgerEntry.objects.filter(pk=receipt.pk),
            approved_by=officer,
            approved_at=datetime.datetime.now(datetime.UTC),
        )
    services.entry_approve(entry=receipt, acting_user=approver)
    assert fund_cash(fund).received == gbp("500.00")
    # The audit trail has both: who recorded it, and who approved it.
    trail = AuditEvent.objects.filter(table_name=LedgerEntry._meta.db_table, row_id=receipt.pk).order_by("id")
    assert [(event.action, event.actor_id, event.fund_id) for event in trail] == [
        ("insert", officer.pk, fund.pk),
        ("update", approver.pk, fund.pk),
    ]
    reversal = services.entry_reverse(entry=receipt, memo="Paid into the wrong account", acting_user=officer)
    assert (reversal.kind, reversal.amount, reversal.allocation) == (
        Kind.RECEIVED_FROM_FUNDER,
        gbp("-500.00"),
        None,
    )
    services.entry_approve(entry=reversal, acting_user=approver)
    assert fund_cash(fund).received == money.zero()


def test_an_administrator_cannot_change_a_receipt(staff_client, fund, officer):
    receipt = receive(fund, "500.00", "2023-04-14", officer)
    url = reverse("admin:grants_ledgerentry_change", args=[receipt.pk])
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(
        url, {"amount_0": "1.00", "amount_1": "GBP", "reference": "X", "memo": "Edited"}
    )
    assert response.status_code == 403
    assert LedgerEntry.objects.values_list("amount", "reference").get(pk=receipt.pk) == (
        Decimal("500.00"),
        "FUNDER-1",
    )


def raw_insert(fund, **columns):
    values = {
        "uuid": uuid.uuid4().hex,
        "fund_id": fund.pk,
        "allocation_id": None,
        "kind": "received_from_funder",
        "amount": "10.00",
        "amount_currency": "GBP",
        "effective_date": "2023-04-14",
        "reference": "F-1",
        "memo": "Forged receipt",
        "recorded_at": "2023-04-14 09:30:00",
        **columns,
    }
    sql = (
        f"INSERT INTO {connection.ops.quote_name(LedgerEntry._meta.db_table)} "
        f"({', '.join(connection.ops.quote_name(column) for column in values)}) "
        f"VALUES ({', '.join(['%s'] * len(values))})"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, list(values.values()))


def test_raw_sql_cannot_put_a_receipt_on_a_line_leave_out_its_reference_or_put_underspend_due_on_the_fund(
    fund,
):
    line = AllocationFactory(fund=fund, amount=Decimal("100.00"))
    before = LedgerEntry.objects.count()
    with pytest.raises(IntegrityError, match="ledger_entry_is_on_an_allocation_unless_returned_to_funder"):
        raw_insert(fund, allocation_id=line.pk)
    with pytest.raises(IntegrityError, match="ledger_entry_money_movement_has_a_reference"):
        raw_insert(fund, reference="")
    with pytest.raises(IntegrityError, match="ledger_entry_is_on_an_allocation_unless_returned_to_funder"):
        raw_insert(fund, kind="underspend_due", reference="")
    with pytest.raises(IntegrityError, match="ledger_entry_kind_is_a_known_kind"):
        raw_insert(fund, kind="carried_to_nowhere", allocation_id=line.pk)
    assert LedgerEntry.objects.count() == before
    # The positive control: the same row, as the constraints allow it, goes in.
    raw_insert(fund)
    raw_insert(fund, kind="underspend_due", allocation_id=line.pk, reference="")
    assert LedgerEntry.objects.count() == before + 2


# ---- The pages -----------------------------------------------------------------------------------


def test_an_officer_records_a_receipt_from_the_fund_page_and_an_approver_sees_it(
    client, fund, officer, approver
):
    client.force_login(officer)
    page = client.get(reverse("grants:fund_detail", args=[fund.code])).content.decode()
    url = reverse("grants:funder_receipt_add", args=[fund.code])
    assert url in page
    refused = client.post(url, {"amount": "250.00", "effective_date": "2023-04-14", "reference": ""})
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    response = client.post(
        url, {"amount": "250.00", "effective_date": "2023-04-14", "reference": "REMIT-77", "memo": ""}
    )
    assert response.status_code == 302
    receipt = LedgerEntry.objects.get(fund=fund, kind=Kind.RECEIVED_FROM_FUNDER)
    assert (receipt.amount, receipt.reference, receipt.recorded_by, receipt.is_pending) == (
        gbp("250.00"),
        "REMIT-77",
        officer,
        True,
    )
    client.force_login(approver)
    approvals = client.get(reverse("grants:approval_list")).content.decode()
    assert "Received from funder" in approvals and "£250.00" in approvals


def test_an_officer_records_underspend_due_from_the_line_page(client, fund, officer):
    line = AllocationFactory(fund=fund, amount=Decimal("100.00"))
    pay(line, "10.00", officer)
    approve_pending(allocation=line)
    client.force_login(officer)
    url = reverse("grants:underspend_due_add", args=[line.pk])
    assert url in client.get(reverse("grants:allocation_detail", args=[line.pk])).content.decode()
    refused = client.post(url, {"amount": "10.00", "effective_date": "2024-03-31", "memo": ""})
    assert refused.status_code == 200 and not LedgerEntry.objects.filter(kind=Kind.UNDERSPEND_DUE).exists()
    response = client.post(
        url, {"amount": "10.00", "effective_date": "2024-03-31", "memo": "Year-end return"}
    )
    assert response.status_code == 302
    assert LedgerEntry.objects.get(kind=Kind.UNDERSPEND_DUE).amount == gbp("10.00")


def test_a_viewer_may_not_record_either(client, fund, viewer):
    line = AllocationFactory(fund=fund, amount=Decimal("100.00"))
    client.force_login(viewer)
    data = {"amount": "10.00", "effective_date": "2024-03-31", "reference": "R", "memo": "M"}
    assert client.get(reverse("grants:funder_receipt_add", args=[fund.code])).status_code == 403
    assert client.post(reverse("grants:funder_receipt_add", args=[fund.code]), data).status_code == 403
    assert client.post(reverse("grants:underspend_due_add", args=[line.pk]), data).status_code == 403
    assert not LedgerEntry.objects.filter(kind__in=[Kind.RECEIVED_FROM_FUNDER, Kind.UNDERSPEND_DUE]).exists()


def test_the_pages_show_the_cash_held(client, cash_fund, viewer):
    client.force_login(viewer)
    page = client.get(reverse("grants:fund_detail", args=[cash_fund.code])).content.decode()
    assert 'id="fund-cash-held">£130,999.91<' in page
    assert 'id="fund-underspend-due">£1,500.25' in page
    assert reverse("grants:funder_receipt_add", args=[cash_fund.code]) not in page
    years = client.get(reverse("grants:fund_years", args=[cash_fund.code])).content.decode()
    assert "£69,999.66" in years and "£61,000.25" in years and "£130,999.91" in years
    assert fund_page(cash_fund).cash.cash_held == gbp("130999.91")
    one = client.get(
        reverse("grants:fund_years", args=[cash_fund.code]), {"year": "2024-25"}
    ).content.decode()
    assert "£1,500.25" in one and "£60,000.00" in one
    assert FinancialYear(2024).label == "2024-25"


def test_the_years_page_lists_the_fund_s_own_entries_to_approve_and_reverse(client, cash_fund, approver):
    client.force_login(approver)
    page = client.get(reverse("grants:fund_years", args=[cash_fund.code])).content.decode()
    own = LedgerEntry.objects.filter(fund=cash_fund, allocation__isnull=True)
    assert own.count() == 7
    for entry in own:
        assert f'id="entry-{entry.pk}"' in page
    waiting = own.pending().get()
    assert reverse("grants:entry_approve", args=[waiting.pk]) in page


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's plan; PostgreSQL's planner scans small tables"
)
def test_the_fund_s_own_entries_are_read_from_their_partial_index(cash_fund):
    sql, params = LedgerEntry.objects.filter(fund=cash_fund, allocation__isnull=True).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "entry_fund_level_by_date" in plan
    assert [entry.kind for entry in fund_own_entries(cash_fund)].count(Kind.RECEIVED_FROM_FUNDER) == 6


def test_a_line_s_page_shows_its_outstanding_underspend_due_and_what_awaits_approval(
    client, cash_fund, viewer
):
    first, second = cash_fund.allocations.order_by("pk")
    client.force_login(viewer)
    page = client.get(reverse("grants:allocation_detail", args=[first.pk])).content.decode()
    assert 'id="figure-underspend-due">£1,500.25 <span class="hint">(+ £10.00 awaiting approval)' in page
    assert reverse("grants:underspend_due_add", args=[first.pk]) not in page
    # More came back than was declared due: nothing is owed, never a negative sum.
    page = client.get(reverse("grants:allocation_detail", args=[second.pk])).content.decode()
    assert 'id="figure-underspend-due">£0.00<' in page
    assert outstanding_by_python(cash_fund) == Decimal("1500.25")


def test_a_provider_cannot_be_declared_to_owe_back_more_than_it_was_paid(fund, officer, approver):
    """Paid £60.00, of which £50.00 is declared due: £10.01 more is refused (a declaration awaiting
    approval counts at once), £10.00 is taken, and then the payment cannot be reversed while
    £60.00 is owed back on it."""
    line = AllocationFactory(fund=fund, amount=Decimal("100.00"))
    payment = pay(line, "60.00", officer)
    services.entry_approve(entry=payment, acting_user=approver)
    declare_due(line, "50.00", "2024-03-31", officer)

    with pytest.raises(ValidationError) as refused:
        declare_due(line, "10.01", "2024-03-31", officer)

    assert refused.value.messages == [
        "This underspend due cannot be recorded: Underspend declared due would come to £60.01, more than "
        "the £60.00 paid (entries awaiting approval count at once where they use up the limit, and only "
        "once approved where they would free it)."
    ]
    assert LedgerEntry.objects.filter(allocation=line, kind=Kind.UNDERSPEND_DUE).count() == 1
    declare_due(line, "10.00", "2024-03-31", officer)
    with pytest.raises(
        ValidationError, match="Underspend declared due would come to £60.00, more than the £0.00"
    ):
        services.entry_reverse(entry=payment, memo="Paid twice", acting_user=officer)
