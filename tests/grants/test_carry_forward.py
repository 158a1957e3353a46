"""Carrying forward between financial years: a pair of entries, the out leg (31 March) and the in leg
(1 April), recorded together and decided together by someone else; through the services, the
admin, and raw SQL on both databases."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateformat import format as date_format
from djmoney.money import Money

from grants import roles, services
from grants.models import Fund, FundYear, LedgerEntry
from grants.money import format_gbp
from grants.reconciliation import reconcile
from grants.reconciliation.years import reconcile_by_year
from grants.triggers import CARRY_FORWARD_IN_LEG_REFUSED, CARRY_FORWARD_OUT_LEG_REFUSED
from grants.years import FinancialYear
from tests.factories import AllocationFactory, FundFactory, StaffUserFactory, submit_return, user_in_role
from tests.grants.test_constraints import insert_with_sql

Y2023, Y2024, Y2025 = FinancialYear(2023), FinancialYear(2024), FinancialYear(2025)
AGREEMENT = "MoJ letter 2024/017"


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


@pytest.fixture
def fund(db):
    """A three-year fund with a profile: £40,000.00, £42,000.50 and £17,999.50."""
    fund = FundFactory(
        code="moj-vs-2023",
        spend_start=datetime.date(2023, 4, 1),
        spend_end=datetime.date(2026, 3, 31),
        control_total=gbp("100000.00"),
    )
    services.fund_profile_set(
        fund=fund,
        figures={Y2023: "40000.00", Y2024: "42000.50", Y2025: "17999.50"},
        memo="Award letter",
        acting_user=None,
    )
    return fund


@pytest.fixture
def line(fund):
    """A line awarded £30,000.55 in 2023-24, approved."""
    return AllocationFactory(fund=fund, amount=Decimal("30000.55"), effective_date=datetime.date(2023, 5, 1))


def carry_line(line, officer, amount="1234.56", year=Y2023):
    return services.carry_forward_line(
        allocation=line,
        from_year=year,
        amount=amount,
        reference=AGREEMENT,
        memo="Slipped",
        acting_user=officer,
    )


def carry_fund(fund, officer, amount="5000.25", year=Y2023):
    return services.carry_forward_fund(
        fund=fund, from_year=year, amount=amount, reference=AGREEMENT, memo="Slipped", acting_user=officer
    )


def legs(in_leg) -> tuple[LedgerEntry, LedgerEntry]:
    in_leg = LedgerEntry.objects.get(pk=in_leg.pk)
    return LedgerEntry.objects.get(pk=in_leg.carried_from_id), in_leg


def by_year(fund) -> dict[str, tuple]:
    return {
        year.year.label: (year.control_total.amount, year.allocated.amount)
        for year in reconcile_by_year(fund)
    }


def entry_sum(**entry_filter) -> Decimal:
    """A Decimal sum of the matching approved entries' amounts, outside the database."""
    amounts = LedgerEntry.objects.approved().filter(**entry_filter).values_list("amount", flat=True)
    return sum(amounts, Decimal("0.00"))


# ---- The pair moves a line's and the fund's year figures ------------------------------------------


def test_a_line_carry_forward_is_a_pair_dated_either_side_of_the_year_end(line, officer):
    in_leg = carry_line(line, officer)
    out_leg, in_leg = legs(in_leg)

    assert [
        (leg.kind, leg.amount, leg.effective_date, leg.reference, leg.memo, leg.allocation_id, leg.is_pending)
        for leg in (out_leg, in_leg)
    ] == [
        ("carried_forward", gbp("-1234.56"), datetime.date(2024, 3, 31), AGREEMENT, "Slipped", line.pk, True),
        ("carried_forward", gbp("1234.56"), datetime.date(2024, 4, 1), AGREEMENT, "Slipped", line.pk, True),
    ]
    assert (out_leg.carried_from_id, in_leg.carried_from_id) == (None, out_leg.pk)


