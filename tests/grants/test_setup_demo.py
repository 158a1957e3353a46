"""`make run`'s set-up step: loads the seed once, makes the demo login, loses nothing on a rerun."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from grants import services
from grants.models import Allocation, Fund
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
    assert Fund.objects.count() == 1


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
