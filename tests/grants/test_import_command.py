"""`manage.py import_allocations`: a dry run writes nothing, bad input exits 2 with every problem, and
the tables offices publish import line by line to the penny, read by their headings or as the options
say, in text and in JSON."""

import io
import json
from dataclasses import dataclass, field
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from grants import money
from grants.models import Allocation, Approval, ImportRecord
from tests.grants.test_import_service import empty_fund_like, ledger_state
from tests.grants.workbooks import seed_table, table, xlsx


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
        '   E  "Extraordinary funding category"  Funding category (heading)',
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


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["no-such-fund", "x.xlsx", "--dry-run"], "No fund has the code 'no-such-fund'"),
        (["moj-ecf-2020", "/nonexistent/x.xlsx", "--dry-run"], "Cannot read /nonexistent/x.xlsx"),
        (["moj-ecf-2020", "x.xlsx", "--dry-run", "--column", "salary=B"], "'salary' is not a field"),
        (["moj-ecf-2020", "x.xlsx", "--dry-run", "--value", "no equals sign"], 'write "TEXT=NAME"'),
        (["moj-ecf-2020", "x.xlsx", "--user", "nobody"], "No user is called 'nobody'."),
    ],
)
def test_with_json_a_refusal_before_the_file_is_read_is_json_too(seed_fund, arguments, message):
    out = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("import_allocations", *arguments, "--format", "json", stdout=out)
    assert error.value.returncode == 2
    data = json.loads(out.getvalue())
    assert data["written"] is False
    [problem] = data["problems"]
    assert (problem["sheet"], problem["row"], problem["column"]) == (None, None, None)
    assert message in problem["message"]


def test_an_import_that_writes_must_say_who_imports(seed_fund, seed_file):
    copy = empty_fund_like(seed_fund)
    before = ledger_state()
    with pytest.raises(CommandError, match="Say who is importing with --user") as refused:
        call_command("import_allocations", copy.code, str(seed_file))
    assert refused.value.returncode == 2
    assert ledger_state() == before


def run(*arguments: str) -> tuple[str, int, str]:
    """The command's stdout, exit status and error message, as from the shell."""
    out = io.StringIO()
    try:
        call_command("import_allocations", *arguments, stdout=out)
    except CommandError as error:
        return out.getvalue(), error.returncode, str(error)
    return out.getvalue(), 0, ""


def run_json(*arguments: str) -> tuple[dict, int]:
    out, status, _ = run(*arguments, "--format", "json")
    return json.loads(out), status


DEFAULTS = ("--thematic-area", "Domestic Abuse", "--funding-category", "DA PCC commissioned")


@dataclass
class Case:
    """A table as an office publishes it, the options that say what its headings do not, and what the
    ledger must read: each line as (row, line number, organisation, service, thematic area, funding
    category, amount), the lines' sum, the stated total and where it is stated."""

    rows: list[tuple]
    options: tuple[str, ...]
    lines: list[tuple[int, int, str, str, str, str, str]]
    total: str
    stated_total: str | None = None
    stated_total_source: str | None = None
    difference: str | None = None  # the lines' sum minus the stated total
    shown: list[str] = field(default_factory=list)  # more of the text output, word for word

    def workbook(self) -> bytes:
        return xlsx(self.rows)


D = Decimal
SV, DA = "Sexual Violence", "Domestic Abuse"
COMMISSIONED, NON_COMMISSIONED = "DA PCC commissioned", "DA PCC non-commissioned"

