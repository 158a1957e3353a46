"""The admin's part in the financial controls: approving entries as an action, submitted returns."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from grants import roles, services
from grants.models import LedgerEntry
from tests.factories import AllocationFactory, StaffUserFactory, submit_return, user_in_role

CHANGELIST = "/admin/grants/ledgerentry/"


@pytest.fixture
def payments(db):
    clerk = user_in_role(roles.FINANCE_OFFICER, "clerk")
    line = AllocationFactory(amount=Decimal("100.00"))
    return [
        services.payment_record(
            allocation=line,
            amount=Decimal(amount),
            effective_date=line.fund.spend_start,
            reference=ref,
            acting_user=clerk,
        )
        for amount, ref in [("10.00", "P1"), ("20.00", "P2")]
    ], clerk


def approve_action(client, entries, *, confirmed=True):
    data = {"action": "approve_entries", "_selected_action": [entry.pk for entry in entries]}
    if confirmed:
        data["post"] = "yes"
    return client.post(CHANGELIST, data, follow=True)


def test_the_action_first_asks_for_confirmation_and_approves_nothing(client, payments):
    entries, _ = payments
    client.force_login(StaffUserFactory(username="head-of-finance"))
    page = approve_action(client, entries, confirmed=False).content.decode()
    assert "Approve these 2 entries?" in page
    line = entries[0].allocation.line_number
    assert f"Payment to provider of £10.00 on line {line} of" in page and f"£20.00 on line {line} of" in page
    assert 'name="post" value="yes"' in page
    assert LedgerEntry.objects.filter(pk__in=[e.pk for e in entries]).pending().count() == 2


def test_an_administrator_approves_entries_someone_else_recorded(client, payments):
    entries, _ = payments
    client.force_login(StaffUserFactory(username="head-of-finance"))
    response = approve_action(client, entries)
    assert "2 entries approved." in response.content.decode()
    assert not LedgerEntry.objects.filter(pk__in=[e.pk for e in entries]).pending().exists()


def test_one_refusal_approves_none_of_the_selection(client, payments):
    entries, clerk = payments
    clerk.is_staff = True
    clerk.save()
    clerk.groups.add(user_in_role(roles.APPROVER, "x").groups.get())
    client.force_login(clerk)
    response = approve_action(client, entries)
    assert "Nothing was approved." in response.content.decode()
    assert "four-eyes" in response.content.decode()
    assert LedgerEntry.objects.filter(pk__in=[e.pk for e in entries]).pending().count() == 2


def test_staff_without_the_approve_permission_are_not_offered_the_action(client, payments):
    entries, _ = payments
    staff = user_in_role(roles.VIEWER, "auditor")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    page = client.get(CHANGELIST).content.decode()
    assert "approve_entries" not in page
    approve_action(client, entries)
    assert LedgerEntry.objects.filter(pk__in=[e.pk for e in entries]).pending().count() == 2


def test_submitted_returns_are_listed_read_only_with_their_download(client, db):
    line = AllocationFactory()
    approver = user_in_role(roles.APPROVER, "approver-a")
    submit_return(line.fund, approver)
    admin_user = StaffUserFactory(username="admin-a")
    client.force_login(admin_user)
    page = client.get("/admin/grants/returnsubmission/").content.decode()
    assert f"/funds/{line.fund.code}/submissions/1.xlsx" in page
    assert client.get("/admin/grants/returnsubmission/add/").status_code == 403
    assert Permission.objects.filter(codename="reopen_returnsubmission").exists()
