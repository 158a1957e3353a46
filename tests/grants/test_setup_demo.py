"""`make run`'s set-up step: loads the seed once, makes the demo login, loses nothing on a rerun."""

import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count

from grants import services
from grants.demo_fund import DEMO_FUND_CODE
from grants.models import Allocation, Fund, FundYear, LedgerEntry, Organisation
from grants.reconciliation import Status, reconcile
from grants.reconciliation.cash import fund_cash
from grants.reconciliation.years import reconcile_by_year
from grants.years import FinancialYear, financial_year
from tests.factories import approve_pending


@pytest.fixture
def password_file(tmp_path, settings):
    settings.DEBUG = True  # as `make run` sets it; the command refuses otherwise
    return tmp_path / ".demo-login"


def run(password_file, capsys):
    call_command("setup_demo", "--password-file", str(password_file))
    return capsys.readouterr().out


def test_first_run_loads_the_seed_and_prints_a_generated_password(db, password_file, capsys, monkeypatch):
    monkeypatch.delenv("LEDGER_DEMO_PASSWORD", raising=False)
    out = run(password_file, capsys)
    assert "Loaded seed fund moj-ecf-2020" in out
    password = password_file.read_text().strip()
    assert f"Demo login: username 'demo', password '{password}'" in out
    assert oct(password_file.stat().st_mode & 0o777) == "0o600"
    user = get_user_model().objects.get(username="demo")
    assert user.check_password(password) and user.is_staff
    assert Allocation.objects.filter(fund__code="moj-ecf-2020").count() == 16


def test_second_run_keeps_corrections_and_the_same_password(db, password_file, capsys, monkeypatch):
    monkeypatch.delenv("LEDGER_DEMO_PASSWORD", raising=False)
    run(password_file, capsys)
    password = password_file.read_text().strip()
    line = Allocation.objects.get(fund__code="moj-ecf-2020", line_number=10)
    services.allocation_set_amount(allocation=line, amount="22538.00", memo="Corrected", acting_user=None)
    out = run(password_file, capsys)
    assert "already loaded; left as it is" in out
    assert f"password '{password}' (kept in .demo-login)" in out
    approve_pending(allocation=line)
    assert services.allocation_awarded(line).amount == Decimal("22538.00")
    assert line.entries.count() == 2
    assert sorted(Fund.objects.values_list("code", flat=True)) == [DEMO_FUND_CODE, "moj-ecf-2020"]


def test_password_from_the_environment_is_used(db, password_file, capsys, monkeypatch):
    monkeypatch.setenv("LEDGER_DEMO_PASSWORD", "a long demo pass phrase")
    out = run(password_file, capsys)
    assert "password 'a long demo pass phrase' (from LEDGER_DEMO_PASSWORD)" in out
    assert get_user_model().objects.get(username="demo").check_password("a long demo pass phrase")
    assert not password_file.exists()


def test_an_approver_login_comes_with_the_demo_one(db, password_file, capsys, monkeypatch):
    monkeypatch.setenv("LEDGER_DEMO_PASSWORD", "demo-pass-123")
    out = run(password_file, capsys)
    assert "Approver login: username 'demo-approver', the same password." in out
    approver = get_user_model().objects.get(username="demo-approver")
    assert approver.check_password("demo-pass-123")
    assert approver.has_perm("grants.approve_ledgerentry") and not approver.is_superuser
    run(password_file, capsys)
    assert get_user_model().objects.filter(username="demo-approver").count() == 1


def test_it_refuses_to_run_without_debug_and_changes_nothing(db, tmp_path, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="runs only with DJANGO_DEBUG=1"):
        call_command("setup_demo", "--password-file", str(tmp_path / ".demo-login"))
    assert not Fund.objects.exists()
    assert not get_user_model().objects.exists()
    assert not (tmp_path / ".demo-login").exists()


# The synthetic three-year fund: written through the services, reconciled by year, never the seed's.


