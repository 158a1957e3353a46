"""`manage.py export_360giving FUND_CODE [--format xlsx|csv|json] [-o FILE]`: the fund as open data.

Writes the 360Giving grants sheet (xlsx or csv, the standard's column titles) or its JSON package,
checked against the standard's schemas first. Lists the recipients whose identifier had to be made
from the office's 360G prefix because the ledger has no charity or company number for them.
Exit status: 0 written, 2 an unknown fund, missing settings, an unwritable path or invalid data.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from grants.exports.files import InvalidOpenData, three_sixty_giving_filename, write_three_sixty_giving
from grants.exports.three_sixty_giving import FORMATS
from grants.exports.three_sixty_giving_data import ThreeSixtyGivingNotConfigured
from grants.management.fund_argument import EXIT_BAD_INPUT, fund_from_code


class Command(BaseCommand):
    help = "Write a fund's allocations as 360Giving open data (xlsx, csv or json)."

    def add_arguments(self, parser):
        parser.add_argument("fund_code", help="The fund's code, e.g. moj-ecf-2020.")
        parser.add_argument("--format", choices=sorted(FORMATS), default="xlsx")
        parser.add_argument("-o", "--output", type=Path, help="Where to write the file.")

    def handle(self, *args, fund_code, format, output, **options):
        fund = fund_from_code(fund_code)
        destination = output or Path(three_sixty_giving_filename(fund.code, format, timezone.localdate()))
        if destination.is_dir():
            raise CommandError(f"{destination} is a folder; give a file name.", returncode=EXIT_BAD_INPUT)
        try:
            export = write_three_sixty_giving(fund, format, destination)
        except (ThreeSixtyGivingNotConfigured, InvalidOpenData) as error:
            raise CommandError(str(error), returncode=EXIT_BAD_INPUT) from error
        except OSError as error:
            raise CommandError(
                f"Cannot write {destination}: {error.strerror or error}.", returncode=EXIT_BAD_INPUT
            ) from error
        self.stdout.write(f"Wrote {destination} ({len(export.grants)} grants, 360Giving {format}).")
        generated = export.generated_identifiers
        if generated:
            self.stdout.write(
                f"{len(generated)} recipient(s) have no charity or company number in the ledger, so "
                "their identifiers were made from the office's 360G prefix. Add their registered "
                "numbers to publish better data:"
            )
            for recipient in generated:
                self.stdout.write(f"  {recipient.identifier}  {recipient.name}")
