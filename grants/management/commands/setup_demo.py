"""`manage.py setup_demo`: the 2020 MoJ fund and a local demo login, without losing anything.

Loads the seed fixture only when its fund is not in the database yet, so a second run never
overwrites corrections made since. Creates the demo login when it is missing; its password comes
from LEDGER_DEMO_PASSWORD or is generated once and kept in `.demo-login` (readable by its owner only)
so that later runs can print it again.

A second login, `<username>-approver`, holds the Approver role with the same password: nobody may
approve an entry they recorded themselves, the demo superuser included (four-eyes rule).

Besides the seed, a clearly synthetic three-year fund (`grants.demo_fund`) is written through the
services once, when it is not in the database yet: the demo login records, the approver approves.
"""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from grants import roles
from grants.demo_fund import DEMO_FUND_CODE, demo_fund_create, demo_schedules_ensure
from grants.models import Fund

SEED_FIXTURE = "moj_extraordinary_covid_fund_2020"
SEED_FUND_CODE = "moj-ecf-2020"
UNCHANGED = "(unchanged)"


class Command(BaseCommand):
    help = (
        "Load the 2020 MoJ fund and a synthetic three-year demo fund if absent, and make sure the local "
        "demo logins exist."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("LEDGER_DEMO_USERNAME", "demo"))
        parser.add_argument(
            "--password-file",
            type=Path,
            default=settings.BASE_DIR / ".demo-login",
            help="Where a generated password is kept between runs.",
        )

    def handle(self, *args, username, password_file, **options):
        if not settings.DEBUG:
            # A demo superuser, and an approver sharing its password, have no place on a real ledger.
            raise CommandError(
                "setup_demo makes a demo superuser and approver for local use, so it runs only with "
                "DJANGO_DEBUG=1 (as `make run` sets it). Nothing was changed."
            )
        if Fund.objects.filter(code=SEED_FUND_CODE).exists():
            self.stdout.write(f"Seed fund {SEED_FUND_CODE} is already loaded; left as it is.")
        else:
            call_command("loaddata", SEED_FIXTURE, verbosity=0)
            self.stdout.write(f"Loaded seed fund {SEED_FUND_CODE} from fixtures/{SEED_FIXTURE}.json.")
        password, note = self._ensure_user(username, password_file)
        self.stdout.write(
            self.style.SUCCESS(f"Demo login: username {username!r}, password {password!r} ({note}).")
        )
        approver = f"{username}-approver"
        has_approver = self._ensure_approver(approver, password)
        if has_approver:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Approver login: username {approver!r}, the same password. It approves what "
                    f"{username!r} records (nobody approves their own entries)."
                )
            )
        self._ensure_demo_fund(username, approver if has_approver else None)

    def _ensure_demo_fund(self, username: str, approver: str | None) -> None:
        existing = Fund.objects.filter(code=DEMO_FUND_CODE).first()
        if existing is not None:
            self.stdout.write(f"Synthetic demo fund {DEMO_FUND_CODE} is already there; left as it is.")
            # A demo fund made before payment schedules existed gains them (planning only, no money).
            made = demo_schedules_ensure(existing, get_user_model().objects.get(username=username))
            if made:
                self.stdout.write(f"Gave {made} of its lines a quarterly payment schedule.")
            return
        if approver is None:
            # Its entries are approved by a second person, as the four-eyes rule asks.
            self.stdout.write(
                f"Synthetic demo fund {DEMO_FUND_CODE} not made: it needs the approver login, which is "
                "made once the demo login's password is known (set LEDGER_DEMO_PASSWORD)."
            )
            return
        User = get_user_model()
        demo_fund_create(
            recorder=User.objects.get(username=username), approver=User.objects.get(username=approver)
        )
        self.stdout.write(
            f"Made synthetic demo fund {DEMO_FUND_CODE} (2023-24 to 2025-26; not real data), recorded by "
            f"{username!r} and partly approved by {approver!r}."
        )

    @transaction.atomic
    def _ensure_approver(self, username: str, password: str) -> bool:
        """Make the approver login if missing; False when there is no known password to give it."""
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            if password == UNCHANGED:
                return False
            user = User.objects.create_user(username=username, password=password)
        user.groups.add(Group.objects.get(name=roles.APPROVER))
        return True

    @transaction.atomic
    def _ensure_user(self, username: str, password_file: Path) -> tuple[str, str]:
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        from_env = os.environ.get("LEDGER_DEMO_PASSWORD", "")
        if from_env:
            if user is None:
                user = User(username=username, is_staff=True, is_superuser=True)
            if not user.check_password(from_env):
                user.set_password(from_env)
                user.save()
            return from_env, "from LEDGER_DEMO_PASSWORD"
        kept = password_file.read_text().strip() if password_file.exists() else ""
        if user is not None:
            if kept and user.check_password(kept):
                return kept, f"kept in {password_file.name}"
            return UNCHANGED, (
                "the login existed already; set LEDGER_DEMO_PASSWORD or run "
                f"'manage.py changepassword {username}'"
            )
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
        return password, f"generated; kept in {password_file.name}"
