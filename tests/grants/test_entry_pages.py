"""The pages for a line's money: its figures and entries, payments, reversals and approvals."""

from decimal import Decimal

import pytest

from grants import services
from grants.models import LedgerEntry
from tests.factories import AllocationFactory, FundFactory, approve_pending


@pytest.fixture
def line(db):
    return AllocationFactory(amount=Decimal("1000.00"), fund=FundFactory(code="ecf"))


def text(response) -> str:
    return response.content.decode()


def test_the_line_page_shows_each_figure_and_every_entry(client, officer, line):
    services.payment_record(
        allocation=line,
        amount=Decimal("250.00"),
        effective_date=line.fund.spend_start,
        reference="BACS-9",
        acting_user=officer,
    )
    client.force_login(officer)
    page = text(client.get(f"/allocations/{line.pk}/"))
    for figure, value in [
        ("figure-awarded", "£1,000.00"),
        # The payment awaits approval: it is not called paid, but it is counted at once in what
        # is still to pay (the safer direction) and in net funding, and the labels say so.
        ("figure-paid", "£0.00"),
        ("figure-paid-pending", "£250.00"),
        ("figure-returned", "£0.00"),
        ("figure-net", "£250.00"),
        ("figure-still-to-pay", "£750.00"),
    ]:
        assert f'id="{figure}">{value}<' in page
    assert "BACS-9" in page and "Awaiting approval" in page
    assert "Still to pay (awarded − paid, payments awaiting approval included)" in page


def test_recording_a_payment_through_the_form_returns_to_the_line(client, officer, line):
    client.force_login(officer)
    response = client.post(
        f"/allocations/{line.pk}/payments/add/",
        {"amount": "400.00", "effective_date": "2020-09-01", "reference": "BACS-10", "memo": "First tranche"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/allocations/{line.pk}/"
    assert "Payment to provider of £400.00 recorded, awaiting approval." in text(response)
    payment = LedgerEntry.objects.get(kind="payment")
    assert (payment.amount.amount, payment.reference, payment.recorded_by) == (
        Decimal("400.00"),
        "BACS-10",
        officer,
    )


def test_an_over_payment_is_explained_beside_the_amount_and_records_nothing(client, officer, line):
    client.force_login(officer)
    response = client.post(
        f"/allocations/{line.pk}/payments/add/",
        {"amount": "1000.01", "effective_date": "2020-09-01", "reference": "BACS-11"},
    )
    assert response.status_code == 200
    page = text(response)
    assert "at most £1,000.00 can be paid" in page
    assert 'aria-invalid="true"' in page
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_reversing_through_the_page_records_the_linked_entry(client, officer, line):
    payment = services.payment_record(
        allocation=line,
        amount=Decimal("5.00"),
        effective_date=line.fund.spend_start,
        reference="B",
        acting_user=officer,
    )
    approve_pending(pk=payment.pk)
    client.force_login(officer)
    response = client.post(f"/entries/{payment.pk}/reverse/", {"memo": "Duplicate payment"}, follow=True)
    assert "reversed, awaiting approval" in text(response)
    reversal = LedgerEntry.objects.get(reverses=payment)
    assert (reversal.amount.amount, reversal.memo) == (Decimal("-5.00"), "Duplicate payment")


def test_submitting_locks_the_pages_and_reopening_unlocks_them(client, approver, officer, line):
    client.force_login(approver)
    response = client.post("/funds/ecf/submit/", follow=True)
    assert "Version 1 of the MoJ return submitted" in text(response)
    assert 'id="lock-notice"' in text(response)
    client.force_login(officer)
    page = text(client.get(f"/allocations/{line.pk}/"))
    assert "Locked: version 1" in page and "Record a payment" not in page
    refused = client.post(
        f"/allocations/{line.pk}/payments/add/",
        {"amount": "1.00", "effective_date": "2020-09-01", "reference": "B"},
    )
    assert "MoJ return was submitted (version 1," in text(refused)
    client.force_login(approver)
    client.post("/funds/ecf/reopen/", {"reason": "MoJ asked for line 1 to be split"})
    page = text(client.get("/funds/ecf/"))
    assert "lock-notice" not in page
    assert "MoJ asked for line 1 to be split" in page
