"""`manage.py export_moj_return FUND_CODE [--year 2023-24] [-o FILE.xlsx]`: write a fund's MoJ return
workbook, or its return for one year of its profile.

Without -o the file is `MoJ-return_<fund-code>_<YYYY-MM-DD>.xlsx` (`..._<fund-code>_2023-24_...` for
one year) in the current folder. Exit status: 0 written, 2 an unknown fund, a year not in the fund's
profile, an unknown --user or a path that cannot be written.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from grants import selectors
from grants.exports.files import moj_return_filename, write_moj_return
from grants.management.fund_argument import EXIT_BAD_INPUT, fund_from_code


class Command(BaseCommand):
    help = "Write a fund's Ministry of Justice return as an Excel workbook."

    def add_arguments(self, parser):
        parser.add_argument("fund_code", help="The fund's code, e.g. moj-ecf-2020.")
        parser.add_argument("-o", "--output", type=Path, help="Where to write the .xlsx file.")
        parser.add_argument("--user", help="Username to name as the preparer (default: this shell's user).")
        parser.add_argument(
            "--year", help="One financial year of the fund's profile, e.g. 2023-24 (default: the whole fund)."
        )

    def handle(self, *args, fund_code, output, user, year=None, **options):
        fund = fund_from_code(fund_code)
        if year:
            try:
                year = selectors.return_year(fund, year)
            except selectors.NotAReturnYear as error:
                raise CommandError(str(error), returncode=EXIT_BAD_INPUT) from error
        preparer = None
        if user:
            preparer = get_user_model().objects.filter(username=user).first()
            if preparer is None:
                raise CommandError(f"No user is called {user!r}.", returncode=EXIT_BAD_INPUT)
        destination = output or Path(moj_return_filename(fund.code, timezone.localdate(), year or None))
        if destination.is_dir():
            raise CommandError(f"{destination} is a folder; give a file name.", returncode=EXIT_BAD_INPUT)
        try:
            result = write_moj_return(fund, destination, user=preparer, year=year or None)
        except OSError as error:
            raise CommandError(
                f"Cannot write {destination}: {error.strerror or error}.", returncode=EXIT_BAD_INPUT
            ) from error
        self.stdout.write(
            f"Wrote {destination} ({result.line_count} lines, data SHA-256 {result.data_sha256})."
        )
