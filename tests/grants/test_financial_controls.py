"""Issue 5's financial controls: payments and returns, reversals, four-eyes approval and the lock
that a submitted return puts on its fund."""

import datetime
import hashlib
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from grants import money, selectors, services
from grants.exports.three_sixty_giving_data import three_sixty_giving_export
from grants.models import Allocation, LedgerEntry, ReturnSubmission
from grants.reconciliation import reconcile
from tests.factories import AllocationFactory, FundFactory, approve_pending, pay, submit_return, user_in_role

DAY = datetime.date(2020, 9, 1)
gbp = money.gbp


@pytest.fixture
def line(db):
    return AllocationFactory(amount=Decimal("1000.00"), fund=FundFactory(control_total=gbp("5000.00")))


def figures(allocation):
    row = Allocation.objects.with_summed_figures().get(pk=allocation.pk)
    return {
        name: money.from_aggregate(getattr(row, name)).amount
        for name in ("awarded", "awarded_pending", "paid", "returned", "net_funding", "still_to_pay")
    }


def test_each_entry_kind_moves_its_own_figure(line, officer, approver):
    services.entry_approve(entry=pay(line, "600.00", officer), acting_user=approver)
    services.underspend_record(
        allocation=line, amount=Decimal("150.25"), effective_date=DAY, reference="REM-7", acting_user=officer
    )
    services.funder_return_record(
        fund=line.fund, amount=Decimal("150.25"), effective_date=DAY, reference="MOJ-R1", acting_user=officer
    )
    assert figures(line) == {
        "awarded": Decimal("1000.00"),
        "awarded_pending": Decimal("0.00"),
        "paid": Decimal("600.00"),
        "returned": Decimal("150.25"),
        "net_funding": Decimal("449.75"),
        "still_to_pay": Decimal("400.00"),
    }
    fund_money = selectors.fund_money(line.fund)
    assert (
        fund_money.control_total.amount,
        fund_money.awarded.amount,
        fund_money.headroom.amount,
        fund_money.paid.amount,
        fund_money.returned_by_providers.amount,
        fund_money.returned_to_funder.amount,
        fund_money.pending_entries,
    ) == (
        Decimal("5000.00"),
        Decimal("1000.00"),
        Decimal("4000.00"),
        Decimal("600.00"),
        Decimal("150.25"),
        Decimal("150.25"),
        2,
    )


def test_a_variation_counts_only_once_approved(line, officer, approver):
    variation = services.allocation_set_amount(
        allocation=line, amount=Decimal("1200.00"), memo="Revised bid", acting_user=officer
    )
    assert figures(line)["awarded"] == Decimal("1000.00")
    assert figures(line)["awarded_pending"] == Decimal("200.00")
    rec = reconcile(line.fund)
    assert (rec.ledger_total.amount, rec.pending_total.amount, rec.pending_line_count) == (
        Decimal("1000.00"),
        Decimal("200.00"),
        1,
    )
    services.entry_approve(entry=variation, acting_user=approver)
    rec = reconcile(line.fund)
    assert (rec.ledger_total.amount, rec.pending_total.amount) == (Decimal("1200.00"), Decimal("0.00"))
    variation.refresh_from_db()
    assert (variation.approved_by, variation.is_approved) == (approver, True)


def test_a_payment_above_the_approved_award_is_refused_and_says_how_much_is_left(line, officer):
    pay(line, "999.99", officer)
    with pytest.raises(ValidationError) as refused:
        pay(line, "0.02", officer, reference="BACS-2")
    assert "at most £0.01 can be paid" in str(refused.value)
    assert figures(line)["paid"] == Decimal("999.99")
    pay(line, "0.01", officer, reference="BACS-3")
    assert figures(line)["still_to_pay"] == Decimal("0.00")


def test_a_pending_award_cannot_be_paid(db, officer):
    pending = AllocationFactory(amount=Decimal("500.00"), approved=False)
    with pytest.raises(ValidationError, match="at most £0.00 can be paid"):
        pay(pending, "1.00", officer)


