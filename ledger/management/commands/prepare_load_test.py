"""`manage.py prepare_load_test [--lines N] [--code CODE] [--paths-file FILE]`: the load test's set-up.

For the serve database of a load test (scripts/load_test.sh), never for the office's real one: the
large synthetic fund (`make_load_fund`), the load test's login with the Viewer role and the password
in LOAD_PASSWORD (from the environment, so that it is not on a command line others can list), and,
in FILE, the paths the load test requests, one a line (ledger/load_setup.py says which).
"""

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from grants.models import Fund
from ledger import load_setup


class Command(BaseCommand):
    help = "Set up a load test: the large synthetic fund, a Viewer login and the paths to request."

    def add_arguments(self, parser):
        parser.add_argument("--lines", type=int, default=8000)
        parser.add_argument("--code", default="load-test-fund")
        parser.add_argument("--paths-file", help="Write the paths to request here, one a line.")

    @transaction.atomic
    def handle(self, *args, lines, code, paths_file, **options):
        password = os.environ.get("LOAD_PASSWORD", "")
        if not password:
            raise CommandError(
                "Set LOAD_PASSWORD in the environment: the load test's login needs a password."
            )
        call_command("make_load_fund", lines=lines, code=code, stdout=self.stdout)
        load_setup.load_user(password)
        paths = load_setup.load_paths(Fund.objects.get(code=code))
        if paths_file:
            with open(paths_file, "w", encoding="utf-8") as file:
                file.writelines(f"{path}\n" for path in paths)
        self.stdout.write(
            f"Login {load_setup.USERNAME} with the {load_setup.ROLE} role; {len(paths)} paths to request."
        )