@pytest.fixture
def demo_run(db, password_file, capsys, monkeypatch):
    """setup_demo run once, with a known password so the approver login (and so the demo fund) is made."""
    monkeypatch.setenv("LEDGER_DEMO_PASSWORD", "demo-pass-123")
    return run(password_file, capsys)


def demo_entries():
    return LedgerEntry.objects.filter(fund__code=DEMO_FUND_CODE)


def approved_sums_by_year(kinds, on_lines=None) -> dict[FinancialYear, Decimal]:
    """Decimal sums of the demo fund's approved entries of `kinds`, by the financial year of their dates
    (with `on_lines`, only those on a line, or only those on the fund itself)."""
    sums: dict[FinancialYear, Decimal] = {}
    entries = demo_entries().filter(kind__in=kinds, approved_at__isnull=False, rejected_at__isnull=True)
    if on_lines is not None:
        entries = entries.filter(allocation__isnull=not on_lines)
    for entry in entries:
        year = financial_year(entry.effective_date)
        sums[year] = sums.get(year, Decimal("0.00")) + entry.amount.amount
    return sums


def test_the_demo_fund_is_synthetic_with_a_three_year_profile_summing_to_its_control_total(demo_run):
    assert f"Made synthetic demo fund {DEMO_FUND_CODE}" in demo_run
    fund = Fund.objects.select_related("funder").get(code=DEMO_FUND_CODE)
    assert fund.name == "Synthetic demo: victims' services fund 2023-26 (not real data)"
    assert (fund.funder.name, fund.funder.code) == ("Synthetic funder (demo)", "synthetic-funder-demo")
    assert "not a real fund" in fund.notes
    assert (fund.spend_start, fund.spend_end) == (datetime.date(2023, 4, 1), datetime.date(2026, 3, 31))
    profile = {
        row.financial_year.label: row.control_total.amount for row in FundYear.objects.filter(fund=fund)
    }
    assert profile == {
        "2023-24": Decimal("250000.00"),
        "2024-25": Decimal("240000.00"),
        "2025-26": Decimal("230000.00"),
    }
    assert fund.control_total.amount == sum(profile.values()) == Decimal("720000.00")
    lines = Allocation.objects.filter(fund=fund).select_related("organisation")
    assert lines.count() == 7
    assert all(line.organisation.name.endswith("(demo)") for line in lines)
    assert {(line.thematic_area.code, line.funding_category.code) for line in lines} == {
        ("sexual-violence", "sexual-violence"),
        ("domestic-abuse", "da-pcc-commissioned"),
        ("domestic-abuse", "da-pcc-non-commissioned"),
    }
    kinds = dict(demo_entries().values_list("kind").annotate(count=Count("id")))
    assert kinds == {
        "award": 7,
        "variation": 14,
        "payment": 13,
        "underspend_returned": 1,
        "returned_to_funder": 1,
        "carried_forward": 6,
        "received_from_funder": 6,
        "underspend_due": 1,
    }


