"""Defects found on a second reading of payment schedules, each proved here and fixed."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from grants import selectors, services
from grants.demo_fund import DEMO_FUND_CODE
from grants.models import Fund, Instalment, LedgerEntry
from grants.reconciliation.years import reconcile_by_year
from tests.factories import AllocationFactory
from tests.grants.test_schedules import day, gbp, make_schedule, pay_instalment, two_years  # noqa: F401


def test_the_forecast_counts_an_approved_reversal_in_the_month_of_the_payment_it_cancels(
    two_years,  # noqa: F811
    officer,
    approver,
):
    """The ledger counts a reversal in the year of the entry it cancels; a payment of July 2023
    reversed (as a mistake) in December 2026 was never paid, so the forecast must not show it paid
    in July 2023 and a negative payment in a month outside the fund's years."""
    first = make_schedule(two_years, officer)[0]
    payment = pay_instalment(two_years, first, officer)
    services.entry_approve(entry=payment, acting_user=approver)
    reversal = services.entry_reverse(entry=payment, memo="Paid twice", acting_user=officer)
    services.entry_approve(entry=reversal, acting_user=approver)
    forecast = selectors.payment_forecast(two_years.fund)
    months = {row.start: row for row in forecast.months}
    assert months[day("2023-07-01")].paid == gbp("0.00")
    assert all(row.paid.amount >= 0 for row in forecast.months)
    # Each financial year's paid in the forecast is the reconciliation's paid for that year.
    by_year = {year.year.start_year: year.paid for year in reconcile_by_year(two_years.fund)}
    for year in (2023, 2024):
        in_year = [q.paid.amount for q in forecast.quarters if q.label.startswith(f"{year}-")]
        assert sum(in_year, Decimal("0.00")) == by_year[year].amount


def test_the_payment_form_with_a_digit_like_instalment_parameter_does_not_break(client, officer, two_years):  # noqa: F811
    client.force_login(officer)
    response = client.get(reverse("grants:payment_add", args=[two_years.pk]) + "?instalment=%C2%B2")
    assert response.status_code == 200


def test_setup_demo_run_again_with_a_line_awaiting_its_award_does_not_fail(
    db, tmp_path, settings, monkeypatch
):
    settings.DEBUG = True
    monkeypatch.setenv("LEDGER_DEMO_PASSWORD", "demo-pass-123")
    password_file = tmp_path / ".demo-login"
    call_command("setup_demo", "--password-file", str(password_file))
    fund = Fund.objects.get(code=DEMO_FUND_CODE)
    # An officer trying the demo adds a line; its award awaits approval, so it has no approved amount.
    line = AllocationFactory(
        fund=fund, line_number=99, approved=False, effective_date=fund.spend_start, amount=Decimal("10.00")
    )
    call_command("setup_demo", "--password-file", str(password_file))
    assert not Instalment.objects.filter(allocation=line).exists()


def test_a_payment_against_an_instalment_deleted_meanwhile_is_refused_with_a_message(two_years, officer):  # noqa: F811
    """Two sessions: the payment form was checked while the instalment still existed, and a colleague
    deleted it before the service ran (on PostgreSQL the service waits on the line's lock, then reads
    again). A clear refusal beside the field, not Instalment.DoesNotExist (a 500)."""
    first = make_schedule(two_years, officer)[0]
    stale = Instalment.objects.get(pk=first.pk)
    services.instalment_delete(instalment=first, acting_user=officer)
    with pytest.raises(ValidationError) as refused:
        pay_instalment(two_years, stale, officer)
    assert list(refused.value.message_dict) == ["instalment"]
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    with pytest.raises(ValidationError):
        services.instalment_update(
            instalment=stale, due_date=day("2023-07-01"), amount="1.00", timing="arrears", acting_user=officer
        )
    with pytest.raises(ValidationError):
        services.instalment_delete(instalment=stale, acting_user=officer)


def form_values(page: str) -> dict:
    """The name and value of every <input> of a page, as a browser would post them."""
    import re

    values = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and name.group(1) != "csrfmiddlewaretoken":
            values[name.group(1)] = value.group(1) if value else ""
    return values


def test_the_change_page_shows_the_instalment_and_refuses_a_stale_save(client, officer, two_years):  # noqa: F811
    made = make_schedule(two_years, officer)
    client.force_login(officer)
    url = reverse("grants:instalment_edit", args=[made[0].pk])
    opened = form_values(client.get(url).content.decode())
    # The form opens with the instalment's date, amount and version (for the stale check).
    assert opened["due_date"] == "2023-06-30"
    assert opened["amount"] == "250.00"
    assert opened["version"] == str(made[0].version)
    # A colleague changes it; the form opened before is refused, not saved over their change.
    services.instalment_update(
        instalment=made[0], due_date=day("2023-06-29"), amount="200.00", timing="arrears", acting_user=officer
    )
    response = client.post(url, {**opened, "timing": "arrears", "amount": "300.00"})
    assert "Someone else changed this instalment since you opened the page." in response.content.decode()
    made[0].refresh_from_db()
    assert made[0].amount.amount == Decimal("200.00")


def test_the_delete_page_deletes_as_posted_by_a_browser(client, officer, two_years):  # noqa: F811
    made = make_schedule(two_years, officer)
    client.force_login(officer)
    url = reverse("grants:instalment_delete", args=[made[1].pk])
    opened = form_values(client.get(url).content.decode())
    response = client.post(url, opened, follow=True)
    assert "Instalment of £250.00 due 30 September 2023 deleted." in response.content.decode()
    assert not Instalment.objects.filter(pk=made[1].pk).exists()