def test_more_underspend_than_was_paid_is_refused(line, officer, approver):
    services.entry_approve(entry=pay(line, "100.00", officer), acting_user=approver)
    with pytest.raises(ValidationError, match="more than the provider holds"):
        services.underspend_record(
            allocation=line, amount=Decimal("100.01"), effective_date=DAY, reference="R", acting_user=officer
        )


def test_a_payment_needs_a_reference_and_a_positive_amount(line, officer):
    with pytest.raises(ValidationError) as refused:
        services.payment_record(
            allocation=line, amount=Decimal("0"), effective_date=DAY, reference=" ", acting_user=officer
        )
    assert set(refused.value.message_dict) == {"amount", "reference"}
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_a_reversal_is_linked_opposite_and_both_stay_visible(line, officer, approver):
    payment = pay(line, "400.00", officer)
    services.entry_approve(entry=payment, acting_user=approver)
    reversal = services.entry_reverse(entry=payment, memo="Paid to the wrong account", acting_user=officer)
    assert (reversal.kind, reversal.amount.amount, reversal.reverses, reversal.reference) == (
        "payment",
        Decimal("-400.00"),
        payment,
        "BACS-1",
    )
    assert list(line.entries.filter(kind="payment").order_by("pk")) == [payment, reversal]
    assert figures(line)["paid"] == Decimal("0.00")
    with pytest.raises(ValidationError, match="already been reversed"):
        services.entry_reverse(entry=payment, memo="again", acting_user=officer)
    with pytest.raises(ValidationError, match="itself a reversal"):
        services.entry_reverse(entry=reversal, memo="undo", acting_user=officer)


def test_a_payment_cannot_be_reversed_below_what_the_provider_returned(line, officer, approver):
    payment = pay(line, "400.00", officer)
    services.entry_approve(entry=payment, acting_user=approver)
    services.underspend_record(
        allocation=line, amount=Decimal("50.00"), effective_date=DAY, reference="R", acting_user=officer
    )
    with pytest.raises(ValidationError, match="Underspend returned would come to £50.00"):
        services.entry_reverse(entry=payment, memo="wrong account", acting_user=officer)
    assert not LedgerEntry.objects.filter(reverses=payment).exists()


def test_reversing_an_award_leaves_the_line_with_nothing_awarded(line, officer, approver):
    award = line.entries.get(kind="award")
    reversal = services.entry_reverse(entry=award, memo="Entered on the wrong fund", acting_user=officer)
    services.entry_approve(entry=reversal, acting_user=approver)
    assert figures(line)["awarded"] == Decimal("0.00")
    assert reconcile(line.fund).line_count == 1  # both entries approved: the line still has its history


def test_a_reduction_awaiting_approval_counts_at_once_against_payments(line, officer, approver):
    services.allocation_set_amount(allocation=line, amount=Decimal("300.00"), memo="Cut", acting_user=officer)
    with pytest.raises(ValidationError, match="at most £300.00 can be paid"):
        pay(line, "500.00", officer)
    assert figures(line)["paid"] == Decimal("0.00")
    pay(line, "300.00", officer)
    assert figures(line)["paid"] == Decimal("300.00")


def test_an_award_cannot_be_reduced_below_what_was_paid(line, officer, approver):
    pay(line, "500.00", officer)
    with pytest.raises(ValidationError) as refused:
        services.allocation_set_amount(
            allocation=line, amount=Decimal("300.00"), memo="Cut", acting_user=officer
        )
    assert refused.value.message_dict == {
        "amount": [
            "£300.00 is less than the £500.00 paid or awaiting approval on this line: payments cannot "
            "exceed the award. Reverse a payment first (the reduction can follow once it is approved)."
        ]
    }
    assert not LedgerEntry.objects.filter(kind="variation").exists()