def test_the_demo_fund_reconciles_by_year_to_decimal_sums_of_its_entries(demo_run):
    fund = Fund.objects.get(code=DEMO_FUND_CODE)
    by_year = {result.year: result for result in reconcile_by_year(fund)}
    assert [year.label for year in by_year] == ["2023-24", "2024-25", "2025-26"]
    allocated = approved_sums_by_year(LedgerEntry.Kind.awarded_kinds(), on_lines=True)
    carried = approved_sums_by_year([LedgerEntry.Kind.CARRIED_FORWARD], on_lines=False)
    profile = {row.financial_year: row.control_total.amount for row in FundYear.objects.filter(fund=fund)}
    paid = approved_sums_by_year([LedgerEntry.Kind.PAYMENT])
    underspend = approved_sums_by_year([LedgerEntry.Kind.UNDERSPEND_RETURNED])
    returned = approved_sums_by_year([LedgerEntry.Kind.RETURNED_TO_FUNDER])
    for year, result in by_year.items():
        assert result.allocated.amount == allocated.get(year, Decimal("0.00")), year
        assert result.paid.amount == paid.get(year, Decimal("0.00")), year
        assert result.underspend_returned.amount == underspend.get(year, Decimal("0.00")), year
        assert result.returned_to_funder.amount == returned.get(year, Decimal("0.00")), year
        assert result.control_total.amount == profile[year] + carried.get(year, Decimal("0.00")), year
    # The same figures written out, so a change to the demo data is a change to this test too: 2023-24
    # reconciles (£5,000.00 of a line and of the control total carried forward to 2024-25), 2024-25 falls
    # short, and 2025-26 falls short by the two variations awaiting approval.
    assert {
        year.label: (result.control_total.amount, result.allocated.amount, result.status)
        for year, result in by_year.items()
    } == {
        "2023-24": (Decimal("245000.00"), Decimal("245000.00"), Status.RECONCILED),
        "2024-25": (Decimal("245000.00"), Decimal("240957.03"), Status.UNDER_ALLOCATED),
        "2025-26": (Decimal("230000.00"), Decimal("186711.48"), Status.UNDER_ALLOCATED),
    }
    pending = demo_entries().pending().filter(kind=LedgerEntry.Kind.VARIATION)
    assert sum(entry.amount.amount for entry in pending) == Decimal("43288.52")
    assert by_year[FinancialYear(2025)].pending_total.amount == Decimal("43288.52")
    total = reconcile(fund)
    assert total.ledger_total.amount == sum(allocated.values()) == Decimal("672668.51")


def test_demo_entries_fall_either_side_of_the_year_ends(demo_run):
    days = set(demo_entries().values_list("effective_date", flat=True))
    for last_day in (datetime.date(2024, 3, 31), datetime.date(2025, 3, 31)):
        assert last_day in days and last_day + datetime.timedelta(days=1) in days
    amounts = demo_entries().values_list("amount", flat=True)
    assert any(amount % 1 for amount in amounts), "some amounts show pence"


def test_every_demo_entry_is_recorded_by_the_demo_login_and_approved_by_someone_else(demo_run):
    demo, approver = (get_user_model().objects.get(username=name) for name in ("demo", "demo-approver"))
    assert set(demo_entries().values_list("recorded_by", flat=True)) == {demo.pk}
    approved = demo_entries().filter(approved_at__isnull=False)
    assert set(approved.values_list("approved_by", flat=True)) == {approver.pk}
    assert not demo_entries().filter(rejected_at__isnull=False).exists()
    # Some are left for the Approvals page: a carry-forward (its two legs), two variations, two payments
    # and a receipt from the funder.
    assert sorted(demo_entries().pending().values_list("kind", flat=True)) == [
        "carried_forward",
        "carried_forward",
        "payment",
        "payment",
        "received_from_funder",
        "variation",
        "variation",
    ]


def test_the_demo_fund_holds_cash_from_the_funder_and_is_owed_underspend_partly_cleared(demo_run):
    fund = Fund.objects.get(code=DEMO_FUND_CODE)
    by_year = {result.year.label: result for result in reconcile_by_year(fund)}
    received = approved_sums_by_year([LedgerEntry.Kind.RECEIVED_FROM_FUNDER])
    for result in by_year.values():
        assert result.received.amount == received.get(result.year, Decimal("0.00"))
    # Each year's control total in two instalments, the last awaiting approval.
    assert {
        label: (result.received.amount, result.received_pending.amount) for label, result in by_year.items()
    } == {
        "2023-24": (Decimal("250000.00"), Decimal("0.00")),
        "2024-25": (Decimal("240000.00"), Decimal("0.00")),
        "2025-26": (Decimal("115000.00"), Decimal("115000.00")),
    }
    # 2,000.00 declared due from line 6 at the end of 2023-24; 1,234.56 of it returned in 2024-25.
    assert {label: result.underspend_due.amount for label, result in by_year.items()} == {
        "2023-24": Decimal("2000.00"),
        "2024-25": Decimal("765.44"),
        "2025-26": Decimal("765.44"),
    }
    cash = fund_cash(fund)
    paid = sum(approved_sums_by_year([LedgerEntry.Kind.PAYMENT]).values())
    assert cash.cash_held.amount == sum(received.values()) - paid + Decimal("1234.56") - Decimal("1234.56")


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def grants_rows() -> dict[str, list]:
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_app_config("grants").get_models()
    }


