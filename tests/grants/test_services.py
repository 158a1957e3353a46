"""The ledger's writes: awards, variations, control-total revisions."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from djmoney.money import Money

from grants import services
from grants.models import Allocation, ControlTotalRevision, LedgerEntry
from tests.factories import AllocationFactory, FundFactory, FundingCategoryFactory, approve_pending


def awarded(allocation):
    return services.allocation_awarded(allocation)


def test_allocation_create_records_an_award_by_the_acting_user(db, officer):
    line = AllocationFactory(amount=Decimal("80528.42"), acting_user=officer, memo="Board report")
    (entry,) = line.entries.all()
    assert (entry.kind, entry.amount, entry.recorded_by, entry.memo) == (
        "award",
        Money(Decimal("80528.42"), "GBP"),
        officer,
        "Board report",
    )


def test_changing_an_amount_records_a_variation_for_the_difference_and_keeps_the_award(db, officer):
    line = AllocationFactory(amount=Decimal("100.00"))
    award = line.entries.get()
    variation = services.allocation_set_amount(
        allocation=line,
        amount=Decimal("80.50"),
        memo="Provider returned part of the bid",
        effective_date=datetime.date(2020, 9, 1),
        acting_user=officer,
    )
    assert (variation.kind, variation.amount.amount, variation.recorded_by) == (
        "variation",
        Decimal("-19.50"),
        officer,
    )
    assert variation.memo == "Provider returned part of the bid"
    assert list(line.entries.order_by("pk")) == [award, variation]
    award.refresh_from_db()
    assert award.amount == Money(Decimal("100.00"), "GBP")
    # The variation waits for approval; once approved it counts.
    assert variation.approved_at is None
    assert awarded(line) == Money(Decimal("100.00"), "GBP")
    approve_pending(allocation=line)
    assert awarded(line) == Money(Decimal("80.50"), "GBP")


def test_setting_the_same_amount_records_nothing(db, officer):
    line = AllocationFactory(amount=Decimal("100.00"))
    assert (
        services.allocation_set_amount(allocation=line, amount="100.00", memo="", acting_user=officer) is None
    )
    assert line.entries.count() == 1


def test_a_change_of_amount_needs_a_reason(db, officer):
    line = AllocationFactory(amount=Decimal("100.00"))
    with pytest.raises(ValidationError) as error:
        services.allocation_set_amount(allocation=line, amount="120.00", memo="  ", acting_user=officer)
    assert error.value.message_dict == {
        "memo": ["Say why the amount changed; the reason is kept with the variation."]
    }
    assert line.entries.count() == 1


def test_an_allocation_can_be_varied_to_zero_but_not_below(db, officer):
    line = AllocationFactory(amount=Decimal("100.00"))
    services.allocation_set_amount(allocation=line, amount="0", memo="Withdrawn", acting_user=officer)
    approve_pending(allocation=line)
    assert awarded(line) == Money(Decimal("0.00"), "GBP")
    with pytest.raises(ValidationError) as error:
        services.allocation_set_amount(allocation=line, amount="-0.01", memo="x", acting_user=officer)
    assert error.value.message_dict == {"amount": ["An allocation cannot be varied below £0.00."]}


def test_allocation_create_refuses_three_decimal_places_and_writes_nothing(db, officer):
    fund = FundFactory()
    with pytest.raises(ValidationError) as error:
        AllocationFactory(fund=fund, amount="1.005", acting_user=officer)
    assert error.value.message_dict == {
        "amount": ["1.005 is not an amount in pounds and pence (at most 2 decimal places)."]
    }
    assert not Allocation.objects.filter(fund=fund).exists()
    assert not LedgerEntry.objects.exists()


def test_allocation_create_refuses_a_second_line_with_the_same_number(db):
    line = AllocationFactory(line_number=1)
    with pytest.raises(ValidationError) as error:
        AllocationFactory(fund=line.fund, line_number=1)
    assert error.value.messages == ["This fund already has a line with that number."]
    assert LedgerEntry.objects.count() == 1


LINE_TWICE = (
    "This fund already has a line for that organisation and service in that thematic area "
    "and funding category."
)


def test_allocation_create_takes_lines_for_one_organisation_in_two_categories(db, officer):
    sexual_violence = AllocationFactory(line_number=1)
    domestic_abuse = AllocationFactory(
        fund=sexual_violence.fund,
        line_number=2,
        organisation=sexual_violence.organisation,
        thematic_area=sexual_violence.thematic_area,
        funding_category=FundingCategoryFactory(),
        acting_user=officer,
    )
    assert list(
        Allocation.objects.filter(organisation=sexual_violence.organisation)
        .order_by("line_number")
        .values_list("line_number", "service", "funding_category")
    ) == [(1, "", sexual_violence.funding_category_id), (2, "", domestic_abuse.funding_category_id)]


def test_allocation_create_refuses_a_line_typed_twice_and_writes_nothing(db, officer):
    line = AllocationFactory(line_number=1, service="Helpline")
    with pytest.raises(ValidationError) as error:
        services.allocation_create(
            fund=line.fund,
            line_number=2,
            organisation=line.organisation,
            service=" Helpline ",
            thematic_area=line.thematic_area,
            funding_category=line.funding_category,
            amount="10.00",
            memo="Award",
            acting_user=officer,
        )
    assert error.value.messages == [LINE_TWICE]
    assert list(Allocation.objects.values_list("line_number", flat=True)) == [1]
    assert LedgerEntry.objects.count() == 1


def test_entries_cannot_be_edited_or_deleted(db):
    entry = AllocationFactory(amount=Decimal("100.00")).entries.get()
    entry.memo = "Rewritten"
    with pytest.raises(ValidationError, match="cannot be changed once recorded"):
        entry.save()
    with pytest.raises(ValidationError, match="cannot be deleted"):
        entry.delete()
    with pytest.raises(ValidationError, match="Ledger entries are append-only"):
        LedgerEntry.objects.filter(pk=entry.pk).update(memo="Rewritten")
    with pytest.raises(ValidationError, match="Ledger entries are append-only"):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.memo == "Award"


def test_changing_the_control_total_keeps_the_old_figure_in_history(db, officer):
    fund = FundFactory(control_total=Money(Decimal("738810.53"), "GBP"))
    fund.control_total = Money(Decimal("738810.82"), "GBP")
    services.fund_save(fund=fund, memo="Revised award letter, 1 September 2020", acting_user=officer)
    revision = ControlTotalRevision.objects.get(fund=fund)
    assert (revision.previous_amount, revision.new_amount, revision.recorded_by, revision.memo) == (
        Money(Decimal("738810.53"), "GBP"),
        Money(Decimal("738810.82"), "GBP"),
        officer,
        "Revised award letter, 1 September 2020",
    )


def test_changing_the_control_total_without_a_reason_changes_nothing(db, officer):
    fund = FundFactory(control_total=Money(Decimal("1000.00"), "GBP"))
    fund.control_total = Money(Decimal("900.00"), "GBP")
    with pytest.raises(ValidationError) as error:
        services.fund_save(fund=fund, memo="", acting_user=officer)
    assert list(error.value.message_dict) == ["control_total"]
    fund.refresh_from_db()
    assert fund.control_total == Money(Decimal("1000.00"), "GBP")
    assert not ControlTotalRevision.objects.exists()


def test_saving_a_fund_without_changing_its_control_total_records_no_revision(db, officer):
    fund = FundFactory()
    fund.notes = "Award letter filed"
    services.fund_save(fund=fund, acting_user=officer)
    assert not ControlTotalRevision.objects.exists()


def test_a_stale_expected_amount_is_refused_rather_than_undoing_a_colleagues_change(db, officer):
    line = AllocationFactory(amount=Decimal("100.00"))
    services.allocation_set_amount(allocation=line, amount="150.00", memo="Colleague", acting_user=None)
    with pytest.raises(ValidationError) as error:
        services.allocation_set_amount(
            allocation=line, amount="90.00", expected_current="100.00", memo="Mine", acting_user=officer
        )
    assert error.value.message_dict == {
        "amount": [
            "Someone else has changed this line's amount to £150.00 since you opened it. "
            "Reload the page to see their change, then try again."
        ]
    }
    # The colleague's change was still awaiting approval: the recorded amount is what is compared.
    approve_pending(allocation=line)
    assert awarded(line) == Money(Decimal("150.00"), "GBP")
    services.allocation_set_amount(
        allocation=line, amount="90.00", expected_current="150.00", memo="Mine", acting_user=officer
    )
    approve_pending(allocation=line)
    assert awarded(line) == Money(Decimal("90.00"), "GBP")


def test_a_line_cannot_move_to_another_fund(db, officer):
    line = AllocationFactory()
    line.fund = FundFactory()
    with pytest.raises(ValidationError) as error:
        services.allocation_update(allocation=line, acting_user=officer)
    assert error.value.message_dict == {
        "fund": ["A line cannot move to another fund: its ledger entries belong to this one."]
    }


@pytest.mark.parametrize("amount", ["1e30", "1000000000000.00", "-1000000000000.00"])
def test_amounts_too_large_for_the_ledger_are_refused_with_a_message(db, officer, amount):
    with pytest.raises(ValidationError) as error:
        AllocationFactory(amount=amount, acting_user=officer)
    assert error.value.message_dict == {
        "amount": [f"{amount} is too large: amounts must be less than £1,000,000,000,000."]
    }


@pytest.mark.parametrize("amount", ["Infinity", "NaN"])
def test_amounts_that_are_not_numbers_are_refused_with_a_message(db, officer, amount):
    with pytest.raises(ValidationError) as error:
        AllocationFactory(amount=amount, acting_user=officer)
    assert error.value.message_dict == {
        "amount": [f"{amount} is not an amount in pounds and pence (at most 2 decimal places)."]
    }