CASES = {
    "synonym headings": Case(
        rows=[
            ("Service provider", "Project", "Thematic area", "Amount Awarded", "Funding category"),
            ("Black Country Women's Aid", "Sexual Violence Service", SV, D("80528.42"), SV),
            ("Coventry Haven", None, DA, D("43216.00"), COMMISSIONED),
            ("Haven Newcomers CIC", "Outreach", DA, D("12000.50"), NON_COMMISSIONED),
        ],
        options=(),
        lines=[
            (2, 1, "Black Country Women's Aid", "Sexual Violence Service", SV, SV, "80528.42"),
            (3, 2, "Coventry Haven", "", DA, COMMISSIONED, "43216.00"),
            (4, 3, "Haven Newcomers CIC", "Outreach", DA, NON_COMMISSIONED, "12000.50"),
        ],
        total="135744.92",
        shown=[
            '   A  "Service provider"  Organisation (heading)',
            '   D  "Amount Awarded"    Amount (heading)',
            "Organisation to create: Haven Newcomers CIC",
            "The file states no total; its lines add up to £135,744.92.",
        ],
    ),
    "amount column first": Case(
        rows=[
            ("Amount", "Organisation", "Theme", "Category"),
            (D("9758.60"), "Sikh Women's Action Network", DA, COMMISSIONED),
            (D("22538.09"), "Roshni", DA, COMMISSIONED),
        ],
        options=(),
        lines=[
            (2, 1, "Sikh Women's Action Network", "", DA, COMMISSIONED, "9758.60"),
            (3, 2, "Roshni", "", DA, COMMISSIONED, "22538.09"),
        ],
        total="32296.69",
        shown=['   A  "Amount"        Amount (heading)'],
    ),
    "names under no heading, amounts under £": Case(
        rows=[("Allocations 2021",), (), (None, "£"), ("Roshni", D("1000.00")), ("Panahghar", D("2500.25"))],
        options=DEFAULTS,
        lines=[
            (4, 1, "Roshni", "", DA, COMMISSIONED, "1000.00"),
            (5, 2, "Panahghar", "", DA, COMMISSIONED, "2500.25"),
        ],
        total="3500.25",
        shown=[
            "Columns read (header row 3):",
            "   A  (no heading)  Organisation (no heading; its cells are names)",
            '   B  "£"           Amount (heading)',
        ],
    ),
    "section rows said with --value": Case(
        rows=[
            ("Provider", "£"),
            ("Sexual Violence Support",),
            ("Coventry Rape and Sexual Abuse Centre", D("35577.10")),
            ("Domestic Abuse Services",),
            ("Coventry Haven", D("43216.00")),
            ("Wolverhampton Haven", D("73930.00")),
        ],
        options=(
            "--value",
            "Sexual Violence Support=Sexual Violence",
            "--value",
            "Domestic Abuse Services=Domestic Abuse",
            "--funding-category",
            COMMISSIONED,
        ),
        lines=[
            (3, 1, "Coventry Rape and Sexual Abuse Centre", "", SV, SV, "35577.10"),
            # The funding category said for the Sexual Violence section ends with it.
            (5, 2, "Coventry Haven", "", DA, COMMISSIONED, "43216.00"),
            (6, 3, "Wolverhampton Haven", "", DA, COMMISSIONED, "73930.00"),
        ],
        total="152723.10",
        shown=[
            'Read "Sexual Violence Support" (row 2) as thematic area Sexual Violence and funding category '
            "Sexual Violence, as you said.",
            'Read "Domestic Abuse Services" (row 4) as thematic area Domestic Abuse, as you said.',
        ],
    ),
    "sections nested: categories under an area": Case(
        rows=[
            ("Provider", "£"),
            ("Domestic Abuse",),
            ("Commissioned",),
            ("Coventry Haven", D("43216.00")),
            ("Non-commissioned",),
            ("Aaina Hub", D("9880.00")),
            ("Sexual Violence",),
            ("Coventry Rape and Sexual Abuse Centre", D("35577.10")),
        ],
        options=(
            "--value",
            "Commissioned=DA PCC commissioned",
            "--value",
            "Non-commissioned=DA PCC non-commissioned",
        ),
        lines=[
            (4, 1, "Coventry Haven", "", DA, COMMISSIONED, "43216.00"),
            (6, 2, "Aaina Hub", "", DA, NON_COMMISSIONED, "9880.00"),
            (8, 3, "Coventry Rape and Sexual Abuse Centre", "", SV, SV, "35577.10"),
        ],
        total="88673.10",
    ),
    "a stream column said with --value": Case(
        rows=[
            ("Organisation", "Stream", "Amount"),
            ("Aaina Hub", "Non-commissioned", D("9880.00")),
            ("Coventry Haven", "Commissioned", D("43216.00")),
        ],
        options=(
            "--value",
            "Non-commissioned=DA PCC non-commissioned",
            "--value",
            "commissioned=da-pcc-commissioned",  # any case; a code as well as a name
            "--thematic-area",
            DA,
        ),
        lines=[
            (2, 1, "Aaina Hub", "", DA, NON_COMMISSIONED, "9880.00"),
            (3, 2, "Coventry Haven", "", DA, COMMISSIONED, "43216.00"),
        ],
        total="53096.00",
        shown=['   B  "Stream"        Funding category (heading)'],
    ),
    "a Total row that disagrees": Case(
        rows=[
            ("Organisation", "Amount"),
            ("Roshni", D("100.10")),
            ("Panahghar", D("200.20")),
            (),
            ("Total funding to be approved", D("300.00")),
        ],
        options=DEFAULTS,
        lines=[
            (2, 1, "Roshni", "", DA, COMMISSIONED, "100.10"),
            (3, 2, "Panahghar", "", DA, COMMISSIONED, "200.20"),
        ],
        total="300.30",
        stated_total="300.00",
        stated_total_source="the Total row (row 5)",
        difference="0.30",
        shown=[
            "The file states £300.00 (the Total row (row 5)); its lines add up to £300.30: 30p more. "
            "The lines are imported as they are."
        ],
    ),
    "a total only in the title": Case(
        rows=[
            ("Covid grants, round 2 (£52,655.56)",),
            ("Organisation", "Amount"),
            ("Roshni", D("52655.00")),
            ("Panahghar", D("0.56")),
        ],
        options=DEFAULTS,
        lines=[
            (3, 1, "Roshni", "", DA, COMMISSIONED, "52655.00"),
            (4, 2, "Panahghar", "", DA, COMMISSIONED, "0.56"),
        ],
        total="52655.56",
        stated_total="52655.56",
        stated_total_source="the title (row 1)",
        difference="0.00",
        shown=["The file states £52,655.56 (the title (row 1)); its lines add up to the same."],
    ),
    "Total Insight Theatre mid-table": Case(
        rows=[
            ("Organisation", "Amount"),
            ("Roshni", D("100.00")),
            ("Total Insight Theatre", D("250.00")),
            ("Panahghar", D("300.00")),
            ("Total", D("650.01")),
        ],
        options=DEFAULTS,
        lines=[
            (2, 1, "Roshni", "", DA, COMMISSIONED, "100.00"),
            (3, 2, "Total Insight Theatre", "", DA, COMMISSIONED, "250.00"),
            (4, 3, "Panahghar", "", DA, COMMISSIONED, "300.00"),
        ],
        total="650.00",
        stated_total="650.01",
        stated_total_source="the Total row (row 5)",
        difference="-0.01",
        shown=[
            "Organisation to create: Total Insight Theatre",
            "The file states £650.01 (the Total row (row 5)); its lines add up to £650.00: 1p less. "
            "The lines are imported as they are.",
        ],
    ),
    "--column by heading and by letter": Case(
        rows=[("Who", "Grant (GBP)", "Paid", "Area"), ("Roshni", D("100.00"), D("50.00"), "DA")],
        options=(
            "--column",
            "organisation=who",
            "--column",
            "amount=B",
            "--column",
            "ignore=Paid",
            "--column",
            "ignore=D",
            *DEFAULTS,
        ),
        lines=[(2, 1, "Roshni", "", DA, COMMISSIONED, "100.00")],
        total="100.00",
        shown=[
            '   A  "Who"          Organisation (as --column says)',
            '   B  "Grant (GBP)"  Amount (as --column says)',
            '   C  "Paid"         ignored (as --column says)',
        ],
    ),
}


