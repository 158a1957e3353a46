"""The history pages of a fund and an allocation, and the audit trail in the admin."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse
from djmoney.money import Money

from audit.context import context as audit_context
from audit.models import AuditEvent
from grants.models import Allocation, Fund, LedgerEntry
from tests.factories import (
    FundFactory,
    FundingCategoryFactory,
    OrganisationFactory,
    ThematicAreaFactory,
    UserFactory,
)


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def viewer(db):
    user = UserFactory(username="viewer")
    user.groups.add(Group.objects.get(name="Viewer"))
    return user


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


def add_line(fund, user, *, line_number=1, amount="100.00", service="Helpline") -> Allocation:
    """A line and its award, written as the services write them, inside the actor's context."""
    with transaction.atomic(), audit_context(user=user, reason=f"Line {line_number} agreed"):
        allocation = Allocation.objects.create(
            fund=fund,
            line_number=line_number,
            organisation=OrganisationFactory(name=f"Provider {fund.code} {line_number}"),
            thematic_area=ThematicAreaFactory(),
            funding_category=FundingCategoryFactory(),
            service=service,
        )
        LedgerEntry.objects.create(
            fund=fund,
            allocation=allocation,
            kind="award",
            amount=Money(amount, "GBP"),
            effective_date=datetime.date(2020, 8, 19),
            memo="Award",
            recorded_by=user,
        )
    return allocation


def change_control_total(fund, user, new_total, reason):
    with transaction.atomic(), audit_context(user=user, reason=reason):
        fund.control_total = Money(new_total, "GBP")
        fund.save()


def rows(response) -> list:
    return response.context["rows"]


def test_fund_history_shows_who_what_and_why_newest_first(viewer_client, alice):
    fund = FundFactory(control_total=Money("1000.00", "GBP"))
    add_line(fund, alice)
    change_control_total(fund, alice, "1234.56", "Revised award letter, 3 May")

    response = viewer_client.get(reverse("grants:fund_history", args=[fund.code]))

    assert response.status_code == 200
    newest = rows(response)[0]
    assert (newest.what, newest.event.action, newest.who) == ("Fund", "update", "alice")
    assert [(c.label, c.before, c.after) for c in newest.changes] == [
        ("Control total", "£1,000.00", "£1,234.56")
    ]
    assert newest.event.reason == "Revised award letter, 3 May"
    assert [row.what for row in rows(response)] == ["Fund", "Ledger entry", "Allocation", "Fund"]
    page = response.content.decode()
    assert "<del>£1,000.00</del>" in page
    assert "<ins>£1,234.56</ins>" in page
    assert "Revised award letter, 3 May" in page


def test_fund_history_names_linked_rows_and_links_to_allocation_history(viewer_client, alice):
    fund = FundFactory(code="ecf")
    allocation = add_line(fund, alice, amount="250.00")

    response = viewer_client.get(reverse("grants:fund_history", args=[fund.code]))

    entry = next(row for row in rows(response) if row.what == "Ledger entry")
    shown = {change.label: change.after for change in entry.changes}
    assert shown["Amount"] == "£250.00"
    assert shown["Allocation"] == "ecf line 1: Provider ecf 1 Helpline"
    assert shown["Recorded by"] == "alice"
    assert shown["Effective date"] == "19 August 2020"
    assert "Amount currency" not in shown
    assert entry.allocation_url == reverse("grants:allocation_history", args=[allocation.pk])
    assert entry.allocation_url in response.content.decode()


def test_fund_history_leaves_out_other_funds(viewer_client, alice):
    fund, other = FundFactory(), FundFactory()
    add_line(other, alice)

    response = viewer_client.get(reverse("grants:fund_history", args=[fund.code]))

    assert [(row.what, row.event.row_id) for row in rows(response)] == [("Fund", fund.pk)]


def test_allocation_history_shows_the_line_and_its_entries_only(viewer_client, alice):
    fund = FundFactory()
    allocation = add_line(fund, alice, line_number=1)
    add_line(fund, alice, line_number=2)
    with transaction.atomic(), audit_context(user=alice, reason="Provider renamed the service"):
        allocation.service = "Helpline and outreach"
        allocation.save()

    response = viewer_client.get(reverse("grants:allocation_history", args=[allocation.pk]))

    assert response.status_code == 200
    assert [(row.what, row.event.action) for row in rows(response)] == [
        ("Allocation", "update"),
        ("Ledger entry", "insert"),
        ("Allocation", "insert"),
    ]
    update = rows(response)[0]
    assert [(c.label, c.before, c.after) for c in update.changes] == [
        ("Service", "Helpline", "Helpline and outreach")
    ]
    assert "Provider renamed the service" in response.content.decode()


def test_changes_made_outside_the_app_say_so(viewer_client, db):
    fund = FundFactory()
    response = viewer_client.get(reverse("grants:fund_history", args=[fund.code]))
    [row] = rows(response)
    assert row.who == (
        f"Outside the app (database user {row.event.db_user})"
        if row.event.db_user != "sqlite"
        else "No user recorded (a data load or command)"
    )