def test_an_approved_line_carry_forward_moves_its_amount_to_the_next_year_to_the_penny(
    fund, line, officer, approver
):
    before = reconcile(fund).ledger_total
    services.entry_approve(entry=carry_line(line, officer), acting_user=approver)

    years = by_year(fund)
    assert (
        years["2023-24"][1]
        == Decimal("28765.99")
        == entry_sum(allocation=line, effective_date__lt=Y2024.start)
    )
    assert (
        years["2024-25"][1]
        == Decimal("1234.56")
        == entry_sum(allocation=line, effective_date__gte=Y2024.start)
    )
    assert reconcile(fund).ledger_total == before == gbp("30000.55")
    # The fund's control totals by year are not moved by a line's carry-forward.
    assert [years[label][0] for label in ("2023-24", "2024-25")] == [Decimal("40000.00"), Decimal("42000.50")]


def test_an_approved_fund_carry_forward_moves_the_years_control_totals_and_not_the_funds(
    fund, line, officer, approver
):
    in_leg = carry_fund(fund, officer)
    # Awaiting approval it moves nothing.
    assert by_year(fund)["2024-25"][0] == Decimal("42000.50")
    services.entry_approve(entry=in_leg, acting_user=approver)

    years = by_year(fund)
    assert [years[label][0] for label in ("2023-24", "2024-25", "2025-26")] == [
        Decimal("34999.75"),
        Decimal("47000.75"),
        Decimal("17999.50"),
    ]
    assert sum((years[label][0] for label in years), Decimal("0")) == Decimal("100000.00")
    profile = dict(FundYear.objects.filter(fund=fund).values_list("year", "control_total"))
    assert years["2023-24"][0] == profile[2023] + entry_sum(
        fund=fund, allocation=None, effective_date__lt=Y2024.start
    )
    assert years["2024-25"][0] == profile[2024] + entry_sum(
        fund=fund, allocation=None, effective_date__gte=Y2024.start
    )
    # A carry-forward on the fund is on no line: the lines' amounts do not move.
    assert years["2023-24"][1] == Decimal("30000.55")
    assert reconcile(fund).ledger_total == gbp("30000.55")
    assert services.control_totals_in_effect(fund) == {
        2023: gbp("34999.75"),
        2024: gbp("47000.75"),
        2025: gbp("17999.50"),
    }


# ---- Four eyes, and the pair decided together -------------------------------------------------------


def test_no_one_approves_their_own_carry_forward(line, approver):
    in_leg = carry_line(line, approver)
    out_leg, _ = legs(in_leg)
    for leg in (in_leg, out_leg):
        with pytest.raises(
            ValidationError, match="You recorded this carry-forward, so someone else must approve"
        ):
            services.entry_approve(entry=leg, acting_user=approver)
    assert LedgerEntry.objects.filter(kind="carried_forward").pending().count() == 2


def test_approving_the_out_leg_through_the_service_approves_both(line, officer, approver):
    out_leg, in_leg = legs(carry_line(line, officer))

    decided = services.entry_approve(entry=out_leg, acting_user=approver)

    out_leg, in_leg = legs(in_leg)
    assert decided.is_approved
    assert (out_leg.approved_by, in_leg.approved_by) == (approver, approver)
    assert out_leg.approved_at == in_leg.approved_at


def test_rejecting_the_in_leg_rejects_both_and_frees_the_out_legs_reduction(line, officer, approver):
    in_leg = carry_line(line, officer, amount="30000.55")
    services.entry_reject(entry=in_leg, reason="No agreement from the funder", acting_user=approver)

    out_leg, in_leg = legs(in_leg)
    assert [(leg.is_rejected, leg.rejection_reason, leg.rejected_by) for leg in (out_leg, in_leg)] == [
        (True, "No agreement from the funder", approver)
    ] * 2
    assert services.line_limits([line.pk])[line.pk].award == gbp("30000.55")
    assert by_year(line.fund)["2023-24"][1] == Decimal("30000.55")


def test_withdrawing_the_out_leg_withdraws_the_pair(line, officer):
    out_leg, in_leg = legs(carry_line(line, officer))
    services.entry_withdraw(entry=out_leg, reason="Wrong year", acting_user=officer)
    assert all(leg.is_withdrawn for leg in legs(in_leg))