@pytest.fixture
def empty_fund(seed_fund):
    """A fund like the seed's with no lines: the seed's organisations are there to be matched."""
    return empty_fund_like(seed_fund)


def shown(line: tuple, action: str = "new", *, numbered_by_ledger: bool = True) -> str:
    """A line as the text output shows it; `*` marks a line number the ledger chose."""
    row, number, organisation, service, area, category, amount = line
    label = f"{organisation}, {service}" if service else organisation
    mark = "*" if numbered_by_ledger else " "
    return (
        f"row {row:>4}  line {number:>3}{mark} {action:>9}  {money.format_gbp(Decimal(amount))}  {label}  "
        f"[{area} / {category}]"
    )


def planned(data: dict) -> list[tuple]:
    return [
        (
            line["row"],
            line["line_number"],
            line["organisation"],
            line["service"],
            line["thematic_area"],
            line["funding_category"],
            line["amount"],
        )
        for line in data["lines"]
    ]


def in_the_ledger(fund) -> list[tuple]:
    return [
        (number, organisation, service, area, category, money.as_string(money.from_aggregate(awarded)))
        for number, organisation, service, area, category, awarded in Allocation.objects.for_fund(fund)
        .with_awarded(Approval.APPROVED_OR_PENDING)
        .order_by("line_number")
        .values_list(
            "line_number",
            "organisation__name",
            "service",
            "thematic_area__name",
            "funding_category__name",
            "awarded",
        )
    ]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_dry_run_reads_every_line_and_total_to_the_penny(empty_fund, tmp_path, case):
    path = tmp_path / "allocations.xlsx"
    path.write_bytes(case.workbook())
    before = ledger_state()

    data, status = run_json(empty_fund.code, str(path), "--dry-run", *case.options)
    assert status == 0
    assert data["problems"] == [] and data["unmapped"] == []
    assert planned(data) == case.lines
    assert {line["action"] for line in data["lines"]} == {"new"}
    assert all(line["numbered_by_ledger"] for line in data["lines"])
    assert (data["line_count"], data["total"]) == (len(case.lines), case.total)
    assert (data["stated_total"], data["stated_total_source"]) == (
        case.stated_total,
        case.stated_total_source,
    )
    assert data["difference"] == case.difference
    assert data["written"] is False and data["dry_run"] is True

    out, status, _ = run(empty_fund.code, str(path), "--dry-run", *case.options)
    assert status == 0
    assert f"read as an allocation table, {len(case.lines)} line" in out
    for line in case.lines:
        assert shown(line) in out
    for text in case.shown:
        assert text in out.splitlines()
    assert "* numbered by the ledger: the file has no line numbers" in out
    assert out.rstrip().endswith("Dry run: nothing was written.")
    assert ledger_state() == before


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_an_import_writes_the_lines_and_importing_it_again_changes_nothing(
    empty_fund, tmp_path, officer, case
):
    path = tmp_path / "allocations.xlsx"
    path.write_bytes(case.workbook())

    data, status = run_json(empty_fund.code, str(path), "--user", "officer", *case.options)
    assert status == 0 and data["written"] is True
    record = ImportRecord.objects.get()
    assert (data["sha256"], record.lines_added) == (record.sha256, len(case.lines))
    assert in_the_ledger(empty_fund) == [line[1:] for line in case.lines]
    assert data["reconciliation_after"]["ledger_total"] == case.total
    before = ledger_state()

    # No line numbers in the file: the lines are found again by organisation, service and categories.
    out, status, _ = run(empty_fund.code, str(path), "--user", "officer", *case.options)
    assert status == 0
    for line in case.lines:
        assert shown(line, "unchanged", numbered_by_ledger=False) in out
    assert "Nothing to change: every line in the file already matches the ledger." in out
    assert "This file was imported on" in out
    again, status = run_json(empty_fund.code, str(path), "--user", "officer", *case.options)
    assert status == 0 and again["written"] is False
    assert {line["action"] for line in again["lines"]} == {"unchanged"}
    assert again["previous_import"]["imported_by"] == "officer"
    assert ledger_state() == before