def test_nobody_approves_their_own_entry(line, approver):
    own = pay(line, "10.00", approver)
    with pytest.raises(ValidationError, match="four-eyes"):
        services.entry_approve(entry=own, acting_user=approver)
    own.refresh_from_db()
    assert not own.is_approved


def test_the_database_refuses_self_approval_even_bypassing_the_service(line, officer):
    own = pay(line, "10.00", officer)
    with pytest.raises(IntegrityError), transaction.atomic():
        models.QuerySet.update(
            LedgerEntry.objects.filter(pk=own.pk), approved_by=officer, approved_at=timezone.now()
        )
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE grants_ledgerentry SET approved_by_id = recorded_by_id, approved_at = %s WHERE id = %s",
            [timezone.now(), own.pk],
        )


def test_an_approval_cannot_be_changed_or_withdrawn_in_the_database(line, officer, approver):
    entry = pay(line, "10.00", officer)
    services.entry_approve(entry=entry, acting_user=approver)
    for assignment in ("approved_at = NULL", "approved_by_id = NULL"):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE grants_ledgerentry SET {assignment} WHERE id = %s", [entry.pk])
    with pytest.raises(ValidationError, match="already approved"):
        services.entry_approve(entry=entry, acting_user=user_in_role("Approver", "second-approver"))


def test_only_approved_lines_are_on_the_moj_return(tmp_path, officer, approver):
    from grants.exports.files import write_moj_return

    fund = FundFactory(control_total=gbp("300.00"))
    AllocationFactory(fund=fund, line_number=1, amount=Decimal("100.00"))
    AllocationFactory(fund=fund, line_number=2, amount=Decimal("200.00"), approved=False, acting_user=officer)
    result = write_moj_return(fund, tmp_path / "r.xlsx", user=approver)
    assert result.line_count == 1
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx", data_only=True)["Reconciliation"]
    rows = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert rows["Ledger total (Allocations sheet)"] == 100
    assert rows["Control total (award paperwork)"] == 300


# Submitting a return ---------------------------------------------------------------------------


@pytest.fixture
def submitted(line, approver):
    return submit_return(line.fund, approver)


def test_a_submission_stores_the_exact_workbook_and_its_digest(submitted, line):
    assert submitted.version == 1
    assert submitted.sha256 == hashlib.sha256(bytes(submitted.workbook)).hexdigest()
    assert openpyxl.load_workbook(io.BytesIO(bytes(submitted.workbook))).sheetnames[0] == "Allocations"


def test_a_submitted_fund_refuses_every_change_naming_the_submission(submitted, line, officer, approver):
    attempts = [
        lambda: pay(line, "1.00", officer),
        lambda: services.allocation_set_amount(
            allocation=line, amount=Decimal("1.00"), memo="x", acting_user=officer
        ),
        lambda: services.allocation_update(allocation=line, acting_user=officer),
        lambda: AllocationFactory(fund=line.fund, line_number=99),
        lambda: services.funder_return_record(
            fund=line.fund, amount=Decimal("1.00"), effective_date=DAY, reference="R", acting_user=officer
        ),
        lambda: services.entry_reverse(entry=line.entries.get(), memo="x", acting_user=officer),
    ]
    before = LedgerEntry.objects.count()
    for attempt in attempts:
        with pytest.raises(ValidationError, match="submitted \\(version 1,"):
            attempt()
    assert LedgerEntry.objects.count() == before
    line.fund.control_total = gbp("1.00")
    with pytest.raises(ValidationError, match="version 1"):
        services.fund_save(fund=line.fund, acting_user=officer, memo="changed")


