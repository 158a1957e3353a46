"""The schedule pages: who may read and write them, the pattern and instalment forms, the payment
form settling an instalment, the dashboard's lists and the fund page's forecast."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money

from grants import services
from grants.models import Instalment, LedgerEntry
from grants.services.schedules import schedule_stamp
from tests.factories import AllocationFactory, FundFactory, submit_return


def day(text):
    return datetime.date.fromisoformat(text)


@pytest.fixture
def line(db):
    fund = FundFactory(
        code="synthetic-pages",
        spend_start=day("2023-04-01"),
        spend_end=day("2024-03-31"),
        control_total=Money(Decimal("5000.00"), "GBP"),
    )
    return AllocationFactory(fund=fund, amount=Decimal("1000.01"), effective_date=day("2023-04-03"))


def text(response) -> str:
    return response.content.decode()


def pattern(line, **extra):
    return {
        "frequency": "quarterly",
        "timing": "arrears",
        "year": "",
        "stamp": schedule_stamp(line.pk),
        **extra,
    }


def test_an_officer_makes_a_schedule_from_the_pattern_form(client, officer, line):
    client.force_login(officer)
    page = text(client.get(reverse("grants:schedule", args=[line.pk])))
    assert "No instalments planned yet." in page and 'id="pattern-form"' in page
    response = client.post(reverse("grants:schedule", args=[line.pk]), pattern(line), follow=True)
    page = text(response)
    assert "4 instalments planned from the pattern." in page
    assert "The instalments due in 2023-24 add up to its approved amount." in page
    assert [str(i.amount.amount) for i in Instalment.objects.order_by("due_date")] == [
        "250.00",
        "250.00",
        "250.00",
        "250.01",
    ]


def test_the_page_names_the_years_shortfall(client, officer, line):
    services.instalment_create(
        allocation=line, due_date=day("2023-06-30"), amount="999.00", timing="arrears", acting_user=officer
    )
    client.force_login(officer)
    page = text(client.get(reverse("grants:schedule", args=[line.pk])))
    assert (
        '<td id="year-check-2023">The instalments due in 2023-24 come to £1.01 less than the line&#x27;s '
        "approved amount for the year.</td>" in page
    )


def test_a_stale_pattern_form_is_refused_and_says_why(client, officer, line):
    client.force_login(officer)
    stale = pattern(line)
    services.instalment_create(
        allocation=line, due_date=day("2023-06-30"), amount="1.00", timing="arrears", acting_user=officer
    )
    response = client.post(reverse("grants:schedule", args=[line.pk]), stale)
    assert response.status_code == 200
    assert "Someone else changed this line&#x27;s schedule since you opened the page." in text(response)
    assert Instalment.objects.count() == 1


def test_a_viewer_reads_the_schedule_but_cannot_post(client, viewer, officer, line):
    services.schedule_from_pattern(
        allocation=line, frequency="quarterly", timing="arrears", acting_user=officer
    )
    client.force_login(viewer)
    page = text(client.get(reverse("grants:schedule", args=[line.pk])))
    assert "£250.01" in page and 'id="pattern-form"' not in page and "Change<span" not in page
    assert client.post(reverse("grants:schedule", args=[line.pk]), pattern(line)).status_code == 403
    instalment = Instalment.objects.first()
    edit = {"due_date": "2023-07-01", "amount": "1.00", "timing": "arrears", "version": instalment.version}
    assert client.post(reverse("grants:instalment_edit", args=[instalment.pk]), edit).status_code == 403
    delete = {"version": instalment.version}
    assert client.post(reverse("grants:instalment_delete", args=[instalment.pk]), delete).status_code == 403
    assert client.post(reverse("grants:instalment_add", args=[line.pk]), edit).status_code == 403
    assert Instalment.objects.count() == 4
    instalment.refresh_from_db()
    assert instalment.amount.amount == Decimal("250.00")


def test_the_schedule_page_needs_a_login(client, line):
    response = client.get(reverse("grants:schedule", args=[line.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_instalment_is_changed_and_deleted_through_its_forms(client, officer, line):
    made = services.schedule_from_pattern(
        allocation=line, frequency="quarterly", timing="arrears", acting_user=officer
    )
    client.force_login(officer)
    edit = {"due_date": "2023-07-15", "amount": "250.01", "timing": "arrears", "version": made[0].version}
    response = client.post(reverse("grants:instalment_edit", args=[made[0].pk]), edit, follow=True)
    assert "Instalment changed: £250.01 due 15 July 2023." in text(response)
    # The same form again, opened before that save: refused.
    response = client.post(reverse("grants:instalment_edit", args=[made[0].pk]), edit)
    assert "Someone else changed this instalment since you opened the page." in text(response)
    response = client.post(
        reverse("grants:instalment_delete", args=[made[1].pk]), {"version": made[1].version}, follow=True
    )
    assert "Instalment of £250.00 due 30 September 2023 deleted." in text(response)
    assert Instalment.objects.count() == 3


def test_the_payment_form_settles_the_instalment_it_names(client, officer, line):
    made = services.schedule_from_pattern(
        allocation=line, frequency="quarterly", timing="arrears", acting_user=officer
    )
    client.force_login(officer)
    url = reverse("grants:payment_add", args=[line.pk])
    form = text(client.get(f"{url}?instalment={made[0].pk}"))
    assert f'<option value="{made[0].pk}" selected>£250.00 due 30 June 2023</option>' in form
    posted = {
        "instalment": made[0].pk,
        "amount": "250.00",
        "effective_date": "2023-06-30",
        "reference": "BACS-1",
    }
    client.post(url, posted)
    made[0].refresh_from_db()
    assert made[0].settled_by == LedgerEntry.objects.get(kind="payment")
    # Settled, it is no longer offered; posting it again is refused beside the field, and records nothing.
    form = text(client.get(url))
    assert f'<option value="{made[0].pk}"' not in form
    response = client.post(url, {**posted, "reference": "BACS-2"})
    assert "Select a valid choice." in text(response)
    assert LedgerEntry.objects.filter(kind="payment").count() == 1


def test_the_payment_form_refuses_another_lines_instalment(client, officer, line):
    other = AllocationFactory(fund=line.fund, amount=Decimal("400.00"), effective_date=day("2023-05-01"))
    theirs = services.schedule_from_pattern(
        allocation=other, frequency="quarterly", timing="arrears", acting_user=officer
    )[0]
    client.force_login(officer)
    response = client.post(
        reverse("grants:payment_add", args=[line.pk]),
        {"instalment": theirs.pk, "amount": "100.00", "effective_date": "2023-06-30", "reference": "BACS-3"},
    )
    assert "Select a valid choice." in text(response)
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_a_submitted_fund_offers_no_schedule_changes(client, officer, approver, line):
    services.schedule_from_pattern(
        allocation=line, frequency="quarterly", timing="arrears", acting_user=officer
    )
    submit_return(line.fund, approver)
    client.force_login(officer)
    page = text(client.get(reverse("grants:schedule", args=[line.pk])))
    assert 'id="locked-actions"' in page and 'id="pattern-form"' not in page
    response = client.post(reverse("grants:schedule", args=[line.pk]), pattern(line))
    assert "MoJ return was submitted" in text(response)
    assert Instalment.objects.count() == 4


def test_the_fund_page_forecasts_payments_by_month_and_quarter(client, officer, line):
    services.schedule_from_pattern(
        allocation=line, frequency="quarterly", timing="arrears", acting_user=officer
    )
    client.force_login(officer)
    page = text(client.get(reverse("grants:fund_detail", args=[line.fund.code])))
    assert '<details id="payment-forecast">' in page
    assert (
        '<tr><th scope="row">March 2024</th><td class="num">£0.00</td><td class="num">£0.00</td>'
        '<td class="num">£250.01</td><td class="num">£250.01</td></tr>' in page
    )
    assert '<tr><th scope="row">2023-24 Q4</th>' in page


def test_the_dashboard_lists_instalments_due_and_overdue(client, officer, line, monkeypatch):
    services.schedule_from_pattern(
        allocation=line, frequency="quarterly", timing="arrears", acting_user=officer
    )
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args: day("2023-10-15"))
    client.force_login(officer)
    page = text(client.get(reverse("grants:dashboard")))
    assert '<h3 id="instalments-overdue-heading">Overdue (due date passed, not paid): 2, £500.00</h3>' in page
    assert '<h3 id="instalments-due-soon-heading">Due in the next 30 days: 0, £0.00</h3>' in page
    assert reverse("grants:schedule", args=[line.pk]) in page
