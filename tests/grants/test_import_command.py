"""`manage.py import_allocations`: a dry run writes nothing, bad input exits 2 with every problem."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from grants.models import ImportRecord
from tests.grants.test_import_service import empty_fund_like, ledger_state
from tests.grants.workbooks import seed_table, table


@pytest.fixture
def seed_file(tmp_path):
    path = tmp_path / "ECF allocations.xlsx"
    path.write_bytes(seed_table())
    return path


def test_a_dry_run_shows_the_plan_and_writes_nothing(seed_fund, seed_file, capsys):
    copy = empty_fund_like(seed_fund)
    before = ledger_state()
    call_command("import_allocations", copy.code, str(seed_file), "--dry-run")
    out = capsys.readouterr().out
    assert ledger_state() == before
    assert "read as an allocation table, 16 lines" in out
    assert "line   1        new  £80,528.42  Black Country Women's Aid, Sexual Violence Service" in out
    assert "Organisation matched by name and short name: \"Black Country Women's Aid (BCWA) Sexual" in out
    assert (
        "The file states £738,810.53 (the Total row (row 22)); its lines add up to £738,810.82: 29p more. "
        "The lines are imported as they are."
    ) in out
    assert "The allocations come to £0.29 more than the control total." in out
    assert out.rstrip().endswith("Dry run: nothing was written.")


def test_the_command_imports_and_a_second_run_changes_nothing(seed_fund, seed_file, capsys, officer):
    copy = empty_fund_like(seed_fund)
    call_command("import_allocations", copy.code, str(seed_file), "--user", "officer")
    first = capsys.readouterr().out
    record = ImportRecord.objects.get()
    assert (record.imported_by, record.file_name, record.lines_added) == (officer, "ECF allocations.xlsx", 16)
    assert f"Imported ECF allocations.xlsx (SHA-256 {record.sha256})." in first
    before = ledger_state()

    call_command("import_allocations", copy.code, str(seed_file), "--user", "officer")
    again = capsys.readouterr().out
    assert ledger_state() == before
    assert "Nothing to change: every line in the file already matches the ledger." in again
    assert "This file was imported on" in again and "by officer." in again


def test_a_bad_file_exits_2_listing_every_problem(seed_fund, tmp_path, officer):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(
        table(
            (17, "New Provider", "Domestic Abuse", "lots", "DA PCC commissioned"),
            (18, "Other Provider", "Burglary", Decimal("5.00"), "DA PCC commissioned"),
        )
    )
    before = ledger_state()
    with pytest.raises(CommandError) as error:
        call_command("import_allocations", seed_fund.code, str(path), "--user", "officer")
    assert error.value.returncode == 2
    assert str(error.value).splitlines() == [
        "bad.xlsx was not imported (2 problems):",
        "  sheet 'Sheet1', row 2, column D (Amount): the amount 'lots' is text, not a number.",
        "  sheet 'Sheet1', row 3, column C (Thematic area): unknown thematic area 'Burglary'; the ledger has "
        "Sexual Violence, Domestic Abuse.",
        "Columns read (header row 1):",
        '   A  "No."                             No. (heading)',
        '   B  "Organisation"                    Organisation (heading)',
        '   C  "Thematic area"                   Thematic area (heading)',
        '   D  "Amount"                          Amount (heading)',
        '   E  "Extraordinary funding category"  Extraordinary funding category (heading)',
        "To say what the file does not, add:",
        '  --value "Burglary=NAME"   (row 3; NAME is one of the thematic areas Sexual Violence, '
        "Domestic Abuse)",
        "Nothing was written.",
    ]
    assert ledger_state() == before


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["no-such-fund", "x.xlsx"], "No fund has the code 'no-such-fund'."),
        (
            ["moj-ecf-2020", "/nonexistent/x.xlsx", "--dry-run"],
            "Cannot read /nonexistent/x.xlsx: No such file or directory.",
        ),
        (["moj-ecf-2020", "x.xlsx", "--user", "nobody"], "No user is called 'nobody'."),
    ],
)
def test_bad_arguments_exit_2(seed_fund, arguments, message):
    with pytest.raises(CommandError, match=message) as error:
        call_command("import_allocations", *arguments)
    assert error.value.returncode == 2


def test_an_import_that_writes_must_say_who_imports(seed_fund, seed_file):
    copy = empty_fund_like(seed_fund)
    before = ledger_state()
    with pytest.raises(CommandError, match="Say who is importing with --user") as refused:
        call_command("import_allocations", copy.code, str(seed_file))
    assert refused.value.returncode == 2
    assert ledger_state() == before
