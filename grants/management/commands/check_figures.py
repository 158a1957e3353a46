"""`manage.py check_figures [--repair]`: do the stored figures agree with the entries?

The figures the pages read (grants/figures/) are kept by database triggers. This compares every
one of them with what the allocations and entries say, to the penny, and lists what differs. With
`--repair` it recomputes them all from the entries, in one transaction, and checks again.

Exit status: 0 they agree (or were repaired), 1 they differ.
"""

import sys

from django.core.management.base import BaseCommand

from grants.figures import figures_drift, rebuild_figures

EXIT_AGREE, EXIT_DRIFT = 0, 1
SHOWN = 50


class Command(BaseCommand):
    help = "Compare the stored figures with the ledger entries; --repair recomputes them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair", action="store_true", help="Recompute every stored figure from the entries."
        )

    def handle(self, *args, repair, **options):
        drift = figures_drift(limit=SHOWN)
        if not drift:
            self.stdout.write("The stored figures agree with the entries.")
            return
        shown = "\n".join(f"  {item}" for item in drift)
        more = f" (the first {SHOWN})" if len(drift) == SHOWN else ""
        self.stderr.write(f"The stored figures differ from the entries{more}:\n{shown}")
        if not repair:
            self.stderr.write("Run `manage.py check_figures --repair` to recompute them from the entries.")
            sys.exit(EXIT_DRIFT)
        rebuild_figures()
        drift = figures_drift(limit=SHOWN)
        if drift:
            self.stderr.write(
                "They still differ after the repair:\n" + "\n".join(f"  {item}" for item in drift)
            )
            sys.exit(EXIT_DRIFT)
        self.stdout.write("Recomputed the stored figures from the entries; they agree now.")