def test_reopening_needs_a_reason_and_the_next_submission_is_a_new_version(
    submitted, line, officer, approver
):
    with pytest.raises(ValidationError, match="Say why"):
        services.fund_reopen(fund=line.fund, reason=" ", acting_user=approver)
    original = bytes(submitted.workbook)
    reopened = services.fund_reopen(fund=line.fund, reason="MoJ query of 3 November", acting_user=approver)
    assert (reopened.reopened_by, reopened.reopen_reason) == (approver, "MoJ query of 3 November")
    payment = pay(line, "250.00", officer)
    services.entry_approve(entry=payment, acting_user=approver)
    second = submit_return(line.fund, approver)
    assert second.version == 2
    first = ReturnSubmission.objects.get(pk=submitted.pk)
    assert bytes(first.workbook) == original
    assert first.sha256 == hashlib.sha256(original).hexdigest()
    with pytest.raises(ValidationError, match="already submitted|version 2"):
        submit_return(line.fund, approver)


def test_a_submitted_workbook_cannot_be_altered_in_the_database(submitted):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE grants_returnsubmission SET sha256 = 'x' WHERE id = %s", [submitted.pk])


def test_every_version_downloads_byte_for_byte(client, submitted, line, viewer):
    client.force_login(viewer)
    response = client.get(f"/funds/{line.fund.code}/submissions/1.xlsx")
    assert response.status_code == 200
    assert response.content == bytes(submitted.workbook)
    assert response["X-Content-SHA256"] == submitted.sha256
    assert 'filename="MoJ-return_' in response["Content-Disposition"]


def test_the_seed_fund_stays_as_printed_and_approved(seed_fund):
    rec = reconcile(seed_fund)
    assert (rec.ledger_total.amount, rec.line_count, rec.pending_total.amount) == (
        Decimal("738810.82"),
        16,
        Decimal("0.00"),
    )
    assert not LedgerEntry.objects.filter(fund=seed_fund).pending().exists()
    approve_pending(fund=seed_fund)  # nothing to do
    assert reconcile(seed_fund) == rec


def test_open_data_publishes_approved_lines_only(settings, officer):
    settings.LEDGER_OFFICE_ORG_ID = "GB-GOV-99"
    settings.LEDGER_360GIVING_PREFIX = "360G-test"
    fund = FundFactory()
    AllocationFactory(fund=fund, line_number=1, amount=Decimal("100.00"))
    AllocationFactory(fund=fund, line_number=2, amount=Decimal("200.00"), approved=False, acting_user=officer)
    grants = three_sixty_giving_export(fund).grants
    assert [grant.amount_awarded for grant in grants] == [Decimal("100.00")]


def test_the_organisation_list_counts_lines_as_their_page_does(officer):
    first = AllocationFactory(amount=Decimal("100.00"))
    AllocationFactory(
        organisation=first.organisation, amount=Decimal("50.00"), approved=False, acting_user=officer
    )
    summary = selectors.organisation_summaries().get(pk=first.organisation_id)
    page = selectors.organisation_page(first.organisation)
    assert (summary.line_count, money.from_aggregate(summary.awarded).amount) == (1, Decimal("100.00"))
    assert (page.line_count, page.total.amount) == (1, Decimal("100.00"))


def test_every_service_records_who_and_why_in_the_audit_trail(line, officer, approver):
    from audit.models import AuditEvent

    payment = services.payment_record(
        allocation=line,
        amount=Decimal("10.00"),
        effective_date=DAY,
        reference="B",
        memo="First tranche",
        acting_user=officer,
    )
    services.entry_approve(entry=payment, acting_user=approver)
    submit_return(line.fund, approver)
    services.fund_reopen(fund=line.fund, reason="MoJ query", acting_user=approver)
    recorded = list(
        AuditEvent.objects.filter(
            fund_id=line.fund_id, table_name__in=["grants_ledgerentry", "grants_returnsubmission"]
        )
        .order_by("id")
        .values_list("table_name", "action", "actor_username", "reason")
    )
    assert recorded[-4:] == [
        ("grants_ledgerentry", "insert", "officer", "First tranche"),
        ("grants_ledgerentry", "update", "approver", "Approved"),
        ("grants_returnsubmission", "insert", "approver", "MoJ return submitted"),
        ("grants_returnsubmission", "update", "approver", "MoJ query"),
    ]