def test_a_stale_second_session_is_told_the_pair_was_already_rejected(line, officer, approver):
    in_leg = carry_line(line, officer)
    out_leg_as_first_loaded = legs(in_leg)[0]
    colleague = user_in_role(roles.APPROVER, "colleague")
    services.entry_reject(entry=in_leg, reason="Not agreed", acting_user=colleague)

    with pytest.raises(ValidationError) as refused:
        services.entry_approve(entry=out_leg_as_first_loaded, acting_user=approver)

    assert refused.value.messages == ["This carry-forward (both its legs) was already rejected."]
    assert not LedgerEntry.objects.filter(kind="carried_forward").approved().exists()


def test_the_admin_approves_a_carry_forward_only_as_a_pair(client, line, officer):
    out_leg, in_leg = legs(carry_line(line, officer))
    client.force_login(StaffUserFactory(username="head-of-finance"))

    response = client.post(
        "/admin/grants/ledgerentry/",
        {"action": "approve_entries", "_selected_action": [out_leg.pk], "post": "yes"},
        follow=True,
    )

    assert response.status_code == 200
    assert [leg.is_approved for leg in legs(in_leg)] == [True, True]


def test_the_database_refuses_approving_or_rejecting_an_out_leg_on_its_own(line, officer, approver):
    out_leg, in_leg = legs(carry_line(line, officer))
    table = LedgerEntry._meta.db_table
    statements = [
        (
            f"UPDATE {table} SET approved_at = %s, approved_by_id = %s WHERE id = %s",
            [timezone.now(), approver.pk],
        ),
        (
            f"UPDATE {table} SET rejected_at = %s, rejected_by_id = %s, rejection_reason = 'x' WHERE id = %s",
            [timezone.now(), approver.pk],
        ),
    ]
    for sql, params in statements:
        with (
            pytest.raises(IntegrityError, match=CARRY_FORWARD_OUT_LEG_REFUSED),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [*params, out_leg.pk])
    assert all(leg.is_pending for leg in legs(in_leg))

    # Approving the in leg approves the out leg in the same statement.
    with connection.cursor() as cursor:
        cursor.execute(statements[0][0], [*statements[0][1], in_leg.pk])
    assert all(leg.is_approved for leg in legs(in_leg))


def test_the_database_refuses_an_in_leg_that_does_not_match_its_out_leg(line, officer):
    out_leg, in_leg = legs(carry_line(line, officer))
    services.entry_withdraw(entry=in_leg, reason="Start again", acting_user=officer)
    other_out = legs(carry_line(line, officer, amount="10.00"))[0]
    wrong = [
        {"amount": Decimal("9.99")},
        {"effective_date": datetime.date(2025, 4, 1)},
        {"effective_date": datetime.date(2024, 3, 31)},
    ]
    for values in wrong:
        template = LedgerEntry(
            fund=line.fund,
            allocation=line,
            kind="carried_forward",
            amount=gbp("10.00"),
            effective_date=datetime.date(2024, 4, 1),
            reference=AGREEMENT,
            memo="raw",
            recorded_by=officer,
        )
        with pytest.raises(IntegrityError, match=CARRY_FORWARD_IN_LEG_REFUSED), transaction.atomic():
            insert_with_sql(template, carried_from=other_out.pk, **values)
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_with_sql(template, amount=Decimal("-10.00"), carried_from=other_out.pk)