def test_a_misprinted_amount_is_refused_with_its_cell_named_and_nothing_written(
    empty_fund, tmp_path, officer
):
    path = tmp_path / "misprint.xlsx"
    path.write_bytes(xlsx([("Organisation", "Amount"), ("Roshni", D("100.00")), ("Panahghar", "£22,10")]))
    before = ledger_state()
    message = (
        "'£22,10' is not an amount: its commas do not separate thousands, so it could mean more than one "
        "figure. Type the amount as a number."
    )

    out, status, error = run(empty_fund.code, str(path), "--user", "officer", *DEFAULTS)
    assert (out, status) == ("", 2)
    assert error.splitlines()[:2] == [
        "misprint.xlsx was not imported (1 problem):",
        f"  sheet 'Sheet1', row 3, column B (Amount): {message}",
    ]
    assert error.splitlines()[-1] == "Nothing was written."

    data, status = run_json(empty_fund.code, str(path), "--user", "officer", *DEFAULTS)
    assert status == 2
    assert data["problems"] == [{"sheet": "Sheet1", "row": 3, "column": "B (Amount)", "message": message}]
    assert (data["written"], data["line_count"], data["total"], data["difference"]) == (
        False,
        None,
        None,
        None,
    )
    assert data["reconciliation_after"] is None
    assert ledger_state() == before


