"""Issue 18: approvers see, beside "Approvals" in the navigation, how many entries and changes to
lines recorded by others await their decision, in one query."""

from decimal import Decimal

import pytest

from grants import selectors, services
from grants.models import LineChange
from tests.factories import AllocationFactory, FundFactory, FundingCategoryFactory, pay, user_in_role


@pytest.fixture
def line(db):
    return AllocationFactory(amount=Decimal("1000.00"), fund=FundFactory(code="ecf"))


def badge(page: str) -> str:
    start = page.index('<span class="count" id="awaiting-approval">')
    return page[start : page.index("</a>", start)]


def test_the_count_is_of_what_others_recorded_and_proposed(line, officer, approver):
    pay(line, "10.00", officer)
    pay(line, "20.00", officer)
    pay(line, "5.00", user_in_role("Finance officer", "another"))
    line.funding_category = FundingCategoryFactory()
    services.allocation_update(allocation=line, acting_user=officer, reason="Moved to DA")
    assert LineChange.objects.pending().count() == 1
    assert selectors.awaiting_decision_count(approver) == 4
    # What the officer recorded is not for the officer to approve.
    assert selectors.awaiting_decision_count(officer) == 1


def test_a_decided_entry_no_longer_counts(line, officer, approver):
    payment = pay(line, "10.00", officer)
    assert selectors.awaiting_decision_count(approver) == 1
    services.entry_approve(entry=payment, acting_user=approver)
    assert selectors.awaiting_decision_count(approver) == 0


def test_the_count_takes_one_query(line, officer, approver, django_assert_num_queries):
    for amount in ("1.00", "2.00", "3.00"):
        pay(line, amount, officer)
    with django_assert_num_queries(1):
        assert selectors.awaiting_decision_count(approver) == 3


def test_an_approver_sees_the_count_linking_to_approvals(client, line, officer, approver):
    pay(line, "10.00", officer)
    pay(line, "20.00", officer)
    client.force_login(approver)
    page = client.get("/").content.decode()
    assert badge(page) == (
        '<span class="count" id="awaiting-approval">2<span class="visually-hidden"> awaiting your approval'
        "</span></span>"
    )
    assert '<a href="/approvals/">Approvals <span class="count"' in page


def test_nothing_awaiting_shows_no_count(client, line, approver):
    client.force_login(approver)
    page = client.get("/").content.decode()
    assert ">Approvals</a>" in page and 'id="awaiting-approval"' not in page


def test_an_officer_is_shown_no_count(client, line, officer):
    pay(line, "10.00", user_in_role("Finance officer", "another"))
    client.force_login(officer)
    page = client.get("/").content.decode()
    assert "Approvals" not in page and 'id="awaiting-approval"' not in page
