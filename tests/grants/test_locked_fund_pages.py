"""Issue 18: a fund whose return is in force offers no action its pages would refuse (the line's
and fund's buttons, the tables' "Change amount", the years page's carry-forward and receipt), says
why and who can reopen it; and the services still refuse a POST to a hidden action."""

from decimal import Decimal

import pytest
from django.urls import reverse

from grants.models import LedgerEntry
from tests.factories import AllocationFactory, FundFactory, submit_return

LINE_ACTIONS = [
    "Record a payment",
    "Record returned underspend",
    "Record underspend due",
    "Carry forward to the next year",
    "Change the amount",
    "Edit details",
]
WHY = "Nothing can be recorded or changed here while version 1 of the fund's MoJ return is in force"


@pytest.fixture
def line(db):
    return AllocationFactory(amount=Decimal("1000.00"), fund=FundFactory(code="ecf"))


@pytest.fixture
def open_line(line):
    """A line of another fund, in the same organisation, whose return is not submitted."""
    return AllocationFactory(
        amount=Decimal("500.00"), fund=FundFactory(code="open"), organisation=line.organisation
    )


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def change_link(line) -> str:
    return f'<a href="{reverse("grants:allocation_change_amount", args=[line.pk])}">Change amount'


def test_an_open_funds_pages_offer_the_actions(client, line, officer):
    client.force_login(officer)
    line_page = page(client, f"/allocations/{line.pk}/")
    assert all(action in line_page for action in LINE_ACTIONS)
    assert "locked-actions" not in line_page
    assert change_link(line) in page(client, "/funds/ecf/")


def test_a_locked_line_offers_no_action_and_says_who_can_reopen(client, line, officer, approver):
    submit_return(line.fund, approver)
    client.force_login(officer)
    line_page = page(client, f"/allocations/{line.pk}/")
    assert [action for action in LINE_ACTIONS if action in line_page] == []
    assert WHY in line_page
    assert "an approver can reopen the fund, with a reason." in line_page
    # An approver is offered the reopening itself.
    client.force_login(approver)
    assert (
        'an approver can reopen the fund, with a reason (<a href="/funds/ecf/reopen/">reopen it</a>)'
        in page(client, f"/allocations/{line.pk}/")
    )


def test_the_locked_funds_table_has_no_change_links(client, line, officer, approver):
    submit_return(line.fund, approver)
    client.force_login(officer)
    fund_page = page(client, "/funds/ecf/")
    assert "Change amount" not in fund_page
    assert "Add an allocation" not in fund_page and "Import allocations from Excel" not in fund_page
    assert 'id="lock-notice"' in fund_page


@pytest.mark.parametrize("where", ["allocations", "organisation"])
def test_tables_across_funds_offer_no_change_on_a_locked_funds_lines(
    client, line, open_line, officer, approver, where
):
    submit_return(line.fund, approver)
    client.force_login(officer)
    url = "/allocations/" if where == "allocations" else f"/organisations/{line.organisation_id}/"
    table = page(client, url)
    assert change_link(open_line) in table
    assert change_link(line) not in table
    assert table.count('<span class="hint">Return submitted</span>') == 1


def test_the_years_page_of_a_locked_fund_offers_no_carry_forward_or_receipt(client, line, officer, approver):
    client.force_login(officer)
    assert "Record money received from the funder" in page(client, "/funds/ecf/years/")
    submit_return(line.fund, approver)
    years = page(client, "/funds/ecf/years/")
    assert "Record money received from the funder" not in years
    assert "Carry part of a year" not in years
    assert WHY in years


def test_a_post_to_a_hidden_action_is_still_refused(client, line, officer, approver):
    submit_return(line.fund, approver)
    client.force_login(officer)
    before = LedgerEntry.objects.count()
    change = {"amount": "1200.00", "shown_amount": "1000.00", "effective_date": "2020-09-01", "memo": "x"}
    response = client.post(reverse("grants:allocation_change_amount", args=[line.pk]), change)
    assert "MoJ return was submitted (version 1," in response.content.decode()
    payment = {"amount": "1.00", "effective_date": "2020-09-01", "reference": "B"}
    response = client.post(reverse("grants:payment_add", args=[line.pk]), payment)
    assert "MoJ return was submitted (version 1," in response.content.decode()
    assert LedgerEntry.objects.count() == before
