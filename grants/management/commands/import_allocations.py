"""`manage.py import_allocations FUND_CODE FILE.xlsx [--sheet NAME] [--column FIELD=HEADING]...
[--thematic-area NAME] [--funding-category NAME] [--value "TEXT=NAME"]... [--dry-run] [--user USERNAME]
[--format text|json]`: bring a fund's allocation table in from Excel.

The file is read as its headings say, and the options say the rest, as the preview page's choices
do (`grants.imports.reading.Mapping`). Prints what the import does line by line (or, with --dry-run,
would do, writing nothing), the columns read, the file's stated total beside its lines' sum, then
the fund's reconciliation after it. Every problem in the file is listed, with the option that would
settle it where there is one, and then nothing is written. With --format json the same is one JSON
object on stdout, for refused files too (`import_report`), and a refusal before the file is
read is `{"problems": [...], "written": false}`.

Exit status: 0 imported (or nothing to change, or a clean dry run), 2 bad input (an unknown fund or
user, a malformed option, a file that cannot be read, or any problem in it).
"""

import hashlib
import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from grants import services
from grants.imports import ImportRefused
from grants.imports.reading import FIELD_BY_KEY, IGNORE, Mapping
from grants.imports.snapshot import import_preview
from grants.management.fund_argument import EXIT_BAD_INPUT, fund_from_code
from grants.management.import_report import ImportReport

FIELD_KEYS = [*FIELD_BY_KEY, IGNORE]


def column_option(text: str) -> tuple[str, str]:
    """`--column FIELD=HEADING` as (field key, heading or letter), or a CommandError naming it."""
    key, equals, heading = text.partition("=")
    key = key.strip().lower().replace("-", "_")
    if not equals or not heading.strip():
        raise CommandError(
            f"--column {text!r}: write FIELD=HEADING, the heading as printed or the column's letter, "
            'e.g. --column organisation="Service provider" or --column amount=C.',
            returncode=EXIT_BAD_INPUT,
        )
    if key not in FIELD_KEYS:
        raise CommandError(
            f"--column {text!r}: {key!r} is not a field; FIELD is one of {', '.join(FIELD_KEYS)}.",
            returncode=EXIT_BAD_INPUT,
        )
    return key, heading.strip()


def value_option(text: str) -> tuple[str, str]:
    """`--value "TEXT=NAME"` as (text, name), or a CommandError naming it. A category's name has no
    "=", so the last one separates them."""
    found, equals, name = text.rpartition("=")
    if not equals or not found.strip() or not name.strip():
        raise CommandError(
            f'--value {text!r}: write "TEXT=NAME", the text as the file has it and the thematic area or '
            'funding category it means, e.g. --value "Sexual Violence Support=Sexual Violence".',
            returncode=EXIT_BAD_INPUT,
        )
    return found.strip(), name.strip()


class Command(BaseCommand):
    help = "Import a fund's allocations from an .xlsx file (an office's allocation table or an MoJ return)."

    def add_arguments(self, parser):
        parser.add_argument("fund_code", help="The fund's code, e.g. moj-ecf-2020.")
        parser.add_argument("file", type=Path, help="The .xlsx file.")
        parser.add_argument("--sheet", default="", help="The sheet to read (the first one by default).")
        parser.add_argument(
            "--column",
            action="append",
            default=[],
            metavar="FIELD=HEADING",
            help=f"Read the column headed HEADING (or with the letter HEADING) as FIELD: one of "
            f"{', '.join(FIELD_KEYS)}. Repeat for each column the headings do not say.",
        )
        parser.add_argument("--thematic-area", default="", help="The thematic area of lines that name none.")
        parser.add_argument(
            "--funding-category", default="", help="The funding category of lines that name none."
        )
        parser.add_argument(
            "--value",
            action="append",
            default=[],
            metavar="TEXT=NAME",
            help="A text of the file (in a category column, or a section row) means the thematic area or "
            "funding category NAME. Repeat for each text.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Show what would happen; write nothing.")
        parser.add_argument(
            "--user",
            help="Username to record as the importer; needed unless --dry-run, so that whoever approves "
            "the import's entries can be told apart from who recorded them.",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, format, **options):
        try:
            return self._import(format=format, **options)
        except CommandError as error:
            if format == "json" and not getattr(error, "reported", False):
                # Refused before the file was read (a malformed option, an unknown fund or user, a
                # file that cannot be opened): JSON still says so, in the report's shape.
                problem = {"sheet": None, "row": None, "column": None, "message": str(error)}
                self.stdout.write(json.dumps({"problems": [problem], "written": False}, indent=2))
            raise

    def _import(self, *, fund_code, file, dry_run, user, format, **options):
        mapping = Mapping(
            sheet=options["sheet"].strip(),
            columns=tuple(column_option(text) for text in options["column"]),
            thematic_area=options["thematic_area"].strip(),
            funding_category=options["funding_category"].strip(),
            values=tuple(value_option(text) for text in options["value"]),
        )
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

        report = ImportReport(
            fund=fund,
            file_name=file.name,
            sha256=hashlib.sha256(content).hexdigest(),
            mapping=mapping,
            dry_run=dry_run,
        )
        try:
            if dry_run:
                report.plan = import_preview(fund, file_name=file.name, content=content, mapping=mapping)
                report.refused = list(report.plan.problems)
            else:
                report.result = services.allocations_import(
                    fund=fund, file_name=file.name, content=content, acting_user=importer, mapping=mapping
                )
                report.plan = report.result.plan
        except ImportRefused as refused:
            report.refused = refused.problems
            if report.plan is None and not dry_run:
                report.plan = _preview_or_none(fund, file.name, content, mapping)

        if format == "json":
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
            if report.refused:
                error = CommandError(report.refusal_summary(), returncode=EXIT_BAD_INPUT)
                error.reported = True  # the JSON above says it already
                raise error
            return
        if report.refused:
            raise CommandError("\n".join(report.refusal_lines()), returncode=EXIT_BAD_INPUT)
        self.stdout.write("\n".join(report.text_lines()))


def _preview_or_none(fund, file_name: str, content: bytes, mapping: Mapping):
    """What the refused file was read as (its columns, its unmapped texts), for the refusal to show;
    None when it cannot be read at all."""
    try:
        return import_preview(fund, file_name=file_name, content=content, mapping=mapping)
    except ImportRefused:
        return None
