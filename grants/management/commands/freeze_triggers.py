"""`manage.py freeze_triggers MIGRATION [--rebuild-figures]`: write the app's triggers, as the code
says today, into the SQL files a new migration reads (docs/triggers.md).

Writes `grants/migrations/MIGRATION.sqlite.sql` and `MIGRATION.postgresql.sql`. Run it once, when
writing the migration; a migration that has shipped keeps its files as they are.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grants import triggers

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


class Command(BaseCommand):
    help = "Freeze the app's triggers into SQL files beside a new migration."

    def add_arguments(self, parser):
        parser.add_argument("migration", help="The migration's name, e.g. 0015_entry_decisions.")
        parser.add_argument(
            "--rebuild-figures",
            action="store_true",
            help="Recompute the stored figures after installing (when what they count has changed).",
        )

    def handle(self, *args, migration, rebuild_figures, **options):
        if not (MIGRATIONS / f"{migration}.py").exists():
            raise CommandError(f"No migration grants/migrations/{migration}.py: write the migration first.")
        for vendor in triggers.VENDORS:
            path = MIGRATIONS / f"{migration}.{vendor}.sql"
            path.write_text(triggers.frozen_text(migration, vendor, rebuild_figures=rebuild_figures))
            self.stdout.write(f"Wrote {path.relative_to(MIGRATIONS.parents[1])}")
