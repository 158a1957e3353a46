"""Payment schedules: the pattern's maths, totals against the approved amount by year, settling an
instalment with a payment and unsettling it when the payment is rejected or reversed, the refusals,
and the dashboard's lists with a fixed today."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from djmoney.money import Money

from audit.models import AuditEvent
from grants import money, selectors, services
from grants.models import Instalment, LedgerEntry
from grants.services.schedules import Frequency, periods, planned_instalments
from grants.years import FinancialYear
from tests.factories import AllocationFactory, FundFactory, approve_pending, submit_return


def gbp(text):
    return Money(Decimal(text), "GBP")


def day(text):
    return datetime.date.fromisoformat(text)


# --- The pattern's maths, without the database -----------------------------------------------------


def test_quarterly_in_arrears_over_a_spend_period_crossing_years_is_due_at_each_quarters_end():
    dues = [p.due("arrears") for p in periods(day("2023-04-01"), day("2025-03-31"), Frequency.QUARTERLY)]
    assert dues == [
        day("2023-06-30"),
        day("2023-09-30"),
        day("2023-12-31"),
        day("2024-03-31"),
        day("2024-06-30"),
        day("2024-09-30"),
        day("2024-12-31"),
        day("2025-03-31"),
    ]


def test_in_advance_is_due_at_each_periods_start_and_the_last_period_is_cut_at_the_spend_end():
    found = periods(day("2020-03-23"), day("2020-10-31"), Frequency.HALF_YEARLY)
    assert [(p.start, p.end) for p in found] == [
        (day("2020-03-23"), day("2020-09-22")),
        (day("2020-09-23"), day("2020-10-31")),
    ]
    assert [p.due("advance") for p in found] == [day("2020-03-23"), day("2020-09-23")]
    assert len(periods(day("2023-04-01"), day("2024-03-31"), Frequency.MONTHLY)) == 12


def test_each_years_amount_is_split_over_its_instalments_with_the_pennies_on_the_last():
    planned = planned_instalments(
        start=day("2023-04-01"),
        end=day("2025-03-31"),
        frequency=Frequency.QUARTERLY,
        timing="arrears",
        by_year={2023: gbp("1000.00"), 2024: gbp("1000.03")},
    )
    assert [(row.due_date, row.amount) for row in planned] == [
        (day("2023-06-30"), gbp("250.00")),
        (day("2023-09-30"), gbp("250.00")),
        (day("2023-12-31"), gbp("250.00")),
        (day("2024-03-31"), gbp("250.00")),
        (day("2024-06-30"), gbp("250.00")),
        (day("2024-09-30"), gbp("250.00")),
        (day("2024-12-31"), gbp("250.00")),
        (day("2025-03-31"), gbp("250.03")),
    ]


def test_a_year_with_nothing_approved_gets_no_instalments():
    planned = planned_instalments(
        start=day("2023-04-01"),
        end=day("2025-03-31"),
        frequency=Frequency.HALF_YEARLY,
        timing="advance",
        by_year={2024: gbp("0.01")},
    )
    # Two halves in 2024-25: a penny split in two leaves nothing on the first, so only the last remains.
    assert [(row.due_date, row.amount) for row in planned] == [(day("2024-10-01"), gbp("0.01"))]


# --- On the database ---------------------------------------------------------------------------------


@pytest.fixture
def two_years(db, officer):
    """A synthetic two-year fund: a line awarded £1,000.00 in 2023-24 and varied by £1,000.01 in 2024-25."""
    fund = FundFactory(
        code="synthetic-schedules",
        spend_start=day("2023-04-01"),
        spend_end=day("2025-03-31"),
        control_total=gbp("5000.00"),
    )
    line = AllocationFactory(fund=fund, amount=Decimal("1000.00"), effective_date=day("2023-04-10"))
    services.allocation_set_amount(
        allocation=line,
        amount=Decimal("2000.01"),
        memo="Second year",
        acting_user=officer,
        effective_date=day("2024-04-10"),
    )
    approve_pending(fund=fund)
    return line


def make_schedule(line, officer, **kwargs):
    return services.schedule_from_pattern(
        allocation=line,
        frequency=kwargs.pop("frequency", Frequency.QUARTERLY),
        timing=kwargs.pop("timing", "arrears"),
        acting_user=officer,
        **kwargs,
    )


def test_a_schedule_from_a_pattern_adds_up_to_the_approved_amount_of_each_year(two_years, officer):
    made = make_schedule(two_years, officer)
    assert [i.amount for i in made] == [gbp("250.00")] * 7 + [gbp("250.01")]
    schedule = selectors.line_schedule(two_years)
    assert [(y.year.label, y.planned, y.approved, y.adds_up) for y in schedule.years] == [
        ("2023-24", gbp("1000.00"), gbp("1000.00"), True),
        ("2024-25", gbp("1000.01"), gbp("1000.01"), True),
    ]
    assert schedule.total == gbp("2000.01")
    # Kept in the audit trail, with who made it.
    events = AuditEvent.objects.filter(table_name="grants_instalment", action="insert")
    assert events.count() == 8
    assert {event.actor_id for event in events} == {officer.pk}


def test_the_page_says_by_how_much_a_year_does_not_add_up(two_years, officer):
    made = make_schedule(two_years, officer)
    services.instalment_update(
        instalment=made[0], due_date=made[0].due_date, amount="249.99", timing="arrears", acting_user=officer
    )
    services.instalment_delete(instalment=made[-1], acting_user=officer)
    schedule = selectors.line_schedule(two_years)
    assert [y.in_words for y in schedule.years] == [
        "The instalments due in 2023-24 come to £0.01 less than the line's approved amount for the year.",
        "The instalments due in 2024-25 come to £250.01 less than the line's approved amount for the year.",
    ]
    assert selectors.schedule_differences(two_years.fund) == [
        (two_years.line_number, 2023, gbp("-0.01")),
        (two_years.line_number, 2024, gbp("-250.01")),
    ]


def test_a_schedule_for_one_year_replaces_only_that_years_planned_instalments(two_years, officer):
    make_schedule(two_years, officer)
    make_schedule(two_years, officer, frequency=Frequency.MONTHLY, year=FinancialYear(2024))
    rows = Instalment.objects.filter(allocation=two_years)
    assert rows.filter(due_date__lt=day("2024-04-01")).count() == 4
    in_2024 = list(rows.filter(due_date__gte=day("2024-04-01")).order_by("due_date"))
    assert len(in_2024) == 12
    assert in_2024[0].amount == gbp("83.33") and in_2024[-1].amount == gbp("83.38")
    assert money.total(i.amount for i in in_2024) == gbp("1000.01")


def test_an_instalment_amount_must_be_positive_in_the_service_and_in_the_database(two_years, officer):
    with pytest.raises(ValidationError) as refused:
        services.instalment_create(
            allocation=two_years,
            due_date=day("2023-05-01"),
            amount="0.00",
            timing="advance",
            acting_user=officer,
        )
    assert refused.value.message_dict == {"amount": ["An instalment's amount must be more than £0.00."]}
    with pytest.raises(IntegrityError), transaction.atomic():
        Instalment.objects.create(allocation=two_years, due_date=day("2023-05-01"), amount=gbp("-1.00"))
    assert not Instalment.objects.exists()


def test_a_due_date_outside_the_funds_years_is_refused(two_years, officer):
    with pytest.raises(ValidationError) as refused:
        services.instalment_create(
            allocation=two_years,
            due_date=day("2026-04-01"),
            amount="1.00",
            timing="advance",
            acting_user=officer,
        )
    assert refused.value.message_dict["due_date"] == [
        "1 April 2026 is outside the fund's financial years (1 April 2023 to 31 March 2025)."
    ]


def test_a_stale_edit_is_refused_and_changes_nothing(two_years, officer):
    first = make_schedule(two_years, officer)[0]
    opened_at = first.version
    services.instalment_update(
        instalment=first, due_date=day("2023-07-01"), amount="250.00", timing="arrears", acting_user=officer
    )
    with pytest.raises(ValidationError, match="Someone else changed this instalment"):
        services.instalment_update(
            instalment=first,
            due_date=day("2023-08-01"),
            amount="1.00",
            timing="arrears",
            acting_user=officer,
            expected_version=opened_at,
        )
    first.refresh_from_db()
    assert (first.due_date, first.amount) == (day("2023-07-01"), gbp("250.00"))


def test_a_pattern_from_a_stale_page_is_refused(two_years, officer):
    stamp = services.schedules.schedule_stamp(two_years.pk)
    make_schedule(two_years, officer)
    with pytest.raises(ValidationError, match="Someone else changed this line's schedule"):
        make_schedule(two_years, officer, frequency=Frequency.MONTHLY, expected_stamp=stamp)
    assert Instalment.objects.count() == 8


def test_a_schedule_is_refused_on_a_submitted_fund(two_years, officer, approver):
    made = make_schedule(two_years, officer)
    submit_return(two_years.fund, approver)
    with pytest.raises(ValidationError, match="MoJ return was submitted"):
        make_schedule(two_years, officer)
    with pytest.raises(ValidationError, match="MoJ return was submitted"):
        services.instalment_delete(instalment=made[0], acting_user=officer)
    assert Instalment.objects.count() == 8


# --- Settling ---------------------------------------------------------------------------------------


def pay_instalment(line, instalment, officer, reference="BACS-7", amount="250.00"):
    return services.payment_record_settling(
        allocation=line,
        instalment=instalment,
        amount=amount,
        effective_date=day("2023-07-02"),
        reference=reference,
        acting_user=officer,
    )


def state_of(instalment):
    return Instalment.objects.with_state().get(pk=instalment.pk).state


def test_a_payment_settles_an_instalment_awaiting_approval_then_paid(two_years, officer, approver):
    first = make_schedule(two_years, officer)[0]
    payment = pay_instalment(two_years, first, officer)
    first.refresh_from_db()
    assert first.settled_by == payment
    assert state_of(first) == Instalment.State.AWAITING_APPROVAL
    services.entry_approve(entry=payment, acting_user=approver)
    assert state_of(first) == Instalment.State.PAID


def test_a_payment_smaller_than_its_instalment_is_refused_and_nothing_is_recorded(two_years, officer):
    """One payment settles an instalment, so it pays all of it: a £1 payment never marks a £250
    instalment paid with £249 still owed."""
    first = make_schedule(two_years, officer)[0]
    with pytest.raises(ValidationError) as refused:
        pay_instalment(two_years, first, officer, amount="249.99")
    assert refused.value.message_dict == {
        "amount": [
            "A payment that settles the instalment due 30 June 2023 pays all of it, £250.00. To pay part "
            "of it, change the instalment to the part paid now and add another for the rest."
        ]
    }
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    first.refresh_from_db()
    assert (first.settled_by, state_of(first)) == (None, Instalment.State.PLANNED)
    # The whole of it (or more) settles it.
    payment = pay_instalment(two_years, first, officer, amount="250.00")
    first.refresh_from_db()
    assert first.settled_by == payment


def test_a_rejected_payment_unsettles_its_instalment_which_can_be_settled_again(two_years, officer, approver):
    first = make_schedule(two_years, officer)[0]
    payment = pay_instalment(two_years, first, officer)
    services.entry_reject(entry=payment, reason="Wrong bank details", acting_user=approver)
    assert state_of(first) == Instalment.State.PLANNED
    again = pay_instalment(two_years, first, officer, reference="BACS-8")
    first.refresh_from_db()
    assert first.settled_by == again


def test_a_reversed_payment_unsettles_its_instalment_once_the_reversal_is_approved(
    two_years, officer, approver
):
    first = make_schedule(two_years, officer)[0]
    payment = pay_instalment(two_years, first, officer)
    services.entry_approve(entry=payment, acting_user=approver)
    reversal = services.entry_reverse(entry=payment, memo="Paid twice", acting_user=officer)
    # Until the reversal is approved, the payment still counts: the instalment stays paid.
    assert state_of(first) == Instalment.State.PAID
    services.entry_approve(entry=reversal, acting_user=approver)
    assert state_of(first) == Instalment.State.PLANNED


def test_settling_twice_is_refused_by_the_service_and_by_the_database(two_years, officer, approver):
    first, second = make_schedule(two_years, officer)[:2]
    payment = pay_instalment(two_years, first, officer)
    with pytest.raises(ValidationError) as refused:
        pay_instalment(two_years, first, officer, reference="BACS-9")
    assert refused.value.message_dict == {
        "instalment": ["This instalment is already settled by payment BACS-7 of £250.00."]
    }
    assert LedgerEntry.objects.filter(kind="payment").count() == 1
    other = services.payment_record(
        allocation=two_years,
        amount="1.00",
        effective_date=day("2023-07-03"),
        reference="X",
        acting_user=officer,
    )
    # The database: a payment that stands is never replaced, and a payment settles one instalment.
    with pytest.raises(IntegrityError), transaction.atomic():
        Instalment.objects.filter(pk=first.pk).update(settled_by=other)
    with pytest.raises(IntegrityError), transaction.atomic():
        Instalment.objects.filter(pk=second.pk).update(settled_by=payment)
    first.refresh_from_db()
    assert first.settled_by == payment


def test_settling_an_instalment_of_another_line_is_refused_by_the_service_and_by_the_database(
    two_years, officer
):
    other_line = AllocationFactory(
        fund=two_years.fund, amount=Decimal("400.00"), effective_date=day("2023-05-01")
    )
    theirs = make_schedule(other_line, officer)[0]
    with pytest.raises(ValidationError) as refused:
        pay_instalment(two_years, theirs, officer)
    assert refused.value.message_dict == {
        "instalment": [f"This instalment is planned on another line, not line {two_years.line_number}."]
    }
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    ours = services.payment_record(
        allocation=two_years,
        amount="1.00",
        effective_date=day("2023-07-03"),
        reference="X",
        acting_user=officer,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Instalment.objects.filter(pk=theirs.pk).update(settled_by=ours)


def test_a_settled_instalment_cannot_be_edited_or_deleted(two_years, officer):
    first = make_schedule(two_years, officer)[0]
    pay_instalment(two_years, first, officer)
    with pytest.raises(ValidationError, match="settled by payment BACS-7"):
        services.instalment_delete(instalment=first, acting_user=officer)
    with pytest.raises(ValidationError, match="settled by payment BACS-7"):
        make_schedule(two_years, officer)
    assert Instalment.objects.count() == 8


# --- Due and overdue, with a fixed today ----------------------------------------------------------------


def test_due_soon_and_overdue_lists_with_a_fixed_today(two_years, officer, approver):
    made = make_schedule(two_years, officer)
    # 30 Jun 2023 paid (approved), 30 Sep 2023 awaiting approval, the rest planned.
    services.entry_approve(entry=pay_instalment(two_years, made[0], officer), acting_user=approver)
    pay_instalment(two_years, made[1], officer, reference="BACS-10")
    due = selectors.due_instalments(today=day("2023-12-15"))
    assert [i.due_date for i in due.overdue.rows] == [day("2023-09-30")]
    assert (due.overdue.count, due.overdue.total) == (1, gbp("250.00"))
    assert due.overdue.rows[0].state == Instalment.State.AWAITING_APPROVAL
    assert [i.due_date for i in due.due_soon.rows] == [day("2023-12-31")]
    assert (due.due_soon.count, due.due_soon.total) == (1, gbp("250.00"))
    # On the due date itself it is due, not overdue; the day after, overdue.
    assert selectors.due_instalments(today=day("2023-12-31")).due_soon.count == 1
    assert selectors.due_instalments(today=day("2024-01-01")).overdue.count == 2


def test_the_database_refuses_a_change_to_a_submitted_funds_schedule(two_years, officer, approver):
    made = make_schedule(two_years, officer)
    submit_return(two_years.fund, approver)
    with pytest.raises(IntegrityError, match="submitted MoJ return"), transaction.atomic():
        Instalment.objects.filter(pk=made[0].pk).update(amount=gbp("1.00"))
    with pytest.raises(IntegrityError, match="submitted MoJ return"), transaction.atomic():
        Instalment.objects.create(allocation=two_years, due_date=day("2023-05-01"), amount=gbp("1.00"))
    if connection.vendor == "postgresql":  # SQLite has no DELETE guard: its test runner empties tables so
        with pytest.raises(IntegrityError, match="submitted MoJ return"), transaction.atomic():
            Instalment.objects.filter(pk=made[1].pk).delete()
    made[0].refresh_from_db()
    assert made[0].amount == gbp("250.00") and Instalment.objects.count() == 8


# --- The database keeps a settled instalment as the service does -------------------------------------


def test_the_database_refuses_changing_or_deleting_an_instalment_a_standing_payment_settles(
    two_years, officer, approver
):
    first, second = make_schedule(two_years, officer)[:2]
    other_line = AllocationFactory(
        fund=two_years.fund, amount=Decimal("400.00"), effective_date=day("2023-05-01")
    )
    pay_instalment(two_years, first, officer)  # awaiting approval: it stands
    kept = "settled by a payment that stands keeps its date, amount, timing and line"
    for change in (
        {"due_date": day("2023-08-01")},
        {"amount": gbp("1.00")},
        {"timing": "advance"},
    ):
        with pytest.raises(IntegrityError, match=kept), transaction.atomic():
            Instalment.objects.filter(pk=first.pk).update(**change)
    # Moving it to another line is refused by this guard or by the one tying a payment to its line.
    with pytest.raises(IntegrityError, match="settled by a payment"), transaction.atomic():
        Instalment.objects.filter(pk=first.pk).update(allocation=other_line)
    if connection.vendor == "postgresql":  # SQLite has no DELETE guard: its test runner empties tables so
        with pytest.raises(IntegrityError, match="is not deleted"), transaction.atomic():
            Instalment.objects.filter(pk=first.pk).delete()
    first.refresh_from_db()
    assert (first.due_date, first.amount, first.timing) == (day("2023-06-30"), gbp("250.00"), "arrears")
    assert first.allocation == two_years and Instalment.objects.count() == 8
    # A version bump (what any save does) is not a change to what was planned.
    Instalment.objects.filter(pk=first.pk).update(version=first.version + 1)
    # The unsettled one beside it is the service's to change and delete, and the database lets it.
    services.instalment_update(
        instalment=second, due_date=day("2023-10-02"), amount="249.00", timing="arrears", acting_user=officer
    )
    second.refresh_from_db()
    assert (second.due_date, second.amount) == (day("2023-10-02"), gbp("249.00"))
    services.instalment_delete(instalment=second, acting_user=officer)
    assert not Instalment.objects.filter(pk=second.pk).exists()


def test_the_database_frees_an_instalment_whose_payment_is_rejected_or_reversed(two_years, officer, approver):
    first, second = make_schedule(two_years, officer)[:2]
    rejected = pay_instalment(two_years, first, officer)
    services.entry_reject(entry=rejected, reason="Wrong bank details", acting_user=approver)
    services.instalment_update(
        instalment=first, due_date=day("2023-07-15"), amount="200.00", timing="advance", acting_user=officer
    )
    first.refresh_from_db()
    assert (first.due_date, first.amount, first.timing) == (day("2023-07-15"), gbp("200.00"), "advance")
    reversed_payment = pay_instalment(two_years, second, officer, reference="BACS-8")
    services.entry_approve(entry=reversed_payment, acting_user=approver)
    reversal = services.entry_reverse(entry=reversed_payment, memo="Paid twice", acting_user=officer)
    # A reversal awaiting approval frees nothing, in the database as in the service.
    with pytest.raises(IntegrityError, match="settled by a payment that stands"), transaction.atomic():
        Instalment.objects.filter(pk=second.pk).update(amount=gbp("1.00"))
    services.entry_approve(entry=reversal, acting_user=approver)
    services.instalment_delete(instalment=second, acting_user=officer)
    assert not Instalment.objects.filter(pk=second.pk).exists()
