"""Issue 18: a payment (or returned underspend) awaiting approval is never shown as paid: the line
page, the fund page, the tables and the organisation page show approved figures as "(approved)" and
what awaits approval beside them, while what is still to pay counts it at once (the safer
direction) and says so."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from grants import services
from grants.reconciliation.cash import fund_cash
from tests.factories import AllocationFactory, FundFactory, pay, user_in_role

DAY = datetime.date(2020, 9, 1)


@pytest.fixture
def line(db):
    return AllocationFactory(amount=Decimal("80000.00"), fund=FundFactory(code="ecf"))


@pytest.fixture
def pending_payment(line, officer):
    """£50,000.00 paid and awaiting approval, beside £1,000.00 paid and approved."""
    services.entry_approve(entry=pay(line, "1000.00", officer, reference="BACS-1"), acting_user=_approver())
    return pay(line, "50000.00", officer, reference="BACS-2")


def _approver():
    return user_in_role("Approver", "second-approver")


def html(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_line_page_keeps_a_pending_payment_out_of_paid(client, line, pending_payment, viewer):
    client.force_login(viewer)
    page = html(client, f"/allocations/{line.pk}/")
    assert 'Paid to the provider (approved)</th><td class="num" id="figure-paid">£1,000.00<' in page
    assert 'Payments awaiting approval</th><td class="num" id="figure-paid-pending">£50,000.00<' in page
    # Still to pay counts the pending payment at once, and says so.
    assert (
        "Still to pay (awarded − paid, payments awaiting approval included)</th>"
        '<td class="num" id="figure-still-to-pay">£29,000.00<'
    ) in page


def test_a_pending_returned_underspend_is_shown_beside_the_approved(client, line, officer, viewer):
    services.entry_approve(entry=pay(line, "1000.00", officer), acting_user=_approver())
    services.underspend_record(
        allocation=line, amount=Decimal("150.25"), effective_date=DAY, reference="REM-7", acting_user=officer
    )
    client.force_login(viewer)
    page = html(client, f"/allocations/{line.pk}/")
    assert 'id="figure-returned">£0.00 <span class="hint">(+ £150.25 awaiting approval)</span>' in page


def test_the_fund_page_says_paid_approved_with_the_pending_beside(client, line, pending_payment, viewer):
    client.force_login(viewer)
    page = html(client, "/funds/ecf/")
    assert (
        'Paid to providers (approved)</th><td class="num" id="fund-paid">£1,000.00 '
        '<span class="hint" id="fund-paid-pending">(+ £50,000.00 awaiting approval)</span>'
    ) in page


def test_the_fund_pages_cash_splits_payments_in_its_one_query(
    line, pending_payment, django_assert_num_queries
):
    with django_assert_num_queries(1):
        cash = fund_cash(line.fund)
    assert (cash.paid.amount, cash.paid_pending.amount) == (Decimal("1000.00"), Decimal("50000.00"))


@pytest.mark.parametrize("where", ["fund", "allocations", "organisation"])
def test_tables_show_approved_payments_with_the_pending_beside(client, line, pending_payment, viewer, where):
    url = {
        "fund": "/funds/ecf/",
        "allocations": "/allocations/",
        "organisation": reverse("grants:organisation_detail", args=[line.organisation_id]),
    }[where]
    client.force_login(viewer)
    page = html(client, url)
    assert (
        '<td class="num" data-label="Paid (approved)">£1,000.00<br>'
        '<span class="hint">+ £50,000.00 awaiting approval</span></td>'
    ) in page
    assert "Paid (approved)" in page


def test_approving_the_payment_moves_it_into_paid(client, line, pending_payment, viewer):
    services.entry_approve(entry=pending_payment, acting_user=_approver())
    client.force_login(viewer)
    page = html(client, f"/allocations/{line.pk}/")
    assert 'id="figure-paid">£51,000.00<' in page and 'id="figure-paid-pending">£0.00<' in page
    assert '<td class="num" data-label="Paid (approved)">£51,000.00</td>' in html(client, "/funds/ecf/")


def test_a_years_table_shows_the_years_pending_payments(client, line, pending_payment, viewer):
    client.force_login(viewer)
    page = html(client, "/funds/ecf/?year=2020-21")
    assert (
        '<td class="num" data-label="Paid (approved)">£1,000.00<br>'
        '<span class="hint">+ £50,000.00 awaiting approval</span></td>' in page
    )