def two_sheets() -> bytes:
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "2020-21"
    for row in [("Organisation", "Amount"), ("Roshni", D("1000.00"))]:
        first.append(row)
    second = workbook.create_sheet("2021-22")
    for row in [("Recipient", "Grant"), ("Panahghar", D("2000.00")), ("Aaina Hub", D("3000.00"))]:
        second.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def test_sheet_reads_the_sheet_it_names(empty_fund, tmp_path):
    path = tmp_path / "two years.xlsx"
    path.write_bytes(two_sheets())

    data, status = run_json(empty_fund.code, str(path), "--dry-run", *DEFAULTS)
    assert (status, data["sheet"], data["sheet_names"], data["total"]) == (
        0,
        "2020-21",
        ["2020-21", "2021-22"],
        "1000.00",
    )

    data, status = run_json(empty_fund.code, str(path), "--dry-run", "--sheet", "2021-22", *DEFAULTS)
    assert (status, data["sheet"], data["line_count"], data["total"]) == (0, "2021-22", 2, "5000.00")
    assert [line["organisation"] for line in data["lines"]] == ["Panahghar", "Aaina Hub"]

    data, status = run_json(empty_fund.code, str(path), "--dry-run", "--sheet", "2022-23", *DEFAULTS)
    assert (status, data["sheet"], data["lines"]) == (2, None, [])
    assert data["problems"] == [
        {
            "sheet": None,
            "row": None,
            "column": None,
            "message": "The workbook has no sheet called '2022-23'; its sheets are '2020-21', '2021-22'.",
        }
    ]


def test_an_unsaid_section_row_and_missing_category_are_refused_with_the_options_to_add(empty_fund, tmp_path):
    path = tmp_path / "sections.xlsx"
    path.write_bytes(xlsx([("Provider", "£"), ("Women's Services",), ("Roshni", D("100.00"))]))

    out, status, error = run(empty_fund.code, str(path), "--dry-run")
    assert (out, status) == ("", 2)
    known = (
        "the thematic areas Sexual Violence, Domestic Abuse and the funding categories Sexual Violence, "
        "DA PCC commissioned, DA PCC non-commissioned"
    )
    assert error.splitlines() == [
        "sections.xlsx was not imported (1 problem):",
        "  sheet 'Sheet1', row 2, column A (section row): the section row \"Women's Services\" names no "
        f"thematic area or funding category the ledger knows; say what it is (the ledger has {known}), or, "
        "if it is a line, give it its amount.",
        "Columns read (header row 1):",
        '   A  "Provider"  Organisation (heading)',
        '   B  "£"         Amount (heading)',
        "To say what the file does not, add:",
        f'  --value "Women\'s Services=NAME"   (row 2; NAME is one of {known.replace(" and ", " or ")})',
        "Nothing was written.",
    ]

    data, status = run_json(empty_fund.code, str(path), "--dry-run")
    assert status == 2
    assert data["unmapped"] == [
        {
            "text": "Women's Services",
            "row": 2,
            "column": "A (section row)",
            "fields": ["thematic_area", "funding_category"],
            "section_row": True,
            "hint": '--value "Women\'s Services=NAME"',
        }
    ]

    data, status = run_json(
        empty_fund.code, str(path), "--dry-run", "--value", "Women's Services=Domestic Abuse"
    )
    assert status == 2
    assert [problem["message"] for problem in data["problems"]] == [
        "1 line (row 3) has no funding category: the file has no funding category column, and no section row "
        "above them names one. Choose a funding category for the whole file."
    ]
    out, status, error = run(
        empty_fund.code, str(path), "--dry-run", "--value", "Women's Services=Domestic Abuse"
    )
    assert (
        "  --funding-category NAME   (for the lines that name none; NAME is one of Sexual Violence, DA PCC "
        in error
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--column", "organisation"], "--column 'organisation': write FIELD=HEADING"),
        (["--column", "organisation="], "--column 'organisation=': write FIELD=HEADING"),
        (
            ["--column", "recipient=B"],
            "--column 'recipient=B': 'recipient' is not a field; FIELD is one of number, organisation, "
            "service, thematic_area, amount, funding_category, award_date, notes, year, total, ignore.",
        ),
        (["--value", "Sexual Violence Support"], "--value 'Sexual Violence Support': write \"TEXT=NAME\""),
        (["--value", "=Sexual Violence"], "--value '=Sexual Violence': write \"TEXT=NAME\""),
    ],
)
def test_a_malformed_option_exits_2_naming_it(seed_fund, option, message):
    out, status, error = run(seed_fund.code, "x.xlsx", "--dry-run", *option)
    assert (out, status) == ("", 2)
    assert error.startswith(message)


