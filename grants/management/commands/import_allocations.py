"""`manage.py import_allocations FUND_CODE FILE.xlsx [--dry-run] [--user USERNAME]`: bring a fund's
allocation table in from Excel.

Prints what the import does line by line (or, with --dry-run, would do, writing nothing), then the
fund's reconciliation after it. Every problem in the file is listed, and then nothing is written.
Exit status: 0 imported (or nothing to change, or a clean dry run), 2 bad input (an unknown fund or
user, a file that cannot be read, or any problem in it).
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from grants import money, services
from grants.imports import ImportRefused
from grants.imports.planning import CHANGED, NEW, ImportPlan
from grants.imports.snapshot import import_preview
from grants.management.fund_argument import EXIT_BAD_INPUT, fund_from_code


class Command(BaseCommand):
    help = "Import a fund's allocations from an .xlsx file (the seed report's table or an MoJ return)."

    def add_arguments(self, parser):
        parser.add_argument("fund_code", help="The fund's code, e.g. moj-ecf-2020.")
        parser.add_argument("file", type=Path, help="The .xlsx file.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would happen; write nothing.")
        parser.add_argument(
            "--user",
            help="Username to record as the importer; needed unless --dry-run, so that whoever approves "
            "the import's entries can be told apart from who recorded them.",
        )

    def handle(self, *args, fund_code, file, dry_run, user, **options):
        fund = fund_from_code(fund_code)
        importer = None
        if not user and not dry_run:
            raise CommandError(
                "Say who is importing with --user USERNAME: an entry recorded by no one could be "
                "approved by anyone, its importer included.",
                returncode=EXIT_BAD_INPUT,
            )
        if user:
            importer = get_user_model().objects.filter(username=user).first()
            if importer is None:
                raise CommandError(f"No user is called {user!r}.", returncode=EXIT_BAD_INPUT)
        try:
            content = file.read_bytes()
        except OSError as error:
            raise CommandError(
                f"Cannot read {file}: {error.strerror or error}.", returncode=EXIT_BAD_INPUT
            ) from error
        try:
            if dry_run:
                plan = import_preview(fund, file_name=file.name, content=content)
                if plan.problems:
                    raise ImportRefused(plan.problems)
                self.stdout.write("\n".join(describe_plan(plan, done=False)))
                self.stdout.write("Dry run: nothing was written.")
                return
            result = services.allocations_import(
                fund=fund, file_name=file.name, content=content, acting_user=importer
            )
        except ImportRefused as refused:
            count = len(refused.problems)
            lines = [f"{file.name} was not imported ({count} problem{'s' if count != 1 else ''}):"]
            lines += [f"  {problem}" for problem in refused.problems]
            lines.append("Nothing was written.")
            raise CommandError("\n".join(lines), returncode=EXIT_BAD_INPUT) from refused
        if result.record is None:
            self.stdout.write("\n".join(describe_plan(result.plan, done=False)))
            self.stdout.write(nothing_to_change(result))
            return
        self.stdout.write("\n".join(describe_plan(result.plan, done=True)))
        self.stdout.write(f"Imported {file.name} (SHA-256 {result.record.sha256}).")


def nothing_to_change(result: services.ImportResult) -> str:
    message = "Nothing to change: every line in the file already matches the ledger."
    if result.previous is not None:
        by = result.previous.imported_by
        message += (
            f" This file was imported on {result.previous.imported_at:%d %B %Y at %H:%M}"
            f"{f' by {by.get_username()}' if by else ''}."
        )
    return message


def describe_plan(plan: ImportPlan, *, done: bool) -> list[str]:
    sheet = plan.sheet
    verb = {NEW: "added" if done else "new", CHANGED: "changed" if done else "change"}
    lines = [
        f"{sheet.file_name}: sheet {sheet.sheet_name!r}, read as {sheet.layout}, {len(plan.lines)} lines "
        f"(SHA-256 {sheet.sha256}).",
    ]
    for line in plan.lines:
        amount = money.format_gbp(money.gbp(line.amount))
        if line.action == NEW:
            detail = f"{verb[NEW]:>9}  {amount}"
        elif line.action == CHANGED:
            detail = (
                f"{verb[CHANGED]:>9}  {money.format_gbp(money.gbp(line.current))} to {amount} "
                f"(variation {money.format_gbp(line.change)})"
            )
        else:
            detail = f"{'unchanged':>9}  {amount}"
        lines.append(
            f"  row {line.row:>4}  line {line.line_number:>3}  {detail}  {line.label}"
            f"  [{line.thematic_area.name} / {line.funding_category.name}]"
        )
    for organisation in plan.new_organisations:
        lines.append(f"Organisation {'created' if done else 'to create'}: {organisation}")
    for match in plan.matched_organisations:
        lines.append(f'Organisation matched by {match.how}: "{match.cell}" is {match.organisation}')
    if plan.kept_line_count:
        lines.append(f"{plan.kept_line_count} line(s) of the fund are not in the file and stay as they are.")
    if plan.stated_total_differs:
        lines.append(
            f"The sheet's Total row says {money.format_gbp(money.gbp(sheet.stated_total))}; its lines add up "
            f"to {money.format_gbp(plan.sheet_total)}. The lines are imported as they are."
        )
    after = plan.after
    when = "now" if done else "after the import"
    lines.append(
        f"Reconciliation {when}: ledger {money.format_gbp(after.ledger_total)} ({after.line_count} lines) "
        f"against control {money.format_gbp(after.control_total)}: {after.status}. {after.variance_in_words}"
    )
    return lines
