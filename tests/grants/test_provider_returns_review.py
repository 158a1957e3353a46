"""Defects found on a hostile reading of provider returns (issue 17 part 2), each pinned by a test."""

import datetime
import io
from decimal import Decimal
from unittest import mock

from django.urls import reverse
from django.utils import timezone

from grants import services
from grants.figures.models import LineYearFigures
from grants.models import LedgerEntry, ReportingPeriod
from grants.selectors import returns as selectors
from grants.services import returns as return_services
from tests.factories import FundFactory, approve_pending
from tests.grants.test_provider_returns import (
    fill,
    line,  # noqa: F401 (a fixture)
    period_starting,
    saved,
    two_year_fund,  # noqa: F401 (a fixture)
    workbook_for,
)

Q4 = datetime.date(2024, 1, 1)


def test_a_payment_reversed_in_the_next_year_counts_in_the_year_it_was_paid_as_the_ledger_counts_it(
    line,  # noqa: F811
    officer,
    approver,
):
    """The ledger counts a reversal in the financial year of the entry it cancels; the return's
    'paid' must agree, or a year-end return asks back an underspend on a payment that was undone."""
    payment = LedgerEntry.objects.get(allocation=line, kind=LedgerEntry.Kind.PAYMENT)
    with mock.patch.object(timezone, "localdate", return_value=datetime.date(2024, 4, 10)):
        services.entry_reverse(entry=payment, memo="Paid to the wrong account", acting_user=officer)
    approve_pending(allocation=line, kind=LedgerEntry.Kind.PAYMENT)
    figures = LineYearFigures.objects.get(allocation=line, year=2023)
    ledger_paid = figures.paid - figures.paid_pending
    side = selectors.ledger_side([line.pk], period_starting(line.fund, Q4))[line.pk]
    assert ledger_paid == Decimal("0.00")
    assert side.paid == ledger_paid
    next_year = selectors.ledger_side([line.pk], period_starting(line.fund, datetime.date(2024, 4, 1)))
    assert next_year[line.pk].paid == Decimal("0.00")


def test_no_reporting_period_lies_wholly_before_the_fund_spends(db, officer):
    """The seed fund spends from 23 March 2020: quarters of April to December 2019 are not its
    periods, and would show every line's returns for them as overdue."""
    fund = FundFactory(
        code="seedlike", spend_start=datetime.date(2020, 3, 23), spend_end=datetime.date(2020, 10, 31)
    )
    periods = return_services.reporting_periods_create(fund=fund, frequency="quarterly", acting_user=officer)
    assert periods[0].start == datetime.date(2020, 1, 1)
    assert all(period.end >= fund.spend_start for period in periods)
    assert ReportingPeriod.objects.filter(fund=fund, end__lt=fund.spend_start).count() == 0


def test_a_mangled_underspend_is_refused_not_a_server_error(client, line, officer):  # noqa: F811
    client.force_login(officer)
    period = period_starting(line.fund, Q4)
    upload = io.BytesIO(saved(fill(workbook_for(line, period), line.fund, to_date="650")))
    upload.name = "q4.xlsx"
    preview = client.post(reverse("grants:line_returns", args=[line.pk]), {"file": upload})
    done = client.post(preview["Location"], {"record_underspend": "1", "underspend": "sNaN"})
    assert done.status_code == 302
    assert not LedgerEntry.objects.filter(kind="underspend_due").exists()


def test_recording_the_underspend_on_a_return_already_imported_is_not_silently_dropped(
    client,
    line,  # noqa: F811
    officer,
):
    """Imported first without the underspend, the same file uploaded again shows the box to record
    it; ticking it records it rather than saying 'nothing changed'."""
    client.force_login(officer)
    period = period_starting(line.fund, Q4)
    content = saved(fill(workbook_for(line, period), line.fund, to_date="650"))
    for record in (False, True):
        upload = io.BytesIO(content)
        upload.name = "q4.xlsx"
        preview = client.post(reverse("grants:line_returns", args=[line.pk]), {"file": upload})
        shown = client.get(preview["Location"]).content.decode()
        assert 'name="record_underspend"' in shown
        data = {"record_underspend": "1", "underspend": "150.00"} if record else {}
        client.post(preview["Location"], data)
    entry = LedgerEntry.objects.get(kind="underspend_due")
    assert entry.amount.amount == Decimal("150.00") and entry.is_pending