def test_a_default_the_ledger_does_not_know_is_a_problem(empty_fund, tmp_path):
    path = tmp_path / "allocations.xlsx"
    path.write_bytes(xlsx([("Organisation", "Amount"), ("Roshni", D("100.00"))]))
    data, status = run_json(
        empty_fund.code,
        str(path),
        "--dry-run",
        "--thematic-area",
        "Burglary",
        "--funding-category",
        COMMISSIONED,
    )
    assert status == 2
    assert data["problems"][0]["message"] == (
        "'Burglary' is not a thematic area the ledger knows, so it cannot be the whole file's; it has "
        "Sexual Violence, Domestic Abuse."
    )


def test_the_json_of_an_import_says_what_was_read_and_written(empty_fund, tmp_path, officer):
    path = tmp_path / "allocations.xlsx"
    path.write_bytes(CASES["a Total row that disagrees"].workbook())
    data, status = run_json(empty_fund.code, str(path), "--user", "officer", *DEFAULTS)
    assert status == 0
    assert set(data) == {
        "fund", "file", "sha256", "dry_run", "mapping", "sheet", "sheet_names", "layout", "header_row",
        "columns", "line_count", "total", "stated_total", "stated_total_source", "stated_totals_ignored",
        "difference", "years", "subtotals", "problems", "unmapped", "texts", "lines", "new_organisations",
        "matched_organisations", "kept_line_count", "written", "previous_import", "reconciliation_after",
    }  # fmt: skip
    assert (data["fund"], data["file"], data["sheet"], data["written"]) == (
        empty_fund.code, "allocations.xlsx", "Sheet1", True
    )  # fmt: skip
    assert data["columns"] == [
        {"letter": "A", "heading": "Organisation", "read_as": "organisation", "how": "heading"},
        {"letter": "B", "heading": "Amount", "read_as": "amount", "how": "heading"},
    ]
    assert (data["total"], data["stated_total"], data["difference"]) == ("300.30", "300.00", "0.30")
    assert data["lines"][0] == {
        "row": 2,
        "line_number": 1,
        "numbered_by_ledger": True,
        "action": "new",
        "organisation": "Roshni",
        "organisation_is_new": False,
        "service": "",
        "thematic_area": DA,
        "funding_category": COMMISSIONED,
        "amount": "100.10",
        "current": None,
        "change": None,
        "notes": "",
        "years": None,
        "entries": None,
    }
    after = data["reconciliation_after"]
    assert (after["ledger_total"], after["control_total"], after["line_count"]) == ("300.30", "738810.53", 2)
    assert (after["variance"], after["status"]) == ("-738510.23", "under-allocated")
    assert after["entries_counted"] == "approved or awaiting approval"
    assert "pending_total" not in after and "by_organisation" not in after
    assert after["by_category"] == [
        {"code": "da-pcc-commissioned", "name": COMMISSIONED, "amount": "300.30", "line_count": 2}
    ]
