"""List the provider returns due and overdue, and with --email remind each organisation's contact."""

from __future__ import annotations

import datetime
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import BaseCommand, CommandError

from grants.management.fund_argument import EXIT_BAD_INPUT, fund_from_code
from grants.selectors.returns import OVERDUE, returns_outstanding


class Command(BaseCommand):
    help = "List provider returns due and overdue; with --email, remind each organisation's contact."

    def add_arguments(self, parser):
        parser.add_argument("--fund", help="Only this fund (its code).")
        parser.add_argument("--email", action="store_true", help="Send each organisation a reminder.")
        parser.add_argument("--today", help="Count as if today were this date (YYYY-MM-DD).")

    def handle(self, *args, fund=None, email=False, today=None, **options):
        try:
            day = datetime.date.fromisoformat(today) if today else datetime.date.today()  # noqa: DTZ011
        except ValueError as error:
            raise CommandError(
                f"--today {today!r} is not a date such as 2024-07-31.", returncode=EXIT_BAD_INPUT
            ) from error
        rows = returns_outstanding(day, fund_from_code(fund) if fund else None)
        if not rows:
            self.stdout.write(f"No provider returns due or overdue on {day:%-d %B %Y}.")
            return
        by_organisation = {}
        for row in rows:
            line = row.allocation
            self.stdout.write(
                f"{row.state.upper():8} {line.fund.code} line {line.line_number} {line.organisation.name}: "
                f"{row.period.label}, due {row.period.due_date:%-d %B %Y}"
            )
            by_organisation.setdefault(line.organisation, []).append(row)
        overdue = sum(1 for row in rows if row.state == OVERDUE)
        self.stdout.write(f"{len(rows)} returns outstanding, {overdue} overdue.")
        if email:
            self._remind(by_organisation)

    def _remind(self, by_organisation) -> None:
        failed = []
        for organisation, rows in sorted(by_organisation.items(), key=lambda item: item[0].name):
            if not organisation.contact_email:
                self.stdout.write(f"Not reminded (no contact email): {organisation.name}")
                continue
            lines = "\n".join(
                f"- {row.allocation.fund.name}, line {row.allocation.line_number}: {row.period.label}, "
                f"due {row.period.due_date:%-d %B %Y} ({row.state})"
                for row in rows
            )
            try:
                self._send(organisation, lines)
            except (smtplib.SMTPException, OSError) as error:
                # One refused address must not stop the rest (nor a rerun re-send those already done).
                failed.append(organisation.name)
                self.stdout.write(f"Not reminded (sending failed: {error}): {organisation.name}")
                continue
            self.stdout.write(f"Reminded {organisation.name} at {organisation.contact_email}")
        if failed:
            raise CommandError(
                f"{len(failed)} organisation{'s' if len(failed) != 1 else ''} not reminded because sending "
                f"failed: {', '.join(failed)}."
            )

    def _send(self, organisation, lines: str) -> None:
        send_mail(
            subject=f"Grant returns due from {organisation.name}",
            message=(
                f"Dear colleague,\n\nThe following returns from {organisation.name} are due or "
                "overdue:\n\n"
                f"{lines}\n\nPlease complete the workbook the office sent for each and return it.\n\n"
                f"{settings.LEDGER_OFFICE_NAME}"
            ),
            from_email=None,
            recipient_list=[organisation.contact_email],
        )
