"""The load-test fund generator makes a fund that reconciles, through the ledger's own entries."""

from io import StringIO

from django.core.management import call_command

from grants.models import Fund, LedgerEntry
from grants.reconciliation import reconcile


def test_make_load_fund_writes_lines_with_their_awards_and_runs_only_once(db):
    out = StringIO()
    call_command("make_load_fund", lines=60, organisations=7, code="load-fund", stdout=out)
    assert out.getvalue() == "Fund load-fund: 60 lines for 7 providers.\n"

    fund = Fund.objects.get(code="load-fund")
    result = reconcile(fund)
    assert (result.line_count, str(result.status)) == (60, "reconciled")
    assert LedgerEntry.objects.filter(allocation__fund=fund, kind="award").count() == 60

    call_command("make_load_fund", lines=60, code="load-fund", stdout=out)
    assert out.getvalue().endswith("Fund load-fund is already there; nothing to do.\n")
    assert fund.allocations.count() == 60