def test_a_line_carry_forward_has_its_shape_by_constraint(line, officer):
    negative_in_leg = LedgerEntry(
        fund=line.fund,
        allocation=line,
        kind="carried_forward",
        amount=gbp("5.00"),
        effective_date=datetime.date(2024, 3, 31),
        reference="",
        memo="raw",
        recorded_by=officer,
    )
    with pytest.raises(ValidationError) as refused:
        negative_in_leg.full_clean()
    assert "A carry-forward is an out leg (a negative amount)" in str(refused.value)
    assert "Give the reference of the funder's agreement to carry forward." in str(refused.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_with_sql(negative_in_leg)


# ---- Limits -----------------------------------------------------------------------------------------


def test_a_pending_out_leg_reduces_the_lines_payment_headroom_at_once(line, officer, approver):
    carry_line(line, officer, amount="10000.55")
    with pytest.raises(ValidationError, match="at most £20,000.00 can be paid"):
        services.payment_record(
            allocation=line,
            amount="20000.01",
            effective_date=datetime.date(2023, 9, 1),
            reference="BACS-1",
            acting_user=officer,
        )
    services.entry_approve(entry=LedgerEntry.objects.get(carried_from__isnull=False), acting_user=approver)
    services.payment_record(
        allocation=line,
        amount="30000.55",
        effective_date=datetime.date(2024, 9, 1),
        reference="BACS-1",
        acting_user=officer,
    )


def test_a_line_carry_forward_is_refused_beyond_the_years_amount_less_pending_reductions(line, officer):
    carry_line(line, officer, amount="30000.00")
    with pytest.raises(ValidationError) as refused:
        carry_line(line, officer, amount="0.56")
    assert refused.value.message_dict["amount"][0].startswith(
        f"£0.56 is more than line {line.line_number}'s approved amount for 2023-24, £0.55 (entries awaiting"
    )
    with pytest.raises(ValidationError, match="approved amount for 2024-25, £0.00"):
        carry_line(line, officer, amount="1.00", year=Y2024)
    assert LedgerEntry.objects.filter(kind="carried_forward").count() == 2


def test_a_carry_forward_is_refused_into_a_year_outside_the_profile(line, fund, officer):
    with pytest.raises(ValidationError) as refused:
        carry_line(line, officer, year=Y2025)
    assert refused.value.message_dict == {
        "from_year": ["2026-27 is not in the fund's profile, so nothing can be carried into it."]
    }
    with pytest.raises(ValidationError, match="2026-27 is not in the fund's profile"):
        carry_fund(fund, officer, year=Y2025)


def test_a_carry_forward_needs_an_amount_and_the_funders_reference(line, officer):
    with pytest.raises(ValidationError) as refused:
        services.carry_forward_line(
            allocation=line, from_year=Y2023, amount="0", reference=" ", acting_user=officer
        )
    assert refused.value.message_dict == {
        "amount": ["The amount to carry forward must be more than £0.00."],
        "reference": ["Give the reference of the funder's agreement to carry forward."],
    }
    assert not LedgerEntry.objects.filter(kind="carried_forward").exists()


def test_a_fund_carry_forward_is_refused_beyond_the_years_control_total_in_effect(fund, officer, approver):
    carry_fund(fund, officer, amount="39000.00")
    with pytest.raises(ValidationError, match="more than the fund's control total for 2023-24, £1,000.00"):
        carry_fund(fund, officer, amount="1000.01")
    carry_fund(fund, officer, amount="1000.00")


def test_the_profile_cannot_lower_a_year_below_what_is_carried_out_of_it(fund, officer, approver):
    """£5,000.25 carried out of 2023-24 (awaiting approval, so it counts at once): the year's figure
    cannot go below it, and a year the money was carried into may go to nothing but what it received."""
    carry_fund(fund, officer)
    with pytest.raises(ValidationError) as refused:
        services.fund_profile_set(
            fund=fund, figures={Y2023: "5000.24", Y2024: "77000.51"}, memo="Revised", acting_user=officer
        )
    assert refused.value.message_dict == {
        "year_2023": [
            "2023-24: £5,000.25 of this year's control total is carried forward to the next year (less any "
            "carried into it), so its figure cannot be less than that."
        ]
    }
    assert by_year(fund)["2023-24"][0] == Decimal("40000.00")
    services.fund_profile_set(
        fund=fund, figures={Y2023: "5000.25", Y2024: "77000.50"}, memo="Revised", acting_user=officer
    )
    assert by_year(fund)["2023-24"][0] == Decimal("5000.25")


def test_a_fund_without_a_profile_cannot_carry_forward(db, officer):
    fund = FundFactory()
    assert not FundYear.objects.filter(fund=fund).exists()
    with pytest.raises(ValidationError, match="no profile by year"):
        carry_fund(fund, officer, year=FinancialYear(2020))


def test_neither_leg_of_a_carry_forward_is_reversed(line, officer, approver):
    in_leg = carry_line(line, officer)
    services.entry_approve(entry=in_leg, acting_user=approver)
    for leg in legs(in_leg):
        with pytest.raises(ValidationError, match="A carry-forward is not reversed"):
            services.entry_reverse(entry=leg, memo="Move it back", acting_user=officer)


def test_a_submitted_fund_takes_no_carry_forward(fund, line, officer, approver):
    submit_return(fund, approver)
    with pytest.raises(ValidationError, match="MoJ return was submitted"):
        carry_line(line, officer)
    with pytest.raises(ValidationError, match="MoJ return was submitted"):
        carry_fund(fund, officer)
    assert not LedgerEntry.objects.filter(kind="carried_forward").exists()


# ---- Pages ------------------------------------------------------------------------------------------


def test_a_finance_officer_carries_a_line_forward_from_its_page(client, line, officer):
    client.force_login(officer)
    page = client.get(f"/allocations/{line.pk}/")
    assert f'href="/allocations/{line.pk}/carry-forward/"' in page.content.decode()

    response = client.post(
        f"/allocations/{line.pk}/carry-forward/",
        {"from_year": "2023-24", "amount": "1234.56", "reference": AGREEMENT, "memo": "Slipped"},
        follow=True,
    )

    assert "£1,234.56 carried forward to 2024-25, awaiting approval." in response.content.decode()
    assert sorted(LedgerEntry.objects.filter(kind="carried_forward").values_list("amount", flat=True)) == [
        Decimal("-1234.56"),
        Decimal("1234.56"),
    ]


def test_the_carry_forward_form_names_the_field_at_fault_and_records_nothing(client, line, officer):
    client.force_login(officer)
    response = client.post(
        f"/allocations/{line.pk}/carry-forward/",
        {"from_year": "2023-24", "amount": "30000.56", "reference": AGREEMENT},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["amount"]
    assert "approved amount for 2023-24, £30,000.55" in errors["amount"][0]
    assert not LedgerEntry.objects.filter(kind="carried_forward").exists()


def test_a_viewer_cannot_carry_forward(client, fund, line, viewer):
    client.force_login(viewer)
    assert client.get(f"/allocations/{line.pk}/carry-forward/").status_code == 403
    assert client.post(f"/funds/{fund.code}/carry-forward/", {"from_year": "2023-24"}).status_code == 403
    client.logout()
    assert client.get(f"/funds/{fund.code}/carry-forward/").status_code == 302


def test_the_fund_years_page_carries_a_control_total_forward_and_shows_it_once_approved(
    client, fund, officer, approver
):
    client.force_login(officer)
    assert (
        f'href="/funds/{fund.code}/carry-forward/"'
        in client.get(f"/funds/{fund.code}/years/").content.decode()
    )
    client.post(
        f"/funds/{fund.code}/carry-forward/",
        {"from_year": "2023-24", "amount": "5000.25", "reference": AGREEMENT},
    )
    services.entry_approve(entry=LedgerEntry.objects.get(carried_from__isnull=False), acting_user=approver)

    page = client.get(f"/funds/{fund.code}/years/").content.decode()
    assert '£34,999.75 <span class="hint nowrap">(carried forward: -£5,000.25)</span>' in page
    assert '£47,000.75 <span class="hint nowrap">(carried forward: £5,000.25)</span>' in page


def test_the_approvals_page_shows_a_pair_as_one_decision_with_both_legs(client, line, officer, approver):
    out_leg, in_leg = legs(carry_line(line, officer))
    client.force_login(approver)

    page = client.get("/approvals/").content.decode()

    assert f'value="{in_leg.pk}"' in page
    assert f'id="entry-{out_leg.pk}"' not in page
    assert "31 March 2024" in page and "1 April 2024" in page
    client.post("/approvals/", {"approve_one": f"entry:{in_leg.pk}"})
    assert all(leg.is_approved for leg in legs(in_leg))


def test_a_shorter_spend_period_cannot_leave_out_a_year_money_was_carried_into(fund, officer, approver):
    """£1,000.00 of 2024-25 carried into 2025-26 (approved), whose figure is then set to £0.00: the
    year still holds the carry-forward, so the spend period cannot end before it."""
    services.entry_approve(
        entry=carry_fund(fund, officer, amount="1000.00", year=Y2024), acting_user=approver
    )
    services.fund_profile_set(
        fund=fund, figures={Y2024: "60000.00", Y2025: "0.00"}, memo="Revised", acting_user=officer
    )
    fund.refresh_from_db()
    fund.spend_end = datetime.date(2025, 3, 31)

    with pytest.raises(ValidationError) as refused:
        services.fund_save(fund=fund, acting_user=officer)

    assert "2025-26 (£0.00, and a carry-forward)" in str(refused.value)
    assert Fund.objects.get(pk=fund.pk).spend_end == datetime.date(2026, 3, 31)


def test_a_year_money_was_carried_out_of_cannot_then_be_reduced_below_nothing(line, officer, approver):
    """£30,000.00 of the line's £30,000.55 for 2023-24 carried into 2024-25: cutting the line to
    £10,000.00 with a variation dated in 2023-24 (-£20,000.55) would leave 2023-24 at -£20,000.00
    and 2024-25 still holding the £30,000.00, more than the line's total; a cut dated in 2024-25 is
    taken."""
    services.entry_approve(entry=carry_line(line, officer, amount="30000.00"), acting_user=approver)

    with pytest.raises(ValidationError) as refused:
        services.allocation_set_amount(
            allocation=line,
            amount="10000.00",
            memo="Cut",
            effective_date=datetime.date(2023, 9, 1),
            acting_user=officer,
        )

    assert "The line's amount for 2023-24 would come to -£20,000.00" in str(refused.value)
    assert by_year(line.fund)["2023-24"][1] == Decimal("0.55")
    services.allocation_set_amount(
        allocation=line,
        amount="10000.00",
        memo="Cut",
        effective_date=datetime.date(2024, 9, 1),
        acting_user=officer,
    )


def test_reversing_the_award_of_a_year_money_was_carried_out_of_is_refused(line, officer, approver):
    services.entry_approve(entry=carry_line(line, officer, amount="1000.00"), acting_user=approver)
    award = LedgerEntry.objects.get(allocation=line, kind="award")

    with pytest.raises(ValidationError, match="The line's amount for 2023-24 would come to -£1,000.00"):
        services.entry_reverse(entry=award, memo="Recorded in error", acting_user=officer)

    assert not LedgerEntry.objects.filter(reverses=award).exists()


def confirmation_form(page: str) -> dict:
    """The hidden fields of the admin's confirmation page's form, as the browser would send them."""
    form = page[page.index('<form method="post">') :]
    form = form[: form.index("</form>")]
    data: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form):
        data.setdefault(name, []).append(value)
    return data


def test_the_admin_s_confirmation_names_both_legs_of_a_carry_forward(client, line, officer):
    """Ticking one leg approves both: the page that asks 'Approve these?' says so, with the other
    leg's amount and date, and its own Yes goes through."""
    out_leg, in_leg = legs(carry_line(line, officer, amount="10.00"))
    client.force_login(StaffUserFactory(username="head-of-finance"))

    asked = client.post(
        "/admin/grants/ledgerentry/", {"action": "approve_entries", "_selected_action": [out_leg.pk]}
    )

    page = re.sub(r"\s+", " ", asked.content.decode())
    assert "Approve these 1 entry?" in page
    assert (
        f"with its pair, {format_gbp(in_leg.amount)} on {date_format(in_leg.effective_date, 'j F Y')}" in page
    )
    assert [leg.is_pending for leg in legs(in_leg)] == [True, True]
    client.post("/admin/grants/ledgerentry/", confirmation_form(asked.content.decode()), follow=True)
    assert [leg.is_approved for leg in legs(in_leg)] == [True, True]