def test_running_setup_demo_again_creates_and_changes_nothing(demo_run, password_file, capsys):
    counts, rows = row_counts(), grants_rows()
    assert counts["grants.LedgerEntry"] > 16  # a positive control: the first run wrote the demo fund
    out = run(password_file, capsys)
    assert f"Synthetic demo fund {DEMO_FUND_CODE} is already there; left as it is." in out
    assert row_counts() == counts
    assert grants_rows() == rows


def test_the_seed_fund_reconciles_as_printed_and_nothing_of_the_demo_fund_reaches_it(demo_run):
    seed = Fund.objects.select_related("funder").get(code="moj-ecf-2020")
    result = reconcile(seed)
    assert (result.ledger_total.amount, result.control_total.amount) == (
        Decimal("738810.82"),
        Decimal("738810.53"),
    )
    assert result.variance.amount == Decimal("0.29") and result.line_count == 16
    assert LedgerEntry.objects.filter(fund=seed).count() == 16
    assert set(LedgerEntry.objects.filter(fund=seed).values_list("kind", flat=True)) == {"award"}
    assert not LedgerEntry.objects.filter(fund=seed).exclude(allocation__fund=seed).exists()
    assert not FundYear.objects.filter(fund=seed).exists()
    seed_organisations = Organisation.objects.filter(allocations__fund=seed)
    assert not seed_organisations.filter(name__endswith="(demo)").exists()
    demo = Fund.objects.select_related("funder").get(code=DEMO_FUND_CODE)
    assert demo.funder != seed.funder and seed.funder.name == "Ministry of Justice"


def test_without_a_known_password_there_is_no_approver_so_no_demo_fund(
    db, password_file, capsys, monkeypatch
):
    monkeypatch.delenv("LEDGER_DEMO_PASSWORD", raising=False)
    get_user_model().objects.create_superuser(username="demo", email="", password="forgotten")
    out = run(password_file, capsys)
    assert f"Synthetic demo fund {DEMO_FUND_CODE} not made: it needs the approver login" in out
    assert not Fund.objects.filter(code=DEMO_FUND_CODE).exists()
    monkeypatch.setenv("LEDGER_DEMO_PASSWORD", "demo-pass-123")
    assert f"Made synthetic demo fund {DEMO_FUND_CODE}" in run(password_file, capsys)


def test_every_demo_line_has_a_quarterly_schedule_adding_up_to_its_approved_amounts(demo_run):
    from grants import selectors
    from grants.models import Fund, Instalment

    fund = Fund.objects.get(code=DEMO_FUND_CODE)
    lines = list(fund.allocations.all())
    assert lines
    for line in lines:
        dues = list(Instalment.objects.filter(allocation=line).values_list("due_date", flat=True))
        assert dues and all(
            due.month in (3, 6, 9, 12) and (due + datetime.timedelta(days=1)).day == 1 for due in dues
        )
    # Every line's instalments add up to its approved amount in every year, to the penny.
    assert selectors.schedule_differences(fund) == []
    # A second run leaves the schedules as they are.
    count = Instalment.objects.filter(allocation__fund=fund).count()
    from grants.demo_fund import demo_schedules_ensure

    assert demo_schedules_ensure(fund, lines[0].entries.first().recorded_by) == 0
    assert Instalment.objects.filter(allocation__fund=fund).count() == count