def test_a_payment_being_reversed_is_not_counted_as_paid_when_working_out_the_underspend(
    line,  # noqa: F811
    officer,
):
    """Pending counts the safer way: a reversal awaiting approval already takes the payment out of
    what an underspend is worked out on, so no underspend is asked back on a payment being undone."""
    payment = LedgerEntry.objects.get(allocation=line, kind=LedgerEntry.Kind.PAYMENT)
    with mock.patch.object(timezone, "localdate", return_value=datetime.date(2024, 3, 20)):
        services.entry_reverse(entry=payment, memo="Paid to the wrong account", acting_user=officer)
    period = period_starting(line.fund, Q4)
    side = selectors.ledger_side([line.pk], period)[line.pk]
    assert side.paid == Decimal("0.00")
    assert selectors.compare(period, side, Decimal("650.00")).underspend == Decimal("0.00")
    # Withdrawn by its recorder, the reversal no longer counts and the payment stands.
    reversal = LedgerEntry.objects.get(reverses=payment)
    services.entry_withdraw(entry=reversal, reason="Not needed after all", acting_user=officer)
    assert selectors.ledger_side([line.pk], period)[line.pk].paid == Decimal("800.00")


def test_once_the_funds_moj_return_is_submitted_a_return_imports_but_its_underspend_is_refused_whole(
    client,
    line,  # noqa: F811
    officer,
    approver,
):
    """A provider return changes no ledger figure, so it still imports; recording its underspend
    would, so the confirm is refused whole (no return kept either) with the submission's message."""
    from grants.models import ProviderReturn
    from tests.factories import submit_return

    submit_return(line.fund, approver)
    client.force_login(officer)
    period = period_starting(line.fund, Q4)
    upload = io.BytesIO(saved(fill(workbook_for(line, period), line.fund, to_date="650")))
    upload.name = "q4.xlsx"
    preview = client.post(reverse("grants:line_returns", args=[line.pk]), {"file": upload})
    refused = client.post(
        preview["Location"], {"record_underspend": "1", "underspend": "150.00"}, follow=True
    )
    assert "MoJ return was submitted" in refused.content.decode()
    assert not ProviderReturn.objects.exists()
    assert not LedgerEntry.objects.filter(kind="underspend_due").exists()
    client.post(preview["Location"], {})
    assert ProviderReturn.objects.get().spend_to_date.amount == Decimal("650.00")


def test_one_address_the_mail_server_refuses_does_not_stop_the_other_reminders(
    line,  # noqa: F811
    capsys,
):
    """Reminders go out organisation by organisation: a refused address is reported and the rest are
    still reminded (a crash part-way left later ones unreminded and a rerun re-sent earlier ones)."""
    import smtplib

    from django.core import mail
    from django.core.management import CommandError, call_command

    from tests.factories import AllocationFactory, OrganisationFactory

    line.organisation.name = "Aardvark Support"
    line.organisation.contact_email = "bad@nowhere.invalid"
    line.organisation.save()
    later = AllocationFactory(
        fund=line.fund,
        organisation=OrganisationFactory(name="Zebra Trust", contact_email="z@zebra.example"),
        effective_date=datetime.date(2023, 4, 10),  # awarded in the year, so expected to report
    )
    real_send = mail.send_mail

    def send(*args, recipient_list, **kwargs):
        if recipient_list == ["bad@nowhere.invalid"]:
            raise smtplib.SMTPRecipientsRefused({"bad@nowhere.invalid": (550, b"no such domain")})
        return real_send(*args, recipient_list=recipient_list, **kwargs)

    with mock.patch("grants.management.commands.provider_returns_due.send_mail", side_effect=send):
        try:
            call_command("provider_returns_due", "--today", "2023-08-15", "--email", "--fund", line.fund.code)
        except CommandError as error:
            assert "1 organisation not reminded" in str(error)
        else:
            raise AssertionError("a reminder that failed must make the command fail")
    out = capsys.readouterr().out
    assert "Not reminded (sending failed" in out and "Aardvark Support" in out
    [message] = mail.outbox
    assert message.to == [later.organisation.contact_email]
