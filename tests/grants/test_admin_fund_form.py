"""The admin's fund form and the app's fund pages write through the same service; the admin's inline
lines leave an existing line's date blank instead of showing today's (issue 18)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from grants import services
from grants.models import Allocation, LedgerEntry
from tests.grants.test_admin import change_url, changeform_data


@pytest.fixture
def fund_save_calls(monkeypatch):
    """Every call of `services.fund_save`, by whichever page made it; the service still runs."""
    calls = []
    real = services.fund_save

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(services, "fund_save", spy)
    return calls


def test_the_admin_and_the_app_change_a_fund_through_the_same_service(
    client, staff_client, officer, seed_fund, fund_save_calls
):
    admin_form = changeform_data(staff_client.get(change_url(seed_fund)))
    admin_form.update({"notes": "From the admin", "spend_start": "23/03/2020", "spend_end": "31/10/2020"})
    assert staff_client.post(change_url(seed_fund), admin_form).status_code == 302

    client.force_login(officer)
    seed_fund.refresh_from_db()
    app_form = client.get(f"/funds/{seed_fund.code}/edit/").context["form"].initial
    app_form = {name: getattr(value, "isoformat", lambda v=value: v)() for name, value in app_form.items()}
    assert (
        client.post(f"/funds/{seed_fund.code}/edit/", {**app_form, "notes": "From the app"}).status_code
        == 302
    )

    assert [(call["fund"].notes, call["acting_user"].username) for call in fund_save_calls] == [
        ("From the admin", "admin-user"),
        ("From the app", "officer"),
    ]
    assert [call["expected_version"] for call in fund_save_calls] == [1, 2]


def test_existing_lines_show_no_date_and_a_new_line_shows_today(staff_client, seed_fund):
    response = staff_client.get(change_url(seed_fund))

    lines = next(
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is Allocation
    )
    assert {form["effective_date"].value() for form in lines.initial_forms} == {None}
    assert lines.extra_forms[0]["effective_date"].value() == timezone.localdate()
    assert "Effective date of the award or change" in response.content.decode()


def test_a_change_of_amount_left_undated_takes_effect_today_and_a_dated_one_on_its_date(
    staff_client, seed_fund
):
    form = changeform_data(staff_client.get(change_url(seed_fund)))
    form.update({"spend_start": "23/03/2020", "spend_end": "31/10/2020"})
    form.update({"allocations-0-amount": "80000.00", "allocations-0-memo": "Rounded down"})
    form.update(
        {
            "allocations-1-amount": "130000.00",
            "allocations-1-memo": "Rounded down too",
            "allocations-1-effective_date": "01/10/2020",
        }
    )

    assert staff_client.post(change_url(seed_fund), form).status_code == 302

    variations = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.VARIATION).order_by(
        "allocation__line_number"
    )
    assert [
        (entry.allocation.line_number, entry.effective_date, entry.amount.amount) for entry in variations
    ] == [
        (1, timezone.localdate(), Decimal("-528.42")),
        (2, datetime.date(2020, 10, 1), Decimal("-5.67")),
    ]
