"""A backup made with pg_dump restores with pg_restore into a database that reconciles the same.

This is the procedure in the README's operations guide ("Backups" and "Restore"), run for real:
dump the test database, restore it into a fresh database with a unique name, and compare every
fund's reconciliation, figure by figure, between the two. PostgreSQL only.
"""

import json
import os
import shutil
import subprocess
import sys
import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection

from grants import services
from grants.models import Fund
from grants.reconciliation import reconcile
from tests.factories import AllocationFactory, FundFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Backup and restore use pg_dump and pg_restore: run the suite with DATABASE_URL=postgres://...",
)

# Every fund's reconciliation; then whether the stored figures came back agreeing with the entries,
# with the triggers that keep them.
RECONCILE_EVERY_FUND = (
    "import json, django; django.setup(); "
    "from django.db import connection; "
    "from grants.models import Fund; from grants.reconciliation import reconcile; "
    "from grants.figures import figures_drift, trigger_names; "
    "print(json.dumps({f.code: reconcile(f).as_dict() for f in Fund.objects.order_by('code')})); "
    "cursor = connection.cursor(); cursor.execute('SELECT tgname FROM pg_trigger'); "
    "print(json.dumps({'drift': [str(d) for d in figures_drift()], "
    "'missing_triggers': sorted(trigger_names() - {row[0] for row in cursor.fetchall()})}))"
)


def client_env():
    """libpq's variables for the test database's server, for pg_dump, pg_restore and createdb."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "PGHOST": db["HOST"] or "",
        "PGPORT": str(db["PORT"] or ""),
        "PGUSER": db["USER"] or "",
    }
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def run(*command):
    completed = subprocess.run(command, env=client_env(), capture_output=True, text=True, check=False)
    assert completed.returncode == 0, f"{' '.join(command)}:\n{completed.stderr}"
    return completed


@pytest.fixture
def restored_database(transactional_db, tmp_path):
    """Dump the test database and restore it into a new one; yield the new one's name, then drop it."""
    for tool in ("pg_dump", "pg_restore", "createdb", "dropdb"):
        assert shutil.which(tool), f"{tool} is not installed (apt-get install postgresql-client)"
    source = connection.settings_dict["NAME"]
    restored = f"{source}_restored_{uuid.uuid4().hex[:8]}"
    dump = tmp_path / "ledger.dump"
    run("pg_dump", "--format=custom", "--no-owner", f"--file={dump}", source)
    run("createdb", restored)
    try:
        run("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump))
        yield restored
    finally:
        run("dropdb", "--if-exists", restored)


def test_a_restored_backup_reconciles_every_fund_exactly_as_the_original(
    transactional_db, seed_fund, officer, approver, request
):
    """transactional_db: the rows must be committed for pg_dump, another session, to see them."""
    # A second fund with history worth keeping: a variation entry and a control-total revision.
    fund = FundFactory(code="pcc-core-2024", control_total=Decimal("2500.00"))
    line = AllocationFactory(fund=fund, amount=Decimal("1200.00"))
    AllocationFactory(fund=fund, amount=Decimal("999.99"))
    variation = services.allocation_set_amount(
        allocation=line, amount="1300.01", memo="Extra helpline hours", acting_user=officer
    )
    services.entry_approve(entry=variation, acting_user=approver)
    # And one payment still awaiting approval, so the restored copy must keep pending figures too.
    services.payment_record(
        allocation=line,
        amount="100.00",
        effective_date=fund.spend_start,
        reference="BACS-1",
        acting_user=officer,
    )
    fund.control_total = Decimal("2300.00")
    services.fund_save(fund=fund, acting_user=officer, memo="Grant letter revised")

    original = {f.code: reconcile(f).as_dict() for f in Fund.objects.order_by("code")}
    assert set(original) == {"moj-ecf-2020", "pcc-core-2024"}
    assert original["pcc-core-2024"]["ledger_total"] == "2300.00"
    assert original["moj-ecf-2020"]["variance"] == "0.29"

    # Only now, with the data in place, is the backup made and restored.
    restored = request.getfixturevalue("restored_database")
    db = connection.settings_dict
    restored_url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{restored}"
    completed = subprocess.run(
        [sys.executable, "-c", RECONCILE_EVERY_FUND],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": restored_url,
        },
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout.splitlines()[-2]) == original
    assert json.loads(completed.stdout.splitlines()[-1]) == {"drift": [], "missing_triggers": []}


def test_the_restored_ledger_is_still_append_only(seed_fund, restored_database):
    completed = subprocess.run(
        [
            "psql",
            "--no-psqlrc",
            "--dbname",
            restored_database,
            "-c",
            "UPDATE grants_ledgerentry SET memo = 'x'",
        ],
        env=client_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode != 0
    assert "rows of grants_ledgerentry are append-only" in completed.stderr
