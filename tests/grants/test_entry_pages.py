"""The pages for a line's money: its figures and entries, payments, reversals and approvals."""

from decimal import Decimal

import pytest
from django.test.html import parse_html
from django.urls import reverse
from django.utils import dateformat, timezone

from grants import services
from grants.models import Allocation, LedgerEntry
from tests.factories import AllocationFactory, FundFactory, approve_pending
from tests.grants.test_tables import elements, the
from tests.grants.test_tables import text as node_text


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


def test_the_seeds_entries_say_when_they_were_loaded_and_that_the_figures_are_the_reports(
    client, officer, seed_fund
):
    """The fixture's `recorded_at` is the day the seed was written; the page says when this database
    loaded the entry (its audit trail's insert) and that it comes from the report of 19 August 2020."""
    entry = LedgerEntry.objects.get(allocation__fund=seed_fund, allocation__line_number=1)
    assert entry.recorded_by is None and entry.recorded_at.date().isoformat() == "2026-11-27"
    line = Allocation.objects.get(fund=seed_fund, line_number=1)
    client.force_login(officer)
    response = client.get(reverse("grants:allocation_detail", args=[line.pk]))
    table = the(parse_html(response.content.decode()), "table", **{"class": "entries"})
    (row,) = elements(the(table, "tbody"), "tr")
    cells = [node_text(cell) for cell in elements(row, "td")]
    loaded = cells[0]
    today = dateformat.format(timezone.localdate(), "j F Y")
    assert loaded.startswith(f"Loaded {today} ") and loaded.endswith(
        "from its source document (see the reason)"
    )
    assert cells[2] == "19 August 2020"
    assert cells[5] == (
        "Award as printed in the OPCC West Midlands report to the Strategic Policing and Crime Board, "
        "19 August 2020, paragraph 27."
    )
    assert cells[6] == "Approved in its source document, before it reached the ledger"
    assert "27 November 2026" not in response.content.decode()


def test_an_entry_recorded_in_the_ledger_still_shows_who_recorded_it_and_when(client, officer, line):
    payment = services.payment_record(
        allocation=line,
        amount=Decimal("250.00"),
        effective_date=line.fund.spend_start,
        reference="BACS-9",
        acting_user=officer,
    )
    client.force_login(officer)
    page = text(client.get(reverse("grants:allocation_detail", args=[line.pk])))
    recorded = dateformat.format(timezone.localtime(payment.recorded_at), "j F Y H:i")
    assert f'<td>{recorded}<br><span class="hint">officer</span></td>' in page


def test_the_admin_says_a_seed_entry_was_approved_in_its_source_and_others_by_whom_and_when(
    seed_fund, officer, approver, line
):
    from django.contrib import admin

    entry_admin = admin.site._registry[LedgerEntry]
    seeded = LedgerEntry.objects.filter(allocation__fund=seed_fund).first()
    assert entry_admin.approval(seeded) == "Approved in its source document, before it reached the ledger"
    payment = services.payment_record(
        allocation=line,
        amount=Decimal("5.00"),
        effective_date=line.fund.spend_start,
        reference="BACS-1",
        acting_user=officer,
    )
    assert entry_admin.approval(payment) == "Awaiting approval"
    approve_pending(allocation=line)
    payment.refresh_from_db()
    day = dateformat.format(timezone.localtime(payment.approved_at), "j F Y")
    assert entry_admin.approval(payment).startswith(f"Approved {day}")
