"""Issue 14's attacks, repeated: none of them moves money or its payee on one person's word."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from grants import money, services
from grants.models import Allocation, LedgerEntry, LineChange
from grants.reconciliation import reconcile
from tests.factories import AllocationFactory, FundFactory, OrganisationFactory, approve_pending, pay

DAY = datetime.date(2020, 9, 1)


@pytest.fixture
def line(db):
    return AllocationFactory(amount=Decimal("1265.00"), fund=FundFactory(control_total=money.gbp("5000.00")))


def test_the_reversal_loop_pays_an_award_once(line, officer, approver):
    payment = pay(line, "1265.00", officer)
    with pytest.raises(ValidationError, match="awaits approval: its recorder can withdraw it"):
        services.entry_reverse(entry=payment, memo="again", acting_user=officer)
    services.entry_approve(entry=payment, acting_user=approver)
    services.entry_reverse(entry=payment, memo="Wrong account", acting_user=officer)
    # The reversal awaits approval, so it frees nothing yet.
    with pytest.raises(ValidationError, match="at most £0.00 can be paid"):
        pay(line, "1265.00", officer, reference="BACS-2")
    assert LedgerEntry.objects.filter(kind="payment", amount__gt=0).count() == 1
    approve_pending(reverses=payment)
    pay(line, "1265.00", officer, reference="BACS-3")


def test_a_rejected_or_withdrawn_entry_never_counts(line, officer, approver):
    payment = pay(line, "1000.00", officer)
    services.entry_reject(entry=payment, reason="Duplicate invoice", acting_user=approver)
    assert Allocation.objects.with_summed_figures().get(pk=line.pk).paid == Decimal("0.00")
    mine = pay(line, "1265.00", officer, reference="BACS-2")
    with pytest.raises(ValidationError, match="someone else must approve"):
        services.entry_reject(entry=mine, reason="x", acting_user=officer)
    services.entry_withdraw(entry=mine, reason="Typed the wrong line", acting_user=officer)
    mine.refresh_from_db()
    assert (mine.is_withdrawn, mine.is_pending, mine.rejection_reason) == (
        True,
        False,
        "Typed the wrong line",
    )
    with pytest.raises(ValidationError, match="already withdrawn"):
        services.entry_approve(entry=mine, acting_user=approver)
    assert Allocation.objects.with_summed_figures().get(pk=line.pk).paid == Decimal("0.00")


def test_only_the_recorder_withdraws_and_a_rejection_needs_a_reason(line, officer, approver):
    payment = pay(line, "10.00", officer)
    with pytest.raises(ValidationError, match="Only who recorded this entry can withdraw it"):
        services.entry_withdraw(entry=payment, reason="x", acting_user=approver)
    with pytest.raises(ValidationError) as refused:
        services.entry_reject(entry=payment, reason=" ", acting_user=approver)
    assert list(refused.value.message_dict) == ["reason"]
    payment.refresh_from_db()
    assert payment.is_pending


def test_approving_many_is_all_or_nothing_and_never_ones_own(line, officer, approver):
    theirs = pay(line, "10.00", officer)
    own = pay(line, "20.00", approver, reference="BACS-2")
    with pytest.raises(services.RowsRefused) as refused:
        services.decisions_take(
            decision=services.Decision.APPROVE, acting_user=approver, entries=[theirs, own]
        )
    assert list(refused.value.rows) == [1]
    assert LedgerEntry.objects.filter(kind="payment").approved().count() == 0
    services.decisions_take(decision=services.Decision.APPROVE, acting_user=approver, entries=[theirs])
    assert LedgerEntry.objects.filter(kind="payment").approved().count() == 1


def test_a_payee_swap_waits_for_someone_else_and_stops_payments(line, officer, approver):
    before = line.organisation
    line.organisation = OrganisationFactory(name="Shell Company Ltd")
    services.allocation_update(allocation=line, acting_user=officer, reason="New bank details")
    line.refresh_from_db()
    assert line.organisation == before
    assert [row.name for row in reconcile(line.fund).by_organisation] == [before.name]
    change = LineChange.objects.get()
    with pytest.raises(ValidationError, match="payments wait until it is approved or rejected"):
        pay(line, "1.00", officer)
    with pytest.raises(ValidationError, match="someone else must approve or reject it"):
        services.line_change_approve(change=change, acting_user=officer)
    services.line_change_approve(change=change, acting_user=approver)
    line.refresh_from_db()
    assert line.organisation.name == "Shell Company Ltd"
    pay(line, "1.00", officer)


def test_a_line_with_no_approved_money_is_corrected_directly(db, officer):
    line = AllocationFactory(amount=Decimal("50.00"), approved=False)
    line.organisation = OrganisationFactory(name="Corrected name")
    services.allocation_update(allocation=line, acting_user=officer)
    line.refresh_from_db()
    assert (line.organisation.name, LineChange.objects.count()) == ("Corrected name", 0)


def test_a_return_to_the_funder_is_limited_to_what_the_office_holds(line, officer, approver):
    services.entry_approve(entry=pay(line, "1265.00", officer), acting_user=approver)
    with pytest.raises(ValidationError, match="more than the office holds of this fund: £3,735.00"):
        services.funder_return_record(
            fund=line.fund, amount=Decimal("3735.01"), effective_date=DAY, reference="R", acting_user=officer
        )
    services.funder_return_record(
        fund=line.fund, amount=Decimal("3735.00"), effective_date=DAY, reference="R", acting_user=officer
    )


def test_no_one_but_an_import_writes_a_memo_that_names_an_import(line, officer):
    # The Approvals page approves "all entries of this import" by their memo: an entry slipped in
    # under an import's memo would be approved with it, unseen.
    with pytest.raises(ValidationError) as refused:
        services.payment_record(
            allocation=line,
            amount=Decimal("10.00"),
            effective_date=DAY,
            reference="BACS-9",
            memo="Imported from ECF allocations.xlsx (SHA-256 abc)",
            acting_user=officer,
        )
    assert list(refused.value.message_dict) == ["memo"]
    assert "kept for the entries an import records" in refused.value.message_dict["memo"][0]
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    with pytest.raises(ValidationError, match="kept for the entries an import records"):
        services.allocation_set_amount(
            allocation=line,
            amount=Decimal("2000.00"),
            effective_date=DAY,
            memo="Imported from x.xlsx (SHA-256 0)",
            expected_current=Decimal("1265.00"),
            acting_user=officer,
        )