def test_history_is_paginated_fifty_to_a_page(viewer_client, alice):
    fund = FundFactory(notes="0")
    with transaction.atomic(), audit_context(user=alice):
        for number in range(1, 55):
            Fund.objects.filter(pk=fund.pk).update(notes=str(number))
    url = reverse("grants:fund_history", args=[fund.code])

    first, second = viewer_client.get(url), viewer_client.get(url, {"page": 2})

    assert len(rows(first)) == 50
    assert [c.after for c in rows(first)[0].changes] == ["54"]
    assert len(rows(second)) == 5
    assert rows(second)[-1].event.action == "insert"
    assert "Page 1 of 2 (55 changes)." in first.content.decode()


def test_history_page_queries_do_not_grow_with_its_rows(viewer_client, alice, django_assert_max_num_queries):
    fund = FundFactory()
    add_line(fund, alice, line_number=1)
    url = reverse("grants:fund_history", args=[fund.code])
    with django_assert_max_num_queries(20) as few:
        viewer_client.get(url)
    for number in range(2, 12):
        add_line(fund, alice, line_number=number)
    with django_assert_max_num_queries(20) as many:
        viewer_client.get(url)
    assert len(many) == len(few)


@pytest.mark.parametrize("name", ["grants:fund_history", "grants:allocation_history"])
def test_history_needs_a_signed_in_user(client, alice, name):
    fund = FundFactory()
    allocation = add_line(fund, alice)
    url = reverse(name, args=[fund.code if name == "grants:fund_history" else allocation.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", ["grants:fund_history", "grants:allocation_history"])
def test_history_is_forbidden_without_the_view_permission(client, alice, name):
    fund = FundFactory()
    allocation = add_line(fund, alice)
    client.force_login(UserFactory(username="no-role"))
    url = reverse(name, args=[fund.code if name == "grants:fund_history" else allocation.pk])
    assert client.get(url).status_code == 403


def test_history_of_an_unknown_fund_or_allocation_is_not_found(viewer_client):
    assert viewer_client.get(reverse("grants:fund_history", args=["no-such-fund"])).status_code == 404
    assert viewer_client.get(reverse("grants:allocation_history", args=[999999])).status_code == 404


def test_fund_page_links_to_its_history(viewer_client, db):
    fund = FundFactory()
    response = viewer_client.get(reverse("grants:fund_detail", args=[fund.code]))
    assert reverse("grants:fund_history", args=[fund.code]) in response.content.decode()


# The admin


def test_admin_lists_audit_events_filtered_by_table(staff_client, alice):
    fund = FundFactory()
    change_control_total(fund, alice, "2000.00", "Second award letter")
    response = staff_client.get(
        reverse("admin:audit_auditevent_changelist"), {"table_name": "grants_fund", "action": "update"}
    )
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [
        AuditEvent.objects.get(table_name="grants_fund", row_id=fund.pk, action="update")
    ]
    assert "Second award letter" in response.content.decode()


def test_admin_can_search_audit_events_by_reason(staff_client, alice):
    change_control_total(FundFactory(), alice, "2000.00", "Second award letter")
    response = staff_client.get(reverse("admin:audit_auditevent_changelist"), {"q": "award letter"})
    assert [event.reason for event in response.context["cl"].result_list] == ["Second award letter"]


def test_audit_events_are_read_only_in_the_admin(staff_client, db):
    fund = FundFactory()
    event = AuditEvent.objects.get(table_name="grants_fund", row_id=fund.pk)
    change_url = reverse("admin:audit_auditevent_change", args=[event.pk])

    assert staff_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert staff_client.get(change_url).status_code == 200
    assert staff_client.post(change_url, {"reason": "Covering my tracks"}).status_code == 403
    assert staff_client.get(reverse("admin:audit_auditevent_delete", args=[event.pk])).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def test_admin_history_of_an_object_opens_its_audit_events(staff_client, alice):
    fund = FundFactory()
    change_control_total(fund, alice, "2000.00", "Second award letter")
    other = FundFactory()

    response = staff_client.get(reverse("admin:grants_fund_history", args=[fund.pk]))

    assert response.status_code == 302
    assert response.url == (
        f"{reverse('admin:audit_auditevent_changelist')}?table_name=grants_fund&row_id={fund.pk}"
    )
    listed = staff_client.get(response.url).context["cl"].result_list
    assert [(event.row_id, event.action) for event in listed] == [(fund.pk, "update"), (fund.pk, "insert")]
    assert other.pk not in {event.row_id for event in listed}


@pytest.mark.parametrize(
    "model_name",
    [
        "funder",
        "fund",
        "organisation",
        "thematicarea",
        "fundingcategory",
        "allocation",
        "ledgerentry",
        "controltotalrevision",
    ],
)
def test_every_audited_admin_history_goes_to_the_audit_trail(staff_client, model_name):
    from django.contrib import admin

    from audit.admin import AuditHistoryMixin

    model = next(model for model in admin.site._registry if model._meta.model_name == model_name)
    assert isinstance(admin.site._registry[model], AuditHistoryMixin)


def test_amounts_in_history_are_exact_to_the_penny(viewer_client, alice):
    fund = FundFactory(control_total=Money("1000.00", "GBP"))
    change_control_total(fund, alice, "999999999.99", "Big award")
    response = viewer_client.get(reverse("grants:fund_history", args=[fund.code]))
    assert [(c.before, c.after) for c in rows(response)[0].changes] == [("£1,000.00", "£999,999,999.99")]
    assert Decimal("999999999.99") == Fund.objects.get(pk=fund.pk).control_total.amount
