"""Proposed changes to a line (`grants/services/line_changes.py`) keep the fund's lines distinct: a
change that would make a line a second copy of another (same organisation, service, thematic area
and funding category) is refused when proposed, and again when approved."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from grants import money, services
from grants.models import LineChange
from tests.factories import AllocationFactory, FundFactory, FundingCategoryFactory, OrganisationFactory

LINE_TWICE = (
    "This fund already has a line for that organisation and service in that thematic area "
    "and funding category."
)


@pytest.fixture
def provider(db):
    return OrganisationFactory()


@pytest.fixture
def line(provider):
    """Line 1, with approved money: a change to it awaits approval."""
    return AllocationFactory(
        line_number=1,
        organisation=provider,
        amount=Decimal("100.00"),
        fund=FundFactory(control_total=money.gbp("5000.00")),
    )


def second_line(line, **changes):
    details = {
        "fund": line.fund,
        "line_number": 2,
        "organisation": line.organisation,
        "thematic_area": line.thematic_area,
        "funding_category": FundingCategoryFactory(),
    }
    return AllocationFactory(**(details | changes))


def test_a_proposed_change_that_would_copy_another_line_is_refused(line, officer):
    other = second_line(line)
    was = line.funding_category
    line.funding_category = other.funding_category

    with pytest.raises(ValidationError) as refused:
        services.allocation_update(allocation=line, acting_user=officer, reason="Moved to DA")

    assert refused.value.messages == [LINE_TWICE]
    assert not LineChange.objects.exists()
    line.refresh_from_db()
    assert line.funding_category == was


def test_a_proposed_change_to_a_category_the_organisation_holds_no_line_in_is_approved(
    line, officer, approver
):
    second_line(line)
    new_category = FundingCategoryFactory()
    line.funding_category = new_category
    services.allocation_update(allocation=line, acting_user=officer, reason="Moved to DA")
    change = LineChange.objects.get()

    services.line_change_approve(change=change, acting_user=approver)

    line.refresh_from_db()
    assert line.funding_category == new_category


def test_an_approved_change_that_a_later_line_would_copy_is_refused(line, officer, approver):
    new_category = FundingCategoryFactory()
    line.funding_category = new_category
    services.allocation_update(allocation=line, acting_user=officer, reason="Moved to DA")
    change = LineChange.objects.get()
    # Meanwhile a line with no approved money is corrected directly into what the change proposes.
    other = second_line(line, approved=False)
    other.funding_category = new_category
    services.allocation_update(allocation=other, acting_user=officer)

    with pytest.raises(ValidationError) as refused:
        services.line_change_approve(change=change, acting_user=approver)

    assert refused.value.messages == [f"Line 1 cannot take this change: {LINE_TWICE}"]
    change.refresh_from_db()
    assert change.is_pending
    line.refresh_from_db()
    assert line.funding_category != new_category
