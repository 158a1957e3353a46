"""A refused change leaves a record of who tried it, though the change itself is rolled back."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from audit.models import AuditEvent
from grants import money, services
from grants.models import LedgerEntry, RefusedAttempt
from tests.factories import AllocationFactory, FundFactory, pay


@pytest.fixture
def line(db):
    return AllocationFactory(amount=Decimal("1265.00"), fund=FundFactory(control_total=money.gbp("5000.00")))


def test_an_over_payment_is_refused_and_names_who_tried(line, officer):
    with pytest.raises(ValidationError, match="at most £1,265.00 can be paid"):
        pay(line, "1265.01", officer)
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    attempt = RefusedAttempt.objects.get()
    assert (attempt.attempted_by, attempt.action, attempt.fund_id, attempt.allocation_id) == (
        officer,
        "payment_record",
        line.fund_id,
        line.pk,
    )
    assert "at most £1,265.00 can be paid" in attempt.message
    assert attempt.target == f"allocation {line.pk}"
    event = AuditEvent.objects.get(table_name="grants_refusedattempt")
    assert (event.actor_username, event.action, event.fund_id, event.allocation_id) == (
        "officer",
        "insert",
        line.fund_id,
        line.pk,
    )
    assert "at most £1,265.00 can be paid" in event.reason


def test_a_change_that_succeeds_records_no_refusal(line, officer):
    pay(line, "10.00", officer)
    assert not RefusedAttempt.objects.exists()


def test_approving_ones_own_entry_is_recorded_as_refused(line, officer):
    payment = pay(line, "10.00", officer)
    with pytest.raises(ValidationError, match="someone else must approve"):
        services.entry_approve(entry=payment, acting_user=officer)
    attempt = RefusedAttempt.objects.get()
    assert (attempt.attempted_by, attempt.action, attempt.allocation_id) == (
        officer,
        "decisions_take",
        line.pk,
    )
    assert attempt.target == f"ledger entry {payment.pk}"
    payment.refresh_from_db()
    assert payment.is_pending


def test_a_refused_form_post_is_recorded_with_the_signed_in_user(client, officer, line):
    client.force_login(officer)
    response = client.post(
        f"/allocations/{line.pk}/payments/add/",
        {"amount": "1300.00", "effective_date": "2020-09-01", "reference": "BACS-11"},
    )
    assert response.status_code == 200
    assert RefusedAttempt.objects.get().attempted_by == officer
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_services_calling_services_record_one_refusal_under_the_outermost_name(line, officer):
    @services._audited()
    def inner(*, acting_user):
        raise ValidationError("inner refused")

    @services._audited()
    def outer(*, allocation, acting_user):
        inner(acting_user=acting_user)

    with pytest.raises(ValidationError):
        outer(allocation=line, acting_user=officer)
    assert list(RefusedAttempt.objects.values_list("action", "message")) == [("outer", "inner refused")]


def test_a_refused_import_names_the_row_in_its_record(line, officer):
    with pytest.raises(services.ImportRefused) as refused:
        services.allocations_import(
            fund=line.fund, file_name="not-a-workbook.xlsx", content=b"not a workbook", acting_user=officer
        )
    attempt = RefusedAttempt.objects.get()
    assert (attempt.action, attempt.fund_id, attempt.attempted_by) == (
        "allocations_import",
        line.fund_id,
        officer,
    )
    assert attempt.message == str(refused.value)


def test_refused_attempts_cannot_be_changed_or_deleted(line, officer):
    with pytest.raises(ValidationError):
        pay(line, "2000.00", officer)
    attempt = RefusedAttempt.objects.get()
    with pytest.raises(ValidationError, match="append-only"):
        RefusedAttempt.objects.update(message="nothing happened")
    with pytest.raises(ValidationError, match="cannot be deleted"):
        attempt.delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE grants_refusedattempt SET message = 'nothing happened'")
    attempt.refresh_from_db()
    assert "can be paid" in attempt.message
