"""Issue 18: a return that does not reconcile is submitted only when the approver confirms its
variance to the penny, and the submission (its row, the fund page and the workbook's About sheet)
says it was submitted with that variance."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from grants import money, services
from grants.models import ReturnSubmission
from tests.factories import AllocationFactory, FundFactory

gbp = money.gbp
CONFIRMATION = "I am submitting this return £5,000.00 over-allocated"


@pytest.fixture
def over(db):
    """A fund whose one line is £5,000.00 more than its control total."""
    fund = FundFactory(code="over", control_total=gbp("1000.00"))
    AllocationFactory(fund=fund, amount=Decimal("6000.00"))
    return fund


@pytest.fixture
def reconciled(db):
    fund = FundFactory(code="even", control_total=gbp("1000.00"))
    AllocationFactory(fund=fund, amount=Decimal("1000.00"))
    return fund


def about(submission) -> dict:
    sheet = openpyxl.load_workbook(io.BytesIO(bytes(submission.workbook)))["About"]
    return {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}


def test_a_return_with_a_variance_is_refused_without_its_confirmation(over, approver):
    for accepted in (None, gbp("4999.99"), gbp("-5000.00")):
        with pytest.raises(ValidationError) as refused:
            services.fund_submit_return(fund=over, acting_user=approver, accepted_variance=accepted)
        assert refused.value.message_dict == {
            "accept_variance": [
                "The return does not reconcile: the allocations come to £5,000.00 more than the "
                f"control total. To submit it anyway, tick \u201c{CONFIRMATION}\u201d. Nothing was submitted."
            ]
        }
    assert not ReturnSubmission.objects.filter(fund=over).exists()


def test_a_confirmed_variance_is_kept_on_the_submission_and_in_its_about_sheet(over, approver):
    submission = services.fund_submit_return(
        fund=over, acting_user=approver, accepted_variance=gbp("5000.00")
    )
    submission.refresh_from_db()
    assert submission.variance == gbp("5000.00")
    assert submission.variance_confirmed == "Submitted £5,000.00 over-allocated"
    assert about(submission)["Submitted with a variance"] == (
        "Submitted £5,000.00 over-allocated: the approver who submitted it confirmed the variance, "
        "to the penny."
    )


def test_an_under_allocated_return_names_its_side(db, approver):
    fund = FundFactory(code="under", control_total=gbp("1000.00"))
    AllocationFactory(fund=fund, amount=Decimal("999.71"))
    with pytest.raises(ValidationError, match="I am submitting this return £0.29 under-allocated"):
        services.fund_submit_return(fund=fund, acting_user=approver)
    submission = services.fund_submit_return(fund=fund, acting_user=approver, accepted_variance=gbp("-0.29"))
    assert submission.variance_confirmed == "Submitted £0.29 under-allocated"


def test_a_reconciled_return_needs_no_confirmation_and_says_nothing_of_a_variance(reconciled, approver):
    submission = services.fund_submit_return(fund=reconciled, acting_user=approver)
    assert submission.variance == gbp("0.00")
    assert submission.variance_confirmed == ""
    assert "Submitted with a variance" not in about(submission)


def test_the_database_refuses_a_change_to_a_submitted_variance(over, approver):
    submission = services.fund_submit_return(
        fund=over, acting_user=approver, accepted_variance=gbp("5000.00")
    )
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE grants_returnsubmission SET variance = 0 WHERE id = %s", [submission.pk])
    submission.refresh_from_db()
    assert submission.variance == gbp("5000.00")


def test_the_submit_page_asks_for_the_confirmation_naming_the_variance(client, over, approver):
    client.force_login(approver)
    page = client.get("/funds/over/submit/").content.decode()
    assert f'<input type="checkbox" name="accept_variance" value="1" required> {CONFIRMATION}</label>' in page
    assert '<input type="hidden" name="variance" value="5000.00">' in page


def test_posting_without_the_checkbox_submits_nothing(client, over, approver):
    client.force_login(approver)
    for data in ({}, {"variance": "5000.00"}, {"accept_variance": "1", "variance": "4000.00"}):
        response = client.post("/funds/over/submit/", data)
        assert response.status_code == 400
        assert "The return does not reconcile" in response.content.decode()
    assert not ReturnSubmission.objects.filter(fund=over).exists()


def test_posting_the_confirmation_submits_and_the_fund_page_says_so(client, over, approver):
    client.force_login(approver)
    response = client.post(
        "/funds/over/submit/", {"accept_variance": "1", "variance": "5000.00"}, follow=True
    )
    page = response.content.decode()
    assert "Version 1 of the MoJ return submitted" in page
    assert "(Submitted £5,000.00 over-allocated, as the approver confirmed)" in page
    assert ReturnSubmission.objects.get(fund=over).variance == gbp("5000.00")


def test_the_submit_page_of_a_reconciled_fund_asks_nothing(client, reconciled, approver):
    client.force_login(approver)
    assert "accept_variance" not in client.get("/funds/even/submit/").content.decode()
    client.post("/funds/even/submit/")
    page = client.get("/funds/even/").content.decode()
    assert "Locked: version 1" in page and "as the approver confirmed" not in page
